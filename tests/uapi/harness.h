/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP harness for the userspace tests that run in the guest.
 * Each test prints "ok - name" or "not ok - name"; CHECK() failures print
 * the failing expression, errno and location first.  A test that cannot
 * run here returns SKIP("reason") and prints "ok - name # SKIP reason".
 *
 * Every test runs under a watchdog (harness_timeout_s seconds): a test
 * that hangs prints "not ok - name # timed out" and the program is killed,
 * so a kernel bug that blocks a thread fails the test instead of stalling
 * the VM.
 *
 * Below the harness proper are helpers for the /dev/gil tests: clocks,
 * bounded waits for threads and children, the mapped page, the usual
 * start and end of a test (open_mapped, attach_acquire, close_gil,
 * detach_close_gil), a "waiter" thread that attaches, acquires and records
 * what it saw, an "agent" thread driven call by call, the bookkeeping
 * of threads or processes that contend for one GIL, and the reading of
 * fdinfo and tracefs files.
 *
 * Helpers that check return 0, or -1 after a CHECK() failed: call them as
 * CHECK(helper(...) == 0), or return what they return at the end of a test.
 */
#ifndef GIL_TEST_HARNESS_H
#define GIL_TEST_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/gil.h>

static int harness_failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("    %s:%d: check failed: %s (errno %d: %s)\n", \
			       __FILE__, __LINE__, #cond, errno,           \
			       strerror(errno));                           \
			return -1;                                         \
		}                                                          \
	} while (0)

/* An ioctl or syscall that must fail with exactly this errno. */
#define CHECK_ERR(call, err)                                               \
	do {                                                               \
		errno = 0;                                                 \
		CHECK((call) == -1 && errno == (err));                     \
	} while (0)

/* Like CHECK, with the values of two integers shown on failure. */
#define CHECK_CMP(a, op, b)                                                \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);        \
		if (!(_a op _b)) {                                         \
			printf("    %s:%d: check failed: %s %s %s "       \
			       "(%lld %s %lld)\n", __FILE__, __LINE__,     \
			       #a, #op, #b, _a, #op, _b);                  \
			return -1;                                         \
		}                                                          \
	} while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define HARNESS_SKIP 77
static const char *harness_skip_reason;

/* Return from a test: it cannot run here (prints "ok - name # SKIP ..."). */
#define SKIP(reason)                                                       \
	do {                                                               \
		harness_skip_reason = (reason);                            \
		return HARNESS_SKIP;                                       \
	} while (0)

/* Seconds a single test may take before the watchdog fails it. */
static unsigned int harness_timeout_s = 60;

static inline int64_t now_ns(void);

/*
 * The watchdog is a process of its own, forked before the first test: a
 * signal handler in the test program could not run while every thread sits
 * in a killable wait in the kernel, and SIGKILL from outside always works.
 * It shares the name and deadline of the running test with the program.
 */
struct harness_watch {
	char name[128];
	_Atomic int64_t deadline;	/* 0: no test running */
};

static struct harness_watch *harness_watch;

/* Zeroed memory shared with forked children (MAP_SHARED), or NULL. */
static inline void *shared_zalloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, size);
	return p;
}

static void harness_put(const char *s)
{
	ssize_t r = write(STDOUT_FILENO, s, strlen(s));

	(void)r;
}

static inline void harness_watchdog_start(void)
{
	struct harness_watch *w;
	pid_t parent = getpid(), pid;

	w = shared_zalloc(sizeof(*w));
	if (!w)
		return;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		munmap(w, sizeof(*w));
		return;
	}
	if (pid == 0) {
		int64_t d;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			struct timespec ts = { 0, 100000000 };

			nanosleep(&ts, NULL);
			if (getppid() != parent)
				_exit(0);
			d = atomic_load(&w->deadline);
			if (d && now_ns() > d)
				break;
		}
		kill(parent, SIGKILL);
		harness_put("not ok - ");
		harness_put(w->name);
		harness_put(" # timed out (watchdog)\n");
		_exit(0);
	}
	harness_watch = w;
}

