// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: holders that die holding (EOWNERDEAD, noticed within 100 ms
 * whatever the interval), GILs shared with forked children, many GILs at
 * once; closing descriptors, which changes nothing in the GIL (its state
 * belongs to the open file: no fd table is searched, and unshare() makes
 * no difference), and GIL_IOC_SHUTDOWN, which ends a process's part.
 */
#include <sys/resource.h>

#include "uapi.h"

/* ---- owner death ------------------------------------------------------------ */

/* The GIL's count of owner deaths; -1 if GET_STATS failed. */
static long long owner_deaths(int fd)
{
	struct gil_stats st;

	if (t_gil_stats(fd, &st))
		return -1;
	return st.owner_deaths;
}

/* A thread takes the GIL and exits holding it; then we acquire. */
static void owner_thread_exit_then_acquire(void)
{
	const struct gil_page *pg;
	struct t_agent h;
	int64_t t;
	__u64 sn;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000) == 0);
	t_agent_start_holding(&h, fd);
	sn = T_PAGE_LOAD(pg->switch_number);
	CHECK(t_agent_stop(&h) == 0);	/* pthread_exit, holding */

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	t = t_now_ns();
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	t = t_now_ns() - t;
	printf("    recovered after %lld us\n", (long long)t / 1000);
	/* About one interval plus slack: seconds at most, even under TCG. */
	CHECK_CMP(t, <, 3000000000ll);
	/* We hold it now: it is locked, by a new owner. */
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, sn + 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
	/* Reported once: the next take is an ordinary one. */
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	t_detach_close_gil(fd, pg);
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
	d->saw_request = t_wait_drop_request(d->pg, 10000) == 0;
	d->t_exit = t_now_ns();
	pthread_exit(NULL);
}

/*
 * We wait for the GIL and ask for it; its holder exits with our drop
 * request pending.  We recover the GIL, and as its acquirer clear the
 * request.
 */
static void owner_thread_exit_while_waited(void)
{
	const struct gil_page *pg;
	struct dying_holder d;
	pthread_t th;
	int64_t t;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000) == 0);
	memset(&d, 0, sizeof(d));
	d.fd = fd;
	d.pg = pg;
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(pthread_create(&th, NULL, dying_holder_main, &d) == 0);
	while (atomic_load(&d.holding) == 0)
		t_sleep_us(100);
	CHECK_CMP(atomic_load(&d.holding), ==, 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	t = t_now_ns();
	CHECK(t_join_within(th, 5000) == 0);
	/* Not before the holder was gone; within seconds after. */
	CHECK_CMP(t, >=, d.t_exit);
	CHECK_CMP(t - d.t_exit, <, 3000000000ll);
	CHECK(d.saw_request);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK(!t_drop_requested(pg));
	/* Nobody waits: our release is an ordinary one. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	t_detach_close_gil(fd, pg);
}

/*
 * A forked child (inheriting the descriptor, attaching its own thread) that
 * holds the GIL, driven over two pipes.
 */
struct holder_child {
	pid_t pid;
	int fd;
	void (*then)(struct holder_child *hc);
	int to_child[2], to_parent[2];
};

static void holder_child_main(void *arg)
{
	struct holder_child *hc = arg;
	char c;

	t_attach_acquire(hc->fd);
	CHECK(write(hc->to_parent[1], "h", 1) == 1);
	CHECK(read(hc->to_child[0], &c, 1) == 1);
	hc->then(hc);
}

/*
 * Fork the child: it attaches, acquires and says so, and on our first word
 * runs then(hc), whose CHECKs are its exit status.  Returns once the child
 * holds the GIL.
 */
static void fork_holder(int fd, struct holder_child *hc,
			void (*then)(struct holder_child *hc))
{
	char c;

	hc->fd = fd;
	hc->then = then;
	CHECK(pipe(hc->to_child) == 0 && pipe(hc->to_parent) == 0);
	hc->pid = t_fork_child(30, holder_child_main, hc);
	CHECK(read(hc->to_parent[0], &c, 1) == 1);
}

static void close_pipes(struct holder_child *hc)
{
	close(hc->to_child[0]);
	close(hc->to_child[1]);
	close(hc->to_parent[0]);
	close(hc->to_parent[1]);
}

/* In the child, at the word "close now": close, and exit at the next. */
static void child_closes_gil(struct holder_child *hc)
{
	char c;

	CHECK(close(hc->fd) == 0);
	CHECK(write(hc->to_parent[1], "c", 1) == 1);
	CHECK(read(hc->to_child[0], &c, 1) == 1);	/* "exit now" */
}

/*
 * The child holds the GIL while a thread of ours waits.  Killed, it is an
 * owner death at once.  Closing its descriptor is not: the child still
 * holds the GIL, and its exit is what ends the hold.
 */
static void owner_process_gone(int kill_it)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct t_waiter w;
	int fd;
	int64_t t;
	char c;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000) == 0);
	fork_holder(fd, &hc, child_closes_gil);
	t_waiter_start_blocked(&w, fd, pg, 1);
	if (!kill_it) {
		CHECK(write(hc.to_child[1], "c", 1) == 1);
		CHECK(read(hc.to_parent[0], &c, 1) == 1);
		t_sleep_ms(100);
		CHECK_CMP(atomic_load(&w.state), ==, T_W_ACQUIRING);
		CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
		CHECK(write(hc.to_child[1], "x", 1) == 1);
		CHECK(t_child_ok(hc.pid, 5000));
	}
	t = t_now_ns();
	if (kill_it)
		t_sigkill_child(hc.pid);
	CHECK(t_waiter_reach(&w, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w.locked_after_acquire, ==, 1);
	t_waiter_let_go(&w);
	CHECK_CMP(w.rel_ret, ==, 0);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	close_pipes(&hc);
	t_close_gil(fd, pg);
}

