// SPDX-License-Identifier: GPL-2.0
/*
 * Threads that wait for the GIL can be stopped, traced and frozen, as
 * threads in pthread_cond_wait() can: job control (SIGSTOP/SIGCONT),
 * ptrace (PTRACE_SEIZE + PTRACE_INTERRUPT, what gdb -p and strace -p do),
 * the cgroup v2 freezer, the system's freezer at suspend, and signal
 * handlers that run during the wait.
 * The wait sleeps interruptibly (state S, not D, so it does not count in
 * the load average) and is restarted after each of these: it keeps its
 * deadline, so a signal storm does not delay its drop request, and it
 * still ends with the GIL.
 *
 * A forced releaser, which waits for another thread to take the GIL, stops
 * the same way; to keep it in that wait the test starves the waiter's CPU
 * with a SCHED_FIFO thread.
 */
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "uapi.h"

#define STOP_BOUND_MS	1000
#define STATE_SAMPLES	200	/* of a waiter's state, 1 ms apart */

static void waiting_child(void *arg)
{
	const struct t_gil *g = arg;

	t_attach_acquire(g->fd);
	CHECK(T_PAGE_LOAD(g->pg->locked));
	CHECK(ioctl(g->fd, GIL_IOC_RELEASE) == 0);
}

/*
 * A child process that attaches to @fd and waits in ACQUIRE (its parent
 * holds the GIL), then checks it holds, releases and exits 0.
 */
static pid_t fork_waiting_child(int fd, const struct gil_page *pg)
{
	struct t_gil g = { .fd = fd, .pg = pg };

	return t_fork_child(60, waiting_child, &g);
}

/*
 * Open a GIL, take it, and fork a child that waits for it: *pidp, once it
 * sleeps in ACQUIRE.
 */
static void start_waiting_child(int *fd, const struct gil_page **pg,
				pid_t *pidp)
{
	t_open_mapped(fd, pg);
	t_attach_acquire(*fd);
	*pidp = fork_waiting_child(*fd, *pg);
	CHECK(t_wait_in_ioctl(*pidp, *pidp, GIL_IOC_ACQUIRE, 5000) == 0);
}

/* The child waits again; given the GIL, it takes it and exits 0. */
static void finish_waiting_child(int fd, const struct gil_page *pg, pid_t pid)
{
	CHECK(t_wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_child_ok(pid, 10000));
	t_detach_close_gil(fd, pg);
}

/* Wait for @pid to report a stop (WUNTRACED, or a ptrace stop). */
static int stopped_within(pid_t pid, long ms, int *status, int flags)
{
	int64_t deadline = t_now_ns() + ms * 1000000;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG | flags);
		if (r == pid && WIFSTOPPED(*status))
			return 0;
		if (r == pid) {
			printf("    child ended instead (status 0x%x)\n", *status);
			return -1;
		}
		if (r < 0 || t_now_ns() > deadline)
			return -1;
		t_sleep_us(1000);
	}
}

/*
 * A waiter sleeps in S, never D.  It wakes now and then (its interval,
 * its look at the holder every 10 ms), so one read may catch it running:
 * sample its state over 200 ms.
 */
static void waiter_state_is_s(void)
{
	const struct gil_page *pg;
	int i, asleep = 0, uninterruptible = 0;
	struct t_waiter w;
	char s;
	int fd;

	t_open_mapped(&fd, &pg);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	for (i = 0; i < STATE_SAMPLES; i++) {
		s = t_task_state(getpid(), w.tid);
		asleep += s == 'S';
		uninterruptible += s == 'D';
		t_sleep_us(1000);
	}
	t_release_to_waiter(fd, &w);
	printf("    a waiter's state: S %d times, D %d times in %d\n",
	       asleep, uninterruptible, STATE_SAMPLES);
	CHECK_CMP(uninterruptible, ==, 0);
	CHECK_CMP(asleep, >, 0);
	t_detach_close_gil(fd, pg);
}

