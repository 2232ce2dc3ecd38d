// SPDX-License-Identifier: GPL-2.0
/*
 * A GIL's options (ABI 2.3, 2.4): GET/SET_OPTIONS and their errors, fdinfo,
 * and GIL_OPT_PREEMPT_AWARE against the wall-clock interval
 * (GIL_OPT_PRIO_INHERIT's behaviour is test-pi.c's).
 *
 * The preemption: a holder spins on CPU 0, polling the drop request as an
 * eval loop does, until a SCHED_FIFO hog takes CPU 0 for HOG_MS; then a
 * waiter on CPU 1 begins to wait, with a 10 ms interval, while the holder
 * waits for a CPU.  With the wall clock the waiter asks a holder that has
 * not run since (it sees the request only when the hog is done); with the
 * option the waiter waits on until the holder has had its interval of CPU,
 * and not ten.  The hog runs for twenty intervals, so that the wait begins
 * during it however slow the machine (a run where it did not fails as
 * such).  Also: the option set in the middle of a wait, after the holder
 * had waited for a CPU a long time, does not extend that wait; a holder
 * blocked holding the GIL (asleep, not preempted) is asked as usual.
 * Every test kernel has CONFIG_SCHED_INFO (the debug one through
 * CONFIG_SCHEDSTATS), so the option is asserted, not skipped.
 */
#include <pthread.h>
#include <stdbool.h>

#include "uapi.h"

#define INTERVAL_US	10000
#define HOG_MS		200

static long long get_options(int fd)
{
	__u32 options = ~0u;

	if (ioctl(fd, GIL_IOC_GET_OPTIONS, &options))
		return -1;
	return options;
}

static int set_options(int fd, __u32 options)
{
	return ioctl(fd, GIL_IOC_SET_OPTIONS, &options);
}

static void fdinfo_shows_options(int fd, const char *names)
{
	char want[64], *text = t_fdinfo_text(getpid(), fd);

	CHECK(text);
	snprintf(want, sizeof(want), "\noptions:\t%s\n", names);
	CHECK(strstr(text, want));
	free(text);
}

/* Off by default; no attach needed; a bad value changes nothing. */
static void options_set_reads_back(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK_CMP(get_options(fd), ==, 0);
	fdinfo_shows_options(fd, "-");
	CHECK(set_options(fd, GIL_OPT_PREEMPT_AWARE) == 0);
	CHECK_CMP(get_options(fd), ==, GIL_OPT_PREEMPT_AWARE);
	fdinfo_shows_options(fd, "preempt_aware");
	CHECK(set_options(fd, GIL_OPT_PRIO_INHERIT) == 0);
	CHECK_CMP(get_options(fd), ==, GIL_OPT_PRIO_INHERIT);
	fdinfo_shows_options(fd, "prio_inherit");
	CHECK(set_options(fd, GIL_OPTS_ALL) == 0);
	CHECK_CMP(get_options(fd), ==, GIL_OPTS_ALL);
	fdinfo_shows_options(fd, "preempt_aware,prio_inherit");
	CHECK_ERR(set_options(fd, 0x80000000U), EINVAL);
	CHECK_ERR(set_options(fd, GIL_OPTS_ALL | (GIL_OPTS_ALL << 1)), EINVAL);
	CHECK_CMP(get_options(fd), ==, GIL_OPTS_ALL);
	CHECK(set_options(fd, 0) == 0);
	CHECK_CMP(get_options(fd), ==, 0);
	fdinfo_shows_options(fd, "-");
	/* ABI 2.4's statistics: the whole struct, the new counters at 0. */
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER3);
	CHECK_CMP(st.preempt_extensions, ==, 0);
	CHECK_CMP(st.priority_boosts, ==, 0);
	t_close_gil(fd, pg);
}

static void options_bad_pointers(void)
{
	const struct gil_page *pg;
	int fd;

	/* The page first: it could land where t_unmapped_page() was. */
	t_open_mapped(&fd, &pg);
	t_u32_ioctls_refuse_bad_pointers(fd, pg, GIL_IOC_GET_OPTIONS,
					 GIL_IOC_SET_OPTIONS);
	CHECK_CMP(get_options(fd), ==, 0);
	t_close_gil(fd, pg);
}

