// SPDX-License-Identifier: MIT
/* A drop request appears only after a whole interval of waiting. */
#include <signal.h>
#include <stdlib.h>

#include "conformance.h"

void test_drop_request_timing(void)
{
	const int64_t interval_ms = 20;
	struct fixture fx;
	struct worker *w;
	struct gil_stats st;
	int64_t t0, t1;

	fx_setup(&fx, interval_ms * 1e-3, FX_HOLD);

	/* Alone, the holder is never asked. */
	t0 = t_now_ns();
	while (t_now_ns() - t0 < 3 * interval_ms * T_NSEC_PER_MSEC)
		CHECK(!gil_drop_requested(fx.ts));

	w = fx_start(&fx, 1, acquire_once_thread);
	fx_wait_started(&fx);
	t0 = w->t;	/* taken before its gil_acquire */
	SPIN_UNTIL(gil_drop_requested(fx.ts), 8000);
	t1 = t_now_ns();
	CHECK_CMP(t1 - t0, >=, interval_ms * T_NSEC_PER_MSEC);
	CHECK_CMP(t1 - t0, <, interval_ms * T_NSEC_PER_MSEC + 5 * T_NSEC_PER_SEC);
	CHECK(!atomic_load(&w->done));

	/* Answering it lets the waiter in before the holder is back. */
	CHECK_RET(gil_check(fx.ts), 1);
	CHECK(atomic_load(&w->done));
	CHECK_CMP(w->count, ==, 1);
	t_gil_get_stats(fx.gil, &st);
	CHECK_CMP(st.drop_requests, >=, 1);
	CHECK_CMP(st.forced_switches, >=, 1);
	CHECK_OK(gil_release(fx.ts));
	fx_teardown(&fx);
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

void test_signals(void)
{
	const int64_t interval_ms = 20;
	struct fixture fx;
	struct worker *w;
	struct sigaction sa = { .sa_handler = sig_handler };	/* no SA_RESTART */
	int64_t t0, next;

	sigemptyset(&sa.sa_mask);
	CHECK_CMP(sigaction(SIGUSR1, &sa, NULL), ==, 0);
	fx_setup(&fx, interval_ms * 1e-3, FX_HOLD);
	w = fx_start(&fx, 1, acquire_once_thread);
	fx_wait_started(&fx);
	t0 = w->t;
	next = t_now_ns();
	/* At least one signal, even if this thread ran late and the request
	 * is already there. */
	do {
		if (t_now_ns() >= next) {
			CHECK_OK(-pthread_kill(w->thread, SIGUSR1));
			next = t_now_ns() + 2 * T_NSEC_PER_MSEC;
		}
		CHECK_CMP(t_now_ns() - t0, <, 5 * T_NSEC_PER_SEC);
	} while (!gil_drop_requested(fx.ts));
	CHECK_CMP(t_now_ns() - t0, >=, interval_ms * T_NSEC_PER_MSEC);
	CHECK_RET(gil_check(fx.ts), 1);
	CHECK(atomic_load(&w->done));
	CHECK_OK(gil_release(fx.ts));
	fx_join(&fx);
	CHECK_OK(w->ret);		/* not EINTR */
	CHECK_CMP(atomic_load(&sig_count), >=, 1);
	fx_teardown(&fx);
}

/*
 * A new holder gets a whole interval: a wait during which the GIL changed
 * hands does not post (CPython's switch_number rule), so the request comes
 * at least one interval after the change.
 */
static atomic_int nh_first;
static int64_t nh_requested;	/* written by the first acquirer */

static void nh_thread(struct worker *w)
{
	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(w->ts));
	if (!atomic_exchange(&nh_first, 1)) {
		SPIN_UNTIL(gil_drop_requested(w->ts), 8000);
		nh_requested = t_now_ns();
		w->count = 1;
	}
	CHECK_OK(gil_release(w->ts));
}

/* 1 if it checked, 0 if the host was too slow to set the scene. */
static int new_holder_interval(void)
{
	const int64_t interval_ms = 100;
	struct fixture fx;
	int64_t t_rel;
	bool pending;

	atomic_store(&nh_first, 0);
	nh_requested = 0;
	fx_setup(&fx, interval_ms * 1e-3, FX_HOLD);
	fx_start(&fx, 2, nh_thread);
	fx_wait_started(&fx);
	/* Both wait; half an interval on, hand over with nothing pending. */
	t_sleep_ms(interval_ms / 2);
	t_rel = t_now_ns();
	pending = gil_drop_requested(fx.ts);	/* slept far too long */
	CHECK_OK(gil_release(fx.ts));
	CHECK_CMP(fx_join(&fx), ==, 1);
	if (getenv("GIL_TEST_VERBOSE"))
		t_diag("new holder asked %.1f ms after the release",
			  (double)(nh_requested - t_rel) / T_NSEC_PER_MSEC);
	if (!pending) {
		/* Not when the other waiter's first wait ends. */
		CHECK_CMP(nh_requested - t_rel, >=,
			  interval_ms * T_NSEC_PER_MSEC);
		CHECK_CMP(nh_requested - t_rel, <,
			  3 * interval_ms * T_NSEC_PER_MSEC + 5 * T_NSEC_PER_SEC);
	}
	fx_teardown(&fx);
	return !pending;
}

void test_new_holder_interval(void)
{
	for (int i = 0; i < 3; i++) {
		if (new_holder_interval())
			return;
		t_diag("host too slow for the scene, again");
	}
	T_FAIL("could not set the scene");
}
