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
#include "harness.h"

/* ---- mutual exclusion ----------------------------------------------------- */

#define EX_THREADS 4
#define EX_SLICES 50		/* per thread: take, run units, release */
#define EX_SLICE_NS 2000000	/* units run for this long per slice */

struct ex_shared {
	int fd;
	const struct gil_page *pg;
	struct start_line line;
	struct holder_log log;
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
	holder_enter(&sh->log, id);
	if (PAGE_LOAD(sh->pg->locked) != 1)
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
	start_line_wait(&sh->line);
	for (i = 0; i < EX_SLICES; i++) {
		if (ioctl(sh->fd, GIL_IOC_ACQUIRE)) {
			atomic_fetch_add(&sh->errors, 1);
			break;
		}
		ex_enter(sh, t->id);
		tmp = sh->counter;
		sleep_us(200);
		sh->counter = tmp + 1;
		units++;
		end = now_ns() + EX_SLICE_NS;
		do {
			tmp = sh->counter;
			for (k = 0; k < 200; k++)
				;
			sh->counter = tmp + 1;
			units++;
			if (!drop_requested(sh->pg))
				continue;
			holder_leave(&sh->log);
			if (ioctl(sh->fd, GIL_IOC_YIELD)) {
				atomic_fetch_add(&sh->errors, 1);
				goto out;
			}
			atomic_fetch_add(&sh->yields, 1);
			ex_enter(sh, t->id);
		} while (now_ns() < end);
		holder_leave(&sh->log);
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

static int exclusion_under_contention(void)
{
	static struct ex_shared sh;
	struct ex_thread t[EX_THREADS];
	pthread_t th[EX_THREADS];
	struct gil_stats st;
	long yields, releases;
	int i;

	memset(&sh, 0, sizeof(sh));
	sh.log.last = -1;
	CHECK(open_mapped(&sh.fd, &sh.pg) == 0);
	CHECK(gil_set_interval(sh.fd, 1000) == 0);
	for (i = 0; i < EX_THREADS; i++) {
		t[i].sh = &sh;
		t[i].id = i;
		CHECK(pthread_create(&th[i], NULL, ex_main, &t[i]) == 0);
	}
	start_line_go(&sh.line, EX_THREADS);
	for (i = 0; i < EX_THREADS; i++)
		CHECK(join_within(th[i], 40000) == 0);

	yields = atomic_load(&sh.yields);
	releases = atomic_load(&sh.releases);
	printf("    %ld units, %ld owner changes, %ld yields\n",
	       (long)atomic_load(&sh.units), sh.log.changes, yields);
	CHECK_CMP(atomic_load(&sh.errors), ==, 0);
	CHECK_CMP(atomic_load(&sh.log.overlaps), ==, 0);
	CHECK_CMP(atomic_load(&sh.not_locked), ==, 0);
	CHECK_CMP(sh.counter, ==, atomic_load(&sh.units));
	CHECK_CMP(releases, ==, EX_THREADS * EX_SLICES);
	CHECK_CMP(PAGE_LOAD(sh.pg->locked), ==, 0);
	/* Exactly one switch per change of owner, as the threads saw them. */
	CHECK(expect_switch(sh.fd, sh.pg, &st, sh.log.changes) == 0);
	/* Every take counted, every release counted once as one kind. */
	CHECK_CMP(st.acquisitions, ==, sh.log.acquisitions);
	CHECK_CMP(st.acquisitions, ==, releases + yields);
	CHECK_CMP(st.voluntary_releases + st.forced_switches, ==,
		  releases + yields);
	CHECK_CMP(st.contended, <=, st.acquisitions);
	CHECK_CMP(hist_sum(&st), <=, st.contended);
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
	return close_gil(sh.fd, sh.pg);
}

/* ---- switch_number ----------------------------------------------------------- */

static int switch_number_counts_owner_changes(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct agent b;
	__u64 sn;
	int fd, i;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(expect_switch(fd, pg, &st, 0) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(agent_start(&b, fd) == 0);
	CHECK(agent_call(&b, GIL_IOC_ATTACH) == 0);
	CHECK(expect_switch(fd, pg, &st, 0) == 0);

	/* The first owner is a change of owner (from none, as CPython). */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(PAGE_LOAD(pg->locked) == 1);
	CHECK(expect_switch(fd, pg, &st, 1) == 0);
	/* Re-taking by the same thread is not. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(PAGE_LOAD(pg->locked) == 0);
	CHECK(expect_switch(fd, pg, &st, 1) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(expect_switch(fd, pg, &st, 1) == 0);
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	CHECK(expect_switch(fd, pg, &st, 1) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);

	/* Another thread: one change, however often it re-takes. */
	CHECK(agent_call(&b, GIL_IOC_ACQUIRE) == 0);
	CHECK(expect_switch(fd, pg, &st, 2) == 0);
	CHECK(agent_call(&b, GIL_IOC_RELEASE) == 0);
	CHECK(agent_call(&b, GIL_IOC_ACQUIRE) == 0);
	CHECK(agent_call(&b, GIL_IOC_YIELD) == 0);
	CHECK(agent_call(&b, GIL_IOC_RELEASE) == 0);
	CHECK(expect_switch(fd, pg, &st, 2) == 0);

	/* Failed calls change nothing. */
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EPERM);
	CHECK(expect_switch(fd, pg, &st, 2) == 0);

	/* Alternating owners: one per take. */
	sn = 2;
	for (i = 0; i < 10; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK(expect_switch(fd, pg, &st, ++sn) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		CHECK(agent_call(&b, GIL_IOC_ACQUIRE) == 0);
		CHECK(expect_switch(fd, pg, &st, ++sn) == 0);
		CHECK(agent_call(&b, GIL_IOC_RELEASE) == 0);
	}
	/* Detaching does not count as a change either. */
	CHECK(agent_call(&b, GIL_IOC_DETACH) == 0);
	CHECK(expect_switch(fd, pg, &st, sn) == 0);
	CHECK(agent_stop(&b) == 0);
	return detach_close_gil(fd, pg);
}

/* ---- the drop request ---------------------------------------------------------- */

static int no_drop_request_without_waiter(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 2000) == 0);
	CHECK(attach_acquire(fd) == 0);
	/* Fifty intervals held with nobody waiting: nothing is asked. */
	sleep_ms(100);
	CHECK(!drop_requested(pg));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 1);
	return detach_close_gil(fd, pg);
}

