// SPDX-License-Identifier: MIT
/*
 * Priority inversion: a SCHED_FIFO 20 thread on CPU 1 wants the GIL that
 * a SCHED_OTHER eval loop holds on CPU 0, while a SCHED_FIFO 10 thread,
 * of middle priority, spins on CPU 0 for INV_HOG_NS.  The sample
 * (inversion-wait): the waiter's gil_acquire, from its call to its return.
 * The waiter asks after one interval (5 ms); a holder with nothing to lift
 * it answers only once the hog is done.  Under GIL_OPT_PRIO_INHERIT
 * (kernel-cpython+pi) the holder runs at the waiter's priority, above the
 * hog, and answers at once.  Needs the privilege to use SCHED_FIFO (root
 * in the guest); without it the group is left out, with a warning.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "gil-bench.h"

#define INV_RUNS	24
#define INV_INTERVAL	0.005
#define INV_HOG_NS	(100 * 1000000LL)
#define INV_HOG_PRIO	10
#define INV_WAITER_PRIO	20

struct inversion {
	struct gil *gil;
	uint32_t holding;
	uint32_t hogging;
	int64_t waited;
};

/* SCHED_FIFO @prio for the calling thread; false if not allowed. */
static bool fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return !pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}

/* An eval loop holding the GIL on CPU 0 until asked for it. */
static void *inv_holder(void *arg)
{
	struct inversion *inv = arg;
	struct gil_tstate *ts = tstate(inv->gil);
	uint64_t x = 1;

	pin(0);
	check("gil_acquire", gil_acquire(ts));
	publish(&inv->holding, 1);
	while (!gil_drop_requested(ts))
		sink = x = work(x);
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

/* The middle priority on CPU 0, for INV_HOG_NS. */
static void *inv_hog(void *arg)
{
	struct inversion *inv = arg;
	int64_t end;
	uint64_t x = 2;

	pin(0);
	if (!fifo(INV_HOG_PRIO))
		die("SCHED_FIFO for the hog", EPERM);
	end = now_ns() + INV_HOG_NS;
	publish(&inv->hogging, 1);
	while (now_ns() < end)
		sink = x = work(x);
	return NULL;
}

static void *inv_waiter(void *arg)
{
	struct inversion *inv = arg;
	struct gil_tstate *ts = tstate(inv->gil);
	int64_t t0;

	pin(1);
	if (!fifo(INV_WAITER_PRIO))
		die("SCHED_FIFO for the waiter", EPERM);
	t0 = now_ns();
	check("gil_acquire", gil_acquire(ts));
	inv->waited = now_ns() - t0;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

/* inversion-wait: per_round(INV_RUNS) runs, a sample each. */
void run_inversion(const struct variant *var, int arg)
{
	static bool refused;
	struct series *s = series("inversion-wait", var->label);
	int runs = per_round(INV_RUNS);
	pthread_t holder, hog, waiter;

	(void)arg;
	if (!refused && !fifo(INV_WAITER_PRIO)) {
		warn("inversion: no SCHED_FIFO here (%s): left out",
		     strerror(EPERM));
		refused = true;
	}
	if (refused)
		return;
	/* Back to the driver's own policy: it only probed. */
	if (sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 0 }))
		die("sched_setscheduler", errno);
	/* Off CPU 0, or the hog would keep the driver from the waiter. */
	pin(1);
	for (int r = 0; r < runs; r++) {
		struct inversion inv = { .gil = gil_new(var, INV_INTERVAL) };

		holder = spawn(inv_holder, &inv);
		wait_ge(&inv.holding, 1);
		hog = spawn(inv_hog, &inv);
		wait_ge(&inv.hogging, 1);
		waiter = spawn(inv_waiter, &inv);
		pthread_join(waiter, NULL);
		pthread_join(holder, NULL);
		pthread_join(hog, NULL);
		add1(s, inv.waited);
		gil_done(inv.gil, s);
	}
	pin(-1);
}
