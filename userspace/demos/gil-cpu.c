// SPDX-License-Identifier: MIT
/*
 * gil-cpu: N threads run a bytecode eval loop under one GIL, and a display
 * thread that never touches the GIL shows, live, how the GIL shares the
 * interpreter among them: per thread its loop count, its share of the time
 * (the time it held the GIL), its slices (how many times it got the GIL)
 * and their mean length; for the GIL, switch_number and the drop requests
 * from gil_get_stats.
 *
 * The eval loop is the one CPython runs: the holder checks the eval
 * breaker at every backward jump and answers a drop request by yielding
 * (gil_check: gil_drop_requested, then gil_yield, here with the slice's
 * clock read around the yield).  Every iteration also increments a counter
 * shared by all threads without atomics: only the GIL keeps it exact, and
 * the program checks that it is.
 *
 * On a terminal the view is redrawn in place (ANSI cursor movement);
 * otherwise, or with -p (the VM's serial line is a tty, but its output is
 * relayed to a log), a block is printed at every refresh.
 *
 * usage: gil-cpu [-b backend|all] [-t threads] [-d seconds] [-i interval_s]
 *                [-r refresh_s] [-p]
 * Exit: 0 on success, 1 on a libgil error or a wrong counter, 2 on usage.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/run.h"

#define MAX_THREADS 64

/* The bytecode: for (i = 0; ; i++) shared++;  left when the run ends. */
enum op { OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_INCR_SHARED, OP_JUMP };

struct insn {
	enum op op;
	long arg;
};

#define LOOP_TOP 2
static const struct insn program[] = {
	{ OP_PUSH, 0 },
	{ OP_STORE, 0 },		/* i = 0 */
	{ OP_INCR_SHARED, 0 },		/* LOOP_TOP: shared++ */
	{ OP_LOAD, 0 },
	{ OP_PUSH, 1 },
	{ OP_ADD, 0 },
	{ OP_STORE, 0 },		/* i += 1 */
	{ OP_JUMP, LOOP_TOP },		/* backward jump: the eval breaker */
};

struct run;

/*
 * One interpreter thread.  @loops is written by its thread only, read by
 * the display; the slice accounting is under @lock (taken once per slice
 * boundary by the thread, a few times a second by the display).
 */
struct worker {
	struct run *run;
	pthread_t tid;
	int err;
	_Alignas(64) _Atomic uint64_t loops;
	pthread_mutex_t lock;
	uint64_t held_ns;		/* finished slices */
	uint64_t slices;
	int64_t slice_start;		/* 0 when not holding the GIL */
};

struct run {
	struct gil *gil;
	int nthreads;
	atomic_bool stop;
	long shared;			/* protected by the GIL only */
	int64_t t0;
	struct worker w[MAX_THREADS];
};

static void slice_begin(struct worker *w)
{
	int64_t t = now_ns();

	pthread_mutex_lock(&w->lock);
	w->slices++;
	w->slice_start = t;
	pthread_mutex_unlock(&w->lock);
}

static void slice_end(struct worker *w)
{
	int64_t t = now_ns();

	pthread_mutex_lock(&w->lock);
	w->held_ns += (uint64_t)(t - w->slice_start);
	w->slice_start = 0;
	pthread_mutex_unlock(&w->lock);
}

/*
 * The eval breaker at a backward jump: gil_check(), with the end of the
 * slice and the start of the next timed around the yield.  It also carries
 * the end of the run, as CPython's carries pending calls and signals.
 * Returns 1 to leave the loop, 0 to go on, or a libgil error.
 */
static int eval_breaker(struct worker *w, struct gil_tstate *ts)
{
	int ret;

	if (atomic_load_explicit(&w->run->stop, memory_order_relaxed))
		return 1;
	if (__builtin_expect(!gil_drop_requested(ts), 1))
		return 0;
	slice_end(w);
	ret = gil_yield(ts);
	if (ret)
		return ret;
	slice_begin(w);
	return 0;
}

static int eval(struct worker *w, struct gil_tstate *ts)
{
	long stack[8], locals[2] = { 0 };
	int sp = 0, pc = 0, ret;

	for (;;) {
		const struct insn *in = &program[pc++];

		switch (in->op) {
		case OP_PUSH:
			stack[sp++] = in->arg;
			break;
		case OP_LOAD:
			stack[sp++] = locals[in->arg];
			break;
		case OP_STORE:
			locals[in->arg] = stack[--sp];
			break;
		case OP_ADD:
			sp--;
			stack[sp - 1] += stack[sp];
			break;
		case OP_INCR_SHARED:
			w->run->shared++;
			break;
		case OP_JUMP:
			atomic_store_explicit(&w->loops, (uint64_t)locals[0],
					      memory_order_relaxed);
			ret = eval_breaker(w, ts);
			if (ret)
				return ret < 0 ? ret : 0;
			pc = (int)in->arg;
			break;
		}
	}
}

