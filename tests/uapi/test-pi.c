// SPDX-License-Identifier: GPL-2.0
/*
 * GIL_OPT_PRIO_INHERIT (ABI 2.4): a real-time waiter lends the holder its
 * priority until the holder releases.
 *
 * The inversion: a holder (SCHED_OTHER, nice 3) spins on CPU 0 polling the
 * drop request, as an eval loop does; a SCHED_FIFO 10 hog takes CPU 0 for
 * HOG_MS; then a SCHED_FIFO 20 waiter on CPU 1 waits, at a 5 ms interval.
 * Without the option the holder gets no CPU until the hog is done, and the
 * waiter waits about that long; with it the holder runs at SCHED_FIFO 20,
 * above the hog, answers the waiter's request, and is itself again after
 * its release.  Also: which parameters set on a boosted holder outlive the
 * boost (not a real-time one the boost alone allowed), a boost is not
 * inherited by a child, a holder of two GILs runs at the higher boost, a
 * waiter's priority changed while it sleeps reaches the holder, a waiter
 * away in a signal handler lends nothing, non-real-time and lower waiters
 * change nothing, and a real-time holder gets its own priority back.
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "uapi.h"

#define INTERVAL_US	5000
#define HOG_MS		300
#define HOG_PRIO	10
#define WAITER_PRIO	20
#define HOLDER_NICE	3

static void set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	if (sched_setscheduler(0, prio ? SCHED_FIFO : SCHED_OTHER, &sp))
		T_FAIL("sched_setscheduler(%d): %s (the tests run as root)",
		       prio, strerror(errno));
}

/*
 * The calling thread's policy and real-time priority, as one number; not
 * SCHED_RESET_ON_FORK, which a boost sets.
 */
static int policy_prio(void)
{
	struct sched_param sp;
	int policy = sched_getscheduler(0);

	CHECK(policy >= 0 && sched_getparam(0, &sp) == 0);
	return (policy & ~SCHED_RESET_ON_FORK) * 1000 + sp.sched_priority;
}

#define FIFO(prio)	(SCHED_FIFO * 1000 + (prio))
#define OTHER		(SCHED_OTHER * 1000)

struct change;

struct run {
	__u32 options;
	int64_t interval_us;
	int holder_prio;	/* 0: SCHED_OTHER at HOLDER_NICE */
	int fd;
	const struct gil_page *pg;
	atomic_int holding;
	atomic_int release;	/* the case lets the holder release */
	int64_t waited_ns;
	atomic_int seen;	/* the holder's policy_prio(), as it changes */
	int at_request;		/* its policy_prio() when asked */
	int after;		/* and after its release */
	int nice_after;
	const struct change *change;	/* changing_holder_main's */
	struct gil_stats st;
};