static inline void harness_arm(const char *name)
{
	if (!harness_watch)
		harness_watchdog_start();
	if (!harness_watch)
		return;
	snprintf(harness_watch->name, sizeof(harness_watch->name), "%s",
		 name);
	atomic_store(&harness_watch->deadline,
		     now_ns() + (int64_t)harness_timeout_s * 1000000000);
}

static inline void harness_disarm(void)
{
	if (harness_watch)
		atomic_store(&harness_watch->deadline, 0);
}

static inline void run_case(const char *name, int (*fn)(void))
{
	int rc;

	fflush(stdout);
	harness_arm(name);
	harness_skip_reason = NULL;
	rc = fn();
	harness_disarm();
	if (rc == HARNESS_SKIP)
		printf("ok - %s # SKIP %s\n", name, harness_skip_reason);
	else
		printf("%s - %s\n", rc == 0 ? "ok" : "not ok", name);
	fflush(stdout);
	if (rc && rc != HARNESS_SKIP)
		harness_failures++;
}

#define RUN(fn) run_case(#fn, fn)

static inline int harness_exit(void)
{
	return harness_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline int open_gil(void)
{
	return open("/dev/gil", O_RDWR | O_CLOEXEC);
}

/* ---- time ---------------------------------------------------------------- */

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static inline void sleep_ms(long ms)
{
	sleep_us(ms * 1000);
}

#define MS(ns) ((ns) / 1000000)

static inline pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ---- processes and threads ---------------------------------------------- */

/*
 * fork() for tests: the child must end with _exit(), never return into the
 * harness.  It gets an alarm of its own, whose default action kills it
 * even from a killable wait, so a child stuck in the kernel dies instead
 * of lingering.
 */
static inline pid_t test_fork(unsigned int child_timeout_s)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(child_timeout_s);
	}
	return pid;
}

/*
 * Reap a child within @timeout_ms, polling every @poll_us; -1 if it is
 * still there (errno ETIMEDOUT; it is sent nothing) or cannot be waited
 * for.
 */
static inline int reap_within(pid_t pid, long timeout_ms, long poll_us,
			      int *status)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_ns() > deadline)
			break;
		sleep_us(poll_us);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* Reap a child within timeout_ms; on timeout SIGKILL it and return -1. */
static inline int wait_child(pid_t pid, long timeout_ms, int *status)
{
	if (!reap_within(pid, timeout_ms, 2000, status))
		return 0;
	if (errno != ETIMEDOUT)
		return -1;
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	errno = ETIMEDOUT;
	return -1;
}

/* A child that ended with exit status 0. */
static inline int child_ok(pid_t pid, long timeout_ms)
{
	int status = 0;

	if (wait_child(pid, timeout_ms, &status))
		return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFSIGNALED(status))
			printf("    child %d killed by signal %d\n", (int)pid,
			       WTERMSIG(status));
		else
			printf("    child %d exited with %d\n", (int)pid,
			       WEXITSTATUS(status));
		return 0;
	}
	return 1;
}

/* Reap a child within timeout_ms: it must have died of signal @sig. */
static inline int child_killed(pid_t pid, long timeout_ms, int sig)
{
	int status = 0;

	CHECK(wait_child(pid, timeout_ms, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	return 0;
}

/* SIGKILL a child and reap it (5 s at most). */
static inline int sigkill_child(pid_t pid)
{
	CHECK(kill(pid, SIGKILL) == 0);
	return child_killed(pid, 5000, SIGKILL);
}

/* pthread_join with a bound; -1 (errno ETIMEDOUT) if it did not end. */
static inline int join_within(pthread_t th, long timeout_ms)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	r = pthread_timedjoin_np(th, NULL, &ts);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* The scheduler state letter of a task (/proc/<pid>/task/<tid>/stat). */
static inline char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/*
 * Whether a task sleeps (state S or D) inside ioctl(fd, cmd): from
 * /proc/<pid>/task/<tid>/syscall, which shows "nr arg0 arg1 ..." for a
 * task blocked in a system call and "running" otherwise.
 */
static inline int task_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd)
{
	char path[64], buf[256];
	unsigned long nr, a0, a1;
	ssize_t n;
	char s;
	int fd;

	s = task_state(pid, tid);
	if (s != 'S' && s != 'D')
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%lu %lx %lx", &nr, &a0, &a1) != 3)
		return 0;
	return nr == SYS_ioctl && a1 == (unsigned int)cmd;
}

/* Wait until a task sleeps in ioctl(..., cmd): e.g. waits for the GIL. */
static inline int wait_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd,
				long timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (!task_in_ioctl(pid, tid, cmd)) {
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_us(1000);
	}
	return 0;
}

