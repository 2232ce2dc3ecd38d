// SPDX-License-Identifier: GPL-2.0
/*
 * Signals and ACQUIRE: ordinary signals do not make it fail (their
 * handlers run during the wait, which is then restarted and goes on); a
 * waiting thread stays killable.
 */
#include "uapi.h"

static const struct gil_page *sig_page;
static atomic_int sig_count;
static atomic_uint sig_locked_seen;
static atomic_ullong sig_switch_seen;
static atomic_int sig_sleep_ms;		/* how long the handler lasts */

static void on_usr1(int sig)
{
	int saved_errno = errno;

	(void)sig;
	/* What the GIL looked like when the handler ran (first call). */
	if (atomic_fetch_add(&sig_count, 1) == 0 && sig_page) {
		atomic_store(&sig_locked_seen, T_PAGE_LOAD(sig_page->locked));
		atomic_store(&sig_switch_seen,
			     T_PAGE_LOAD(sig_page->switch_number));
	}
	if (atomic_load(&sig_sleep_ms))
		t_sleep_ms(atomic_load(&sig_sleep_ms));
	errno = saved_errno;
}

/*
 * Install on_usr1 for SIGUSR1 with @sa_flags, reporting what it sees of
 * @pg (if not NULL), and zero what it saw so far.
 */
static void catch_usr1(int sa_flags, const struct gil_page *pg)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = sa_flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sig_page = pg;
	atomic_store(&sig_count, 0);
	atomic_store(&sig_locked_seen, 0);
	atomic_store(&sig_switch_seen, 0);
	atomic_store(&sig_sleep_ms, 0);
}

/* The end of a test that caught SIGUSR1: detach, restore, close. */
static void detach_uncatch_close(int fd, const struct gil_page *pg)
{
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	signal(SIGUSR1, SIG_DFL);
	t_close_gil(fd, pg);
}

/*
 * The main thread holds the GIL; a waiter blocks in ACQUIRE and gets a
 * burst of SIGUSR1.  *sn_held is switch_number while the main thread held.
 */
static void signalled_waiter(int sa_flags, struct t_waiter *w, int fd,
			     const struct gil_page *pg, __u64 *sn_held)
{
	int i;

	catch_usr1(sa_flags, pg);
	t_attach_acquire(fd);
	*sn_held = T_PAGE_LOAD(pg->switch_number);
	t_waiter_start_blocked(w, fd, pg, 0);
	for (i = 0; i < 5; i++) {
		CHECK(pthread_kill(w->th, SIGUSR1) == 0);
		t_sleep_ms(20);
	}
	/* Still waiting: no EINTR, no early return. */
	t_sleep_ms(100);
	CHECK(atomic_load(&w->state) == T_W_ACQUIRING);
}

/* A signalled waiter keeps waiting, and gets the GIL when it is released. */
static void signalled_waiter_keeps_waiting(int sa_flags)
{
	const struct gil_page *pg;
	struct t_waiter w;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	signalled_waiter(sa_flags, &w, fd, pg, &sn);
	t_release_to_waiter(fd, &w);
	CHECK_CMP(w.rel_ret, ==, 0);
	/* The handler did run (standard signals coalesce: at least once). */
	CHECK_CMP(atomic_load(&sig_count), >=, 1);
	detach_uncatch_close(fd, pg);
}

static void signal_with_restart_keeps_waiting(void)
{
	signalled_waiter_keeps_waiting(SA_RESTART);
}

static void signal_without_restart_keeps_waiting(void)
{
	signalled_waiter_keeps_waiting(0);
}

/*
 * The handler runs during the wait, as it would in pthread_cond_wait():
 * while the main thread still holds the GIL (the GIL locked, at the main
 * thread's switch_number).  The wait then goes on and ends with the GIL.
 */
static void signal_handler_runs_during_the_wait(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	int during;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	signalled_waiter(0, &w, fd, pg, &sn);
	during = atomic_load(&sig_count);
	t_release_to_waiter(fd, &w);
	detach_uncatch_close(fd, pg);
	CHECK_CMP(during, >=, 1);
	CHECK_CMP(atomic_load(&sig_locked_seen), ==, 1);
	CHECK_CMP(atomic_load(&sig_switch_seen), ==, sn);
	CHECK_CMP(w.sn_after_acquire, ==, sn + 1);
}

/*
 * A take whose wait a signal interrupted, restarted after the GIL was
 * released meanwhile, takes the free GIL and counts the wait it had, from
 * when it began: not from time 0 (a restarted take that found the GIL free
 * did not read the clock).
 */
