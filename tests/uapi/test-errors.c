// SPDX-License-Identifier: GPL-2.0
/*
 * Every error of the ABI: the attach/detach rules (EUNATCH, EEXIST, EBUSY),
 * ownership (EDEADLK, EPERM), unknown commands (ENOTTY), bad pointers
 * (EFAULT), and the GIL still works after all of them.
 */
#include "uapi.h"

/* Run fn(arg) in a new thread and return what it returned. */
struct in_thread {
	int (*fn)(void *);
	void *arg;
	int ret;
};

static void *in_thread_main(void *p)
{
	struct in_thread *t = p;

	t->ret = t->fn(t->arg);
	return NULL;
}

static int run_in_thread(int (*fn)(void *), void *arg)
{
	struct in_thread t = { fn, arg, -1 };
	pthread_t th;

	if (pthread_create(&th, NULL, in_thread_main, &t))
		return -1;
	if (t_join_within(th, 10000))
		return -1;
	return t.ret;
}

static void unattached_calls_are_eunatch(void)
{
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EUNATCH);
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EUNATCH);
	CHECK_ERR(ioctl(fd, GIL_IOC_YIELD), EUNATCH);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EUNATCH);
	/* After a detach the thread is unattached again. */
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EUNATCH);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EUNATCH);
	close(fd);
}

static void attach_twice_is_eexist(void)
{
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ATTACH), EEXIST);
	/* Still attached once: it works, and one detach ends it. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ATTACH), EEXIST);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EUNATCH);
	/* Attach, detach, attach again. */
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	close(fd);
}

static void acquire_while_holding_is_edeadlk(void)
{
	const struct gil_page *pg;
	int fd;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	/* The failed call changed nothing: still held, by us, once. */
	CHECK(T_PAGE_LOAD(pg->locked) == 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(T_PAGE_LOAD(pg->locked) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EPERM);
	t_detach_close_gil(fd, pg);
}

static int release_not_holding(void *arg)
{
	int fd = *(int *)arg;

	if (ioctl(fd, GIL_IOC_ATTACH))
		return -1;
	if (!t_ioctl_fails(fd, GIL_IOC_RELEASE, EPERM))
		return -1;
	if (!t_ioctl_fails(fd, GIL_IOC_YIELD, EPERM))
		return -1;
	errno = 0;
	if (ioctl(fd, GIL_IOC_DETACH))
		return -1;
	return 0;
}

static void release_while_not_holding_is_eperm(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	/* Nobody holds it. */
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EPERM);
	CHECK_ERR(ioctl(fd, GIL_IOC_YIELD), EPERM);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	/* Another thread, attached but not the holder, cannot release it. */
	CHECK(run_in_thread(release_not_holding, &fd) == 0);
	CHECK(T_PAGE_LOAD(pg->locked) == 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.voluntary_releases + st.forced_switches, ==, 1);
	t_detach_close_gil(fd, pg);
}

static void detach_while_holding_is_ebusy(void)
{
	const struct gil_page *pg;
	int fd;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EBUSY);
	/* Still attached and still the holder. */
	CHECK(T_PAGE_LOAD(pg->locked) == 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EUNATCH);
	t_close_gil(fd, pg);
}

static int unattached_acquire(void *arg)
{
	int fd = *(int *)arg;

	return t_ioctl_fails(fd, GIL_IOC_ACQUIRE, EUNATCH) ? 0 : -1;
}

static void attach_is_per_thread_and_per_gil(void)
{
	int a = t_open_dev(), b = t_open_dev();

	CHECK(a >= 0 && b >= 0);
	CHECK(ioctl(a, GIL_IOC_ATTACH) == 0);
	/* Attached to a, not to b. */
	CHECK_ERR(ioctl(b, GIL_IOC_ACQUIRE), EUNATCH);
	/* Another thread of the process is not attached to a. */
	CHECK(run_in_thread(unattached_acquire, &a) == 0);
	/* One thread may hold two GILs at once. */
	CHECK(ioctl(b, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(a, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(b, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(a, GIL_IOC_RELEASE) == 0);
	CHECK_ERR(ioctl(a, GIL_IOC_RELEASE), EPERM);
	CHECK(ioctl(b, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(a, GIL_IOC_DETACH) == 0);
	CHECK(ioctl(b, GIL_IOC_DETACH) == 0);
	close(a);
	close(b);
}

static void info_calls_need_no_attach(void)
{
	struct gil_version v;
	struct gil_stats st;
	__s64 us = 7000;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_GET_VERSION, &v) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_INTERVAL, &us) == 0);
	us = 0;
	CHECK(ioctl(fd, GIL_IOC_GET_INTERVAL, &us) == 0);
	CHECK_CMP(us, ==, 7000);
	CHECK(t_gil_stats(fd, &st) == 0);
	close(fd);
}

static void unknown_commands_are_enotty(void)
{
	char buf[512];
	int fd = t_open_dev();
	unsigned int nr;

	CHECK(fd >= 0);
	memset(buf, 0, sizeof(buf));
	/* Numbers after the last command, with each direction. */
	for (nr = 0x0c; nr < 0x20; nr++) {
		CHECK_ERR(ioctl(fd, _IO(GIL_IOC_MAGIC, nr)), ENOTTY);
		CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, nr, __u64), buf), ENOTTY);
		CHECK_ERR(ioctl(fd, _IOW(GIL_IOC_MAGIC, nr, __u64), buf), ENOTTY);
	}
	CHECK_ERR(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0xff, __u64), buf), ENOTTY);
	/* Another magic with a GIL command number. */
	CHECK_ERR(ioctl(fd, _IO('x', 0x03)), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOR('x', 0x06, __s64), buf), ENOTTY);
	/* A known number with another size or direction is another command. */
	CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, 0x01, __u32), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOW(GIL_IOC_MAGIC, 0x03, __u32), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, 0x06, __u32), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOW(GIL_IOC_MAGIC, 0x06, __s64), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOR(GIL_IOC_MAGIC, 0x07, __s64), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, _IOW(GIL_IOC_MAGIC, 0x07, __u32), buf), ENOTTY);
	CHECK_ERR(ioctl(fd, 0, 0), ENOTTY);
	/* None of them touched the GIL. */
	CHECK(t_get_interval(fd) == GIL_INTERVAL_DEFAULT_US);
	close(fd);
}

