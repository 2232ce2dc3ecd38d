// SPDX-License-Identifier: GPL-2.0
/*
 * A GIL's options (ABI 2.3): GET/SET_OPTIONS and their errors, fdinfo, and
 * GIL_OPT_PREEMPT_AWARE against the wall-clock interval.
 *
 * The preemption: a holder spins on CPU 0, polling the drop request as an
 * eval loop does, until a SCHED_FIFO hog takes CPU 0 for HOG_MS; then a
 * waiter on CPU 1 begins to wait, with a 10 ms interval, while the holder
 * waits for a CPU.  With the wall clock the waiter asks a holder that has
 * not run since (it sees the request only when the hog is done); with the
 * option the waiter waits on until the holder has had its interval of CPU.
 * The hog runs for twenty intervals, so that the wait surely begins
 * during it, however slow the machine.  Every test kernel has CONFIG_SCHED_INFO (the debug one
 * through CONFIG_SCHEDSTATS), so the option is asserted, not skipped.
 */
#include <pthread.h>

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
	CHECK_ERR(set_options(fd, 0x80000000U), EINVAL);
	CHECK_ERR(set_options(fd, GIL_OPTS_ALL | (GIL_OPTS_ALL << 1)), EINVAL);
	CHECK_CMP(get_options(fd), ==, GIL_OPT_PREEMPT_AWARE);
	CHECK(set_options(fd, 0) == 0);
	CHECK_CMP(get_options(fd), ==, 0);
	fdinfo_shows_options(fd, "-");
	/* ABI 2.3's statistics: the whole struct, the new counter at 0. */
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.size, ==, GIL_STATS_SIZE_VER2);
	CHECK_CMP(st.preempt_extensions, ==, 0);
	t_close_gil(fd, pg);
}

static void options_bad_pointers(void)
{
	const struct gil_page *pg;
	void *none, *gone;
	int fd;

	/* The page first: it could land where t_unmapped_page() was. */
	t_open_mapped(&fd, &pg);
	none = t_inaccessible_page();
	gone = t_unmapped_page();
	CHECK(none && gone);
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_OPTIONS, none), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_OPTIONS, gone), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_OPTIONS, none), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_OPTIONS, NULL), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_OPTIONS, &pg->policy), EFAULT);
	CHECK_CMP(get_options(fd), ==, 0);
	munmap(none, t_page_size());
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

struct preempted {
	int fd;
	const struct gil_page *pg;
	atomic_int holding;
	int hog_go[2];		/* a pipe: the hog starts when it reads */
	atomic_int hogging;
	int64_t cpu_at_request;	/* the holder's CPU time, ns */
	int64_t hog_ns;		/* how long the hog ran */
	pthread_t holder_thread;
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
}

static int64_t cpu_ns(clockid_t clock)
{
	struct timespec ts;

	CHECK(clock_gettime(clock, &ts) == 0);
	return ts.tv_sec * T_NSEC_PER_SEC + ts.tv_nsec;
}