/* Ctrl-Z on a process whose thread waits: the stop is reported at once. */
static void sigstop_stops_a_waiting_process(void)
{
	const struct gil_page *pg;
	int64_t t;
	int fd, status;
	pid_t pid;

	start_waiting_child(&fd, &pg, &pid);
	t = t_now_ns();
	CHECK(kill(pid, SIGSTOP) == 0);
	if (stopped_within(pid, STOP_BOUND_MS, &status, WUNTRACED))
		T_FAIL("the stop was not reported");
	printf("    stopped after %lld ms\n", (long long)T_MS(t_now_ns() - t));
	CHECK_CMP(WSTOPSIG(status), ==, SIGSTOP);
	CHECK(kill(pid, SIGCONT) == 0);
	finish_waiting_child(fd, pg, pid);
}

/* What gdb -p and strace -p do to a thread: it stops at once. */
static void ptrace_interrupt_of_a_waiter(void)
{
	const struct gil_page *pg;
	int fd, status;
	pid_t pid;

	start_waiting_child(&fd, &pg, &pid);
	CHECK(ptrace(PTRACE_SEIZE, pid, 0, 0) == 0);
	CHECK(ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0);
	if (stopped_within(pid, STOP_BOUND_MS, &status, __WALL))
		T_FAIL("PTRACE_INTERRUPT did not stop the waiter");
	CHECK_CMP(status >> 16, ==, PTRACE_EVENT_STOP);
	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	finish_waiting_child(fd, pg, pid);
}

static atomic_int handled;

static void count_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

/*
 * A handler runs 1000 times during one wait (no SA_RESTART: the wait is
 * restarted anyway).  The drop request still comes one interval after the
 * wait began, give or take one more interval, though the signals come far
 * more often than that; and the wait ends with the GIL, not an error.
 * The wait goes on after the request, until we release: as long as the
 * 1000 round trips take (seconds, on a loaded host).
 */
static void signals_1000_times_during_one_wait(void)
{
	const long interval_us = 500000;
	struct sigaction sa = { .sa_handler = count_signal };
	const struct gil_page *pg;
	int64_t requested_at = 0;
	struct t_waiter w;
	int i, fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, interval_us) == 0);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	atomic_store(&handled, 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	for (i = 1; i <= 1000; i++) {
		int64_t deadline = t_now_ns() + 2000000000ll;

		CHECK(pthread_kill(w.th, SIGUSR1) == 0);
		while (atomic_load(&handled) < i && t_now_ns() < deadline)
			if (!requested_at && t_drop_requested(pg))
				requested_at = t_now_ns();
		CHECK_CMP(atomic_load(&handled), ==, i);
		CHECK_CMP(atomic_load(&w.state), ==, T_W_ACQUIRING);
	}
	printf("    1000 signals handled in %lld ms of the wait\n",
	       (long long)T_MS(t_now_ns() - w.t_before_acquire));
	if (!requested_at) {
		CHECK(t_wait_drop_request(pg, 5000) == 0);
		requested_at = t_now_ns();
	}
	t_release_to_waiter(fd, &w);
	signal(SIGUSR1, SIG_DFL);
	printf("    drop request %lld ms after the wait began (interval %ld ms)\n",
	       (long long)T_MS(requested_at - w.t_before_acquire),
	       interval_us / 1000);
	CHECK_CMP(requested_at - w.t_before_acquire, <, 2 * interval_us * 1000);
	CHECK_CMP(w.acq_ret, ==, 0);
	t_detach_close_gil(fd, pg);
}

