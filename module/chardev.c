// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/gil misc device: one GIL per open file, ioctl plumbing.
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

static int gil_open(struct inode *inode, struct file *file)
{
	struct gil *gil = gil_create();

	if (!gil)
		return -ENOMEM;
	file->private_data = gil;
	return 0;
}

static int gil_release(struct inode *inode, struct file *file)
{
	gil_destroy(file->private_data);
	return 0;
}

static long gil_ioctl_get_version(void __user *argp)
{
	struct gil_version ver;

	gil_fill_version(&ver);
	return copy_to_user(argp, &ver, sizeof(ver)) ? -EFAULT : 0;
}

static long gil_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case GIL_IOC_GET_VERSION:
		return gil_ioctl_get_version(argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations gil_fops = {
	.owner		= THIS_MODULE,
	.open		= gil_open,
	.release	= gil_release,
	.unlocked_ioctl	= gil_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice gil_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "gil",
	.fops	= &gil_fops,
	.mode	= 0666,
};

int gil_chardev_register(void)
{
	return misc_register(&gil_miscdev);
}

void gil_chardev_unregister(void)
{
	misc_deregister(&gil_miscdev);
}
