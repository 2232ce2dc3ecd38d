// SPDX-License-Identifier: MIT
/*
 * Fairness: N CPU-bound eval loops share the GIL at a 5 ms interval for
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
 *
 * Beside hogs (hogs-N): a CPU-bound process per CPU runs through the
 * window, so the eval loops share their CPUs with them.  What counts then
 * is CPU time: a thread's hold is the CPU time it ran holding the GIL, and
 * each slice that ended in a drop request is a sample of hogs-slice-N.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "gil-bench.h"

#define FAIR_RUNS		16
#define FAIR_INTERVAL		0.005
#define FAIR_IO_BURST_NS	100000
#define FAIR_IO_SLEEP_NS	1000000
#define FAIR_MAX_SLICES		1024

struct fair {
	struct gil *gil;
	int ncpu;
	bool io;
	bool hogs;		/* hold and slices in CPU time */
	uint32_t ready;		/* threads attached and about to start */
	uint32_t go;
	uint32_t stop;
	int64_t start, end;	/* the window */
	int64_t hold[8];
	int nslices[8];
	int64_t slices[8][FAIR_MAX_SLICES];
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

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

/* The time a hold began: wall time, or beside hogs the thread's CPU time. */
static int64_t fair_clock(const struct fair *f)
{
	return f->hogs ? thread_cpu_ns() : now_ns();
}

/* A hold from @from ended at a drop request: count it. */
static int64_t fair_slice(struct fair *f, int me, int64_t from)
{
	int64_t cpu;

	if (!f->hogs)
		return fair_clip(f, from, now_ns());
	cpu = thread_cpu_ns() - from;
	if (f->nslices[me] < FAIR_MAX_SLICES)
		f->slices[me][f->nslices[me]++] = cpu;
	return cpu;
}

static void *fair_cpu_thread(void *arg)
{
	struct fair_arg *a = arg;
	struct fair *f = a->f;
	struct gil_tstate *ts = tstate(f->gil);
	uint64_t x = (uint64_t)a->me + 11, i = 0;
	int64_t t_acq, hold = 0;

	publish_add(&f->ready);
	wait_ge(&f->go, 1);
	check("gil_acquire", gil_acquire(ts));
	t_acq = fair_clock(f);
	for (;;) {
		x = work(x);
		if (gil_drop_requested(ts)) {
			hold += fair_slice(f, a->me, t_acq);
			check("gil_yield", gil_yield(ts));
			t_acq = fair_clock(f);
		}
		if (!(++i & 1023) && fair_over(f))
			break;
	}
	/* The last hold, cut by the window: no slice. */
	hold += f->hogs ? thread_cpu_ns() - t_acq : fair_clip(f, t_acq, now_ns());
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

/* Runs of a fairness figure in a round: at least one. */
static int fair_runs(void)
{
	int n = (int)lround(FAIR_RUNS * scale / rounds);

	return n < 1 ? 1 : n;
}

/* A CPU-bound process on each CPU, until hogs_stop(). */
static void hogs_start(pid_t *pids)
{
	for (int i = 0; i < ncpus; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			die("fork", errno);
		if (!pids[i])
			for (uint64_t x = (uint64_t)i;;)
				sink = x = work(x);
	}
}

static void hogs_stop(const pid_t *pids)
{
	for (int i = 0; i < ncpus; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}

/*
 * A round of fairness-@ncpu (+io with @io; hogs-... with @hogs):
 * fair_runs() runs, a sample of J each.
 */
static void fairness(const struct variant *var, int ncpu, bool io, bool hogs)
{
	int runs = fair_runs();
	struct fair_arg args[8];
	struct series *s, *slices = NULL;
	pid_t *hog_pids = NULL;
	pthread_t t[8];
	char name[32];
	int nthreads = ncpu + io;

	snprintf(name, sizeof(name), "%sfairness-%d%s", hogs ? "hogs-" : "",
		 ncpu, io ? "+io" : "");
	s = series(name, var->label);
	if (hogs) {
		snprintf(name, sizeof(name), "hogs-slice-%d", ncpu);
		slices = series(name, var->label);
		hog_pids = xcalloc((size_t)ncpus, sizeof(*hog_pids));
	}
	for (int r = 0; r < runs; r++) {
		static struct fair f;	/* its slices: 64 KiB, not on the stack */
		double sum = 0, sum2 = 0;

		f = (struct fair){ .ncpu = ncpu, .io = io, .hogs = hogs };

		f.gil = gil_new(var, FAIR_INTERVAL);
		for (int i = 0; i < nthreads; i++) {
			args[i] = (struct fair_arg){ &f, i };
			t[i] = spawn(i < ncpu ? fair_cpu_thread : fair_io_thread,
				     &args[i]);
		}
		wait_ge(&f.ready, (uint32_t)nthreads);
		if (hogs)
			hogs_start(hog_pids);
		f.start = now_ns();
		f.end = f.start + FAIR_WINDOW_NS;
		publish(&f.go, 1);
		for (int i = 0; i < nthreads; i++)
			pthread_join(t[i], NULL);
		if (hogs)
			hogs_stop(hog_pids);
		for (int i = 0; hogs && i < ncpu; i++)
			for (int k = 0; k < f.nslices[i]; k++)
				add1(slices, f.slices[i][k]);
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
	free(hog_pids);
}

/* fairness-@ncpu */
void run_fairness(const struct variant *var, int ncpu)
{
	fairness(var, ncpu, false, false);
}

/* fairness-@ncpu+io */
void run_fairness_io(const struct variant *var, int ncpu)
{
	fairness(var, ncpu, true, false);
}

/* hogs-fairness-@ncpu and hogs-slice-@ncpu */
void run_hogs(const struct variant *var, int ncpu)
{
	fairness(var, ncpu, false, true);
}
