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

/*
 * One mmap() of a GIL: length and offset in pages, and the errno it must
 * fail with, or 0 for a call that must work (it is unmapped again).
 */
struct map_call {
	long pages;
	int prot, flags;
	long offset_pages;
	int err;
};

/* Make the calls, in order, on a new GIL. */
static int map_calls(const struct map_call *calls, unsigned int n)
{
	long ps = page_size();
	unsigned int i;
	void *p;
	int fd = open_gil();

	CHECK(fd >= 0);
	for (i = 0; i < n; i++) {
		const struct map_call *c = &calls[i];

		p = mmap(NULL, c->pages * ps, c->prot, c->flags, fd,
			 c->offset_pages * ps);
		if (c->err) {
			int e = errno;

			if (p != MAP_FAILED || e != c->err)
				printf("    mmap of %ld pages (prot %#x, flags "
				       "%#x) at page %ld: want errno %d, got "
				       "%p, errno %d\n", c->pages, c->prot,
				       c->flags, c->offset_pages, c->err, p,
				       e);
			CHECK(p == MAP_FAILED && e == c->err);
		} else {
			CHECK(p != MAP_FAILED);
			munmap(p, c->pages * ps);
		}
	}
	close(fd);
	return 0;
}

static int map_writable_is_eperm(void)
{
	static const struct map_call calls[] = {
		{ 1, PROT_READ | PROT_WRITE, MAP_SHARED, 0, EPERM },
		{ 1, PROT_WRITE, MAP_SHARED, 0, EPERM },
	};

	return map_calls(calls, ARRAY_SIZE(calls));
}

static int map_private_is_einval(void)
{
	static const struct map_call calls[] = {
		{ 1, PROT_READ, MAP_PRIVATE, 0, EINVAL },
	};

	return map_calls(calls, ARRAY_SIZE(calls));
}

static int map_wrong_length_or_offset_is_einval(void)
{
	static const struct map_call calls[] = {
		{ 2, PROT_READ, MAP_SHARED, 0, EINVAL },
		{ 16, PROT_READ, MAP_SHARED, 0, EINVAL },
		{ 1, PROT_READ, MAP_SHARED, 2, EINVAL },
		{ 1, PROT_READ, MAP_SHARED, 16, EINVAL },
		/* The right call still works after all that. */
		{ 1, PROT_READ, MAP_SHARED, 0, 0 },
	};

	return map_calls(calls, ARRAY_SIZE(calls));
}

static int mprotect_write_is_eacces(void)
{
	const struct gil_page *pg;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK_ERR(mprotect((void *)pg, page_size(), PROT_READ | PROT_WRITE),
		  EACCES);
	CHECK_ERR(mprotect((void *)pg, page_size(), PROT_WRITE), EACCES);
	/* Still mapped, still readable. */
	CHECK_CMP(PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	return close_gil(fd, pg);
}

/* A store into the page kills the writer with SIGSEGV. */
static int store_to_page_faults(void)
{
	const struct gil_page *pg;
	pid_t pid;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	pid = test_fork(20);
	CHECK(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, SIG_DFL);
		*(volatile __u32 *)&pg->eval_breaker = 0xdead;
		_exit(0);
	}
	CHECK(child_killed(pid, 10000, SIGSEGV) == 0);
	CHECK_CMP(PAGE_LOAD(pg->eval_breaker), ==, 0);
	return close_gil(fd, pg);
}

static int page_follows_state(void)
{
	const struct gil_page *a, *b;
	int fd = open_gil(), other = open_gil();

	CHECK(fd >= 0 && other >= 0);
	a = map_gil(fd);
	b = map_gil(fd);
	CHECK(a && b && a != b);
	CHECK(attach_acquire(fd) == 0);
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
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(attach_acquire(fd) == 0);
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
		CHECK(open_mapped(&fd, &pg) == 0);
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
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
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
	pid_t pid;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
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
	return detach_close_gil(fd, pg);
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
