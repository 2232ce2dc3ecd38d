// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: holders that die holding (EOWNERDEAD), GILs shared with
 * forked children, many GILs at once, and a process closing a GIL while
 * one of its threads waits for it (EBADF).
 */
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
	if (read(hc->to_child[0], &c, 1) != 1)	/* "exit now" */
		return 6;
	return 0;
}

/*
 * The child holds the GIL; it dies by SIGKILL, or closes its descriptor,
 * while a thread of ours waits.
 */
static int owner_process_gone(int kill_it)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct waiter w;
	int fd, status;
	int64_t t;

	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000) == 0);
	CHECK(fork_holder(fd, &hc, child_closes_gil) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 1) == 0);
	t = now_ns();
	if (kill_it)
		CHECK(sigkill_child(hc.pid) == 0);
	else
		CHECK(write(hc.to_child[1], "c", 1) == 1);
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	if (!kill_it) {
		/* The closer is still alive: closing alone was enough. */
		CHECK(waitpid(hc.pid, &status, WNOHANG) == 0);
		CHECK(write(hc.to_child[1], "x", 1) == 1);
		CHECK(child_ok(hc.pid, 5000));
	}
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

static int owner_process_closed_gil(void)
{
	return owner_process_gone(0);
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

/* ---- closing while a thread waits -------------------------------------------------- */

/*
 * A forked child holds the GIL.  A thread of ours waits for it; we close
 * our descriptor(s).  With @dup, a first close leaves a duplicate open
 * and the waiter must keep waiting; the last close makes it fail with
 * EBADF promptly.  The child then releases: its release, which may have a
 * drop request from our gone waiter pending, must not block.
 */
/* In the child, at the word "release": release, and say so. */
static int child_releases_gil(int fd, struct holder_child *hc)
{
	if (ioctl(fd, GIL_IOC_RELEASE))
		return 5;
	if (write(hc->to_parent[1], "r", 1) != 1)
		return 6;
	return 0;
}

static int close_while_waiting(int dup_it)
{
	struct holder_child hc;
	struct waiter w;
	int fd = open_gil(), fd2 = -1;
	int64_t t;
	char c;

	CHECK(fd >= 0);
	CHECK(fork_holder(fd, &hc, child_releases_gil) == 0);
	if (dup_it) {
		fd2 = dup(fd);
		CHECK(fd2 >= 0);
	}
	waiter_init(&w, fd, NULL, 0);
	w.no_detach = 1;
	CHECK(waiter_start(&w) == 0);
	CHECK(waiter_blocked(&w, 5000) == 0);
	CHECK(close(fd) == 0);
	if (dup_it) {
		/* Another descriptor of ours is open: keep waiting. */
		sleep_ms(300);
		CHECK(atomic_load(&w.state) == W_ACQUIRING);
		/* Between its interval's sleeps it runs: wait to see it sleep. */
		CHECK(wait_in_ioctl(getpid(), w.tid, GIL_IOC_ACQUIRE, 5000) == 0);
		CHECK(close(fd2) == 0);
	}
	t = now_ns();
	CHECK(waiter_reach(&w, W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, EBADF);
	CHECK(join_within(w.th, 5000) == 0);
	/* The child still holds the GIL and can release it. */
	CHECK(write(hc.to_child[1], "r", 1) == 1);
	CHECK(read(hc.to_parent[0], &c, 1) == 1);
	CHECK(child_ok(hc.pid, 5000));
	close_pipes(&hc);
	return 0;
}

static int close_while_waiting_is_ebadf(void)
{
	return close_while_waiting(0);
}

static int ebadf_only_after_last_descriptor(void)
{
	return close_while_waiting(1);
}

int main(void)
{
	RUN(owner_thread_exit_then_acquire);
	RUN(owner_thread_exit_while_waited);
	RUN(owner_process_killed);
	RUN(owner_process_closed_gil);
	RUN(attached_thread_exit_is_harmless);
	RUN(fork_child_shares_gil);
	RUN(gil_survives_parent_close);
	RUN(many_gils_with_threads);
	RUN(close_while_waiting_is_ebadf);
	RUN(ebadf_only_after_last_descriptor);
	return harness_exit();
}
