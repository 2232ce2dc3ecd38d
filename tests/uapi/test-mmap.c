// SPDX-License-Identifier: GPL-2.0
/*
 * The page shared read-only with userspace: how it may and may not be
 * mapped, what it shows, and how long the mapping lives.
 */
#include "harness.h"

static int map_read_only_shared(void)
{
	const struct gil_page *pg;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);
	CHECK(pg != MAP_FAILED);
	CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 0);
	CHECK_CMP(PAGE_LOAD(pg->interval_us), ==, GIL_INTERVAL_DEFAULT_US);
	CHECK_CMP(PAGE_LOAD(pg->eval_breaker), ==, 0);
	CHECK(munmap((void *)pg, page_size()) == 0);
	close(fd);
	return 0;
}

static int map_writable_is_eperm(void)
{
	long ps = page_size();
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) ==
	      MAP_FAILED && errno == EPERM);
	CHECK(mmap(NULL, ps, PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED &&
	      errno == EPERM);
	close(fd);
	return 0;
}

static int map_private_is_einval(void)
{
	long ps = page_size();
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 0) == MAP_FAILED &&
	      errno == EINVAL);
	close(fd);
	return 0;
}

static int map_wrong_length_or_offset_is_einval(void)
{
	long ps = page_size();
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(mmap(NULL, 2 * ps, PROT_READ, MAP_SHARED, fd, 0) ==
	      MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, 16 * ps, PROT_READ, MAP_SHARED, fd, 0) ==
	      MAP_FAILED && errno == EINVAL);
	CHECK(mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, ps) == MAP_FAILED &&
	      errno == EINVAL);
	CHECK(mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 16 * ps) ==
	      MAP_FAILED && errno == EINVAL);
	/* The right call still works after all that. */
	{
		void *p = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0);

		CHECK(p != MAP_FAILED);
		munmap(p, ps);
	}
	close(fd);
	return 0;
}

static int mprotect_write_is_eacces(void)
{
	const struct gil_page *pg;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK_ERR(mprotect((void *)pg, page_size(), PROT_READ | PROT_WRITE),
		  EACCES);
	CHECK_ERR(mprotect((void *)pg, page_size(), PROT_WRITE), EACCES);
	/* Still mapped, still readable. */
	CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	unmap_gil(pg);
	close(fd);
	return 0;
}

/* A store into the page kills the writer with SIGSEGV. */
static int store_to_page_faults(void)
{
	const struct gil_page *pg;
	int fd = open_gil(), status;
	pid_t pid;

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	pid = test_fork(20);
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile __u32 *)&pg->eval_breaker = 0xdead;
		_exit(0);
	}
	CHECK(wait_child(pid, 10000, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
	CHECK_CMP(PAGE_LOAD(pg->eval_breaker), ==, 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

static int page_follows_state(void)
{
	const struct gil_page *a, *b;
	int fd = open_gil(), other = open_gil();

	CHECK(fd >= 0 && other >= 0);
	a = map_gil(fd);
	b = map_gil(fd);
	CHECK(a && b && a != b);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK_CMP(PAGE_LOAD(a->locked), ==, 1);
	CHECK_CMP(PAGE_LOAD(a->switch_number), ==, 1);
	/* Two mappings of one GIL show one page. */
	CHECK_CMP(PAGE_LOAD(b->locked), ==, 1);
	CHECK_CMP(PAGE_LOAD(b->switch_number), ==, 1);
	CHECK(gil_set_interval(fd, 4242) == 0);
	CHECK_CMP(PAGE_LOAD(a->interval_us), ==, 4242);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(PAGE_LOAD(a->locked), ==, 0);
	CHECK_CMP(PAGE_LOAD(b->locked), ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(b);
	/* Another GIL has a page of its own. */
	b = map_gil(other);
	CHECK(b);
	CHECK_CMP(PAGE_LOAD(b->switch_number), ==, 0);
	CHECK_CMP(PAGE_LOAD(b->interval_us), ==, GIL_INTERVAL_DEFAULT_US);
	unmap_gil(a);
	unmap_gil(b);
	close(fd);
	close(other);
	return 0;
}

/* The mapping outlives the descriptor; the GIL goes when both are gone. */
static int mapping_survives_close(void)
{
	const struct gil_page *pg;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(gil_set_interval(fd, 3333) == 0);
	CHECK(close(fd) == 0);
	CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 1);
	CHECK_CMP(PAGE_LOAD(pg->interval_us), ==, 3333);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	CHECK(munmap((void *)pg, page_size()) == 0);
	/* Many times over, to catch a leak or use-after-free on the debug
	 * kernel (kmemleak and KASAN watch this run). */
	for (int i = 0; i < 50; i++) {
		fd = open_gil();
		CHECK(fd >= 0);
		pg = map_gil(fd);
		CHECK(pg);
		if (i % 2)
			CHECK(close(fd) == 0);
		CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
		unmap_gil(pg);
		if (!(i % 2))
			CHECK(close(fd) == 0);
	}
	return 0;
}

/* A mapping alone keeps the module loaded: the page is the module's. */
static int module_pinned_by_mapping(void)
{
	const struct gil_page *pg;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_delete_module, "gil", O_NONBLOCK), EWOULDBLOCK);
	CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	unmap_gil(pg);
	return 0;
}

/* A forked child inherits the mapping: same page. */
static int mapping_inherited_by_fork(void)
{
	const struct gil_page *pg;
	int fd = open_gil();
	pid_t pid;

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	pid = test_fork(20);
	CHECK(pid >= 0);
	if (pid == 0) {
		if (ioctl(fd, GIL_IOC_ATTACH) || ioctl(fd, GIL_IOC_ACQUIRE))
			_exit(2);
		_exit(PAGE_LOAD(pg->locked) == 1 ? 0 : 3);
		/* exits holding: an owner death for the parent */
	}
	CHECK(child_ok(pid, 10000));
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 2);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

int main(void)
{
	RUN(map_read_only_shared);
	RUN(map_writable_is_eperm);
	RUN(map_private_is_einval);
	RUN(map_wrong_length_or_offset_is_einval);
	RUN(mprotect_write_is_eacces);
	RUN(store_to_page_faults);
	RUN(page_follows_state);
	RUN(mapping_survives_close);
	RUN(module_pinned_by_mapping);
	RUN(mapping_inherited_by_fork);
	return harness_exit();
}
