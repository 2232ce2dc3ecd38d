// SPDX-License-Identifier: MIT
/*
 * The libgil conformance suite: the semantics every backend must share,
 * run against the one GIL_BACKEND selects (kernel, cpython or futex).
 *
 * Every case runs in a process of its own under a watchdog (helpers.c),
 * opens its own GIL and leaves nothing behind, so that under
 * AddressSanitizer a leak fails the case too.  Nothing here assumes a
 * userspace backend: the same binary runs in the guest against /dev/gil.
 * Timing checks have exact lower bounds and generous upper ones.
 */
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "helpers.h"
#include "../src/internal.h"	/* only to see gil_ensure free its tstate */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void close_gil(struct gil *gil)
{
	CHECK_OK(gil_close(gil));
}

/* Threads taking part in a case, with their own thread state. */
struct worker {
	struct gil *gil;
	int id;
	pthread_t thread;
	long count;		/* per-case meaning */
	int ret;
	int64_t t;
	atomic_int started;
	atomic_int done;
	atomic_int go;
};

/*
 * Run @fn in @n workers on @gil, with ids 1..@n, and wait for them all;
 * returns the sum of their counts.
 */
static long run_workers(struct gil *gil, struct worker *w, int n,
			void *(*fn)(void *))
{
	long total = 0;

	for (int i = 0; i < n; i++) {
		w[i] = (struct worker){ .gil = gil, .id = i + 1 };
		w[i].thread = start_thread(fn, &w[i]);
	}
	for (int i = 0; i < n; i++) {
		join_thread(w[i].thread);
		total += w[i].count;
	}
	return total;
}

/* Who acquired the GIL, in order; written under the GIL. */
#define LOG_MAX 200000
struct owner_log {
	int id[LOG_MAX];
	long len;
};

static void log_owner(struct owner_log *log, int id)
{
	CHECK_CMP(log->len, <, LOG_MAX);
	log->id[log->len++] = id;
}

/* How many times the owner changed along @log. */
static long owner_changes(const struct owner_log *log)
{
	long changes = 0;

	for (long i = 1; i < log->len; i++)
		changes += log->id[i] != log->id[i - 1];
	return changes;
}

/* ------------------------------------------------------------------ */
/* Mutual exclusion under contention. */

static long mx_counter;		/* protected by the GIL, deliberately plain */
static volatile int mx_owner;
static int64_t mx_deadline;

static void *mx_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	long n = 0;

	CHECK_OK(gil_acquire(ts));
	while (now_ns() < mx_deadline) {
		for (int i = 0; i < 100; i++) {
			long c;
			int r;

			mx_owner = w->id;
			c = mx_counter;
			for (volatile int spin = 0; spin < 20; spin++)
				;
			mx_counter = c + 1;
			CHECK_CMP(mx_owner, ==, w->id);
			n++;
			r = gil_check(ts);
			CHECK(r == 0 || r == 1);
		}
		if ((n / 100) % 8 == 0) {	/* and now and then, I/O */
			CHECK_OK(gil_release(ts));
			CHECK_OK(gil_acquire(ts));
		}
	}
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	w->count = n;
	return NULL;
}

static void test_mutual_exclusion(void)
{
	struct gil *gil = open_gil();
	struct worker w[4];
	struct gil_stats st;
	long total;

	set_interval(gil, 50e-6);
	mx_deadline = now_ns() + 300 * NSEC_PER_MSEC;
	total = run_workers(gil, w, 4, mx_thread);
	CHECK_CMP(mx_counter, ==, total);
	get_stats(gil, &st);
	CHECK_CMP(st.switch_number, >=, 4);
	CHECK_CMP(st.acquisitions, >=, 4);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* A drop request appears only after a whole interval of waiting. */

static void *acquire_once_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	w->t = now_ns();
	atomic_store(&w->started, 1);
	w->ret = gil_acquire(ts);	/* read after join */
	CHECK_OK(w->ret);
	w->count++;			/* under the GIL */
	atomic_store(&w->done, 1);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

/* Like acquire_once_thread, but keeps the GIL until w->go is set. */
static void *acquire_hold_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	w->t = now_ns();
	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));
	w->count++;
	atomic_store(&w->done, 1);
	WAIT_UNTIL(atomic_load(&w->go), 5000);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_drop_request_timing(void)
{
	const int64_t interval_ms = 20;
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	struct gil_stats st;
	int64_t t0, t1;

	set_interval(gil, interval_ms * 1e-3);
	CHECK_OK(gil_acquire(ts));

	/* Alone, the holder is never asked. */
	t0 = now_ns();
	while (now_ns() - t0 < 3 * interval_ms * NSEC_PER_MSEC)
		CHECK(!gil_drop_requested(ts));

	w.thread = start_thread(acquire_once_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	t0 = w.t;	/* taken before its gil_acquire */
	SPIN_UNTIL(gil_drop_requested(ts), 8000);
	t1 = now_ns();
	CHECK_CMP(t1 - t0, >=, interval_ms * NSEC_PER_MSEC);
	CHECK_CMP(t1 - t0, <, interval_ms * NSEC_PER_MSEC + 5 * NSEC_PER_SEC);
	CHECK(!atomic_load(&w.done));

	/* Answering it lets the waiter in before the holder is back. */
	CHECK_RET(gil_check(ts), 1);
	CHECK(atomic_load(&w.done));
	CHECK_CMP(w.count, ==, 1);
	get_stats(gil, &st);
	CHECK_CMP(st.drop_requests, >=, 1);
	CHECK_CMP(st.forced_switches, >=, 1);
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	free_tstate(ts);
	close_gil(gil);
}

/*
 * Signals neither fail a waiting gil_acquire nor restart its interval:
 * a waiter signalled far more often than the interval still asks.
 */
static atomic_int sig_count;

static void sig_handler(int sig)
{
	(void)sig;
	atomic_fetch_add(&sig_count, 1);
}

static void test_signals(void)
{
	const int64_t interval_ms = 20;
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	struct sigaction sa = { .sa_handler = sig_handler };	/* no SA_RESTART */
	int64_t t0, next;

	sigemptyset(&sa.sa_mask);
	CHECK_CMP(sigaction(SIGUSR1, &sa, NULL), ==, 0);
	set_interval(gil, interval_ms * 1e-3);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(acquire_once_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	t0 = w.t;
	next = now_ns();
	/* At least one signal, even if this thread ran late and the request
	 * is already there. */
	do {
		if (now_ns() >= next) {
			CHECK_OK(-pthread_kill(w.thread, SIGUSR1));
			next = now_ns() + 2 * NSEC_PER_MSEC;
		}
		CHECK_CMP(now_ns() - t0, <, 5 * NSEC_PER_SEC);
	} while (!gil_drop_requested(ts));
	CHECK_CMP(now_ns() - t0, >=, interval_ms * NSEC_PER_MSEC);
	CHECK_RET(gil_check(ts), 1);
	CHECK(atomic_load(&w.done));
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	CHECK_OK(w.ret);		/* not EINTR */
	CHECK_CMP(atomic_load(&sig_count), >=, 1);
	free_tstate(ts);
	close_gil(gil);
}

/*
 * A new holder gets a whole interval: a wait during which the GIL changed
 * hands does not post (CPython's switch_number rule), so the request comes
 * at least one interval after the change.
 */
static atomic_int nh_first;
static int64_t nh_requested;	/* written by the first acquirer */

static void *nh_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));
	if (!atomic_exchange(&nh_first, 1)) {
		SPIN_UNTIL(gil_drop_requested(ts), 8000);
		nh_requested = now_ns();
		w->count = 1;
	}
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

