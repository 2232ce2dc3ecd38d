// SPDX-License-Identifier: GPL-2.0
/*
 * The GIL algorithm with real threads: mutual exclusion, switch_number,
 * the drop request and its timing, forced switching, YIELD, and releases
 * that must not block.
 *
 * Timing: the tests run under QEMU TCG, 10-100 times slower than hardware.
 * They assert the lower bounds the algorithm guarantees exactly and only
 * generous upper bounds (seconds).
 */
#include "uapi.h"

/* ---- mutual exclusion ----------------------------------------------------- */

#define EX_THREADS 4
#define EX_SLICES 50		/* per thread: take, run units, release */
#define EX_SLICE_NS 2000000	/* units run for this long per slice */

struct ex_shared {
	int fd;
	const struct gil_page *pg;
	struct t_start_line line;
	struct t_holder_log log;
	/* Protected by the GIL only. */
	volatile long counter;
	/* Counted with atomics. */
	atomic_long not_locked, errors, yields, releases, units;
};

struct ex_thread {
	struct ex_shared *sh;
	int id;
};

/* Bookkeeping on every acquisition, under the GIL. */
static void ex_enter(struct ex_shared *sh, int id)
{
	t_holder_enter(&sh->log, id);
	if (T_PAGE_LOAD(sh->pg->locked) != 1)
		atomic_fetch_add(&sh->not_locked, 1);
}

/*
 * Like an eval loop: take the GIL, run units of work for a while,
 * answering drop requests with YIELD between units, then release (as for
 * I/O) and take it again at once.  Each unit is a non-atomic increment of
 * a shared counter; the first of each slice sleeps inside its window, so
 * the other threads get to run and find the GIL held.
 */
static void *ex_main(void *arg)
{
	struct ex_thread *t = arg;
	struct ex_shared *sh = t->sh;
	long tmp, units = 0;
	int64_t end;
	volatile int k;
	int i;

	if (ioctl(sh->fd, GIL_IOC_ATTACH)) {
		atomic_fetch_add(&sh->errors, 1);
		atomic_fetch_add(&sh->line.ready, 1);
		return NULL;
	}
	t_start_line_wait(&sh->line);
	for (i = 0; i < EX_SLICES; i++) {
		if (ioctl(sh->fd, GIL_IOC_ACQUIRE)) {
			atomic_fetch_add(&sh->errors, 1);
			break;
		}
		ex_enter(sh, t->id);
		tmp = sh->counter;
		t_sleep_us(200);
		sh->counter = tmp + 1;
		units++;
		end = t_now_ns() + EX_SLICE_NS;
		do {
			tmp = sh->counter;
			for (k = 0; k < 200; k++)
				;
			sh->counter = tmp + 1;
			units++;
			if (!t_drop_requested(sh->pg))
				continue;
			t_holder_leave(&sh->log);
			if (ioctl(sh->fd, GIL_IOC_YIELD)) {
				atomic_fetch_add(&sh->errors, 1);
				goto out;
			}
			atomic_fetch_add(&sh->yields, 1);
			ex_enter(sh, t->id);
		} while (t_now_ns() < end);
		t_holder_leave(&sh->log);
		if (ioctl(sh->fd, GIL_IOC_RELEASE)) {
			atomic_fetch_add(&sh->errors, 1);
			break;
		}
		atomic_fetch_add(&sh->releases, 1);
	}
out:
	atomic_fetch_add(&sh->units, units);
	if (ioctl(sh->fd, GIL_IOC_DETACH))
		atomic_fetch_add(&sh->errors, 1);
	return NULL;
}

static void exclusion_under_contention(void)
{
	static struct ex_shared sh;
	struct ex_thread t[EX_THREADS];
	pthread_t th[EX_THREADS];
	struct gil_stats st;
	long yields, releases;
	int i;

	memset(&sh, 0, sizeof(sh));
	sh.log.last = -1;
	t_open_mapped(&sh.fd, &sh.pg);
	CHECK(t_set_interval(sh.fd, 1000) == 0);
	for (i = 0; i < EX_THREADS; i++) {
		t[i].sh = &sh;
		t[i].id = i;
		CHECK(pthread_create(&th[i], NULL, ex_main, &t[i]) == 0);
	}
	t_start_line_go(&sh.line, EX_THREADS);
	for (i = 0; i < EX_THREADS; i++)
		CHECK(t_join_within(th[i], 40000) == 0);

	yields = atomic_load(&sh.yields);
	releases = atomic_load(&sh.releases);
	printf("    %ld units, %ld owner changes, %ld yields\n",
	       (long)atomic_load(&sh.units), sh.log.changes, yields);
	CHECK_CMP(atomic_load(&sh.errors), ==, 0);
	CHECK_CMP(atomic_load(&sh.log.overlaps), ==, 0);
	CHECK_CMP(atomic_load(&sh.not_locked), ==, 0);
	CHECK_CMP(sh.counter, ==, atomic_load(&sh.units));
	CHECK_CMP(releases, ==, EX_THREADS * EX_SLICES);
	CHECK_CMP(T_PAGE_LOAD(sh.pg->locked), ==, 0);
	/* Exactly one switch per change of owner, as the threads saw them. */
	t_expect_switch(sh.fd, sh.pg, &st, sh.log.changes);
	/* Every take counted, every release counted once as one kind. */
	CHECK_CMP(st.acquisitions, ==, sh.log.acquisitions);
	CHECK_CMP(st.acquisitions, ==, releases + yields);
	CHECK_CMP(st.voluntary_releases + st.forced_switches, ==,
		  releases + yields);
	CHECK_CMP(st.contended, <=, st.acquisitions);
	CHECK_CMP(t_hist_sum(&st), <=, st.contended);
	if (st.contended)
		CHECK_CMP(st.wait_ns, >, 0);
	/*
	 * Four threads holding for 2 ms slices with a 1 ms interval: they
	 * waited, asked for the GIL, and were answered with YIELD.
	 */
	CHECK_CMP(st.contended, >, 0);
	CHECK_CMP(st.drop_requests, >, 0);
	CHECK_CMP(yields, >, 0);
	CHECK_CMP(sh.log.changes, >, EX_THREADS);
	t_close_gil(sh.fd, sh.pg);
}

