// SPDX-License-Identifier: GPL-2.0
/*
 * GIL_IOC_GET_STATS: the counters after known sequences of calls, and the
 * size negotiation of struct gil_stats.
 */
#include "uapi.h"

/*
 * GET_STATS, and the counters of takes, waits, releases and switches: the
 * ones every sequence of calls determines.
 */
static void expect_counts(int fd, struct gil_stats *st, __u64 acquisitions,
			  __u64 contended, __u64 voluntary_releases,
			  __u64 forced_switches, __u64 drop_requests,
			  __u64 switch_number)
{
	CHECK(t_gil_stats(fd, st) == 0);
	CHECK_CMP(st->acquisitions, ==, acquisitions);
	CHECK_CMP(st->contended, ==, contended);
	CHECK_CMP(st->voluntary_releases, ==, voluntary_releases);
	CHECK_CMP(st->forced_switches, ==, forced_switches);
	CHECK_CMP(st->drop_requests, ==, drop_requests);
	CHECK_CMP(st->switch_number, ==, switch_number);
}

/* A GIL this thread has taken and released once, and is attached to. */
static void open_used_once(int *fd)
{
	*fd = t_open_dev();
	CHECK(*fd >= 0);
	t_attach_acquire(*fd);
	CHECK(ioctl(*fd, GIL_IOC_RELEASE) == 0);
}

static void stats_fresh_gil_is_zero(void)
{
	struct gil_stats st;
	unsigned int i;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(t_gil_stats_raw(fd, GIL_IOC_GET_STATS, &st, sizeof(st), 0xa5,
			      sizeof(st)) == 0);
	CHECK_CMP(st.size, ==, sizeof(st));
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	CHECK_CMP(st.acquisitions, ==, 0);
	CHECK_CMP(st.contended, ==, 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 0);
	CHECK_CMP(st.switch_number, ==, 0);
	CHECK_CMP(st.owner_deaths, ==, 0);
	CHECK_CMP(st.wait_ns, ==, 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		CHECK_CMP(st.handoff_ns_hist[i], ==, 0);
	close(fd);
}

static void stats_uncontended(void)
{
	struct gil_stats st;
	int fd = t_open_dev(), i;

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < 10; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	}
	expect_counts(fd, &st, 10, 0, 10, 0, 0, 1);
	CHECK_CMP(st.owner_deaths, ==, 0);
	/* Nobody waited, nothing was handed to a waiter. */
	CHECK_CMP(st.wait_ns, ==, 0);
	CHECK_CMP(t_hist_sum(&st), ==, 0);
	t_detach_close_gil(fd, NULL);
}

/* A handoff to a sleeping waiter, without a drop request (10 s interval). */
static void stats_contended_handoff(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t t0, t1;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000000) == 0);
	t_attach_acquire(fd);
	t0 = t_now_ns();
	t_waiter_start_blocked(&w, fd, pg, 0);
	t_sleep_ms(20);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_join_within(w.th, 5000) == 0);
	t1 = t_now_ns();
	CHECK_CMP(w.acq_ret, ==, 0);
	expect_counts(fd, &st, 2, 1, 2, 0, 0, 2);
	/* It waited: at least the 20 ms we held it after it slept, at most
	 * the whole test. */
	CHECK_CMP(st.wait_ns, >=, 20000000);
	CHECK_CMP(st.wait_ns, <=, t1 - t0);
	/* One handoff, counted once, to a thread that waited. */
	CHECK_CMP(t_hist_sum(&st), ==, 1);
	CHECK_CMP(t_hist_sum(&st), <=, st.contended);
	t_detach_close_gil(fd, pg);
}

static void stats_forced_switch(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 2000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_requesting(&w, fd, pg, 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, >=, 1);
	CHECK_CMP(st.forced_switches, ==, 0);
	t_release_to_waiter(fd, &w);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 1);
	/* The waiter's own release had no request pending. */
	CHECK_CMP(st.voluntary_releases, ==, 1);
	CHECK_CMP(st.contended, ==, 1);
	CHECK_CMP(st.acquisitions, ==, 2);
	CHECK_CMP(st.wait_ns, >=, 2000000);
	CHECK_CMP(t_hist_sum(&st), ==, 1);
	t_detach_close_gil(fd, pg);
}