/* 1 if it checked, 0 if the host was too slow to set the scene. */
static int new_holder_interval(void)
{
	const int64_t interval_ms = 100;
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w[2];
	int64_t t_rel;
	bool pending;

	atomic_store(&nh_first, 0);
	nh_requested = 0;
	set_interval(gil, interval_ms * 1e-3);
	CHECK_OK(gil_acquire(ts));
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .gil = gil, .id = i };
		w[i].thread = start_thread(nh_thread, &w[i]);
	}
	for (int i = 0; i < 2; i++)
		SPIN_UNTIL(atomic_load(&w[i].started), 5000);
	/* Both wait; half an interval on, hand over with nothing pending. */
	sleep_ms(interval_ms / 2);
	t_rel = now_ns();
	pending = gil_drop_requested(ts);	/* slept far too long */
	CHECK_OK(gil_release(ts));
	for (int i = 0; i < 2; i++)
		join_thread(w[i].thread);
	CHECK_CMP(w[0].count + w[1].count, ==, 1);
	if (getenv("GIL_TEST_VERBOSE"))
		test_diag("new holder asked %.1f ms after the release",
			  (double)(nh_requested - t_rel) / NSEC_PER_MSEC);
	if (!pending) {
		/* Not when the other waiter's first wait ends. */
		CHECK_CMP(nh_requested - t_rel, >=,
			  interval_ms * NSEC_PER_MSEC);
		CHECK_CMP(nh_requested - t_rel, <,
			  3 * interval_ms * NSEC_PER_MSEC + 5 * NSEC_PER_SEC);
	}
	free_tstate(ts);
	close_gil(gil);
	return !pending;
}

static void test_new_holder_interval(void)
{
	for (int i = 0; i < 3; i++) {
		if (new_holder_interval())
			return;
		test_diag("host too slow for the scene, again");
	}
	test_fail(__FILE__, __LINE__, "could not set the scene");
}

/* ------------------------------------------------------------------ */
/* The forced-switch handshake, two threads. */

static long fs_b_count;		/* under the GIL */

static void *fs_b_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	for (int i = 0; i < 20; i++) {
		CHECK_OK(gil_acquire(ts));
		fs_b_count++;
		CHECK_OK(gil_release(ts));
	}
	free_tstate(ts);
	atomic_store(&w->done, 1);
	return NULL;
}

static void test_forced_switch(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	struct gil_stats s1, s2;
	long last = 0, yields = 0;

	set_interval(gil, 1e-3);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(fs_b_thread, &w);
	while (!atomic_load(&w.done)) {
		if (!gil_drop_requested(ts))
			continue;
		get_stats(gil, &s1);
		CHECK_OK(gil_yield(ts));
		get_stats(gil, &s2);
		/* B took the GIL between our release and our acquisition. */
		CHECK_CMP(fs_b_count, >, last);
		CHECK_CMP(s2.switch_number, >=, s1.switch_number + 2);
		CHECK_CMP(s2.forced_switches, >=, s1.forced_switches + 1);
		last = fs_b_count;
		yields++;
	}
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	CHECK_CMP(fs_b_count, ==, 20);
	CHECK_CMP(yields, >=, 1);
	get_stats(gil, &s2);
	CHECK_CMP(s2.forced_switches, >=, yields);
	free_tstate(ts);
	close_gil(gil);
}

/* A forced release returns only once another thread has the GIL. */
static void test_forced_release(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	struct gil_stats s1, s2;

	set_interval(gil, 1e-3);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(acquire_hold_thread, &w);
	SPIN_UNTIL(gil_drop_requested(ts), 5000);
	get_stats(gil, &s1);
	CHECK_OK(gil_release(ts));	/* as GIL_BEGIN_ALLOW_THREADS would */
	get_stats(gil, &s2);
	CHECK_CMP(s2.switch_number, >, s1.switch_number);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches + 1);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases);
	WAIT_UNTIL(atomic_load(&w.done), 5000);
	atomic_store(&w.go, 1);
	CHECK_OK(gil_acquire(ts));
	CHECK(atomic_load(&w.done));
	CHECK_CMP(w.count, ==, 1);
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	free_tstate(ts);
	close_gil(gil);
}

/* The handshake with three spinning threads: check it in a shared log. */

static struct owner_log fs_log;
static int64_t fs_deadline, fs_hard_deadline;
static atomic_long fs_forced;

/* Run 300 ms, and on (up to 5 s) until a few forced switches happened. */
static bool fs_running(void)
{
	int64_t now = now_ns();

	return now < fs_deadline ||
	       (atomic_load(&fs_forced) < 5 && now < fs_hard_deadline);
}

static void fs_log_me(int id)
{
	log_owner(&fs_log, id);
}