/* Under fifo a waiter interrupted by signals keeps its place in line. */
static void interrupted_waiter_keeps_its_place(void)
{
	struct sigaction sa = { .sa_handler = count_signal };
	const struct gil_page *pg;
	struct t_waiter first, second;
	__u32 fifo = GIL_POLICY_FIFO;
	int i, fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &fifo) == 0);
	CHECK(t_set_interval(fd, 3600000000ll) == 0);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	atomic_store(&handled, 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&first, fd, pg, 1);
	t_waiter_start_blocked(&second, fd, pg, 0);
	for (i = 1; i <= 100; i++) {
		int64_t deadline = t_now_ns() + 200000000;

		CHECK(pthread_kill(first.th, SIGUSR1) == 0);
		while (atomic_load(&handled) < i && t_now_ns() < deadline)
			;
		CHECK_CMP(atomic_load(&handled), ==, i);
	}
	CHECK(t_wait_in_ioctl(getpid(), first.tid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&first, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(first.acq_ret, ==, 0);
	CHECK_CMP(atomic_load(&second.state), ==, T_W_ACQUIRING);
	t_waiter_let_go(&first);
	CHECK(t_join_within(second.th, 5000) == 0);
	CHECK_CMP(second.acq_ret, ==, 0);
	signal(SIGUSR1, SIG_DFL);
	t_detach_close_gil(fd, pg);
}

/* A thread that exits from its signal handler, never back in its wait. */
static void exit_thread(int sig)
{
	(void)sig;
	syscall(SYS_exit, 0);
}

/*
 * A waiter exits while away from its wait (in its handler); the other
 * waiter is killed.  No one waits any more: the drop request is withdrawn
 * and no waiter is left counted.
 */
static void waiter_that_exits_while_away_leaves_the_line(void)
{
	struct sigaction sa = { .sa_handler = exit_thread };
	const struct gil_page *pg;
	struct t_waiter w;
	long long n = -1;
	int fd, withdrawn;
	pid_t pid;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 1000) == 0);
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	t_attach_acquire(fd);
	t_waiter_init(&w, fd, pg, 0);
	CHECK(t_waiter_start(&w) == 0);
	CHECK(t_waiter_blocked(&w, 5000) == 0);
	CHECK(t_wait_drop_request(pg, 5000) == 0);
	/* The child attaches first: an ATTACH would reap the dead record. */
	pid = fork_waiting_child(fd, pg);

	CHECK(t_wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(pthread_kill(w.th, SIGUSR2) == 0);
	/* The thread is gone: /proc no longer has it. */
	for (withdrawn = 0; t_task_state(getpid(), w.tid) != '?'; withdrawn++) {
		CHECK_CMP(withdrawn, <, 5000);
		t_sleep_ms(1);
	}
	t_sigkill_child(pid);
	for (withdrawn = 0; withdrawn < 1000 && t_drop_requested(pg); withdrawn++)
		t_sleep_ms(1);
	n = t_fdinfo_value(fd, "nr_waiters");
	signal(SIGUSR2, SIG_DFL);
	printf("    request %s, %lld waiters counted\n",
	       t_drop_requested(pg) ? "still posted" : "withdrawn", n);
	CHECK(!t_drop_requested(pg));
	CHECK_CMP(n, ==, 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	t_detach_close_gil(fd, pg);
}

#define CG_DIR "/sys/fs/cgroup/gil-freeze-test"

static int cgroup_frozen(int want, long ms)
{
	int64_t deadline = t_now_ns() + ms * 1000000;
	char want_line[16];

	snprintf(want_line, sizeof(want_line), "frozen %d", want);
	for (;;) {
		char *ev = t_read_file(CG_DIR "/cgroup.events");
		int ok = ev && strstr(ev, want_line);

		free(ev);
		if (ok)
			return 0;
		if (t_now_ns() > deadline)
			return -1;
		t_sleep_ms(5);
	}
}

struct freeze_child {
	int fd;
	atomic_int waiting;
	atomic_int failed;
};

static void *freeze_child_thread(void *arg)
{
	struct freeze_child *fc = arg;

	if (ioctl(fc->fd, GIL_IOC_ATTACH)) {
		atomic_store(&fc->failed, 1);
		return NULL;
	}
	atomic_fetch_add(&fc->waiting, 1);
	if (ioctl(fc->fd, GIL_IOC_ACQUIRE) || ioctl(fc->fd, GIL_IOC_RELEASE))
		atomic_store(&fc->failed, 1);
	return NULL;
}

/* A thread's context switches, voluntary and not, from /proc. */
static long task_switches(pid_t pid, pid_t tid)
{
	char path[64], *text, *p;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid,
		 (int)tid);
	text = t_read_file(path);
	for (p = text; p && (p = strstr(p, "ctxt_switches:")); p++)
		n += atol(p + strlen("ctxt_switches:"));
	free(text);
	return n;
}

/* Up to three threads of a process: their tids and context switches. */
struct sleepers {
	int n;
	pid_t tid[3];
	long switches[3];
};

