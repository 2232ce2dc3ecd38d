// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: holders that die holding (EOWNERDEAD, noticed within 100 ms
 * whatever the interval), GILs shared with forked children, many GILs at
 * once; closing descriptors, which changes nothing in the GIL (its state
 * belongs to the open file: no fd table is searched, and unshare() makes
 * no difference), and GIL_IOC_SHUTDOWN, which ends a process's part.
 */
#include <sys/resource.h>

#include "harness.h"

/* ---- owner death ------------------------------------------------------------ */

/* The GIL's count of owner deaths; -1 if GET_STATS failed. */
static long long owner_deaths(int fd)
{
	struct gil_stats st;

	if (gil_stats(fd, &st))
		return -1;
	return st.owner_deaths;
}

/* A thread takes the GIL and exits holding it; then we acquire. */
static int owner_thread_exit_then_acquire(void)
{
	const struct gil_page *pg;
	struct agent h;
	int64_t t;
	__u64 sn;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000) == 0);
	CHECK(agent_start(&h, fd) == 0);
	CHECK(agent_call(&h, GIL_IOC_ATTACH) == 0);
	CHECK(agent_call(&h, GIL_IOC_ACQUIRE) == 0);
	sn = PAGE_LOAD(pg->switch_number);
	CHECK(agent_stop(&h) == 0);	/* pthread_exit, holding */

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	t = now_ns();
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	t = now_ns() - t;
	printf("    recovered after %lld us\n", (long long)t / 1000);
	/* About one interval plus slack: seconds at most, even under TCG. */
	CHECK_CMP(t, <, 3000000000ll);
	/* We hold it now: it is locked, by a new owner. */
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, sn + 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	/* Reported once: the next take is an ordinary one. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	return detach_close_gil(fd, pg);
}

struct dying_holder {
	int fd;
	const struct gil_page *pg;
	atomic_int holding;
	int64_t t_exit;
	int err, saw_request;
};

/* Takes the GIL, waits for a drop request, and exits without answering. */
static void *dying_holder_main(void *arg)
{
	struct dying_holder *d = arg;

	if (ioctl(d->fd, GIL_IOC_ATTACH) || ioctl(d->fd, GIL_IOC_ACQUIRE)) {
		d->err = errno;
		atomic_store(&d->holding, -1);
		return NULL;
	}
	atomic_store(&d->holding, 1);
	d->saw_request = wait_drop_request(d->pg, 10000) == 0;
	d->t_exit = now_ns();
	pthread_exit(NULL);
}

/*
 * We wait for the GIL and ask for it; its holder exits with our drop
 * request pending.  We recover the GIL, and as its acquirer clear the
 * request.
 */