static void *fs_spinner(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	long rounds = 0;

	CHECK_OK(gil_acquire(ts));
	fs_log_me(w->id);
	while (fs_running()) {
		int r = gil_check(ts);

		CHECK(r == 0 || r == 1);
		if (r == 1) {
			/* Someone else held the GIL after our forced release. */
			CHECK_CMP(fs_log.id[fs_log.len - 1], !=, w->id);
			fs_log_me(w->id);
			w->count++;
			atomic_fetch_add(&fs_forced, 1);
		}
		if (++rounds % 50000 == 0) {
			CHECK_OK(gil_release(ts));
			CHECK_OK(gil_acquire(ts));
			fs_log_me(w->id);
		}
	}
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_forced_switch_three(void)
{
	struct gil *gil = open_gil();
	struct worker w[3];
	struct gil_stats st;
	long forced;

	set_interval(gil, 200e-6);
	fs_deadline = now_ns() + 300 * NSEC_PER_MSEC;
	fs_hard_deadline = fs_deadline + 5 * NSEC_PER_SEC;
	forced = run_workers(gil, w, 3, fs_spinner);
	get_stats(gil, &st);
	CHECK_CMP(forced, >=, 1);
	CHECK_CMP(st.forced_switches, >=, forced);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* switch_number: once per change of owner, never on re-acquisition. */

static void *acquire_release_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	CHECK_OK(gil_acquire(ts));
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static uint64_t switch_number(struct gil *gil)
{
	struct gil_stats st;

	get_stats(gil, &st);
	return st.switch_number;
}

static void test_switch_number(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };

	CHECK_CMP(switch_number(gil), ==, 0);
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(switch_number(gil), ==, 1);
	for (int i = 0; i < 10; i++) {
		CHECK_OK(gil_release(ts));
		CHECK_OK(gil_acquire(ts));
		CHECK_OK(gil_yield(ts));
	}
	CHECK_CMP(switch_number(gil), ==, 1);
	CHECK_OK(gil_release(ts));

	w.thread = start_thread(acquire_release_thread, &w);
	join_thread(w.thread);
	CHECK_CMP(switch_number(gil), ==, 2);
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(switch_number(gil), ==, 3);
	CHECK_OK(gil_release(ts));
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(switch_number(gil), ==, 3);
	CHECK_OK(gil_release(ts));

	/* A thread state attached again is a new owner. */
	CHECK_OK(gil_tstate_detach(ts));
	CHECK_OK(gil_tstate_attach(ts));
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(switch_number(gil), ==, 4);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	close_gil(gil);
}

/* Under contention, compare with the log of acquisitions. */

static struct owner_log sn_log;

static void sn_log_me(int id)
{
	log_owner(&sn_log, id);
}

static void *sn_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	for (int i = 0; i < 300; i++) {
		int64_t until = now_ns() + 50000;	/* hold it 50 us */

		CHECK_OK(gil_acquire(ts));
		sn_log_me(w->id);
		while (now_ns() < until) {
			int r = gil_check(ts);

			CHECK(r == 0 || r == 1);
			if (r == 1)
				sn_log_me(w->id);
		}
		CHECK_OK(gil_release(ts));
	}
	free_tstate(ts);
	return NULL;
}

static void test_switch_number_contended(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w[3];
	uint64_t s0, s1;
	long changes = 0;

	set_interval(gil, 20e-6);
	CHECK_OK(gil_acquire(ts));
	sn_log_me(0);
	s0 = switch_number(gil);
	CHECK_OK(gil_release(ts));
	run_workers(gil, w, 3, sn_thread);
	CHECK_OK(gil_acquire(ts));
	sn_log_me(0);
	s1 = switch_number(gil);
	CHECK_OK(gil_release(ts));

	changes = owner_changes(&sn_log);
	CHECK_CMP(s1 - s0, ==, changes);
	CHECK_CMP(changes, >=, 4);
	free_tstate(ts);
	close_gil(gil);
}

/*
 * A 1 us interval: waiters time out all the time, racing with handoffs and
 * with each other.  Exclusion, the forced-switch rule and switch_number
 * must all still hold exactly.
 */
static struct owner_log st_log;
static long st_counter;
static int64_t st_deadline;
static atomic_int st_full;

static void st_log_me(int id)
{
	log_owner(&st_log, id);
	if (st_log.len > LOG_MAX / 2)
		atomic_store(&st_full, 1);	/* enough: stop */
}

static void *storm_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	long n = 0;

	while (now_ns() < st_deadline && !atomic_load(&st_full)) {
		CHECK_OK(gil_acquire(ts));
		st_log_me(w->id);
		for (int i = 0; i < 50; i++) {
			int r;

			st_counter++;
			n++;
			r = gil_check(ts);
			CHECK(r == 0 || r == 1);
			if (r == 1) {
				CHECK_CMP(st_log.id[st_log.len - 1], !=, w->id);
				st_log_me(w->id);
			}
		}
		CHECK_OK(gil_release(ts));
		sched_yield();		/* give the others a chance to run */
	}
	free_tstate(ts);
	w->count = n;
	return NULL;
}

static void test_storm(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w[4];
	uint64_t s0, s1;
	long changes = 0, total = 0;

	set_interval(gil, 1e-6);
	CHECK_OK(gil_acquire(ts));
	st_log_me(0);
	s0 = switch_number(gil);
	CHECK_OK(gil_release(ts));
	st_deadline = now_ns() + 300 * NSEC_PER_MSEC;
	total = run_workers(gil, w, 4, storm_thread);
	CHECK_OK(gil_acquire(ts));
	st_log_me(0);
	s1 = switch_number(gil);
	CHECK_OK(gil_release(ts));
	CHECK_CMP(st_counter, ==, total);
	changes = owner_changes(&st_log);
	CHECK_CMP(s1 - s0, ==, changes);
	if (getenv("GIL_TEST_VERBOSE"))
		test_diag("storm: %ld acquisitions, %ld changes of owner",
			  st_log.len, changes);
	free_tstate(ts);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* A release with no request pending never blocks. */

static void test_voluntary_release(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	struct gil_stats s1, s2;
	int64_t t;

	set_interval(gil, 10.0);	/* no drop request in this case */
	CHECK_OK(gil_acquire(ts));
	get_stats(gil, &s1);
	CHECK_OK(gil_release(ts));
	get_stats(gil, &s2);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);

	/* With a thread waiting, too. */
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(acquire_hold_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	sleep_ms(50);		/* let it block in gil_acquire */
	CHECK(!atomic_load(&w.done));
	CHECK(!gil_drop_requested(ts));
	get_stats(gil, &s1);
	t = now_ns();
	CHECK_OK(gil_release(ts));
	t = now_ns() - t;
	WAIT_UNTIL(atomic_load(&w.done), 5000);
	get_stats(gil, &s2);
	CHECK_CMP(t, <, NSEC_PER_SEC);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);
	CHECK_CMP(s2.acquisitions, ==, s1.acquisitions + 1);
	atomic_store(&w.go, 1);
	join_thread(w.thread);
	CHECK_CMP(w.count, ==, 1);
	get_stats(gil, &s2);
	CHECK_CMP(s2.contended, >=, 1);
	CHECK_CMP(s2.drop_requests, ==, 0);
	free_tstate(ts);
	close_gil(gil);
}

