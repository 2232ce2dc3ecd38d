// SPDX-License-Identifier: GPL-2.0
/*
 * stress-chaos: holders and waiters killed with SIGKILL at random points,
 * in a loop, across many GILs.
 *
 * The parent opens the GILs (and maps their pages), sets short switch
 * intervals so that drop requests and forced switches are frequent, and
 * keeps WORKERS worker processes alive; the processes inherit the
 * descriptors, so they share the GILs.  Each worker runs -t threads that
 * attach to a random subset of the GILs and loop: take one GIL (never
 * while holding another, so the run cannot deadlock by design), run a
 * critical section, sometimes a long one that polls the eval breaker and
 * answers drop requests with YIELD, release; now and then detach and
 * attach again, or pause with nothing held as for I/O.
 *
 * Until the deadline the parent SIGKILLs a worker every 1..KILL_GAP_MS ms:
 * half the time the process that holds a GIL (as recorded in shared
 * memory), otherwise a random one whose threads all started (most likely
 * waiting); sometimes the replacement too, right after its fork, while it
 * attaches.  It reaps each victim and forks a replacement at once.  Worker
 * 0 is never killed: its threads live the whole run, so a GIL that is
 * never recovered stalls them and shows.  The GILs start under the three
 * handoff policies in turn (cpython, fifo, io), and now and then the
 * parent moves one to another policy, under the kills.
 *
 * Every thread keeps, in shared memory, which call it is in on which GIL
 * (its phase), and per GIL the id of the thread inside the critical
 * section ("inside"; ids name the worker, its incarnation and the thread,
 * so they are never reused).  What must hold, exactly:
 *   - ACQUIRE or YIELD returning 0 finds no one inside: else two threads
 *     hold the GIL (the one inside is alive), or a holder died inside and
 *     its death was not reported (it is dead).
 *   - EOWNERDEAD finds inside no one, or a thread of a process the parent
 *     killed: never a live one (the GIL would have been taken from it).
 *     And the GIL's holder before (by switch_number) was killed: else a
 *     death was reported that did not happen.
 *   - A holder leaves with its own id still inside.  Under each GIL a plain
 *     counter is incremented by a read, a pause and a write: lost updates
 *     would show; a holder killed between its write and its count adds
 *     one, so the counter exceeds the count by at most the holders killed.
 *   - Owner deaths balance: a killed thread whose phase says it held a GIL
 *     (between ACQUIRE's return and RELEASE's call) must be reported once;
 *     one that was in ACQUIRE, YIELD or RELEASE may have been; no other
 *     can be.  After the run, when every GIL was taken again, the
 *     module's count of owner deaths per GIL lies between the two.  Its
 *     count of acquisitions lies between the threads' count and that plus
 *     the threads killed in ACQUIRE or YIELD (taken, not yet counted); its
 *     releases (forced and voluntary) between the threads' and that plus
 *     the threads killed in RELEASE or YIELD.
 *   - The policies' counters: direct_handoffs <= switch_number; every
 *     change of owner is an acquisition or a handoff, and every handoff
 *     goes to a waiter that takes the GIL (a contended acquisition) or
 *     was killed first, so switch_number <= acquisitions and
 *     direct_handoffs <= contended, each plus the threads killed in
 *     ACQUIRE or YIELD where fifo or io ever ruled (plus nothing under
 *     cpython alone, where there is no handoff at all); io_preemptions <=
 *     drop_requests, and none on a GIL never under io.  GET_POLICY and
 *     the page show the policy the parent set last.
 *   - No thread waits forever: every thread stamps its progress on each
 *     acquisition; none may go STALL_BOUND_S without.  A killed worker is
 *     gone within REAP_BOUND_MS (no thread hangs in the kernel).
 *   - After the chaos every thread takes every GIL once more (each is
 *     recoverable), releases, detaches and ends; every worker exits 0.  A
 *     last process then takes each GIL once: the module's counts are final.
 * Any result the ABI does not document (here: anything but 0, and
 * EOWNERDEAD from ACQUIRE and YIELD; with -f, ENOMEM from an ATTACH whose
 * allocation was made to fail) is a finding.  The program leaves
 * nothing behind: every child reaped, every descriptor closed, so that
 * rmmod and kmemleak can follow.
 */
#include <dirent.h>
#include <stdarg.h>
#include <sys/resource.h>

#include "stress.h"

#define WORKERS		4	/* worker processes; worker 0 is never killed */
#define MAX_THREADS	16	/* threads per worker */
#define MAX_GILS	64
#define STALL_BOUND_S	30	/* TCG with KASAN is 10-100x slower */
#define REAP_BOUND_MS	30000	/* a SIGKILLed worker is gone by then */
#define FINISH_BOUND_MS	60000	/* the workers end after the chaos */
#define KILL_GAP_MS	50	/* a kill every 1..KILL_GAP_MS ms */
#define REAP_POLL_US	500	/* how often a reap looks for the victim */
#define EARLY_KILL_PCT	10	/* kills of a replacement right after fork */
#define AIM_MS		10	/* how long to look for a holder to kill */
#define CPU_MAX_US	4000	/* a long critical section, over intervals */
#define INTERVAL_MIN_US	500	/* switch intervals: drop requests often */
#define INTERVAL_MAX_US	2000
#define POLICY_PCT	25	/* kill loop rounds that change a policy */
#define FINDINGS_SHOWN	20

/* ---- shared memory ------------------------------------------------------ */

/* What a thread is doing, and on which GIL: PHASE(p, gil). */
enum phase {
	PH_IDLE, PH_ATTACH, PH_DETACH, PH_ACQUIRE, PH_HOLD, PH_YIELD,
	PH_RELEASE, PH_DONE, NR_PHASES
};

static const char *const phase_names[NR_PHASES] = {
	"idle", "ATTACH", "DETACH", "ACQUIRE", "holding", "YIELD", "RELEASE",
	"done",
};