/*
 * Hold the GIL with @interval_us set, start a waiter, and poll the eval
 * breaker until the drop request shows; *elapsed is the time from just
 * before the waiter's ACQUIRE to the request being seen.  The interval is
 * then set to 10 s, so that the waits that follow post no more requests
 * and the counts of forced switches stay exact.
 */
static int hold_until_request(int fd, const struct gil_page *pg,
			      __s64 interval_us, struct waiter *w, int hold,
			      int64_t *elapsed)
{
	CHECK(gil_set_interval(fd, interval_us) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(!drop_requested(pg));
	CHECK(waiter_start_requesting(w, fd, pg, hold) == 0);
	*elapsed = now_ns() - w->t_before_acquire;
	CHECK(atomic_load(&w->state) == W_ACQUIRING);
	CHECK(gil_set_interval(fd, 10000000) == 0);
	return 0;
}

static int drop_request_after_interval(void)
{
	static const __s64 intervals[] = { 2000, 20000 };
	/* CPython's rule; GIL_POLICY_IO asks a CPU-bound holder at once. */
	__u32 policy = GIL_POLICY_CPYTHON;
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int64_t elapsed;
	unsigned int i;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &policy) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < ARRAY_SIZE(intervals); i++) {
		CHECK(hold_until_request(fd, pg, intervals[i], &w, 0,
					 &elapsed) == 0);
		printf("    interval %lld us: request after %lld us\n",
		       (long long)intervals[i], (long long)elapsed / 1000);
		/* Never before one full interval of waiting... */
		CHECK_CMP(elapsed, >=, intervals[i] * 1000);
		/* ...and not ages after it, even under TCG. */
		CHECK_CMP(elapsed, <, 10000000000ll);
		CHECK(gil_stats(fd, &st) == 0);
		CHECK_CMP(st.drop_requests, >=, i + 1);
		CHECK(release_to_waiter(fd, &w) == 0);
		CHECK_CMP(w.rel_ret, ==, 0);
	}
	return detach_close_gil(fd, pg);
}