/* Options are the GIL's, not the descriptor's or the process's. */
static void options_are_per_gil(void)
{
	int fds[2];

	t_open_gils(fds, 2);
	CHECK(set_options(fds[0], GIL_OPT_PREEMPT_AWARE) == 0);
	CHECK_CMP(get_options(fds[0]), ==, GIL_OPT_PREEMPT_AWARE);
	CHECK_CMP(get_options(fds[1]), ==, 0);
	t_close_gils(fds, 2);
}

/* When the hog takes the holder's CPU, and when the option is set. */
enum scenario {
	HOG_DURING_WAIT,	/* the wait begins while the holder is preempted */
	HOG_BEFORE_WAIT,	/* the holder was; the option comes mid-wait */
	HOLDER_SLEEPS,		/* no hog: the holder blocks holding the GIL */
};

struct run {
	enum scenario scenario;
	__u32 options;
	int64_t interval_us;
	int fd;
	const struct gil_page *pg;
	atomic_int holding;
	struct t_hog hog;	/* real-time on CPU 0 for HOG_MS */
	int64_t wait_began;	/* the waiter's ACQUIRE, about */
	atomic_int waiter_tid;
	int64_t holder_woke;	/* HOLDER_SLEEPS: its sleep's end */
	int64_t cpu_at_request;	/* the holder's CPU time, ns */
	pthread_t holder_thread;
	struct gil_stats st;
};

static int64_t cpu_ns(clockid_t clock)
{
	struct timespec ts;

	CHECK(clock_gettime(clock, &ts) == 0);
	return ts.tv_sec * T_NSEC_PER_SEC + ts.tv_nsec;
}

/*
 * Takes the GIL and spins until asked, as an eval loop (having first
 * slept holding it, in HOLDER_SLEEPS); then lets go.
 */