static void owner_process_killed(void)
{
	owner_process_gone(1);
}

static void owner_process_closed_gil_then_exited(void)
{
	owner_process_gone(0);
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
static void holder_exit_recovered(struct t_agent *h, struct t_waiter *w)
{
	int64_t t = t_now_ns();

	CHECK(t_agent_stop(h) == 0);
	CHECK(t_waiter_reach(w, T_W_HOLDING, 10000) == 0);
	printf("    recovered %lld us after the holder began to exit\n",
	       (long long)(w->t_after_acquire - t) / 1000);
	CHECK(t_join_within(w->th, 5000) == 0);
	CHECK_CMP(w->acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w->t_after_acquire - t, <, death_bound_ns());
}

static void holder_thread_death_noticed_within_100ms(void)
{
	const struct gil_page *pg;
	struct t_agent h;
	struct t_waiter w;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, HOUR_US) == 0);
	t_agent_start_holding(&h, fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	holder_exit_recovered(&h, &w);
	CHECK_CMP(owner_deaths(fd), ==, 1);
	t_close_gil(fd, pg);
}

/*
 * The watch passes on at a handoff: the first waiter, woken by a release,
 * takes the GIL and leaves the line, and the next one watches the new
 * holder (it dies holding here) though its own interval is an hour.
 */
static void watch_passes_on_at_a_handoff(void)
{
	const struct gil_page *pg;
	struct t_agent h;
	struct t_waiter w;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, HOUR_US) == 0);
	t_attach_acquire(fd);
	CHECK(t_agent_start(&h, fd) == 0);
	CHECK(t_agent_call(&h, GIL_IOC_ATTACH) == 0);
	t_agent_post(&h, GIL_IOC_ACQUIRE);
	CHECK(t_wait_in_ioctl(getpid(), h.tid, GIL_IOC_ACQUIRE, 5000) == 0);
	t_waiter_start_blocked(&w, fd, pg, 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(t_agent_result(&h, 5000), ==, 0);
	holder_exit_recovered(&h, &w);
	t_detach_close_gil(fd, pg);
}

/* Its child's exit status: 0 once it was told to exit. */
static void child_waits_for_exit(struct holder_child *hc)
{
	char c;

	CHECK(read(hc->to_child[0], &c, 1) == 1);
}

/*
 * Under fifo, the longest waiter takes over from a dead holder, not
 * whichever waiter happened to look first; the others keep their places.
 */
