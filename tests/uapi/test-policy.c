// SPDX-License-Identifier: GPL-2.0
/*
 * Handoff policies (ABI 1.1): GET/SET_POLICY and their errors, the page
 * and fdinfo, the module parameter default_policy, and what each policy
 * does that the others do not: fifo hands the GIL over in arrival order,
 * with no barging and no free moment; io lets an I/O-bound waiter ask a
 * CPU-bound holder at once and hands it the GIL.
 *
 * A switch interval of an hour makes "asks at once" exact: under any
 * other rule the request could not come before the test times out.
 */
#include "uapi.h"

#define PARAM "/sys/module/gil/parameters/default_policy"

static int gil_set_policy(int fd, __u32 policy)
{
	return ioctl(fd, GIL_IOC_SET_POLICY, &policy);
}

static long long gil_get_policy(int fd)
{
	__u32 policy = ~0u;

	if (ioctl(fd, GIL_IOC_GET_POLICY, &policy))
		return -1;
	return policy;
}

/* The descriptor's fdinfo names the policy. */
static void fdinfo_shows_policy(int fd, const char *name)
{
	char want[32], *text = t_fdinfo_text(getpid(), fd);

	CHECK(text);
	snprintf(want, sizeof(want), "\npolicy:\t%s\n", name);
	CHECK(strstr(text, want));
	free(text);
}

static const char *const names[GIL_POLICY_COUNT] = {
	[GIL_POLICY_CPYTHON] = "cpython",
	[GIL_POLICY_FIFO] = "fifo",
	[GIL_POLICY_IO] = "io",
};

/* The module's default_policy, by number (it is cpython unless set). */
static int default_policy(void)
{
	char *text = t_read_file(PARAM);
	int i, found = -1;

	for (i = 0; text && i < GIL_POLICY_COUNT; i++) {
		size_t n = strlen(names[i]);

		if (!strncmp(text, names[i], n) && !strcmp(text + n, "\n"))
			found = i;
	}
	free(text);
	return found;
}

/* The tests run under every default_policy; see tests/vm/guest.sh. */
static void policy_default_from_parameter(void)
{
	const struct gil_page *pg;
	int fd, policy = default_policy();

	CHECK(policy >= 0);
	t_open_mapped(&fd, &pg);
	CHECK_CMP(gil_get_policy(fd), ==, policy);
	CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, policy);
	fdinfo_shows_policy(fd, names[policy]);
	t_close_gil(fd, pg);
}

/* No attach needed; the page and fdinfo follow; bad values change nothing. */
static void policy_set_reads_back(void)
{
	static const __u32 bad[] = { GIL_POLICY_COUNT, 100, ~0u };
	const struct gil_page *pg;
	unsigned int i;
	int fd;

	t_open_mapped(&fd, &pg);
	for (i = GIL_POLICY_COUNT; i-- > 0;) {
		CHECK(gil_set_policy(fd, i) == 0);
		CHECK_CMP(gil_get_policy(fd), ==, i);
		CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, i);
		fdinfo_shows_policy(fd, names[i]);
	}
	CHECK(gil_set_policy(fd, GIL_POLICY_IO) == 0);
	for (i = 0; i < T_ARRAY_SIZE(bad); i++)
		CHECK_ERR(gil_set_policy(fd, bad[i]), EINVAL);
	CHECK_CMP(gil_get_policy(fd), ==, GIL_POLICY_IO);
	CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, GIL_POLICY_IO);
	t_close_gil(fd, pg);
}

static void policy_bad_pointers(void)
{
	const struct gil_page *pg;
	int fd;

	/* The page first: it could land where t_unmapped_page() was. */
	t_open_mapped(&fd, &pg);
	t_u32_ioctls_refuse_bad_pointers(fd, pg, GIL_IOC_GET_POLICY,
					 GIL_IOC_SET_POLICY);
	CHECK_CMP(gil_get_policy(fd), ==, default_policy());
	t_close_gil(fd, pg);
}

static void policy_is_per_gil(void)
{
	int fds[2];

	t_open_gils(fds, 2);
	CHECK(gil_set_policy(fds[0], GIL_POLICY_FIFO) == 0);
	CHECK(gil_set_policy(fds[1], GIL_POLICY_IO) == 0);
	CHECK_CMP(gil_get_policy(fds[0]), ==, GIL_POLICY_FIFO);
	CHECK_CMP(gil_get_policy(fds[1]), ==, GIL_POLICY_IO);
	t_close_gils(fds, 2);
}

/*
 * default_policy takes names (a trailing newline too) and applies to GILs
 * opened after it is set; a bad name changes nothing.
 */