/* Takes the GIL and spins until asked, as an eval loop; then lets go. */
static void *holder_main(void *arg)
{
	struct preempted *p = arg;

	pin(0);
	CHECK(ioctl(p->fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(p->fd, GIL_IOC_ACQUIRE) == 0);
	atomic_store(&p->holding, 1);
	SPIN_UNTIL(t_drop_requested(p->pg), 10000);
	p->cpu_at_request = cpu_ns(CLOCK_THREAD_CPUTIME_ID);
	CHECK(ioctl(p->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(p->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void *waiter_main(void *arg)
{
	struct preempted *p = arg;

	pin(1);
	CHECK(ioctl(p->fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(p->fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(p->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(p->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

/* Real-time on CPU 0 for HOG_MS: the holder waits for a CPU the while. */
static void *hog_main(void *arg)
{
	struct sched_param sp = { .sched_priority = 1 };
	struct preempted *p = arg;
	int64_t start;
	char c;

	pin(0);
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		T_FAIL("SCHED_FIFO: %s (the tests run as root)", strerror(errno));
	/* Asleep until told: a real-time thread spinning here would be the hog. */
	CHECK(read(p->hog_go[0], &c, 1) == 1);
	atomic_store(&p->hogging, 1);
	start = t_now_ns();
	while (t_now_ns() - start < HOG_MS * T_NSEC_PER_MSEC)
		;
	p->hog_ns = t_now_ns() - start;
	return NULL;
}

/*
 * The holder's CPU time from the start of the wait to the drop request,
 * and the GIL's statistics after it.
 */
static int64_t holder_ran_before_request(__u32 options, struct gil_stats *st)
{
	struct preempted p = { 0 };
	pthread_t waiter, hog;
	clockid_t holder_clock;
	int64_t cpu_at_wait;

	pin(1);		/* CPU 0 is the hog's: the case goes on meanwhile */
	CHECK(pipe(p.hog_go) == 0);
	t_open_mapped(&p.fd, &p.pg);
	CHECK(t_set_interval(p.fd, INTERVAL_US) == 0);
	CHECK(set_options(p.fd, options) == 0);
	/* The hog first, parked: started later it could land after the wait. */
	hog = t_start_thread(hog_main, &p);
	p.holder_thread = t_start_thread(holder_main, &p);
	WAIT_UNTIL(atomic_load(&p.holding), 5000);
	CHECK(write(p.hog_go[1], "", 1) == 1);
	WAIT_UNTIL(atomic_load(&p.hogging), 5000);
	/* The holder is off its CPU from here until the hog is done. */
	CHECK(pthread_getcpuclockid(p.holder_thread, &holder_clock) == 0);
	cpu_at_wait = cpu_ns(holder_clock);
	waiter = t_start_thread(waiter_main, &p);
	t_join_thread(hog);
	t_join_thread(p.holder_thread);
	t_join_thread(waiter);
	CHECK(t_gil_stats(p.fd, st) == 0);
	t_close_gil(p.fd, p.pg);
	close(p.hog_go[0]);
	close(p.hog_go[1]);
	t_diag("options %#x: the hog ran %lld ms; the holder ran %.2f ms "
	       "before the request; %llu drop requests, %llu extensions",
	       options, (long long)T_MS(p.hog_ns),
	       (p.cpu_at_request - cpu_at_wait) / 1e6,
	       (unsigned long long)st->drop_requests,
	       (unsigned long long)st->preempt_extensions);
	CHECK_CMP(p.hog_ns, >=, HOG_MS * T_NSEC_PER_MSEC);
	return p.cpu_at_request - cpu_at_wait;
}

/* CPython's rule: the waiter asks after an interval of wall time. */
static void wall_clock_asks_a_preempted_holder(void)
{
	struct gil_stats st;
	int64_t ran = holder_ran_before_request(0, &st);

	CHECK_CMP(ran, <, INTERVAL_US * 1000LL / 2);
	CHECK_CMP(st.preempt_extensions, ==, 0);
	CHECK_CMP(st.forced_switches, ==, 1);
}

/* GIL_OPT_PREEMPT_AWARE: the holder first gets its interval of CPU. */
static void preempt_aware_holder_keeps_its_interval(void)
{
	struct gil_stats st;
	int64_t ran = holder_ran_before_request(GIL_OPT_PREEMPT_AWARE, &st);

	CHECK_CMP(ran, >=, INTERVAL_US * 1000LL / 2);
	CHECK_CMP(st.preempt_extensions, >=, 1);
	CHECK_CMP(st.forced_switches, ==, 1);
}

int main(void)
{
	T_RUN(options_set_reads_back);
	T_RUN(options_bad_pointers);
	T_RUN(options_are_per_gil);
	T_RUN(wall_clock_asks_a_preempted_holder);
	T_RUN(preempt_aware_holder_keeps_its_interval);
	return t_exit_status();
}
