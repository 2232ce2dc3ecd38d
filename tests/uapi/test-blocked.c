// SPDX-License-Identifier: GPL-2.0
/*
 * A holder asleep in the kernel holding the GIL (ABI 2.4): the drop
 * requests it cannot see are counted (gil_stats.blocked_requests), the
 * wait they begin is timed to the release (blocked_wait_ns), and fdinfo
 * says while it lasts (holder_blocked).  A holder that runs, or waits for
 * a CPU, is not blocked.
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/wait.h>

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

/* A waiter in a child process, asking at the GIL's interval. */
static void child_waiter(void *arg)
{
	int fd = *(int *)arg;

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	T_FAIL("the waiter got the GIL");
}

/*
 * A request that found the holder asleep goes with its waiter (killed),
 * and the holder lets go through the word page, unseen: the time is not
 * counted, then or at a later, unrelated release.
 */
static void blocked_wait_ends_with_the_request(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int fd, status;
	pid_t v;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 5000) == 0);
	t_attach_acquire(fd);
	v = t_fork_child(30, child_waiter, &fd);
	CHECK(v > 0);
	/* Asleep here, holding the GIL: the child's requests find us so. */
	t_sleep_ms(100);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.blocked_requests, >=, 1);
	CHECK(kill(v, SIGKILL) == 0);
	CHECK(waitpid(v, &status, 0) == v);
	t_sleep_ms(200);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	/* A later hold, released to a waiter while we run: nothing blocked. */
	CHECK(t_set_interval(fd, 200000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_blocked(&w, fd, pg, 0);
	t_release_to_waiter(fd, &w);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.blocked_wait_ns, ==, 0);
	t_detach_close_gil(fd, pg);
}

/* A holder stopped (SIGSTOP: a debugger's) cannot answer either. */
static void child_holder(void *arg)
{
	int fd = *(int *)arg;

	t_attach_acquire(fd);
	for (;;)
		pause();
}

/* Waits for the GIL of a holder that will die: EOWNERDEAD. */
static void *heir_main(void *arg)
{
	int fd = *(int *)arg;

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void stopped_holder_is_counted(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd, status;
	pthread_t heir;
	pid_t h;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 5000) == 0);
	h = t_fork_child(30, child_holder, &fd);
	CHECK(h > 0);
	WAIT_UNTIL(T_PAGE_LOAD(pg->locked), 5000);
	CHECK(kill(h, SIGSTOP) == 0);
	CHECK(waitpid(h, &status, WUNTRACED) == h && WIFSTOPPED(status));
	CHECK_CMP(t_fdinfo_value(fd, "holder_blocked"), ==, 1);
	heir = t_start_thread(heir_main, &fd);
	WAIT_UNTIL(t_drop_requested(pg), 5000);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.blocked_requests, >=, 1);
	/* The stopped holder dies; the waiter gets the GIL. */
	CHECK(kill(h, SIGKILL) == 0);
	CHECK(waitpid(h, &status, 0) == h);
	t_join_thread(heir);
	t_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(blocked_holder_is_counted);
	T_RUN(running_holder_is_not);
	T_RUN(fdinfo_shows_a_blocked_holder);
	T_RUN(blocked_wait_ends_with_the_request);
	T_RUN(stopped_holder_is_counted);
	return t_exit_status();
}
