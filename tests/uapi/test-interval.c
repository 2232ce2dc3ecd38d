// SPDX-License-Identifier: GPL-2.0
/*
 * The switch interval: its default, GET/SET, their errors, how it shows in
 * the mapped page, and that a wait already begun keeps its deadline.
 */
#include "uapi.h"

static void interval_default_from_header(void)
{
	const struct gil_page *pg;
	__s64 us = -1;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	CHECK(ioctl(fd, GIL_IOC_GET_INTERVAL, &us) == 0);
	CHECK_CMP(us, ==, GIL_INTERVAL_DEFAULT_US);
	pg = t_map_page(fd);
	CHECK(pg);
	CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, GIL_INTERVAL_DEFAULT_US);
	t_close_gil(fd, pg);
}

static void interval_set_reads_back(void)
{
	static const __s64 values[] = {
		1, 2, 999, 12345, 20000, 1000000, GIL_INTERVAL_MAX_US - 1,
		GIL_INTERVAL_MAX_US, 5000,
	};
	const struct gil_page *pg;
	unsigned int i;
	int fd;

	t_open_mapped(&fd, &pg);
	for (i = 0; i < T_ARRAY_SIZE(values); i++) {
		CHECK(t_set_interval(fd, values[i]) == 0);
		CHECK_CMP(t_get_interval(fd), ==, values[i]);
		CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, values[i]);
	}
	t_close_gil(fd, pg);
}

static void interval_invalid_values_rejected(void)
{
	static const __s64 einval[] = { 0, -1, -5000, INT64_MIN };
	static const __s64 erange[] = {
		GIL_INTERVAL_MAX_US + 1, GIL_INTERVAL_MAX_US * 2, INT64_MAX,
	};
	const struct gil_page *pg;
	unsigned int i;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 7777) == 0);
	for (i = 0; i < T_ARRAY_SIZE(einval); i++)
		CHECK_ERR(t_set_interval(fd, einval[i]), EINVAL);
	for (i = 0; i < T_ARRAY_SIZE(erange); i++)
		CHECK_ERR(t_set_interval(fd, erange[i]), ERANGE);
	/* A rejected value changes nothing. */
	CHECK_CMP(t_get_interval(fd), ==, 7777);
	CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, 7777);
	t_close_gil(fd, pg);
}

static void interval_is_per_gil(void)
{
	int a = t_open_dev(), b = t_open_dev(), c;

	CHECK(a >= 0 && b >= 0);
	CHECK(t_set_interval(a, 123) == 0);
	CHECK_CMP(t_get_interval(b), ==, GIL_INTERVAL_DEFAULT_US);
	CHECK(t_set_interval(b, 456) == 0);
	CHECK_CMP(t_get_interval(a), ==, 123);
	/* A new GIL starts from the default again. */
	c = t_open_dev();
	CHECK(c >= 0);
	CHECK_CMP(t_get_interval(c), ==, GIL_INTERVAL_DEFAULT_US);
	close(a);
	close(b);
	close(c);
}

/*
 * "Waits already begun keep their deadline": a waiter sleeping out a 10 s
 * interval does not post a drop request soon after the interval is cut to
 * 1 ms.  (A correct module cannot post one before 10 s have passed, so the
 * test cannot fail on a slow machine.)
 */
static void interval_change_keeps_running_deadline(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	CHECK(t_set_interval(fd, 1000) == 0);
	t_sleep_ms(300);
	CHECK(!t_drop_requested(pg));
	CHECK(atomic_load(&w.state) == T_W_ACQUIRING);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	/* A release with no request pending hands over without blocking. */
	t_release_to_waiter(fd, &w);
	CHECK_CMP(w.rel_ret, ==, 0);
	/* The new interval holds for waits begun after the change. */
	CHECK_CMP(T_PAGE_LOAD(pg->interval_us), ==, 1000);
	t_detach_close_gil(fd, pg);
}

/* A shorter interval set before the wait begins is the one used. */
static void interval_new_value_used_by_next_wait(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	int64_t t;
	int fd;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	CHECK(t_set_interval(fd, 10000000) == 0);
	CHECK(t_set_interval(fd, 30000) == 0);
	t_waiter_start_requesting(&w, fd, pg, 0);
	t = t_now_ns() - w.t_before_acquire;
	/* 30 ms at least; far less than the 10 s a stale value would give. */
	CHECK_CMP(t, >=, 30000000);
	CHECK_CMP(t, <, 8000000000ll);
	t_release_to_waiter(fd, &w);
	t_detach_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(interval_default_from_header);
	T_RUN(interval_set_reads_back);
	T_RUN(interval_invalid_values_rejected);
	T_RUN(interval_is_per_gil);
	T_RUN(interval_change_keeps_running_deadline);
	T_RUN(interval_new_value_used_by_next_wait);
	return t_exit_status();
}
