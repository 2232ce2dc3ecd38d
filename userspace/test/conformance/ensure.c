// SPDX-License-Identifier: MIT
/* gil_ensure / gil_ensure_release, and the thread state they attach. */
#include "conformance.h"
#include "../../src/internal.h"	/* only to see gil_ensure free its tstate */

static void ensure_thread(struct worker *w)
{
	struct gil *gil = w->gil;
	struct gil_tstate *ts;
	struct gil_stats s0, s1;
	int refs = atomic_load(&gil->refs);
	int outer, inner;

	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EINVAL);
	t_gil_get_stats(gil, &s0);
	outer = gil_ensure(gil);
	CHECK_RET(outer, GIL_ENSURE_UNLOCKED);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs + 1);	/* its tstate */
	inner = gil_ensure(gil);
	CHECK_RET(inner, GIL_ENSURE_LOCKED);
	CHECK_RET(gil_ensure(gil), GIL_ENSURE_LOCKED);
	CHECK_OK(gil_ensure_release(gil, GIL_ENSURE_LOCKED));
	CHECK_OK(gil_ensure_release(gil, (enum gil_ensure_state)inner));
	t_gil_get_stats(gil, &s1);
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
	t_gil_get_stats(gil, &s1);
	CHECK_CMP(s1.voluntary_releases + s1.forced_switches, ==,
		  s0.voluntary_releases + s0.forced_switches + 1);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs);	/* freed */
	CHECK_RET(gil_ensure_release(gil, GIL_ENSURE_UNLOCKED), -EINVAL);

	/* The thread has no thread state left: it can attach a new one. */
	ts = t_gil_tstate_new(gil);
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
	t_gil_tstate_free(ts);
	CHECK_CMP(atomic_load(&gil->refs), ==, refs);
	atomic_store(&w->done, 1);
}

/* Nested ensure from a thread that has no thread state, while another
 * thread holds the GIL at first. */
static void ensure_nested_thread(struct worker *w)
{
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
}

void test_ensure(void)
{
	struct fixture fx;
	struct worker *w;
	struct gil_tstate *ts;

	fx_setup(&fx, 0, FX_GIL);
	w = fx_start_bare(&fx, 1, ensure_thread);
	fx_join(&fx);
	CHECK(atomic_load(&w->done));

	/* Contended: the nested ensure waits for the main thread. */
	ts = t_gil_tstate_new(fx.gil);
	t_gil_set_switch_interval(fx.gil, 10.0);
	CHECK_OK(gil_acquire(ts));
	w = fx_start_bare(&fx, 1, ensure_nested_thread);
	fx_wait_started(&fx);
	t_sleep_ms(20);
	CHECK_OK(gil_release(ts));
	fx_join(&fx);
	CHECK_OK(gil_acquire(ts));
	CHECK_CMP(w->count, ==, 1);
	CHECK_OK(gil_release(ts));
	t_gil_tstate_free(ts);
	CHECK_CMP(atomic_load(&fx.gil->refs), ==, 1);	/* every tstate freed */
	fx_teardown(&fx);
}

/*
 * Code under gil_ensure() finds its thread state with gil_tstate_current()
 * and answers drop requests through it: a waiter gets the GIL within a few
 * intervals, where it waited for the whole ensure without.
 */
static void current_waiter(struct worker *w)
{
	CHECK(gil_tstate_current(w->gil) == w->ts);
	CHECK(!gil_held(w->gil));
	atomic_store(&w->started, 1);
	w->t = t_now_ns();
	CHECK_OK(gil_acquire(w->ts));
	w->t = t_now_ns() - w->t;
	CHECK(gil_held(w->gil));
	atomic_store(&w->done, 1);
	CHECK_OK(gil_release(w->ts));
}

void test_tstate_current(void)
{
	struct fixture fx;
	struct worker *w;
	struct gil_tstate *ts, *mine;
	int64_t t0;

	fx_setup(&fx, 0, FX_GIL);
	CHECK(!gil_tstate_current(fx.gil));
	CHECK(!gil_held(fx.gil));
	CHECK_RET(gil_ensure(fx.gil), GIL_ENSURE_UNLOCKED);
	ts = gil_tstate_current(fx.gil);
	CHECK(ts);
	CHECK(gil_held(fx.gil));
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* the ensure's own */

	t_gil_set_switch_interval(fx.gil, 5e-3);
	w = fx_start(&fx, 1, current_waiter);
	fx_wait_started(&fx);
	t0 = t_now_ns();
	/* An eval loop under gil_ensure, its safe points reaching ts. */
	while (!atomic_load(&w->done) && t_now_ns() - t0 < 5 * T_NSEC_PER_SEC) {
		int r = gil_check(gil_tstate_current(fx.gil));

		CHECK(r == 0 || r == 1);
	}
	CHECK(atomic_load(&w->done));
	CHECK(gil_held(fx.gil));
	CHECK_OK(gil_ensure_release(fx.gil, GIL_ENSURE_UNLOCKED));
	fx_join(&fx);
	t_diag("the waiter waited %.1f ms at a 5 ms interval", w->t / 1e6);
	/* gil_ensure's thread state went with its release. */
	CHECK(!gil_tstate_current(fx.gil));
	CHECK(!gil_held(fx.gil));

	mine = t_gil_tstate_new(fx.gil);
	CHECK(gil_tstate_current(fx.gil) == mine);
	CHECK_OK(gil_acquire(mine));
	CHECK(gil_held(fx.gil));
	CHECK_OK(gil_release(mine));
	CHECK(!gil_held(fx.gil));
	CHECK_OK(gil_tstate_detach(mine));
	CHECK(!gil_tstate_current(fx.gil));
	CHECK_OK(gil_tstate_attach(mine));
	CHECK_OK(gil_acquire(mine));
	fx_close_gil(&fx);
	CHECK(!gil_tstate_current(fx.gil));
	CHECK(!gil_held(fx.gil));
	CHECK_OK(gil_tstate_free(mine));
	fx_teardown(&fx);
}
