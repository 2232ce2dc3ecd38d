// SPDX-License-Identifier: MIT
/* The forced-switch handshake. */
#include "conformance.h"

/* Two threads: we answer B's drop requests with gil_yield. */
static long fs_b_count;		/* under the GIL */

static void fs_b_thread(struct worker *w)
{
	for (int i = 0; i < 20; i++) {
		CHECK_OK(gil_acquire(w->ts));
		fs_b_count++;
		CHECK_OK(gil_release(w->ts));
	}
	atomic_store(&w->done, 1);
}

void test_forced_switch(void)
{
	struct fixture fx;
	struct worker *w;
	struct gil_stats s1, s2;
	long last = 0, yields = 0;

	fx_setup(&fx, 1e-3, FX_HOLD);
	w = fx_start(&fx, 1, fs_b_thread);
	while (!atomic_load(&w->done)) {
		if (!gil_drop_requested(fx.ts))
			continue;
		t_gil_get_stats(fx.gil, &s1);
		CHECK_OK(gil_yield(fx.ts));
		t_gil_get_stats(fx.gil, &s2);
		/* B took the GIL between our release and our acquisition. */
		CHECK_CMP(fs_b_count, >, last);
		CHECK_CMP(s2.switch_number, >=, s1.switch_number + 2);
		CHECK_CMP(s2.forced_switches, >=, s1.forced_switches + 1);
		last = fs_b_count;
		yields++;
	}
	CHECK_OK(gil_release(fx.ts));
	fx_join(&fx);
	CHECK_CMP(fs_b_count, ==, 20);
	CHECK_CMP(yields, >=, 1);
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(s2.forced_switches, >=, yields);
	fx_teardown(&fx);
}

/* A forced release returns only once another thread has the GIL. */
void test_forced_release(void)
{
	struct fixture fx;
	struct worker *w;
	struct gil_stats s1, s2;

	fx_setup(&fx, 1e-3, FX_HOLD);
	w = fx_start(&fx, 1, acquire_hold_thread);
	SPIN_UNTIL(gil_drop_requested(fx.ts), 5000);
	t_gil_get_stats(fx.gil, &s1);
	CHECK_OK(gil_release(fx.ts));	/* as GIL_BEGIN_ALLOW_THREADS would */
	t_gil_get_stats(fx.gil, &s2);
	CHECK_CMP(s2.switch_number, >, s1.switch_number);
	CHECK_CMP(s2.forced_switches, ==, s1.forced_switches + 1);
	CHECK_CMP(s2.voluntary_releases, ==, s1.voluntary_releases);
	WAIT_UNTIL(atomic_load(&w->done), 5000);
	atomic_store(&w->go, 1);
	CHECK_OK(gil_acquire(fx.ts));
	CHECK(atomic_load(&w->done));
	CHECK_CMP(w->count, ==, 1);
	CHECK_OK(gil_release(fx.ts));
	fx_teardown(&fx);
}

/* The handshake with three spinning threads: check it in a shared log. */

static struct owner_log fs_log;
static int64_t fs_deadline, fs_hard_deadline;
static atomic_long fs_forced;

/* Run 300 ms, and on (up to 5 s) until a few forced switches happened. */
static bool fs_running(void)
{
	int64_t now = t_now_ns();

	return now < fs_deadline ||
	       (atomic_load(&fs_forced) < 5 && now < fs_hard_deadline);
}

static void fs_spinner(struct worker *w)
{
	long rounds = 0;

	CHECK_OK(gil_acquire(w->ts));
	log_owner(&fs_log, w->id);
	while (fs_running()) {
		int r = gil_check(w->ts);

		CHECK(r == 0 || r == 1);
		if (r == 1) {
			/* Someone else held the GIL after our forced release. */
			CHECK_CMP(fs_log.id[fs_log.len - 1], !=, w->id);
			log_owner(&fs_log, w->id);
			w->count++;
			atomic_fetch_add(&fs_forced, 1);
		}
		if (++rounds % 50000 == 0) {
			CHECK_OK(gil_release(w->ts));
			CHECK_OK(gil_acquire(w->ts));
			log_owner(&fs_log, w->id);
		}
	}
	CHECK_OK(gil_release(w->ts));
}

void test_forced_switch_three(void)
{
	struct fixture fx;
	struct gil_stats st;
	long forced;

	fx_setup(&fx, 200e-6, FX_GIL);
	fs_deadline = t_now_ns() + 300 * T_NSEC_PER_MSEC;
	fs_hard_deadline = fs_deadline + 5 * T_NSEC_PER_SEC;
	forced = fx_run(&fx, 3, fs_spinner);
	t_gil_get_stats(fx.gil, &st);
	CHECK_CMP(forced, >=, 1);
	CHECK_CMP(st.forced_switches, >=, forced);
	fx_teardown(&fx);
}
