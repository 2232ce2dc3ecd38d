// SPDX-License-Identifier: MIT
/*
 * gil-handoff: two threads pass the GIL back and forth, and the latency of
 * every handoff is printed as it happens: a line per batch with its p50,
 * p90 and max.  The handoff latency is the time from the releaser's call
 * (gil_release or gil_yield) to the other thread's return from its acquire,
 * both read from CLOCK_MONOTONIC, each in its own thread.
 *
 * Two kinds of handoff, each on every backend asked for:
 *
 *  voluntary  the holder releases the GIL of its own accord while the other
 *             thread sleeps in gil_acquire (as around blocking I/O); the
 *             releaser waits for the other to have the GIL before it asks
 *             for it again, so it never takes it back first.  This is the
 *             cost of one wake-up through the GIL.
 *  forced     both threads run an eval loop; the waiter posts a drop request
 *             once it has waited a switch interval, and the holder answers
 *             it at a backward jump with gil_yield (drop, handshake, take).
 *             This is the cost of CPython's forced switch.
 *
 * The latency samples live in memory that only the GIL protects: the
 * thread that has just acquired the GIL records its handoff, and prints
 * the batch when it is full.
 *
 * usage: gil-handoff [-b backend|all] [-m voluntary|forced|both] [-n count]
 *                    [-c batches] [-i interval_s] [-H hold_us]
 * Exit: 0 on success, 1 on a libgil error, 2 on usage.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/run.h"

/* The command line's bounds: the samples of a run are kept in memory. */
#define MAX_BATCH 1000000
#define MAX_BATCHES 1000
#define MAX_HANDOFFS 10000000
#define MAX_HOLD_US 1000000

enum mode { VOLUNTARY, FORCED };

struct pingpong;

struct player {
	struct pingpong *pp;
	int id;
	pthread_t tid;
	_Atomic int os_tid;		/* for /proc/self/task/TID/stat */
	int err;
	struct gil_tstate *ts;
};

struct pingpong {
	struct gil *gil;
	enum mode mode;
	int batch, nbatches;		/* handoffs per batch, batches */
	int64_t hold_ns;		/* voluntary: hold before releasing */
	bool proc;			/* /proc tells whether a thread sleeps */
	struct player *pl;		/* the two players */

	/* Written before a release, read after the matching acquire. */
	_Atomic int64_t released_at;
	/* voluntary: who holds the GIL (after its acquire returned) */
	_Atomic int turn;
	/* voluntary: the thread that is about to wait in gil_acquire */
	_Atomic int waiting;
	atomic_bool done;

	/* Protected by the GIL. */
	int64_t *lat;
	int n;				/* samples in the current batch */
	int batches_done;
	int64_t t0, batch_t0;
	int64_t all_max;
	int64_t *all;			/* every sample, for the summary */
	int nall;
};

/*
 * Record the handoff that just gave the caller the GIL, released at
 * @released_at; print the batch when it is full.  Under the GIL.
 * Returns true when every batch is done.
 */
static bool record(struct pingpong *pp, int64_t released_at, int64_t now)
{
	int64_t p50, p90, max;
	char b1[32], b2[32], b3[32];

	pp->lat[pp->n++] = now - released_at;
	pp->all[pp->nall++] = now - released_at;
	if (pp->n < pp->batch)
		return false;
	percentiles(pp->lat, (size_t)pp->n, &p50, &p90, &max);
	if (max > pp->all_max)
		pp->all_max = max;
	pp->batches_done++;
	printf("  %-9s batch %2d: %4d handoffs in %6.3f s   p50 %10s   p90 %10s   max %10s\n",
	       pp->mode == VOLUNTARY ? "voluntary" : "forced", pp->batches_done,
	       pp->n, (double)(now - pp->batch_t0) / 1e9,
	       fmt_ns(b1, sizeof(b1), (double)p50),
	       fmt_ns(b2, sizeof(b2), (double)p90),
	       fmt_ns(b3, sizeof(b3), (double)max));
	fflush(stdout);
	pp->n = 0;
	pp->batch_t0 = now_ns();
	if (pp->batches_done < pp->nbatches)
		return false;
	atomic_store(&pp->done, true);
	return true;
}