/* ---- /dev/gil ------------------------------------------------------------ */

static inline long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* The GIL's shared page, or NULL. */
static inline const struct gil_page *map_gil(int fd)
{
	void *p = mmap(NULL, page_size(), PROT_READ, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

static inline void unmap_gil(const struct gil_page *pg)
{
	if (pg)
		munmap((void *)pg, page_size());
}

#define PAGE_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

static inline int drop_requested(const struct gil_page *pg)
{
	return !!(PAGE_LOAD(pg->eval_breaker) & GIL_EVAL_BREAKER_DROP_REQUEST);
}

/*
 * Poll the eval breaker, as a holder does at its safe points, until the drop
 * request shows; returns 0, or -1 after timeout_ms.
 */
static inline int wait_drop_request(const struct gil_page *pg, long timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (!drop_requested(pg)) {
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_us(100);
	}
	return 0;
}

/*
 * GET_STATS through @cmd (GIL_IOC_GET_STATS, or an encoding of the same
 * number with another size) into the @len bytes at @buf, filled with @fill
 * first and with its size field set to @size.
 */
static inline int gil_stats_raw(int fd, unsigned long cmd, void *buf,
				size_t len, int fill, __u32 size)
{
	memset(buf, fill, len);
	((struct gil_stats *)buf)->size = size;
	return ioctl(fd, cmd, buf);
}

static inline int gil_stats(int fd, struct gil_stats *st)
{
	return gil_stats_raw(fd, GIL_IOC_GET_STATS, st, sizeof(*st), 0,
			     sizeof(*st));
}

/* GET_STATS into *st; switch_number there and in the page is @want. */
static inline int expect_switch(int fd, const struct gil_page *pg,
				struct gil_stats *st, __u64 want)
{
	CHECK(gil_stats(fd, st) == 0);
	CHECK_CMP(st->switch_number, ==, want);
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, want);
	return 0;
}

static inline __u64 hist_sum(const struct gil_stats *st)
{
	__u64 sum = 0;
	int i;

	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		sum += st->handoff_ns_hist[i];
	return sum;
}

static inline int gil_set_interval(int fd, __s64 us)
{
	return ioctl(fd, GIL_IOC_SET_INTERVAL, &us);
}

static inline __s64 gil_get_interval(int fd)
{
	__s64 us = -1;

	if (ioctl(fd, GIL_IOC_GET_INTERVAL, &us))
		return -1;
	return us;
}

/* An address of a page the caller cannot access (PROT_NONE). */
static inline void *inaccessible_page(void)
{
	void *p = mmap(NULL, page_size(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* An address where nothing is mapped (mapped, then unmapped). */
static inline void *unmapped_page(void)
{
	void *p = mmap(NULL, page_size(), PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, page_size());
	return p;
}

/*
 * Whether ioctl(fd, cmd) fails with exactly errno @err: for the threads and
 * children that report by their result instead of CHECK().
 */
static inline int ioctl_fails(int fd, unsigned long cmd, int err)
{
	errno = 0;
	return ioctl(fd, cmd) == -1 && errno == err;
}

/* ---- the start and end of a test ----------------------------------------- */

/* Open a GIL and map its page. */
static inline int open_mapped(int *fd, const struct gil_page **pg)
{
	*fd = open_gil();
	CHECK(*fd >= 0);
	*pg = map_gil(*fd);
	CHECK(*pg);
	return 0;
}

/* Attach the calling thread and take the GIL. */
static inline int attach_acquire(int fd)
{
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	return 0;
}

/* Unmap the page (if mapped) and close the GIL; returns 0, as a test. */
static inline int close_gil(int fd, const struct gil_page *pg)
{
	unmap_gil(pg);
	close(fd);
	return 0;
}

/* Detach the calling thread, then close_gil(). */
static inline int detach_close_gil(int fd, const struct gil_page *pg)
{
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	return close_gil(fd, pg);
}

/* Open @n GILs into fds[]. */
static inline int open_gils(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = open_gil();
		CHECK(fds[i] >= 0);
	}
	return 0;
}

static inline int close_gils(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		CHECK(close(fds[i]) == 0);
	return 0;
}

/*
 * A child process attaches to @fd's GIL, takes it and exits holding it:
 * the GIL's next ACQUIRE reports EOWNERDEAD.  The child's pid, or -1.
 */
static inline pid_t child_dies_holding(int fd)
{
	pid_t pid = test_fork(10);

	CHECK(pid >= 0);
	if (pid == 0) {
		if (ioctl(fd, GIL_IOC_ATTACH) || ioctl(fd, GIL_IOC_ACQUIRE))
			_exit(1);
		_exit(0);
	}
	CHECK(child_ok(pid, 10000));
	return pid;
}

/* ---- a waiter thread ------------------------------------------------------ */

enum {
	W_INIT,		/* created */
	W_ATTACHED,	/* attached (or attach failed and it ended) */
	W_ACQUIRING,	/* about to call ACQUIRE */
	W_HOLDING,	/* ACQUIRE returned (see acq_ret/acq_errno) */
	W_DONE,		/* released (if it held) and ended */
};

/*
 * A thread that attaches to @fd, calls ACQUIRE once, records the result
 * and the page as it saw it on return, then releases at once or, with
 * @hold, when the test sets @release_now.  Fill the inputs, zero the rest
 * (waiter_init), then waiter_start().
 */
struct waiter {
	/* in */
	int fd;
	const struct gil_page *page;
	int hold;		/* keep the GIL until release_now */
	int no_detach;		/* do not detach at the end */
	/* control */
	atomic_int release_now;
	/* out */
	atomic_int state;
	pid_t tid;
	int attach_ret, attach_errno;
	int acq_ret, acq_errno;
	int rel_ret, rel_errno;
	int64_t t_before_acquire, t_after_acquire;
	__u64 sn_after_acquire;
	__u32 eb_after_acquire, locked_after_acquire;
	pthread_t th;
};

static inline void waiter_init(struct waiter *w, int fd,
			       const struct gil_page *pg, int hold)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->page = pg;
	w->hold = hold;
	atomic_init(&w->release_now, 0);
	atomic_init(&w->state, W_INIT);
	w->rel_ret = -2;
}

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	int holds;

	w->tid = gettid_();
	errno = 0;
	w->attach_ret = ioctl(w->fd, GIL_IOC_ATTACH);
	w->attach_errno = errno;
	if (w->attach_ret) {
		w->acq_ret = -2;
		atomic_store(&w->state, W_DONE);
		return NULL;
	}
	atomic_store(&w->state, W_ATTACHED);
	w->t_before_acquire = now_ns();
	atomic_store(&w->state, W_ACQUIRING);
	errno = 0;
	w->acq_ret = ioctl(w->fd, GIL_IOC_ACQUIRE);
	w->acq_errno = errno;
	w->t_after_acquire = now_ns();
	if (w->page) {
		w->sn_after_acquire = PAGE_LOAD(w->page->switch_number);
		w->eb_after_acquire = PAGE_LOAD(w->page->eval_breaker);
		w->locked_after_acquire = PAGE_LOAD(w->page->locked);
	}
	holds = w->acq_ret == 0 || w->acq_errno == EOWNERDEAD;
	atomic_store(&w->state, W_HOLDING);
	if (holds) {
		while (w->hold && !atomic_load(&w->release_now))
			sleep_us(200);
		errno = 0;
		w->rel_ret = ioctl(w->fd, GIL_IOC_RELEASE);
		w->rel_errno = errno;
		if (!w->no_detach)
			ioctl(w->fd, GIL_IOC_DETACH);
	}
	atomic_store(&w->state, W_DONE);
	return NULL;
}

static inline int waiter_start(struct waiter *w)
{
	int r = pthread_create(&w->th, NULL, waiter_main, w);

	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* Wait until the waiter reached @state (or a later one). */
static inline int waiter_reach(struct waiter *w, int state, long timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (atomic_load(&w->state) < state) {
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		sleep_us(200);
	}
	return 0;
}

/* Wait until the waiter sleeps inside ACQUIRE. */
static inline int waiter_blocked(struct waiter *w, long timeout_ms)
{
	if (waiter_reach(w, W_ACQUIRING, timeout_ms))
		return -1;
	if (wait_in_ioctl(getpid(), w->tid, GIL_IOC_ACQUIRE, timeout_ms))
		return -1;
	if (atomic_load(&w->state) != W_ACQUIRING) {
		errno = EALREADY;	/* ACQUIRE returned: it did not wait */
		return -1;
	}
	return 0;
}

/* Start a waiter (as waiter_init) and wait until it sleeps in ACQUIRE. */
static inline int waiter_start_blocked(struct waiter *w, int fd,
				       const struct gil_page *pg, int hold)
{
	waiter_init(w, fd, pg, hold);
	CHECK(waiter_start(w) == 0);
	CHECK(waiter_blocked(w, 5000) == 0);
	return 0;
}

/* Start a waiter and poll the page until its drop request shows. */
static inline int waiter_start_requesting(struct waiter *w, int fd,
					  const struct gil_page *pg, int hold)
{
	waiter_init(w, fd, pg, hold);
	CHECK(waiter_start(w) == 0);
	CHECK(wait_drop_request(pg, 10000) == 0);
	return 0;
}

/*
 * Release the GIL to a waiter that does not hold on to it, and join the
 * waiter: its ACQUIRE succeeded.
 */
static inline int release_to_waiter(int fd, struct waiter *w)
{
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w->th, 5000) == 0);
	CHECK_CMP(w->acq_ret, ==, 0);
	return 0;
}

