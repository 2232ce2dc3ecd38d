// SPDX-License-Identifier: GPL-2.0
/*
 * Failing allocations in open, ATTACH, the two mmaps and the fdinfo read,
 * walked through, two ways:
 *  - one at a time, as syzkaller's fault injection walks them: armed with
 *    N (/proc/thread-self/fail-nth), the call's Nth allocation fails, for
 *    N = 1, 2, ... until the call makes fewer than N;
 *  - from a point on, as when memory stays short and a retry fails too
 *    (the xarray retries a failed node allocation, for one): allocations
 *    fail once the call spent a budget of B bytes of slab memory (one
 *    smaller than what is left of it may still pass), for B = 0, 8, 16,
 *    ..., then of B pages, for B = 0, 1, 2, ..., until the call completes
 *    with none failed.
 * The kernel's own allocations on the way (the struct file, the VMA, the
 * page tables, kmemleak's and the debug objects' books) fail too.
 *
 * Each failure is a result uapi/linux/gil.h documents (ENOMEM, or the
 * call succeeds, having done without), and leaves nothing half made: a
 * GIL that failed to open is no descriptor, a thread that failed to
 * attach is not attached (ACQUIRE and GET_TOKEN: EUNATCH; fdinfo counts
 * no thread; ATTACH again: 0, not EEXIST), a failed mapping maps nothing
 * (/proc/self/maps), and what succeeded works.  An ATTACH of a thread
 * already attached answers EEXIST whatever fails.  kmemleak, after the
 * plan unloads the module, finds nothing left behind.
 *
 * Only where the kernel has fault injection (the debug and KCSAN test
 * kernels); skipped elsewhere.
 */
#include "uapi.h"

#define MAX_STEPS	4000	/* a walk longer than this never ends */
#define SLAB_STEP	8	/* bytes: the smallest slab object */
#define PLENTY		(1L << 30)	/* bytes or pages: more than a call makes */
#define FDINFO_MAX	8192

/*
 * What one call of a walk works on.  Nothing the call writes in user
 * memory may need a page the walk could fail to provide: a fault in user
 * mode whose page table cannot be allocated is retried for ever.
 */
struct ctx {
	int fd;
	void *map;
	char text[FDINFO_MAX];	/* the fdinfo read, touched before */
	int lowest;	/* the lowest free descriptor before the call */
};

/*
 * A call to walk: @setup before each try (not armed), @call armed (0, or
 * -1 with errno set), @check after it (not armed), which also cleans up.
 */
struct op {
	const char *name;
	void (*setup)(struct ctx *c);
	int (*call)(struct ctx *c);
	void (*check)(struct ctx *c, int ret);
	int also;	/* the kernel's own answer to a failure, besides ENOMEM */
	int want;	/* the call's answer whatever fails (0: success) */
};

/* A walk's tally, and its line in the output. */
struct walk {
	const char *how;
	int failed_at, enomem, did_without;
};

/* The lowest free descriptor number: where the next open() lands. */
static int lowest_free_fd(void)
{
	int fd = dup(0);

	CHECK(fd >= 0);
	close(fd);
	return fd;
}

/* A GIL works: attach, take, release, detach. */
static void gil_works(int fd)
{
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
}

/*
 * One armed call, @fired saying whether an allocation failed in it: the
 * result must be one the ABI documents, and what it left, sound.  0 once
 * nothing failed: the walk is over.
 */
static int walk_step(struct walk *w, const struct op *op, struct ctx *c,
		     int fired, int ret, int err)
{
	if (op->want) {
		/* Its answer does not depend on memory. */
		if (ret != -1 || err != op->want)
			t_diag("%s, %s, failure %d: %d %s", op->name, w->how,
			       w->failed_at + 1, ret, t_errname(err));
		CHECK(ret == -1 && err == op->want);
	} else {
		if (ret && err != ENOMEM && err != op->also)
			t_diag("%s, %s, failure %d: %s", op->name, w->how,
			       w->failed_at + 1, t_errname(err));
		CHECK(!ret || (fired && (err == ENOMEM || err == op->also)));
	}
	op->check(c, ret);
	if (!fired)
		return 0;
	w->failed_at++;
	if (ret)
		w->enomem++;
	else
		w->did_without++;
	CHECK_CMP(w->failed_at, <, MAX_STEPS);
	return 1;
}

