// SPDX-License-Identifier: MIT
/*
 * The machine's floor: one-way futex and pipe wake-ups between two pinned
 * threads, and the per-operation costs (a pthread mutex, a system call, a
 * clock read); beside them the GIL's own per-operation cost, uncontended
 * acquire + release, compared with the mutex.  The per-operation costs
 * are means over batches of UNCONTENDED_PAIRS, one sample per batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gil-bench.h"

#define FLOOR_SAMPLES		3200
#define UNCONTENDED_BATCHES	100
#define UNCONTENDED_PAIRS	2000

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
	add(series(name, "-"), pp.lat, (size_t)n);
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
		add1(series("floor-mutex", "-"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);

		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++)
			syscall(SYS_getppid);
		add1(series("floor-syscall", "-"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);

		t = now_ns();
		for (int i = 0; i < UNCONTENDED_PAIRS; i++)
			clock_gettime(CLOCK_MONOTONIC, &ts);
		add1(series("clock-read", "-"),
		     (now_ns() - t) / UNCONTENDED_PAIRS);
	}
	return NULL;
}

void run_floors(const struct variant *var, int arg)
{
	int n = per_round(FLOOR_SAMPLES);
	int batches = per_round(UNCONTENDED_BATCHES);
	pthread_t t;

	(void)var;
	(void)arg;
	run_pingpong("floor-futex-same", false, 0, 0, n);
	run_pingpong("floor-pipe-same", true, 0, 0, n);
	if (ncpus > 1) {
		run_pingpong("floor-futex-cross", false, 0, 1, n);
		run_pingpong("floor-pipe-cross", true, 0, 1, n);
	}
	t = spawn(cost_thread, &batches);
	pthread_join(t, NULL);
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
	struct series *s = series("uncontended", u->var->label);
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

void run_uncontended(const struct variant *var, int arg)
{
	struct unc u = { var, per_round(UNCONTENDED_BATCHES) };
	pthread_t t = spawn(uncontended_thread, &u);

	(void)arg;
	pthread_join(t, NULL);
}
