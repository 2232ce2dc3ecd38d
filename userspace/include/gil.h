/* SPDX-License-Identifier: MIT */
/*
 * libgil: run eval loops under a GIL, CPython style, on the kernel's
 * /dev/gil or on a userspace GIL, behind one API.
 *
 * Conventions: functions return 0 (or a documented non-negative value) on
 * success and a negative errno on failure; they never set errno.  There is
 * no global state: everything hangs off a struct gil.
 *
 * A program opens a GIL (gil_open), gives each of its threads a thread
 * state (gil_tstate_new + gil_tstate_attach, or gil_ensure), and runs its
 * eval loop between gil_acquire and gil_release, calling gil_check() at
 * safe points (backward jumps, calls) so that a waiting thread's drop
 * request is answered.  Blocking I/O goes between GIL_BEGIN_ALLOW_THREADS
 * and GIL_END_ALLOW_THREADS.
 *
 * Errors common to the calls taking a thread state:
 *   -EPERM    the thread state is attached to another thread
 *   -EUNATCH  the thread state is not attached
 *   -EBADF    the GIL was closed
 */
#ifndef GIL_H
#define GIL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/gil.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of these headers.  A program built against them needs a
 * library of the same major version and at least this minor one: check
 * with gil_check_version(GIL_VERSION_MAJOR, GIL_VERSION_MINOR), which
 * returns 0 if the library it runs with is one, -ENOTSUP if not.
 * gil_version_major() and gil_version_minor() are the library's own.
 */
#define GIL_VERSION_MAJOR	1
#define GIL_VERSION_MINOR	5

int gil_version_major(void);
int gil_version_minor(void);
int gil_check_version(int major, int minor);

/* Which GIL implementation backs a struct gil. */
enum gil_backend {
	GIL_BACKEND_DEFAULT = 0,	/* $GIL_BACKEND if set, else kernel */
	GIL_BACKEND_KERNEL,		/* /dev/gil */
	GIL_BACKEND_CPYTHON,		/* CPython's algorithm on pthreads */
	GIL_BACKEND_FUTEX,		/* direct handoff on futexes */
};

struct gil;
struct gil_tstate;

/*
 * Open a GIL.  GIL_BACKEND_DEFAULT reads the GIL_BACKEND environment
 * variable ("kernel", "cpython" or "futex").
 * Errors: -EINVAL (unknown backend or GIL_BACKEND value), -ENOMEM, and for
 * the kernel backend those of open("/dev/gil") (-ENOENT: module not loaded).
 */
int gil_open(struct gil **gilp, enum gil_backend backend);

/*
 * Close a GIL.  Threads waiting in it fail with -EBADF, and so does every
 * later call.  The struct gil stays valid memory while thread states of it
 * exist (they still have to be freed); with the last, it is freed.
 */
int gil_close(struct gil *gil);

enum gil_backend gil_backend(const struct gil *gil);

/*
 * The kernel backend's module ABI version (GIL_IOC_GET_VERSION of
 * <linux/gil.h>).  Errors: -EOPNOTSUPP (a userspace backend), -EBADF.
 */
int gil_kernel_abi(struct gil *gil, unsigned int *major, unsigned int *minor);
const char *gil_backend_name(enum gil_backend backend);
/* The backend called @name, or -EINVAL. */
int gil_backend_from_name(const char *name);

/*
 * Thread states (CPython's PyThreadState): create one, attach it to the
 * calling thread, detach it, free it.
 * gil_tstate_attach: -EEXIST (this thread already has one attached to this
 *	GIL), -EBUSY (this thread state is attached to a thread).
 * gil_tstate_detach: -EBUSY (the thread holds the GIL).
 * gil_tstate_free: -EBUSY (still attached).
 */
int gil_tstate_new(struct gil *gil, struct gil_tstate **tsp);
int gil_tstate_attach(struct gil_tstate *ts);
int gil_tstate_detach(struct gil_tstate *ts);
int gil_tstate_free(struct gil_tstate *ts);

/*
 * PyGILState_GetThisThreadState and PyGILState_Check: the thread state the
 * calling thread has attached to @gil (made by gil_ensure or not), or NULL;
 * and whether the calling thread holds @gil.  Code running under
 * gil_ensure() reaches its thread state this way, to call gil_check().
 * After gil_close() both report nothing: NULL, false.
 */