static void walk_report(const struct op *op, const struct walk *w)
{
	t_diag("%s, %s: failed %d times: %s %d, did without %d", op->name,
	       w->how, w->failed_at, op->want ? t_errname(op->want) : "ENOMEM",
	       w->enomem, w->did_without);
	/*
	 * A call that allocated nothing would make the walk prove nothing;
	 * but one whose answer is fixed had better allocate nothing.
	 */
	if (!op->want)
		CHECK_CMP(w->enomem, >, 0);
}

static void walk_one_at_a_time(const struct op *op)
{
	struct walk w = { .how = "one allocation at a time" };
	static struct ctx c = { .fd = -1 };
	int fail_fd, ret, err, fired;

	if (t_fail_nth_setup() || (fail_fd = t_fail_nth_open()) < 0)
		SKIP("no fault injection (CONFIG_FAULT_INJECTION, debugfs)");
	for (unsigned int n = 1;; n++) {
		op->setup(&c);
		t_fail_nth_arm(fail_fd, n);
		ret = op->call(&c);
		err = errno;
		fired = t_fail_nth_fired(fail_fd);
		if (!walk_step(&w, op, &c, fired, ret, err))
			break;
	}
	close(fail_fd);
	walk_report(op, &w);
}

/* A failed check ends the case: leave no other thread failing. */
static void fail_from_cleanup(void *ff)
{
	t_fail_from_close(ff);
}

static void walk_from_a_point_on(const struct op *op)
{
	struct walk w = { .how = "every allocation from a point on" };
	static struct ctx c = { .fd = -1 };
	struct t_fail_from ff;
	long slab = 0, page = 0;
	int ret, err, fired;

	if (t_fail_from_open(&ff))
		SKIP("no fault injection (CONFIG_FAULT_INJECTION, debugfs)");
	t_on_fail(fail_from_cleanup, &ff);
	/* Slab memory runs short first, pages plenty; then pages. */
	for (int pages = 0; pages < 2; pages++) {
		for (;;) {
			op->setup(&c);
			t_fail_from_arm(&ff, pages ? PLENTY : slab,
					pages ? page : PLENTY);
			ret = op->call(&c);
			err = errno;
			fired = t_fail_from_fired(&ff);
			if (!walk_step(&w, op, &c, fired, ret, err))
				break;
			if (pages)
				page++;
			else
				slab += SLAB_STEP;
		}
	}
	t_fail_from_close(&ff);
	walk_report(op, &w);
}

/* ---- the calls ---------------------------------------------------------- */

static void no_setup(struct ctx *c)
{
	c->lowest = lowest_free_fd();
}

static void open_gil(struct ctx *c)
{
	c->fd = t_open_dev();
	CHECK(c->fd >= 0);
}

static int call_open(struct ctx *c)
{
	c->fd = open("/dev/gil", O_RDWR | O_CLOEXEC);
	return c->fd < 0 ? -1 : 0;
}

static void check_open(struct ctx *c, int ret)
{
	if (ret) {
		/* No descriptor was left behind. */
		CHECK_CMP(lowest_free_fd(), ==, c->lowest);
		return;
	}
	gil_works(c->fd);
	close(c->fd);
}

static int call_attach(struct ctx *c)
{
	return ioctl(c->fd, GIL_IOC_ATTACH);
}

