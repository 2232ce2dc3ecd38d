// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gil: CPython's global interpreter lock as a character device.
 */
#include <linux/module.h>

#include "gil.h"

static int __init gil_init(void)
{
	return gil_chardev_register();
}

static void __exit gil_exit(void)
{
	gil_chardev_unregister();
}

module_init(gil_init);
module_exit(gil_exit);

MODULE_DESCRIPTION("CPython's global interpreter lock as a character device");
MODULE_AUTHOR("The kgil authors");
MODULE_LICENSE("GPL");