static int owner_thread_exit_while_waited(void)
{
	const struct gil_page *pg;
	struct dying_holder d;
	pthread_t th;
	int64_t t;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000) == 0);
	memset(&d, 0, sizeof(d));
	d.fd = fd;
	d.pg = pg;
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(pthread_create(&th, NULL, dying_holder_main, &d) == 0);
	while (atomic_load(&d.holding) == 0)
		sleep_us(100);
	CHECK_CMP(atomic_load(&d.holding), ==, 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	t = now_ns();
	CHECK(join_within(th, 5000) == 0);
	/* Not before the holder was gone; within seconds after. */
	CHECK_CMP(t, >=, d.t_exit);
	CHECK_CMP(t - d.t_exit, <, 3000000000ll);
	CHECK(d.saw_request);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
	CHECK(!drop_requested(pg));
	/* Nobody waits: our release is an ordinary one. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	return detach_close_gil(fd, pg);
}

/*
 * A forked child (inheriting the descriptor, attaching its own thread) that
 * holds the GIL, driven over two pipes.
 */
struct holder_child {
	pid_t pid;
	int to_child[2], to_parent[2];
};

/*
 * Fork the child: it attaches, acquires and says so, and on our first word
 * runs then(fd, hc) and exits with what that returns (0 when all went
 * well, else 5 or more).  Returns once the child holds the GIL.
 */
static int fork_holder(int fd, struct holder_child *hc,
		       int (*then)(int fd, struct holder_child *hc))
{
	char c;

	CHECK(pipe(hc->to_child) == 0 && pipe(hc->to_parent) == 0);
	hc->pid = test_fork(30);
	CHECK(hc->pid >= 0);
	if (hc->pid == 0) {
		if (ioctl(fd, GIL_IOC_ATTACH) || ioctl(fd, GIL_IOC_ACQUIRE))
			_exit(2);
		if (write(hc->to_parent[1], "h", 1) != 1)
			_exit(3);
		if (read(hc->to_child[0], &c, 1) != 1)
			_exit(4);
		_exit(then(fd, hc));
	}
	CHECK(read(hc->to_parent[0], &c, 1) == 1);
	return 0;
}

static void close_pipes(struct holder_child *hc)
{
	close(hc->to_child[0]);
	close(hc->to_child[1]);
	close(hc->to_parent[0]);
	close(hc->to_parent[1]);
}

/* In the child, at the word "close now": close, and exit at the next. */
static int child_closes_gil(int fd, struct holder_child *hc)
{
	char c;

	if (close(fd))
		return 5;
	if (write(hc->to_parent[1], "c", 1) != 1)
		return 6;
	if (read(hc->to_child[0], &c, 1) != 1)	/* "exit now" */
		return 7;
	return 0;
}

/*
 * The child holds the GIL while a thread of ours waits.  Killed, it is an
 * owner death at once.  Closing its descriptor is not: the child still
 * holds the GIL, and its exit is what ends the hold.
 */
static int owner_process_gone(int kill_it)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct waiter w;
	int fd;
	int64_t t;
	char c;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000) == 0);
	CHECK(fork_holder(fd, &hc, child_closes_gil) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 1) == 0);
	if (!kill_it) {
		CHECK(write(hc.to_child[1], "c", 1) == 1);
		CHECK(read(hc.to_parent[0], &c, 1) == 1);
		sleep_ms(100);
		CHECK_CMP(atomic_load(&w.state), ==, W_ACQUIRING);
		CHECK_CMP(PAGE_LOAD(pg->locked), ==, 1);
		CHECK(write(hc.to_child[1], "x", 1) == 1);
		CHECK(child_ok(hc.pid, 5000));
	}
	t = now_ns();
	if (kill_it)
		CHECK(sigkill_child(hc.pid) == 0);
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	CHECK(waiter_let_go(&w) == 0);
	CHECK_CMP(w.rel_ret, ==, 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	close_pipes(&hc);
	return close_gil(fd, pg);
}

static int owner_process_killed(void)
{
	return owner_process_gone(1);
}

static int owner_process_closed_gil_then_exited(void)
{
	return owner_process_gone(0);
}

/*
 * With an interval of an hour no waiter ever times out: the death of a
 * holder must be noticed on its own, within 100 ms whatever the interval.
 */
#define HOUR_US		3600000000ll

/*
 * 100 ms; GIL_TEST_DEATH_BOUND_MS sets another bound (the debug kernel's
 * KASAN on a loaded host has taken 56 ms).
 */
static int64_t death_bound_ns(void)
{
	const char *env = getenv("GIL_TEST_DEATH_BOUND_MS");

	return (env ? atoll(env) : 100) * 1000000ll;
}

/*
 * The agent, holding the GIL, exits (pthread_exit): the waiter, asleep in
 * ACQUIRE, gets the GIL with EOWNERDEAD within death_bound_ns().
 */
static int holder_exit_recovered(struct agent *h, struct waiter *w)
{
	int64_t t = now_ns();

	CHECK(agent_stop(h) == 0);
	CHECK(waiter_reach(w, W_HOLDING, 10000) == 0);
	printf("    recovered %lld us after the holder began to exit\n",
	       (long long)(w->t_after_acquire - t) / 1000);
	CHECK(join_within(w->th, 5000) == 0);
	CHECK_CMP(w->acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w->t_after_acquire - t, <, death_bound_ns());
	return 0;
}

static int holder_thread_death_noticed_within_100ms(void)
{
	const struct gil_page *pg;
	struct agent h;
	struct waiter w;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, HOUR_US) == 0);
	CHECK(agent_start(&h, fd) == 0);
	CHECK(agent_call(&h, GIL_IOC_ATTACH) == 0);
	CHECK(agent_call(&h, GIL_IOC_ACQUIRE) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 0) == 0);
	CHECK(holder_exit_recovered(&h, &w) == 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	return close_gil(fd, pg);
}

