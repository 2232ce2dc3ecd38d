// SPDX-License-Identifier: GPL-2.0
/* /dev/gil basics: open, the version ioctl, unknown commands, bad pointers. */
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/gil.h>

#include "uapi.h"

static void version_matches_header(void)
{
	struct gil_version v = { 0 };
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_GET_VERSION, &v) == 0);
	CHECK(v.major == GIL_ABI_MAJOR);
	CHECK(v.minor == GIL_ABI_MINOR);
	close(fd);
}

static void version_bad_pointer_is_efault(void)
{
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, NULL), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, (void *)16), EFAULT);
	/*
	 * A kernel address is not the caller's memory either; nor, in a
	 * 32-bit process, what lies past its 4 GiB - 8 KiB (compat).
	 */
#if UINTPTR_MAX > 0xffffffffu
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, (void *)0xffffffff81000000ul),
		  EFAULT);
#else
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, (void *)0xffffe000ul), EFAULT);
#endif
	close(fd);
}

static void unknown_commands_are_enotty(void)
{
	struct gil_version v;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, 0x7f, struct gil_version), &v),
		  ENOTTY);
	CHECK_ERR(ioctl(fd, _IOR('x', 0x00, struct gil_version), &v), ENOTTY);
	/* Same number, wrong size or direction: a different command. */
	CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, 0x00, __u64[2]), &v), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOW(GIL_IOC_MAGIC, 0x00, struct gil_version), &v),
		  ENOTTY);
	CHECK_ERR(ioctl(fd, 0, 0), ENOTTY);
	close(fd);
}

static void many_opens_are_independent(void)
{
	enum { N = 512 };
	static int fds[N];
	struct gil_version v;
	int i;

	t_open_gils(fds, N);
	for (i = 0; i < N; i++)
		CHECK(ioctl(fds[i], GIL_IOC_GET_VERSION, &v) == 0);
	t_close_gils(fds, N);
}

static void module_pinned_while_open(void)
{
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK_ERR(syscall(SYS_delete_module, "gil", O_NONBLOCK), EWOULDBLOCK);
	close(fd);
}

int main(void)
{
	T_RUN(version_matches_header);
	T_RUN(version_bad_pointer_is_efault);
	T_RUN(unknown_commands_are_enotty);
	T_RUN(many_opens_are_independent);
	T_RUN(module_pinned_while_open);
	return t_exit_status();
}