/* Let a waiter that holds on to the GIL release it, and join it. */
static inline int waiter_let_go(struct waiter *w)
{
	atomic_store(&w->release_now, 1);
	CHECK(join_within(w->th, 5000) == 0);
	return 0;
}

/* ---- an agent thread ------------------------------------------------------ */

/*
 * A thread that runs argument-less /dev/gil ioctls on request, so that a
 * test can drive a second attached thread step by step.  AGENT_EXIT ends
 * the thread wherever it stands (holding the GIL or not).
 */
#define AGENT_EXIT 1ul

struct agent {
	int fd;
	unsigned long req;
	atomic_int posted, done;
	int ret, err;
	pid_t tid;
	pthread_t th;
};

static void *agent_main(void *arg)
{
	struct agent *a = arg;
	int seen = 0;

	a->tid = gettid_();
	atomic_store(&a->done, 0);
	for (;;) {
		while (atomic_load(&a->posted) == seen)
			sleep_us(100);
		seen++;
		if (a->req == AGENT_EXIT) {
			atomic_store(&a->done, seen);
			return NULL;
		}
		errno = 0;
		a->ret = ioctl(a->fd, a->req);
		a->err = errno;
		atomic_store(&a->done, seen);
	}
}

static inline int agent_start(struct agent *a, int fd)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->tid = 0;
	atomic_init(&a->posted, 0);
	atomic_init(&a->done, -1);
	r = pthread_create(&a->th, NULL, agent_main, a);
	if (r) {
		errno = r;
		return -1;
	}
	while (atomic_load(&a->done) < 0)
		sleep_us(100);
	return 0;
}