/* gil_yield with nothing pending: a voluntary release and a re-take. */
static void test_yield_unrequested(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct gil_stats s1, s2;

	CHECK_OK(gil_acquire(ts));
	get_stats(gil, &s1);
	CHECK_OK(gil_yield(ts));
	get_stats(gil, &s2);
	CHECK_CMP(s2.acquisitions, ==, s1.acquisitions + 1);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);
	CHECK_CMP(s2.switch_number, ==, s1.switch_number);
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* still held */
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* The acquirer clears the drop request. */

static void *ac_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));
	w->ret = gil_drop_requested(ts);	/* right after taking it */
	atomic_store(&w->done, 1);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_acquirer_clears(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };

	set_interval(gil, 2e-3);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(ac_thread, &w);
	SPIN_UNTIL(gil_drop_requested(ts), 5000);
	set_interval(gil, 10.0);	/* no new request after this one */
	CHECK_OK(gil_release(ts));
	CHECK_OK(gil_acquire(ts));
	CHECK(atomic_load(&w.done));
	CHECK_CMP(w.ret, ==, 0);
	CHECK(!gil_drop_requested(ts));
	CHECK_RET(gil_check(ts), 0);
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	free_tstate(ts);
	close_gil(gil);
}

/* gil_check: 0 with nothing pending, 1 once it answered a request. */
static void test_gil_check(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	int r;

	set_interval(gil, 1e-3);
	CHECK_OK(gil_acquire(ts));
	for (int i = 0; i < 10000; i++)
		CHECK_RET(gil_check(ts), 0);

	w.thread = start_thread(acquire_once_thread, &w);
	SPIN_UNTIL((r = gil_check(ts)) != 0, 5000);
	CHECK_RET(r, 1);
	CHECK(atomic_load(&w.done));	/* the waiter ran meanwhile */
	CHECK_RET(gil_check(ts), 0);
	CHECK_OK(gil_release(ts));	/* and we hold the GIL again */
	join_thread(w.thread);
	free_tstate(ts);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* The process's pending bit on the eval breaker (gil_set_pending). */

static struct gil *pending_gil;

static void pending_handler(int sig)
{
	(void)sig;
	gil_set_pending(pending_gil);
}

/* The new holder sees the pending bit the old one left set. */
static void *pending_waiter(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));
	w->ret = gil_check(ts);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_pending(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil, .ret = -1 };
	struct sigaction sa = { .sa_handler = pending_handler };
	int r;

	CHECK_OK(gil_acquire(ts));
	CHECK_RET(gil_check(ts), 0);
	CHECK_OK(gil_set_pending(gil));
	CHECK(*gil_eval_breaker(gil) & GIL_EVAL_BREAKER_PENDING);
	CHECK(!gil_drop_requested(ts));		/* not a drop request */
	for (int i = 0; i < 3; i++)		/* until cleared */
		CHECK_RET(gil_check(ts), GIL_CHECK_PENDING);
	CHECK_OK(gil_clear_pending(gil));
	CHECK_RET(gil_check(ts), 0);

	/* From a signal handler, to an eval loop polling gil_check. */
	pending_gil = gil;
	CHECK_CMP(sigaction(SIGALRM, &sa, NULL), ==, 0);
	CHECK_CMP(ualarm(20000, 0), >=, 0);
	SPIN_UNTIL((r = gil_check(ts)) != 0, 5000);
	CHECK_RET(r, GIL_CHECK_PENDING);

	/*
	 * A forced switch posts and withdraws a drop request on the same
	 * word: the pending bit stays, for the new holder and back.
	 */
	set_interval(gil, 1e-3);
	w.thread = start_thread(pending_waiter, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	SPIN_UNTIL((r = gil_check(ts)) & GIL_CHECK_YIELDED, 5000);
	CHECK_RET(r, GIL_CHECK_YIELDED | GIL_CHECK_PENDING);
	join_thread(w.thread);
	CHECK_RET(w.ret, GIL_CHECK_PENDING);
	CHECK_RET(gil_check(ts), GIL_CHECK_PENDING);
	CHECK_OK(gil_clear_pending(gil));
	CHECK_RET(gil_check(ts), 0);
	CHECK_OK(gil_release(ts));
	/* The thread state keeps the closed GIL's memory for these. */
	close_gil(gil);
	CHECK_RET(gil_set_pending(gil), -EBADF);
	CHECK_RET(gil_clear_pending(gil), -EBADF);
	free_tstate(ts);
}

/* ------------------------------------------------------------------ */
/* GIL_BEGIN/END_ALLOW_THREADS around a blocking read; errno survives. */

static int at_pipe[2];
static int at_written;		/* under the GIL */

static void *at_writer(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	char c = 'x';

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));	/* only while the reader blocks */
	CHECK_CMP(write(at_pipe[1], &c, 1), ==, 1);
	at_written = 1;
	sleep_ms(20);			/* keep it: the reader must wait */
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_allow_threads(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	ssize_t n;
	char c;

	set_interval(gil, 1e-3);
	CHECK_CMP(pipe(at_pipe), ==, 0);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(at_writer, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);

	errno = EXDEV;
	GIL_BEGIN_ALLOW_THREADS(ts)
	CHECK_CMP(errno, ==, EXDEV);
	n = read(at_pipe[0], &c, 1);
	errno = EXDEV;
	GIL_END_ALLOW_THREADS(ts)
	CHECK_CMP(errno, ==, EXDEV);	/* libgil never sets errno */
	CHECK_CMP(n, ==, 1);
	CHECK_CMP(at_written, ==, 1);
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* END took it again */
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	close(at_pipe[0]);
	close(at_pipe[1]);
	free_tstate(ts);
	close_gil(gil);
}

/* A GIL closed between the macros: the _RET form reports it. */
static void test_allow_threads_ret(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	int ret = 1;

	CHECK_OK(gil_acquire(ts));
	GIL_BEGIN_ALLOW_THREADS(ts)
	GIL_END_ALLOW_THREADS_RET(ts, ret)
	CHECK_RET(ret, 0);
	CHECK(gil_held(gil));
	GIL_BEGIN_ALLOW_THREADS(ts)
	CHECK(!gil_held(gil));
	CHECK_OK(gil_close(gil));
	GIL_END_ALLOW_THREADS_RET(ts, ret)
	CHECK_RET(ret, -EBADF);
	CHECK_OK(gil_tstate_free(ts));
}

/* ------------------------------------------------------------------ */
/* gil_ensure / gil_ensure_release. */

