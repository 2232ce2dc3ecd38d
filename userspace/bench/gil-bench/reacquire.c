// SPDX-License-Identifier: MIT
/*
 * The re-acquire: a thread that slept outside the GIL takes it back beside
 * N eval loops.  It releases, sleeps REACQ_SLEEP_NS with clock_nanosleep on
 * an absolute deadline (as time.sleep does since CPython 3.11) and calls
 * gil_acquire.
 * Under CPython's rule its wait times out after one switch interval and
 * only then posts a drop request, so with one eval loop this takes about
 * an interval (real CPython 3.12: ~1.03).  The sample runs from the end of
 * the sleep until gil_acquire returns, in switch intervals ("iv", stored
 * in millionths), so that 1 ms and 5 ms read alike.  Not pinned.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gil-bench.h"

#define REACQ_SAMPLES		160
#define REACQ_SLEEP_NS		200000
#define REACQ_CHUNK_NS		(5 * NSEC_PER_SEC)

/* reacquire-@ncpu-@interval_ms: one chunk. */
static void reacquire(const struct variant *var, int ncpu, int interval_ms)
{
	struct evalloops e = { .n = ncpu };
	int64_t interval_ns = interval_ms * 1000000LL, end, t0, *v;
	int n = per_round(REACQ_SAMPLES), got;
	struct gil_tstate *ts;
	struct timespec wake;
	struct series *s;
	char name[32];

	snprintf(name, sizeof(name), "reacquire-%d-%dms", ncpu, interval_ms);
	s = series(name, var->label);
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

/* reacquire-@ncpu-1ms and -5ms. */
void run_reacquire(const struct variant *var, int ncpu)
{
	reacquire(var, ncpu, 1);
	reacquire(var, ncpu, 5);
}
