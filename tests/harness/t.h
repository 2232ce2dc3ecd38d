/* SPDX-License-Identifier: MIT */
/*
 * The test harness of kgil's C tests: the uapi tests (tests/uapi/), the
 * stress programs (tests/stress/) and libgil's conformance suite
 * (userspace/test/).  MIT, as libgil is, so that the MIT conformance suite
 * links it too; the GPL-2.0 tests may link MIT code.  As liburing's test
 * helpers, every name it exports starts with t_ or T_ (but the CHECK
 * family below), so that none collides with libgil's gil_* or a test's.
 *
 * The runner: t_run() runs a case in a child process of its own, in a
 * process group of its own, and prints one TAP line for it:
 *
 *	ok - NAME			it returned
 *	ok - NAME # SKIP reason		it called SKIP(reason)
 *	not ok - NAME			a CHECK failed, it crashed, hung
 *
 * with "# " diagnostics before a failure.  The parent is the watchdog: a
 * case still running after t_timeout_s seconds is SIGKILLed with its whole
 * process group (a thread of it may sit in a killable wait in the kernel,
 * where no signal handler of its own would run).  A hung or crashed case
 * fails alone; the next one runs.  Whatever a case forked is killed when
 * the case ends.  With GIL_TEST_VERBOSE in the environment, the time each
 * case took follows its line ("#   0.123 s").  Cases share no memory with
 * each other or the runner: what one case sets up for the next must be
 * done before the first.
 *
 * One meaning of CHECK: a check that fails prints its diagnostic and ends
 * the process it runs in with status 1: the case, or a child the case
 * forked (t_fork(), t_fork_child()), whose parent then sees it fail.  In
 * any thread of the case it ends the whole case.  So helpers that check
 * return nothing, and a case needs no cleanup on failure: the process and
 * everything it opened goes with it.
 */
#ifndef KGIL_TEST_T_H
#define KGIL_TEST_T_H

#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

/* Seconds a case may run before the watchdog kills it (default 60). */
extern unsigned int t_timeout_s;

/* Run @fn as a case named @name (see above); 1 if it passed or skipped. */
int t_run(const char *name, void (*fn)(void));

/* Run a case named as its function. */
#define T_RUN(fn) t_run(#fn, fn)

/* EXIT_SUCCESS if no case of t_run() failed, else EXIT_FAILURE. */
int t_exit_status(void);

/* Fail the running case (or child): print a diagnostic and _exit(1). */
__attribute__((noreturn, format(printf, 3, 4)))
void t_fail(const char *file, int line, const char *fmt, ...);

/* End the running case: it cannot run here. */
__attribute__((noreturn))
void t_skip(const char *reason);

/*
 * Have a failure of the calling process (a CHECK, T_FAIL) call @fn(@arg)
 * after its diagnostic, to show what explains it (a trace, a table).
 */
void t_on_fail(void (*fn)(void *), void *arg);

/* A diagnostic line ("# ..."). */

__attribute__((format(printf, 1, 2)))
void t_diag(const char *fmt, ...);

/* "EPERM" for -EPERM or EPERM, "0" for 0. */
const char *t_errname(long long err);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			t_fail(__FILE__, __LINE__,                         \
			       "check failed: %s (errno %d: %s)", #cond,   \
			       errno, strerror(errno));                    \
	} while (0)

/* A call (a syscall, an ioctl) that must fail with exactly errno @err. */
#define CHECK_ERR(call, err)                                               \
	do {                                                               \
		errno = 0;                                                 \
		CHECK((call) == -1 && errno == (err));                     \
	} while (0)

/* Like CHECK, with the values of two integers shown on failure. */
#define CHECK_CMP(a, op, b)                                                \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);        \
		if (!(_a op _b))                                           \
			t_fail(__FILE__, __LINE__,                         \
			       "check failed: %s %s %s (%lld %s %lld)",    \
			       #a, #op, #b, _a, #op, _b);                  \
	} while (0)

/* A call that must return exactly @want (0, or a negative errno). */
#define CHECK_RET(call, want)                                              \
	do {                                                               \
		long long _r = (long long)(call), _w = (long long)(want);  \
		if (_r != _w)                                              \
			t_fail(__FILE__, __LINE__,                         \
			       "%s returned %lld (%s), expected %lld (%s)", \
			       #call, _r, t_errname(_r), _w,               \
			       t_errname(_w));                             \
	} while (0)

#define CHECK_OK(call) CHECK_RET(call, 0)

/* Fail with a message of one's own: T_FAIL("fmt", ...). */
#define T_FAIL(...) t_fail(__FILE__, __LINE__, __VA_ARGS__)

/* End the case: it cannot run here ("ok - NAME # SKIP reason"). */
#define SKIP(reason) t_skip(reason)

/*
 * Poll @cond, running @between after each poll that found it false; fail
 * after @ms.
 */