static void *ensure_thread(void *arg)
{
	struct worker *w = arg;
	struct gil *gil = w->gil;
	struct gil_tstate *ts;
	struct gil_stats s0, s1;
	int refs = atomic_load(&gil->refs);
	int outer, inner;

	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EINVAL);
	get_stats(gil, &s0);
	outer = gil_ensure(gil);
	CHECK_RET(outer, GIL_ENSURE_UNLOCKED);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs + 1);	/* its tstate */
	inner = gil_ensure(gil);
	CHECK_RET(inner, GIL_ENSURE_LOCKED);
	CHECK_RET(gil_ensure(gil), GIL_ENSURE_LOCKED);
	CHECK_OK(gil_ensure_release(gil, GIL_ENSURE_LOCKED));
	CHECK_OK(gil_ensure_release(gil, (enum gil_ensure_state)inner));
	get_stats(gil, &s1);
	CHECK_CMP(s1.acquisitions, ==, s0.acquisitions + 1);
	CHECK_CMP(s1.voluntary_releases + s1.forced_switches, ==,
		  s0.voluntary_releases + s0.forced_switches);
	/* Its thread state is attached to this thread. */
	{
		struct gil_tstate *other;

		CHECK_OK(gil_tstate_new(gil, &other));
		CHECK_RET(gil_tstate_attach(other), -EEXIST);
		CHECK_OK(gil_tstate_free(other));
	}
	CHECK_OK(gil_ensure_release(gil, (enum gil_ensure_state)outer));
	get_stats(gil, &s1);
	CHECK_CMP(s1.voluntary_releases + s1.forced_switches, ==,
		  s0.voluntary_releases + s0.forced_switches + 1);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs);	/* freed */
	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EINVAL);

	/* The thread has no thread state left: it can attach a new one. */
	ts = new_tstate(gil);
	CHECK_OK(gil_acquire(ts));
	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_LOCKED), -EINVAL);
	/* A thread with its own thread state, holding the GIL. */
	CHECK_RET(gil_ensure(gil), GIL_ENSURE_LOCKED);
	CHECK_OK(gil_ensure_release(gil, GIL_ENSURE_LOCKED));
	CHECK_RET(gil_acquire(ts), -EDEADLK);
	CHECK_OK(gil_release(ts));
	/* ... and not holding it: ensure takes it, its release drops it. */
	CHECK_RET(gil_ensure(gil), GIL_ENSURE_UNLOCKED);
	CHECK_RET(gil_acquire(ts), -EDEADLK);
	CHECK_OK(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED));
	CHECK_RET(gil_release(ts), -EPERM);
	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EINVAL);
	/* The thread state is still ours. */
	CHECK_OK(gil_acquire(ts));
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs);
	atomic_store(&w->done, 1);
	return NULL;
}

/* Nested ensure from a thread that has no thread state, while another
 * thread holds the GIL at first. */
static void *ensure_nested_thread(void *arg)
{
	struct worker *w = arg;
	int a, b;

	atomic_store(&w->started, 1);
	a = gil_ensure(w->gil);		/* waits for the main thread */
	CHECK_RET(a, GIL_ENSURE_UNLOCKED);
	w->count++;			/* under the GIL */
	b = gil_ensure(w->gil);
	CHECK_RET(b, GIL_ENSURE_LOCKED);
	CHECK_OK(gil_ensure_release(w->gil, (enum gil_ensure_state)b));
	CHECK_OK(gil_ensure_release(w->gil, (enum gil_ensure_state)a));
	CHECK_RET(gil_ensure_release(w->gil, (enum gil_ensure_state)a),
		  -EINVAL);
	return NULL;
}

static void test_ensure(void)
{
	struct gil *gil = open_gil();
	struct worker w = { .gil = gil };
	struct gil_tstate *ts;

	w.thread = start_thread(ensure_thread, &w);
	join_thread(w.thread);
	CHECK(atomic_load(&w.done));

	/* Contended: the nested ensure waits for the main thread. */
	ts = new_tstate(gil);
	set_interval(gil, 10.0);
	CHECK_OK(gil_acquire(ts));
	w = (struct worker){ .gil = gil };
	w.thread = start_thread(ensure_nested_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	sleep_ms(20);
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(w.count, ==, 1);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	CHECK_CMP(atomic_load(&gil->refs), ==, 1);	/* every tstate freed */
	close_gil(gil);
}

/*
 * Code under gil_ensure() finds its thread state with gil_tstate_current()
 * and answers drop requests through it: a waiter gets the GIL within a few
 * intervals, where it waited for the whole ensure without.
 */
static void *current_waiter(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	CHECK(gil_tstate_current(w->gil) == ts);
	CHECK(!gil_held(w->gil));
	atomic_store(&w->started, 1);
	w->t = now_ns();
	CHECK_OK(gil_acquire(ts));
	w->t = now_ns() - w->t;
	CHECK(gil_held(w->gil));
	atomic_store(&w->done, 1);
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	return NULL;
}

static void test_tstate_current(void)
{
	struct gil *gil = open_gil();
	struct worker w = { .gil = gil };
	struct gil_tstate *ts, *mine;
	int64_t t0;

	CHECK(!gil_tstate_current(gil));
	CHECK(!gil_held(gil));
	CHECK_RET(gil_ensure(gil), GIL_ENSURE_UNLOCKED);
	ts = gil_tstate_current(gil);
	CHECK(ts);
	CHECK(gil_held(gil));
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* the ensure's own */

	set_interval(gil, 5e-3);
	w.thread = start_thread(current_waiter, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	t0 = now_ns();
	/* An eval loop under gil_ensure, its safe points reaching ts. */
	while (!atomic_load(&w.done) && now_ns() - t0 < 5 * NSEC_PER_SEC) {
		int r = gil_check(gil_tstate_current(gil));

		CHECK(r == 0 || r == 1);
	}
	CHECK(atomic_load(&w.done));
	CHECK(gil_held(gil));
	CHECK_OK(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED));
	join_thread(w.thread);
	test_diag("the waiter waited %.1f ms at a 5 ms interval", w.t / 1e6);
	/* gil_ensure's thread state went with its release. */
	CHECK(!gil_tstate_current(gil));
	CHECK(!gil_held(gil));

	mine = new_tstate(gil);
	CHECK(gil_tstate_current(gil) == mine);
	CHECK_OK(gil_acquire(mine));
	CHECK(gil_held(gil));
	CHECK_OK(gil_release(mine));
	CHECK(!gil_held(gil));
	CHECK_OK(gil_tstate_detach(mine));
	CHECK(!gil_tstate_current(gil));
	CHECK_OK(gil_tstate_attach(mine));
	CHECK_OK(gil_acquire(mine));
	close_gil(gil);
	CHECK(!gil_tstate_current(gil));
	CHECK(!gil_held(gil));
	CHECK_OK(gil_tstate_free(mine));
}

/* ------------------------------------------------------------------ */
/* Versions: of the library, and of the module's ABI. */

static void test_versions(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	unsigned int major = 0, minor = 0;

	CHECK_CMP(gil_version_major(), ==, GIL_VERSION_MAJOR);
	CHECK_CMP(gil_version_minor(), ==, GIL_VERSION_MINOR);
	CHECK_OK(gil_check_version(GIL_VERSION_MAJOR, GIL_VERSION_MINOR));
	CHECK_OK(gil_check_version(GIL_VERSION_MAJOR, 0));
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR, GIL_VERSION_MINOR + 1),
		  -ENOTSUP);
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR + 1, 0), -ENOTSUP);
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR - 1, GIL_VERSION_MINOR),
		  -ENOTSUP);
	if (gil_backend(gil) == GIL_BACKEND_KERNEL) {
		CHECK_OK(gil_kernel_abi(gil, &major, &minor));
		CHECK_CMP(major, ==, GIL_ABI_MAJOR);
		CHECK_CMP(minor, ==, GIL_ABI_MINOR);
	} else {
		CHECK_RET(gil_kernel_abi(gil, &major, &minor), -EOPNOTSUPP);
	}
	/* The thread state keeps the closed GIL's memory for this. */
	close_gil(gil);
	CHECK_RET(gil_kernel_abi(gil, &major, &minor), -EBADF);
	free_tstate(ts);
}

