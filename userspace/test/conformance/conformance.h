/* SPDX-License-Identifier: MIT */
/*
 * The libgil conformance suite: the semantics every backend must share,
 * run against the one GIL_BACKEND selects (kernel, cpython or futex).
 * One file per behaviour; main.c holds the table of cases, in order.
 *
 * Every case runs in a process of its own under a watchdog (t_run()),

 * opens its own GIL and leaves nothing behind, so that under
 * AddressSanitizer a leak fails the case too.  Nothing here assumes a
 * userspace backend: the same binary runs in the guest against /dev/gil.
 * Timing checks have exact lower bounds and generous upper ones.
 */
#ifndef GIL_CONFORMANCE_H
#define GIL_CONFORMANCE_H

#include "helpers.h"

/*
 * A thread taking part in a case.  It runs a worker_fn with a thread state
 * of its own in ts, attached before and freed after; a bare worker has none.
 */
struct worker;
typedef void worker_fn(struct worker *w);

struct worker {
	struct gil *gil;
	struct gil_tstate *ts;
	worker_fn *fn;
	bool bare;
	int id;			/* 1, 2, ...: 0 is the case's own thread */
	pthread_t thread;
	long count;		/* per-case meaning */
	int ret;
	int64_t t;
	atomic_int started;
	atomic_int done;
	atomic_int go;
};

/* Start @w (its gil set) running @fn. */
void worker_start(struct worker *w, worker_fn *fn);

#define FX_WORKERS 4

/*
 * What a case starts from: a GIL of its own, maybe a thread state of the
 * case's thread on it, and the workers it starts.  fx_teardown() undoes
 * it all, so a case ends with nothing behind.
 */
struct fixture {
	struct gil *gil;
	struct gil_tstate *ts;		/* the case's thread's, or NULL */
	struct worker w[FX_WORKERS];
	int nr_started, nr_joined;
	bool closed;			/* the case closed the GIL itself */
};

enum fx_setup {
	FX_GIL,		/* the GIL only */
	FX_TSTATE,	/* and a thread state attached to the case's thread */
	FX_HOLD,	/* which holds the GIL */
};

/* Open the GIL; set its switch interval to @interval unless 0. */
void fx_setup(struct fixture *fx, double interval, enum fx_setup what);
/* Start @n workers (ids on from the last) running @fn; the first. */
struct worker *fx_start(struct fixture *fx, int n, worker_fn *fn);
/* The same, bare: for threads that have no thread state (gil_ensure). */
struct worker *fx_start_bare(struct fixture *fx, int n, worker_fn *fn);
/* Wait until the workers not joined yet have set their started flag. */
void fx_wait_started(struct fixture *fx);
/* Join the workers not joined yet; the sum of their counts. */
long fx_join(struct fixture *fx);
/* fx_start, then fx_join: the sum of their counts. */
long fx_run(struct fixture *fx, int n, worker_fn *fn);
/* Close the GIL while the case goes on (it tests what follows a close). */
void fx_close_gil(struct fixture *fx);
/* Join the workers, free the thread state, close the GIL. */
void fx_teardown(struct fixture *fx);

/*
 * Workers: take the GIL once (counting it in w->count) and release it at
 * once, or keep it until w->go is set.
 */
worker_fn acquire_once_thread, acquire_hold_thread;

/* Who acquired the GIL, in order; written under the GIL. */
#define LOG_MAX 200000
struct owner_log {
	int id[LOG_MAX];
	long len;
};

void log_owner(struct owner_log *log, int id);
/* How many times the owner changed along @log. */
long owner_changes(const struct owner_log *log);

/* The cases, in the order of the table, by file. */
void test_mutual_exclusion(void);		/* exclusion.c */
void test_drop_request_timing(void);		/* drop-request.c */
void test_new_holder_interval(void);
void test_signals(void);
void test_forced_switch(void);			/* forced-switch.c */
void test_forced_release(void);
void test_forced_switch_three(void);
void test_switch_number(void);			/* switch-number.c */
void test_switch_number_contended(void);
void test_storm(void);
void test_voluntary_release(void);		/* release.c */
void test_yield_unrequested(void);
void test_acquirer_clears(void);
void test_gil_check(void);
void test_pending(void);			/* pending.c */
void test_allow_threads(void);			/* allow-threads.c */
void test_allow_threads_ret(void);
void test_ensure(void);				/* ensure.c */
void test_tstate_current(void);
void test_versions(void);			/* versions.c */
void test_interval(void);			/* interval.c */
void test_policy(void);				/* policy.c */
void test_options(void);			/* options.c */
void test_errors(void);				/* errors.c */
void test_closed(void);				/* close.c */
void test_close_wakes_waiters(void);
void test_close_race(void);
void test_stats(void);				/* stats.c */
void test_fork(void);				/* fork.c */

#endif /* GIL_CONFORMANCE_H */