/*
 * The watch passes on at a handoff: the first waiter, woken by a release,
 * takes the GIL and leaves the line, and the next one watches the new
 * holder (it dies holding here) though its own interval is an hour.
 */
static int watch_passes_on_at_a_handoff(void)
{
	const struct gil_page *pg;
	struct agent h;
	struct waiter w;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, HOUR_US) == 0);
	CHECK(attach_acquire(fd) == 0);
	CHECK(agent_start(&h, fd) == 0);
	CHECK(agent_call(&h, GIL_IOC_ATTACH) == 0);
	agent_post(&h, GIL_IOC_ACQUIRE);
	CHECK(wait_in_ioctl(getpid(), h.tid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 0) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(agent_result(&h, 5000), ==, 0);
	CHECK(holder_exit_recovered(&h, &w) == 0);
	return detach_close_gil(fd, pg);
}

/* Its child's exit status: 0 once it was told to exit. */
static int child_waits_for_exit(int fd, struct holder_child *hc)
{
	char c;

	(void)fd;
	return read(hc->to_child[0], &c, 1) == 1 ? 0 : 5;
}

/*
 * Under fifo, the longest waiter takes over from a dead holder, not
 * whichever waiter happened to look first; the others keep their places.
 */
static int holder_process_death_recovered_by_longest_waiter(void)
{
	__u32 fifo = GIL_POLICY_FIFO;
	const struct gil_page *pg;
	struct holder_child hc;
	struct waiter w[3];
	int64_t t;
	int fd, i;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, HOUR_US) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &fifo) == 0);
	CHECK(fork_holder(fd, &hc, child_waits_for_exit) == 0);
	for (i = 0; i < 3; i++)
		CHECK(waiter_start_blocked(&w[i], fd, pg, 1) == 0);
	t = now_ns();
	CHECK(sigkill_child(hc.pid) == 0);
	CHECK(waiter_reach(&w[0], W_HOLDING, 10000) == 0);
	printf("    recovered %lld us after the SIGKILL\n",
	       (long long)(w[0].t_after_acquire - t) / 1000);
	CHECK_CMP(w[0].acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w[0].t_after_acquire - t, <, death_bound_ns());
	for (i = 1; i < 3; i++)
		CHECK_CMP(atomic_load(&w[i].state), ==, W_ACQUIRING);
	for (i = 0; i < 3; i++) {
		CHECK(waiter_let_go(&w[i]) == 0);
		CHECK_CMP(w[i].rel_ret, ==, 0);
		if (i)
			CHECK_CMP(w[i].acq_ret, ==, 0);
	}
	CHECK_CMP(owner_deaths(fd), ==, 1);
	close_pipes(&hc);
	return close_gil(fd, pg);
}

/* An attached thread that exits without holding is no owner death. */
static int attached_thread_exit_is_harmless(void)
{
	struct gil_stats st;
	struct agent a;
	int fd = open_gil();

	CHECK(fd >= 0);
	CHECK(agent_start(&a, fd) == 0);
	CHECK(agent_call(&a, GIL_IOC_ATTACH) == 0);
	CHECK(agent_call(&a, GIL_IOC_ACQUIRE) == 0);
	CHECK(agent_call(&a, GIL_IOC_RELEASE) == 0);
	CHECK(agent_stop(&a) == 0);	/* still attached */
	CHECK(attach_acquire(fd) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.owner_deaths, ==, 0);
	CHECK_CMP(st.switch_number, ==, 2);
	return detach_close_gil(fd, NULL);
}

/* ---- fork ----------------------------------------------------------------------- */

#define FK_ITERS 150

struct fk_shared {
	struct start_line line;
	struct holder_log log;
	atomic_int errors;
	volatile long counter;
};