/* ------------------------------------------------------------------ */
/* The switch interval: sys.setswitchinterval's rules. */

static int64_t interval_us(struct gil *gil)
{
	double s = -1;

	CHECK_OK(gil_get_switch_interval(gil, &s));
	return (int64_t)(s * 1e6 + 0.5);	/* no libm: s >= 0 */
}

static void test_interval(void)
{
	struct gil *gil = open_gil();
	double s = 0;

	CHECK_OK(gil_get_switch_interval(gil, &s));
	CHECK(s == 0.005);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_DEFAULT_US);

	CHECK_RET(gil_set_switch_interval(gil, 0.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -0.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -1.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -INFINITY), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, NAN), -EINVAL);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_DEFAULT_US);

	CHECK_OK(gil_set_switch_interval(gil, 1e-9));	/* CPython: 0, waits 1 us */
	CHECK_CMP(interval_us(gil), ==, 1);
	CHECK_OK(gil_set_switch_interval(gil, 2.5e-6));	/* truncated */
	CHECK_CMP(interval_us(gil), ==, 2);
	CHECK_OK(gil_get_switch_interval(gil, &s));
	CHECK(s == 2e-6);
	CHECK_OK(gil_set_switch_interval(gil, 0.0123456789));
	CHECK_CMP(interval_us(gil), ==, 12345);
	CHECK_OK(gil_set_switch_interval(gil, 1.0));
	CHECK_CMP(interval_us(gil), ==, 1000000);

	CHECK_OK(gil_set_switch_interval(gil, GIL_INTERVAL_MAX_US / 1e6));
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_MAX_US);
	CHECK_RET(gil_set_switch_interval(gil, (GIL_INTERVAL_MAX_US + 1) / 1e6),
		  -ERANGE);
	CHECK_RET(gil_set_switch_interval(gil, 1e300), -ERANGE);
	CHECK_RET(gil_set_switch_interval(gil, INFINITY), -ERANGE);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_MAX_US);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* Handoff policies: the kernel backend has all three, the others one. */

static void test_policy(void)
{
	static const int own_policy[] = {
		[GIL_BACKEND_CPYTHON] = GIL_POLICY_CPYTHON,
		[GIL_BACKEND_FUTEX] = GIL_POLICY_FIFO,
	};
	struct gil *gil = open_gil();
	bool kernel = gil_backend(gil) == GIL_BACKEND_KERNEL;
	int own = gil_get_policy(gil);

	if (!kernel)
		CHECK_CMP(own, ==, own_policy[gil_backend(gil)]);
	for (unsigned int p = 0; p < GIL_POLICY_COUNT; p++) {
		CHECK_CMP(gil_policy_from_name(gil_policy_name(p)), ==, (int)p);
		if (kernel) {
			CHECK_OK(gil_set_policy(gil, p));
			CHECK_CMP(gil_get_policy(gil), ==, (int)p);
		} else {
			CHECK_RET(gil_set_policy(gil, p),
				  (int)p == own ? 0 : -EOPNOTSUPP);
			CHECK_CMP(gil_get_policy(gil), ==, own);
		}
	}
	CHECK_RET(gil_set_policy(gil, GIL_POLICY_COUNT), -EINVAL);
	CHECK_RET(gil_set_policy(gil, ~0u), -EINVAL);
	CHECK(!gil_policy_name(GIL_POLICY_COUNT));
	CHECK_RET(gil_policy_from_name("bogus"), -EINVAL);
	CHECK_RET(gil_policy_from_name(NULL), -EINVAL);
	close_gil(gil);
}

/* ------------------------------------------------------------------ */
/* Error codes. */

struct foreign {
	struct gil_tstate *ts;
	int acquire, release, yield, detach, free;
};

static void *foreign_thread(void *arg)
{
	struct foreign *f = arg;

	f->acquire = gil_acquire(f->ts);
	f->release = gil_release(f->ts);
	f->yield = gil_yield(f->ts);
	f->detach = gil_tstate_detach(f->ts);
	f->free = gil_tstate_free(f->ts);
	return NULL;
}