/* Ask the agent to run ioctl(fd, req) and return at once. */
static inline void agent_post(struct agent *a, unsigned long req)
{
	a->req = req;
	atomic_fetch_add(&a->posted, 1);
}

/* Wait for the posted call; its result, errno set (ETIMEDOUT: no result). */
static inline int agent_result(struct agent *a, long timeout_ms)
{
	int64_t deadline = now_ns() + timeout_ms * 1000000;

	while (atomic_load(&a->done) != atomic_load(&a->posted)) {
		if (now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -3;
		}
		sleep_us(100);
	}
	errno = a->err;
	return a->ret;
}

static inline int agent_finished(struct agent *a)
{
	return atomic_load(&a->done) == atomic_load(&a->posted);
}

/* Run one call in the agent and wait for it (5 s at most). */
static inline int agent_call(struct agent *a, unsigned long req)
{
	agent_post(a, req);
	return agent_result(a, 5000);
}

/* End the agent thread (without touching the GIL) and join it. */
static inline int agent_stop(struct agent *a)
{
	agent_post(a, AGENT_EXIT);
	return join_within(a->th, 5000);
}

/* ---- many holders -------------------------------------------------------- */

/*
 * For the tests where threads or processes contend for one GIL: a start
 * line, so that they all begin together, and the log its holders keep.
 */
