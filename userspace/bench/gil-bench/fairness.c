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
 */
#include <math.h>
#include <stdio.h>

#include "gil-bench.h"

#define FAIR_RUNS		16
#define FAIR_INTERVAL		0.005
#define FAIR_IO_BURST_NS	100000
#define FAIR_IO_SLEEP_NS	1000000

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

/* Runs of a fairness figure in a round: at least one. */
static int fair_runs(void)
{
	int n = (int)lround(FAIR_RUNS * scale / rounds);

	return n < 1 ? 1 : n;
}

/* A round of fairness-@ncpu (+io with @io): fair_runs() runs, a sample each. */
static void fairness(const struct variant *var, int ncpu, bool io)
{
	int runs = fair_runs();
	struct fair_arg args[8];
	pthread_t t[8];
	char name[32];
	struct series *s;
	int nthreads = ncpu + io;

	snprintf(name, sizeof(name), "fairness-%d%s", ncpu, io ? "+io" : "");
	s = series(name, var->label);
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

/* fairness-@ncpu */
void run_fairness(const struct variant *var, int ncpu)
{
	fairness(var, ncpu, false);
}

/* fairness-@ncpu+io */
void run_fairness_io(const struct variant *var, int ncpu)
{
	fairness(var, ncpu, true);
}
