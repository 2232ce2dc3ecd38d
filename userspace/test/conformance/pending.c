// SPDX-License-Identifier: MIT
/* The process's pending bit on the eval breaker (gil_set_pending). */
#include <signal.h>
#include <unistd.h>

#include "conformance.h"

static struct gil *pending_gil;

static void pending_handler(int sig)
{
	(void)sig;
	gil_set_pending(pending_gil);
}

/* The new holder sees the pending bit the old one left set. */
static void pending_waiter(struct worker *w)
{
	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(w->ts));
	w->ret = gil_check(w->ts);
	CHECK_OK(gil_release(w->ts));
}

void test_pending(void)
{
	struct fixture fx;
	struct worker *w;
	struct sigaction sa = { .sa_handler = pending_handler };
	int r;

	fx_setup(&fx, 0, FX_HOLD);
	CHECK_RET(gil_check(fx.ts), 0);
	CHECK_OK(gil_set_pending(fx.gil));
	CHECK(*gil_eval_breaker(fx.gil) & GIL_EVAL_BREAKER_PENDING);
	CHECK(!gil_drop_requested(fx.ts));	/* not a drop request */
	for (int i = 0; i < 3; i++)		/* until cleared */
		CHECK_RET(gil_check(fx.ts), GIL_CHECK_PENDING);
	CHECK_OK(gil_clear_pending(fx.gil));
	CHECK_RET(gil_check(fx.ts), 0);

	/* From a signal handler, to an eval loop polling gil_check. */
	pending_gil = fx.gil;
	CHECK_CMP(sigaction(SIGALRM, &sa, NULL), ==, 0);
	CHECK_CMP(ualarm(20000, 0), >=, 0);
	SPIN_UNTIL((r = gil_check(fx.ts)) != 0, 5000);
	CHECK_RET(r, GIL_CHECK_PENDING);

	/*
	 * A forced switch posts and withdraws a drop request on the same
	 * word: the pending bit stays, for the new holder and back.
	 */
	t_gil_set_switch_interval(fx.gil, 1e-3);
	w = fx_start(&fx, 1, pending_waiter);
	fx_wait_started(&fx);
	SPIN_UNTIL((r = gil_check(fx.ts)) & GIL_CHECK_YIELDED, 5000);
	CHECK_RET(r, GIL_CHECK_YIELDED | GIL_CHECK_PENDING);
	fx_join(&fx);
	CHECK_RET(w->ret, GIL_CHECK_PENDING);
	CHECK_RET(gil_check(fx.ts), GIL_CHECK_PENDING);
	CHECK_OK(gil_clear_pending(fx.gil));
	CHECK_RET(gil_check(fx.ts), 0);
	CHECK_OK(gil_release(fx.ts));
	/* The thread state keeps the closed GIL's memory for these. */
	fx_close_gil(&fx);
	CHECK_RET(gil_set_pending(fx.gil), -EBADF);
	CHECK_RET(gil_clear_pending(fx.gil), -EBADF);
	fx_teardown(&fx);
}
