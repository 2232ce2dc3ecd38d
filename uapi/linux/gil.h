/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * /dev/gil: CPython's global interpreter lock as a character device.
 *
 * Each open() of /dev/gil creates one independent GIL; the file descriptor
 * is the handle for every call below.  Threads of the opener, and of
 * children that inherit the descriptor, take part in that GIL.
 *
 * All ioctls return 0 on success or -1 with errno set.  Besides the errors
 * listed per call, every call may fail with:
 *   ENOTTY   the command is not a /dev/gil ioctl
 *   EFAULT   the argument points to memory the caller cannot access
 *
 * Structures use only fixed-width types with explicit padding, so 32-bit
 * and 64-bit callers share one layout.
 */
#ifndef _UAPI_LINUX_GIL_H
#define _UAPI_LINUX_GIL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * ABI version.  The major number changes on incompatible changes, the
 * minor number when calls or fields are added.
 */
#define GIL_ABI_MAJOR 1
#define GIL_ABI_MINOR 0

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst up to 6.12. */
#define GIL_IOC_MAGIC 0xBD

/**
 * struct gil_version - argument of GIL_IOC_GET_VERSION
 * @major: GIL_ABI_MAJOR of the running module
 * @minor: GIL_ABI_MINOR of the running module
 */
struct gil_version {
	__u32 major;
	__u32 minor;
};

/*
 * GIL_IOC_GET_VERSION - report the module's ABI version.
 * Never blocks.
 */
#define GIL_IOC_GET_VERSION	_IOR(GIL_IOC_MAGIC, 0x00, struct gil_version)

#endif /* _UAPI_LINUX_GIL_H */