#define PHASE(p, g)	((unsigned int)(p) | (unsigned int)(g) << 8)
#define PHASE_OF(v)	((v) & 0xff)
#define PHASE_GIL(v)	((int)((v) >> 8))

/* A thread's id: worker slot, incarnation (from 1) and thread; never 0. */
#define MAKE_ID(s, gen, i) \
	((uint64_t)(gen) << 16 | (uint64_t)(s) << 8 | (uint64_t)(i))
#define ID_GEN(id)	((uint32_t)((id) >> 16))
#define ID_SLOT(id)	((int)((id) >> 8 & 0xff))
#define ID_THREAD(id)	((int)((id) & 0xff))

/*
 * Who took the GIL at a switch_number (a change of owner): the previous
 * holder of one reported dead must have been killed.  The id is written
 * first: a record cut short by a kill has a stale number.
 */
#define TENURES		64
struct tenure {
	_Atomic uint64_t id;
	_Atomic uint64_t sn;
};

struct cgil {
	_Atomic uint64_t inside;	/* id of the thread inside, or 0 */
	long counter;			/* under the GIL: read, pause, write */
	atomic_long increments;		/* what the holders added */
	atomic_long acquisitions;	/* ACQUIREs and YIELDs that took it */
	atomic_long owner_deaths;	/* of them, EOWNERDEAD */
	atomic_long found_inside;	/* ... the dead holder's id inside */
	atomic_long yields;
	atomic_long releases;		/* RELEASEs, and YIELDs' releases */
	struct tenure tenure[TENURES];	/* by switch_number */
};

/* One thread of a worker. */
struct trec {
	_Atomic unsigned int phase;
	_Atomic int64_t since;		/* when the phase began */
	_Atomic pid_t tid;
	atomic_int finished;		/* took every GIL after the chaos */
};

/* A worker process: WORKERS of them, and one more for the last sweep. */
struct wslot {
	_Atomic pid_t pid;		/* 0: none (written by the parent) */
	_Atomic uint32_t gen;		/* its incarnation */
	_Atomic uint32_t doomed;	/* incarnations up to this: killed */
	atomic_int started;		/* its threads that attached */
	struct trec t[MAX_THREADS];
};

struct shared {
	atomic_int stop;		/* the chaos is over: finish */
	/* findings, by the TAP line they fail */
	atomic_int exclusion, unreported, spurious, bad_results, stalls,
		unfinished;
	atomic_int printed;
	/* -f: ATTACHes and ACQUIREs whose allocation failed; ENOMEMs */
	atomic_long faults, enomem;
	struct cgil gil[MAX_GILS];
	struct wslot slot[WORKERS + 1];
};

#define SWEEP_SLOT	WORKERS

static struct shared *sh;
static struct progress *prog;	/* [slot * nthreads + thread], shared */
static int ngils, nthreads;
static uint64_t seed;
static int faults;		/* -f */
static int gfd[MAX_GILS];
static const struct gil_page *gpage[MAX_GILS];
static struct policy_book pbook[MAX_GILS];	/* the parent's alone */

/* ---- reporting ---------------------------------------------------------- */

