// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/gil misc device: one GIL per open file; mmap, fdinfo and the
 * ioctl plumbing between userspace and the GIL.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "gil.h"

void gil_fill_version(struct gil_version *ver)
{
	ver->major = GIL_ABI_MAJOR;
	ver->minor = GIL_ABI_MINOR;
}

static int gil_fop_open(struct inode *inode, struct file *file)
{
	struct gil *gil = gil_create();

	if (!gil)
		return -ENOMEM;
	file->private_data = gil;
	return 0;
}

/* The last reference is gone: no descriptor, mapping or call is left. */
static int gil_fop_release(struct inode *inode, struct file *file)
{
	gil_destroy(file->private_data);
	return 0;
}

/* Offset 0: the read-only page; one page on: the word page (ABI 2.1). */
static int gil_fop_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff == 1)
		return gil_word_mmap(file->private_data, vma);
	return gil_page_mmap(file->private_data, vma);
}

static void gil_fop_show_fdinfo(struct seq_file *m, struct file *file)
{
	gil_show_fdinfo(file->private_data, m);
}

static long gil_ioctl_get_version(void __user *argp)
{
	struct gil_version ver;

	gil_fill_version(&ver);
	return copy_to_user(argp, &ver, sizeof(ver)) ? -EFAULT : 0;
}

static long gil_ioctl_lock(struct gil *gil, unsigned int cmd)
{
	struct gil_thread *t = gil_thread_get(gil);
	long ret;

	if (!t)
		return -EUNATCH;
	switch (cmd) {
	case GIL_IOC_ACQUIRE:
		ret = gil_take(gil, t);
		break;
	case GIL_IOC_RELEASE:
		ret = gil_drop(gil, t);
		break;
	default:
		ret = gil_yield(gil, t);
		break;
	}
	gil_thread_put(t);
	return ret;
}

static long gil_ioctl_get_token(struct gil *gil, u32 __user *argp)
{
	struct gil_thread *t = gil_thread_get(gil);
	long ret;

	if (!t)
		return -EUNATCH;
	ret = put_user(t->token, argp);
	gil_thread_put(t);
	return ret;
}

static long gil_ioctl_set_interval(struct gil *gil, s64 __user *argp)
{
	s64 interval_us;

	if (get_user(interval_us, argp))
		return -EFAULT;
	return gil_set_interval(gil, interval_us);
}

static long gil_ioctl_set_policy(struct gil *gil, u32 __user *argp)
{
	u32 policy;

	if (get_user(policy, argp))
		return -EFAULT;
	return gil_set_policy(gil, policy);
}

static long gil_ioctl_set_options(struct gil *gil, u32 __user *argp)
{
	u32 options;

	if (get_user(options, argp))
		return -EFAULT;
	return gil_set_options(gil, options);
}

/* The caller's size says how much of struct gil_stats it knows. */
static long gil_ioctl_get_stats(struct gil *gil, struct gil_stats __user *argp)
{
	struct gil_stats stats;
	u32 usize;

	if (get_user(usize, &argp->size))
		return -EFAULT;
	if (usize < GIL_STATS_SIZE_VER0)
		return -EINVAL;
	gil_stats_read(gil, &stats);
	stats.size = min_t(u32, usize, sizeof(stats));
	return copy_to_user(argp, &stats, stats.size) ? -EFAULT : 0;
}

/* GET_STATS matches on its number whatever size the command encodes. */
static bool gil_is_get_stats(unsigned int cmd)
{
	return _IOC_TYPE(cmd) == GIL_IOC_MAGIC &&
	       _IOC_NR(cmd) == _IOC_NR(GIL_IOC_GET_STATS) &&
	       _IOC_DIR(cmd) == _IOC_DIR(GIL_IOC_GET_STATS);
}

static long gil_fop_ioctl(struct file *file, unsigned int cmd,
			  unsigned long arg)
{
	struct gil *gil = file->private_data;
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GIL_IOC_GET_VERSION:
		return gil_ioctl_get_version(argp);
	case GIL_IOC_ATTACH:
		return gil_attach(gil);
	case GIL_IOC_DETACH:
		return gil_detach(gil);
	case GIL_IOC_ACQUIRE:
	case GIL_IOC_RELEASE:
	case GIL_IOC_YIELD:
		return gil_ioctl_lock(gil, cmd);
	case GIL_IOC_GET_INTERVAL:
		return put_user(gil_get_interval(gil), (s64 __user *)argp);
	case GIL_IOC_SET_INTERVAL:
		return gil_ioctl_set_interval(gil, argp);
	case GIL_IOC_GET_POLICY:
		return put_user(gil_get_policy(gil), (u32 __user *)argp);
	case GIL_IOC_SET_POLICY:
		return gil_ioctl_set_policy(gil, argp);
	case GIL_IOC_SHUTDOWN:
		return gil_shutdown(gil);
	case GIL_IOC_GET_TOKEN:
		return gil_ioctl_get_token(gil, argp);
	case GIL_IOC_GET_OPTIONS:
		return put_user(gil_get_options(gil), (u32 __user *)argp);
	case GIL_IOC_SET_OPTIONS:
		return gil_ioctl_set_options(gil, argp);
	}
	if (gil_is_get_stats(cmd))
		return gil_ioctl_get_stats(gil, argp);
	return -ENOTTY;
}

static const struct file_operations gil_fops = {
	.owner		= THIS_MODULE,
	.open		= gil_fop_open,
	.release	= gil_fop_release,
	.mmap		= gil_fop_mmap,
	.unlocked_ioctl	= gil_fop_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.show_fdinfo	= gil_fop_show_fdinfo,
	.llseek		= noop_llseek,
};

static struct miscdevice gil_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "gil",
	.fops	= &gil_fops,
};

/* @mode: of /dev/gil, the module parameter dev_mode */
int gil_chardev_register(umode_t mode)
{
	gil_miscdev.mode = mode;
	return misc_register(&gil_miscdev);
}

void gil_chardev_unregister(void)
{
	misc_deregister(&gil_miscdev);
}
