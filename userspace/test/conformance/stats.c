// SPDX-License-Identifier: MIT
/* Statistics. */
#include <string.h>

#include "conformance.h"

static atomic_long st_acquires, st_releases;

static void stats_thread(struct worker *w)
{
	long acquires = 0, releases = 0;

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(w->ts));	/* blocks: the main thread holds it */
	acquires++;
	for (int i = 0; i < 200; i++) {
		for (int j = 0; j < 100; j++) {
			int r = gil_check(w->ts);

			CHECK(r == 0 || r == 1);
			acquires += r;
			releases += r;
		}
		CHECK_OK(gil_release(w->ts));
		releases++;
		CHECK_OK(gil_acquire(w->ts));
		acquires++;
	}
	CHECK_OK(gil_yield(w->ts));
	acquires++;
	releases++;
	CHECK_OK(gil_release(w->ts));
	releases++;
	atomic_fetch_add(&st_acquires, acquires);
	atomic_fetch_add(&st_releases, releases);
}

void test_stats(void)
{
	struct fixture fx;
	struct gil_stats st;
	static const struct gil_stats zero;

	fx_setup(&fx, 0, FX_TSTATE);
	memset(&st, 0xa5, sizeof(st));
	t_gil_get_stats(fx.gil, &st);
	CHECK_CMP(st.size, ==, sizeof(st));
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	st.size = 0;
	st.hist_buckets = 0;
	CHECK(!memcmp(&st, &zero, sizeof(st)));	/* a new GIL: all zero */

	t_gil_set_switch_interval(fx.gil, 100e-6);
	CHECK_OK(gil_acquire(fx.ts));
	fx_start(&fx, 3, stats_thread);
	fx_wait_started(&fx);
	t_sleep_ms(50);		/* they wait: contention */
	CHECK_OK(gil_release(fx.ts));
	fx_join(&fx);

	t_gil_get_stats(fx.gil, &st);
	CHECK_CMP(st.acquisitions, ==, atomic_load(&st_acquires) + 1);
	CHECK_CMP(st.voluntary_releases + st.forced_switches, ==,
		  atomic_load(&st_releases) + 1);
	CHECK_CMP(st.contended, >=, 1);
	CHECK_CMP(st.contended, <=, st.acquisitions);
	CHECK_CMP(st.wait_ns, >, 0);
	CHECK_CMP(t_hist_sum(&st), >=, 1);
	CHECK_CMP(t_hist_sum(&st), <=, st.contended);
	CHECK_CMP(st.switch_number, >=, 4);
	CHECK_CMP(st.switch_number, <=, st.acquisitions);
	CHECK_CMP(st.forced_switches, <=, st.drop_requests);
	CHECK_CMP(st.owner_deaths, ==, 0);
	fx_teardown(&fx);
}
