// SPDX-License-Identifier: GPL-2.0
/*
 * A holder asleep in the kernel holding the GIL (ABI 2.4): the drop
 * requests it cannot see are counted (gil_stats.blocked_requests), the
 * wait they begin is timed to the release (blocked_wait_ns), and fdinfo
 * says while it lasts (holder_blocked).  A holder that runs, or waits for
 * a CPU, is not blocked.
 */
#include <pthread.h>
#include <stdbool.h>

#include "uapi.h"

#define SLEEP_MS	200

/*
 * We hold the GIL and sleep, or spin, until a waiter asks, at
 * @interval_us (a spinner's long enough that the waiter is seen asleep in
 * ACQUIRE, by polls that sleep, before it asks).
 */
static void hold_while_asked(int fd, const struct gil_page *pg, bool sleep,
			     int64_t interval_us, struct gil_stats *st)
{
	struct t_waiter w;

	CHECK(t_set_interval(fd, interval_us) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	if (sleep) {
		/* A system call outside GIL_BEGIN_ALLOW_THREADS, say. */
		t_sleep_ms(SLEEP_MS);
		CHECK(t_drop_requested(pg));
	} else {
		SPIN_UNTIL(t_drop_requested(pg), 10000);
		/* Asked while running: not blocked, now either. */
		CHECK_CMP(t_fdinfo_value(fd, "holder_blocked"), ==, 0);
	}
	t_release_to_waiter(fd, &w);
	CHECK(t_gil_stats(fd, st) == 0);
	CHECK_CMP(t_fdinfo_value(fd, "blocked_requests"), ==,
		  st->blocked_requests);
	CHECK_CMP(t_fdinfo_value(fd, "blocked_wait_ns"), ==,
		  st->blocked_wait_ns);
	CHECK_CMP(st->blocked_requests, <=, st->drop_requests);
}

static void blocked_holder_is_counted(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	hold_while_asked(fd, pg, true, 5000, &st);
	t_diag("asleep %d ms holding: %llu blocked requests of %llu, %.1f ms "
	       "from the first to the release", SLEEP_MS,
	       (unsigned long long)st.blocked_requests,
	       (unsigned long long)st.drop_requests,
	       st.blocked_wait_ns / 1e6);
	CHECK_CMP(st.blocked_requests, >=, 1);
	/* Asked after one interval, released after the sleep. */
	CHECK_CMP(st.blocked_wait_ns, >=, (SLEEP_MS / 2) * T_NSEC_PER_MSEC);
	CHECK_CMP(st.blocked_wait_ns, <, 30 * T_NSEC_PER_SEC);
	t_detach_close_gil(fd, pg);
}

static void running_holder_is_not(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	hold_while_asked(fd, pg, false, 200000, &st);
	CHECK_CMP(st.drop_requests, >=, 1);
	CHECK_CMP(st.blocked_requests, ==, 0);
	CHECK_CMP(st.blocked_wait_ns, ==, 0);
	t_detach_close_gil(fd, pg);
}

/* While the holder sleeps, fdinfo says so; before, and after, not. */
struct sleeper {
	int fd;
	atomic_int holding;
	atomic_int wake;
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;

	t_attach_acquire(s->fd);
	atomic_store(&s->holding, 1);
	while (!atomic_load(&s->wake))
		t_sleep_ms(1);
	CHECK(ioctl(s->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(s->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void fdinfo_shows_a_blocked_holder(void)
{
	struct sleeper s = { 0 };
	pthread_t t;

	s.fd = t_open_dev();
	CHECK(s.fd >= 0);
	CHECK_CMP(t_fdinfo_value(s.fd, "holder_blocked"), ==, 0);
	t = t_start_thread(sleeper_main, &s);
	WAIT_UNTIL(atomic_load(&s.holding), 5000);
	/* Asleep in nanosleep but for a moment each millisecond. */
	WAIT_UNTIL(t_fdinfo_value(s.fd, "holder_blocked") == 1, 5000);
	atomic_store(&s.wake, 1);
	t_join_thread(t);
	CHECK_CMP(t_fdinfo_value(s.fd, "holder_blocked"), ==, 0);
	close(s.fd);
}

int main(void)
{
	T_RUN(blocked_holder_is_counted);
	T_RUN(running_holder_is_not);
	T_RUN(fdinfo_shows_a_blocked_holder);
	return t_exit_status();
}
