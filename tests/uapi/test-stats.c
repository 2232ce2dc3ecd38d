// SPDX-License-Identifier: GPL-2.0
/*
 * GIL_IOC_GET_STATS: the counters after known sequences of calls, and the
 * size negotiation of struct gil_stats.
 */
#include "harness.h"

static int stats_fresh_gil_is_zero(void)
{
	struct gil_stats st;
	unsigned int i;
	int fd = open_gil();

	CHECK(fd >= 0);
	memset(&st, 0xa5, sizeof(st));
	st.size = sizeof(st);
	CHECK(ioctl(fd, GIL_IOC_GET_STATS, &st) == 0);
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
	return 0;
}

static int stats_uncontended(void)
{
	struct gil_stats st;
	int fd = open_gil(), i;

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < 10; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	}
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 10);
	CHECK_CMP(st.contended, ==, 0);
	CHECK_CMP(st.voluntary_releases, ==, 10);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.switch_number, ==, 1);
	CHECK_CMP(st.owner_deaths, ==, 0);
	/* Nobody waited, nothing was handed to a waiter. */
	CHECK_CMP(st.wait_ns, ==, 0);
	CHECK_CMP(hist_sum(&st), ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	close(fd);
	return 0;
}

/* A handoff to a sleeping waiter, without a drop request (10 s interval). */
static int stats_contended_handoff(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int64_t t0, t1;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(gil_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t0 = now_ns();
	waiter_init(&w, fd, pg, 0);
	CHECK(waiter_start(&w) == 0);
	CHECK(waiter_blocked(&w, 5000) == 0);
	sleep_ms(20);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	t1 = now_ns();
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 2);
	CHECK_CMP(st.contended, ==, 1);
	CHECK_CMP(st.voluntary_releases, ==, 2);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.switch_number, ==, 2);
	/* It waited: at least the 20 ms we held it after it slept, at most
	 * the whole test. */
	CHECK_CMP(st.wait_ns, >=, 20000000);
	CHECK_CMP(st.wait_ns, <=, t1 - t0);
	/* One handoff, counted once, to a thread that waited. */
	CHECK_CMP(hist_sum(&st), ==, 1);
	CHECK_CMP(hist_sum(&st), <=, st.contended);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

static int stats_forced_switch(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(gil_set_interval(fd, 2000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	waiter_init(&w, fd, pg, 0);
	CHECK(waiter_start(&w) == 0);
	CHECK(wait_drop_request(pg, 10000) == 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, >=, 1);
	CHECK_CMP(st.forced_switches, ==, 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.forced_switches, ==, 1);
	/* The waiter's own release had no request pending. */
	CHECK_CMP(st.voluntary_releases, ==, 1);
	CHECK_CMP(st.contended, ==, 1);
	CHECK_CMP(st.acquisitions, ==, 2);
	CHECK_CMP(st.wait_ns, >=, 2000000);
	CHECK_CMP(hist_sum(&st), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

/* Stats are per GIL: one GIL's traffic does not show in another's. */
static int stats_per_gil(void)
{
	struct gil_stats st;
	int a = open_gil(), b = open_gil();

	CHECK(a >= 0 && b >= 0);
	CHECK(ioctl(a, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(a, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(a, GIL_IOC_RELEASE) == 0);
	CHECK(gil_stats(b, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 0);
	CHECK_CMP(st.switch_number, ==, 0);
	CHECK(gil_stats(a, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	close(a);
	close(b);
	return 0;
}

static int stats_size_ver0_and_below(void)
{
	struct gil_stats st;
	__u32 sizes[] = { 0, 4, 8, GIL_STATS_SIZE_VER0 - 8,
			  GIL_STATS_SIZE_VER0 - 1 };
	unsigned int i;
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	memset(&st, 0, sizeof(st));
	st.size = GIL_STATS_SIZE_VER0;
	CHECK(ioctl(fd, GIL_IOC_GET_STATS, &st) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(&st, 0x5a, sizeof(st));
		st.size = sizes[i];
		CHECK_ERR(ioctl(fd, GIL_IOC_GET_STATS, &st), EINVAL);
		/* Nothing written on failure. */
		CHECK_CMP(st.size, ==, sizes[i]);
		CHECK_CMP(st.acquisitions, ==, 0x5a5a5a5a5a5a5a5aull);
	}
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	close(fd);
	return 0;
}

struct big_stats {
	struct gil_stats s;
	unsigned char extra[64];
};

static int stats_bigger_struct_accepted(void)
{
	struct big_stats big;
	unsigned int i;
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	/* A newer caller's struct: the module fills its own size only. */
	memset(&big, 0xa5, sizeof(big));
	big.s.size = sizeof(big);
	CHECK(ioctl(fd, GIL_IOC_GET_STATS, &big) == 0);
	CHECK_CMP(big.s.size, ==, sizeof(struct gil_stats));
	CHECK_CMP(big.s.acquisitions, ==, 1);
	CHECK_CMP(big.s.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	for (i = 0; i < sizeof(big.extra); i++)
		CHECK_CMP(big.extra[i], ==, 0xa5);
	/* Same, with the bigger size encoded in the command as well. */
	memset(&big, 0xa5, sizeof(big));
	big.s.size = sizeof(big);
	CHECK(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0x08, struct big_stats),
		    &big) == 0);
	CHECK_CMP(big.s.size, ==, sizeof(struct gil_stats));
	CHECK_CMP(big.s.acquisitions, ==, 1);
	for (i = 0; i < sizeof(big.extra); i++)
		CHECK_CMP(big.extra[i], ==, 0xa5);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	close(fd);
	return 0;
}

/* Matched on its number: an older binary's command encodes a smaller size. */
static int stats_command_size_ignored(void)
{
	struct gil_stats st;
	int fd = open_gil();

	CHECK(fd >= 0);
	memset(&st, 0, sizeof(st));
	st.size = GIL_STATS_SIZE_VER0;
	CHECK(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0x08, __u64), &st) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	CHECK_CMP(st.hist_buckets, ==, GIL_STATS_HIST_BUCKETS);
	memset(&st, 0, sizeof(st));
	st.size = GIL_STATS_SIZE_VER0;
	CHECK(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0x08, char[200]), &st) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER0);
	/* The size field still rules: too small is EINVAL. */
	st.size = 200;
	CHECK_ERR(ioctl(fd, _IOWR(GIL_IOC_MAGIC, 0x08, char[200]), &st),
		  EINVAL);
	close(fd);
	return 0;
}

int main(void)
{
	RUN(stats_fresh_gil_is_zero);
	RUN(stats_uncontended);
	RUN(stats_contended_handoff);
	RUN(stats_forced_switch);
	RUN(stats_per_gil);
	RUN(stats_size_ver0_and_below);
	RUN(stats_bigger_struct_accepted);
	RUN(stats_command_size_ignored);
	return harness_exit();
}