static void check_attach(struct ctx *c, int ret)
{
	__u32 token = 0;

	if (ret) {
		/* Not attached, not half: no record, no token, not counted. */
		CHECK_ERR(ioctl(c->fd, GIL_IOC_ACQUIRE), EUNATCH);
		CHECK_ERR(ioctl(c->fd, GIL_IOC_GET_TOKEN, &token), EUNATCH);
		CHECK_ERR(ioctl(c->fd, GIL_IOC_DETACH), EUNATCH);
		CHECK_CMP(t_fdinfo_value(c->fd, "threads"), ==, 0);
		CHECK(ioctl(c->fd, GIL_IOC_ATTACH) == 0);
	}
	/* Attached once, whichever way: it holds, and has a token. */
	CHECK(ioctl(c->fd, GIL_IOC_GET_TOKEN, &token) == 0);
	CHECK_CMP(token, !=, 0);
	CHECK(ioctl(c->fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(c->fd, GIL_IOC_RELEASE) == 0);
	CHECK_ERR(ioctl(c->fd, GIL_IOC_ATTACH), EEXIST);
	CHECK(ioctl(c->fd, GIL_IOC_DETACH) == 0);
	close(c->fd);
}

static int call_mmap_page(struct ctx *c)
{
	c->map = mmap(NULL, t_page_size(), PROT_READ, MAP_SHARED, c->fd, 0);
	return c->map == MAP_FAILED ? -1 : 0;
}

static int call_mmap_word(struct ctx *c)
{
	c->map = mmap(NULL, t_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED,
		      c->fd, t_page_size());
	return c->map == MAP_FAILED ? -1 : 0;
}

/* How many mappings of /dev/gil this process has. */
static int gil_mappings(void)
{
	char *maps = t_read_file("/proc/self/maps"), *p;
	int n = 0;

	CHECK(maps != NULL);
	for (p = maps; (p = strstr(p, "/dev/gil")); p++)
		n++;
	free(maps);
	return n;
}

/*
 * What was mapped is the GIL's, free: its size, no token in the word.
 * A failed mmap mapped nothing.
 */
static void check_mmap(struct ctx *c, int ret)
{
	const struct gil_page *pg = c->map;
	const struct gil_word *gw = c->map;

	if (!ret) {
		CHECK_CMP(gil_mappings(), ==, 1);
		if (*(const __u32 *)c->map == sizeof(struct gil_page))
			CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
		else
			CHECK_CMP(T_PAGE_LOAD(gw->word), ==, 0);
		CHECK(munmap(c->map, t_page_size()) == 0);
	}
	CHECK_CMP(gil_mappings(), ==, 0);
	gil_works(c->fd);
	close(c->fd);
}

static void open_attached_gil(struct ctx *c)
{
	open_gil(c);
	CHECK(ioctl(c->fd, GIL_IOC_ATTACH) == 0);
	memset(c->text, 0, sizeof(c->text));
}

/* An attached thread attaches again: EEXIST, memory or not (98dcce3). */
static void check_attach_again(struct ctx *c, int ret)
{
	(void)ret;
	CHECK_CMP(t_fdinfo_value(c->fd, "threads"), ==, 1);
	CHECK(ioctl(c->fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(c->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(c->fd, GIL_IOC_DETACH) == 0);
	close(c->fd);
}

static int call_fdinfo(struct ctx *c)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c->fd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, c->text, sizeof(c->text) - 1);
	close(fd);
	if (n < 0)
		return -1;
	c->text[n] = 0;
	return 0;
}

static void check_fdinfo(struct ctx *c, int ret)
{
	if (!ret)
		CHECK(strstr(c->text, "\nopener_pid:\t") != NULL);
	CHECK(ioctl(c->fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(c->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(c->fd, GIL_IOC_DETACH) == 0);
	close(c->fd);
}

static const struct op op_open = {
	.name = "open", .setup = no_setup, .call = call_open,
	.check = check_open,
};
static const struct op op_attach = {
	.name = "ATTACH", .setup = open_gil, .call = call_attach,
	.check = check_attach,
};
static const struct op op_attach_again = {
	.name = "ATTACH again", .setup = open_attached_gil,
	.call = call_attach, .check = check_attach_again, .want = EEXIST,
};
static const struct op op_mmap_page = {
	.name = "mmap of the page", .setup = open_gil, .call = call_mmap_page,
	.check = check_mmap,
};
static const struct op op_mmap_word = {
	.name = "mmap of the word page", .setup = open_gil,
	.call = call_mmap_word, .check = check_mmap,
};
/* procfs answers an inode it could not make with ENOENT. */
static const struct op op_fdinfo = {
	.name = "fdinfo", .setup = open_attached_gil, .call = call_fdinfo,
	.check = check_fdinfo, .also = ENOENT,
};

#define WALKS(name, op)							\
static void name##_one_at_a_time(void)					\
{									\
	walk_one_at_a_time(&op);					\
}									\
static void name##_from_a_point_on(void)				\
{									\
	walk_from_a_point_on(&op);					\
}

WALKS(open, op_open)
WALKS(attach, op_attach)
WALKS(attach_again, op_attach_again)
WALKS(mmap_page, op_mmap_page)
WALKS(mmap_word, op_mmap_word)
WALKS(fdinfo, op_fdinfo)

int main(void)
{
	T_RUN(open_one_at_a_time);
	T_RUN(open_from_a_point_on);
	T_RUN(attach_one_at_a_time);
	T_RUN(attach_from_a_point_on);
	T_RUN(attach_again_one_at_a_time);
	T_RUN(attach_again_from_a_point_on);
	T_RUN(mmap_page_one_at_a_time);
	T_RUN(mmap_page_from_a_point_on);
	T_RUN(mmap_word_one_at_a_time);
	T_RUN(mmap_word_from_a_point_on);
	T_RUN(fdinfo_one_at_a_time);
	T_RUN(fdinfo_from_a_point_on);
	return t_exit_status();
}