struct start_line {
	atomic_int ready, go;
};

/* A runner: report ready, then wait for the start. */
static inline void start_line_wait(struct start_line *s)
{
	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->go))
		sched_yield();
}

/* Wait until @n runners are ready, then start them. */
static inline void start_line_go(struct start_line *s, int n)
{
	while (atomic_load(&s->ready) < n)
		sleep_us(100);
	atomic_store(&s->go, 1);
}

/*
 * Kept by the holders under the GIL (zero it, last = -1): holder_enter()
 * right after taking it, holder_leave() right before giving it up.  Were
 * two inside at once, overlaps counts it.
 */
struct holder_log {
	atomic_int inside;
	atomic_long overlaps;
	int last;		/* id of the last holder */
	long changes;		/* of the holder's id */
	long acquisitions;
};

static inline void holder_enter(struct holder_log *l, int id)
{
	if (atomic_exchange(&l->inside, 1))
		atomic_fetch_add(&l->overlaps, 1);
	l->acquisitions++;
	if (l->last != id) {
		l->last = id;
		l->changes++;
	}
}

static inline void holder_leave(struct holder_log *l)
{
	atomic_store(&l->inside, 0);
}

/* ---- fdinfo and tracefs -------------------------------------------------- */


/* All that can be read from @fd, NUL-terminated, from malloc(); or NULL. */
static inline char *read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *p;
	ssize_t n;

	if (!buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno;
			free(buf);
			errno = n;
			return NULL;
		}
		len += n;
		if (cap - len < 1024) {
			p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = 0;
	return buf;
}

/* A whole file in memory (read_all); NULL on error, errno set. */
static inline char *read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	char *text;

	if (fd < 0)
		return NULL;
	text = read_all(fd);
	err = errno;
	close(fd);
	errno = err;
	return text;
}

/* Write @s to the file at @path (sysfs, tracefs style); 0 or -1. */
static inline int write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

/* /proc/<pid>/fdinfo/<fd>, from malloc(); NULL on error, errno set. */
static inline char *fdinfo_text(pid_t pid, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	return read_file(path);
}

/*
 * The value of @key in "key:\tvalue" lines (a GIL's fdinfo): 0 and *v set,
 * or -1 when the key is missing.
 */
static inline int kv_get(const char *text, const char *key, long long *v)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			*v = strtoll(p + klen + 1, NULL, 10);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

/* A value of the fdinfo of our descriptor @fd, or -1. */
static inline long long fdinfo_value(int fd, const char *key)
{
	char *text = fdinfo_text(getpid(), fd);
	long long v;

	if (!text || kv_get(text, key, &v))
		v = -1;
	free(text);
	return v;
}

/* The id of the GIL behind @fd, as its trace events name it; or -1. */
static inline long long gil_id(int fd)
{
	return fdinfo_value(fd, "id");
}

#endif
