// SPDX-License-Identifier: MIT
/*
 * gil-bench's table of figures: what each figure times, its unit, and how
 * the report shows it (main.c says how a run measures them).
 */
#include <errno.h>
#include <string.h>

#include "gil-bench.h"

/*
 * The figures, in the order of the results: name, unit, what the report
 * compares it with, the group that measures it; io: a thread back from
 * I/O meets CPU-bound threads, which the io policy must preempt; the
 * report's plot that draws it; its column in the report's summary of the
 * policies.
 */
const struct figure figures[] = {
	/*
	 * The machine's floor.  Raw futex ping-pong, one way: store,
	 * FUTEX_WAKE, the other thread returns from FUTEX_WAIT; pipe
	 * ping-pong, one way: write() until the other thread returns from
	 * read().  Per operation: a pthread mutex lock+unlock, uncontended;
	 * one getppid(); one clock_gettime(CLOCK_MONOTONIC).
	 */
	{ "floor-futex-same", "us", NULL, G_FLOORS, false, "floors", 0 },
	{ "floor-futex-cross", "us", "floor-futex-same", G_FLOORS, false,
	  "floors", 0 },
	{ "floor-pipe-same", "us", "floor-futex-same", G_FLOORS, false,
	  "floors", 0 },
	{ "floor-pipe-cross", "us", "floor-futex-cross", G_FLOORS, false,
	  "floors", 0 },
	{ "floor-mutex", "ns", NULL, G_FLOORS, false, NULL, 0 },
	{ "floor-syscall", "ns", NULL, G_FLOORS, false, NULL, 0 },
	{ "clock-read", "ns", NULL, G_FLOORS, false, NULL, 0 },
	/*
	 * The holder releases while the other thread sleeps in gil_acquire:
	 * from the release until the waiter returns holding the GIL.
	 */
	{ "handoff-voluntary-same", "us", "floor-futex-same", G_VOL_SAME, false,
	  "handoff-voluntary-same", 0 },
	{ "handoff-voluntary-cross", "us", "floor-futex-cross", G_VOL_CROSS, false,
	  "handoff-voluntary-cross", 0 },
	/*
	 * N+1 threads, not pinned, take turns: the holder releases once the
	 * other N sleep in gil_acquire; from the release until one of them
	 * returns holding the GIL.
	 */
	{ "handoff-waiters-1", "us", "floor-futex-cross", G_WAITERS1, false,
	  "handoff-waiters", 0 },
	{ "handoff-waiters-8", "us", "floor-futex-cross", G_WAITERS8, false,
	  "handoff-waiters", 0 },
	{ "handoff-waiters-64", "us", "floor-futex-cross", G_WAITERS64, false,
	  "handoff-waiters", 0 },
	/*
	 * Two CPU-bound eval loops at a 1 ms interval: from the moment the
	 * holder's poll sees the drop request until the waiter returns
	 * holding the GIL.
	 */
	{ "handoff-forced-same", "us", "floor-futex-same", G_FORCED_SAME, false,
	  "handoff-forced-same", 0 },
	{ "handoff-forced-cross", "us", "floor-futex-cross", G_SLICE1, false,
	  "handoff-forced-cross", 0 },
	/*
	 * Two CPU-bound eval loops at that switch interval: from acquiring
	 * the GIL until the drop request is seen.
	 */
	{ "slice-1ms", "ms", "interval 1 ms", G_SLICE1, false, "slice-1ms", 0 },
	{ "slice-5ms", "ms", "interval 5 ms", G_SLICE5, false, "slice-5ms", 0 },
	{ "slice-20ms", "ms", "interval 20 ms", G_SLICE20, false,
	  "slice-20ms", 0 },
	/*
	 * A thread blocked in read() outside the GIL, N CPU-bound eval loops:
	 * from the write() of its request until it holds the GIL (switch
	 * interval 5 ms, CPython's default).
	 */
	{ "convoy-0", "us", "floor-pipe-cross", G_CONVOY0, false,
	  "convoy-0", 0 },
	{ "convoy-1", "us", "convoy-0", G_CONVOY1, true, "convoy-1", 1 },
	{ "convoy-2", "us", "convoy-0", G_CONVOY2, true, "convoy-2", 2 },
	{ "convoy-4", "us", "convoy-0", G_CONVOY4, true, "convoy-4", 3 },
	/*
	 * A thread sleeps 200 us outside the GIL (clock_nanosleep, as
	 * time.sleep) beside N CPU-bound eval loops, at a 1 or 5 ms switch
	 * interval: from the end of the sleep until it holds the GIL again,
	 * in switch intervals.
	 */
	{ "reacquire-0-1ms", "iv", NULL, G_REACQ0, false, "reacquire-1ms", 0 },
	{ "reacquire-0-5ms", "iv", NULL, G_REACQ0, false, "reacquire-5ms", 0 },
	{ "reacquire-1-1ms", "iv", NULL, G_REACQ1, true, "reacquire-1ms", 0 },
	{ "reacquire-1-5ms", "iv", NULL, G_REACQ1, true, "reacquire-5ms", 4 },
	{ "reacquire-2-1ms", "iv", NULL, G_REACQ2, true, "reacquire-1ms", 0 },
	{ "reacquire-2-5ms", "iv", NULL, G_REACQ2, true, "reacquire-5ms", 5 },
	/*
	 * Wall time of a fixed amount of eval-loop work split over N threads
	 * (the report divides each run by the one-thread run beside it).
	 */
	{ "throughput-1", "ms", NULL, G_TPUT, false, NULL, 0 },
	{ "throughput-2", "ms", "throughput-1", G_TPUT, false, NULL, 9 },
	{ "throughput-4", "ms", "throughput-1", G_TPUT, false, NULL, 10 },
	/*
	 * N CPU-bound eval loops (+io: and a thread alternating 0.1 ms
	 * bursts with 1 ms sleeps outside the GIL) for 0.25 s at a 5 ms
	 * interval: Jain's index of the CPU-bound threads' GIL hold times,
	 * one per run (1 = equal).
	 */
	{ "fairness-2", "J", NULL, G_FAIR2, false, "fairness-2", 6 },
	{ "fairness-4", "J", NULL, G_FAIR4, false, "fairness-4", 7 },
	{ "fairness-2+io", "J", NULL, G_FAIR2IO, false, "fairness-2+io", 8 },
	/*
	 * The same N eval loops, beside a CPU-bound process per CPU: the CPU
	 * time a holder gets from acquiring the GIL until the drop request
	 * is seen (a wall-clock interval asks a holder its CPU shares with
	 * a hog after half of one), and Jain's index of the threads' CPU
	 * time holding the GIL, one per run.
	 */
	{ "hogs-slice-2", "ms", "interval 5 ms", G_HOGS2, false, "hogs-slice", 0 },
	{ "hogs-slice-4", "ms", "interval 5 ms", G_HOGS4, false, "hogs-slice", 0 },
	{ "hogs-fairness-2", "J", NULL, G_HOGS2, false, NULL, 0 },
	{ "hogs-fairness-4", "J", NULL, G_HOGS4, false, NULL, 0 },
	/*
	 * A SCHED_FIFO thread's wait for the GIL its SCHED_OTHER holder
	 * keeps while a SCHED_FIFO thread of middle priority takes the
	 * holder's CPU for 100 ms (interval 5 ms).
	 */
	{ "inversion-wait", "ms", "interval 5 ms", G_INVERSION, false,
	  "inversion-wait", 0 },
	/* gil_acquire + gil_release, one thread. */
	{ "uncontended", "ns", "floor-mutex", G_UNCONTENDED, false, NULL, 0 },
};

const int nfigures = (int)(sizeof(figures) / sizeof(figures[0]));

const struct figure *figure(const char *name)
{
	for (int f = 0; f < nfigures; f++)
		if (!strcmp(figures[f].name, name))
			return &figures[f];
	die(name, ENOENT);
	return NULL;
}