static void fk_loop(int fd, struct fk_shared *sh, int id)
{
	volatile int k;
	long tmp;
	int i;

	start_line_wait(&sh->line);
	for (i = 0; i < FK_ITERS; i++) {
		if (ioctl(fd, GIL_IOC_ACQUIRE)) {
			atomic_fetch_add(&sh->errors, 1);
			return;
		}
		holder_enter(&sh->log, id);
		/* Sleep inside the window, longer than the 1 ms interval: the
		 * other process finds the GIL held, its wait times out within
		 * this hold and posts a drop request, so this release is a
		 * forced switch. */
		tmp = sh->counter;
		sleep_us(2000);
		for (k = 0; k < 200; k++)
			;
		sh->counter = tmp + 1;
		holder_leave(&sh->log);
		if (ioctl(fd, GIL_IOC_RELEASE)) {
			atomic_fetch_add(&sh->errors, 1);
			return;
		}
	}
}

static int fork_child_shares_gil(void)
{
	const struct gil_page *pg;
	struct fk_shared *sh;
	struct gil_stats st;
	pid_t pid;
	int fd;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 1000) == 0);
	sh = shared_zalloc(sizeof(*sh));
	CHECK(sh);
	sh->log.last = -1;
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	pid = test_fork(40);
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The parent's attachment is not the child's thread's. */
		if (!ioctl_fails(fd, GIL_IOC_ACQUIRE, EUNATCH))
			_exit(2);
		if (ioctl(fd, GIL_IOC_ATTACH))
			_exit(3);
		fk_loop(fd, sh, 1);
		if (ioctl(fd, GIL_IOC_DETACH))
			_exit(4);
		_exit(0);
	}
	start_line_go(&sh->line, 1);
	fk_loop(fd, sh, 0);
	CHECK(child_ok(pid, 30000));
	printf("    %ld owner changes\n", sh->log.changes);
	CHECK_CMP(atomic_load(&sh->errors), ==, 0);
	CHECK_CMP(atomic_load(&sh->log.overlaps), ==, 0);
	CHECK_CMP(sh->counter, ==, 2 * FK_ITERS);
	CHECK(expect_switch(fd, pg, &st, sh->log.changes) == 0);
	CHECK_CMP(st.acquisitions, ==, 2 * FK_ITERS);
	CHECK_CMP(st.owner_deaths, ==, 0);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	/*
	 * They did overlap: one waited for the other, asked for the GIL
	 * (1 ms interval, each hold 2 ms), got it
	 * by a forced switch, and the GIL came back.
	 */
	CHECK_CMP(st.contended, >, 0);
	CHECK_CMP(st.forced_switches, >, 0);
	CHECK_CMP(sh->log.changes, >=, 3);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	munmap(sh, sizeof(*sh));
	return close_gil(fd, pg);
}

/* The GIL lives while any process has it open. */
static int gil_survives_parent_close(void)
{
	const struct gil_page *pg;
	int fd, p[2];
	pid_t pid;
	char c;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(pipe(p) == 0);
	pid = test_fork(30);
	CHECK(pid >= 0);
	if (pid == 0) {
		struct gil_stats st;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(2);
		if (ioctl(fd, GIL_IOC_ATTACH) || ioctl(fd, GIL_IOC_ACQUIRE))
			_exit(3);
		if (PAGE_LOAD(pg->locked) != 1)
			_exit(4);
		if (ioctl(fd, GIL_IOC_RELEASE) || ioctl(fd, GIL_IOC_DETACH))
			_exit(5);
		if (gil_stats(fd, &st) || st.acquisitions != 1 ||
		    st.owner_deaths != 0)
			_exit(6);
		_exit(0);
	}
	close(p[0]);
	CHECK(close(fd) == 0);
	CHECK(write(p[1], "c", 1) == 1);
	close(p[1]);
	CHECK(child_ok(pid, 10000));
	/* Our mapping outlived our descriptor and shows the child's use. */
	CHECK_CMP(PAGE_LOAD(pg->switch_number), ==, 1);
	CHECK_CMP(PAGE_LOAD(pg->locked), ==, 0);
	unmap_gil(pg);
	return 0;
}

/* ---- many GILs ---------------------------------------------------------------- */

#define MANY_GILS 200
#define MANY_THREADS 3
#define MANY_ROUNDS 3

struct many {
	int fds[MANY_GILS];
	long counters[MANY_GILS];
	atomic_int inside[MANY_GILS];
	atomic_int errors, overlaps;
};