static void test_errors(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil), *ts2;
	struct foreign f;
	pthread_t t;

	/* Not holding. */
	CHECK_RET(gil_release(ts), -EPERM);
	CHECK_RET(gil_yield(ts), -EPERM);
	/* Holding. */
	CHECK_OK(gil_acquire(ts));
	CHECK_RET(gil_acquire(ts), -EDEADLK);
	CHECK_RET(gil_tstate_detach(ts), -EBUSY);
	CHECK_RET(gil_tstate_free(ts), -EBUSY);
	CHECK_OK(gil_release(ts));
	CHECK_RET(gil_release(ts), -EPERM);

	/* One thread state per thread and GIL; one thread per tstate. */
	CHECK_OK(gil_tstate_new(gil, &ts2));
	CHECK_RET(gil_tstate_attach(ts2), -EEXIST);
	CHECK_RET(gil_tstate_attach(ts), -EBUSY);
	/* Not attached. */
	CHECK_RET(gil_acquire(ts2), -EUNATCH);
	CHECK_RET(gil_release(ts2), -EUNATCH);
	CHECK_RET(gil_yield(ts2), -EUNATCH);
	CHECK_RET(gil_tstate_detach(ts2), -EUNATCH);
	CHECK_OK(gil_tstate_free(ts2));

	/* Another thread's thread state, held or not. */
	f = (struct foreign){ .ts = ts };
	t = start_thread(foreign_thread, &f);
	join_thread(t);
	CHECK_RET(f.acquire, -EPERM);
	CHECK_RET(f.release, -EPERM);
	CHECK_RET(f.yield, -EPERM);
	CHECK_RET(f.detach, -EPERM);
	CHECK_RET(f.free, -EBUSY);
	CHECK_OK(gil_acquire(ts));
	f = (struct foreign){ .ts = ts };
	t = start_thread(foreign_thread, &f);
	join_thread(t);
	CHECK_RET(f.acquire, -EPERM);
	CHECK_RET(f.release, -EPERM);
	CHECK_RET(f.yield, -EPERM);
	CHECK_RET(f.detach, -EPERM);
	CHECK_RET(f.free, -EBUSY);
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* still ours, still held */
	CHECK_OK(gil_release(ts));

	/* Detached, it can be attached again, here or elsewhere. */
	CHECK_OK(gil_tstate_detach(ts));
	CHECK_RET(gil_tstate_detach(ts), -EUNATCH);
	CHECK_RET(gil_acquire(ts), -EUNATCH);
	CHECK_OK(gil_tstate_attach(ts));
	CHECK_OK(gil_acquire(ts));
	CHECK_OK(gil_release(ts));
	free_tstate(ts);
	CHECK_RET(gil_backend_from_name("no such backend"), -EINVAL);
	CHECK_RET(gil_backend_from_name(test_backend), gil_backend(gil));
	close_gil(gil);
}

/* Every call fails with -EBADF after gil_close. */
static void test_closed(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil), *ts2, *ts3;
	struct gil_stats st;
	double s;

	CHECK_OK(gil_tstate_new(gil, &ts2));	/* never attached */
	CHECK_OK(gil_tstate_new(gil, &ts3));
	CHECK_OK(gil_acquire(ts));
	CHECK_OK(gil_close(gil));
	CHECK_RET(gil_close(gil), -EBADF);
	CHECK_RET(gil_release(ts), -EBADF);
	CHECK_RET(gil_yield(ts), -EBADF);
	CHECK_RET(gil_acquire(ts), -EBADF);
	CHECK_RET(gil_tstate_detach(ts), -EBADF);
	CHECK_RET(gil_tstate_attach(ts2), -EBADF);
	CHECK_RET(gil_acquire(ts2), -EBADF);
	CHECK_RET(gil_tstate_new(gil, &ts3), -EBADF);
	CHECK_RET(gil_ensure(gil), -EBADF);
	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EBADF);
	CHECK_RET(gil_set_switch_interval(gil, 0.01), -EBADF);
	CHECK_RET(gil_get_switch_interval(gil, &s), -EBADF);
	CHECK_RET(gil_get_stats(gil, &st), -EBADF);
	CHECK_RET(gil_set_policy(gil, GIL_POLICY_CPYTHON), -EBADF);
	CHECK_RET(gil_get_policy(gil), -EBADF);
	CHECK(!gil_drop_requested(ts));		/* the word is still there */
	/* Thread states can still be freed, attached or not. */
	CHECK_OK(gil_tstate_free(ts));
	CHECK_OK(gil_tstate_free(ts2));
	CHECK_OK(gil_tstate_free(ts3));
}

/* Threads blocked in gil_acquire fail promptly with -EBADF on close. */
static void *close_waiter(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);

	atomic_store(&w->started, 1);
	w->ret = gil_acquire(ts);
	w->t = now_ns();
	free_tstate(ts);	/* after close: freed attached */
	return NULL;
}

/*
 * @interval: long, so that only the close can end their waits; or short,
 * so that they post drop requests first.
 */
static void close_waiters(double interval)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w[3];
	int64_t t0;

	set_interval(gil, interval);
	CHECK_OK(gil_acquire(ts));
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){ .gil = gil, .id = i };
		w[i].thread = start_thread(close_waiter, &w[i]);
	}
	for (int i = 0; i < 3; i++)
		SPIN_UNTIL(atomic_load(&w[i].started), 5000);
	if (interval < 0.1)
		SPIN_UNTIL(gil_drop_requested(ts), 5000);
	sleep_ms(50);		/* let them all block */
	t0 = now_ns();
	CHECK_OK(gil_close(gil));
	for (int i = 0; i < 3; i++) {
		join_thread(w[i].thread);
		CHECK_RET(w[i].ret, -EBADF);
		CHECK_CMP(w[i].t - t0, <, 2 * NSEC_PER_SEC);
	}
	CHECK_RET(gil_release(ts), -EBADF);
	CHECK_OK(gil_tstate_free(ts));
}

static void test_close_wakes_waiters(void)
{
	close_waiters(60.0);
	close_waiters(1e-3);
}

/* Close while threads acquire, yield and release as fast as they can. */
static void *busy_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	int r;

	atomic_store(&w->started, 1);
	for (;;) {
		r = gil_acquire(ts);
		if (r == -EBADF)
			break;
		CHECK_OK(r);
		for (int i = 0; i < 20 && r >= 0; i++)
			r = gil_check(ts);
		if (r == -EBADF)
			break;
		CHECK(r >= 0);
		r = gil_release(ts);
		if (r == -EBADF)
			break;
		CHECK_OK(r);
	}
	w->t = now_ns();
	free_tstate(ts);
	return NULL;
}

static void test_close_race(void)
{
	for (int round = 0; round < 20; round++) {
		struct gil *gil = open_gil();
		struct worker w[3];
		int64_t t0;

		set_interval(gil, round % 2 ? 1e-6 : 100e-6);
		for (int i = 0; i < 3; i++) {
			w[i] = (struct worker){ .gil = gil, .id = i };
			w[i].thread = start_thread(busy_thread, &w[i]);
		}
		for (int i = 0; i < 3; i++)
			SPIN_UNTIL(atomic_load(&w[i].started), 5000);
		sleep_us_(round * 100);
		t0 = now_ns();
		CHECK_OK(gil_close(gil));
		for (int i = 0; i < 3; i++) {
			join_thread(w[i].thread);
			CHECK_CMP(w[i].t - t0, <, 2 * NSEC_PER_SEC);
		}
	}
}

/* ------------------------------------------------------------------ */
/* Statistics. */

static atomic_long st_acquires, st_releases;

