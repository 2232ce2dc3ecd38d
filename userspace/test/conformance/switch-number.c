// SPDX-License-Identifier: MIT
/* switch_number: once per change of owner, never on re-acquisition. */
#include <sched.h>
#include <stdlib.h>

#include "conformance.h"

static uint64_t switch_number(struct gil *gil)
{
	struct gil_stats st;

	t_gil_get_stats(gil, &st);
	return st.switch_number;
}

void test_switch_number(void)
{
	struct fixture fx;

	fx_setup(&fx, 0, FX_TSTATE);
	CHECK_CMP(switch_number(fx.gil), ==, 0);
	CHECK_OK(gil_acquire(fx.ts));
	CHECK_CMP(switch_number(fx.gil), ==, 1);
	for (int i = 0; i < 10; i++) {
		CHECK_OK(gil_release(fx.ts));
		CHECK_OK(gil_acquire(fx.ts));
		CHECK_OK(gil_yield(fx.ts));
	}
	CHECK_CMP(switch_number(fx.gil), ==, 1);
	CHECK_OK(gil_release(fx.ts));

	fx_run(&fx, 1, acquire_once_thread);
	CHECK_CMP(switch_number(fx.gil), ==, 2);
	CHECK_OK(gil_acquire(fx.ts));
	CHECK_CMP(switch_number(fx.gil), ==, 3);
	CHECK_OK(gil_release(fx.ts));
	CHECK_OK(gil_acquire(fx.ts));
	CHECK_CMP(switch_number(fx.gil), ==, 3);
	CHECK_OK(gil_release(fx.ts));

	/* A thread state attached again is a new owner. */
	CHECK_OK(gil_tstate_detach(fx.ts));
	CHECK_OK(gil_tstate_attach(fx.ts));
	CHECK_OK(gil_acquire(fx.ts));
	CHECK_CMP(switch_number(fx.gil), ==, 4);
	CHECK_OK(gil_release(fx.ts));
	fx_teardown(&fx);
}

/*
 * Run @n workers of @fn, which log their acquisitions in @log, between two
 * acquisitions of ours (owner 0): switch_number must have counted every
 * change of owner along the log.  The sum of the workers' counts.
 */
static long run_logged(struct fixture *fx, struct owner_log *log, int n,
		       worker_fn *fn)
{
	uint64_t s0, s1;
	long total;

	CHECK_OK(gil_acquire(fx->ts));
	log_owner(log, 0);
	s0 = switch_number(fx->gil);
	CHECK_OK(gil_release(fx->ts));
	total = fx_run(fx, n, fn);
	CHECK_OK(gil_acquire(fx->ts));
	log_owner(log, 0);
	s1 = switch_number(fx->gil);
	CHECK_OK(gil_release(fx->ts));
	CHECK_CMP(s1 - s0, ==, owner_changes(log));
	return total;
}

/* Under contention, compare with the log of acquisitions. */

static struct owner_log sn_log;

static void sn_thread(struct worker *w)
{
	for (int i = 0; i < 300; i++) {
		int64_t until = t_now_ns() + 50000;	/* hold it 50 us */

		CHECK_OK(gil_acquire(w->ts));
		log_owner(&sn_log, w->id);
		while (t_now_ns() < until) {
			int r = gil_check(w->ts);

			CHECK(r == 0 || r == 1);
			if (r == 1)
				log_owner(&sn_log, w->id);
		}
		CHECK_OK(gil_release(w->ts));
	}
}

void test_switch_number_contended(void)
{
	struct fixture fx;

	fx_setup(&fx, 20e-6, FX_TSTATE);
	run_logged(&fx, &sn_log, 3, sn_thread);
	CHECK_CMP(owner_changes(&sn_log), >=, 4);
	fx_teardown(&fx);
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

static void storm_thread(struct worker *w)
{
	long n = 0;

	while (t_now_ns() < st_deadline && !atomic_load(&st_full)) {
		CHECK_OK(gil_acquire(w->ts));
		st_log_me(w->id);
		for (int i = 0; i < 50; i++) {
			int r;

			st_counter++;
			n++;
			r = gil_check(w->ts);
			CHECK(r == 0 || r == 1);
			if (r == 1) {
				CHECK_CMP(st_log.id[st_log.len - 1], !=, w->id);
				st_log_me(w->id);
			}
		}
		CHECK_OK(gil_release(w->ts));
		sched_yield();		/* give the others a chance to run */
	}
	w->count = n;
}

void test_storm(void)
{
	struct fixture fx;
	long total;

	fx_setup(&fx, 1e-6, FX_TSTATE);
	st_deadline = t_now_ns() + 300 * T_NSEC_PER_MSEC;
	total = run_logged(&fx, &st_log, 4, storm_thread);
	CHECK_CMP(st_counter, ==, total);
	if (getenv("GIL_TEST_VERBOSE"))
		t_diag("storm: %ld acquisitions, %ld changes of owner",
			  st_log.len, owner_changes(&st_log));
	fx_teardown(&fx);
}
