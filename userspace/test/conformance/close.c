// SPDX-License-Identifier: MIT
/* gil_close: what every call returns after it, and the threads it ends. */
#include "conformance.h"

/* Every call fails with -EBADF after gil_close. */
void test_closed(void)
{
	struct fixture fx;
	struct gil *gil;
	struct gil_tstate *ts, *ts2, *ts3;
	struct gil_stats st;
	unsigned int options;
	double s;

	fx_setup(&fx, 0, FX_GIL);	/* the thread states are the case's */
	gil = fx.gil;
	ts = t_gil_tstate_new(gil);
	CHECK_OK(gil_tstate_new(gil, &ts2));	/* never attached */
	CHECK_OK(gil_tstate_new(gil, &ts3));
	CHECK_OK(gil_acquire(ts));
	fx_close_gil(&fx);
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
	CHECK_RET(gil_set_options(gil, 0), -EBADF);
	CHECK_RET(gil_get_options(gil, &options), -EBADF);
	CHECK(!gil_drop_requested(ts));		/* the word is still there */
	/* Thread states can still be freed, attached or not. */
	CHECK_OK(gil_tstate_free(ts));
	CHECK_OK(gil_tstate_free(ts2));
	CHECK_OK(gil_tstate_free(ts3));
	fx_teardown(&fx);
}

/*
 * Threads blocked in gil_acquire fail promptly with -EBADF on close; their
 * thread states are freed after it, attached.
 */
static void close_waiter(struct worker *w)
{
	atomic_store(&w->started, 1);
	w->ret = gil_acquire(w->ts);
	w->t = t_now_ns();
}

/*
 * @interval: long, so that only the close can end their waits; or short,
 * so that they post drop requests first.
 */
static void close_waiters(double interval)
{
	struct fixture fx;
	int64_t t0;

	fx_setup(&fx, interval, FX_HOLD);
	fx_start(&fx, 3, close_waiter);
	fx_wait_started(&fx);
	if (interval < 0.1)
		SPIN_UNTIL(gil_drop_requested(fx.ts), 5000);
	t_sleep_ms(50);		/* let them all block */
	t0 = t_now_ns();
	fx_close_gil(&fx);
	fx_join(&fx);
	for (int i = 0; i < 3; i++) {
		CHECK_RET(fx.w[i].ret, -EBADF);
		CHECK_CMP(fx.w[i].t - t0, <, 2 * T_NSEC_PER_SEC);
	}
	CHECK_RET(gil_release(fx.ts), -EBADF);
	fx_teardown(&fx);
}

void test_close_wakes_waiters(void)
{
	close_waiters(60.0);
	close_waiters(1e-3);
}

/* Close while threads acquire, yield and release as fast as they can. */
static void busy_thread(struct worker *w)
{
	int r;

	atomic_store(&w->started, 1);
	for (;;) {
		r = gil_acquire(w->ts);
		if (r == -EBADF)
			break;
		CHECK_OK(r);
		for (int i = 0; i < 20 && r >= 0; i++)
			r = gil_check(w->ts);
		if (r == -EBADF)
			break;
		CHECK(r >= 0);
		r = gil_release(w->ts);
		if (r == -EBADF)
			break;
		CHECK_OK(r);
	}
	w->t = t_now_ns();
}

void test_close_race(void)
{
	for (int round = 0; round < 20; round++) {
		struct fixture fx;
		int64_t t0;

		fx_setup(&fx, round % 2 ? 1e-6 : 100e-6, FX_GIL);
		fx_start(&fx, 3, busy_thread);
		fx_wait_started(&fx);
		t_sleep_us(round * 100);
		t0 = t_now_ns();
		fx_close_gil(&fx);
		fx_join(&fx);
		for (int i = 0; i < 3; i++)
			CHECK_CMP(fx.w[i].t - t0, <, 2 * T_NSEC_PER_SEC);
		fx_teardown(&fx);
	}
}
