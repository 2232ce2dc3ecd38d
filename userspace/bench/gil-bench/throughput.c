// SPDX-License-Identifier: MIT
/*
 * Throughput: the wall time of a fixed amount of eval-loop work, about
 * THROUGHPUT_TARGET_NS on one thread, split over 1, 2 and 4 threads at a
 * 5 ms interval: what switching costs a CPU-bound program that gains
 * nothing from threads.
 */
#include <stdio.h>

#include "gil-bench.h"

#define THROUGHPUT_TARGET_NS	(NSEC_PER_SEC / 4)
#define TPUT_PER_ROUND		2

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

uint64_t tput_total;

/* Enough work for about THROUGHPUT_TARGET_NS on one thread. */
void tput_calibrate(const struct variant *var)
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
void run_throughput(const struct variant *var, int arg)
{
	static const int threads[] = { 1, 2, 4 };
	char name[32];
	struct series *s;

	(void)arg;
	for (int rep = 0; rep < TPUT_PER_ROUND; rep++) {
		for (size_t i = 0; i < sizeof(threads) / sizeof(threads[0]); i++) {
			snprintf(name, sizeof(name), "throughput-%d", threads[i]);
			s = series(name, var->label);
			add1(s, tput_run(var, threads[i], tput_total, s));
		}
	}
}
