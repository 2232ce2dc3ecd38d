// SPDX-License-Identifier: GPL-2.0
/*
 * The page shared read-only with userspace: how it may and may not be
 * mapped, what it shows, and how long the mapping lives.
 */
#include "uapi.h"

static void map_read_only_shared(void)
{
	const struct gil_page *pg;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	pg = mmap(NULL, t_page_size(), PROT_READ, MAP_SHARED, fd, 0);
	CHECK(pg != MAP_FAILED);
	CHECK_CMP(T_PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, 0);
	CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, GIL_INTERVAL_DEFAULT_US);
	CHECK_CMP(T_PAGE_LOAD(pg->eval_breaker), ==, 0);
	CHECK(munmap((void *)pg, t_page_size()) == 0);
	close(fd);
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
static void map_calls(const struct map_call *calls, unsigned int n)
{
	long ps = t_page_size();
	unsigned int i;
	void *p;
	int fd = t_open_dev();

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
}

static void map_writable_is_eperm(void)
{
	static const struct map_call calls[] = {
		{ 1, PROT_READ | PROT_WRITE, MAP_SHARED, 0, EPERM },
		{ 1, PROT_WRITE, MAP_SHARED, 0, EPERM },
	};

	map_calls(calls, T_ARRAY_SIZE(calls));
}

static void map_private_is_einval(void)
{
	static const struct map_call calls[] = {
		{ 1, PROT_READ, MAP_PRIVATE, 0, EINVAL },
	};

	map_calls(calls, T_ARRAY_SIZE(calls));
}

static void map_wrong_length_or_offset_is_einval(void)
{
	static const struct map_call calls[] = {
		{ 2, PROT_READ, MAP_SHARED, 0, EINVAL },
		{ 16, PROT_READ, MAP_SHARED, 0, EINVAL },
		{ 1, PROT_READ, MAP_SHARED, 2, EINVAL },
		{ 1, PROT_READ, MAP_SHARED, 16, EINVAL },
		/* The right call still works after all that. */
		{ 1, PROT_READ, MAP_SHARED, 0, 0 },
	};

	map_calls(calls, T_ARRAY_SIZE(calls));
}

static void mprotect_write_is_eacces(void)
{
	const struct gil_page *pg;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK_ERR(mprotect((void *)pg, t_page_size(), PROT_READ | PROT_WRITE),
		  EACCES);
	CHECK_ERR(mprotect((void *)pg, t_page_size(), PROT_WRITE), EACCES);
	/* Still mapped, still readable. */
	CHECK_CMP(T_PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	t_close_gil(fd, pg);
}

static void store_to_page(void *arg)
{
	const struct gil_page *pg = arg;

	signal(SIGSEGV, SIG_DFL);
	*(volatile __u32 *)&pg->eval_breaker = 0xdead;
}

/* A store into the page kills the writer with SIGSEGV. */
static void store_to_page_faults(void)
{
	const struct gil_page *pg;
	pid_t pid;
	int fd;

	t_open_mapped(&fd, &pg);
	pid = t_fork_child(20, store_to_page, (void *)pg);
	t_child_killed(pid, 10000, SIGSEGV);
	CHECK_CMP(T_PAGE_LOAD(pg->eval_breaker), ==, 0);
	t_close_gil(fd, pg);
}

static void page_follows_state(void)
{
	const struct gil_page *a, *b;
	int fd = t_open_dev(), other = t_open_dev();

	CHECK(fd >= 0 && other >= 0);
	a = t_map_page(fd);
	b = t_map_page(fd);
	CHECK(a && b && a != b);
	t_attach_acquire(fd);
	CHECK_CMP(T_PAGE_LOAD(a->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(a->switch_number), ==, 1);
	/* Two mappings of one GIL show one page. */
	CHECK_CMP(T_PAGE_LOAD(b->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(b->switch_number), ==, 1);
	CHECK(t_set_interval(fd, 4242) == 0);
	CHECK_CMP(T_PAGE_LOAD(a->interval_us), ==, 4242);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(a->locked), ==, 0);
	CHECK_CMP(T_PAGE_LOAD(b->locked), ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	t_unmap_page(b);
	/* Another GIL has a page of its own. */
	b = t_map_page(other);
	CHECK(b);
	CHECK_CMP(T_PAGE_LOAD(b->switch_number), ==, 0);
	CHECK_CMP(T_PAGE_LOAD(b->interval_us), ==, GIL_INTERVAL_DEFAULT_US);
	t_unmap_page(a);
	t_unmap_page(b);
	close(fd);
	close(other);
}

/* The mapping outlives the descriptor; the GIL goes when both are gone. */
static void mapping_survives_close(void)
{
	const struct gil_page *pg;
	int fd;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_set_interval(fd, 3333) == 0);
	CHECK(close(fd) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, 3333);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
	CHECK(munmap((void *)pg, t_page_size()) == 0);
	/* Many times over, to catch a leak or use-after-free on the debug
	 * kernel (kmemleak and KASAN watch this run). */
	for (int i = 0; i < 50; i++) {
		t_open_mapped(&fd, &pg);
		if (i % 2)
			CHECK(close(fd) == 0);
		CHECK_CMP(T_PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
		t_unmap_page(pg);
		if (!(i % 2))
			CHECK(close(fd) == 0);
	}
}

/* A mapping alone keeps the module loaded: the page is the module's. */
static void module_pinned_by_mapping(void)
{
	const struct gil_page *pg;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(close(fd) == 0);
	CHECK_ERR(syscall(SYS_delete_module, "gil", O_NONBLOCK), EWOULDBLOCK);
	CHECK_CMP(T_PAGE_LOAD(pg->size), ==, sizeof(struct gil_page));
	t_unmap_page(pg);
}

/* The child takes the GIL and sees it locked in its inherited mapping. */
static void holds_and_sees(void *arg)
{
	const struct t_gil *g = arg;

	t_attach_acquire(g->fd);
	CHECK_CMP(T_PAGE_LOAD(g->pg->locked), ==, 1);
}

/* A forked child inherits the mapping: same page. */
static void mapping_inherited_by_fork(void)
{
	const struct gil_page *pg;
	struct t_gil g;
	pid_t pid;
	int fd;

	t_open_mapped(&g.fd, &g.pg);
	fd = g.fd;
	pg = g.pg;
	/* It exits holding: an owner death for the parent. */
	pid = t_fork_child(20, holds_and_sees, &g);
	CHECK(t_child_ok(pid, 10000));
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, 2);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
	t_detach_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(map_read_only_shared);
	T_RUN(map_writable_is_eperm);
	T_RUN(map_private_is_einval);
	T_RUN(map_wrong_length_or_offset_is_einval);
	T_RUN(mprotect_write_is_eacces);
	T_RUN(store_to_page_faults);
	T_RUN(page_follows_state);
	T_RUN(mapping_survives_close);
	T_RUN(module_pinned_by_mapping);
	T_RUN(mapping_inherited_by_fork);
	return t_exit_status();
}