static void spin_until_ns(int64_t t)
{
	while (now_ns() < t)
		;
}

/* Whether the thread @tid of this process is asleep ('S' or 'D'). */
static bool task_asleep(int tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;		/* cannot tell: go on */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = 0;
	p = strrchr(buf, ')');		/* the state follows "(comm) " */
	return !p || p[1] != ' ' || p[2] == 'S' || p[2] == 'D';
}

/*
 * voluntary: the holder waits until the other thread sleeps in gil_acquire
 * (its state in /proc is 'S' after it said it was on its way there), and
 * releases; the other returns from gil_acquire and records the handoff.
 * Then the roles swap.
 */
static int play_voluntary(struct player *me)
{
	struct pingpong *pp = me->pp;
	int other = !me->id, ret;

	if (me->id == 0) {
		ret = gil_acquire(me->ts);
		if (ret)
			return ret;
		atomic_store(&pp->turn, 0);
	} else {
		while (atomic_load(&pp->turn) != 0) {
			if (atomic_load(&pp->done))
				return 0;
			sched_yield();
		}
	}
	for (;;) {
		if (atomic_load(&pp->turn) != me->id) {
			/* The other holds the GIL: wait for it, asleep. */
			atomic_store(&pp->waiting, me->id);
			ret = gil_acquire(me->ts);
			if (ret)
				return ret;
			int64_t now = now_ns();

			atomic_store(&pp->turn, me->id);
			if (atomic_load(&pp->done) ||
			    record(pp, atomic_load(&pp->released_at), now)) {
				/* Let the other out of its acquire. */
				return gil_release(me->ts);
			}
		}
		/* Holding the GIL: wait until the other sleeps in its acquire. */
		while (atomic_load(&pp->waiting) != other ||
		       (pp->proc && !task_asleep(atomic_load(&pp->pl[other].os_tid)))) {
			if (atomic_load(&pp->done))
				return gil_release(me->ts);
			sched_yield();
		}
		if (pp->hold_ns)
			spin_until_ns(now_ns() + pp->hold_ns);
		atomic_store(&pp->waiting, -1);
		atomic_store(&pp->released_at, now_ns());
		ret = gil_release(me->ts);
		if (ret)
			return ret;
		/* Do not take it back before the other has it. */
		while (atomic_load(&pp->turn) != other) {
			if (atomic_load(&pp->done))
				return 0;
			sched_yield();
		}
	}
}

/*
 * forced: an eval loop.  At every backward jump a pending drop request is
 * answered with gil_yield; whoever comes back from an acquire or a yield
 * that waited for the other's release records that handoff.
 */
static int play_forced(struct player *me)
{
	struct pingpong *pp = me->pp;
	int64_t wait_start = now_ns(), released_at, now;
	int ret = gil_acquire(me->ts);
	volatile long x = 0;

	for (;;) {
		if (ret)
			return ret;
		now = now_ns();
		released_at = atomic_load(&pp->released_at);
		if (atomic_load(&pp->done))
			return gil_release(me->ts);
		/* A handoff from the other thread, released while we waited. */
		if (released_at > wait_start && record(pp, released_at, now))
			return gil_release(me->ts);
		for (;;) {
			x++;			/* the loop body */
			/* The backward jump: the eval breaker. */
			if (atomic_load_explicit(&pp->done, memory_order_relaxed))
				return gil_release(me->ts);
			if (!gil_drop_requested(me->ts))
				continue;
			wait_start = now_ns();
			atomic_store(&pp->released_at, wait_start);
			ret = gil_yield(me->ts);
			break;
		}
	}
}

static void *player_main(void *arg)
{
	struct player *me = arg;
	struct pingpong *pp = me->pp;

	atomic_store(&me->os_tid, (int)syscall(SYS_gettid));
	me->err = attach_new(pp->gil, &me->ts);
	if (!me->err) {
		if (pp->mode == VOLUNTARY)
			me->err = play_voluntary(me);
		else
			me->err = play_forced(me);
		detach_free(me->ts);
	}
	if (me->err)
		atomic_store(&pp->done, true);
	return NULL;
}