/* Every pointer-taking call must fail with EFAULT on each bad pointer. */
static void bad_pointers_are_efault(void)
{
	const unsigned long cmds[] = {
		GIL_IOC_GET_VERSION, GIL_IOC_GET_INTERVAL,
		GIL_IOC_SET_INTERVAL, GIL_IOC_GET_STATS,
	};
	void *none = t_inaccessible_page(), *gone = t_unmapped_page();
	void *bad[] = {
		NULL, (void *)1, (void *)16, (void *)4095,
#if UINTPTR_MAX > 0xffffffffu
		(void *)0xffffffff81000000ul,	/* kernel text */
		(void *)0xffff888000000000ul,	/* direct map */
#else
		/* A 32-bit process's memory ends at 0xffffe000 (compat). */
		(void *)0xffffe000ul, (void *)0xfffffffcul,
#endif
		(void *)-8l,			/* top of the address space */
		none, gone,
	};
	unsigned int i, j;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(none && gone);
	for (i = 0; i < T_ARRAY_SIZE(cmds); i++) {
		for (j = 0; j < T_ARRAY_SIZE(bad); j++) {
			errno = 0;
			if (ioctl(fd, cmds[i], bad[j]) != -1 ||
			    errno != EFAULT)
				T_FAIL("cmd %#lx arg %p: want EFAULT, got "
				       "errno %d", cmds[i], bad[j], errno);
		}
	}
	munmap(none, t_page_size());
	close(fd);
}

/* Out-parameters in memory the caller can read but not write. */
static void read_only_out_params_are_efault(void)
{
	struct gil_stats *st;
	long ps = t_page_size();
	void *ro;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	ro = mmap(NULL, ps, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(ro != MAP_FAILED);
	st = ro;
	st->size = sizeof(*st);
	CHECK(mprotect(ro, ps, PROT_READ) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, ro), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_INTERVAL, ro), EFAULT);
	/* GET_STATS can read the size field but not write the result. */
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_STATS, ro), EFAULT);
	/* SET_INTERVAL only reads: read-only memory is fine. */
	CHECK(mprotect(ro, ps, PROT_READ | PROT_WRITE) == 0);
	*(__s64 *)ro = 4321;
	CHECK(mprotect(ro, ps, PROT_READ) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_INTERVAL, ro) == 0);
	CHECK(t_get_interval(fd) == 4321);
	munmap(ro, ps);
	close(fd);
}

/* Arguments that run off the end of the caller's memory. */
static void straddling_arguments_are_efault(void)
{
	long ps = t_page_size();
	char *two;
	struct gil_stats *st;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	two = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(two != MAP_FAILED);
	CHECK(mprotect(two + ps, ps, PROT_NONE) == 0);
	/* The size field is readable, the rest of the struct is not. */
	st = (struct gil_stats *)(two + ps - 8);
	st->size = sizeof(*st);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_STATS, st), EFAULT);
	/* Half of an s64 and half of a gil_version. */
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_INTERVAL, two + ps - 4), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_INTERVAL, two + ps - 4), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_VERSION, two + ps - 4), EFAULT);
	/* Just inside: fine. */
	CHECK(ioctl(fd, GIL_IOC_GET_INTERVAL, two + ps - 8) == 0);
	CHECK_CMP(*(__s64 *)(two + ps - 8), ==, GIL_INTERVAL_DEFAULT_US);
	munmap(two, 2 * ps);
	close(fd);
}

/* Nothing above hurt the module: a GIL works from start to end. */
static void gil_works_after_bad_calls(void)
{
	const struct gil_page *pg;
	struct gil_version v;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_GET_VERSION, &v) == 0);
	CHECK(v.major == GIL_ABI_MAJOR);
	t_attach_acquire(fd);
	CHECK(T_PAGE_LOAD(pg->locked) == 1);
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 2);
	t_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(unattached_calls_are_eunatch);
	T_RUN(attach_twice_is_eexist);
	T_RUN(acquire_while_holding_is_edeadlk);
	T_RUN(release_while_not_holding_is_eperm);
	T_RUN(detach_while_holding_is_ebusy);
	T_RUN(attach_is_per_thread_and_per_gil);
	T_RUN(info_calls_need_no_attach);
	T_RUN(unknown_commands_are_enotty);
	T_RUN(bad_pointers_are_efault);
	T_RUN(read_only_out_params_are_efault);
	T_RUN(straddling_arguments_are_efault);
	T_RUN(gil_works_after_bad_calls);
	return t_exit_status();
}