static void holder_process_death_recovered_by_longest_waiter(void)
{
	__u32 fifo = GIL_POLICY_FIFO;
	const struct gil_page *pg;
	struct holder_child hc;
	struct t_waiter w[3];
	int64_t t;
	int fd, i;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, HOUR_US) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &fifo) == 0);
	fork_holder(fd, &hc, child_waits_for_exit);
	for (i = 0; i < 3; i++)
		t_waiter_start_blocked(&w[i], fd, pg, 1);
	t = t_now_ns();
	t_sigkill_child(hc.pid);
	CHECK(t_waiter_reach(&w[0], T_W_HOLDING, 10000) == 0);
	printf("    recovered %lld us after the SIGKILL\n",
	       (long long)(w[0].t_after_acquire - t) / 1000);
	CHECK_CMP(w[0].acq_errno, ==, EOWNERDEAD);
	CHECK_CMP(w[0].t_after_acquire - t, <, death_bound_ns());
	for (i = 1; i < 3; i++)
		CHECK_CMP(atomic_load(&w[i].state), ==, T_W_ACQUIRING);
	for (i = 0; i < 3; i++) {
		t_waiter_let_go(&w[i]);
		CHECK_CMP(w[i].rel_ret, ==, 0);
		if (i)
			CHECK_CMP(w[i].acq_ret, ==, 0);
	}
	CHECK_CMP(owner_deaths(fd), ==, 1);
	close_pipes(&hc);
	t_close_gil(fd, pg);
}

/* An attached thread that exits without holding is no owner death. */
static void attached_thread_exit_is_harmless(void)
{
	struct gil_stats st;
	struct t_agent a;
	int fd = t_open_dev();

	CHECK(fd >= 0);
	t_agent_start_holding(&a, fd);
	CHECK(t_agent_call(&a, GIL_IOC_RELEASE) == 0);
	CHECK(t_agent_stop(&a) == 0);	/* still attached */
	t_attach_acquire(fd);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.owner_deaths, ==, 0);
	CHECK_CMP(st.switch_number, ==, 2);
	t_detach_close_gil(fd, NULL);
}

/* ---- fork ----------------------------------------------------------------------- */

#define FK_ITERS 150

struct fk_shared {
	int fd;
	struct t_start_line line;

	struct t_holder_log log;
	atomic_int errors;
	volatile long counter;
};

static void fk_loop(int fd, struct fk_shared *sh, int id)
{
	volatile int k;
	long tmp;
	int i;

	t_start_line_wait(&sh->line);
	for (i = 0; i < FK_ITERS; i++) {
		if (ioctl(fd, GIL_IOC_ACQUIRE)) {
			atomic_fetch_add(&sh->errors, 1);
			return;
		}
		t_holder_enter(&sh->log, id);
		/* Sleep inside the window, longer than the 1 ms interval: the
		 * other process finds the GIL held, its wait times out within
		 * this hold and posts a drop request, so this release is a
		 * forced switch. */
		tmp = sh->counter;
		t_sleep_us(2000);
		for (k = 0; k < 200; k++)
			;
		sh->counter = tmp + 1;
		t_holder_leave(&sh->log);
		if (ioctl(fd, GIL_IOC_RELEASE)) {
			atomic_fetch_add(&sh->errors, 1);
			return;
		}
	}
}

static void fk_child(void *arg)
{
	struct fk_shared *sh = arg;

	/* The parent's attachment is not the child's thread's. */
	CHECK(t_ioctl_fails(sh->fd, GIL_IOC_ACQUIRE, EUNATCH));
	CHECK(ioctl(sh->fd, GIL_IOC_ATTACH) == 0);
	fk_loop(sh->fd, sh, 1);
	CHECK(ioctl(sh->fd, GIL_IOC_DETACH) == 0);
}