/* Stats are per GIL: one GIL's traffic does not show in another's. */
static void stats_per_gil(void)
{
	struct gil_stats st;
	int a = t_open_dev(), b = t_open_dev();

	CHECK(a >= 0 && b >= 0);
	t_attach_acquire(a);
	CHECK(ioctl(a, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(b, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 0);
	CHECK_CMP(st.switch_number, ==, 0);
	CHECK(t_gil_stats(a, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	close(a);
	close(b);
}

static void stats_size_ver0_and_below(void)
{
	struct gil_stats st;
	__u32 sizes[] = { 0, 4, 8, GIL_STATS_SIZE_VER0 - 8,
			  GIL_STATS_SIZE_VER0 - 1 };
	unsigned int i;
	int fd;

	open_used_once(&fd);
	CHECK(t_gil_stats_raw(fd, GIL_IOC_GET_STATS, &st, sizeof(st), 0,
			      GIL_STATS_SIZE_VER0) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	for (i = 0; i < T_ARRAY_SIZE(sizes); i++) {
		CHECK_ERR(t_gil_stats_raw(fd, GIL_IOC_GET_STATS, &st, sizeof(st),
					0x5a, sizes[i]), EINVAL);
		/* Nothing written on failure. */
		CHECK_CMP(st.size, ==, sizes[i]);
		CHECK_CMP(st.acquisitions, ==, 0x5a5a5a5a5a5a5a5aull);
	}
	t_detach_close_gil(fd, NULL);
}

struct big_stats {
	struct gil_stats s;
	unsigned char extra[64];
};

/*
 * GET_STATS through @cmd into a newer caller's bigger struct: the module
 * fills its own size only (a GIL taken once).
 */
static void get_big_stats(int fd, unsigned long cmd, struct big_stats *big)
{
	unsigned int i;

	CHECK(t_gil_stats_raw(fd, cmd, big, sizeof(*big), 0xa5,
			      sizeof(*big)) == 0);
	CHECK_CMP(big->s.size, ==, sizeof(struct gil_stats));
	CHECK_CMP(big->s.acquisitions, ==, 1);
	for (i = 0; i < sizeof(big->extra); i++)
		CHECK_CMP(big->extra[i], ==, 0xa5);
}

static void stats_bigger_struct_accepted(void)
{
	struct big_stats big;
	int fd;

	open_used_once(&fd);
	get_big_stats(fd, GIL_IOC_GET_STATS, &big);
	CHECK_CMP(big.s.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	/* Same, with the bigger size encoded in the command as well. */
	get_big_stats(fd, _IOWR(GIL_IOC_MAGIC, 0x08, struct big_stats),
		      &big);
	t_detach_close_gil(fd, NULL);
}

/* Matched on its number: an older binary's command encodes a smaller size. */
static void stats_command_size_ignored(void)
{
	struct gil_stats st;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(t_gil_stats_raw(fd, _IOWR(GIL_IOC_MAGIC, 0x08, __u64), &st,
			      sizeof(st), 0, GIL_STATS_SIZE_VER0) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	CHECK(t_gil_stats_raw(fd, _IOWR(GIL_IOC_MAGIC, 0x08, char[200]), &st,
			      sizeof(st), 0, GIL_STATS_SIZE_VER0) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	/* The size field still rules: too small is EINVAL. */
	st.size = 200;
	CHECK_ERR(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0x08, char[200]), &st),
		  EINVAL);
	close(fd);
}

int main(void)
{
	T_RUN(stats_fresh_gil_is_zero);
	T_RUN(stats_uncontended);
	T_RUN(stats_contended_handoff);
	T_RUN(stats_forced_switch);
	T_RUN(stats_per_gil);
	T_RUN(stats_size_ver0_and_below);
	T_RUN(stats_bigger_struct_accepted);
	T_RUN(stats_command_size_ignored);
	return t_exit_status();
}