static void *many_main(void *arg)
{
	struct many *m = arg;
	int i, r;

	for (i = 0; i < MANY_GILS; i++)
		if (ioctl(m->fds[i], GIL_IOC_ATTACH))
			atomic_fetch_add(&m->errors, 1);
	for (r = 0; r < MANY_ROUNDS; r++) {
		for (i = 0; i < MANY_GILS; i++) {
			if (ioctl(m->fds[i], GIL_IOC_ACQUIRE)) {
				atomic_fetch_add(&m->errors, 1);
				continue;
			}
			if (atomic_exchange(&m->inside[i], 1))
				atomic_fetch_add(&m->overlaps, 1);
			m->counters[i]++;
			atomic_store(&m->inside[i], 0);
			if (ioctl(m->fds[i], GIL_IOC_RELEASE))
				atomic_fetch_add(&m->errors, 1);
		}
	}
	/* Hold them all at once, then let them all go. */
	for (i = 0; i < MANY_GILS; i++)
		if (ioctl(m->fds[i], GIL_IOC_ACQUIRE))
			atomic_fetch_add(&m->errors, 1);
	for (i = 0; i < MANY_GILS; i++)
		if (ioctl(m->fds[i], GIL_IOC_RELEASE))
			atomic_fetch_add(&m->errors, 1);
	for (i = 0; i < MANY_GILS; i++)
		if (ioctl(m->fds[i], GIL_IOC_DETACH))
			atomic_fetch_add(&m->errors, 1);
	return NULL;
}

static int many_gils_with_threads(void)
{
	static struct many m;
	pthread_t th[MANY_THREADS];
	struct gil_stats st;
	int i;

	memset(&m, 0, sizeof(m));
	CHECK(open_gils(m.fds, MANY_GILS) == 0);
	for (i = 0; i < MANY_THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, many_main, &m) == 0);
	for (i = 0; i < MANY_THREADS; i++)
		CHECK(join_within(th[i], 40000) == 0);
	CHECK_CMP(atomic_load(&m.errors), ==, 0);
	CHECK_CMP(atomic_load(&m.overlaps), ==, 0);
	for (i = 0; i < MANY_GILS; i++) {
		CHECK_CMP(m.counters[i], ==, MANY_THREADS * MANY_ROUNDS);
		CHECK(gil_stats(m.fds[i], &st) == 0);
		CHECK_CMP(st.acquisitions, ==,
			  MANY_THREADS * (MANY_ROUNDS + 1));
		CHECK_CMP(st.switch_number, >=, 1);
		CHECK_CMP(st.switch_number, <=, st.acquisitions);
	}
	return close_gils(m.fds, MANY_GILS);
}

/* ---- closing, unsharing and shutting down ------------------------------------- */

/* In the child, at the word "release": release, then take it back. */
static int child_releases_then_takes(int fd, struct holder_child *hc)
{
	if (ioctl(fd, GIL_IOC_RELEASE))
		return 5;
	if (write(hc->to_parent[1], "r", 1) != 1)
		return 6;
	errno = 0;
	if (ioctl(fd, GIL_IOC_ACQUIRE) != -1 || errno != EOWNERDEAD)
		return 7;
	return ioctl(fd, GIL_IOC_RELEASE) ? 8 : 0;
}

/*
 * A forked child holds the GIL; a thread of ours waits for it; we close
 * our descriptor (dup2 of /dev/null, so the number stays taken).  The wait
 * goes on, and ends with the GIL when the child releases.  Our thread can
 * no longer release it (its descriptor is gone); when it exits, the
 * child's next take recovers the GIL as an owner death.
 */