static void policy_module_parameter(void)
{
	int old = default_policy(), other = old == GIL_POLICY_FIFO ?
		GIL_POLICY_IO : GIL_POLICY_FIFO;
	int old_fd, fd, ret = 0;
	char line[16];

	CHECK(old >= 0);
	old_fd = t_open_dev();
	CHECK(old_fd >= 0);
	snprintf(line, sizeof(line), "%s\n", names[other]);
	CHECK(t_write_text(PARAM, line) == 0);
	fd = t_open_dev();
	if (fd < 0 || gil_get_policy(fd) != other ||
	    gil_get_policy(old_fd) != old || default_policy() != other)
		ret = -1;
	errno = 0;
	if (t_write_text(PARAM, "bogus") != -1 || errno != EINVAL ||
	    default_policy() != other)
		ret = -1;
	/* Put it back before checking, so later tests see the default. */
	CHECK(t_write_text(PARAM, names[old]) == 0);
	CHECK(ret == 0);
	close(fd);
	t_close_gil(old_fd, NULL);
}

/*
 * fifo: each release hands the GIL to the longest waiter, so the page
 * never shows it free, and a thread that asks after them all (the agent,
 * right after the first release) gets it last.
 */
static void fifo_hands_over_in_arrival_order(void)
{
	const struct gil_page *pg;
	struct t_waiter w1, w2;
	struct gil_stats st;
	struct t_agent a;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(gil_set_policy(fd, GIL_POLICY_FIFO) == 0);
	/* Only voluntary releases: no drop request. */
	CHECK(t_set_interval(fd, GIL_INTERVAL_MAX_US) == 0);
	t_attach_acquire(fd);
	CHECK(t_agent_start(&a, fd) == 0);
	CHECK(t_agent_call(&a, GIL_IOC_ATTACH) == 0);
	sn = T_PAGE_LOAD(pg->switch_number);
	t_waiter_start_blocked(&w1, fd, pg, 1);
	t_waiter_start_blocked(&w2, fd, pg, 1);

	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 1);
	t_agent_post(&a, GIL_IOC_ACQUIRE);
	CHECK(t_waiter_reach(&w1, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(w1.acq_ret, ==, 0);
	CHECK_CMP(w1.sn_after_acquire, ==, sn + 1);
	CHECK(t_wait_in_ioctl(getpid(), a.tid, GIL_IOC_ACQUIRE, 5000) == 0);

	t_waiter_let_go(&w1);
	CHECK(t_waiter_reach(&w2, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(w2.acq_ret, ==, 0);
	CHECK_CMP(w2.sn_after_acquire, ==, sn + 2);
	CHECK(!t_agent_finished(&a));

	t_waiter_let_go(&w2);
	CHECK_CMP(t_agent_result(&a, 5000), ==, 0);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 3);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.direct_handoffs, ==, 3);
	CHECK_CMP(st.voluntary_releases, ==, 3);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.io_preemptions, ==, 0);
	CHECK_CMP(t_agent_call(&a, GIL_IOC_RELEASE), ==, 0);
	CHECK_CMP(t_agent_call(&a, GIL_IOC_DETACH), ==, 0);
	CHECK(t_agent_stop(&a) == 0);
	t_detach_close_gil(fd, pg);
}

/* fifo: a forced releaser returns with the new owner owning already. */
static void fifo_forced_release_hands_over(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(gil_set_policy(fd, GIL_POLICY_FIFO) == 0);
	CHECK(t_set_interval(fd, 1000) == 0);
	t_attach_acquire(fd);
	sn = T_PAGE_LOAD(pg->switch_number);
	t_waiter_start_requesting(&w, fd, pg, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 1);
	CHECK(!t_drop_requested(pg));
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 1);
	CHECK_CMP(st.direct_handoffs, ==, 1);
	t_waiter_let_go(&w);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
	t_detach_close_gil(fd, pg);
}

/*
 * A waiter whose wait timed out waits anew, as CPython's re-enters its
 * condition variable: under cpython behind the waiters that came after it,
 * so the next release wakes the later one; under fifo and io in its place.  The
 * first waiter's 300 ms ran out (its drop request shows), the second's has
 * not (it came 150 ms later) when the holder releases.
 */