static int acquirer_clears_drop_request(void)
{
	const struct gil_page *pg;
	struct waiter w;
	int64_t elapsed;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(hold_until_request(fd, pg, 5000, &w, 1, &elapsed) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	/* The new holder finds the request gone on return from ACQUIRE. */
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	CHECK_CMP(w.eb_after_acquire & GIL_EVAL_BREAKER_DROP_REQUEST, ==, 0);
	CHECK(!drop_requested(pg));
	CHECK(waiter_let_go(&w) == 0);
	CHECK_CMP(w.rel_ret, ==, 0);
	CHECK(!drop_requested(pg));
	return detach_close_gil(fd, pg);
}

/*
 * FORCE_SWITCHING: a holder that saw the drop request and releases does
 * not get the GIL back before another thread has held it.  Checked right
 * when RELEASE returns: the waiter holds it and switch_number moved.
 */
static int forced_switch_hands_over(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int64_t elapsed;
	__u64 sn;
	int fd, round;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (round = 0; round < 3; round++) {
		CHECK(hold_until_request(fd, pg, 2000, &w, 1, &elapsed) == 0);
		sn = PAGE_LOAD(pg->switch_number);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		/* RELEASE returned: the waiter has taken the GIL. */
		CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, sn + 1);
		CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
		CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
		CHECK_CMP(w.acq_ret, ==, 0);
		CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
		atomic_store(&w.release_now, 1);
		/* The releaser competes again as a plain acquirer. */
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, sn + 2);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		CHECK(join_within(w.th, 5000) == 0);
		CHECK_CMP(w.rel_ret, ==, 0);
	}
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 3);
	CHECK_CMP(st.drop_requests, >=, 3);
	return detach_close_gil(fd, pg);
}

static int yield_answers_request(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int64_t elapsed;
	__u64 sn;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(hold_until_request(fd, pg, 2000, &w, 0, &elapsed) == 0);
	sn = PAGE_LOAD(pg->switch_number);
	/* One call: release, the waiter runs, take again. */
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, sn + 2);
	CHECK(!drop_requested(pg));
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
	CHECK_CMP(w.rel_ret, ==, 0);
	/* We hold it: ACQUIRE is EDEADLK, RELEASE works. */
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 1);
	/* Ours, the waiter's, and the take of YIELD. */
	CHECK_CMP(st.acquisitions, ==, 3);
	return detach_close_gil(fd, pg);
}

static int yield_without_request_keeps_gil(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int64_t t;
	int fd, i;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(attach_acquire(fd) == 0);
	t = now_ns();
	for (i = 0; i < 3; i++) {
		CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
		CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
		CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 1);
	}
	/* Nothing to wait for: no interval passes, let alone seconds. */
	CHECK_CMP(now_ns() - t, <, 2000000000ll);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 4);
	CHECK_CMP(st.contended, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 4);
	CHECK_CMP(st.forced_switches, ==, 0);
	return detach_close_gil(fd, pg);
}

/* ---- releases ---------------------------------------------------------------- */

/*
 * With a 10 s interval nobody posts a request: the release is voluntary,
 * does not block, and wakes the waiter, which gets the GIL long before its
 * own interval would have run out.
 */
static int release_wakes_waiter(void)
{
	const struct gil_page *pg;
	struct waiter w;
	int64_t t;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000000) == 0);
	CHECK(attach_acquire(fd) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 1) == 0);
	t = now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 5000000000ll);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	CHECK(waiter_let_go(&w) == 0);
	return detach_close_gil(fd, pg);
}

static int voluntary_release_does_not_block(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int64_t t;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	/* Alone: returns at once. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t = now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(now_ns() - t, <, 2000000000ll);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.voluntary_releases, ==, 1);
	CHECK_CMP(st.forced_switches, ==, 0);

	/* With a waiter but no request (10 s interval): still voluntary. */
	CHECK(gil_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 1) == 0);
	CHECK(!drop_requested(pg));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK(waiter_let_go(&w) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.voluntary_releases, ==, 3);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	return detach_close_gil(fd, pg);
}

int main(void)
{
	RUN(exclusion_under_contention);
	RUN(switch_number_counts_owner_changes);
	RUN(no_drop_request_without_waiter);
	RUN(drop_request_after_interval);
	RUN(acquirer_clears_drop_request);
	RUN(forced_switch_hands_over);
	RUN(yield_answers_request);
	RUN(yield_without_request_keeps_gil);
	RUN(release_wakes_waiter);
	RUN(voluntary_release_does_not_block);
	return harness_exit();
}