struct gil_tstate *gil_tstate_current(struct gil *gil);
bool gil_held(struct gil *gil);

/*
 * Take, drop, and yield the GIL (CPython's take_gil, drop_gil, and the
 * answer to a drop request).
 * gil_acquire: -EDEADLK (already held), -EOWNERDEAD (taken, but the
 *	previous holder died holding it).
 * gil_release: -EPERM also when the thread does not hold the GIL.
 */
int gil_acquire(struct gil_tstate *ts);
int gil_release(struct gil_tstate *ts);
int gil_yield(struct gil_tstate *ts);

/*
 * In the child of a fork(), by the thread that forked, before anything else
 * uses the GIL there (CPython's PyOS_AfterFork_Child): the GIL becomes a
 * new one of the same backend, switch interval, policy and options, held
 * by @ts if @ts held the GIL at fork(), and free otherwise.  @ts stays
 * attached to the calling thread; every other thread state of the GIL is
 * detached, as its thread does not exist in the child, and can only be
 * freed.  The parent's GIL is not touched (the kernel backend's descriptor
 * of it is closed in the child, which changes nothing in that GIL).
 * Errors: -EPERM (@ts is not the calling thread's), -EBADF (closed), and
 * those of gil_open and gil_acquire: the GIL is then unusable.
 */
int gil_after_fork_child(struct gil_tstate *ts);

/*
 * The word where drop requests are published, for an eval loop that polls
 * it itself (gil_check() does so through the thread state): bit
 * GIL_EVAL_BREAKER_DROP_REQUEST while a drop request is pending, bit
 * GIL_EVAL_BREAKER_PENDING while gil_set_pending() says so.  Read it with
 * relaxed atomic loads.  It moves at gil_after_fork_child().
 */
const uint32_t *gil_eval_breaker(struct gil *gil);

/* Do not use directly: the start of every thread state, for gil_check(). */
struct gil_tstate_head {
	const uint32_t *eval_breaker;
};

/* True when a drop request is pending.  One relaxed load, no syscall. */
static inline bool gil_drop_requested(const struct gil_tstate *ts)
{
	const struct gil_tstate_head *head = (const struct gil_tstate_head *)ts;

	return __atomic_load_n(head->eval_breaker, __ATOMIC_RELAXED) &
	       GIL_EVAL_BREAKER_DROP_REQUEST;
}

/* What gil_check() found, or'd: it yielded; the GIL's pending bit is set. */
#define GIL_CHECK_YIELDED	1
#define GIL_CHECK_PENDING	2

/*
 * The eval-loop check, for the holder's safe points: one load of the eval
 * breaker, nothing more when it is clear.  Answers a pending drop request
 * (gil_yield) and reports the process's own pending bit (gil_set_pending),
 * which stays set, and so reported, until gil_clear_pending().  Returns
 * GIL_CHECK_YIELDED and GIL_CHECK_PENDING or'd (0 when neither), or an
 * error of gil_yield.
 */
static inline int gil_check(struct gil_tstate *ts)
{
	const struct gil_tstate_head *head = (const struct gil_tstate_head *)ts;
	uint32_t eb = __atomic_load_n(head->eval_breaker, __ATOMIC_RELAXED);
	int ret = 0;

	if (__builtin_expect(!eb, 1))
		return 0;
	if (eb & GIL_EVAL_BREAKER_DROP_REQUEST) {
		ret = gil_yield(ts);
		if (ret)
			return ret;
		ret = GIL_CHECK_YIELDED;
		/* Set while this thread waited, maybe. */
		eb = __atomic_load_n(head->eval_breaker, __ATOMIC_RELAXED);
	}
	if (eb & GIL_EVAL_BREAKER_PENDING)
		ret |= GIL_CHECK_PENDING;
	return ret;
}

/*
 * An interpreter's own events (signals, pending calls, async exceptions)
 * on the eval breaker gil_check() already loads, as CPython keeps them on
 * its eval_breaker: gil_set_pending() sets GIL_EVAL_BREAKER_PENDING for
 * the GIL, and every holder's gil_check() reports it until
 * gil_clear_pending().  One atomic instruction each, no system call:
 * async-signal-safe.  A GIL made by gil_after_fork_child() starts clear.
 * Errors: -EOPNOTSUPP (the kernel backend with a module before ABI 2.2),
 * -EBADF.
 */