/* Count a finding of class @cls; print the first FINDINGS_SHOWN. */
static void finding(atomic_int *cls, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void finding(atomic_int *cls, const char *fmt, ...)
{
	char buf[400];
	va_list ap;
	int n;

	atomic_fetch_add(cls, 1);
	n = atomic_fetch_add(&sh->printed, 1);
	if (n == FINDINGS_SHOWN)
		out("    (further findings not shown)\n");
	if (n >= FINDINGS_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("    finding: %s\n", buf);
}

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "ok";

	return n ? n : "?";
}

/* Killed by the parent: its incarnation is doomed (or long replaced). */
static int id_dead(uint64_t id)
{
	int s = ID_SLOT(id);

	return s < WORKERS && ID_GEN(id) <= atomic_load(&sh->slot[s].doomed);
}

static void id_str(uint64_t id, char *buf, size_t len)
{
	int s = ID_SLOT(id), i = ID_THREAD(id);
	struct wslot *ws;
	unsigned int ph;

	if (!id) {
		snprintf(buf, len, "no one");
		return;
	}
	if (s > SWEEP_SLOT || i >= MAX_THREADS) {
		snprintf(buf, len, "garbage id %#llx", (unsigned long long)id);
		return;
	}
	ws = &sh->slot[s];
	if (atomic_load(&ws->gen) != ID_GEN(id)) {
		snprintf(buf, len, "worker %d.%u thread %d (%s, replaced)", s,
			 ID_GEN(id), i, id_dead(id) ? "killed" : "not killed");
		return;
	}
	ph = atomic_load(&ws->t[i].phase);
	snprintf(buf, len, "%s %d.%u thread %d (pid %d tid %d, %s, %s gil %d)",
		 s == SWEEP_SLOT ? "sweep" : "worker", s, ID_GEN(id), i,
		 (int)atomic_load(&ws->pid), (int)atomic_load(&ws->t[i].tid),
		 id_dead(id) ? "killed" : "alive",
		 PHASE_OF(ph) < NR_PHASES ? phase_names[PHASE_OF(ph)] : "?",
		 PHASE_GIL(ph));
}

/* ---- a worker thread ---------------------------------------------------- */

struct wthread {
	int slot, idx;
	uint64_t id, rng;
	struct trec *rec;
	struct progress *progress;	/* NULL for the sweep */
	unsigned char uses[MAX_GILS], attached[MAX_GILS];
	int fail_fd;		/* -f, during the chaos: fail-nth; else -1 */
	pthread_t th;
};

static void set_phase(struct wthread *w, enum phase p, int g)
{
	atomic_store(&w->rec->since, t_now_ns());
	atomic_store(&w->rec->phase, PHASE(p, g));
}

/*
 * -f: during the chaos, a third of the ATTACH and ACQUIRE calls are armed
 * to fail their first or second allocation.  ATTACH may answer ENOMEM (and
 * leaves the thread unattached); ACQUIRE allocates nothing the caller can
 * see fail.
 */
static int fault_arm(struct wthread *w)
{
	return !atomic_load(&sh->stop) &&
	       stress_fault_arm(w->fail_fd, &w->rng, 33, 2);
}

static int fault_fired(struct wthread *w, int armed)
{
	return stress_fault_fired(w->fail_fd, armed, &sh->faults);
}

static void bad_result(struct wthread *w, const char *call, int g, int r,
		       int e)
{
	finding(&sh->bad_results, "worker %d thread %d: %s on gil %d returned "
		"%d errno %d (%s)", w->slot, w->idx, call, g, r, r ? e : 0,
		r ? ename(e) : "-");
}

/* An increment that a second holder would make lose updates. */
static void bump(struct cgil *cg)
{
	volatile long *c = &cg->counter;
	long v = *c;

	for (int i = 0; i < 50; i++)
		__asm__ volatile("" ::: "memory");
	*c = v + 1;
	atomic_fetch_add(&cg->increments, 1);
}

/*
 * ACQUIRE (or YIELD, @cmd) gil @g and enter the critical section; 0 when
 * the thread holds the GIL after the call.
 */
static int take(struct wthread *w, int g, unsigned long cmd)
{
	const char *call = cmd == GIL_IOC_YIELD ? "YIELD" : "ACQUIRE";
	struct cgil *cg = &sh->gil[g];
	uint64_t prev, sn, before;
	struct tenure *te;
	char who[160];
	int r, e, armed;

	set_phase(w, cmd == GIL_IOC_YIELD ? PH_YIELD : PH_ACQUIRE, g);
	armed = fault_arm(w);
	errno = 0;
	r = ioctl(gfd[g], cmd);
	e = errno;
	fault_fired(w, armed);
	if (r && !(r == -1 && e == EOWNERDEAD)) {
		bad_result(w, call, g, r, e);
		set_phase(w, PH_IDLE, 0);
		return -1;
	}
	/* Counted before the phase says so: see the parent's bounds. */
	atomic_fetch_add(&cg->acquisitions, 1);
	if (cmd == GIL_IOC_YIELD)
		atomic_fetch_add(&cg->releases, 1);
	set_phase(w, PH_HOLD, g);
	/* Ours while we hold it; an owner death makes it a change of owner. */
	sn = T_PAGE_LOAD(gpage[g]->switch_number);
	te = &cg->tenure[(sn - 1) % TENURES];
	before = r && atomic_load(&te->sn) == sn - 1 ? atomic_load(&te->id) : 0;
	te = &cg->tenure[sn % TENURES];
	atomic_store(&te->id, w->id);
	atomic_store(&te->sn, sn);
	prev = atomic_exchange(&cg->inside, w->id);
	if (r == 0 && prev) {
		id_str(prev, who, sizeof(who));
		if (id_dead(prev))
			finding(&sh->unreported, "gil %d: %s returned 0 to "
				"worker %d thread %d, but %s died inside: an "
				"owner death not reported", g, call, w->slot,
				w->idx, who);
		else
			finding(&sh->exclusion, "gil %d: %s returned 0 to "
				"worker %d thread %d while %s is inside: two "
				"holders", g, call, w->slot, w->idx, who);
	} else if (r) {
		atomic_fetch_add(&cg->owner_deaths, 1);
		if (prev && !id_dead(prev)) {
			id_str(prev, who, sizeof(who));
			finding(&sh->exclusion, "gil %d: %s returned "
				"EOWNERDEAD to worker %d thread %d while %s is "
				"inside: taken from a live holder", g, call,
				w->slot, w->idx, who);
		} else if (prev) {
			atomic_fetch_add(&cg->found_inside, 1);
		}
		if (before && !id_dead(before)) {
			id_str(before, who, sizeof(who));
			finding(&sh->spurious, "gil %d: %s returned "
				"EOWNERDEAD to worker %d thread %d at switch "
				"%llu, but the holder before, %s, was not "
				"killed", g, call, w->slot, w->idx,
				(unsigned long long)sn, who);
		}
	}
	if (w->progress)
		progress_stamp(w->progress);
	return 0;
}

/* Leave the critical section: no one may have entered it meanwhile. */
static void leave(struct wthread *w, int g)
{
	uint64_t mine = w->id;
	char who[160];

	if (atomic_compare_exchange_strong(&sh->gil[g].inside, &mine, 0))
		return;
	id_str(mine, who, sizeof(who));
	finding(&sh->exclusion, "gil %d: worker %d thread %d, holding, found "
		"%s inside instead of itself", g, w->slot, w->idx, who);
}

static void give(struct wthread *w, int g)
{
	int r;

	leave(w, g);
	set_phase(w, PH_RELEASE, g);
	errno = 0;
	r = ioctl(gfd[g], GIL_IOC_RELEASE);
	if (r)
		bad_result(w, "RELEASE", g, r, errno);
	else
		atomic_fetch_add(&sh->gil[g].releases, 1);
	set_phase(w, PH_IDLE, 0);
}

/*
 * The critical section: an increment, and half the time "bytecode" for up
 * to CPU_MAX_US, polling the eval breaker and answering drop requests with
 * YIELD (so that kills land inside forced switches too).  0 when the
 * thread still holds the GIL at the end.
 */
static int critical(struct wthread *w, int g)
{
	struct cgil *cg = &sh->gil[g];
	int64_t end;

	bump(cg);
	if (!rng_chance(&w->rng, 50))
		return 0;
	end = t_now_ns() + (int64_t)rng_below(&w->rng, CPU_MAX_US) * 1000;
	while (t_now_ns() < end) {
		for (int i = 0; i < 200; i++)
			__asm__ volatile("" ::: "memory");
		if (!t_drop_requested(gpage[g]))
			continue;
		leave(w, g);
		if (take(w, g, GIL_IOC_YIELD))
			return -1;
		atomic_fetch_add(&cg->yields, 1);
		bump(cg);
	}
	return 0;
}

static int attach(struct wthread *w, int g)
{
	int r, e, fired, armed;

	set_phase(w, PH_ATTACH, g);
	armed = fault_arm(w);
	errno = 0;
	r = ioctl(gfd[g], GIL_IOC_ATTACH);
	e = errno;
	fired = fault_fired(w, armed);
	if (r && fired && e == ENOMEM)
		atomic_fetch_add(&sh->enomem, 1);
	else if (r)
		bad_result(w, "ATTACH", g, r, e);
	else
		w->attached[g] = 1;
	set_phase(w, PH_IDLE, 0);
	return r;
}

static void detach(struct wthread *w, int g)
{
	int r;

	set_phase(w, PH_DETACH, g);
	errno = 0;
	r = ioctl(gfd[g], GIL_IOC_DETACH);
	if (r)
		bad_result(w, "DETACH", g, r, errno);
	w->attached[g] = 0;
	set_phase(w, PH_IDLE, 0);
}

/* Take every GIL once and detach from all: each one still works. */
static int take_each(struct wthread *w)
{
	int done = 0;

	for (int g = 0; g < ngils; g++) {
		if (!w->attached[g] && attach(w, g))
			continue;
		if (take(w, g, GIL_IOC_ACQUIRE))
			continue;
		bump(&sh->gil[g]);
		give(w, g);
		done++;
	}
	for (int g = 0; g < ngils; g++)
		if (w->attached[g])
			detach(w, g);
	return done == ngils;
}

static int pick_used(struct wthread *w)
{
	for (;;) {
		int g = rng_below(&w->rng, ngils);

		if (w->uses[g])
			return g;
	}
}

static void *thread_main(void *arg)
{
	struct wthread *w = arg;
	int g;

	if (faults)
		w->fail_fd = t_fail_nth_open();	/* this thread's */

	atomic_store(&w->rec->tid, t_gettid());
	progress_stamp(w->progress);
	w->uses[rng_below(&w->rng, ngils)] = 1;
	for (g = 0; g < ngils; g++) {
		if (rng_chance(&w->rng, 75))
			w->uses[g] = 1;
		if (w->uses[g])
			attach(w, g);
	}
	atomic_fetch_add(&sh->slot[w->slot].started, 1);
	while (!atomic_load(&sh->stop)) {
		g = pick_used(w);
		if (!w->attached[g] && attach(w, g))
			continue;
		if (take(w, g, GIL_IOC_ACQUIRE) == 0 && critical(w, g) == 0)
			give(w, g);
		if (rng_chance(&w->rng, 5)) {
			g = pick_used(w);
			if (w->attached[g])
				detach(w, g);
		}
		if (rng_chance(&w->rng, 30))
			t_sleep_us(50 + rng_below(&w->rng, 2000));
	}
	/* After the chaos: the proof that every GIL was recovered. */
	if (take_each(w))
		atomic_store(&w->rec->finished, 1);
	set_phase(w, PH_DONE, 0);
	atomic_store(&w->progress->stamp, 0);	/* done: no longer watched */
	return NULL;
}

/* A worker process: its threads, until the chaos is over. */
static void __attribute__((noreturn)) worker_run(int s, uint32_t gen)
{
	static struct wthread ws[MAX_THREADS];
	int i;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	setpriority(PRIO_PROCESS, 0, 0);	/* not the parent's boost */
	for (i = 0; i < nthreads; i++) {
		struct wthread *w = &ws[i];

		w->slot = s;
		w->idx = i;
		w->id = MAKE_ID(s, gen, i);
		w->rng = rng_seed(seed, (uint64_t)gen * MAX_THREADS + i + 1);
		w->rec = &sh->slot[s].t[i];
		w->progress = &prog[s * nthreads + i];
		w->fail_fd = -1;
		if (pthread_create(&w->th, NULL, thread_main, w)) {
			finding(&sh->unfinished, "worker %d: cannot start "
				"thread %d", s, i);
			break;
		}
	}
	while (i-- > 0)
		pthread_join(ws[i].th, NULL);
	_exit(0);
}

/* After the workers: one more process takes each GIL once. */
static void __attribute__((noreturn)) sweep_run(uint32_t gen)
{
	struct wthread w = {
		.slot = SWEEP_SLOT,
		.id = MAKE_ID(SWEEP_SLOT, gen, 0),
		.rec = &sh->slot[SWEEP_SLOT].t[0],
		.fail_fd = -1,
	};

	atomic_store(&w.rec->tid, t_gettid());
	if (take_each(&w))
		atomic_store(&w.rec->finished, 1);
	set_phase(&w, PH_DONE, 0);
	_exit(0);
}

/* ---- the parent ---------------------------------------------------------- */

static uint32_t last_gen;
static int64_t reap_ns, reap_max_ns, spawn_ns;	/* what kills cost */
static unsigned int child_timeout_s;
/*
 * Per GIL, from the final phases of the threads of killed workers: owner
 * deaths that must follow (held), may follow (held, or in a call that may
 * have taken or not yet given up the GIL), acquisitions the threads may
 * have made without counting them (in ACQUIRE or YIELD), and releases
 * likewise (in RELEASE or YIELD).
 */
static long died_holding[MAX_GILS], may_have_held[MAX_GILS],
	uncounted[MAX_GILS], unreleased[MAX_GILS];
static long killed_in[NR_PHASES];	/* where the killed threads were */

/* Fork worker @s anew; 0, or -1 if fork failed (tried again later). */
static int spawn(int s)
{
	struct wslot *ws = &sh->slot[s];
	uint32_t gen = ++last_gen;
	int64_t t;
	pid_t pid;

	atomic_store(&ws->started, 0);
	for (int i = 0; i < MAX_THREADS; i++) {
		atomic_store(&ws->t[i].phase, PHASE(PH_IDLE, 0));
		atomic_store(&ws->t[i].since, 0);
		atomic_store(&ws->t[i].tid, 0);
		atomic_store(&ws->t[i].finished, 0);
		if (s < WORKERS && i < nthreads)
			atomic_store(&prog[s * nthreads + i].stamp, 0);
	}
	atomic_store(&ws->gen, gen);
	t = t_now_ns();
	pid = t_fork(child_timeout_s);
	if (pid == 0) {
		if (s == SWEEP_SLOT)
			sweep_run(gen);
		worker_run(s, gen);
	}
	atomic_store(&ws->pid, pid > 0 ? pid : 0);
	spawn_ns += t_now_ns() - t;
	return pid > 0 ? 0 : -1;
}

/* Where each thread of a process is, in the kernel: for hangs. */
static void dump_tasks(pid_t pid)
{
	char path[80], buf[1024];
	struct dirent *e;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((e = readdir(d))) {
		pid_t tid = atoi(e->d_name);
		ssize_t n;
		int fd;

		if (tid <= 0)
			continue;
		out("    pid %d tid %d: state %c\n", (int)pid, (int)tid,
		    t_task_state(pid, tid));
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stack",
			 (int)pid, (int)tid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = 0;
		for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n"))
			out("      %s\n", l);
	}
	closedir(d);
}

/* Each GIL's page and the thread recorded inside it. */
static void dump_gils(void)
{
	char who[160];

	for (int g = 0; g < ngils; g++) {
		id_str(atomic_load(&sh->gil[g].inside), who, sizeof(who));
		out("    gil %d: locked %u switch_number %llu eval_breaker %#x,"
		    " inside: %s\n", g, T_PAGE_LOAD(gpage[g]->locked),
		    (unsigned long long)T_PAGE_LOAD(gpage[g]->switch_number),
		    T_PAGE_LOAD(gpage[g]->eval_breaker), who);
	}
}

/* Worker @s's incarnation is being killed (or is gone). */
static void doom(int s)
{
	atomic_store(&sh->slot[s].doomed, atomic_load(&sh->slot[s].gen));
}

/* What the threads of a killed worker were doing, for the bounds. */
static void account(int s)
{
	for (int i = 0; i < nthreads; i++) {
		unsigned int ph = atomic_load(&sh->slot[s].t[i].phase);
		int g = PHASE_GIL(ph);

		/* A thread not started yet counts as idle. */
		if (PHASE_OF(ph) < NR_PHASES)
			killed_in[PHASE_OF(ph)]++;
		switch (PHASE_OF(ph)) {
		case PH_HOLD:
			died_holding[g]++;
			may_have_held[g]++;
			break;
		case PH_RELEASE:
			may_have_held[g]++;
			unreleased[g]++;
			break;
		case PH_ACQUIRE:
			may_have_held[g]++;
			uncounted[g]++;
			break;
		case PH_YIELD:
			may_have_held[g]++;
			uncounted[g]++;
			unreleased[g]++;
			break;
		default:
			break;
		}
	}
}

/* SIGKILL worker @s and reap it: 0, or -1 if it did not go away. */
static int kill_worker(int s)
{
	struct wslot *ws = &sh->slot[s];
	pid_t pid = atomic_load(&ws->pid);
	int64_t t = t_now_ns();
	int status = 0;

	/* Before the kill: from now on its ids may be found inside. */
	doom(s);
	kill(pid, SIGKILL);
	/* Its exit, not the live workers, gets the CPU: kills come faster. */
	setpriority(PRIO_PROCESS, pid, -10);
	for (int i = 0; i < nthreads; i++)
		if (atomic_load(&ws->t[i].tid))
			setpriority(PRIO_PROCESS, atomic_load(&ws->t[i].tid),
				    -10);
	if (t_reap_within(pid, REAP_BOUND_MS, REAP_POLL_US, &status)) {
		finding(&sh->stalls, "worker %d (pid %d) still there %d s "
			"after SIGKILL: a thread hangs in the kernel", s,
			(int)pid, REAP_BOUND_MS / 1000);
		dump_tasks(pid);
		dump_gils();
		return -1;
	}
	t = t_now_ns() - t;
	reap_ns += t;
	if (t > reap_max_ns)
		reap_max_ns = t;
	atomic_store(&ws->pid, 0);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		finding(&sh->unfinished, "worker %d (pid %d) ended with "
			"status %#x before it was killed", s, (int)pid, status);
	account(s);
	return 0;
}

/* A worker that ended on its own during the chaos (it never should). */
static void check_exits(void)
{
	for (int s = 0; s < WORKERS; s++) {
		pid_t pid = atomic_load(&sh->slot[s].pid);
		int status = 0;

		if (!pid || waitpid(pid, &status, WNOHANG) != pid)
			continue;
		atomic_store(&sh->slot[s].pid, 0);
		finding(&sh->unfinished, "worker %d (pid %d) ended with "
			"status %#x%s", s, (int)pid, status,
			WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
			" (its alarm: stuck)" : "");
		/* Its threads' ids may be inside: count them as killed. */
		doom(s);
		account(s);
	}
}

/* A thread stuck past the bound: where it is, and who holds what. */
static int stall_reported;

/* A live thread without progress for STALL_BOUND_S, or -1. */
static int stalled_now(void)
{
	return progress_stalled(prog, WORKERS * nthreads,
				STALL_BOUND_S * 1000000000LL);
}

static void report_stall(int idx)
{
	int s = idx / nthreads, i = idx % nthreads;
	struct trec *r = &sh->slot[s].t[i];
	unsigned int ph = atomic_load(&r->phase);
	pid_t pid = atomic_load(&sh->slot[s].pid);
	pid_t tid = atomic_load(&r->tid);

	stall_reported = 1;
	finding(&sh->stalls, "worker %d thread %d (pid %d tid %d, state %c) "
		"made no progress for %d s: in %s of gil %d for %lld ms", s,
		i, (int)pid, (int)tid, t_task_state(pid, tid), STALL_BOUND_S,
		PHASE_OF(ph) < NR_PHASES ? phase_names[PHASE_OF(ph)] : "?",
		PHASE_GIL(ph),
		(long long)T_MS(t_now_ns() - atomic_load(&r->since)));
	dump_gils();
	if (pid)
		dump_tasks(pid);
}

/*
 * A random worker, of those whose threads all started: where kills are
 * slow, killing workers that never got going would test little (kills
 * right after fork do that).  Or -1.
 */
static int random_victim(uint64_t *rng)
{
	int s0 = rng_below(rng, WORKERS - 1);

	for (int n = 0; n < WORKERS - 1; n++) {
		int s = 1 + (s0 + n) % (WORKERS - 1);

		if (atomic_load(&sh->slot[s].pid) &&
		    atomic_load(&sh->slot[s].started) == nthreads)
			return s;
	}
	return -1;
}

/*
 * Half the time the process holding a GIL: the first holder found, from a
 * random GIL on, that worker 0 is not (looking again for up to
 * AIM_MS, as holders come and go); else a random worker.  Or -1.
 */
static int pick_victim(uint64_t *rng, int *holder)
{
	int64_t give_up = t_now_ns() + AIM_MS * 1000000LL;
	int g0 = rng_below(rng, ngils);

	*holder = 0;
	if (!rng_chance(rng, 50))
		return random_victim(rng);
	do {
		for (int n = 0; n < ngils; n++) {
			int g = (g0 + n) % ngils;
			uint64_t id = atomic_load(&sh->gil[g].inside);
			int s = ID_SLOT(id);

			if (id && s > 0 && s < WORKERS &&
			    ID_GEN(id) == atomic_load(&sh->slot[s].gen) &&
			    atomic_load(&sh->slot[s].pid)) {
				*holder = 1;
				return s;
			}
		}
		t_sleep_us(200);
	} while (t_now_ns() < give_up);
	return random_victim(rng);
}

/* Judge a worker that ended after the chaos. */
static void judge_finished(int s, pid_t pid, int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		finding(&sh->unfinished, "worker %d (pid %d) ended with status "
			"%#x after the chaos", s, (int)pid, status);
		return;
	}
	for (int i = 0; i < nthreads; i++)
		if (!atomic_load(&sh->slot[s].t[i].finished))
			finding(&sh->unfinished, "worker %d thread %d did not "
				"take every GIL after the chaos", s, i);
}