/* How many of @pid's threads wait in ACQUIRE; @sl: the first three. */
static int threads_in_acquire(pid_t pid, struct sleepers *sl)
{
	struct sleepers none;
	struct dirent *de;
	char path[64];
	DIR *d;

	if (!sl)
		sl = &none;
	sl->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	while (d && (de = readdir(d)) && sl->n < 3) {
		pid_t tid = atoi(de->d_name);

		if (de->d_name[0] == '.' ||
		    !t_task_in_ioctl(pid, tid, GIL_IOC_ACQUIRE))
			continue;
		sl->tid[sl->n] = tid;
		sl->switches[sl->n++] = task_switches(pid, tid);
	}
	if (d)
		closedir(d);
	return sl->n;
}

/*
 * The three waiters' switches so far.  The first in line wakes every
 * GIL_OWNER_CHECK_MS to look at the holder: a look may find it running.
 */
static void sleepers_before(pid_t pid, struct sleepers *sl)
{
	int i;

	for (i = 0; i < 500 && threads_in_acquire(pid, sl) < 3; i++)
		t_sleep_ms(1);
	CHECK_CMP(sl->n, ==, 3);
}

/*
 * We hold @fd's GIL, at an interval of an hour: a child process (in
 * @cgroup, when there is one) whose three threads wait for it, asleep.
 */
static pid_t start_sleeping_waiters(int fd, const char *cgroup)
{
	__u64 hour = GIL_INTERVAL_MAX_US;
	char procs[128], pid_s[16];
	pid_t pid;
	int i;

	CHECK(ioctl(fd, GIL_IOC_SET_INTERVAL, &hour) == 0);
	t_attach_acquire(fd);
	pid = t_fork(60);
	CHECK(pid >= 0);
	if (pid == 0) {
		struct freeze_child fc = { .fd = fd };
		pthread_t th[3];

		if (cgroup) {
			snprintf(procs, sizeof(procs), "%s/cgroup.procs",
				 cgroup);
			snprintf(pid_s, sizeof(pid_s), "%d", (int)getpid());
			if (t_write_text(procs, pid_s))
				_exit(2);
		}
		for (i = 0; i < 3; i++)
			if (pthread_create(&th[i], NULL, freeze_child_thread, &fc))
				_exit(3);
		for (i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
		_exit(atomic_load(&fc.failed) ? 4 : 0);
	}
	for (i = 0; i < 500 && threads_in_acquire(pid, NULL) < 3; i++)
		t_sleep_ms(10);
	CHECK_CMP(i, <, 500);
	return pid;
}

/*
 * The waiters, thawed, sleep on in ACQUIRE (a frozen wait is no wake-up,
 * and their hour is not up), and each takes the GIL once we let go.
 * Each was woken to be frozen: each switched since @before.  (Asleep for
 * the hour, only the first in line, which looks at the holder now and
 * then, would have switched at all.)
 */
static void finish_sleeping_waiters(int fd, pid_t pid,
				    const struct sleepers *before)
{
	struct gil_stats st;
	int i, switched = 0;

	for (i = 0; i < 500 && threads_in_acquire(pid, NULL) < 3; i++)
		t_sleep_ms(10);
	CHECK_CMP(i, <, 500);
	for (i = 0; i < before->n; i++)
		switched += task_switches(pid, before->tid[i]) >
			    before->switches[i];
	/* Nobody asked us to let go: no wait timed out, none took over. */
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.drop_requests, ==, 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_child_ok(pid, 10000));
	CHECK_CMP(switched, ==, 3);
}

/* docker pause, systemd freeze: the cgroup v2 freezer. */
static void cgroup_freezer_freezes_waiters(void)
{
	const struct gil_page *pg;
	int fd, frozen, thawed, i;
	struct sleepers before;
	pid_t pid;

	if (access("/sys/fs/cgroup/cgroup.controllers", F_OK))
		SKIP("no cgroup2 at /sys/fs/cgroup");
	rmdir(CG_DIR);
	CHECK(mkdir(CG_DIR, 0755) == 0);
	t_open_mapped(&fd, &pg);
	pid = start_sleeping_waiters(fd, CG_DIR);
	sleepers_before(pid, &before);
	CHECK(t_write_text(CG_DIR "/cgroup.freeze", "1") == 0);
	frozen = cgroup_frozen(1, STOP_BOUND_MS);
	CHECK(t_write_text(CG_DIR "/cgroup.freeze", "0") == 0);
	thawed = cgroup_frozen(0, 5000);
	finish_sleeping_waiters(fd, pid, &before);
	for (i = 0; i < 100 && rmdir(CG_DIR) && errno == EBUSY; i++)
		t_sleep_ms(20);
	CHECK_CMP(frozen, ==, 0);
	CHECK_CMP(thawed, ==, 0);
	t_detach_close_gil(fd, pg);
}