int gil_set_pending(struct gil *gil);
int gil_clear_pending(struct gil *gil);

/*
 * Py_BEGIN_ALLOW_THREADS / Py_END_ALLOW_THREADS around blocking calls.
 * GIL_END_ALLOW_THREADS drops gil_acquire()'s result: use it where the GIL
 * cannot be closed and no holder can die holding it.  Elsewhere
 * GIL_END_ALLOW_THREADS_RET stores that result in @ret (an int), 0 or a
 * negative errno: -EOWNERDEAD (the GIL is held, but the holder before died
 * holding it), -EBADF (closed: the GIL is not held).  gil_release()'s own
 * result is 0 in a thread that held the GIL, as the macros require.
 */
#define GIL_BEGIN_ALLOW_THREADS(ts)	{ gil_release(ts);
#define GIL_END_ALLOW_THREADS(ts)	gil_acquire(ts); }
#define GIL_END_ALLOW_THREADS_RET(ts, ret)	(ret) = gil_acquire(ts); }

/*
 * PyGILState_Ensure / PyGILState_Release: make sure the calling thread
 * holds the GIL, creating and attaching a thread state for it if it has
 * none; re-entrant.  gil_ensure returns GIL_ENSURE_LOCKED or
 * GIL_ENSURE_UNLOCKED (a negative errno on failure), to be passed to the
 * matching gil_ensure_release.  gil_ensure_release: -EPERM (the thread
 * does not hold the GIL), -EINVAL (no gil_ensure to match).
 */
enum gil_ensure_state {
	GIL_ENSURE_LOCKED = 0,		/* the thread held the GIL already */
	GIL_ENSURE_UNLOCKED = 1,	/* gil_ensure acquired it */
};

int gil_ensure(struct gil *gil);
int gil_ensure_release(struct gil *gil, enum gil_ensure_state state);

/*
 * The switch interval, in seconds, with sys.setswitchinterval's rules:
 * -EINVAL unless strictly positive; stored as whole microseconds
 * (truncated), at least 1; -ERANGE above GIL_INTERVAL_MAX_US.
 */
int gil_set_switch_interval(struct gil *gil, double seconds);
int gil_get_switch_interval(struct gil *gil, double *seconds);

/*
 * The handoff policy, GIL_POLICY_* of <linux/gil.h>: who a release hands
 * the GIL to.  The kernel backend has all three; each userspace backend
 * has one (cpython: GIL_POLICY_CPYTHON, futex: GIL_POLICY_FIFO).
 * gil_get_policy returns the policy.
 * gil_set_policy: -EINVAL (no such policy), -EOPNOTSUPP (not one this
 *	backend or the loaded module has).
 * gil_policy_name returns "cpython", "fifo" or "io", or NULL;
 * gil_policy_from_name the policy of that name, or -EINVAL.
 */
int gil_set_policy(struct gil *gil, unsigned int policy);
int gil_get_policy(struct gil *gil);
const char *gil_policy_name(unsigned int policy);
int gil_policy_from_name(const char *name);

/*
 * The GIL's options, GIL_OPT_* of <linux/gil.h> or'd, each off in a new
 * GIL.  GIL_OPT_PREEMPT_AWARE: the switch interval does not run while the
 * holder waits for a CPU.  GIL_OPT_PRIO_INHERIT: the holder runs at the
 * priority of its highest real-time waiter.  Only the kernel backend has
 * options, with a module of ABI 2.3 or later (2.4 for
 * GIL_OPT_PRIO_INHERIT) on a kernel that can provide them; the
 * userspace backends and an older module have none, so get reports 0 and
 * set takes 0 alone.
 * gil_get_options stores the options in *@options.
 * gil_set_options sets them all at once, or fails and changes nothing,
 *	on every backend in this order: -EINVAL (a bit outside GIL_OPTS_ALL),
 *	-EOPNOTSUPP (an option this backend, the loaded module or the kernel
 *	does not have).
 */
int gil_set_options(struct gil *gil, unsigned int options);
int gil_get_options(struct gil *gil, unsigned int *options);

/* Statistics, as struct gil_stats of <linux/gil.h>, for every backend. */
int gil_get_stats(struct gil *gil, struct gil_stats *stats);

#ifdef __cplusplus
}
#endif

#endif /* GIL_H */
