// SPDX-License-Identifier: MIT
/* Mutual exclusion under contention. */
#include "conformance.h"

static long mx_counter;		/* protected by the GIL, deliberately plain */
static volatile int mx_owner;
static int64_t mx_deadline;

static void mx_thread(struct worker *w)
{
	long n = 0;

	CHECK_OK(gil_acquire(w->ts));
	while (t_now_ns() < mx_deadline) {
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
			r = gil_check(w->ts);
			CHECK(r == 0 || r == 1);
		}
		if ((n / 100) % 8 == 0) {	/* and now and then, I/O */
			CHECK_OK(gil_release(w->ts));
			CHECK_OK(gil_acquire(w->ts));
		}
	}
	CHECK_OK(gil_release(w->ts));
	w->count = n;
}

void test_mutual_exclusion(void)
{
	struct fixture fx;
	struct gil_stats st;
	long total;

	fx_setup(&fx, 50e-6, FX_GIL);
	mx_deadline = t_now_ns() + 300 * T_NSEC_PER_MSEC;
	total = fx_run(&fx, 4, mx_thread);
	CHECK_CMP(mx_counter, ==, total);
	t_gil_get_stats(fx.gil, &st);
	CHECK_CMP(st.switch_number, >=, 4);
	CHECK_CMP(st.acquisitions, >=, 4);
	fx_teardown(&fx);
}