/*
 * Wait for the workers to end after the chaos, watching for stalls all
 * along (so that a GIL wedged late in a short run shows as a thread that
 * waits forever); kill those that do not end.  0 when all ended by
 * themselves: then the module's counts can be made final.
 */
static int finish_workers(void)
{
	int64_t finish = t_now_ns() + FINISH_BOUND_MS * 1000000LL;
	int left = 0, unsettled = 0, status, stalled;

	for (int s = 0; s < WORKERS; s++)
		left += atomic_load(&sh->slot[s].pid) != 0;
	while (left && t_now_ns() < finish) {
		t_sleep_us(2000);
		for (int s = 0; s < WORKERS; s++) {
			pid_t pid = atomic_load(&sh->slot[s].pid);

			status = 0;
			if (!pid || waitpid(pid, &status, WNOHANG) != pid)
				continue;
			atomic_store(&sh->slot[s].pid, 0);
			left--;
			judge_finished(s, pid, status);
		}
		if (!stall_reported && (stalled = stalled_now()) >= 0)
			report_stall(stalled);
	}
	for (int s = 0; s < WORKERS; s++) {
		pid_t pid = atomic_load(&sh->slot[s].pid);

		if (!pid)
			continue;
		finding(&sh->unfinished, "worker %d (pid %d) did not end "
			"within %d s after the chaos", s, (int)pid,
			FINISH_BOUND_MS / 1000);
		if (!unsettled++) {
			dump_tasks(pid);
			dump_gils();
		}
		doom(s);
		kill(pid, SIGKILL);
		if (t_reap_within(pid, REAP_BOUND_MS, REAP_POLL_US, &status)) {
			finding(&sh->stalls, "worker %d (pid %d) still there "
				"%d s after SIGKILL: a thread hangs in the "
				"kernel", s, (int)pid, REAP_BOUND_MS / 1000);
			dump_tasks(pid);
			continue;
		}
		account(s);
		atomic_store(&sh->slot[s].pid, 0);
	}
	return unsettled;
}

