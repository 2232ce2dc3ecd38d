// SPDX-License-Identifier: MIT
/*
 * gil-bench: the kernel GIL, under each of its handoff policies, against the
 * cpython and futex backends, and against the floor of the machine it runs
 * on, in one process run.
 *
 * What is measured is a variant: a backend, and for the kernel backend a
 * handoff policy (gil_set_policy).  The kernel backend runs as three
 * variants, "kernel-cpython", "kernel-fifo" and "kernel-io" (-p picks
 * some); the userspace backends have one policy each and keep their names,
 * "cpython" (policy cpython) and "futex" (policy fifo).  Every figure runs
 * on every variant.
 *
 * Every figure is a distribution of measured samples.  The run is made of
 * rounds; each round runs every benchmark once on every variant, in an
 * order that rotates from round to round, so that drift (a host that
 * slows down, timer noise) hits every variant alike.  Each variant gets a
 * new GIL for every chunk of samples.
 *
 * Figures (name, variant, unit; latencies are "from A until the thread
 * that was waiting runs"):
 *
 *   floor-futex-{same,cross}  raw futex ping-pong, one way: store, FUTEX_WAKE,
 *                             the other thread returns from FUTEX_WAIT (us)
 *   floor-pipe-{same,cross}   pipe ping-pong, one way: write() until the
 *                             other thread returns from read() (us)
 *   floor-mutex               pthread mutex lock+unlock, uncontended (ns)
 *   floor-syscall             one getppid() system call (ns)
 *   clock-read                one clock_gettime(CLOCK_MONOTONIC) (ns)
 *   handoff-voluntary-{same,cross}
 *                             the holder releases while the other thread
 *                             sleeps in gil_acquire: from the release
 *                             until the waiter returns holding the GIL (us)
 *   handoff-waiters-{1,8,64}  N+1 threads, not pinned, take turns: the
 *                             holder releases once the other N sleep in
 *                             gil_acquire; from the release until one of
 *                             them returns holding the GIL (us)
 *   handoff-forced-{same,cross}
 *                             two CPU-bound eval loops: from the moment the
 *                             holder's gil_check sees the drop request
 *                             until the waiter returns holding the GIL (us)
 *   slice-{1,5,20}ms          two CPU-bound eval loops at that switch
 *                             interval: from acquiring the GIL until the
 *                             drop request is seen (ms)
 *   convoy-{0,1,2,4}          a thread blocked in read() outside the GIL,
 *                             N CPU-bound eval loops: from the write() of
 *                             its request until it holds the GIL (us)
 *                             (switch interval 5 ms, CPython's default)
 *   throughput-{1,2,4}        wall time of a fixed amount of eval-loop
 *                             work split over N threads (ms)
 *   reacquire-{0,1,2}-{1,5}ms a thread sleeps 200 us outside the GIL
 *                             (clock_nanosleep, as time.sleep) beside N
 *                             CPU-bound eval loops, at a 1 or 5 ms switch
 *                             interval: from the end of the sleep until it
 *                             holds the GIL again (iv: switch intervals,
 *                             stored in millionths)
 *   fairness-{2,4}, fairness-2+io
 *                             N CPU-bound eval loops (+io: and a thread
 *                             alternating 0.1 ms bursts with 1 ms sleeps
 *                             outside the GIL) for 0.25 s at a 5 ms
 *                             interval: Jain's index of the CPU-bound
 *                             threads' GIL hold times, one per run (J,
 *                             1 = equal; stored in millionths)
 *   uncontended               gil_acquire + gil_release, one thread (ns)
 *
 * "same" pins both threads to CPU 0, "cross" to CPUs 0 and 1.  The convoy's
 * I/O thread runs on CPU 0 and its feeder on CPU 1, as in floor-pipe-cross;
 * its CPU-bound threads, the re-acquire's threads and the throughput
 * threads are not pinned.
 *
 * Output: progress on stderr; on stdout the environment, the results as
 * CSV (name,backend,unit,p50,p90,p99,max,mean,n,min; backend is the
 * variant), the GILs' counters per figure and variant (struct gil_stats,
 * summed), the raw samples (in ns; J and iv in millionths) for the plots
 * and how many of them each round took, for the report's spread of the
 * median, each between marker lines (see print_results).  At the end
 * gil-bench checks the counters against each kernel policy's promise
 * (fifo: every wait ends in a direct handoff; io: a thread back from I/O
 * beside CPU-bound ones preempts; cpython: neither) and warns on stderr
 * where they disagree.
 *
 * usage: gil-bench [-r rounds] [-s scale] [-b backend,...] [-p policy,...]
 *                  [-g group,...] [-n]
 *   -r  rounds (default 8)       -s  multiply every sample count (1.0)
 *   -b  backends (default: kernel if /dev/gil opens, cpython, futex)
 *   -p  the kernel backend's policies (default: cpython,fifo,io, those
 *       the loaded module has)
 *   -g  run only the groups whose progress name contains one of these
 *   -n  do not print the raw samples
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <gil.h>

#include "../demos/demo.h"

#define NSEC_PER_SEC	1000000000LL

/* ---------------------------------------------------------------- utils */

static void die(const char *what, int err)
{
	fprintf(stderr, "gil-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static void check(const char *what, int ret)
{
	if (ret < 0)
		die(what, ret);
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("calloc", ENOMEM);
	return p;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int ncpus;

/* Pin the calling thread to @cpu, or let it run anywhere (-1). */
static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (int i = 0; i < ncpus; i++)
			CPU_SET(i, &set);
	}
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
}

/* xorshift64*, for the convoy's request gaps. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

/*
 * Coordination between the threads of a benchmark, outside what is
 * measured: a 32-bit counter others sleep on until it reaches a value.
 */
static void futex_wait(uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *w, int n)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static uint32_t load(const uint32_t *w)
{
	return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

static void wait_ge(uint32_t *w, uint32_t v)
{
	uint32_t c;

	while ((c = load(w)) < v)
		futex_wait(w, c);
}

static void publish(uint32_t *w, uint32_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELEASE);
	futex_wake(w, INT_MAX);
}

static void publish_add(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
	futex_wake(w, INT_MAX);
}

static void store64(int64_t *p, int64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

static int64_t load64(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Is thread @tid of this process asleep (S, or D: the kernel GIL's wait)? */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, errno);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die(path, n < 0 ? errno : EIO);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

/* Wait until thread @tid sleeps, giving it the CPU if it shares ours. */
static void wait_sleeping(pid_t tid)
{
	while (!thread_sleeping(tid))
		sleep_ns(10000);
}

static pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int ret = pthread_create(&t, NULL, fn, arg);

	if (ret)
		die("pthread_create", ret);
	return t;
}

static struct gil_tstate *tstate(struct gil *gil)
{
	struct gil_tstate *ts;

	check("gil_tstate_new", gil_tstate_new(gil, &ts));
	check("gil_tstate_attach", gil_tstate_attach(ts));
	return ts;
}

static void tstate_done(struct gil_tstate *ts)
{
	check("gil_tstate_detach", gil_tstate_detach(ts));
	check("gil_tstate_free", gil_tstate_free(ts));
}

/* One step of a CPU-bound "eval loop": work the compiler cannot drop. */
static inline uint64_t work(uint64_t x)
{
	return x * 6364136223846793005ULL + (x >> 29) + 1442695040888963407ULL;
}

static volatile uint64_t sink;

/* ------------------------------------------------------------- results */

/*
 * A figure measured on one variant (a backend, and for the kernel backend
 * one handoff policy: see struct variant).
 */
struct series {
	char name[40];
	char backend[24];	/* the variant's label */
	const char *unit;
	int64_t *v;		/* samples, in ns (units J, iv: in millionths) */
	size_t n, cap;
	size_t *round_end;	/* n at the end of each round */
	/* The GIL's counters, summed over the chunks that measured it. */
	struct gil_stats st;
	int chunks;
};

#define MAX_SERIES 256
static struct series all_series[MAX_SERIES];
static int nseries;

static struct series *series(const char *name, const char *backend,
			     const char *unit)
{
	struct series *s;

	for (int i = 0; i < nseries; i++) {
		s = &all_series[i];
		if (!strcmp(s->name, name) && !strcmp(s->backend, backend))
			return s;
	}
	if (nseries == MAX_SERIES)
		die("too many series", ENOSPC);
	s = &all_series[nseries++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->backend, sizeof(s->backend), "%s", backend);
	s->unit = unit;
	return s;
}

static void add(struct series *s, const int64_t *v, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("realloc", ENOMEM);
	}
	memcpy(s->v + s->n, v, n * sizeof(*v));
	s->n += n;
}

static void add1(struct series *s, int64_t v)
{
	add(s, &v, 1);
}

/*
 * What one unit of @unit is in the stored samples: ns for the times; Jain's
 * index J, dimensionless, and iv, switch intervals, in millionths.
 */
static double unit_ns(const char *unit)
{
	return !strcmp(unit, "ms") || !strcmp(unit, "J") ||
	       !strcmp(unit, "iv") ? 1e6 : !strcmp(unit, "us") ? 1e3 : 1.0;
}

static int rounds = 8;

/* The end of round @r: where each series' samples of the round end. */
static void end_round(int r)
{
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		if (!s->round_end)
			s->round_end = xcalloc((size_t)rounds, sizeof(*s->round_end));
		s->round_end[r] = s->n;
	}
}

/* Nearest-rank percentile of sorted @v. */
static int64_t pct(const int64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n);

	return v[rank ? rank - 1 : 0];
}

