// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/gil: CPython's global interpreter lock as a character device.
 */
#include <linux/moduleparam.h>
#include <linux/module.h>
#include <linux/rcupdate.h>

#include "gil.h"

s64 gil_default_interval_us = GIL_INTERVAL_DEFAULT_US;

/* The same bounds as GIL_IOC_SET_INTERVAL: insmod fails on a bad value. */
static int gil_param_set_interval(const char *val,
				  const struct kernel_param *kp)
{
	s64 interval_us;
	int ret = kstrtos64(val, 0, &interval_us);

	if (ret)
		return ret;
	ret = gil_interval_check(interval_us);
	if (ret)
		return ret;
	WRITE_ONCE(gil_default_interval_us, interval_us);
	return 0;
}

static int gil_param_get_interval(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%lld\n",
			 READ_ONCE(gil_default_interval_us));
}

static const struct kernel_param_ops gil_interval_param_ops = {
	.set = gil_param_set_interval,
	.get = gil_param_get_interval,
};

module_param_cb(default_interval_us, &gil_interval_param_ops, NULL, 0644);
MODULE_PARM_DESC(default_interval_us,
		 "Switch interval of new GILs, in microseconds (default 5000)");

u32 gil_default_policy = GIL_POLICY_CPYTHON;

/* By name, as GIL_IOC_SET_POLICY's numbers would mean nothing to a user. */
static int gil_param_set_policy(const char *val, const struct kernel_param *kp)
{
	int policy = gil_policy_from_name(val);

	if (policy < 0)
		return policy;
	WRITE_ONCE(gil_default_policy, policy);
	return 0;
}

static int gil_param_get_policy(char *buf, const struct kernel_param *kp)
{
	return scnprintf(buf, PAGE_SIZE, "%s\n",
			 gil_policy_name(READ_ONCE(gil_default_policy)));
}

static const struct kernel_param_ops gil_policy_param_ops = {
	.set = gil_param_set_policy,
	.get = gil_param_get_policy,
};

module_param_cb(default_policy, &gil_policy_param_ops, NULL, 0644);
MODULE_PARM_DESC(default_policy,
		 "Handoff policy of new GILs: cpython (default), fifo or io");

unsigned long gil_max_threads = 65536;
module_param_named(max_threads, gil_max_threads, ulong, 0644);
MODULE_PARM_DESC(max_threads,
		 "Records of attached threads one GIL may have; ATTACH fails with ENOSPC beyond (default 65536)");

/*
 * Who may create GILs.  Each open makes a GIL of its own, charged to the
 * opener's memory cgroup, and shared only through its descriptor: safe
 * for every user (see README).
 */
static ushort dev_mode = 0666;
module_param(dev_mode, ushort, 0444);
MODULE_PARM_DESC(dev_mode, "Mode of /dev/gil (default 0666)");

/*
 * Setup and teardown live outside the __init/__exit sections so that the
 * KUnit suites, which run before module init, can exercise them.
 */
int gil_module_setup(void)
{
	if (dev_mode & ~0777)
		return -EINVAL;
	return gil_chardev_register(dev_mode);
}

void gil_module_teardown(void)
{
	gil_chardev_unregister();
	/* Thread records are freed by RCU callbacks in this module's text. */
	rcu_barrier();
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
/* dkms.conf's PACKAGE_VERSION; tests/package-check.sh checks they agree. */
MODULE_VERSION("2.4.0");