#define T_POLL_UNTIL(cond, ms, between)                                    \
	do {                                                               \
		int64_t _dl = t_now_ns() + (int64_t)(ms) * T_NSEC_PER_MSEC; \
		while (!(cond)) {                                          \
			if (t_now_ns() > _dl)                              \
				t_fail(__FILE__, __LINE__,                 \
				       "timed out waiting for %s", #cond); \
			between;                                           \
		}                                                          \
	} while (0)

/* Poll @cond, sleeping a little between polls; fail after @ms. */
#define WAIT_UNTIL(cond, ms) T_POLL_UNTIL(cond, ms, t_sleep_us(100))

/* Poll @cond without sleeping (the caller may hold the GIL); fail after @ms. */
#define SPIN_UNTIL(cond, ms) T_POLL_UNTIL(cond, ms, (void)0)

#define T_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- time ---------------------------------------------------------------- */

#define T_NSEC_PER_MSEC 1000000LL
#define T_NSEC_PER_SEC 1000000000LL
#define T_MS(ns) ((ns) / T_NSEC_PER_MSEC)

/* CLOCK_MONOTONIC, in nanoseconds. */
int64_t t_now_ns(void);
/* Sleep that long, signals or not. */
void t_sleep_us(int64_t us);
void t_sleep_ms(int64_t ms);

/* ---- processes ----------------------------------------------------------- */

/* Zeroed memory shared with forked children (MAP_SHARED), or NULL. */
void *t_shared_zalloc(size_t size);

/*
 * fork() for tests: the child must end with _exit() (or a failed CHECK),
 * never return into the runner.  It gets an alarm of its own, whose
 * default action kills it even from a killable wait, so a child stuck in
 * the kernel dies instead of lingering.
 */
pid_t t_fork(unsigned int timeout_s);

/*
 * Fork a child (as t_fork) that runs @fn(@arg), then exits 0; a CHECK
 * that fails in it exits 1.  Its pid; a fork that failed fails the case.
 */
pid_t t_fork_child(unsigned int timeout_s, void (*fn)(void *), void *arg);

/*
 * Reap a child within @timeout_ms, polling every @poll_us; -1 if it is
 * still there (errno ETIMEDOUT; it is sent nothing) or cannot be waited
 * for.
 */
int t_reap_within(pid_t pid, long timeout_ms, long poll_us, int *status);

/* Reap a child within @timeout_ms; on timeout SIGKILL it and return -1. */
int t_wait_child(pid_t pid, long timeout_ms, int *status);

/* Whether a child ended with status 0 within @timeout_ms (else says why). */
int t_child_ok(pid_t pid, long timeout_ms);

/* Reap a child within @timeout_ms: it must have died of signal @sig. */
void t_child_killed(pid_t pid, long timeout_ms, int sig);

/* SIGKILL a child and reap it (5 s at most). */
void t_sigkill_child(pid_t pid);

pid_t t_gettid(void);

/* Keep the calling thread on CPU @cpu, or fail. */
void t_pin(int cpu);

/* The scheduler state letter of a task (/proc/<pid>/task/<tid>/stat). */
char t_task_state(pid_t pid, pid_t tid);

/* ---- threads ------------------------------------------------------------- */

/* pthread_create, or fail. */
pthread_t t_start_thread(void *(*fn)(void *), void *arg);
/* pthread_join, or fail. */
void t_join_thread(pthread_t thread);
/* pthread_join with a bound; -1 (errno ETIMEDOUT) if it did not end. */
int t_join_within(pthread_t th, long timeout_ms);

/*
 * A hog: a SCHED_FIFO thread that takes CPU @cpu for @ms once told, the
 * CPU's other threads (of lower priority) waiting the while.  Started
 * parked, asleep until t_hog_go(), which returns once it spins; the tests
 * run as root.
 */
struct t_hog {
	int cpu, prio;
	int64_t ms;
	/* the hog's own */
	int go[2];
	_Atomic int hogging;
	int64_t end;		/* when it stopped, CLOCK_MONOTONIC */
	pthread_t thread;
};

void t_hog_start(struct t_hog *h);
void t_hog_go(struct t_hog *h);
void t_hog_join(struct t_hog *h);

/* ---- files --------------------------------------------------------------- */

/* All that can be read from @fd, NUL-terminated, from malloc(); or NULL. */
char *t_read_all(int fd);
/* A whole file in memory (t_read_all); NULL on error, errno set. */
char *t_read_file(const char *path);
/* Write @s to the file at @path (sysfs, tracefs style); 0 or -1. */
int t_write_text(const char *path, const char *s);

/* ---- failing allocations ------------------------------------------------ */

/*
 * The kernel's fault injection (CONFIG_FAULT_INJECTION, FAILSLAB,
 * FAIL_PAGE_ALLOC: the debug and KCSAN test kernels), one thread at a time:
 * armed with N, the thread's Nth allocation from then on fails, in the slab
 * or the page allocator, as syzkaller fails them.  Nothing else fails.
 *
 * t_fail_nth_setup() lets the injection reach allocations that may sleep
 * (GFP_KERNEL; by default only atomic ones fail) and single pages (by
 * default only larger ones fail), and has it print nothing of its own (a
 * slab cache may still log that it ran out); -1 with errno set where the kernel has no fault
 * injection or no debugfs.  t_fail_nth_open() opens the calling thread's
 * control file (/proc/thread-self/fail-nth), which keeps naming that
 * thread whoever uses it; -1 where there is none.
 */
int t_fail_nth_setup(void);
int t_fail_nth_open(void);
void t_fail_nth_arm(int fd, unsigned int n);
/* After the call armed for: 1 if its allocation failed; else 0, disarmed. */
int t_fail_nth_fired(int fd);

/*
 * Or a shortage that lasts, as when memory is really short and a retry
 * fails too: the calling thread's allocations fail once it spent a budget
 * of @slab bytes of slab memory (or of @page pages) while armed; one
 * smaller than what is left of the budget may still pass.
 * t_fail_from_open() sets failslab and fail_page_alloc up for it (only
 * threads armed are touched) and t_fail_from_close() back; -1 without
 * fault injection.  t_fail_from_fired() disarms, and says whether any
 * allocation failed.
 */
struct t_fail_from {
	int make_it_fail;	/* /proc/thread-self/make-it-fail */
};

int t_fail_from_open(struct t_fail_from *ff);
void t_fail_from_arm(struct t_fail_from *ff, long slab, long page);
int t_fail_from_fired(struct t_fail_from *ff);
void t_fail_from_close(struct t_fail_from *ff);

#endif /* KGIL_TEST_T_H */