/* ---- switch_number ----------------------------------------------------------- */

static void switch_number_counts_owner_changes(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_agent b;
	__u64 sn;
	int fd, i;

	t_open_mapped(&fd, &pg);
	t_expect_switch(fd, pg, &st, 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(t_agent_start(&b, fd) == 0);
	CHECK(t_agent_call(&b, GIL_IOC_ATTACH) == 0);
	t_expect_switch(fd, pg, &st, 0);

	/* The first owner is a change of owner (from none, as CPython). */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(T_PAGE_LOAD(pg->locked) == 1);
	t_expect_switch(fd, pg, &st, 1);
	/* Re-taking by the same thread is not. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(T_PAGE_LOAD(pg->locked) == 0);
	t_expect_switch(fd, pg, &st, 1);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_expect_switch(fd, pg, &st, 1);
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	t_expect_switch(fd, pg, &st, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);

	/* Another thread: one change, however often it re-takes. */
	CHECK(t_agent_call(&b, GIL_IOC_ACQUIRE) == 0);
	t_expect_switch(fd, pg, &st, 2);
	CHECK(t_agent_call(&b, GIL_IOC_RELEASE) == 0);
	CHECK(t_agent_call(&b, GIL_IOC_ACQUIRE) == 0);
	CHECK(t_agent_call(&b, GIL_IOC_YIELD) == 0);
	CHECK(t_agent_call(&b, GIL_IOC_RELEASE) == 0);
	t_expect_switch(fd, pg, &st, 2);

	/* Failed calls change nothing. */
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EPERM);
	t_expect_switch(fd, pg, &st, 2);

	/* Alternating owners: one per take. */
	sn = 2;
	for (i = 0; i < 10; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		t_expect_switch(fd, pg, &st, ++sn);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		CHECK(t_agent_call(&b, GIL_IOC_ACQUIRE) == 0);
		t_expect_switch(fd, pg, &st, ++sn);
		CHECK(t_agent_call(&b, GIL_IOC_RELEASE) == 0);
	}
	/* Detaching does not count as a change either. */
	CHECK(t_agent_call(&b, GIL_IOC_DETACH) == 0);
	t_expect_switch(fd, pg, &st, sn);
	CHECK(t_agent_stop(&b) == 0);
	t_detach_close_gil(fd, pg);
}

/* ---- the drop request ---------------------------------------------------------- */

static void no_drop_request_without_waiter(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 2000) == 0);
	t_attach_acquire(fd);
	/* Fifty intervals held with nobody waiting: nothing is asked. */
	t_sleep_ms(100);
	CHECK(!t_drop_requested(pg));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 1);
	t_detach_close_gil(fd, pg);
}

/*
 * Hold the GIL with @interval_us set, start a waiter, and poll the eval
 * breaker until the drop request shows; *elapsed is the time from just
 * before the waiter's ACQUIRE to the request being seen.  The interval is
 * then set to 10 s, so that the waits that follow post no more requests
 * and the counts of forced switches stay exact.
 */
static void hold_until_request(int fd, const struct gil_page *pg,
			       __s64 interval_us, struct t_waiter *w, int hold,
			       int64_t *elapsed)
{
	CHECK(t_set_interval(fd, interval_us) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(!t_drop_requested(pg));
	t_waiter_start_requesting(w, fd, pg, hold);
	*elapsed = t_now_ns() - w->t_before_acquire;
	CHECK(atomic_load(&w->state) == T_W_ACQUIRING);
	CHECK(t_set_interval(fd, 10000000) == 0);
}

static void drop_request_after_interval(void)
{
	static const __s64 intervals[] = { 2000, 20000 };
	/* CPython's rule; GIL_POLICY_IO asks a CPU-bound holder at once. */
	__u32 policy = GIL_POLICY_CPYTHON;
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t elapsed;
	unsigned int i;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &policy) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < T_ARRAY_SIZE(intervals); i++) {
		hold_until_request(fd, pg, intervals[i], &w, 0,
				   &elapsed);
		printf("    interval %lld us: request after %lld us\n",
		       (long long)intervals[i], (long long)elapsed / 1000);
		/* Never before one full interval of waiting... */
		CHECK_CMP(elapsed, >=, intervals[i] * 1000);
		/* ...and not ages after it, even under TCG. */
		CHECK_CMP(elapsed, <, 10000000000ll);
		CHECK(t_gil_stats(fd, &st) == 0);
		CHECK_CMP(st.drop_requests, >=, i + 1);
		t_release_to_waiter(fd, &w);
		CHECK_CMP(w.rel_ret, ==, 0);
	}
	t_detach_close_gil(fd, pg);
}