/* Take the GIL; spin until asked, or told, to let go; note the policy. */
static void *holder_main(void *arg)
{
	struct run *r = arg;

	t_pin(0);
	set_fifo(r->holder_prio);
	if (!r->holder_prio)
		CHECK(setpriority(PRIO_PROCESS, 0, HOLDER_NICE) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_ACQUIRE) == 0);
	atomic_store(&r->seen, policy_prio());
	atomic_store(&r->holding, 1);
	while (!atomic_load(&r->release) && !t_drop_requested(r->pg))
		atomic_store(&r->seen, policy_prio());
	r->at_request = policy_prio();
	CHECK(ioctl(r->fd, GIL_IOC_RELEASE) == 0);
	r->after = policy_prio();
	errno = 0;
	r->nice_after = getpriority(PRIO_PROCESS, 0);
	CHECK(errno == 0);
	CHECK(ioctl(r->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

struct waiter {
	struct run *r;
	int prio;
	atomic_int tid;
	int64_t waited_ns;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;
	int64_t start;

	t_pin(1);
	set_fifo(w->prio);
	CHECK(ioctl(w->r->fd, GIL_IOC_ATTACH) == 0);
	atomic_store(&w->tid, t_gettid());
	start = t_now_ns();
	CHECK(ioctl(w->r->fd, GIL_IOC_ACQUIRE) == 0);
	w->waited_ns = t_now_ns() - start;
	CHECK(ioctl(w->r->fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(w->r->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void open_gil(struct run *r)
{
	t_open_mapped(&r->fd, &r->pg);
	CHECK(t_set_interval(r->fd, r->interval_us) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_SET_OPTIONS, &r->options) == 0);
}

static void close_gil(struct run *r)
{
	CHECK(t_gil_stats(r->fd, &r->st) == 0);
	CHECK_CMP(t_fdinfo_value(r->fd, "priority_boosts"), ==,
		  r->st.priority_boosts);
	t_close_gil(r->fd, r->pg);
}

/* Run the inversion with @r's options. */
static void inversion(struct run *r)
{
	/* Real-time on CPU 0 for HOG_MS, below the waiter, above the holder. */
	struct t_hog hog = { .cpu = 0, .prio = HOG_PRIO, .ms = HOG_MS };
	struct waiter w = { .r = r, .prio = WAITER_PRIO };
	pthread_t holder, waiter;

	r->interval_us = INTERVAL_US;
	t_pin(1);
	open_gil(r);
	t_hog_start(&hog);
	holder = t_start_thread(holder_main, r);
	WAIT_UNTIL(atomic_load(&r->holding), 5000);
	t_hog_go(&hog);
	waiter = t_start_thread(waiter_main, &w);
	t_join_thread(waiter);
	t_join_thread(holder);
	t_hog_join(&hog);
	close_gil(r);
	r->waited_ns = w.waited_ns;
	t_diag("options %#x: the SCHED_FIFO %d waiter waited %.2f ms; the "
	       "holder was %d when asked, %d after; %llu boosts",
	       r->options, WAITER_PRIO, r->waited_ns / 1e6, r->at_request,
	       r->after, (unsigned long long)r->st.priority_boosts);
	CHECK_CMP(r->after, ==, OTHER);
	CHECK_CMP(r->nice_after, ==, HOLDER_NICE);
}

/* Without the option the hog keeps the waiter waiting: the inversion. */
static void inversion_without_the_option(void)
{
	struct run r = { 0 };

	inversion(&r);
	CHECK_CMP(r.waited_ns, >=, HOG_MS * T_NSEC_PER_MSEC / 2);
	CHECK_CMP(r.at_request, ==, OTHER);
	CHECK_CMP(r.st.priority_boosts, ==, 0);
}

/*
 * With it the holder runs at the waiter's priority, above the hog, until
 * it releases: its nice value and policy come back.
 */
static void prio_inherit_ends_the_inversion(void)
{
	struct run r = { .options = GIL_OPT_PRIO_INHERIT };

	inversion(&r);
	CHECK_CMP(r.waited_ns, <, HOG_MS * T_NSEC_PER_MSEC / 2);
	CHECK_CMP(r.at_request, ==, FIFO(WAITER_PRIO));
	CHECK_CMP(r.st.priority_boosts, >=, 1);
}

/*
 * A holder and one waiter per @prios entry (0: none), waiting in turn, an
 * hour's interval: no request, the holder releases when told.
 */
static void start_pair(struct run *r, pthread_t *holder, struct waiter *w,
		       pthread_t *waiter)
{
	r->options = GIL_OPT_PRIO_INHERIT;
	r->interval_us = GIL_INTERVAL_MAX_US;
	t_pin(1);
	open_gil(r);
	*holder = t_start_thread(holder_main, r);
	WAIT_UNTIL(atomic_load(&r->holding), 5000);
	w->r = r;
	*waiter = t_start_thread(waiter_main, w);
	WAIT_UNTIL(atomic_load(&w->tid), 5000);
	CHECK(t_wait_in_ioctl(getpid(), atomic_load(&w->tid), GIL_IOC_ACQUIRE,
			      5000) == 0);
}

/* A waiter in ACQUIRE a while, and the holder still as it was. */
static void holder_stays(struct run *r, int want)
{
	t_sleep_ms(50);
	CHECK_CMP(atomic_load(&r->seen), ==, want);
}

static void finish_pair(struct run *r, pthread_t holder, pthread_t waiter)
{
	atomic_store(&r->release, 1);
	t_join_thread(holder);
	t_join_thread(waiter);
	close_gil(r);
}

/* Lower and non-real-time waiters lend nothing. */
static void prio_inherit_only_upward(void)
{
	struct run r = { 0 };
	struct waiter w = { .prio = 0 };
	pthread_t holder, waiter;

	start_pair(&r, &holder, &w, &waiter);
	holder_stays(&r, OTHER);
	finish_pair(&r, holder, waiter);
	CHECK_CMP(r.st.priority_boosts, ==, 0);

	r = (struct run){ .holder_prio = 30 };
	w = (struct waiter){ .prio = 20 };
	start_pair(&r, &holder, &w, &waiter);
	holder_stays(&r, FIFO(30));
	finish_pair(&r, holder, waiter);
	CHECK_CMP(r.st.priority_boosts, ==, 0);
	CHECK_CMP(r.after, ==, FIFO(30));
}

/* A real-time holder below its waiter gets its own priority back. */
static void prio_inherit_restores_a_realtime_holder(void)
{
	struct run r = { .holder_prio = 30 };
	struct waiter w = { .prio = 40 };
	pthread_t holder, waiter;

	start_pair(&r, &holder, &w, &waiter);
	WAIT_UNTIL(atomic_load(&r.seen) == FIFO(40), 5000);
	finish_pair(&r, holder, waiter);
	CHECK_CMP(r.after, ==, FIFO(30));
	CHECK_CMP(r.st.priority_boosts, >=, 1);
}

/*
 * What the boosted holder sets itself to while boosted (SCHED_BATCH, or a
 * real-time priority, or a nice value), and what it must run at after.
 */
struct change {
	int policy;		/* -1: setpriority(nice) instead */
	int prio;		/* or the nice value */
	int after;		/* policy_prio() after the release */
	int nice_after;
	int own;		/* the holder's policy to begin with */
};

static void *changing_holder_main(void *arg)
{
	struct run *r = arg;
	const struct change *c = r->change;
	struct sched_param sp = { .sched_priority = c->prio };
	int status;
	pid_t pid;

	t_pin(0);
	CHECK(sched_setscheduler(0, c->own, &(struct sched_param){ 0 }) == 0);
	CHECK(setpriority(PRIO_PROCESS, 0, HOLDER_NICE) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_ACQUIRE) == 0);
	atomic_store(&r->holding, 1);
	SPIN_UNTIL(policy_prio() == FIFO(WAITER_PRIO), 5000);
	/* A child forked while boosted starts at SCHED_OTHER. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(sched_getscheduler(0) == SCHED_OTHER ? 0 : 1);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (c->policy < 0)
		CHECK(setpriority(PRIO_PROCESS, 0, c->prio) == 0);
	else
		CHECK(sched_setscheduler(0, c->policy | SCHED_RESET_ON_FORK,
					 &sp) == 0);
	CHECK(ioctl(r->fd, GIL_IOC_RELEASE) == 0);
	r->after = policy_prio();
	errno = 0;
	r->nice_after = getpriority(PRIO_PROCESS, 0);
	CHECK(errno == 0);
	/* The flag the boost forced on a kept change goes with the boost. */
	CHECK(!(sched_getscheduler(0) & SCHED_RESET_ON_FORK));
	CHECK(ioctl(r->fd, GIL_IOC_DETACH) == 0);
	return NULL;
}

static void changed_while_boosted(const struct change *c)
{
	struct run r = { .options = GIL_OPT_PRIO_INHERIT,
			 .interval_us = GIL_INTERVAL_MAX_US, .change = c };
	struct waiter w = { .r = &r, .prio = WAITER_PRIO };
	pthread_t holder, waiter;

	t_pin(1);
	open_gil(&r);
	holder = t_start_thread(changing_holder_main, &r);
	WAIT_UNTIL(atomic_load(&r.holding), 5000);
	waiter = t_start_thread(waiter_main, &w);
	t_join_thread(holder);
	t_join_thread(waiter);
	close_gil(&r);
	CHECK_CMP(r.after, ==, c->after);
	CHECK_CMP(r.nice_after, ==, c->nice_after);
}

/* Out of the real-time classes, which anyone may do: it stays. */
static void prio_inherit_keeps_a_change_to_batch(void)
{
	changed_while_boosted(&(struct change){ SCHED_BATCH, 0,
		SCHED_BATCH * 1000, HOLDER_NICE, SCHED_OTHER });
}

/*
 * But not out of SCHED_IDLE, which needs a privilege a boosted thread's
 * own checks skip: it is SCHED_IDLE again after, whatever it set.
 */
static void prio_inherit_undoes_a_way_out_of_idle(void)
{
	changed_while_boosted(&(struct change){ SCHED_OTHER, 0,
		SCHED_IDLE * 1000, HOLDER_NICE, SCHED_IDLE });
	changed_while_boosted(&(struct change){ SCHED_BATCH, 0,
		SCHED_IDLE * 1000, HOLDER_NICE, SCHED_IDLE });
	/* Nor through the real-time classes, even above the boost. */
	changed_while_boosted(&(struct change){ SCHED_FIFO, WAITER_PRIO + 10,
		SCHED_IDLE * 1000, HOLDER_NICE, SCHED_IDLE });
}

/* Above the boost, which needs the privilege: it stays. */
static void prio_inherit_keeps_a_raise_above_the_boost(void)
{
	changed_while_boosted(&(struct change){ SCHED_FIFO, WAITER_PRIO + 10,
		FIFO(WAITER_PRIO + 10), HOLDER_NICE, SCHED_OTHER });
}

/*
 * Real-time at or below the boost, which the boost alone made possible:
 * the holder's own come back (it could otherwise keep SCHED_FIFO for
 * good, unprivileged).
 */
static void prio_inherit_undoes_a_realtime_change_below_it(void)
{
	changed_while_boosted(&(struct change){ SCHED_FIFO, WAITER_PRIO - 1,
		OTHER, HOLDER_NICE, SCHED_OTHER });
	changed_while_boosted(&(struct change){ SCHED_RR, WAITER_PRIO,
		OTHER, HOLDER_NICE, SCHED_OTHER });
}

/* A nice value set while boosted is the holder's after. */
static void prio_inherit_keeps_a_nice_set_while_boosted(void)
{
	changed_while_boosted(&(struct change){ -1, HOLDER_NICE + 2, OTHER,
		HOLDER_NICE + 2, SCHED_OTHER });
}

/*
 * One holder of two GILs, each with a waiter: it runs at the higher
 * priority, still once the lower one's waiter has its GIL, and at its own
 * once both have.
 */
static void prio_inherit_two_gils_one_holder(void)
{
	struct run a = { .options = GIL_OPT_PRIO_INHERIT,
			 .interval_us = GIL_INTERVAL_MAX_US };
	struct run b = a;
	struct waiter wa = { .r = &a, .prio = WAITER_PRIO };
	struct waiter wb = { .r = &b, .prio = WAITER_PRIO + 10 };
	pthread_t ta, tb;

	t_pin(1);
	open_gil(&a);
	open_gil(&b);
	CHECK(ioctl(a.fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(b.fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(a.fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(b.fd, GIL_IOC_ACQUIRE) == 0);
	ta = t_start_thread(waiter_main, &wa);
	WAIT_UNTIL(policy_prio() == FIFO(WAITER_PRIO), 5000);
	tb = t_start_thread(waiter_main, &wb);
	WAIT_UNTIL(policy_prio() == FIFO(WAITER_PRIO + 10), 5000);
	/* The lower one first: the higher stays, and then our own. */
	CHECK(ioctl(a.fd, GIL_IOC_RELEASE) == 0);
	t_join_thread(ta);
	CHECK_CMP(policy_prio(), ==, FIFO(WAITER_PRIO + 10));
	CHECK(ioctl(b.fd, GIL_IOC_RELEASE) == 0);
	t_join_thread(tb);
	CHECK_CMP(policy_prio(), ==, OTHER);
	CHECK(ioctl(a.fd, GIL_IOC_DETACH) == 0);
	CHECK(ioctl(b.fd, GIL_IOC_DETACH) == 0);
	close_gil(&a);
	close_gil(&b);
}

/*
 * A waiter's priority changed while it sleeps reaches the holder without
 * waiting for the interval (an hour here), also when it is not the first
 * in line (which wakes to look at the holder anyway).
 */
static void prio_inherit_follows_a_sleeping_waiter(void)
{
	struct sched_param sp = { .sched_priority = WAITER_PRIO + 10 };
	struct run r = { 0 };
	struct waiter first = { .prio = 0 }, w = { .r = &r, .prio = WAITER_PRIO };
	pthread_t holder, head, waiter;

	start_pair(&r, &holder, &first, &head);
	waiter = t_start_thread(waiter_main, &w);
	WAIT_UNTIL(atomic_load(&r.seen) == FIFO(WAITER_PRIO), 5000);
	CHECK(sched_setscheduler(atomic_load(&w.tid), SCHED_FIFO, &sp) == 0);
	WAIT_UNTIL(atomic_load(&r.seen) == FIFO(WAITER_PRIO + 10), 5000);
	sp.sched_priority = 0;
	CHECK(sched_setscheduler(atomic_load(&w.tid), SCHED_OTHER, &sp) == 0);
	WAIT_UNTIL(atomic_load(&r.seen) == OTHER, 5000);
	atomic_store(&r.release, 1);
	t_join_thread(holder);
	t_join_thread(head);
	t_join_thread(waiter);
	close_gil(&r);
}

/* A thread's policy and real-time priority, as policy_prio() has them. */
static int policy_prio_of(pid_t tid)
{
	struct sched_param sp;
	int policy = sched_getscheduler(tid);

	CHECK(policy >= 0 && sched_getparam(tid, &sp) == 0);
	return (policy & ~SCHED_RESET_ON_FORK) * 1000 + sp.sched_priority;
}

/* Each of two threads holds one GIL and waits for the other's. */
struct cycle {
	int fd[2];
	atomic_int tid[2];
	atomic_int holding;
};

struct cycle_arg {
	struct cycle *c;
	int mine;
};

static void *cycle_main(void *arg)
{
	struct cycle_arg *a = arg;
	struct cycle *c = a->c;

	CHECK(ioctl(c->fd[0], GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(c->fd[1], GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(c->fd[a->mine], GIL_IOC_ACQUIRE) == 0);
	atomic_store(&c->tid[a->mine], t_gettid());
	atomic_fetch_add(&c->holding, 1);
	WAIT_UNTIL(atomic_load(&c->holding) == 2, 5000);
	/*
	 * Until the case shuts both GILs down, or (its wait on the first
	 * GIL ended, the other thread exits holding the second) ours dies.
	 */
	errno = 0;
	CHECK(ioctl(c->fd[!a->mine], GIL_IOC_ACQUIRE) == -1 &&
	      (errno == ESHUTDOWN || errno == EOWNERDEAD));
	return NULL;
}

/* A SCHED_FIFO waiter for GIL 0, in a child process. */
static void cycle_waiter(void *arg)
{
	struct cycle *c = arg;

	set_fifo(WAITER_PRIO);
	CHECK(ioctl(c->fd[0], GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(c->fd[0], GIL_IOC_ACQUIRE) == 0);
	T_FAIL("the GIL of a deadlock was had");
}

/*
 * Two threads in a deadlock of two GILs, and a real-time waiter for one of
 * them: its holder is boosted, not the other (a boosted waiter lends its
 * own priority), and when the waiter goes, nobody stays boosted.
 */
static void prio_inherit_not_kept_alive_by_a_cycle(void)
{
	__u32 pi = GIL_OPT_PRIO_INHERIT;
	struct cycle c = { 0 };
	struct cycle_arg args[2] = { { &c, 0 }, { &c, 1 } };
	pthread_t t[2];
	pid_t v;
	int status;

	t_pin(1);
	t_open_gils(c.fd, 2);
	for (int i = 0; i < 2; i++) {
		CHECK(t_set_interval(c.fd[i], GIL_INTERVAL_MAX_US) == 0);
		CHECK(ioctl(c.fd[i], GIL_IOC_SET_OPTIONS, &pi) == 0);
	}
	for (int i = 0; i < 2; i++)
		t[i] = t_start_thread(cycle_main, &args[i]);
	WAIT_UNTIL(atomic_load(&c.holding) == 2, 5000);
	for (int i = 0; i < 2; i++)
		CHECK(t_wait_in_ioctl(getpid(), atomic_load(&c.tid[i]),
				      GIL_IOC_ACQUIRE, 5000) == 0);
	v = t_fork_child(30, cycle_waiter, &c);
	CHECK(v > 0);
	WAIT_UNTIL(policy_prio_of(atomic_load(&c.tid[0])) == FIFO(WAITER_PRIO),
		   5000);
	/* Long enough for the other's look, every 10 ms, to have passed it on. */
	t_sleep_ms(100);
	CHECK_CMP(policy_prio_of(atomic_load(&c.tid[1])), ==, OTHER);
	CHECK(kill(v, SIGKILL) == 0);
	CHECK(waitpid(v, &status, 0) == v);
	WAIT_UNTIL(policy_prio_of(atomic_load(&c.tid[0])) == OTHER, 5000);
	CHECK_CMP(policy_prio_of(atomic_load(&c.tid[1])), ==, OTHER);
	for (int i = 0; i < 2; i++)
		CHECK(ioctl(c.fd[i], GIL_IOC_SHUTDOWN) == 0);
	for (int i = 0; i < 2; i++)
		t_join_thread(t[i]);
	t_close_gils(c.fd, 2);
}

static atomic_int in_handler;

static void slow_handler(int sig)
{
	(void)sig;
	atomic_store(&in_handler, 1);
	t_sleep_ms(300);
	atomic_store(&in_handler, 0);
}

/*
 * A waiter away in a signal handler lends nothing; back in its restarted
 * ACQUIRE it lends again.
 */
static void prio_inherit_not_while_away(void)
{
	struct sigaction sa = { .sa_handler = slow_handler };
	struct run r = { 0 };
	struct waiter w = { .prio = WAITER_PRIO };
	pthread_t holder, waiter;

	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	start_pair(&r, &holder, &w, &waiter);
	WAIT_UNTIL(atomic_load(&r.seen) == FIFO(WAITER_PRIO), 5000);
	CHECK(pthread_kill(waiter, SIGUSR1) == 0);
	WAIT_UNTIL(atomic_load(&in_handler), 5000);
	WAIT_UNTIL(atomic_load(&r.seen) == OTHER, 5000);
	CHECK(atomic_load(&in_handler));
	WAIT_UNTIL(atomic_load(&r.seen) == FIFO(WAITER_PRIO), 5000);
	finish_pair(&r, holder, waiter);
	CHECK_CMP(r.after, ==, OTHER);
	CHECK_CMP(r.st.priority_boosts, >=, 2);
}

int main(void)
{
	T_RUN(inversion_without_the_option);
	T_RUN(prio_inherit_ends_the_inversion);
	T_RUN(prio_inherit_only_upward);
	T_RUN(prio_inherit_restores_a_realtime_holder);
	T_RUN(prio_inherit_keeps_a_change_to_batch);
	T_RUN(prio_inherit_undoes_a_way_out_of_idle);
	T_RUN(prio_inherit_keeps_a_raise_above_the_boost);
	T_RUN(prio_inherit_undoes_a_realtime_change_below_it);
	T_RUN(prio_inherit_keeps_a_nice_set_while_boosted);
	T_RUN(prio_inherit_two_gils_one_holder);
	T_RUN(prio_inherit_follows_a_sleeping_waiter);
	T_RUN(prio_inherit_not_kept_alive_by_a_cycle);
	T_RUN(prio_inherit_not_while_away);
	return t_exit_status();
}