/* Under the GIL: the eval loop, its time in slices. */
static int worker_body(struct gil_tstate *ts, void *arg)
{
	struct worker *w = arg;
	int ret;

	slice_begin(w);
	ret = eval(w, ts);
	if (!ret)
		slice_end(w);
	return ret;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	w->err = run_holding_gil(w->run->gil, worker_body, w);
	return NULL;
}

/* Print the view; returns the number of lines printed. */
static int show(struct run *r, double duration, bool final, bool tty)
{
	int64_t now = now_ns();
	double elapsed = (double)(now - r->t0);
	uint64_t tot_loops = 0, tot_slices = 0;
	double tot_held = 0;
	struct gil_stats st;
	char b1[32];
	int lines = 0, ret;
	const char *eol = tty ? "\033[K\n" : "\n";

	ret = gil_get_stats(r->gil, &st);
	if (ret) {
		fprintf(stderr, "gil-cpu: gil_get_stats: %s\n", strerror(-ret));
		return -1;
	}
	printf("%s %s: %d threads, %.2f / %.2f s%s", final ? "final" : "live ",
	       gil_backend_name(gil_backend(r->gil)), r->nthreads,
	       elapsed / 1e9, duration, eol);
	printf("  thread        loops  GIL time  slices  mean slice%s", eol);
	lines += 2;
	for (int i = 0; i < r->nthreads; i++) {
		struct worker *w = &r->w[i];
		uint64_t loops = atomic_load_explicit(&w->loops,
						      memory_order_relaxed);
		double held;
		uint64_t slices;

		pthread_mutex_lock(&w->lock);
		held = (double)w->held_ns;
		if (w->slice_start)
			held += (double)(now - w->slice_start);
		slices = w->slices;
		pthread_mutex_unlock(&w->lock);
		tot_loops += loops;
		tot_slices += slices;
		tot_held += held;
		printf("  %6d %12llu  %7.1f%%  %6llu  %10s%s", i,
		       (unsigned long long)loops, 100.0 * held / elapsed,
		       (unsigned long long)slices,
		       slices ? fmt_ns(b1, sizeof(b1), held / (double)slices) : "-",
		       eol);
		lines++;
	}
	printf("  %6s %12llu  %7.1f%%  %6llu  %10s%s", "all",
	       (unsigned long long)tot_loops, 100.0 * tot_held / elapsed,
	       (unsigned long long)tot_slices,
	       tot_slices ? fmt_ns(b1, sizeof(b1), tot_held / (double)tot_slices) : "-",
	       eol);
	printf("  switch_number %llu, drop requests %llu (forced switches %llu, voluntary releases %llu)%s",
	       (unsigned long long)st.switch_number,
	       (unsigned long long)st.drop_requests,
	       (unsigned long long)st.forced_switches,
	       (unsigned long long)st.voluntary_releases, eol);
	lines += 2;
	if (!tty) {
		putchar('\n');
		lines++;
	}
	fflush(stdout);
	return lines;
}

/* The command line. */
struct options {
	int nthreads;
	double duration, interval, refresh;
	bool plain;
	bool tty;
};