static void fork_child_shares_gil(void)
{
	const struct gil_page *pg;
	struct fk_shared *sh;
	struct gil_stats st;
	pid_t pid;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 1000) == 0);
	sh = t_shared_zalloc(sizeof(*sh));
	CHECK(sh);
	sh->log.last = -1;
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	sh->fd = fd;
	pid = t_fork_child(40, fk_child, sh);
	t_start_line_go(&sh->line, 1);
	fk_loop(fd, sh, 0);
	CHECK(t_child_ok(pid, 30000));
	printf("    %ld owner changes\n", sh->log.changes);
	CHECK_CMP(atomic_load(&sh->errors), ==, 0);
	CHECK_CMP(atomic_load(&sh->log.overlaps), ==, 0);
	CHECK_CMP(sh->counter, ==, 2 * FK_ITERS);
	t_expect_switch(fd, pg, &st, sh->log.changes);
	CHECK_CMP(st.acquisitions, ==, 2 * FK_ITERS);
	CHECK_CMP(st.owner_deaths, ==, 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 0);
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
	t_close_gil(fd, pg);
}

/* The child: once its parent closed the GIL, it uses it. */
static void survivor_main(void *arg)
{
	const struct t_gil *s = arg;
	struct gil_stats st;
	char c;

	close(s->pipe[1]);
	CHECK(read(s->pipe[0], &c, 1) == 1);
	t_attach_acquire(s->fd);
	CHECK_CMP(T_PAGE_LOAD(s->pg->locked), ==, 1);
	CHECK(ioctl(s->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(s->fd, GIL_IOC_DETACH) == 0);
	CHECK(t_gil_stats(s->fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	CHECK_CMP(st.owner_deaths, ==, 0);
}

/* The GIL lives while any process has it open. */
static void gil_survives_parent_close(void)
{
	struct t_gil s;
	pid_t pid;

	t_open_mapped(&s.fd, &s.pg);
	CHECK(pipe(s.pipe) == 0);
	pid = t_fork_child(30, survivor_main, &s);
	close(s.pipe[0]);
	CHECK(close(s.fd) == 0);
	CHECK(write(s.pipe[1], "c", 1) == 1);
	close(s.pipe[1]);
	CHECK(t_child_ok(pid, 10000));
	/* Our mapping outlived our descriptor and shows the child's use. */
	CHECK_CMP(T_PAGE_LOAD(s.pg->switch_number), ==, 1);
	CHECK_CMP(T_PAGE_LOAD(s.pg->locked), ==, 0);
	t_unmap_page(s.pg);
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

static void many_gils_with_threads(void)
{
	static struct many m;
	pthread_t th[MANY_THREADS];
	struct gil_stats st;
	int i;

	memset(&m, 0, sizeof(m));
	t_open_gils(m.fds, MANY_GILS);
	for (i = 0; i < MANY_THREADS; i++)
		CHECK(pthread_create(&th[i], NULL, many_main, &m) == 0);
	for (i = 0; i < MANY_THREADS; i++)
		CHECK(t_join_within(th[i], 40000) == 0);
	CHECK_CMP(atomic_load(&m.errors), ==, 0);
	CHECK_CMP(atomic_load(&m.overlaps), ==, 0);
	for (i = 0; i < MANY_GILS; i++) {
		CHECK_CMP(m.counters[i], ==, MANY_THREADS * MANY_ROUNDS);
		CHECK(t_gil_stats(m.fds[i], &st) == 0);
		CHECK_CMP(st.acquisitions, ==,
			  MANY_THREADS * (MANY_ROUNDS + 1));
		CHECK_CMP(st.switch_number, >=, 1);
		CHECK_CMP(st.switch_number, <=, st.acquisitions);
	}
	t_close_gils(m.fds, MANY_GILS);
}

/* ---- closing, unsharing and shutting down ------------------------------------- */

/* In the child, at the word "release": release, then take it back. */
static void child_releases_then_takes(struct holder_child *hc)
{
	CHECK(ioctl(hc->fd, GIL_IOC_RELEASE) == 0);
	CHECK(write(hc->to_parent[1], "r", 1) == 1);
	CHECK_ERR(ioctl(hc->fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(hc->fd, GIL_IOC_RELEASE) == 0);
}

/*
 * A forked child holds the GIL; a thread of ours waits for it; we close
 * our descriptor (dup2 of /dev/null, so the number stays taken).  The wait
 * goes on, and ends with the GIL when the child releases.  Our thread can
 * no longer release it (its descriptor is gone); when it exits, the
 * child's next take recovers the GIL as an owner death.
 */
static void close_does_not_end_a_wait(void)
{
	struct holder_child hc;
	struct t_waiter w;
	int fd = t_open_dev(), null = open("/dev/null", O_RDONLY);
	char c;

	CHECK(fd >= 0 && null >= 0);
	fork_holder(fd, &hc, child_releases_then_takes);
	t_waiter_init(&w, fd, NULL, 0);
	w.no_detach = 1;
	CHECK(t_waiter_start(&w) == 0);
	CHECK(t_waiter_blocked(&w, 5000) == 0);
	CHECK(dup2(null, fd) == fd);
	t_sleep_ms(100);
	CHECK(t_wait_in_ioctl(getpid(), w.tid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(write(hc.to_child[1], "r", 1) == 1);
	CHECK(read(hc.to_parent[0], &c, 1) == 1);
	CHECK(t_join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_ret, ==, 0);
	CHECK_CMP(w.rel_ret, ==, -1);
	CHECK_CMP(w.rel_errno, ==, ENOTTY);	/* /dev/null's ioctl */
	CHECK(t_child_ok(hc.pid, 5000));
	close_pipes(&hc);
	close(null);
	CHECK(close(fd) == 0);
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
		t_sleep_us(200);
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
static void unshared_files_keep_their_gil(void)
{
	struct unsharer u = { 0 };
	pthread_t th;

	u.fd = t_open_dev();
	CHECK(u.fd >= 0);
	CHECK(pthread_create(&th, NULL, unsharer_main, &u) == 0);
	while (!atomic_load(&u.step))
		t_sleep_us(200);
	CHECK(close(u.fd) == 0);
	atomic_store(&u.step, 2);
	CHECK(t_join_within(th, 5000) == 0);
	CHECK_CMP(u.attach, ==, 0);
	CHECK_CMP(u.unshare_ret, ==, 0);
	CHECK_CMP(u.acquire, ==, 0);
	CHECK_CMP(u.release, ==, 0);
}

/* In the child, at the word "release": release, and say so. */
static void child_releases_gil(struct holder_child *hc)
{
	CHECK(ioctl(hc->fd, GIL_IOC_RELEASE) == 0);
	CHECK(write(hc->to_parent[1], "r", 1) == 1);
}

/*
 * SHUTDOWN by a process whose thread waits while a forked child holds:
 * the wait fails with ESHUTDOWN at once, our records are gone (EUNATCH),
 * and the child, untouched, releases without waiting for our gone waiter
 * (whose drop request was pending).
 */
static void shutdown_ends_the_process_waits(void)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct t_waiter w;
	int64_t t;
	int fd;
	char c;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 1000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	fork_holder(fd, &hc, child_releases_gil);
	t_waiter_init(&w, fd, pg, 0);
	w.no_detach = 1;
	CHECK(t_waiter_start(&w) == 0);
	CHECK(t_wait_drop_request(pg, 5000) == 0);
	t = t_now_ns();
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK(t_join_within(w.th, 5000) == 0);
	CHECK_CMP(w.t_after_acquire - t, <, 3000000000ll);
	CHECK_CMP(w.acq_ret, ==, -1);
	CHECK_CMP(w.acq_errno, ==, ESHUTDOWN);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EUNATCH);
	CHECK(write(hc.to_child[1], "r", 1) == 1);
	CHECK(read(hc.to_parent[0], &c, 1) == 1);
	CHECK(t_child_ok(hc.pid, 5000));
	CHECK_CMP(owner_deaths(fd), ==, 0);
	close_pipes(&hc);
	t_close_gil(fd, pg);
}

/* In the child: wait for the GIL, which the parent holds; EOWNERDEAD. */
static void child_waits_for_owner_death(void *arg)
{
	int fd = *(int *)arg;

	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
}

/* SHUTDOWN by the holder's process ends the hold as an owner death. */
static void shutdown_by_a_holder_is_an_owner_death(void)
{
	int fd = t_open_dev();
	pid_t pid;

	CHECK(fd >= 0);
	t_attach_acquire(fd);
	pid = t_fork_child(20, child_waits_for_owner_death, &fd);
	CHECK(t_wait_in_ioctl(pid, pid, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EUNATCH);
	CHECK(t_child_ok(pid, 10000));
	CHECK_CMP(owner_deaths(fd), ==, 1);
	CHECK(close(fd) == 0);
}

/*
 * The first waiter in line watches the holder.  A SHUTDOWN ends it; the
 * next in line, a forked child's thread, must take over the watch: the
 * holder, another child, then dies, and at an hour's interval only the
 * watch can notice.
 */
static void shutdown_of_the_first_waiter_hands_on_the_watch(void)
{
	const struct gil_page *pg;
	struct holder_child hc;
	struct t_waiter w;
	int64_t t, took;
	pid_t next;
	int fd, status;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, HOUR_US) == 0);
	fork_holder(fd, &hc, child_waits_for_exit);
	t_waiter_init(&w, fd, pg, 0);
	w.no_detach = 1;
	CHECK(t_waiter_start(&w) == 0);
	CHECK(t_waiter_blocked(&w, 5000) == 0);
	next = t_fork_child(20, child_waits_for_owner_death, &fd);

	CHECK(t_wait_in_ioctl(next, next, GIL_IOC_ACQUIRE, 5000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SHUTDOWN) == 0);
	CHECK(t_join_within(w.th, 5000) == 0);
	CHECK_CMP(w.acq_errno, ==, ESHUTDOWN);
	t = t_now_ns();
	t_sigkill_child(hc.pid);
	CHECK(t_wait_child(next, 5000, &status) == 0);
	took = t_now_ns() - t;
	printf("    the next in line recovered the GIL %lld us after the "
	       "SIGKILL\n", (long long)took / 1000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_CMP(took, <, death_bound_ns());
	close_pipes(&hc);
	t_close_gil(fd, pg);
}

#define COST_GILS	1000
#define COST_FDS	10000

/* Seconds to close @n GILs, each with a thread attached. */
static double close_gils_timed(int *fds, int n)
{
	int64_t t;
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = t_open_dev();
		if (fds[i] < 0 || ioctl(fds[i], GIL_IOC_ATTACH))
			return -1;
	}
	t = t_now_ns();
	for (i = 0; i < n; i++)
		close(fds[i]);
	return (double)(t_now_ns() - t) / 1e9;
}

/*
 * Closing a GIL costs the same in a process with 10,000 other descriptors
 * as in one with none: no close looks through the descriptor table.
 */
static void close_cost_does_not_grow_with_open_files(void)
{
	struct rlimit rl = { COST_GILS + COST_FDS + 64,
			     COST_GILS + COST_FDS + 64 };
	double *res = t_shared_zalloc(2 * sizeof(double));
	static int fds[COST_GILS];
	pid_t pid;
	int i;

	CHECK(res);
	pid = t_fork(120);
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
	CHECK(t_child_ok(pid, 120000));
	printf("    closing %d GILs: %.1f ms; with %d more files open: %.1f ms\n",
	       COST_GILS, res[0] * 1e3, COST_FDS, res[1] * 1e3);
	CHECK(res[0] > 0 && res[1] > 0);
	CHECK(res[1] < 3 * res[0] + 0.05);
	munmap(res, 2 * sizeof(double));
}

int main(void)
{
	T_RUN(owner_thread_exit_then_acquire);
	T_RUN(owner_thread_exit_while_waited);
	T_RUN(owner_process_killed);
	T_RUN(owner_process_closed_gil_then_exited);
	T_RUN(holder_thread_death_noticed_within_100ms);
	T_RUN(watch_passes_on_at_a_handoff);
	T_RUN(holder_process_death_recovered_by_longest_waiter);
	T_RUN(attached_thread_exit_is_harmless);
	T_RUN(fork_child_shares_gil);
	T_RUN(gil_survives_parent_close);
	T_RUN(many_gils_with_threads);
	T_RUN(close_does_not_end_a_wait);
	T_RUN(unshared_files_keep_their_gil);
	T_RUN(shutdown_ends_the_process_waits);
	T_RUN(shutdown_by_a_holder_is_an_owner_death);
	T_RUN(shutdown_of_the_first_waiter_hands_on_the_watch);
	T_RUN(close_cost_does_not_grow_with_open_files);
	return t_exit_status();
}