/* --------------------------------------------------------- parameters */

static const char *const figure_names[] = {
	"floor-futex-same", "floor-futex-cross", "floor-pipe-same",
	"floor-pipe-cross", "floor-mutex", "floor-syscall", "clock-read",
	"handoff-voluntary-same", "handoff-voluntary-cross",
	"handoff-waiters-1", "handoff-waiters-8", "handoff-waiters-64",
	"handoff-forced-same", "handoff-forced-cross",
	"slice-1ms", "slice-5ms", "slice-20ms",
	"convoy-0", "convoy-1", "convoy-2", "convoy-4",
	"reacquire-0-1ms", "reacquire-0-5ms", "reacquire-1-1ms",
	"reacquire-1-5ms", "reacquire-2-1ms", "reacquire-2-5ms",
	"throughput-1", "throughput-2", "throughput-4",
	"fairness-2", "fairness-4", "fairness-2+io", "uncontended",
};

static double scale = 1.0;

/* Samples of one chunk: a total over all rounds, divided among them. */
static int per_round(int total)
{
	int n = (int)lround(total * scale / rounds);

	return n < 2 ? 2 : n;
}

/*
 * Samples over the whole run, at scale 1, divided among the rounds.
 * Chosen for about 4 minutes under QEMU TCG with 2 vCPUs; a chunk that
 * takes longer than its cap stops early and says so (the CSV's n is what
 * was measured).  The throughput figures get TPUT_PER_ROUND samples per
 * round.
 */
#define FLOOR_SAMPLES		3200
#define VOLUNTARY_SAMPLES	1600
#define FORCED_SAMPLES		800
#define WAITERS_SAMPLES		400
#define SLICE5_SAMPLES		240
#define SLICE20_SAMPLES		96
#define CONVOY0_SAMPLES		800
#define CONVOY_SAMPLES		240
#define CONVOY_CHUNK_NS		(5 * NSEC_PER_SEC)
#define CONVOY_INTERVAL		0.005
#define REACQ_SAMPLES		160
#define REACQ_SLEEP_NS		200000
#define REACQ_CHUNK_NS		(5 * NSEC_PER_SEC)
#define THROUGHPUT_TARGET_NS	(NSEC_PER_SEC / 4)
#define TPUT_PER_ROUND		2
#define UNCONTENDED_BATCHES	100
#define UNCONTENDED_PAIRS	2000
#define SPIN_CHUNK_NS		(10 * NSEC_PER_SEC)
#define FAIR_RUNS		16
#define FAIR_WINDOW_NS		(NSEC_PER_SEC / 4)
#define FAIR_INTERVAL		0.005
#define FAIR_IO_BURST_NS	100000
#define FAIR_IO_SLEEP_NS	1000000

/*
 * What is measured: a backend, and for the kernel backend a handoff
 * policy.  The userspace backends have one policy each (cpython: cpython,
 * futex: fifo) and keep their backend's name as label; the kernel backend
 * runs once per policy, labelled "kernel-cpython", "kernel-fifo",
 * "kernel-io".  Every report line is per label.
 */
struct variant {
	enum gil_backend b;
	int policy;		/* GIL_POLICY_*, or -1: the backend's own */
	char label[24];
};

static struct variant variants[3 + GIL_POLICY_COUNT];
static int nvariants;

/* ---------------------------------------------------------------- floors */

struct pingpong {
	int cpu[2];
	int n;			/* one-way handoffs to time */
	bool use_pipe;
	uint32_t seq;		/* futex: step number; thread (seq & 1) moves */
	int pipe[2][2];		/* pipe: pipe[i] carries messages to thread i */
	int64_t t0;		/* when the last step was sent */
	int64_t *lat;
};

struct pp_arg {
	struct pingpong *pp;
	uint32_t me;
};

static void *futex_pp_thread(void *arg)
{
	struct pp_arg *a = arg;
	struct pingpong *pp = a->pp;
	uint32_t total = (uint32_t)pp->n + 1, s;

	pin(pp->cpu[a->me]);
	for (;;) {
		while ((s = __atomic_load_n(&pp->seq, __ATOMIC_ACQUIRE)) < total &&
		       (s & 1) != a->me)
			futex_wait(&pp->seq, s);
		if (s >= total)
			break;
		if (s > 0)
			pp->lat[s - 1] = now_ns() - load64(&pp->t0);
		store64(&pp->t0, now_ns());
		__atomic_store_n(&pp->seq, s + 1, __ATOMIC_RELEASE);
		futex_wake(&pp->seq, 1);
	}
	return NULL;
}

static void *pipe_pp_thread(void *arg)
{
	struct pp_arg *a = arg;
	struct pingpong *pp = a->pp;
	int me = (int)a->me, other = 1 - me;
	char c = 'x';

	pin(pp->cpu[me]);
	for (int k = me; k <= pp->n; k += 2) {
		/* Step k is sent by thread k & 1 and received by the other. */
		if (k > 0) {
			if (read(pp->pipe[me][0], &c, 1) != 1)
				die("read", errno);
			pp->lat[k - 1] = now_ns() - load64(&pp->t0);
		}
		if (k == pp->n)
			break;
		store64(&pp->t0, now_ns());
		if (write(pp->pipe[other][1], &c, 1) != 1)
			die("write", errno);
	}
	return NULL;
}

