// SPDX-License-Identifier: GPL-2.0
/*
 * Signals and ACQUIRE: ordinary signals do not make it fail (their
 * handlers run once the GIL is taken); a waiting thread stays killable.
 */
#include "harness.h"

static const struct gil_page *sig_page;
static atomic_int sig_count;
static atomic_uint sig_locked_seen;
static atomic_ullong sig_switch_seen;

static void on_usr1(int sig)
{
	(void)sig;
	/* What the GIL looked like when the handler ran (first call). */
	if (atomic_fetch_add(&sig_count, 1) == 0 && sig_page) {
		atomic_store(&sig_locked_seen, PAGE_LOAD(sig_page->locked));
		atomic_store(&sig_switch_seen,
			     PAGE_LOAD(sig_page->switch_number));
	}
}

/*
 * The main thread holds the GIL; a waiter blocks in ACQUIRE and gets a
 * burst of SIGUSR1.  *sn_held is switch_number while the main thread held.
 */
static int signalled_waiter(int sa_flags, struct waiter *w, int fd,
			    const struct gil_page *pg, __u64 *sn_held)
{
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = sa_flags;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sig_page = pg;
	atomic_store(&sig_count, 0);
	atomic_store(&sig_locked_seen, 0);
	atomic_store(&sig_switch_seen, 0);

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	*sn_held = PAGE_LOAD(pg->switch_number);
	waiter_init(w, fd, pg, 0);
	CHECK(waiter_start(w) == 0);
	CHECK(waiter_blocked(w, 5000) == 0);
	for (i = 0; i < 5; i++) {
		CHECK(pthread_kill(w->th, SIGUSR1) == 0);
		sleep_ms(20);
	}
	/* Still waiting: no EINTR, no early return. */
	sleep_ms(100);
	CHECK(atomic_load(&w->state) == W_ACQUIRING);
	return 0;
}

static int finish_signalled_waiter(struct waiter *w, int fd)
{
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w->th, 5000) == 0);
	CHECK_CMP(w->acq_ret, ==, 0);
	CHECK_CMP(w->rel_ret, ==, 0);
	/* The handler did run (standard signals coalesce: at least once). */
	CHECK_CMP(atomic_load(&sig_count), >=, 1);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	signal(SIGUSR1, SIG_DFL);
	return 0;
}