int main(int argc, char **argv)
{
	struct stress_opts o = { .seconds = 10, .threads = 4, .gils = 4 };
	long kills = 0, holder_kills = 0, early_kills = 0, respawn_fails = 0;
	long acquisitions = 0, owner_deaths = 0, found_inside = 0, yields = 0;
	long mod_acq = 0, mod_deaths = 0, held_total = 0, may_total = 0;
	long handoffs = 0, io_preemptions = 0, policy_changes;
	char mix[64];
	int exclusion, unreported, spurious, bad, stalls, unfinished;
	int hung = 0, findings, nprog, status;
	int64_t start = t_now_ns(), deadline;
	uint64_t rng;

	setvbuf(stdout, NULL, _IOLBF, 0);
	stress_parse(argc, argv, &o);
	if (o.threads > MAX_THREADS || o.gils > MAX_GILS)
		stress_usage(argv[0], &o);
	ngils = o.gils;
	nthreads = o.threads;
	seed = o.seed;
	faults = o.faults;
	if (faults)
		stress_faults_setup(argv[0]);
	rng = rng_seed(seed, 0);
	nprog = WORKERS * nthreads;
	child_timeout_s = (unsigned int)o.seconds + STALL_BOUND_S +
			  FINISH_BOUND_MS / 1000 + 60;
	sh = t_shared_zalloc(sizeof(*sh));
	prog = t_shared_zalloc(nprog * sizeof(*prog));
	if (!sh || !prog) {
		printf("not ok - stress-chaos: shared memory (%s)\n",
		       strerror(errno));
		return 1;
	}
	for (int g = 0; g < ngils; g++) {
		__s64 us = INTERVAL_MIN_US + rng_below(&rng, INTERVAL_MAX_US -
						       INTERVAL_MIN_US + 1);

		gfd[g] = t_open_dev();
		gpage[g] = gfd[g] < 0 ? NULL : t_map_page(gfd[g]);
		if (!gpage[g] || t_set_interval(gfd[g], us)) {
			printf("not ok - stress-chaos: open, map and set up %d "
			       "GILs (%s)\n", ngils, strerror(errno));
			return 1;
		}
	}
	if (policy_deal(pbook, gfd, ngils, &rng)) {
		printf("not ok - stress-chaos: set the GILs' policies (%s)\n",
		       strerror(errno));
		return 1;
	}

	/*
	 * Ahead of the workers' threads (as root; else as it may): forks and
	 * reaps are slow on debug kernels under TCG, and set the kill rate.
	 */
	setpriority(PRIO_PROCESS, 0, -10);
	for (int s = 0; s < WORKERS; s++)
		spawn(s);
	deadline = stress_deadline(&o);
	while (t_now_ns() < deadline && !hung &&
	       !(o.count && kills >= o.count)) {
		int s, holder, stalled;

		t_sleep_us(1000 + rng_below(&rng, (KILL_GAP_MS - 1) * 1000));
		stalled = stalled_now();
		if (stalled >= 0) {
			report_stall(stalled);
			break;
		}
		check_exits();
		for (s = 0; s < WORKERS; s++)
			if (!atomic_load(&sh->slot[s].pid) && spawn(s))
				respawn_fails++;
		/* The chaos runs over every policy, changing under it. */
		if (rng_chance(&rng, POLICY_PCT) &&
		    policy_change(pbook, ngils, &rng))
			finding(&sh->bad_results, "SET_POLICY failed (%s)",
				strerror(errno));
		s = pick_victim(&rng, &holder);
		if (s < 0)
			continue;
		if (kill_worker(s)) {
			hung = 1;
			break;
		}
		kills++;
		holder_kills += holder;
		if (spawn(s)) {
			respawn_fails++;
			continue;
		}
		/* Sometimes the replacement too, while it starts up. */
		if (rng_chance(&rng, EARLY_KILL_PCT)) {
			t_sleep_us(rng_below(&rng, 3000));
			if (kill_worker(s)) {
				hung = 1;
				break;
			}
			kills++;
			early_kills++;
			if (spawn(s))
				respawn_fails++;
		}
	}

	/* The end: every thread takes every GIL once more, then ends. */
	atomic_store(&sh->stop, 1);
	if (finish_workers())
		hung = 1;
	/* Then one process more: the module's counts are final after it. */
	if (!hung && spawn(SWEEP_SLOT) == 0) {
		pid_t pid = atomic_load(&sh->slot[SWEEP_SLOT].pid);

		if (t_wait_child(pid, FINISH_BOUND_MS, &status) ||
		    !WIFEXITED(status) || WEXITSTATUS(status) ||
		    !atomic_load(&sh->slot[SWEEP_SLOT].t[0].finished)) {
			finding(&sh->unfinished, "the last process could not "
				"take every GIL once (status %#x)", status);
			hung = 1;
		}
		atomic_store(&sh->slot[SWEEP_SLOT].pid, 0);
	} else if (!hung) {
		finding(&sh->unfinished, "cannot fork the last process (%s)",
			strerror(errno));
		hung = 1;
	}

	/* The books: the threads' counts, the kills, the module's counts. */
	for (int g = 0; g < ngils; g++) {
		struct cgil *cg = &sh->gil[g];
		unsigned long long page_sn;
		struct gil_stats st;
		long acq = atomic_load(&cg->acquisitions);
		long od = atomic_load(&cg->owner_deaths);
		long rel = atomic_load(&cg->releases);
		long extra = cg->counter - atomic_load(&cg->increments);
		const char *why;
		char text[200];
		long mod_rel;
		int bad_books = 0;

		acquisitions += acq;
		owner_deaths += od;
		found_inside += atomic_load(&cg->found_inside);
		yields += atomic_load(&cg->yields);
		held_total += died_holding[g];
		may_total += may_have_held[g];
		if (t_gil_stats(gfd[g], &st)) {
			finding(&sh->bad_results, "gil %d: GET_STATS failed "
				"(%s)", g, strerror(errno));
			continue;
		}
		mod_acq += st.acquisitions;
		mod_deaths += st.owner_deaths;
		handoffs += st.direct_handoffs;
		io_preemptions += st.io_preemptions;
		mod_rel = st.forced_switches + st.voluntary_releases;
		out("#   gil %d: interval %lld us, acquisitions %ld (module "
		    "%llu), yields %ld, owner deaths %ld (module %llu, died "
		    "holding %ld, may have held %ld)\n", g,
		    (long long)T_PAGE_LOAD(gpage[g]->interval_us), acq,
		    (unsigned long long)st.acquisitions,
		    atomic_load(&cg->yields), od,
		    (unsigned long long)st.owner_deaths, died_holding[g],
		    may_have_held[g]);
		out("#   gil %d: policies %s (%ld changes), releases %ld "
		    "(module %ld), direct handoffs %llu, io preemptions %llu, "
		    "drop requests %llu, switches %llu\n", g,
		    pbook[g].history, pbook[g].changes, rel, mod_rel,
		    (unsigned long long)st.direct_handoffs,
		    (unsigned long long)st.io_preemptions,
		    (unsigned long long)st.drop_requests,
		    (unsigned long long)st.switch_number);
		why = policy_final(&pbook[g], gpage[g]);
		if (why)
			finding(&sh->bad_results, "gil %d: %s (%s)", g, why,
				policy_names[pbook[g].now]);
		if (atomic_load(&cg->inside) || T_PAGE_LOAD(gpage[g]->locked))
			finding(&sh->unreported, "gil %d still held after the "
				"end", g);
		/* Without the last process the counts are not final. */
		if (hung)
			continue;
		/* Lost updates; more than the holders killed mid-increment. */
		if (extra < 0 || extra > died_holding[g])
			finding(&sh->exclusion, "gil %d: counter %ld, "
				"increments %ld (holders killed: %ld)", g,
				cg->counter, atomic_load(&cg->increments),
				died_holding[g]);
		if ((long)st.owner_deaths < died_holding[g] ||
		    (long)st.owner_deaths < od)
			finding(&sh->unreported, "gil %d: module owner deaths "
				"%llu, want at least %ld (killed holding) and "
				"%ld (seen)", g,
				(unsigned long long)st.owner_deaths,
				died_holding[g], od);
		if ((long)st.owner_deaths > may_have_held[g] ||
		    (long)st.owner_deaths > od + uncounted[g])
			finding(&sh->spurious, "gil %d: module owner deaths "
				"%llu, want at most %ld (killed maybe holding) "
				"and %ld (seen, or maybe unseen)", g,
				(unsigned long long)st.owner_deaths,
				may_have_held[g], od + uncounted[g]);
		page_sn = T_PAGE_LOAD(gpage[g]->switch_number);
		if ((long)st.acquisitions < acq ||
		    (long)st.acquisitions > acq + uncounted[g])
			bad_books++;
		if (st.switch_number != page_sn)
			bad_books++;
		if (bad_books)
			finding(&sh->bad_results, "gil %d: module acquisitions "
				"%llu, switches %llu (page %llu); threads "
				"counted %ld, may have missed %ld", g,
				(unsigned long long)st.acquisitions,
				(unsigned long long)st.switch_number, page_sn,
				acq, uncounted[g]);
		/* Releases: as counted, or by a thread killed in the call. */
		if (mod_rel < rel || mod_rel > rel + unreleased[g])
			finding(&sh->bad_results, "gil %d: module releases %ld "
				"(forced %llu, voluntary %llu); threads "
				"counted %ld, may have missed %ld", g, mod_rel,
				(unsigned long long)st.forced_switches,
				(unsigned long long)st.voluntary_releases, rel,
				unreleased[g]);
		/*
		 * Under fifo and io a change of owner may be a handoff to a
		 * waiter killed before it took the GIL (uncounted[g] bounds
		 * those): switch_number <= acquisitions no longer holds.
		 */
		why = policy_stats(&st, pbook[g].had, uncounted[g]);
		if (why)
			finding(&sh->bad_results, "gil %d (policies %s): %s: "
				"%s, killed waiting %ld", g, pbook[g].history,
				why, stats_text(&st, text, sizeof(text)),
				uncounted[g]);
	}
	for (int g = 0; g < ngils; g++)
		t_close_gil(gfd[g], gpage[g]);

	exclusion = atomic_load(&sh->exclusion);
	unreported = atomic_load(&sh->unreported);
	spurious = atomic_load(&sh->spurious);
	bad = atomic_load(&sh->bad_results);
	stalls = atomic_load(&sh->stalls);
	unfinished = atomic_load(&sh->unfinished);
	out("#   kills %ld (%ld aimed at a holder, %ld right after fork, "
	    "%ld forks failed); threads killed holding %ld, maybe holding "
	    "%ld; owner deaths seen %ld (module %ld, %ld with the dead "
	    "holder inside); acquisitions %ld (module %ld), yields %ld; "
	    "longest wait %ld ms; a kill took %lld ms to reap (at most "
	    "%lld), a fork %lld ms\n", kills, holder_kills, early_kills,
	    respawn_fails, held_total, may_total, owner_deaths, mod_deaths,
	    found_inside, acquisitions, mod_acq, yields,
	    progress_longest_ms(prog, nprog),
	    (long long)T_MS(reap_ns / (kills ? kills : 1)),
	    (long long)T_MS(reap_max_ns), (long long)T_MS(spawn_ns / last_gen));
	out("#   threads killed:");
	for (int p = 0; p < NR_PHASES; p++)
		if (killed_in[p])
			out(" %s %ld", phase_names[p], killed_in[p]);
	out("\n");
	printf("%s - stress-chaos: mutual exclusion held on every GIL\n",
	       exclusion ? "not ok" : "ok");
	printf("%s - stress-chaos: every owner death was reported and "
	       "recovered\n", unreported ? "not ok" : "ok");
	printf("%s - stress-chaos: no owner death was reported that did not "
	       "happen\n", spurious ? "not ok" : "ok");
	printf("%s - stress-chaos: every call returned a documented result, "
	       "the module's counts agree (under every policy)\n",
	       bad ? "not ok" : "ok");
	printf("%s - stress-chaos: no thread waited forever\n",
	       stalls ? "not ok" : "ok");
	printf("%s - stress-chaos: every worker finished after the chaos\n",
	       unfinished ? "not ok" : "ok");
	if (faults)
		printf("%s - stress-chaos: allocations failed under the calls "
		       "(%ld, %ld ATTACHes answered ENOMEM)\n",
		       atomic_load(&sh->faults) ? "ok" : "not ok",
		       atomic_load(&sh->faults), atomic_load(&sh->enomem));
	findings = exclusion + unreported + spurious + bad + stalls +
		   unfinished + (faults && !atomic_load(&sh->faults));
	policy_changes = policy_mix(pbook, ngils, mix, sizeof(mix));
	printf("# stress-chaos: seconds=%g gils=%d workers=%d threads=%d "
	       "acquisitions=%ld kills=%ld holder_kills=%ld owner_deaths=%ld "
	       "policies=%s policy_changes=%ld direct_handoffs=%ld "
	       "io_preemptions=%ld ",
	       (double)((t_now_ns() - start) / 100000000) / 10, ngils, WORKERS,
	       nthreads, acquisitions, kills, holder_kills, owner_deaths, mix,
	       policy_changes, handoffs, io_preemptions);
	if (faults)
		printf("failed_allocations=%ld ", atomic_load(&sh->faults));
	printf("findings=%d\n", findings);
	fflush(stdout);
	return findings ? 1 : 0;
}
