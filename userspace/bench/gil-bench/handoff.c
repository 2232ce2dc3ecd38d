// SPDX-License-Identifier: MIT
/*
 * The GIL changing hands: a voluntary release to one sleeping waiter, a
 * release with a queue of them behind it, and the forced switch between
 * two CPU-bound eval loops, whose slices (from taking the GIL until the
 * drop request is seen) are the switch-interval figures.
 */
#include <stdio.h>
#include <stdlib.h>

#include "gil-bench.h"

#define VOLUNTARY_SAMPLES	1600
#define WAITERS_SAMPLES		400
#define FORCED_SAMPLES		800
#define SLICE5_SAMPLES		240
#define SLICE20_SAMPLES		96
#define SPIN_CHUNK_NS		(10 * NSEC_PER_SEC)

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
		insn_gate();
	}
	for (int k = 0; k < v->n; k++) {
		if ((k & 1) == me) {
			/* The holder of step k. */
			wait_ge(&v->entering[other], (uint32_t)k + 1);
			wait_sleeping(v->tid[other]);
			store64(&v->t0, now_ns());
			insn_gate();
			check("gil_release", gil_release(ts));
			wait_ge(&v->got, (uint32_t)k + 1);
			if (k + 1 < v->n) {
				publish(&v->entering[me], (uint32_t)k + 2);
				check("gil_acquire", gil_acquire(ts));
				t1 = now_ns();
				insn_gate();
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

/* handoff-voluntary-same (@cpu1 0), -cross (1): the threads on CPU 0, @cpu1. */
void run_voluntary(const struct variant *var, int cpu1)
{
	const char *name = cpu1 ? "handoff-voluntary-cross" :
				  "handoff-voluntary-same";
	struct voluntary v = { .cpu = { 0, cpu1 },
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
	add(series(name, var->label), v.lat, (size_t)v.n);
	gil_done(v.gil, series(name, var->label));
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

void run_waiters(const struct variant *var, int waiters)
{
	struct queue q = { .waiters = (uint32_t)waiters,
			   .n = (uint32_t)per_round(WAITERS_SAMPLES) };
	struct queue_arg *args = xcalloc(waiters + 1, sizeof(*args));
	pthread_t *t = xcalloc(waiters + 1, sizeof(*t));
	char name[32];

	snprintf(name, sizeof(name), "handoff-waiters-%u", waiters);
	q.gil = gil_new(var, 60.0);
	q.lat = xcalloc(q.n, sizeof(*q.lat));
	for (uint32_t i = 0; i <= q.waiters; i++) {
		args[i] = (struct queue_arg){ &q, i == 0 };
		t[i] = spawn(queue_thread, &args[i]);
		if (i == 0)
			wait_ge(&q.holding, 1);
	}
	for (uint32_t i = 0; i <= q.waiters; i++)
		pthread_join(t[i], NULL);
	add(series(name, var->label), q.lat, q.n);
	gil_done(q.gil, series(name, var->label));
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
			add(series(lat_name, bn), s.out[i].lat,
			    (size_t)s.out[i].nlat);
		if (slice_name)
			add(series(slice_name, bn), s.out[i].slice,
			    (size_t)s.out[i].nslice);
		free(s.out[i].slice);
		free(s.out[i].lat);
	}
	gil_done(s.gil, slice_name ? series(slice_name, bn) :
				     series(lat_name, bn));
}

void run_forced_same(const struct variant *var, int arg)
{
	(void)arg;
	run_spinners(var, 0.001, 0, 0, per_round(FORCED_SAMPLES),
		     "handoff-forced-same", NULL);
}

/* slice-@interval_ms, on CPUs 0 and 1; at 1 ms also handoff-forced-cross. */
void run_slices(const struct variant *var, int interval_ms)
{
	char name[32];

	snprintf(name, sizeof(name), "slice-%dms", interval_ms);
	run_spinners(var, interval_ms / 1e3, 0, 1,
		     per_round(interval_ms == 1 ? FORCED_SAMPLES :
			       interval_ms == 5 ? SLICE5_SAMPLES : SLICE20_SAMPLES),
		     interval_ms == 1 ? "handoff-forced-cross" : NULL, name);
}
