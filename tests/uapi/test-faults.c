// SPDX-License-Identifier: GPL-2.0
/*
 * Failing allocations in open, ATTACH, the two mmaps and the fdinfo read,
 * walked through, two ways:
 *  - one at a time, as syzkaller's fault injection walks them: armed with
 *    N (/proc/thread-self/fail-nth), the call's Nth allocation fails, for
 *    N = 1, 2, ... until the call makes fewer than N;
 *  - from a point on, as when memory stays short and a retry fails too
 *    (the xarray retries a failed node allocation, for one): every
 *    allocation fails once the call made B bytes of them, for B = 0, 8,
 *    16, ... of slab memory, then 0, 1, 2, ... pages, until the call
 *    completes with none failed.
 * The kernel's own allocations on the way (the struct file, the VMA, the
 * page tables, kmemleak's and the debug objects' books) fail too.
 *
 * Each failure is a result uapi/linux/gil.h documents (ENOMEM, or the
 * call succeeds, having done without), and leaves nothing half made: a
 * GIL that failed to open is no descriptor, a thread that failed to
 * attach is not attached (ACQUIRE: EUNATCH; ATTACH again: 0, not EEXIST),
 * a failed mapping maps nothing, and what succeeded works.  kmemleak, after
 * the plan unloads the module, finds nothing left behind.
 *
 * Only where the kernel has fault injection (the debug and KCSAN test
 * kernels); skipped elsewhere.
 */
#include "uapi.h"

#define MAX_STEPS	2000	/* a walk longer than this never ends */
#define SLAB_STEP	8	/* bytes: the smallest slab object */
#define PLENTY		(1L << 30)	/* bytes: more than a call makes */

/* What one call of a walk works on. */
struct ctx {
	int fd;
	void *map;
	char *text;
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
	if (ret && err != ENOMEM && err != op->also)
		t_diag("%s, %s, failure %d: %s", op->name, w->how,
		       w->failed_at + 1, t_errname(err));
	CHECK(!ret || (fired && (err == ENOMEM || err == op->also)));
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
	t_diag("%s, %s: failed %d times: ENOMEM %d, did without %d", op->name,
	       w->how, w->failed_at, w->enomem, w->did_without);
	/* A call that allocated nothing would make the walk prove nothing. */
	CHECK_CMP(w->enomem, >, 0);
}

static void walk_one_at_a_time(const struct op *op)
{
	struct walk w = { .how = "one allocation at a time" };
	struct ctx c = { .fd = -1 };
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

static void walk_from_a_point_on(const struct op *op)
{
	struct walk w = { .how = "every allocation from a point on" };
	struct ctx c = { .fd = -1 };
	struct t_fail_from ff;
	long slab = 0, page = 0;
	int ret, err, fired;

	if (t_fail_from_open(&ff))
		SKIP("no fault injection (CONFIG_FAULT_INJECTION, debugfs)");
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
				page += t_page_size();
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
		/* Not attached, not half: no record, no token. */
		CHECK_ERR(ioctl(c->fd, GIL_IOC_ACQUIRE), EUNATCH);
		CHECK_ERR(ioctl(c->fd, GIL_IOC_GET_TOKEN, &token), EUNATCH);
		CHECK_ERR(ioctl(c->fd, GIL_IOC_DETACH), EUNATCH);
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

/* What was mapped is the GIL's, free: its size, no token in the word. */
static void check_mmap(struct ctx *c, int ret)
{
	const struct gil_page *pg = c->map;
	const struct gil_word *gw = c->map;

	if (!ret) {
		if (*(const __u32 *)c->map == sizeof(struct gil_page))
			CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
		else
			CHECK_CMP(T_PAGE_LOAD(gw->word), ==, 0);
		CHECK(munmap(c->map, t_page_size()) == 0);
	}
	gil_works(c->fd);
	close(c->fd);
}

static void open_attached_gil(struct ctx *c)
{
	open_gil(c);
	CHECK(ioctl(c->fd, GIL_IOC_ATTACH) == 0);
}

static int call_fdinfo(struct ctx *c)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", c->fd);
	c->text = t_read_file(path);
	return c->text ? 0 : -1;
}

static void check_fdinfo(struct ctx *c, int ret)
{
	if (!ret)
		CHECK(strstr(c->text, "\nopener_pid:\t") != NULL);
	free(c->text);
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
WALKS(mmap_page, op_mmap_page)
WALKS(mmap_word, op_mmap_word)
WALKS(fdinfo, op_fdinfo)

int main(void)
{
	T_RUN(open_one_at_a_time);
	T_RUN(open_from_a_point_on);
	T_RUN(attach_one_at_a_time);
	T_RUN(attach_from_a_point_on);
	T_RUN(mmap_page_one_at_a_time);
	T_RUN(mmap_page_from_a_point_on);
	T_RUN(mmap_word_one_at_a_time);
	T_RUN(mmap_word_from_a_point_on);
	T_RUN(fdinfo_one_at_a_time);
	T_RUN(fdinfo_from_a_point_on);
	return t_exit_status();
}