static int close_does_not_end_a_wait(void)
{
	struct holder_child hc;
	struct waiter w;
	int fd = open_gil(), null = open("/dev/null", O_RDONLY);
	char c;

	CHECK(fd >= 0 && null >= 0);
	CHECK(fork_holder(fd, &hc, child_releases_then_takes) == 0);
	waiter_init(&w, fd, NULL, 0);
	w.no_detach = 1;
	CHECK(waiter_start(&w) == 0);
	CHECK(waiter_blocked(&w, 5000) == 0);
	CHECK(dup2(null, fd) == fd);
	sleep_ms(100);
	CHECK(wait_in_ioctl(getpid(), w.tid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(write(hc.to_child[1], "r", 1) == 1);
	CHECK(read(hc.to_parent[0], &c, 1) == 1);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.rel_ret, ==, -1);
	CHECK_CMP(w.rel_errno, ==, ENOTTY);	/* /dev/null's ioctl */
	CHECK(child_ok(hc.pid, 5000));
	close_pipes(&hc);
	close(null);
	return close(fd) == 0 ? 0 : -1;
}

struct unsharer {
	int fd;
	atomic_int step;	/* 1: attached and unshared; 2: go on */
	int attach, unshare_ret, acquire, release;
};

static void *unsharer_main(void *arg)
{
	struct unsharer *u = arg;

	u->attach = ioctl(u->fd, GIL_IOC_ATTACH) ? errno : 0;
	u->unshare_ret = unshare(CLONE_FILES) ? errno : 0;
	atomic_store(&u->step, 1);
	while (atomic_load(&u->step) != 2)
		sleep_us(200);
	u->acquire = ioctl(u->fd, GIL_IOC_ACQUIRE) ? errno : 0;
	u->release = ioctl(u->fd, GIL_IOC_RELEASE) ? errno : 0;
	if (!u->release)
		ioctl(u->fd, GIL_IOC_DETACH);
	close(u->fd);
	return NULL;
}

/*
 * A thread attaches, then takes a descriptor table of its own
 * (unshare(CLONE_FILES)); the rest of the process closes its descriptor.
 * The thread, which still has one, goes on using the GIL.
 */
static int unshared_files_keep_their_gil(void)
{
	struct unsharer u = { 0 };
	pthread_t th;

	u.fd = open_gil();
	CHECK(u.fd >= 0);
	CHECK(pthread_create(&th, NULL, unsharer_main, &u) == 0);
	while (!atomic_load(&u.step))
		sleep_us(200);
	CHECK(close(u.fd) == 0);
	atomic_store(&u.step, 2);
	CHECK(join_within(th, 5000) == 0);
	CHECK_CMP(u.attach, ==, 0);
	CHECK_CMP(u.unshare_ret, ==, 0);
	CHECK_CMP(u.acquire, ==, 0);
	CHECK_CMP(u.release, ==, 0);
	return 0;
}

/* In the child, at the word "release": release, and say so. */
static int child_releases_gil(int fd, struct holder_child *hc)
{
	if (ioctl(fd, GIL_IOC_RELEASE))
		return 5;
	if (write(hc->to_parent[1], "r", 1) != 1)
		return 6;
	return 0;
}

/*
 * SHUTDOWN by a process whose thread waits while a forked child holds:
 * the wait fails with ESHUTDOWN at once, our records are gone (EUNATCH),
 * and the child, untouched, releases without waiting for our gone waiter
 * (whose drop request was pending).
 */
static int shutdown_ends_the_process_waits(void)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct waiter w;
	int64_t t;
	int fd;
	char c;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 1000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(fork_holder(fd, &hc, child_releases_gil) == 0);
	waiter_init(&w, fd, pg, 0);
	w.no_detach = 1;
	CHECK(waiter_start(&w) == 0);
	CHECK(wait_drop_request(pg, 5000) == 0);
	t = now_ns();
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, ESHUTDOWN);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EUNATCH);
	CHECK(write(hc.to_child[1], "r", 1) == 1);
	CHECK(read(hc.to_parent[0], &c, 1) == 1);
	CHECK(child_ok(hc.pid, 5000));
	CHECK_CMP(owner_deaths(fd), ==, 0);
	close_pipes(&hc);
	return close_gil(fd, pg);
}

/* In the child: wait for the GIL, which the parent holds; EOWNERDEAD. */
static int child_waits_for_owner_death(int fd)
{
	errno = 0;
	if (ioctl(fd, GIL_IOC_ATTACH))
		return 2;
	if (ioctl(fd, GIL_IOC_ACQUIRE) != -1 || errno != EOWNERDEAD)
		return 3;
	return ioctl(fd, GIL_IOC_RELEASE) ? 4 : 0;
}

/* SHUTDOWN by the holder's process ends the hold as an owner death. */
static int shutdown_by_a_holder_is_an_owner_death(void)
{
	int fd = open_gil();
	pid_t pid;

	CHECK(fd >= 0);
	CHECK(attach_acquire(fd) == 0);
	pid = test_fork(20);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(child_waits_for_owner_death(fd));
	CHECK(wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EUNATCH);
	CHECK(child_ok(pid, 10000));
	CHECK_CMP(owner_deaths(fd), ==, 1);
	return close(fd) == 0 ? 0 : -1;
}