/* The run on one backend, for cli_for_each_backend(). */
static int run_backend(enum gil_backend backend, void *arg)
{
	const struct options *o = arg;
	int nthreads = o->nthreads;
	double duration = o->duration, refresh = o->refresh;
	bool tty = o->tty;
	struct run *r;
	int64_t end, next;
	int ret, lines = 0, status = 0;
	double iv;

	r = calloc(1, sizeof(*r));
	if (!r)
		return 1;
	if (cli_open_gil("gil-cpu", &r->gil, backend, o->interval)) {
		free(r);
		return 1;
	}
	gil_get_switch_interval(r->gil, &iv);
	printf("gil-cpu: %d threads run a bytecode loop on the %s GIL for %.2f s "
	       "(switch interval %.3f ms)\n", nthreads,
	       gil_backend_name(backend), duration, iv * 1e3);
	fflush(stdout);

	r->nthreads = nthreads;
	r->t0 = now_ns();
	for (int i = 0; i < nthreads; i++) {
		r->w[i].run = r;
		pthread_mutex_init(&r->w[i].lock, NULL);
		ret = pthread_create(&r->w[i].tid, NULL, worker_main, &r->w[i]);
		if (ret) {
			fprintf(stderr, "gil-cpu: pthread_create: %s\n", strerror(ret));
			atomic_store(&r->stop, true);
			for (int j = 0; j < i; j++)
				pthread_join(r->w[j].tid, NULL);
			gil_close(r->gil);
			free(r);
			return 1;
		}
	}

	/* This thread is the display: it never attaches to the GIL. */
	end = r->t0 + (int64_t)(duration * 1e9);
	next = r->t0 + (int64_t)(refresh * 1e9);
	while (next < end) {
		sleep_ns(next - now_ns());
		next += (int64_t)(refresh * 1e9);
		if (tty && lines)
			printf("\033[%dA", lines);
		lines = show(r, duration, false, tty);
		if (lines < 0) {
			status = 1;
			lines = 0;
		}
	}
	if (end > now_ns())
		sleep_ns(end - now_ns());
	atomic_store(&r->stop, true);
	for (int i = 0; i < nthreads; i++)
		pthread_join(r->w[i].tid, NULL);
	if (tty && lines)
		printf("\033[%dA", lines);
	if (show(r, duration, true, tty) < 0)
		status = 1;

	long expected = 0;

	for (int i = 0; i < nthreads; i++) {
		expected += (long)atomic_load(&r->w[i].loops);
		if (r->w[i].err) {
			fprintf(stderr, "gil-cpu: thread %d: %s\n", i,
				strerror(-r->w[i].err));
			status = 1;
		}
		pthread_mutex_destroy(&r->w[i].lock);
	}
	if (r->shared == expected) {
		printf("  shared counter %ld = the sum of the loops: the GIL kept it exact\n",
		       r->shared);
	} else {
		printf("  shared counter %ld, but the loops add up to %ld: the GIL let two threads run at once\n",
		       r->shared, expected);
		status = 1;
	}
	fflush(stdout);
	ret = gil_close(r->gil);
	if (ret) {
		fprintf(stderr, "gil-cpu: gil_close: %s\n", strerror(-ret));
		status = 1;
	}
	free(r);
	return status;
}

static const char prog[] = "gil-cpu";

static void usage(void)
{
	printf("usage: gil-cpu [-b backend|all] [-t threads] [-d seconds] [-i interval_s] [-r refresh_s] [-p]\n"
	       "  N threads run a bytecode loop under one GIL; a live view shows each\n"
	       "  thread's loops, share of GIL time, slices and mean slice length.\n"
	       "  -b  kernel, cpython, futex or all (default: $GIL_BACKEND, else kernel)\n"
	       "  -t  threads, 1..%d (default 4)\n"
	       "  -d  how long to run, in seconds (default 3)\n"
	       "  -i  switch interval in seconds, up to 3600 (default: the GIL's, 0.005)\n"
	       "  -r  refresh period in seconds (default 0.25 on a terminal, else 1)\n"
	       "  -p  plain output: a block per refresh, no redrawing (the default\n"
	       "      unless stdout is a terminal and $TERM is set and not \"dumb\")\n"
	       "  -h, --help  this help\n"
	       "Exit: 0 on success, 1 on a libgil error or a wrong counter, 2 on usage.\n",
	       MAX_THREADS);
}

int main(int argc, char **argv)
{
	struct options o = { .nthreads = 4, .duration = 3 };
	const char *bname = NULL, *term = getenv("TERM");
	const struct cli_option opts[] = {
		CLI_OPT_STRING('b', &bname),
		CLI_OPT_INT('t', &o.nthreads, "a thread count", 1, MAX_THREADS),
		CLI_OPT_DOUBLE('d', &o.duration, "a duration in seconds", 0, 0),
		CLI_OPT_INTERVAL('i', &o.interval),
		CLI_OPT_DOUBLE('r', &o.refresh, "a refresh period in seconds", 0, 0),
		CLI_OPT_FLAG('p', &o.plain),
		CLI_OPT_END,
	};
	const struct cli cli = { prog, usage, opts, false };
	struct cli_backends bs;

	cli_parse(&cli, argc, argv);
	o.tty = !o.plain && isatty(STDOUT_FILENO) && term && *term &&
		strcmp(term, "dumb");
	if (!(o.refresh > 0))
		o.refresh = o.tty ? 0.25 : 1.0;
	if (cli_backends(prog, bname, "kernel", &bs))
		return CLI_USAGE;
	return cli_for_each_backend(&bs, run_backend, &o);
}
