// SPDX-License-Identifier: MIT
/*
 * Releases: with no request pending one never blocks, nor does a yield;
 * the acquirer clears the drop request; gil_check answers it.
 */
#include "conformance.h"

void test_voluntary_release(void)
{
	struct fixture fx;
	struct worker *w;
	struct gil_stats s1, s2;
	int64_t t;

	fx_setup(&fx, 10.0, FX_HOLD);	/* no drop request in this case */
	t_gil_get_stats(fx.gil, &s1);
	CHECK_OK(gil_release(fx.ts));
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);

	/* With a thread waiting, too. */
	CHECK_OK(gil_acquire(fx.ts));
	w = fx_start(&fx, 1, acquire_hold_thread);
	fx_wait_started(&fx);
	t_sleep_ms(50);		/* let it block in gil_acquire */
	CHECK(!atomic_load(&w->done));
	CHECK(!gil_drop_requested(fx.ts));
	t_gil_get_stats(fx.gil, &s1);
	t = t_now_ns();
	CHECK_OK(gil_release(fx.ts));
	t = t_now_ns() - t;
	WAIT_UNTIL(atomic_load(&w->done), 5000);
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(t, <, T_NSEC_PER_SEC);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);
	CHECK_CMP(s2.acquisitions, ==, s1.acquisitions + 1);
	atomic_store(&w->go, 1);
	fx_join(&fx);
	CHECK_CMP(w->count, ==, 1);
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(s2.contended, >=, 1);
	CHECK_CMP(s2.drop_requests, ==, 0);
	fx_teardown(&fx);
}

/* gil_yield with nothing pending: a voluntary release and a re-take. */
void test_yield_unrequested(void)
{
	struct fixture fx;
	struct gil_stats s1, s2;

	fx_setup(&fx, 0, FX_HOLD);
	t_gil_get_stats(fx.gil, &s1);
	CHECK_OK(gil_yield(fx.ts));
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(s2.acquisitions, ==, s1.acquisitions + 1);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases + 1);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches);
	CHECK_CMP(s2.switch_number, ==, s1.switch_number);
	CHECK_RET(gil_acquire(fx.ts), -EDEADLK);	/* still held */
	CHECK_OK(gil_release(fx.ts));
	fx_teardown(&fx);
}

/* The acquirer clears the drop request. */
static void ac_thread(struct worker *w)
{
	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(w->ts));
	w->ret = gil_drop_requested(w->ts);	/* right after taking it */
	atomic_store(&w->done, 1);
	CHECK_OK(gil_release(w->ts));
}

void test_acquirer_clears(void)
{
	struct fixture fx;
	struct worker *w;

	fx_setup(&fx, 2e-3, FX_HOLD);
	w = fx_start(&fx, 1, ac_thread);
	SPIN_UNTIL(gil_drop_requested(fx.ts), 5000);
	t_gil_set_switch_interval(fx.gil, 10.0);	/* no new request after this one */
	CHECK_OK(gil_release(fx.ts));
	CHECK_OK(gil_acquire(fx.ts));
	CHECK(atomic_load(&w->done));
	CHECK_CMP(w->ret, ==, 0);
	CHECK(!gil_drop_requested(fx.ts));
	CHECK_RET(gil_check(fx.ts), 0);
	CHECK_OK(gil_release(fx.ts));
	fx_teardown(&fx);
}

/* gil_check: 0 with nothing pending, 1 once it answered a request. */
void test_gil_check(void)
{
	struct fixture fx;
	struct worker *w;
	int r;

	fx_setup(&fx, 1e-3, FX_HOLD);
	for (int i = 0; i < 10000; i++)
		CHECK_RET(gil_check(fx.ts), 0);

	w = fx_start(&fx, 1, acquire_once_thread);
	SPIN_UNTIL((r = gil_check(fx.ts)) != 0, 5000);
	CHECK_RET(r, 1);
	CHECK(atomic_load(&w->done));	/* the waiter ran meanwhile */
	CHECK_RET(gil_check(fx.ts), 0);
	CHECK_OK(gil_release(fx.ts));	/* and we hold the GIL again */
	fx_teardown(&fx);
}