#define PM_TEST		"/sys/power/pm_test"
#define PM_TEST_DELAY	"/sys/module/suspend/parameters/pm_test_delay"

/*
 * A suspend (echo mem > /sys/power/state: to RAM, or to idle as
 * /sys/power/mem_sleep says, s2idle in the test guests), stopped by
 * /sys/power/pm_test after it froze every task, a second, and thawed
 * them: the system-wide freezer (kernel/power/process.c) reaches a wait
 * as a signal does.  A wait it cannot freeze fails the suspend (EBUSY).
 */
static void system_suspend_freezes_waiters(void)
{
	const struct gil_page *pg;
	char *level, *delay;
	int fd, ret, err;
	struct sleepers before;
	pid_t pid;

	level = t_read_file(PM_TEST);
	delay = t_read_file(PM_TEST_DELAY);
	if (!level || !delay || geteuid() != 0) {
		free(level);
		free(delay);
		SKIP("no " PM_TEST " (CONFIG_PM_DEBUG), or not root");
	}
	free(level);
	t_open_mapped(&fd, &pg);
	pid = start_sleeping_waiters(fd, NULL);
	sleepers_before(pid, &before);
	CHECK(t_write_text(PM_TEST, "freezer") == 0);
	CHECK(t_write_text(PM_TEST_DELAY, "1") == 0);
	ret = t_write_text("/sys/power/state", "mem");
	err = errno;
	CHECK(t_write_text(PM_TEST, "none") == 0);
	CHECK(t_write_text(PM_TEST_DELAY, delay) == 0);
	free(delay);
	if (ret)
		t_diag("echo mem > /sys/power/state: %s", strerror(err));
	CHECK_CMP(ret, ==, 0);
	finish_sleeping_waiters(fd, pid, &before);
	t_detach_close_gil(fd, pg);
}

/* ---- a forced releaser, kept in its wait ---------------------------------- */

struct handshake {
	atomic_int hog_ready;
	atomic_int hog_stop;
	atomic_int holder_ready;
	atomic_int go;
	int release_ret, release_errno;
};

/* A child: SCHED_FIFO on CPU 1 until told to stop (10 s at most). */
static void hog(void *arg)
{
	struct sched_param sp = { .sched_priority = 50 };
	int64_t end = t_now_ns() + 10000000000ll;
	struct handshake *h = arg;

	t_pin(1);
	CHECK(sched_setscheduler(0, SCHED_FIFO, &sp) == 0);
	atomic_store(&h->hog_ready, 1);
	while (!atomic_load(&h->hog_stop) && t_now_ns() < end)
		;
}

#define RT_RUNTIME "/proc/sys/kernel/sched_rt_runtime_us"

/*
 * A forced release stuck in its handshake: a child (on CPU 0) released the
 * GIL forced, for a waiter thread of ours on CPU 1 that cannot run, as a
 * SCHED_FIFO hog has that CPU (RT throttling off).  SKIPs before any of
 * it where it cannot be done.
 */
struct stuck {
	struct handshake *h;
	int fd;
	const struct gil_page *pg;
	pid_t rel_pid, hog_pid;
	struct t_waiter w;
	char *rt_saved;
};

/*
 * A child on CPU 0: take the GIL; once told, answer the drop request
 * (forced).
 */
static void forced_releaser(void *arg)
{
	struct stuck *st = arg;
	struct handshake *h = st->h;

	t_pin(0);
	t_attach_acquire(st->fd);
	atomic_store(&h->holder_ready, 1);
	while (!atomic_load(&h->go) || !t_drop_requested(st->pg))
		;
	errno = 0;
	h->release_ret = ioctl(st->fd, GIL_IOC_RELEASE);
	h->release_errno = errno;
}