static int signal_with_restart_keeps_waiting(void)
{
	const struct gil_page *pg;
	struct waiter w;
	__u64 sn;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(signalled_waiter(SA_RESTART, &w, fd, pg, &sn) == 0);
	CHECK(finish_signalled_waiter(&w, fd) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

static int signal_without_restart_keeps_waiting(void)
{
	const struct gil_page *pg;
	struct waiter w;
	__u64 sn;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(signalled_waiter(0, &w, fd, pg, &sn) == 0);
	CHECK(finish_signalled_waiter(&w, fd) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

/*
 * "Their handlers run once the GIL is taken": the handler did not run
 * while the main thread held the GIL, and when it ran the waiter was the
 * holder (the GIL locked, one switch after the main thread's).
 */
static int signal_handler_runs_after_gil_taken(void)
{
	const struct gil_page *pg;
	struct waiter w;
	int early;
	__u64 sn;
	int fd = open_gil();

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(signalled_waiter(0, &w, fd, pg, &sn) == 0);
	/* Handler runs so far, while the main thread still holds the GIL. */
	early = atomic_load(&sig_count);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	signal(SIGUSR1, SIG_DFL);
	unmap_gil(pg);
	close(fd);
	CHECK_CMP(early, ==, 0);
	CHECK_CMP(atomic_load(&sig_count), >=, 1);
	CHECK_CMP(atomic_load(&sig_locked_seen), ==, 1);
	CHECK_CMP(atomic_load(&sig_switch_seen), ==, sn + 1);
	return 0;
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
		sleep_us(2000);
	}
	return NULL;
}

/*
 * Signals are no wake-ups of the wait: a waiter that receives a signal
 * every 2 ms still posts its drop request once a 50 ms interval has
 * passed.  (Were each signal to restart the wait, and with it the
 * interval, a thread under a profiling timer would never ask for the GIL.)
 */
static int signals_do_not_delay_drop_request(void)
{
	const struct gil_page *pg;
	struct sigaction sa;
	struct pelter p;
	struct waiter w;
	pthread_t pth;
	int64_t elapsed;
	int fd = open_gil(), got;

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sig_page = NULL;
	atomic_store(&sig_count, 0);

	CHECK(gil_set_interval(fd, 50000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	waiter_init(&w, fd, pg, 0);
	CHECK(waiter_start(&w) == 0);
	CHECK(waiter_blocked(&w, 5000) == 0);
	memset(&p, 0, sizeof(p));
	p.target = w.th;
	atomic_init(&p.stop, 0);
	CHECK(pthread_create(&pth, NULL, pelter_main, &p) == 0);
	got = wait_drop_request(pg, 3000);
	elapsed = now_ns() - w.t_before_acquire;
	atomic_store(&p.stop, 1);
	CHECK(join_within(pth, 5000) == 0);
	printf("    %ld signals sent, drop request %s after %lld ms\n",
	       p.sent, got ? "not seen" : "seen", (long long)MS(elapsed));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	signal(SIGUSR1, SIG_DFL);
	unmap_gil(pg);
	close(fd);
	CHECK(got == 0);
	CHECK_CMP(elapsed, >=, 50000000);
	return 0;
}

/*
 * A child process waits in ACQUIRE for the GIL the parent holds (it has
 * posted a drop request, so it surely waits) and is SIGKILLed: it dies
 * promptly, and the parent's release, a forced one with nobody left
 * waiting, does not block.
 */
static int sigkill_of_waiting_process(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	int64_t t;
	int fd = open_gil(), status;
	pid_t pid;

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(gil_set_interval(fd, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	pid = test_fork(30);
	CHECK(pid >= 0);
	if (pid == 0) {
		if (ioctl(fd, GIL_IOC_ATTACH))
			_exit(2);
		ioctl(fd, GIL_IOC_ACQUIRE);
		_exit(3);	/* should never get here */
	}
	CHECK(wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 10000) == 0);
	CHECK(wait_drop_request(pg, 10000) == 0);
	t = now_ns();
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_child(pid, 5000, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_CMP(now_ns() - t, <, 5000000000ll);
	/* The GIL is still ours; the release cannot wait for the dead. */
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
	t = now_ns();
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(now_ns() - t, <, 5000000000ll);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.owner_deaths, ==, 0);
	/* And it works on. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

/*
 * A whole multi-threaded process dies promptly on SIGKILL while one of its
 * threads waits in ACQUIRE and another holds the GIL.
 */
static int sigkill_of_process_with_holder_and_waiter(void)
{
	const struct gil_page *pg;
	int fd = open_gil(), status, p[2];
	int64_t t;
	pid_t pid;
	char c;

	CHECK(fd >= 0);
	pg = map_gil(fd);
	CHECK(pg);
	CHECK(pipe(p) == 0);
	pid = test_fork(30);
	CHECK(pid >= 0);
	if (pid == 0) {
		struct waiter w;

		if (ioctl(fd, GIL_IOC_ATTACH) || ioctl(fd, GIL_IOC_ACQUIRE))
			_exit(2);
		waiter_init(&w, fd, pg, 0);
		if (waiter_start(&w) || waiter_blocked(&w, 10000))
			_exit(3);
		if (write(p[1], "w", 1) != 1)
			_exit(4);
		for (;;)
			pause();
	}
	close(p[1]);
	CHECK(read(p[0], &c, 1) == 1);
	close(p[0]);
	t = now_ns();
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(wait_child(pid, 5000, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	CHECK_CMP(now_ns() - t, <, 5000000000ll);
	/*
	 * The GIL outlives the process in our descriptor.  Its holder died
	 * holding it: we recover it, told so.
	 */
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	t = now_ns();
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK_CMP(now_ns() - t, <, 5000000000ll);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	unmap_gil(pg);
	close(fd);
	return 0;
}

int main(void)
{
	RUN(signal_with_restart_keeps_waiting);
	RUN(signal_without_restart_keeps_waiting);
	RUN(signal_handler_runs_after_gil_taken);
	RUN(signals_do_not_delay_drop_request);
	RUN(sigkill_of_waiting_process);
	RUN(sigkill_of_process_with_holder_and_waiter);
	return harness_exit();
}