static void acquirer_clears_drop_request(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	int64_t elapsed;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	hold_until_request(fd, pg, 5000, &w, 1, &elapsed);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&w, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	/* The new holder finds the request gone on return from ACQUIRE. */
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	CHECK_CMP(w.eb_after_acquire & GIL_EVAL_BREAKER_DROP_REQUEST, ==, 0);
	CHECK(!t_drop_requested(pg));
	t_waiter_let_go(&w);
	CHECK_CMP(w.rel_ret, ==, 0);
	CHECK(!t_drop_requested(pg));
	t_detach_close_gil(fd, pg);
}

/*
 * FORCE_SWITCHING: a holder that saw the drop request and releases does
 * not get the GIL back before another thread has held it.  Checked right
 * when RELEASE returns: the waiter holds it and switch_number moved.
 */
static void forced_switch_hands_over(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t elapsed;
	__u64 sn;
	int fd, round;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (round = 0; round < 3; round++) {
		hold_until_request(fd, pg, 2000, &w, 1, &elapsed);
		sn = T_PAGE_LOAD(pg->switch_number);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		/* RELEASE returned: the waiter has taken the GIL. */
		CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 1);
		CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
		CHECK(t_waiter_reach(&w, T_W_HOLDING, 5000) == 0);
		CHECK_CMP(w.acq_ret, ==, 0);
		CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
		atomic_store(&w.release_now, 1);
		/* The releaser competes again as a plain acquirer. */
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 2);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		CHECK(t_join_within(w.th, 5000) == 0);
		CHECK_CMP(w.rel_ret, ==, 0);
	}
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 3);
	CHECK_CMP(st.drop_requests, >=, 3);
	t_detach_close_gil(fd, pg);
}

static void yield_answers_request(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t elapsed;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	hold_until_request(fd, pg, 2000, &w, 0, &elapsed);
	sn = T_PAGE_LOAD(pg->switch_number);
	/* One call: release, the waiter runs, take again. */
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 2);
	CHECK(!t_drop_requested(pg));
	CHECK(t_join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
	CHECK_CMP(w.rel_ret, ==, 0);
	/* We hold it: ACQUIRE is EDEADLK, RELEASE works. */
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 1);
	/* Ours, the waiter's, and the take of YIELD. */
	CHECK_CMP(st.acquisitions, ==, 3);
	t_detach_close_gil(fd, pg);
}

static void yield_without_request_keeps_gil(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int64_t t;
	int fd, i;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	t = t_now_ns();
	for (i = 0; i < 3; i++) {
		CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
		CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
		CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, 1);
	}
	/* Nothing to wait for: no interval passes, let alone seconds. */
	CHECK_CMP(t_now_ns() - t, <, 2000000000ll);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 4);
	CHECK_CMP(st.contended, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 4);
	CHECK_CMP(st.forced_switches, ==, 0);
	t_detach_close_gil(fd, pg);
}

/* ---- releases ---------------------------------------------------------------- */

/*
 * With a 10 s interval nobody posts a request: the release is voluntary,
 * does not block, and wakes the waiter, which gets the GIL long before its
 * own interval would have run out.
 */
static void release_wakes_waiter(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	int64_t t;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 1);
	t = t_now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&w, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 5000000000ll);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	t_waiter_let_go(&w);
	t_detach_close_gil(fd, pg);
}

static void voluntary_release_does_not_block(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t t;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	/* Alone: returns at once. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t = t_now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(t_now_ns() - t, <, 2000000000ll);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.voluntary_releases, ==, 1);
	CHECK_CMP(st.forced_switches, ==, 0);

	/* With a waiter but no request (10 s interval): still voluntary. */
	CHECK(t_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_blocked(&w, fd, pg, 1);
	CHECK(!t_drop_requested(pg));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&w, T_W_HOLDING, 5000) == 0);
	t_waiter_let_go(&w);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.voluntary_releases, ==, 3);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	t_detach_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(exclusion_under_contention);
	T_RUN(switch_number_counts_owner_changes);
	T_RUN(no_drop_request_without_waiter);
	T_RUN(drop_request_after_interval);
	T_RUN(acquirer_clears_drop_request);
	T_RUN(forced_switch_hands_over);
	T_RUN(yield_answers_request);
	T_RUN(yield_without_request_keeps_gil);
	T_RUN(release_wakes_waiter);
	T_RUN(voluntary_release_does_not_block);
	return t_exit_status();
}
