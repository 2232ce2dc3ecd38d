/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of the /dev/gil module.
 *
 * The module is split by concern, in the manner of kernel/futex/:
 *   main.c     module init/exit and parameters
 *   chardev.c  the misc device: open/release and ioctl plumbing
 *   core.c     GIL object lifetime
 */
#ifndef _GIL_H
#define _GIL_H

#include <linux/types.h>
#include <linux/gil.h>

/**
 * struct gil - one GIL, created by one open() of /dev/gil
 * @id: sequence number, for messages
 */
struct gil {
	u64 id;
};

/* main.c */
int gil_module_setup(void);
void gil_module_teardown(void);

/* core.c */
struct gil *gil_create(void);
void gil_destroy(struct gil *gil);
long gil_live_count(void);

/* chardev.c */
int gil_chardev_register(void);
void gil_chardev_unregister(void);
void gil_fill_version(struct gil_version *ver);

#endif /* _GIL_H */