static void *holder_main(void *arg)
{
	struct run *r = arg;

	t_pin(0);
	CHECK(ioctl(r->fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_ACQUIRE) == 0);
	atomic_store(&r->holding, 1);
	if (r->scenario == HOLDER_SLEEPS) {
		t_sleep_ms(HOG_MS);
		r->holder_woke = t_now_ns();
	}
	SPIN_UNTIL(t_drop_requested(r->pg), 10000);
	r->cpu_at_request = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	CHECK(ioctl(r->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void *waiter_main(void *arg)
{
	struct run *r = arg;

	t_pin(1);
	CHECK(ioctl(r->fd, GIL_IOC_ATTACH) == 0);
	r->wait_began = t_now_ns();
	atomic_store(&r->waiter_tid, t_gettid());
	CHECK(ioctl(r->fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

/*
 * Run @r's scenario: the holder's CPU time from the start of the wait to
 * the drop request, and the GIL's statistics in r->st.
 */
static int64_t holder_ran_before_request(struct run *r)
{
	bool hog = r->scenario != HOLDER_SLEEPS;
	clockid_t holder_clock;
	int64_t cpu_at_wait;
	pthread_t waiter;

	t_pin(1);		/* CPU 0 is the hog's: the case goes on meanwhile */
	r->hog = (struct t_hog){ .cpu = 0, .prio = 1, .ms = HOG_MS };
	t_open_mapped(&r->fd, &r->pg);
	CHECK(t_set_interval(r->fd, r->interval_us) == 0);
	if (r->scenario != HOG_BEFORE_WAIT)
		CHECK(set_options(r->fd, r->options) == 0);
	/* The hog first, parked: started later it could land after the wait. */
	if (hog)
		t_hog_start(&r->hog);
	r->holder_thread = t_start_thread(holder_main, r);
	WAIT_UNTIL(atomic_load(&r->holding), 5000);
	if (hog)
		t_hog_go(&r->hog);
	/* The holder has waited for a CPU a whole HOG_MS: its run delay. */
	if (r->scenario == HOG_BEFORE_WAIT)
		t_hog_join(&r->hog);
	CHECK(pthread_getcpuclockid(r->holder_thread, &holder_clock) == 0);
	cpu_at_wait = cpu_ns(holder_clock);
	waiter = t_start_thread(waiter_main, r);
	if (r->scenario == HOG_BEFORE_WAIT) {
		/* Mid-wait: asleep in ACQUIRE, not asked yet. */
		WAIT_UNTIL(atomic_load(&r->waiter_tid), 5000);
		CHECK(t_wait_in_ioctl(getpid(), atomic_load(&r->waiter_tid),
				      GIL_IOC_ACQUIRE, 5000) == 0);
		CHECK(set_options(r->fd, r->options) == 0);
		CHECK(!t_drop_requested(r->pg));
	} else if (hog) {
		t_hog_join(&r->hog);
	}
	t_join_thread(r->holder_thread);
	t_join_thread(waiter);
	CHECK(t_gil_stats(r->fd, &r->st) == 0);
	CHECK_CMP(t_fdinfo_value(r->fd, "preempt_extensions"), ==,
		  r->st.preempt_extensions);
	t_close_gil(r->fd, r->pg);
	t_diag("scenario %d, options %#x: the holder ran %.2f ms before the "
	       "request; %llu drop requests, %llu extensions", r->scenario,
	       r->options, (r->cpu_at_request - cpu_at_wait) / 1e6,
	       (unsigned long long)r->st.drop_requests,
	       (unsigned long long)r->st.preempt_extensions);
	if ((r->scenario == HOG_DURING_WAIT && r->wait_began >= r->hog.end) ||
	    (r->scenario == HOLDER_SLEEPS && r->wait_began >= r->holder_woke))
		T_FAIL("the wait began too late: the machine is too slow");
	CHECK_CMP(r->st.forced_switches, ==, 1);
	return r->cpu_at_request - cpu_at_wait;
}

/* CPython's rule: the waiter asks after an interval of wall time. */
static void wall_clock_asks_a_preempted_holder(void)
{
	struct run r = { .scenario = HOG_DURING_WAIT,
			 .interval_us = INTERVAL_US };
	int64_t ran = holder_ran_before_request(&r);

	CHECK_CMP(ran, <, INTERVAL_US * 1000LL / 2);
	CHECK_CMP(r.st.preempt_extensions, ==, 0);
}

/*
 * GIL_OPT_PREEMPT_AWARE: the holder first gets its interval of CPU, and
 * not much more (the extensions count from the wait's own start).
 */
static void preempt_aware_holder_keeps_its_interval(void)
{
	struct run r = { .scenario = HOG_DURING_WAIT,
			 .options = GIL_OPT_PREEMPT_AWARE,
			 .interval_us = INTERVAL_US };
	int64_t ran = holder_ran_before_request(&r);

	CHECK_CMP(ran, >=, INTERVAL_US * 1000LL / 2);
	CHECK_CMP(ran, <, INTERVAL_US * 1000LL * 10);
	CHECK_CMP(r.st.preempt_extensions, >=, 1);
}

/*
 * Set while a wait is under way, the option does not extend it: that
 * wait has no run delay to count from (the holder's whole HOG_MS before
 * it would otherwise be taken for time it waited during the wait).
 */
static void preempt_aware_set_mid_wait_does_not_extend(void)
{
	struct run r = { .scenario = HOG_BEFORE_WAIT,
			 .options = GIL_OPT_PREEMPT_AWARE,
			 .interval_us = 100000 };
	int64_t ran = holder_ran_before_request(&r);

	CHECK_CMP(ran, <, 2 * r.interval_us * 1000LL);
	CHECK_CMP(r.st.preempt_extensions, ==, 0);
}

/*
 * Blocked holding the GIL is the holder's own time: no extension, and
 * none either once it is asked (its wake-up may wait for a CPU).
 */
static void preempt_aware_blocked_holder_is_asked(void)
{
	struct run r = { .scenario = HOLDER_SLEEPS,
			 .options = GIL_OPT_PREEMPT_AWARE,
			 .interval_us = INTERVAL_US };
	int64_t ran = holder_ran_before_request(&r);

	CHECK_CMP(ran, <, INTERVAL_US * 1000LL / 2);
	CHECK_CMP(r.st.preempt_extensions, ==, 0);
}

int main(void)
{
	T_RUN(options_set_reads_back);
	T_RUN(options_bad_pointers);
	T_RUN(options_are_per_gil);
	T_RUN(wall_clock_asks_a_preempted_holder);
	T_RUN(preempt_aware_holder_keeps_its_interval);
	T_RUN(preempt_aware_set_mid_wait_does_not_extend);
	T_RUN(preempt_aware_blocked_holder_is_asked);
	return t_exit_status();
}