/*
 * The first waiter in line watches the holder.  A SHUTDOWN ends it; the
 * next in line, a forked child's thread, must take over the watch: the
 * holder, another child, then dies, and at an hour's interval only the
 * watch can notice.
 */
static int shutdown_of_the_first_waiter_hands_on_the_watch(void)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct waiter w;
	int64_t t, took;
	pid_t next;
	int fd, status;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, HOUR_US) == 0);
	CHECK(fork_holder(fd, &hc, child_waits_for_exit) == 0);
	waiter_init(&w, fd, pg, 0);
	w.no_detach = 1;
	CHECK(waiter_start(&w) == 0);
	CHECK(waiter_blocked(&w, 5000) == 0);
	next = test_fork(20);
	CHECK(next >= 0);
	if (next == 0)
		_exit(child_waits_for_owner_death(fd));
	CHECK(wait_in_ioctl(next, next, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK(join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_errno, ==, ESHUTDOWN);
	t = now_ns();
	CHECK(sigkill_child(hc.pid) == 0);
	CHECK(wait_child(next, 5000, &status) == 0);
	took = now_ns() - t;
	printf("    the next in line recovered the GIL %lld us after the "
	       "SIGKILL\n", (long long)took / 1000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_CMP(took, <, death_bound_ns());
	close_pipes(&hc);
	return close_gil(fd, pg);
}

#define COST_GILS	1000
#define COST_FDS	10000

/* Seconds to close @n GILs, each with a thread attached. */
static double close_gils_timed(int *fds, int n)
{
	int64_t t;
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = open_gil();
		if (fds[i] < 0 || ioctl(fds[i], GIL_IOC_ATTACH))
			return -1;
	}
	t = now_ns();
	for (i = 0; i < n; i++)
		close(fds[i]);
	return (double)(now_ns() - t) / 1e9;
}

/*
 * Closing a GIL costs the same in a process with 10,000 other descriptors
 * as in one with none: no close looks through the descriptor table.
 */
static int close_cost_does_not_grow_with_open_files(void)
{
	struct rlimit rl = { COST_GILS + COST_FDS + 64,
			     COST_GILS + COST_FDS + 64 };
	double *res = shared_zalloc(2 * sizeof(double));
	static int fds[COST_GILS];
	pid_t pid;
	int i;

	CHECK(res);
	pid = test_fork(120);
	CHECK(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null < 0 || setrlimit(RLIMIT_NOFILE, &rl))
			_exit(2);
		res[0] = close_gils_timed(fds, COST_GILS);
		for (i = 0; i < COST_FDS; i++)
			if (dup(null) < 0)
				_exit(3);
		res[1] = close_gils_timed(fds, COST_GILS);
		_exit(0);
	}
	CHECK(child_ok(pid, 120000));
	printf("    closing %d GILs: %.1f ms; with %d more files open: %.1f ms\n",
	       COST_GILS, res[0] * 1e3, COST_FDS, res[1] * 1e3);
	CHECK(res[0] > 0 && res[1] > 0);
	CHECK(res[1] < 3 * res[0] + 0.05);
	munmap(res, 2 * sizeof(double));
	return 0;
}

int main(void)
{
	RUN(owner_thread_exit_then_acquire);
	RUN(owner_thread_exit_while_waited);
	RUN(owner_process_killed);
	RUN(owner_process_closed_gil_then_exited);
	RUN(holder_thread_death_noticed_within_100ms);
	RUN(watch_passes_on_at_a_handoff);
	RUN(holder_process_death_recovered_by_longest_waiter);
	RUN(attached_thread_exit_is_harmless);
	RUN(fork_child_shares_gil);
	RUN(gil_survives_parent_close);
	RUN(many_gils_with_threads);
	RUN(close_does_not_end_a_wait);
	RUN(unshared_files_keep_their_gil);
	RUN(shutdown_ends_the_process_waits);
	RUN(shutdown_by_a_holder_is_an_owner_death);
	RUN(shutdown_of_the_first_waiter_hands_on_the_watch);
	RUN(close_cost_does_not_grow_with_open_files);
	return harness_exit();
}