static void timed_out_waiter_requeued(__u32 policy, int later_wins)
{
	const struct gil_page *pg;
	struct t_waiter first, later, *winner, *loser;
	int64_t later_start;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(gil_set_policy(fd, policy) == 0);
	CHECK(t_set_interval(fd, 300000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&first, fd, pg, 1);
	t_sleep_ms(150);
	later_start = t_now_ns();
	t_waiter_start_blocked(&later, fd, pg, 1);
	CHECK(t_wait_drop_request(pg, 5000) == 0);
	if (T_MS(t_now_ns() - later_start) > 250)
		SKIP("too slow to release between the two timeouts");
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	winner = later_wins ? &later : &first;
	loser = later_wins ? &first : &later;
	CHECK(t_waiter_reach(winner, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(atomic_load(&loser->state), ==, T_W_ACQUIRING);
	t_waiter_let_go(winner);
	t_waiter_let_go(loser);
	CHECK_CMP(loser->acq_ret, ==, 0);
	t_detach_close_gil(fd, pg);
}

static void cpython_timed_out_waiter_goes_back(void)
{
	timed_out_waiter_requeued(GIL_POLICY_CPYTHON, 1);
}

static void fifo_timed_out_waiter_keeps_its_place(void)
{
	timed_out_waiter_requeued(GIL_POLICY_FIFO, 0);
}

static void io_timed_out_waiter_keeps_its_place(void)
{
	timed_out_waiter_requeued(GIL_POLICY_IO, 0);
}

/*
 * Make the calling holder CPU-bound, as GIL_POLICY_IO counts it: a waiter
 * asks after the 1 ms interval and the holder answers with YIELD.  Then
 * set the interval to an hour.
 */
static void become_cpu_bound(int fd, const struct gil_page *pg)
{
	struct t_waiter w;

	CHECK(t_set_interval(fd, 1000) == 0);
	t_waiter_start_requesting(&w, fd, pg, 0);
	CHECK(ioctl(fd, GIL_IOC_YIELD) == 0);
	CHECK(t_join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(t_set_interval(fd, GIL_INTERVAL_MAX_US) == 0);
}

/*
 * io: a thread that never had to give the GIL up (I/O-bound) asks a
 * CPU-bound holder at once, and the forced release hands it the GIL.
 */
static void io_bound_waiter_preempts_cpu_bound_holder(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	__u64 sn, requests, forced;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(gil_set_policy(fd, GIL_POLICY_IO) == 0);
	t_attach_acquire(fd);
	become_cpu_bound(fd, pg);
	sn = T_PAGE_LOAD(pg->switch_number);
	/*
	 * A slow YIELD lets the 1 ms waiter ask more than once, and our wait
	 * for it to release ask it in turn: count from here.
	 */
	CHECK(t_gil_stats(fd, &st) == 0);
	requests = st.drop_requests;
	forced = st.forced_switches;
	t_waiter_start_requesting(&w, fd, pg, 1);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.io_preemptions, ==, 1);
	CHECK_CMP(st.drop_requests, ==, requests + 1);

	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 1);
	t_waiter_let_go(&w);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
	CHECK(t_gil_stats(fd, &st) == 0);
	/* To the first waiter (I/O-bound too), then to this one. */
	CHECK_CMP(st.direct_handoffs, ==, 2);
	CHECK_CMP(st.forced_switches, ==, forced + 1);
	t_detach_close_gil(fd, pg);
}

/*
 * Who waits an interval (an hour here) before asking: an I/O-bound waiter
 * of an I/O-bound holder under io, and every waiter under cpython.
 */
static void waiter_does_not_ask_early(__u32 policy, int holder_cpu_bound)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(gil_set_policy(fd, policy) == 0);
	t_attach_acquire(fd);
	if (holder_cpu_bound)
		become_cpu_bound(fd, pg);
	else
		CHECK(t_set_interval(fd, GIL_INTERVAL_MAX_US) == 0);
	t_waiter_start_blocked(&w, fd, pg, 0);
	t_sleep_ms(200);
	CHECK(!t_drop_requested(pg));
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.io_preemptions, ==, 0);
	t_release_to_waiter(fd, &w);
	t_detach_close_gil(fd, pg);
}

static void io_waits_for_io_bound_holder(void)
{
	waiter_does_not_ask_early(GIL_POLICY_IO, 0);
}

static void cpython_waits_for_cpu_bound_holder(void)
{
	waiter_does_not_ask_early(GIL_POLICY_CPYTHON, 1);
}

int main(void)
{
	T_RUN(policy_default_from_parameter);
	T_RUN(policy_set_reads_back);
	T_RUN(policy_bad_pointers);
	T_RUN(policy_is_per_gil);
	T_RUN(policy_module_parameter);
	T_RUN(fifo_hands_over_in_arrival_order);
	T_RUN(fifo_forced_release_hands_over);
	T_RUN(io_bound_waiter_preempts_cpu_bound_holder);
	T_RUN(io_waits_for_io_bound_holder);
	T_RUN(cpython_waits_for_cpu_bound_holder);
	T_RUN(cpython_timed_out_waiter_goes_back);
	T_RUN(fifo_timed_out_waiter_keeps_its_place);
	T_RUN(io_timed_out_waiter_keeps_its_place);
	return t_exit_status();
}