static int run(enum gil_backend backend, enum mode mode, int batch,
	       int nbatches, double interval, int64_t hold_ns)
{
	struct player pl[2];
	struct pingpong pp = { .mode = mode, .batch = batch,
			       .nbatches = nbatches, .hold_ns = hold_ns,
			       .pl = pl };
	struct gil_stats st;
	int ret, status = 0;
	double iv;

	/* main() takes only intervals > 0: forced handoffs always set it. */
	if (cli_open_gil("gil-handoff", &pp.gil, backend,
			 mode == FORCED ? interval : 0))
		return 1;
	gil_get_switch_interval(pp.gil, &iv);
	pp.lat = calloc((size_t)batch, sizeof(*pp.lat));
	pp.all = calloc((size_t)batch * (size_t)nbatches, sizeof(*pp.all));
	if (!pp.lat || !pp.all) {
		free(pp.lat);
		free(pp.all);
		gil_close(pp.gil);
		return 1;
	}
	if (mode == VOLUNTARY)
		printf("backend %s, voluntary handoffs: the holder releases, the other was sleeping in gil_acquire\n",
		       gil_backend_name(backend));
	else
		printf("backend %s, forced handoffs: drop request after a %.3f ms switch interval, answered by gil_yield\n",
		       gil_backend_name(backend), iv * 1e3);
	fflush(stdout);

	atomic_init(&pp.released_at, 0);
	atomic_init(&pp.turn, -1);
	atomic_init(&pp.waiting, -1);
	atomic_init(&pp.done, false);
	pp.proc = !access("/proc/self/task", F_OK);
	if (!pp.proc && !hold_ns)
		pp.hold_ns = 1000000;	/* cannot see it sleep: give it 1 ms */
	pp.t0 = pp.batch_t0 = now_ns();
	for (int i = 0; i < 2; i++) {
		pl[i] = (struct player){ .pp = &pp, .id = i };
		ret = pthread_create(&pl[i].tid, NULL, player_main, &pl[i]);
		if (ret) {
			fprintf(stderr, "gil-handoff: pthread_create: %s\n",
				strerror(ret));
			atomic_store(&pp.done, true);
			if (i)
				pthread_join(pl[0].tid, NULL);
			free(pp.lat);
			free(pp.all);
			gil_close(pp.gil);
			return 1;
		}
	}
	for (int i = 0; i < 2; i++) {
		pthread_join(pl[i].tid, NULL);
		if (pl[i].err) {
			fprintf(stderr, "gil-handoff: thread %d: %s\n", i,
				strerror(-pl[i].err));
			status = 1;
		}
	}

	if (!status && pp.nall) {
		int64_t p50, p90, max;
		char b1[32], b2[32], b3[32], b4[32], b5[32];
		uint64_t hist_n = 0, acc = 0;
		int med_bucket = 0;

		percentiles(pp.all, (size_t)pp.nall, &p50, &p90, &max);
		ret = gil_get_stats(pp.gil, &st);
		if (ret) {
			fprintf(stderr, "gil-handoff: gil_get_stats: %s\n", strerror(-ret));
			status = 1;
		} else {
			/* The GIL's own handoff histogram, for comparison. */
			for (int i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
				hist_n += st.handoff_ns_hist[i];
			for (int i = 0; i < GIL_STATS_HIST_BUCKETS && hist_n; i++) {
				acc += st.handoff_ns_hist[i];
				if (2 * acc >= hist_n) {
					med_bucket = i;
					break;
				}
			}
			printf("  %-9s all %4d: p50 %s, p90 %s, max %s; the GIL's own histogram: median in [%s, %s), switch_number %llu, forced switches %llu\n",
			       mode == VOLUNTARY ? "voluntary" : "forced", pp.nall,
			       fmt_ns(b1, sizeof(b1), (double)p50),
			       fmt_ns(b2, sizeof(b2), (double)p90),
			       fmt_ns(b3, sizeof(b3), (double)max),
			       fmt_ns(b4, sizeof(b4), (double)(1ULL << med_bucket)),
			       fmt_ns(b5, sizeof(b5), (double)(2ULL << med_bucket)),
			       (unsigned long long)st.switch_number,
			       (unsigned long long)st.forced_switches);
		}
	}
	fflush(stdout);
	free(pp.lat);
	free(pp.all);
	ret = gil_close(pp.gil);
	if (ret) {
		fprintf(stderr, "gil-handoff: gil_close: %s\n", strerror(-ret));
		status = 1;
	}
	return status;
}

static const char prog[] = "gil-handoff";

static void usage(void)
{
	printf("usage: gil-handoff [-b backend|all] [-m voluntary|forced|both] [-n count] [-c batches]\n"
	       "                   [-i interval_s] [-H hold_us]\n"
	       "  Two threads pass the GIL back and forth; a line per batch gives the\n"
	       "  handoff latency (release call -> the other's acquire returns).\n"
	       "  -b  kernel, cpython, futex or all (default: $GIL_BACKEND, else kernel;\n"
	       "      all skips kernel when /dev/gil does not exist)\n"
	       "  -m  which handoffs (default both)\n"
	       "  -n  handoffs per batch, 1..%d (default 200)\n"
	       "  -c  batches per backend and kind, 1..%d (default 5);\n"
	       "      at most %d handoffs in all\n"
	       "  -i  switch interval in seconds, for forced handoffs, up to 3600\n"
	       "      (default 0.001)\n"
	       "  -H  voluntary: how long the holder keeps the GIL once the other\n"
	       "      sleeps in gil_acquire, in microseconds, 0..%d (default 0)\n"
	       "  -h, --help  this help\n"
	       "Exit: 0 on success, 1 on a libgil error, 2 on usage.\n",
	       MAX_BATCH, MAX_BATCHES, MAX_HANDOFFS, MAX_HOLD_US);
}

/* The command line, and the runs' status so far. */
struct options {
	const char *mode;
	int batch, nbatches, hold_us;
	double interval;
	int status;
};

/* -m */
static int parse_mode(int key, const char *arg, void *value)
{
	if (strcmp(arg, "voluntary") && strcmp(arg, "forced") &&
	    strcmp(arg, "both"))
		return cli_bad_value(prog, key, arg,
				     "a kind of handoff (voluntary, forced, both)");
	*(const char **)value = arg;
	return 0;
}

/* The kinds asked for, on one backend; none once a run failed. */
static int run_backend(enum gil_backend backend, void *arg)
{
	struct options *o = arg;

	if (strcmp(o->mode, "forced"))
		o->status |= run(backend, VOLUNTARY, o->batch, o->nbatches,
				 o->interval, o->hold_us * 1000LL);
	if (!o->status && strcmp(o->mode, "voluntary"))
		o->status |= run(backend, FORCED, o->batch, o->nbatches,
				 o->interval, 0);
	return o->status;
}

int main(int argc, char **argv)
{
	struct options o = { .mode = "both", .batch = 200, .nbatches = 5,
			     .interval = 0.001 };
	const char *bname = NULL;
	const struct cli_option opts[] = {
		CLI_OPT_STRING('b', &bname),
		CLI_OPT_PARSE('m', CLI_STRING, &o.mode, parse_mode),
		CLI_OPT_INT('n', &o.batch, "a count of handoffs per batch",
			    1, MAX_BATCH),
		CLI_OPT_INT('c', &o.nbatches, "a count of batches", 1,
			    MAX_BATCHES),
		CLI_OPT_INTERVAL('i', &o.interval),
		CLI_OPT_INT('H', &o.hold_us, "a hold time in microseconds", 0,
			    MAX_HOLD_US),
		CLI_OPT_END,
	};
	const struct cli cli = { prog, usage, opts, false };
	struct cli_backends bs;

	cli_parse(&cli, argc, argv);
	if ((long)o.batch * o.nbatches > MAX_HANDOFFS)
		return cli_usage_error(prog, "-n %d -c %d: %ld handoffs, more than %d",
				       o.batch, o.nbatches,
				       (long)o.batch * o.nbatches, MAX_HANDOFFS);
	if (cli_backends(prog, bname, "kernel", &bs))
		return CLI_USAGE;
	return cli_for_each_backend(&bs, run_backend, &o);
}