static void *stats_thread(void *arg)
{
	struct worker *w = arg;
	struct gil_tstate *ts = new_tstate(w->gil);
	long acquires = 0, releases = 0;

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(ts));	/* blocks: the main thread holds it */
	acquires++;
	for (int i = 0; i < 200; i++) {
		for (int j = 0; j < 100; j++) {
			int r = gil_check(ts);

			CHECK(r == 0 || r == 1);
			acquires += r;
			releases += r;
		}
		CHECK_OK(gil_release(ts));
		releases++;
		CHECK_OK(gil_acquire(ts));
		acquires++;
	}
	CHECK_OK(gil_yield(ts));
	acquires++;
	releases++;
	CHECK_OK(gil_release(ts));
	releases++;
	free_tstate(ts);
	atomic_fetch_add(&st_acquires, acquires);
	atomic_fetch_add(&st_releases, releases);
	return NULL;
}

static void test_stats(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct gil_stats st;
	struct worker w[3];
	static const struct gil_stats zero;

	memset(&st, 0xa5, sizeof(st));
	get_stats(gil, &st);
	CHECK_CMP(st.size, ==, sizeof(st));
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	st.size = 0;
	st.hist_buckets = 0;
	CHECK(!memcmp(&st, &zero, sizeof(st)));	/* a new GIL: all zero */

	set_interval(gil, 100e-6);
	CHECK_OK(gil_acquire(ts));
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){ .gil = gil, .id = i };
		w[i].thread = start_thread(stats_thread, &w[i]);
	}
	for (int i = 0; i < 3; i++)
		SPIN_UNTIL(atomic_load(&w[i].started), 5000);
	sleep_ms(50);		/* they wait: contention */
	CHECK_OK(gil_release(ts));
	for (int i = 0; i < 3; i++)
		join_thread(w[i].thread);

	get_stats(gil, &st);
	CHECK_CMP(st.acquisitions, ==, atomic_load(&st_acquires) + 1);
	CHECK_CMP(st.voluntary_releases + st.forced_switches, ==,
		  atomic_load(&st_releases) + 1);
	CHECK_CMP(st.contended, >=, 1);
	CHECK_CMP(st.contended, <=, st.acquisitions);
	CHECK_CMP(st.wait_ns, >, 0);
	CHECK_CMP(hist_sum(&st), >=, 1);
	CHECK_CMP(hist_sum(&st), <=, st.contended);
	CHECK_CMP(st.switch_number, >=, 4);
	CHECK_CMP(st.switch_number, <=, st.acquisitions);
	CHECK_CMP(st.forced_switches, <=, st.drop_requests);
	CHECK_CMP(st.owner_deaths, ==, 0);
	free_tstate(ts);
	close_gil(gil);
}

/*
 * fork() while we hold the GIL and another thread waits (what os.fork()
 * does): the child's GIL is a new one, held by the forking thread, with the
 * interval and policy it had; a thread of the child takes part in it; the
 * parent's GIL is as it was, and its waiter gets it when we release.
 */
static int fork_child(struct gil *gil, struct gil_tstate *ts, int policy)
{
	struct worker w = { .gil = gil };
	struct gil_stats st;
	double interval;

	if (gil_after_fork_child(ts))
		return 2;
	if (gil_get_switch_interval(gil, &interval) || interval != 0.25)
		return 3;
	if (gil_get_policy(gil) != policy)
		return 4;
	if (gil_get_stats(gil, &st) || st.acquisitions > 1 || st.contended)
		return 5;
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer cannot start threads after a multi-threaded fork. */
	return gil_release(ts) || gil_acquire(ts) || gil_release(ts) ? 9 : 0;
#endif
	/* It holds the new GIL: a thread of the child waits for it. */
	w.thread = start_thread(acquire_once_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	sleep_ms(20);
	if (atomic_load(&w.done))
		return 6;
	if (gil_release(ts))
		return 7;
	join_thread(w.thread);
	if (w.count != 1 || gil_acquire(ts) || gil_release(ts))
		return 8;
	return 0;
}

static void test_fork(void)
{
	struct gil *gil = open_gil();
	struct gil_tstate *ts = new_tstate(gil);
	struct worker w = { .gil = gil };
	int policy = gil_get_policy(gil), status;
	pid_t pid;

	set_interval(gil, 0.25);
	CHECK_OK(gil_acquire(ts));
	w.thread = start_thread(acquire_once_thread, &w);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	sleep_ms(10);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fork_child(gil, ts, policy));
	CHECK_CMP(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status));
	CHECK_CMP(WEXITSTATUS(status), ==, 0);
	/* Ours held on all along, with the waiter waiting. */
	CHECK(!atomic_load(&w.done));
	CHECK_OK(gil_release(ts));
	join_thread(w.thread);
	CHECK_CMP(w.count, ==, 1);
	free_tstate(ts);
	close_gil(gil);
}

static const struct test_case cases[] = {
	{ "mutual exclusion under contention", test_mutual_exclusion },
	{ "drop request only after the interval", test_drop_request_timing },
	{ "a new holder gets a whole interval", test_new_holder_interval },
	{ "signals neither fail nor delay a waiter", test_signals },
	{ "forced switch handshake", test_forced_switch },
	{ "forced release returns after another thread took the GIL",
	  test_forced_release },
	{ "forced switch handshake, three threads", test_forced_switch_three },
	{ "switch_number counts changes of owner", test_switch_number },
	{ "switch_number under contention matches the log",
	  test_switch_number_contended },
	{ "1 us interval storm", test_storm },
	{ "voluntary release never blocks", test_voluntary_release },
	{ "yield with no request pending", test_yield_unrequested },
	{ "acquirer clears the drop request", test_acquirer_clears },
	{ "gil_check", test_gil_check },
	{ "the pending bit: set, seen by every holder, kept by drop requests",
	  test_pending },
	{ "allow threads around a blocking read", test_allow_threads },
	{ "GIL_END_ALLOW_THREADS_RET reports the acquire's result",
	  test_allow_threads_ret },
	{ "gil_ensure and gil_ensure_release", test_ensure },
	{ "gil_tstate_current and gil_held reach gil_ensure's thread state",
	  test_tstate_current },
	{ "library and module versions", test_versions },
	{ "switch interval validation", test_interval },
	{ "handoff policies", test_policy },
	{ "error codes", test_errors },
	{ "every call fails with EBADF after close", test_closed },
	{ "close wakes blocked acquirers with EBADF",
	  test_close_wakes_waiters },
	{ "close racing with busy threads", test_close_race },
	{ "statistics", test_stats },
	{ "fork: the child gets a new GIL, the forking thread holding it",
	  test_fork },
};

int main(int argc, char **argv)
{
	return test_main(argc, argv, cases, ARRAY_SIZE(cases));
}