static void restarted_take_counts_its_wait(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	int64_t t0, t1;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000000) == 0);	/* no drop request */
	catch_usr1(SA_RESTART, NULL);
	atomic_store(&sig_sleep_ms, 100);
	t_attach_acquire(fd);
	t0 = t_now_ns();
	t_waiter_start_blocked(&w, fd, pg, 0);
	t_sleep_ms(20);
	CHECK(pthread_kill(w.th, SIGUSR1) == 0);
	while (!atomic_load(&sig_count) && t_now_ns() - t0 < 5000000000ll)
		t_sleep_us(200);
	CHECK_CMP(atomic_load(&sig_count), ==, 1);
	/* Released while the waiter is in its handler, away from the wait. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_join_within(w.th, 5000) == 0);
	t1 = t_now_ns();
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.contended, ==, 1);
	CHECK_CMP(st.wait_ns, >=, 20000000);
	CHECK_CMP(st.wait_ns, <=, t1 - t0);
	detach_uncatch_close(fd, pg);
}

struct pelter {
	pthread_t target;
	atomic_int stop;
	long sent;
};

static void *pelter_main(void *arg)
{
	struct pelter *p = arg;

	while (!atomic_load(&p->stop)) {
		if (pthread_kill(p->target, SIGUSR1) == 0)
			p->sent++;
		t_sleep_us(2000);
	}
	return NULL;
}

/*
 * Signals are no wake-ups of the wait: a waiter that receives a signal
 * every 2 ms still posts its drop request once a 50 ms interval has
 * passed.  (Were each signal to restart the wait, and with it the
 * interval, a thread under a profiling timer would never ask for the GIL.)
 */
static void signals_do_not_delay_drop_request(void)
{
	const struct gil_page *pg;
	struct pelter p;
	struct t_waiter w;
	pthread_t pth;
	int64_t elapsed;
	int fd, got;

	t_open_mapped(&fd, &pg);
	catch_usr1(SA_RESTART, NULL);

	CHECK(t_set_interval(fd, 50000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	memset(&p, 0, sizeof(p));
	p.target = w.th;
	atomic_init(&p.stop, 0);
	CHECK(pthread_create(&pth, NULL, pelter_main, &p) == 0);
	got = t_wait_drop_request(pg, 3000);
	elapsed = t_now_ns() - w.t_before_acquire;
	atomic_store(&p.stop, 1);
	CHECK(t_join_within(pth, 5000) == 0);
	printf("    %ld signals sent, drop request %s after %lld ms\n",
	       p.sent, got ? "not seen" : "seen", (long long)T_MS(elapsed));
	t_release_to_waiter(fd, &w);
	detach_uncatch_close(fd, pg);
	CHECK(got == 0);
	CHECK_CMP(elapsed, >=, 50000000);
}

/*
 * A child process waits in ACQUIRE for the GIL the parent holds (it has
 * posted a drop request, so it surely waits) and is SIGKILLed: it dies
 * promptly, and the parent's release, a forced one with nobody left
 * waiting, does not block.
 */
/* The child: it waits for the GIL, until it is killed. */
static void attach_and_wait(void *arg)
{
	int fd = *(int *)arg;

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	ioctl(fd, GIL_IOC_ACQUIRE);
	T_FAIL("ACQUIRE returned: it should still wait");
}

static void sigkill_of_waiting_process(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int64_t t;
	pid_t pid;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 5000) == 0);
	t_attach_acquire(fd);
	pid = t_fork_child(30, attach_and_wait, &fd);
	CHECK(t_wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 10000) == 0);
	CHECK(t_wait_drop_request(pg, 10000) == 0);
	t = t_now_ns();
	t_sigkill_child(pid);
	CHECK_CMP(t_now_ns() - t, <, 5000000000ll);
	/* The GIL is still ours; the release cannot wait for the dead. */
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	t = t_now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(t_now_ns() - t, <, 5000000000ll);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.owner_deaths, ==, 0);
	/* And it works on. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	t_detach_close_gil(fd, pg);
}

/*
 * A whole multi-threaded process dies promptly on SIGKILL while one of its
 * threads waits in ACQUIRE and another holds the GIL.
 */
/* The child: it holds, a thread of it waits; it says so and sleeps. */
static void holder_and_waiter(void *arg)
{
	const struct t_gil *g = arg;
	struct t_waiter w;

	t_attach_acquire(g->fd);
	t_waiter_init(&w, g->fd, g->pg, 0);
	CHECK(t_waiter_start(&w) == 0);
	CHECK(t_waiter_blocked(&w, 10000) == 0);
	CHECK(write(g->pipe[1], "w", 1) == 1);
	for (;;)
		pause();
}

static void sigkill_of_process_with_holder_and_waiter(void)
{
	const struct gil_page *pg;
	struct t_gil g;
	int64_t t;
	int fd;

	pid_t pid;
	char c;

	t_open_mapped(&g.fd, &g.pg);
	fd = g.fd;
	pg = g.pg;
	CHECK(pipe(g.pipe) == 0);
	pid = t_fork_child(30, holder_and_waiter, &g);
	close(g.pipe[1]);
	CHECK(read(g.pipe[0], &c, 1) == 1);
	close(g.pipe[0]);
	t = t_now_ns();
	t_sigkill_child(pid);
	CHECK_CMP(t_now_ns() - t, <, 5000000000ll);
	/*
	 * The GIL outlives the process in our descriptor.  Its holder died
	 * holding it: we recover it, told so.
	 */
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	t = t_now_ns();
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK_CMP(t_now_ns() - t, <, 5000000000ll);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	t_detach_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(signal_with_restart_keeps_waiting);
	T_RUN(signal_without_restart_keeps_waiting);
	T_RUN(signal_handler_runs_during_the_wait);
	T_RUN(restarted_take_counts_its_wait);
	T_RUN(signals_do_not_delay_drop_request);
	T_RUN(sigkill_of_waiting_process);
	T_RUN(sigkill_of_process_with_holder_and_waiter);
	return t_exit_status();
}
