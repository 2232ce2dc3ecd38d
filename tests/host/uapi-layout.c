// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi structures must have one layout for 32- and 64-bit callers, so
 * that compat_ptr_ioctl is all the compat code the module needs.  Compiled
 * with -m64 and -m32 (and as C++) by tests/check.sh; it only has to build.
 */
#include <stddef.h>
#include <linux/gil.h>

#define LAYOUT(type, size) \
	_Static_assert(sizeof(type) == (size), #type " has a fixed size")
#define FIELD(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field)

LAYOUT(struct gil_version, 8);
FIELD(struct gil_version, major, 0);
FIELD(struct gil_version, minor, 4);