static void run_pingpong(const char *name, bool use_pipe, int cpu0, int cpu1,
			 int n)
{
	struct pingpong pp = { .cpu = { cpu0, cpu1 }, .n = n,
			       .use_pipe = use_pipe };
	struct pp_arg args[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t t[2];

	pp.lat = xcalloc((size_t)n, sizeof(*pp.lat));
	for (int i = 0; i < 2 && use_pipe; i++)
		if (pipe2(pp.pipe[i], O_CLOEXEC))
			die("pipe", errno);
	for (int i = 0; i < 2; i++)
		t[i] = spawn(use_pipe ? pipe_pp_thread : futex_pp_thread, &args[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	add(series(name, "-", "us"), pp.lat, (size_t)n);
	for (int i = 0; i < 2 && use_pipe; i++) {
		close(pp.pipe[i][0]);
		close(pp.pipe[i][1]);
	}
	free(pp.lat);
}

/* Per-operation costs, each sample the mean over a batch. */
static void *cost_thread(void *arg)
{
	int round_batches = *(int *)arg;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	struct timespec ts;
	int64_t t;

	pin(0);
	for (int b = 0; b < round_batches; b++) {
		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++) {
			pthread_mutex_lock(&m);
			pthread_mutex_unlock(&m);
		}
		add1(series("floor-mutex", "-", "ns"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);

		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++)
			syscall(SYS_getppid);
		add1(series("floor-syscall", "-", "ns"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);

		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++)
			clock_gettime(CLOCK_MONOTONIC, &ts);
		add1(series("clock-read", "-", "ns"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);
	}
	return NULL;
}

static void run_floors(void)
{
	int n = per_round(FLOOR_SAMPLES);
	int batches = per_round(UNCONTENDED_BATCHES);
	pthread_t t;

	run_pingpong("floor-futex-same", false, 0, 0, n);
	run_pingpong("floor-pipe-same", true, 0, 0, n);
	if (ncpus > 1) {
		run_pingpong("floor-futex-cross", false, 0, 1, n);
		run_pingpong("floor-pipe-cross", true, 0, 1, n);
	}
	t = spawn(cost_thread, &batches);
	pthread_join(t, NULL);
}

/* ----------------------------------------------------- voluntary handoff */

/*
 * Two threads pass the GIL back and forth.  Step k: the holder (thread
 * k & 1) waits until the other thread has entered gil_acquire and sleeps
 * there, notes the time and releases; the other thread returns from
 * gil_acquire holding the GIL and takes the time.  The switch interval is
 * long enough that no drop request is ever posted.
 */
struct voluntary {
	struct gil *gil;
	int cpu[2];
	int n;
	pid_t tid[2];
	uint32_t ready;		/* threads that know their tid */
	uint32_t entering[2];	/* thread i is about to wait for step k: k+1 */
	uint32_t got;		/* steps completed */
	int64_t t0;
	int64_t *lat;
};

struct vol_arg {
	struct voluntary *v;
	int me;
};

static void *voluntary_thread(void *arg)
{
	struct vol_arg *a = arg;
	struct voluntary *v = a->v;
	int me = a->me, other = 1 - me;
	struct gil_tstate *ts;
	int64_t t1 = 0;

	pin(v->cpu[me]);
	ts = tstate(v->gil);
	v->tid[me] = gettid_();
	if (me == 0)
		check("gil_acquire", gil_acquire(ts));
	publish_add(&v->ready);
	wait_ge(&v->ready, 2);
	if (me == 1) {
		publish(&v->entering[me], 1);
		check("gil_acquire", gil_acquire(ts));
		t1 = now_ns();
	}
	for (int k = 0; k < v->n; k++) {
		if ((k & 1) == me) {
			/* The holder of step k. */
			wait_ge(&v->entering[other], (uint32_t)k + 1);
			wait_sleeping(v->tid[other]);
			store64(&v->t0, now_ns());
			check("gil_release", gil_release(ts));
			wait_ge(&v->got, (uint32_t)k + 1);
			if (k + 1 < v->n) {
				publish(&v->entering[me], (uint32_t)k + 2);
				check("gil_acquire", gil_acquire(ts));
				t1 = now_ns();
			}
		} else {
			/* The waiter of step k: its gil_acquire returned at t1. */
			v->lat[k] = t1 - load64(&v->t0);
			publish(&v->got, (uint32_t)k + 1);
		}
	}
	/* The waiter of the last step holds the GIL. */
	if (((v->n - 1) & 1) != me)
		check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static struct gil *gil_new(const struct variant *var, double interval)
{
	struct gil *gil;

	check("gil_open", gil_open(&gil, var->b));
	check("gil_set_switch_interval", gil_set_switch_interval(gil, interval));
	if (var->policy >= 0) {
		check("gil_set_policy", gil_set_policy(gil, (unsigned int)var->policy));
		if (gil_get_policy(gil) != var->policy)
			die("gil_get_policy: not the policy just set", EPROTO);
	}
	return gil;
}

static void stats(struct gil *gil, struct gil_stats *st)
{
	check("gil_get_stats", gil_get_stats(gil, st));
}

/* The end of a chunk: add its GIL's counters to @s, close the GIL. */
static void gil_done(struct gil *gil, struct series *s)
{
	struct gil_stats st;

	stats(gil, &st);
	s->chunks++;
	s->st.acquisitions += st.acquisitions;
	s->st.contended += st.contended;
	s->st.drop_requests += st.drop_requests;
	s->st.forced_switches += st.forced_switches;
	s->st.voluntary_releases += st.voluntary_releases;
	s->st.switch_number += st.switch_number;
	s->st.wait_ns += st.wait_ns;
	s->st.direct_handoffs += st.direct_handoffs;
	s->st.io_preemptions += st.io_preemptions;
	check("gil_close", gil_close(gil));
}

static void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gil-bench: warning: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

static void run_voluntary(const struct variant *var, const char *name, int cpu0,
			  int cpu1)
{
	struct voluntary v = { .cpu = { cpu0, cpu1 },
			       .n = per_round(VOLUNTARY_SAMPLES) };
	struct vol_arg args[2] = { { &v, 0 }, { &v, 1 } };
	struct gil_stats st;
	pthread_t t[2];

	v.gil = gil_new(var, 60.0);
	v.lat = xcalloc((size_t)v.n, sizeof(*v.lat));
	for (int i = 0; i < 2; i++)
		t[i] = spawn(voluntary_thread, &args[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	stats(v.gil, &st);
	if (st.drop_requests || st.forced_switches)
		warn("%s on %s: %llu drop requests in a voluntary handoff", name,
		     var->label, (unsigned long long)st.drop_requests);
	add(series(name, var->label, "us"), v.lat, (size_t)v.n);
	gil_done(v.gil, series(name, var->label, "us"));
	free(v.lat);
}

/* ------------------------------------------------ a queue of waiters */

/*
 * N+1 threads take turns.  The holder waits until the other N have queued
 * in gil_acquire (the last of them asleep), notes the time and releases;
 * whichever waiter returns holding the GIL takes the time and holds in
 * turn, and the releaser queues again once it has.  So every sample is a
 * release with N threads asleep behind it.  The switch interval is long
 * enough that no drop request is posted.
 */
struct queue {
	struct gil *gil;
	uint32_t waiters;	/* N */
	uint32_t n;		/* samples */
	uint32_t holding;	/* the first holder holds */
	uint32_t queued;	/* threads in (or about to call) gil_acquire */
	pid_t last_tid;		/* the last of them */
	uint32_t got;		/* samples taken */
	int64_t t0;
	int64_t *lat;
};

struct queue_arg {
	struct queue *q;
	bool first;
};

/* Wait for the queue to fill, release, wait until a waiter has the GIL. */
static void queue_release(struct queue *q, struct gil_tstate *ts)
{
	uint32_t k = load(&q->got);

	while (load(&q->queued) < q->waiters)
		sleep_ns(10000);
	wait_sleeping(__atomic_load_n(&q->last_tid, __ATOMIC_ACQUIRE));
	store64(&q->t0, now_ns());
	check("gil_release", gil_release(ts));
	wait_ge(&q->got, k + 1);
}

static void *queue_thread(void *arg)
{
	struct queue_arg *a = arg;
	struct queue *q = a->q;
	struct gil_tstate *ts = tstate(q->gil);
	bool holds = a->first;
	int64_t t1;
	uint32_t k;

	if (holds) {
		check("gil_acquire", gil_acquire(ts));
		publish(&q->holding, 1);
	}
	for (;;) {
		if (holds) {
			queue_release(q, ts);
			holds = false;
		}
		__atomic_store_n(&q->last_tid, gettid_(), __ATOMIC_RELEASE);
		publish_add(&q->queued);
		check("gil_acquire", gil_acquire(ts));
		t1 = now_ns();
		__atomic_sub_fetch(&q->queued, 1, __ATOMIC_ACQ_REL);
		k = load(&q->got);
		if (k < q->n) {
			q->lat[k] = t1 - load64(&q->t0);
			publish(&q->got, k + 1);
		}
		if (k + 1 >= q->n) {
			/* Done: each thread takes the GIL once more and ends. */
			check("gil_release", gil_release(ts));
			break;
		}
		holds = true;
	}
	tstate_done(ts);
	return NULL;
}

static void run_waiters(const struct variant *var, uint32_t waiters)
{
	struct queue q = { .waiters = waiters,
			   .n = (uint32_t)per_round(WAITERS_SAMPLES) };
	struct queue_arg *args = xcalloc(waiters + 1, sizeof(*args));
	pthread_t *t = xcalloc(waiters + 1, sizeof(*t));
	char name[32];

	snprintf(name, sizeof(name), "handoff-waiters-%u", waiters);
	q.gil = gil_new(var, 60.0);
	q.lat = xcalloc(q.n, sizeof(*q.lat));
	for (uint32_t i = 0; i <= waiters; i++) {
		args[i] = (struct queue_arg){ &q, i == 0 };
		t[i] = spawn(queue_thread, &args[i]);
		if (i == 0)
			wait_ge(&q.holding, 1);
	}
	for (uint32_t i = 0; i <= waiters; i++)
		pthread_join(t[i], NULL);
	add(series(name, var->label, "us"), q.lat, q.n);
	gil_done(q.gil, series(name, var->label, "us"));
	free(q.lat);
	free(args);
	free(t);
}

/* ------------------------------------------------ two CPU-bound threads */

/*
 * Two eval loops share the GIL.  Each polls the drop request at every
 * step (gil_drop_requested, what gil_check does); when it sees one it
 * notes the time, ends its slice and yields.  The other thread, waiting
 * in its own yield (or first acquire), returns holding the GIL: that is
 * one forced switch, timed from the moment the request was seen.
 */
struct spinners {
	struct gil *gil;
	int cpu[2];
	int target;		/* forced switches to time */
	int64_t deadline;
	uint32_t ready;
	uint32_t switches;
	uint32_t stop;
	uint32_t seq;		/* bumped with every t0 */
	int64_t t0;
	struct {
		int64_t *slice, *lat;
		int nslice, nlat;
	} out[2];
};

struct spin_arg {
	struct spinners *s;
	int me;
};

static void *spinner_thread(void *arg)
{
	struct spin_arg *a = arg;
	struct spinners *s = a->s;
	int me = a->me;
	struct gil_tstate *ts;
	uint64_t x = (uint64_t)me + 1, i = 0;
	uint32_t mine = 0;
	int64_t t_acq, t;
	bool first = true;

	pin(s->cpu[me]);
	ts = tstate(s->gil);
	if (me == 1)
		wait_ge(&s->ready, 1);
	check("gil_acquire", gil_acquire(ts));
	if (me == 0)
		publish(&s->ready, 1);
	t_acq = now_ns();
	for (;;) {
		x = work(x);
		if (gil_drop_requested(ts)) {
			t = now_ns();
			if (!first)
				s->out[me].slice[s->out[me].nslice++] = t - t_acq;
			first = false;
			store64(&s->t0, t);
			mine = __atomic_add_fetch(&s->seq, 1, __ATOMIC_RELEASE);
			check("gil_yield", gil_yield(ts));
			t_acq = now_ns();
			/* Handed over by the other thread's yield? */
			if (load(&s->seq) == mine + 1) {
				s->out[me].lat[s->out[me].nlat++] =
					t_acq - load64(&s->t0);
				if (__atomic_add_fetch(&s->switches, 1,
						       __ATOMIC_RELAXED) >=
				    (uint32_t)s->target)
					__atomic_store_n(&s->stop, 1,
							 __ATOMIC_RELAXED);
			}
			mine = load(&s->seq);
		}
		if (!(++i & 1023) && (__atomic_load_n(&s->stop, __ATOMIC_RELAXED) ||
				      now_ns() > s->deadline)) {
			__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
			break;
		}
	}
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static void run_spinners(const struct variant *var, double interval, int cpu0,
			 int cpu1, int target, const char *lat_name,
			 const char *slice_name)
{
	struct spinners s = { .cpu = { cpu0, cpu1 }, .target = target };
	struct spin_arg args[2] = { { &s, 0 }, { &s, 1 } };
	const char *bn = var->label;
	pthread_t t[2];

	s.gil = gil_new(var, interval);
	for (int i = 0; i < 2; i++) {
		s.out[i].slice = xcalloc((size_t)target + 4, sizeof(int64_t));
		s.out[i].lat = xcalloc((size_t)target + 4, sizeof(int64_t));
	}
	s.deadline = now_ns() + SPIN_CHUNK_NS;
	for (int i = 0; i < 2; i++)
		t[i] = spawn(spinner_thread, &args[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (s.switches < (uint32_t)target)
		warn("%s on %s: %u of %d forced switches in %llds", slice_name ?
		     slice_name : lat_name, bn, s.switches, target,
		     SPIN_CHUNK_NS / NSEC_PER_SEC);
	for (int i = 0; i < 2; i++) {
		if (lat_name)
			add(series(lat_name, bn, "us"), s.out[i].lat,
			    (size_t)s.out[i].nlat);
		if (slice_name)
			add(series(slice_name, bn, "ms"), s.out[i].slice,
			    (size_t)s.out[i].nslice);
		free(s.out[i].slice);
		free(s.out[i].lat);
	}
	gil_done(s.gil, slice_name ? series(slice_name, bn, "ms") :
				     series(lat_name, bn, "us"));
}

/* --------------------------------------------- CPU-bound eval loops */

/*
 * The CPU-bound threads beside an I/O-bound one (the convoy, the
 * re-acquire): eval loops that call gil_check at every step, as CPython's
 * eval loop polls its eval breaker, until told to stop.  Not pinned.
 */
struct evalloops {
	struct gil *gil;
	int n;
	pthread_t t[8];
	uint32_t started;	/* threads that hold or held the GIL */
	uint32_t stop;
};

static void *evalloop_thread(void *arg)
{
	struct evalloops *e = arg;
	struct gil_tstate *ts = tstate(e->gil);
	uint64_t x = 7, i = 0;

	check("gil_acquire", gil_acquire(ts));
	publish_add(&e->started);
	for (;;) {
		x = work(x);
		check("gil_check", gil_check(ts));
		if (!(++i & 1023) && __atomic_load_n(&e->stop, __ATOMIC_RELAXED))
			break;
	}
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static void evalloops_spawn(struct evalloops *e)
{
	for (int i = 0; i < e->n; i++)
		e->t[i] = spawn(evalloop_thread, e);
}

static void evalloops_stop(struct evalloops *e)
{
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < e->n; i++)
		pthread_join(e->t[i], NULL);
}

/* ------------------------------------------------------------- convoy */

/*
 * An I/O thread answers requests: it blocks in read() with the GIL
 * released, as Py_BEGIN_ALLOW_THREADS does, then takes the GIL back.  A
 * feeder thread (no GIL: another process, the network) sends each request
 * at a random gap after the previous answer.  N eval loops compete for the
 * GIL meanwhile.
 */
struct convoy {
	struct evalloops cpu;
	int n;
	int pipe[2];
	uint32_t done;		/* requests answered */
	int64_t t0;
	int64_t *lat;
	int nlat;
	int64_t interval_ns;
};

static void *convoy_io_thread(void *arg)
{
	struct convoy *c = arg;
	struct gil_tstate *ts;
	char byte;

	pin(0);
	ts = tstate(c->cpu.gil);
	check("gil_acquire", gil_acquire(ts));
	for (;;) {
		ssize_t n;

		GIL_BEGIN_ALLOW_THREADS(ts)
		n = read(c->pipe[0], &byte, 1);
		GIL_END_ALLOW_THREADS(ts)
		if (n != 1)
			die("read", n < 0 ? errno : EIO);
		if (byte == 'q')
			break;
		c->lat[c->nlat++] = now_ns() - load64(&c->t0);
		publish(&c->done, (uint32_t)c->nlat);
	}
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static void run_convoy(const struct variant *var, int ncpu, int n)
{
	struct convoy c = { .cpu.n = ncpu, .n = n };
	pthread_t io;
	char name[32];
	int64_t end;
	int sent;

	c.cpu.gil = gil_new(var, CONVOY_INTERVAL);
	c.interval_ns = (int64_t)(CONVOY_INTERVAL * 1e9);
	c.lat = xcalloc((size_t)n, sizeof(*c.lat));
	if (pipe2(c.pipe, O_CLOEXEC))
		die("pipe", errno);
	evalloops_spawn(&c.cpu);
	io = spawn(convoy_io_thread, &c);
	/* The feeder (this thread) on the other CPU than the I/O thread. */
	pin(ncpus > 1 ? 1 : 0);
	/* Every CPU thread has run, and the I/O thread waits in read(). */
	wait_ge(&c.cpu.started, (uint32_t)ncpu);
	sleep_ns(2 * c.interval_ns);

	end = now_ns() + CONVOY_CHUNK_NS;
	for (sent = 0; sent < n && now_ns() < end; sent++) {
		wait_ge(&c.done, (uint32_t)sent);
		/* A gap of 0.5-2.5 ms, unrelated to the switch interval. */
		sleep_ns(500000 + (int64_t)(rnd() % 2000000));
		store64(&c.t0, now_ns());
		if (write(c.pipe[1], "r", 1) != 1)
			die("write", errno);
	}
	wait_ge(&c.done, (uint32_t)sent);
	if (write(c.pipe[1], "q", 1) != 1)
		die("write", errno);
	pthread_join(io, NULL);
	evalloops_stop(&c.cpu);
	pin(-1);
	if (c.nlat < n)
		warn("convoy-%d on %s: %d of %d requests in %llds", ncpu,
		     var->label, c.nlat, n,
		     CONVOY_CHUNK_NS / NSEC_PER_SEC);
	snprintf(name, sizeof(name), "convoy-%d", ncpu);
	add(series(name, var->label, "us"), c.lat, (size_t)c.nlat);
	close(c.pipe[0]);
	close(c.pipe[1]);
	gil_done(c.cpu.gil, series(name, var->label, "us"));
	free(c.lat);
}

/* ---------------------------------------------------------- re-acquire */

/*
 * A thread that slept outside the GIL takes it back beside N eval loops:
 * it releases, sleeps REACQ_SLEEP_NS with clock_nanosleep on an absolute
 * deadline (as time.sleep does since CPython 3.11) and calls gil_acquire.
 * Under CPython's rule its wait times out after one switch interval and
 * only then posts a drop request, so with one eval loop this takes about
 * an interval (real CPython 3.12: ~1.03).  The sample runs from the end of
 * the sleep until gil_acquire returns, in switch intervals ("iv", stored
 * in millionths), so that 1 ms and 5 ms read alike.  Not pinned.
 */
static void run_reacquire(const struct variant *var, int ncpu, int interval_ms)
{
	struct evalloops e = { .n = ncpu };
	int64_t interval_ns = interval_ms * 1000000LL, end, t0, *v;
	int n = per_round(REACQ_SAMPLES), got;
	struct gil_tstate *ts;
	struct timespec wake;
	struct series *s;
	char name[32];

	snprintf(name, sizeof(name), "reacquire-%d-%dms", ncpu, interval_ms);
	s = series(name, var->label, "iv");
	v = xcalloc((size_t)n, sizeof(*v));
	e.gil = gil_new(var, interval_ms / 1e3);
	evalloops_spawn(&e);
	wait_ge(&e.started, (uint32_t)ncpu);
	ts = tstate(e.gil);
	check("gil_acquire", gil_acquire(ts));
	end = now_ns() + REACQ_CHUNK_NS;
	for (got = 0; got < n && now_ns() < end; got++) {
		check("gil_release", gil_release(ts));
		clock_gettime(CLOCK_MONOTONIC, &wake);
		wake.tv_nsec += REACQ_SLEEP_NS;
		if (wake.tv_nsec >= NSEC_PER_SEC) {
			wake.tv_sec++;
			wake.tv_nsec -= NSEC_PER_SEC;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake,
				       NULL) == EINTR)
			;
		t0 = now_ns();
		check("gil_acquire", gil_acquire(ts));
		v[got] = (now_ns() - t0) * 1000000 / interval_ns;
	}
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	evalloops_stop(&e);
	if (got < n)
		warn("%s on %s: %d of %d samples in %llds", name, var->label,
		     got, n, REACQ_CHUNK_NS / NSEC_PER_SEC);
	add(s, v, (size_t)got);
	gil_done(e.gil, s);
	free(v);
}

/* --------------------------------------------------------- throughput */

struct tput {
	struct gil *gil;
	uint64_t iters;
};

static void *tput_thread(void *arg)
{
	struct tput *p = arg;
	struct gil_tstate *ts = tstate(p->gil);
	uint64_t x = 3;

	check("gil_acquire", gil_acquire(ts));
	for (uint64_t i = 0; i < p->iters; i++) {
		x = work(x);
		check("gil_check", gil_check(ts));
	}
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

/*
 * Wall time of @total eval-loop steps split over @n threads; the GIL's
 * counters go to @s, if any.
 */
static int64_t tput_run(const struct variant *var, int n, uint64_t total,
			struct series *s)
{
	struct tput p = { .iters = total / (uint64_t)n };
	pthread_t t[8];
	int64_t t0;

	p.gil = gil_new(var, 0.005);
	t0 = now_ns();
	for (int i = 0; i < n; i++)
		t[i] = spawn(tput_thread, &p);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	t0 = now_ns() - t0;
	if (s)
		gil_done(p.gil, s);
	else
		check("gil_close", gil_close(p.gil));
	return t0;
}

static uint64_t tput_total;

/* Enough work for about THROUGHPUT_TARGET_NS on one thread. */
static void tput_calibrate(const struct variant *var)
{
	uint64_t total = 1 << 16;
	int64_t t;

	for (;;) {
		t = tput_run(var, 1, total, NULL);
		if (t > THROUGHPUT_TARGET_NS / 4 || total > (1ULL << 40))
			break;
		total *= 2;
	}
	tput_total = (uint64_t)((double)total * (double)THROUGHPUT_TARGET_NS *
				scale / (double)t);
	if (tput_total < 1024)
		tput_total = 1024;
}

/*
 * Twice 1, 2, 4 threads, back to back: the k-th samples of the three
 * figures were measured together, and the report divides them pairwise.
 */
static void run_throughput(const struct variant *var)
{
	static const int threads[] = { 1, 2, 4 };
	char name[32];
	struct series *s;

	for (int rep = 0; rep < TPUT_PER_ROUND; rep++) {
		for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
			snprintf(name, sizeof(name), "throughput-%d", threads[i]);
			s = series(name, var->label, "ms");
			add1(s, tput_run(var, threads[i], tput_total, s));
		}
	}
}

/* ----------------------------------------------------------- fairness */

/*
 * N CPU-bound eval loops share the GIL at a 5 ms interval for
 * FAIR_WINDOW_NS of wall time; in fairness-2+io an I/O-ish thread joins
 * them, which holds the GIL for FAIR_IO_BURST_NS at a time and then sleeps
 * FAIR_IO_SLEEP_NS without it, as a thread waiting on a socket does.  Each
 * eval loop polls the drop request at every step, as gil_check() does,
 * and yields.  A CPU-bound thread's hold time is the sum of its slices,
 * each from the return of gil_acquire or gil_yield until the drop request
 * is seen (or the window ends), clipped to the window.  The sample is
 * Jain's index over the CPU-bound threads' hold times,
 * J = (sum x)^2 / (n sum x^2): 1 when they held the GIL equally long, 1/n
 * when one of them held it all the time.  The I/O-ish thread's demand is
 * not theirs; it is left out of J.
 */
struct fair {
	struct gil *gil;
	int ncpu;
	bool io;
	uint32_t ready;		/* threads attached and about to start */
	uint32_t go;
	uint32_t stop;
	int64_t start, end;	/* the window */
	int64_t hold[8];
};

struct fair_arg {
	struct fair *f;
	int me;
};

/* Of the span [from, to), the part inside the window. */
static int64_t fair_clip(const struct fair *f, int64_t from, int64_t to)
{
	if (from < f->start)
		from = f->start;
	if (to > f->end)
		to = f->end;
	return to > from ? to - from : 0;
}

static bool fair_over(struct fair *f)
{
	if (__atomic_load_n(&f->stop, __ATOMIC_RELAXED))
		return true;
	if (now_ns() < f->end)
		return false;
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	return true;
}

static void *fair_cpu_thread(void *arg)
{
	struct fair_arg *a = arg;
	struct fair *f = a->f;
	struct gil_tstate *ts = tstate(f->gil);
	uint64_t x = (uint64_t)a->me + 11, i = 0;
	int64_t t_acq, t, hold = 0;

	publish_add(&f->ready);
	wait_ge(&f->go, 1);
	check("gil_acquire", gil_acquire(ts));
	t_acq = now_ns();
	for (;;) {
		x = work(x);
		if (gil_drop_requested(ts)) {
			hold += fair_clip(f, t_acq, now_ns());
			check("gil_yield", gil_yield(ts));
			t_acq = now_ns();
		}
		if (!(++i & 1023) && fair_over(f))
			break;
	}
	t = now_ns();
	hold += fair_clip(f, t_acq, t);
	f->hold[a->me] = hold;
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static void *fair_io_thread(void *arg)
{
	struct fair *f = ((struct fair_arg *)arg)->f;
	struct gil_tstate *ts = tstate(f->gil);
	uint64_t x = 5;
	int64_t t;

	publish_add(&f->ready);
	wait_ge(&f->go, 1);
	check("gil_acquire", gil_acquire(ts));
	while (!fair_over(f)) {
		t = now_ns();
		for (int i = 1; ; i++) {
			x = work(x);
			check("gil_check", gil_check(ts));
			if (!(i & 63) && now_ns() - t >= FAIR_IO_BURST_NS)
				break;
		}
		GIL_BEGIN_ALLOW_THREADS(ts)
		sleep_ns(FAIR_IO_SLEEP_NS);
		GIL_END_ALLOW_THREADS(ts)
	}
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

static void run_fairness(const struct variant *var, int ncpu, bool io,
			 int runs)
{
	struct fair_arg args[8];
	pthread_t t[8];
	char name[32];
	struct series *s;
	int nthreads = ncpu + io;

	snprintf(name, sizeof(name), "fairness-%d%s", ncpu, io ? "+io" : "");
	s = series(name, var->label, "J");
	for (int r = 0; r < runs; r++) {
		struct fair f = { .ncpu = ncpu, .io = io };
		double sum = 0, sum2 = 0;

		f.gil = gil_new(var, FAIR_INTERVAL);
		for (int i = 0; i < nthreads; i++) {
			args[i] = (struct fair_arg){ &f, i };
			t[i] = spawn(i < ncpu ? fair_cpu_thread : fair_io_thread,
				     &args[i]);
		}
		wait_ge(&f.ready, (uint32_t)nthreads);
		f.start = now_ns();
		f.end = f.start + FAIR_WINDOW_NS;
		publish(&f.go, 1);
		for (int i = 0; i < nthreads; i++)
			pthread_join(t[i], NULL);
		for (int i = 0; i < ncpu; i++) {
			sum += (double)f.hold[i];
			sum2 += (double)f.hold[i] * (double)f.hold[i];
		}
		if (sum2 > 0)
			add1(s, llround(sum * sum / ((double)ncpu * sum2) * 1e6));
		else
			warn("%s on %s: no thread held the GIL", name, var->label);
		gil_done(f.gil, s);
	}
}

/* ------------------------------------------------------- uncontended */

struct unc {
	const struct variant *var;
	int batches;
};

static void *uncontended_thread(void *arg)
{
	struct unc *u = arg;
	struct gil *gil = gil_new(u->var, 0.005);
	struct series *s = series("uncontended", u->var->label, "ns");
	struct gil_tstate *ts;
	int64_t t;

	pin(0);
	ts = tstate(gil);
	for (int b = 0; b < u->batches; b++) {
		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++) {
			gil_acquire(ts);
			gil_release(ts);
		}
		add1(s, (now_ns() - t) / UNCONTENDED_PAIRS);
	}
	tstate_done(ts);
	gil_done(gil, s);
	return NULL;
}

static void run_uncontended(const struct variant *var)
{
	struct unc u = { var, per_round(UNCONTENDED_BATCHES) };
	pthread_t t = spawn(uncontended_thread, &u);

	pthread_join(t, NULL);
}

/* ------------------------------------------------------------- driver */

static enum gil_backend backends[3];
static int nbackends;
static int policies[GIL_POLICY_COUNT];	/* the kernel backend's */
static int npolicies;

enum bench_id {
	B_VOL_SAME, B_VOL_CROSS, B_WAITERS1, B_WAITERS8, B_WAITERS64,
	B_FORCED_SAME, B_SLICE1, B_SLICE5, B_SLICE20,
	B_CONVOY0, B_CONVOY1, B_CONVOY2, B_CONVOY4, B_REACQ0, B_REACQ1,
	B_REACQ2, B_TPUT, B_FAIR2, B_FAIR4, B_FAIR2IO, B_UNCONTENDED, NR_BENCH
};

static const char *const bench_names[NR_BENCH] = {
	"handoff-voluntary-same", "handoff-voluntary-cross",
	"handoff-waiters-1", "handoff-waiters-8", "handoff-waiters-64",
	"handoff-forced-same", "slice-1ms + handoff-forced-cross",
	"slice-5ms", "slice-20ms", "convoy-0", "convoy-1", "convoy-2",
	"convoy-4", "reacquire-0-1ms/5ms", "reacquire-1-1ms/5ms",
	"reacquire-2-1ms/5ms", "throughput-1/2/4", "fairness-2", "fairness-4",
	"fairness-2+io", "uncontended",
};

/* Runs of a fairness figure in a round: at least one. */
static int fair_runs(void)
{
	int n = (int)lround(FAIR_RUNS * scale / rounds);

	return n < 1 ? 1 : n;
}

static bool bench_needs_2cpus(int id)
{
	return id == B_VOL_CROSS || id == B_SLICE1 || id == B_SLICE5 ||
	       id == B_SLICE20;
}

static void run_bench(int id, const struct variant *var)
{
	switch (id) {
	case B_VOL_SAME:
		run_voluntary(var, "handoff-voluntary-same", 0, 0);
		break;
	case B_VOL_CROSS:
		run_voluntary(var, "handoff-voluntary-cross", 0, 1);
		break;
	case B_WAITERS1:
		run_waiters(var, 1);
		break;
	case B_WAITERS8:
		run_waiters(var, 8);
		break;
	case B_WAITERS64:
		run_waiters(var, 64);
		break;
	case B_FORCED_SAME:
		run_spinners(var, 0.001, 0, 0, per_round(FORCED_SAMPLES),
			     "handoff-forced-same", NULL);
		break;
	case B_SLICE1:
		run_spinners(var, 0.001, 0, 1, per_round(FORCED_SAMPLES),
			     "handoff-forced-cross", "slice-1ms");
		break;
	case B_SLICE5:
		run_spinners(var, 0.005, 0, 1, per_round(SLICE5_SAMPLES), NULL,
			     "slice-5ms");
		break;
	case B_SLICE20:
		run_spinners(var, 0.020, 0, 1, per_round(SLICE20_SAMPLES), NULL,
			     "slice-20ms");
		break;
	case B_CONVOY0:
		run_convoy(var, 0, per_round(CONVOY0_SAMPLES));
		break;
	case B_CONVOY1:
		run_convoy(var, 1, per_round(CONVOY_SAMPLES));
		break;
	case B_CONVOY2:
		run_convoy(var, 2, per_round(CONVOY_SAMPLES));
		break;
	case B_CONVOY4:
		run_convoy(var, 4, per_round(CONVOY_SAMPLES));
		break;
	case B_REACQ0:
	case B_REACQ1:
	case B_REACQ2:
		run_reacquire(var, id - B_REACQ0, 1);
		run_reacquire(var, id - B_REACQ0, 5);
		break;
	case B_TPUT:
		run_throughput(var);
		break;
	case B_FAIR2:
		run_fairness(var, 2, false, fair_runs());
		break;
	case B_FAIR4:
		run_fairness(var, 4, false, fair_runs());
		break;
	case B_FAIR2IO:
		run_fairness(var, 2, true, fair_runs());
		break;
	case B_UNCONTENDED:
		run_uncontended(var);
		break;
	}
}

static int64_t start_ns;
static char *groups;

static bool group_selected(const char *name)
{
	char *list, *tok, *save;
	bool found = false;

	if (!groups)
		return true;
	list = strdup(groups);
	if (!list)
		die("strdup", ENOMEM);
	for (tok = strtok_r(list, ",", &save); tok && !found;
	     tok = strtok_r(NULL, ",", &save))
		found = strstr(name, tok) != NULL;
	free(list);
	return found;
}

static double elapsed(void)
{
	return (double)(now_ns() - start_ns) / 1e9;
}

static void print_env(void)
{
	struct utsname u;
	char cs[64] = "?";
	FILE *f;

	uname(&u);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	printf("GIL-BENCH-ENV-BEGIN\n");
	printf("kernel=%s %s\n", u.release, u.machine);
	printf("cpus=%d\n", ncpus);
	printf("clocksource=%s\n", cs);
	printf("timer_slack_ns=%d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	printf("rounds=%d\nscale=%g\n", rounds, scale);
	printf("backends=");
	for (int i = 0; i < nbackends; i++)
		printf("%s%s", i ? "," : "", gil_backend_name(backends[i]));
	printf("\nkernel_policies=");
	for (int i = 0; i < npolicies; i++)
		printf("%s%s", i ? "," : "", gil_policy_name((unsigned int)policies[i]));
	printf("\nvariants=");
	for (int i = 0; i < nvariants; i++)
		printf("%s%s", i ? "," : "", variants[i].label);
	printf("\nthroughput_steps=%llu\n", (unsigned long long)tput_total);
	printf("fairness_window_ns=%lld\n", FAIR_WINDOW_NS);
	printf("GIL-BENCH-ENV-END\n");
}

/*
 * GIL-BENCH-CSV-BEGIN / -END: one row per figure and variant (the backend
 * column is the variant's label), values in its unit; J with 4 decimals.
 * GIL-BENCH-SAMPLES-BEGIN / -END: "name backend unit" then the samples in
 * ns (units J, iv: in millionths), in the order they were measured, at
 * most 16 a line, lines of one series following each other.
 * GIL-BENCH-ROUNDS-BEGIN / -END: "name backend" then, for each round, how
 * many of the series' samples it took (in order: the first n1 samples are
 * round 1's, and so on).
 * GIL-BENCH-STATS-BEGIN / -END: CSV, per figure and variant, the GIL's
 * counters (struct gil_stats) summed over the chunks that measured it.
 */
static void print_results(bool samples)
{
	printf("GIL-BENCH-CSV-BEGIN\n");
	printf("name,backend,unit,p50,p90,p99,max,mean,n,min\n");
	for (size_t f = 0; f < sizeof(figure_names) / sizeof(figure_names[0]); f++) {
		for (int i = 0; i < nseries; i++) {
			struct series *s = &all_series[i];
			double u = unit_ns(s->unit), sum = 0;
			int64_t *v;
			int prec;

			if (strcmp(s->name, figure_names[f]) || !s->n)
				continue;
			v = xcalloc(s->n, sizeof(*v));
			memcpy(v, s->v, s->n * sizeof(*v));
			qsort(v, s->n, sizeof(*v), cmp_i64);
			for (size_t k = 0; k < s->n; k++)
				sum += (double)v[k];
			prec = !strcmp(s->unit, "J") ? 4 : !strcmp(s->unit, "iv") ? 6 : 3;
			printf("%s,%s,%s,%.*f,%.*f,%.*f,%.*f,%.*f,%zu,%.*f\n",
			       s->name, s->backend, s->unit,
			       prec, pct(v, s->n, 0.50) / u,
			       prec, pct(v, s->n, 0.90) / u,
			       prec, pct(v, s->n, 0.99) / u,
			       prec, v[s->n - 1] / u,
			       prec, sum / (double)s->n / u, s->n,
			       prec, v[0] / u);
			free(v);
		}
	}
	printf("GIL-BENCH-CSV-END\n");
	printf("GIL-BENCH-STATS-BEGIN\n");
	printf("name,backend,chunks,acquisitions,contended,drop_requests,"
	       "forced_switches,voluntary_releases,switch_number,wait_ns,"
	       "direct_handoffs,io_preemptions\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];
		const struct gil_stats *st = &s->st;

		if (!s->chunks)
			continue;
		printf("%s,%s,%d,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
		       s->name, s->backend, s->chunks,
		       (unsigned long long)st->acquisitions,
		       (unsigned long long)st->contended,
		       (unsigned long long)st->drop_requests,
		       (unsigned long long)st->forced_switches,
		       (unsigned long long)st->voluntary_releases,
		       (unsigned long long)st->switch_number,
		       (unsigned long long)st->wait_ns,
		       (unsigned long long)st->direct_handoffs,
		       (unsigned long long)st->io_preemptions);
	}
	printf("GIL-BENCH-STATS-END\n");
	if (!samples)
		return;
	printf("GIL-BENCH-SAMPLES-BEGIN\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		for (size_t k = 0; k < s->n; k++) {
			if (k % 16 == 0)
				printf("%s %s %s", s->name, s->backend, s->unit);
			printf(" %lld", (long long)s->v[k]);
			if (k % 16 == 15 || k + 1 == s->n)
				printf("\n");
		}
	}
	printf("GIL-BENCH-SAMPLES-END\n");
	printf("GIL-BENCH-ROUNDS-BEGIN\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		if (!s->n)
			continue;
		printf("%s %s", s->name, s->backend);
		for (int r = 0; r < rounds; r++)
			printf(" %zu", s->round_end[r] - (r ? s->round_end[r - 1] : 0));
		printf("\n");
	}
	printf("GIL-BENCH-ROUNDS-END\n");
}

/*
 * The figures of a thread back from I/O (a read, a sleep) that finds
 * CPU-bound threads holding the GIL: under the io policy it asks at once.
 */
static bool beside_cpu_threads(const char *name)
{
	return (!strncmp(name, "convoy-", 7) && strcmp(name, "convoy-0")) ||
	       (!strncmp(name, "reacquire-", 10) &&
		strncmp(name, "reacquire-0-", 12));
}

/*
 * Did each kernel policy act as it says, by the GIL's own counters?  Under
 * fifo every wait ends in a direct handoff, under io an I/O thread facing
 * CPU-bound ones asks at once, under cpython neither happens.  A policy
 * that did not would make its figures mean nothing (and be a bug in the
 * module): say so.
 */
static void check_policies(void)
{
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];
		const struct gil_stats *st = &s->st;
		unsigned long long contended = st->contended;
		unsigned long long direct = st->direct_handoffs;
		unsigned long long io = st->io_preemptions;
		int policy;

		if (!s->chunks || strncmp(s->backend, "kernel-", 7))
			continue;
		policy = gil_policy_from_name(s->backend + 7);
		if (policy == GIL_POLICY_CPYTHON && (direct || io))
			warn("%s on %s: %llu direct handoffs, %llu I/O preemptions",
			     s->name, s->backend, direct, io);
		if (policy == GIL_POLICY_FIFO && (direct != contended || io))
			warn("%s on %s: %llu waits but %llu direct handoffs, %llu I/O preemptions",
			     s->name, s->backend, contended, direct, io);
		if (policy == GIL_POLICY_IO && direct > contended)
			warn("%s on %s: %llu direct handoffs for %llu waits",
			     s->name, s->backend, direct, contended);
		if (policy == GIL_POLICY_IO && beside_cpu_threads(s->name) && !io)
			warn("%s on %s: no I/O preemption", s->name, s->backend);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: gil-bench [-r rounds] [-s scale] [-b backend,...] [-p policy,...] [-g group,...] [-n]\n");
	exit(2);
}

static void parse_backends(char *list)
{
	nbackends = 0;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int b = gil_backend_from_name(tok);

		if (b < 0 || nbackends == 3) {
			fprintf(stderr, "gil-bench: unknown backend %s\n", tok);
			usage();
		}
		for (int i = 0; i < nbackends; i++) {
			if (backends[i] == (enum gil_backend)b) {
				fprintf(stderr, "gil-bench: backend %s twice\n", tok);
				usage();
			}
		}
		backends[nbackends++] = (enum gil_backend)b;
	}
}

static void parse_policies(char *list)
{
	npolicies = 0;
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
		int p = gil_policy_from_name(tok);

		if (p < 0 || npolicies == GIL_POLICY_COUNT) {
			fprintf(stderr, "gil-bench: unknown policy %s\n", tok);
			usage();
		}
		for (int i = 0; i < npolicies; i++) {
			if (policies[i] == p) {
				fprintf(stderr, "gil-bench: policy %s twice\n", tok);
				usage();
			}
		}
		policies[npolicies++] = p;
	}
}

/*
 * The kernel backend's variants: the policies asked for (-p), else every
 * policy the loaded module has (an ABI 1.0 module has only cpython).
 */
static void make_variants(bool policies_given)
{
	struct gil *gil = NULL;
	bool kernel = false;
	int n = 0, ret;

	for (int i = 0; i < nbackends; i++)
		kernel |= backends[i] == GIL_BACKEND_KERNEL;
	if (!kernel) {
		if (policies_given)
			warn("-p: policies are the kernel backend's; not measured");
		npolicies = 0;
	} else if (!policies_given) {
		for (int p = 0; p < GIL_POLICY_COUNT; p++)
			policies[npolicies++] = p;
	}
	if (kernel && gil_open(&gil, GIL_BACKEND_KERNEL))
		gil = NULL;	/* gil-bench fails on its first kernel GIL */
	for (int i = 0; gil && i < npolicies; i++) {
		ret = gil_set_policy(gil, (unsigned int)policies[i]);
		if (ret && policies_given)
			die(gil_policy_name((unsigned int)policies[i]), ret);
		if (ret)
			warn("the kernel backend has no policy %s: %s",
			     gil_policy_name((unsigned int)policies[i]),
			     strerror(-ret));
		else
			policies[n++] = policies[i];
	}
	if (gil) {
		npolicies = n;
		gil_close(gil);
	}
	nvariants = 0;
	for (int i = 0; i < nbackends; i++) {
		if (backends[i] != GIL_BACKEND_KERNEL) {
			struct variant *v = &variants[nvariants++];

			v->b = backends[i];
			v->policy = -1;
			snprintf(v->label, sizeof(v->label), "%s",
				 gil_backend_name(backends[i]));
			continue;
		}
		for (int k = 0; k < npolicies; k++) {
			struct variant *v = &variants[nvariants++];

			v->b = backends[i];
			v->policy = policies[k];
			snprintf(v->label, sizeof(v->label), "kernel-%s",
				 gil_policy_name((unsigned int)policies[k]));
		}
	}
}

static void default_backends(void)
{
	struct gil *gil;
	int ret = gil_open(&gil, GIL_BACKEND_KERNEL);

	nbackends = 0;
	if (!ret) {
		gil_close(gil);
		backends[nbackends++] = GIL_BACKEND_KERNEL;
	} else {
		warn("no kernel backend (/dev/gil: %s); measuring the others",
		     strerror(-ret));
	}
	backends[nbackends++] = GIL_BACKEND_CPYTHON;
	backends[nbackends++] = GIL_BACKEND_FUTEX;
}

int main(int argc, char **argv)
{
	bool samples = true, policies_given = false;
	int opt;

	setvbuf(stderr, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "r:s:b:p:g:n")) != -1) {
		switch (opt) {
		case 'r':
			rounds = atoi(optarg);
			break;
		case 's':
			scale = atof(optarg);
			break;
		case 'b':
			parse_backends(optarg);
			break;
		case 'p':
			parse_policies(optarg);
			policies_given = true;
			break;
		case 'g':
			groups = optarg;
			break;
		case 'n':
			samples = false;
			break;
		default:
			usage();
		}
	}
	if (rounds < 1 || !(scale > 0))
		usage();
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus > CPU_SETSIZE)
		ncpus = CPU_SETSIZE;
	if (ncpus < 2)
		warn("one CPU: the cross-CPU figures and slices are left out");
	if (!nbackends)
		default_backends();
	make_variants(policies_given);

	start_ns = now_ns();
	fprintf(stderr, "gil-bench: %d rounds, scale %g, %d CPUs, variants", rounds,
		scale, ncpus);
	for (int i = 0; i < nvariants; i++)
		fprintf(stderr, " %s", variants[i].label);
	fprintf(stderr, "\n");
	if (group_selected(bench_names[B_TPUT]))
		tput_calibrate(&variants[nvariants - 1]);

	for (int r = 0; r < rounds; r++) {
		int64_t t = now_ns();

		fprintf(stderr, "gil-bench: round %d/%d (%.0f s)\n", r + 1, rounds,
			elapsed());
		if (group_selected("floors")) {
			run_floors();
			fprintf(stderr, "  %-34s %6.1f s\n", "floors",
				(double)(now_ns() - t) / 1e9);
		}
		for (int id = 0; id < NR_BENCH; id++) {
			if ((bench_needs_2cpus(id) && ncpus < 2) ||
			    !group_selected(bench_names[id]))
				continue;
			t = now_ns();
			fprintf(stderr, "  %-34s", bench_names[id]);
			for (int i = 0; i < nvariants; i++) {
				/* Rotate the order from one round to the next. */
				const struct variant *var =
					&variants[(i + r) % nvariants];

				fprintf(stderr, " %s", var->label);
				run_bench(id, var);
			}
			fprintf(stderr, " %6.1f s\n", (double)(now_ns() - t) / 1e9);
		}
		end_round(r);
	}
	fprintf(stderr, "gil-bench: done in %.0f s\n", elapsed());
	check_policies();
	print_env();
	print_results(samples);
	return 0;
}
