// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gil: CPython's global interpreter lock as a character device.
 */
#include <linux/module.h>

#include "gil.h"

/*
 * Setup and teardown live outside the __init/__exit sections so that the
 * KUnit suites, which run before module init, can exercise them.
 */
int gil_module_setup(void)
{
	return gil_chardev_register();
}

void gil_module_teardown(void)
{
	gil_chardev_unregister();
}

static int __init gil_init(void)
{
	return gil_module_setup();
}

static void __exit gil_exit(void)
{
	gil_module_teardown();
}

module_init(gil_init);
module_exit(gil_exit);

MODULE_DESCRIPTION("CPython's global interpreter lock as a character device");
MODULE_AUTHOR("The kgil authors");
MODULE_LICENSE("GPL");