static void stuck_handshake(struct stuck *st)
{
	st->rt_saved = t_read_file(RT_RUNTIME);
	if (!st->rt_saved)
		SKIP("no sched_rt_runtime_us");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP("needs 2 CPUs");
	st->h = t_shared_zalloc(sizeof(*st->h));
	CHECK(st->h);
	t_open_mapped(&st->fd, &st->pg);
	CHECK(t_set_interval(st->fd, 1000) == 0);
	/* Under fifo and io the release would hand the GIL over: no wait. */
	CHECK(ioctl(st->fd, GIL_IOC_SET_POLICY,
		    &(__u32){ GIL_POLICY_CPYTHON }) == 0);
	st->rel_pid = t_fork_child(60, forced_releaser, st);
	while (!atomic_load(&st->h->holder_ready))
		t_sleep_us(500);

	/* The waiter: a thread of ours on CPU 1, where the hog will run. */
	t_pin(1);
	t_waiter_init(&st->w, st->fd, st->pg, 0);
	CHECK(t_waiter_start(&st->w) == 0);
	t_pin(0);
	CHECK(t_waiter_blocked(&st->w, 5000) == 0);
	CHECK(t_wait_drop_request(st->pg, 5000) == 0);
	CHECK(t_write_text(RT_RUNTIME, "-1") == 0);
	st->hog_pid = t_fork_child(60, hog, st->h);

	while (!atomic_load(&st->h->hog_ready))
		t_sleep_us(500);
	/* The forced release, and the handshake the waiter cannot end. */
	atomic_store(&st->h->go, 1);
	CHECK(t_wait_in_ioctl(st->rel_pid, st->rel_pid, GIL_IOC_RELEASE,
			      5000) == 0);
}

/* Let the waiter run again, and put RT throttling back. */
static void unstick(struct stuck *st)
{
	atomic_store(&st->h->hog_stop, 1);
	CHECK(t_child_ok(st->hog_pid, 10000));
	CHECK(t_write_text(RT_RUNTIME, st->rt_saved) == 0);
	free(st->rt_saved);
}

/*
 * SIGSTOP stops the releaser in its handshake; SIGCONT and the hog's end
 * let the handshake finish.
 */
static void forced_releaser_stops(void)
{
	struct stuck st;
	int status, stopped;

	stuck_handshake(&st);
	CHECK(kill(st.rel_pid, SIGSTOP) == 0);
	stopped = stopped_within(st.rel_pid, STOP_BOUND_MS, &status,
				 WUNTRACED);
	CHECK(kill(st.rel_pid, SIGCONT) == 0);
	unstick(&st);
	CHECK(t_child_ok(st.rel_pid, 10000));
	CHECK(t_join_within(st.w.th, 5000) == 0);
	CHECK_CMP(stopped, ==, 0);
	CHECK_CMP(st.h->release_ret, ==, 0);
	CHECK_CMP(st.w.acq_ret, ==, 0);
	munmap(st.h, sizeof(*st.h));
	t_close_gil(st.fd, st.pg);
}

/*
 * The releaser sleeps in its handshake for a waiter that, woken at last,
 * goes away for a signal and exits from its handler: nobody is left to
 * take the GIL, and the release must end.
 */
static void forced_releaser_outlives_its_waiter(void)
{
	struct sigaction sa = { .sa_handler = exit_thread };
	struct stuck st;

	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	stuck_handshake(&st);

	/* Pending when the waiter wakes: it goes away before it takes. */
	CHECK(pthread_kill(st.w.th, SIGUSR2) == 0);
	unstick(&st);
	CHECK(t_child_ok(st.rel_pid, 10000));
	signal(SIGUSR2, SIG_DFL);
	CHECK_CMP(st.h->release_ret, ==, 0);
	munmap(st.h, sizeof(*st.h));
	t_close_gil(st.fd, st.pg);
}

int main(void)
{
	T_RUN(waiter_state_is_s);
	T_RUN(sigstop_stops_a_waiting_process);
	T_RUN(ptrace_interrupt_of_a_waiter);
	T_RUN(signals_1000_times_during_one_wait);
	T_RUN(interrupted_waiter_keeps_its_place);
	T_RUN(waiter_that_exits_while_away_leaves_the_line);
	T_RUN(cgroup_freezer_freezes_waiters);
	T_RUN(system_suspend_freezes_waiters);
	T_RUN(forced_releaser_stops);
	T_RUN(forced_releaser_outlives_its_waiter);
	return t_exit_status();
}
