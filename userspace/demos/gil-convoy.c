// SPDX-License-Identifier: MIT
/*
 * gil-convoy: Beazley's convoy effect (bpo-7946), per GIL backend.
 *
 * An I/O thread runs request after request: it sends one byte to a peer and
 * blocks in read() for the reply, releasing the GIL around each of the two
 * calls as CPython's socket.send() and socket.recv() do, then holds the GIL
 * again to "process" the reply (a short bytecode loop).  The peer is a
 * thread that never touches the GIL, at the other end of a socketpair: the
 * I/O thread really blocks, its reply only comes after a wake-up.
 *
 * The peer answers after an echo delay (-e, 200 us by default), as a
 * server takes its time.  Without it the echo can be back before the CPU
 * thread that the I/O thread's release of the GIL woke has run: the I/O
 * thread takes the GIL back as if no one waited, and the convoy comes and
 * goes (the same row read 12 us in one run and 10.3 ms in the next, on a
 * 2-CPU host and in the TCG guest alike).  200 us leaves a woken thread
 * time to run on hardware, where a wake-up takes tens of us, and in a slow
 * VM; the round trip alone (0 CPU threads) grows by about as much: 45 us
 * to 0.3 ms on that host, 55 us to 0.54 ms in the guest.
 *
 * Its response time, from the send to holding the GIL again after the
 * reply, is measured with 0, 1, 2 and 4 CPU-bound threads running an eval
 * loop beside it.  Alone, a request costs two wake-ups and the echo delay.
 * With CPU threads, every release of the GIL lets one of them take it, and
 * the I/O thread gets it back only once it has waited out a switch
 * interval and its drop request was answered (and, with several CPU
 * threads, only if it wins the race for the GIL that follows): a request
 * costs about one interval per GIL release it loses (the release around
 * read() always, the one around the short send() when a CPU thread runs
 * in time), times the number of races lost.
 *
 * usage: gil-convoy [-b backend|all] [-d seconds] [-c list] [-i interval_s]
 *                   [-e echo_delay_us]
 * Exit: 0 on success, 1 on a libgil error, 2 on usage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/cli.h"
#include "../common/run.h"

#define MAX_CPU 16
#define MAX_ROWS 8
#define PROCESS_LOOPS 200	/* bytecode iterations to "process" a reply */
#define ECHO_DELAY_US 200	/* -e: the peer's default reply delay */
#define MAX_ECHO_DELAY_US 1000000

struct row {
	int ncpu;
	size_t requests;
	double seconds;
	int64_t p50, p90, max;
	uint64_t cpu_loops;
	uint64_t switches;
};

struct convoy;

struct cpu_thread {
	struct convoy *c;
	pthread_t tid;
	int err;
	_Alignas(64) _Atomic uint64_t loops;
};

/* What every measurement takes from the command line. */
struct params {
	double seconds;			/* per row */
	double interval;		/* 0: the GIL's own */
	int64_t echo_delay_ns;
};

/* The command line, and the rows of each backend that ran. */
struct options {
	int ncpus[MAX_ROWS], nrows;
	struct params p;
	struct row rows[3][MAX_ROWS];
	enum gil_backend ran[3];
	int nran;
};

struct convoy {
	struct gil *gil;
	atomic_bool stop;		/* ends the CPU threads */
	int sock[2];			/* [0] the I/O thread's, [1] the peer's */
	int64_t duration_ns;
	int64_t echo_delay_ns;
	int64_t *samples;
	size_t nsamples, cap;
	int io_err;
	struct cpu_thread cpu[MAX_CPU];
};

/*
 * A small eval loop: count @n down (forever when n < 0), checking the eval
 * breaker at the backward jump.  Returns 0 or a libgil error.
 */
static int eval_loop(struct gil_tstate *ts, long n, const atomic_bool *stop,
		     _Atomic uint64_t *loops)
{
	long i = 0;
	int ret;

	for (;;) {
		i++;
		if (loops)
			atomic_store_explicit(loops, (uint64_t)i,
					      memory_order_relaxed);
		if (n >= 0 && i >= n)
			return 0;
		/* The backward jump. */
		if (stop && atomic_load_explicit(stop, memory_order_relaxed))
			return 0;
		ret = gil_check(ts);
		if (ret < 0)
			return ret;
	}
}

static int cpu_body(struct gil_tstate *ts, void *arg)
{
	struct cpu_thread *t = arg;

	return eval_loop(ts, -1, &t->c->stop, &t->loops);
}

static void *cpu_main(void *arg)
{
	struct cpu_thread *t = arg;

	t->err = run_holding_gil(t->c->gil, cpu_body, t);
	return NULL;
}

/* The peer: echoes every byte after the echo delay, never touches the GIL. */
static void *peer_main(void *arg)
{
	struct convoy *c = arg;
	char byte;

	while (read(c->sock[1], &byte, 1) == 1) {
		if (c->echo_delay_ns)
			sleep_ns(c->echo_delay_ns);
		if (write(c->sock[1], &byte, 1) != 1)
			break;
	}
	return NULL;
}

static int record(struct convoy *c, int64_t ns)
{
	if (c->nsamples == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 4096;
		int64_t *s = realloc(c->samples, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		c->samples = s;
		c->cap = cap;
	}
	c->samples[c->nsamples++] = ns;
	return 0;
}

/* The I/O thread's requests, for c->duration_ns, under the GIL. */
static int io_body(struct gil_tstate *ts, void *arg)
{
	struct convoy *c = arg;
	int64_t end, t0;
	ssize_t n = 1;
	char byte = 'x';
	int ret = 0;

	end = now_ns() + c->duration_ns;
	while (!ret && (t0 = now_ns()) < end) {
		/* sock.send(b"x") */
		GIL_BEGIN_ALLOW_THREADS(ts)
		n = write(c->sock[0], &byte, 1);
		GIL_END_ALLOW_THREADS(ts)
		if (n != 1)
			break;
		/* sock.recv(1): blocks until the peer has answered. */
		GIL_BEGIN_ALLOW_THREADS(ts)
		n = read(c->sock[0], &byte, 1);
		GIL_END_ALLOW_THREADS(ts)
		if (n != 1)
			break;
		ret = record(c, now_ns() - t0);
		/* Process the reply, under the GIL. */
		if (!ret)
			ret = eval_loop(ts, PROCESS_LOOPS, NULL, NULL);
	}
	if (n != 1 && !ret) {
		fprintf(stderr, "gil-convoy: the peer: %s\n",
			n < 0 ? strerror(errno) : "connection closed");
		ret = -EIO;
	}
	return ret;
}

/* The I/O thread; runs on the caller. */
static int io_requests(struct convoy *c)
{
	return run_holding_gil(c->gil, io_body, c);
}

/* One measurement: a fresh GIL, @ncpu CPU threads, the I/O thread. */
static int measure(enum gil_backend backend, const struct params *p,
		   struct row *row)
{
	struct convoy *c;
	struct gil_stats st;
	pthread_t peer;
	int64_t t0, t1;
	int ret, ncpu = row->ncpu, started = 0;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->duration_ns = (int64_t)(p->seconds * 1e9);
	c->echo_delay_ns = p->echo_delay_ns;
	ret = gil_open(&c->gil, backend);
	if (ret)
		goto out_free;
	if (p->interval > 0 &&
	    (ret = gil_set_switch_interval(c->gil, p->interval)))
		goto out_close;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c->sock)) {
		ret = -errno;
		goto out_close;
	}
	ret = pthread_create(&peer, NULL, peer_main, c);
	if (ret) {
		ret = -ret;
		goto out_sock;
	}
	for (; started < ncpu; started++) {
		c->cpu[started].c = c;
		ret = pthread_create(&c->cpu[started].tid, NULL, cpu_main,
				     &c->cpu[started]);
		if (ret) {
			ret = -ret;
			break;
		}
	}
	if (!ret) {
		/* Let the CPU threads get going before the first request. */
		struct timespec ms = { 0, 20 * 1000000 };

		nanosleep(&ms, NULL);
		t0 = now_ns();
		ret = io_requests(c);
		t1 = now_ns();
		row->seconds = (double)(t1 - t0) / 1e9;
	}
	atomic_store(&c->stop, true);
	for (int i = 0; i < started; i++) {
		pthread_join(c->cpu[i].tid, NULL);
		row->cpu_loops += atomic_load(&c->cpu[i].loops);
		if (c->cpu[i].err && !ret)
			ret = c->cpu[i].err;
	}
	shutdown(c->sock[0], SHUT_WR);		/* the peer's read sees EOF */
	pthread_join(peer, NULL);
	if (!ret && !(ret = gil_get_stats(c->gil, &st)))
		row->switches = st.switch_number;

	row->requests = c->nsamples;
	if (c->nsamples)
		percentiles(c->samples, c->nsamples, &row->p50, &row->p90,
			    &row->max);
	free(c->samples);
out_sock:
	close(c->sock[0]);
	close(c->sock[1]);
out_close:
	gil_close(c->gil);
out_free:
	free(c);
	return ret;
}

/* One backend's rows, kept for the summary when it ran. */
static int run_backend(enum gil_backend backend, void *arg)
{
	struct options *o = arg;
	const struct params *p = &o->p;
	struct row *rows = o->rows[o->nran];
	char b1[32], b2[32], b3[32];
	double iv = p->interval > 0 ? p->interval :
		    GIL_INTERVAL_DEFAULT_US * 1e-6;
	int ret;

	printf("backend %s: switch interval %.3f ms, %.2f s per row\n",
	       gil_backend_name(backend), iv * 1e3, p->seconds);
	printf("  CPU threads  requests    req/s      median         p90         max  CPU Mloops/s  switches\n");
	fflush(stdout);
	for (int i = 0; i < o->nrows; i++) {
		struct row *r = &rows[i];

		*r = (struct row){ .ncpu = o->ncpus[i] };
		ret = measure(backend, p, r);
		if (ret) {
			fprintf(stderr, "gil-convoy: %s backend, %d CPU threads: %s%s\n",
				gil_backend_name(backend), r->ncpu, strerror(-ret),
				ret == -ENOENT ? " (is gil.ko loaded?)" : "");
			return 1;
		}
		printf("  %11d  %8zu  %7.0f  %10s  %10s  %10s  %12.2f  %8llu\n",
		       r->ncpu, r->requests, (double)r->requests / r->seconds,
		       fmt_ns(b1, sizeof(b1), (double)r->p50),
		       fmt_ns(b2, sizeof(b2), (double)r->p90),
		       fmt_ns(b3, sizeof(b3), (double)r->max),
		       (double)r->cpu_loops / r->seconds / 1e6,
		       (unsigned long long)r->switches);
		fflush(stdout);
	}
	o->ran[o->nran++] = backend;
	return 0;
}

static const char prog[] = "gil-convoy";

static void usage(void)
{
	printf("usage: gil-convoy [-b backend|all] [-d seconds] [-c list] [-i interval_s] [-e echo_delay_us]\n"
	       "  Beazley's convoy effect: the response time of an I/O thread that\n"
	       "  blocks on a socket peer, beside 0, 1, 2, 4 CPU-bound threads.\n"
	       "  -b  kernel, cpython, futex or all (default: $GIL_BACKEND, else all;\n"
	       "      all skips kernel when /dev/gil does not exist)\n"
	       "  -d  seconds per measurement (default 0.5)\n"
	       "  -c  CPU thread counts, comma-separated, each 0..%d, at most %d\n"
	       "      (default 0,1,2,4)\n"
	       "  -i  switch interval in seconds, up to 3600 (default: the GIL's, 0.005)\n"
	       "  -e  how long the peer takes to answer, in microseconds, 0..%d\n"
	       "      (default %d): long enough for a CPU thread to take the GIL\n"
	       "      while the I/O thread waits for the reply, as it does when a\n"
	       "      server takes its time; with 0 a fast machine may answer before\n"
	       "      the CPU thread runs, and the convoy comes and goes\n"
	       "  -h, --help  this help\n"
	       "Exit: 0 on success, 1 on a libgil error, 2 on usage.\n",
	       MAX_CPU, MAX_ROWS, MAX_ECHO_DELAY_US, ECHO_DELAY_US);
}

/* -c: the CPU thread counts, into struct options' ncpus and nrows. */
static int parse_list(int key, const char *arg, void *value)
{
	struct options *o = value;
	const char *s = arg;
	char *endp;
	int n = 0;

	for (;;) {
		long x = strtol(s, &endp, 10);

		if (endp == s || x < 0 || x > MAX_CPU || n == MAX_ROWS)
			break;
		o->ncpus[n++] = (int)x;
		if (!*endp) {
			o->nrows = n;
			return 0;
		}
		if (*endp != ',')
			break;
		s = endp + 1;
	}
	return cli_bad_value(prog, key, arg,
			     "a list of at most %d CPU thread counts, each 0..%d",
			     MAX_ROWS, MAX_CPU);
}

/*
 * Every backend asked for opens, and takes the interval, before anything
 * is printed: one that cannot ends the run at once.  Returns 0 or 1.
 */
static int probe_backends(const struct cli_backends *bs, double interval)
{
	struct gil *gil;

	for (int b = bs->first; b <= bs->last; b++) {
		if (cli_backend_absent(bs, b))
			continue;
		if (cli_open_gil(prog, &gil, (enum gil_backend)b, interval))
			return 1;
		gil_close(gil);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = {
		.ncpus = { 0, 1, 2, 4 }, .nrows = 4,
		.p = { .seconds = 0.5, .echo_delay_ns = ECHO_DELAY_US * 1000LL },
	};
	const char *bname = NULL;
	int echo_us = ECHO_DELAY_US;
	const struct cli_option opts[] = {
		CLI_OPT_STRING('b', &bname),
		CLI_OPT_DOUBLE('d', &o.p.seconds, "a duration in seconds", 0, 0),
		CLI_OPT_PARSE('c', CLI_STRING, &o, parse_list),
		CLI_OPT_INTERVAL('i', &o.p.interval),
		CLI_OPT_INT('e', &echo_us, "an echo delay in microseconds", 0,
			    MAX_ECHO_DELAY_US),
		CLI_OPT_END,
	};
	const struct cli cli = { prog, usage, opts, false };
	struct cli_backends bs;
	int status;

	cli_parse(&cli, argc, argv);
	o.p.echo_delay_ns = echo_us * 1000LL;
	if (cli_backends(prog, bname, "all", &bs))
		return CLI_USAGE;
	if (probe_backends(&bs, o.p.interval))
		return 1;
	printf("gil-convoy: an I/O thread sends a byte to a peer thread and blocks in read()\n"
	       "for the echo, which the peer sends %.3f ms later; the I/O thread releases the\n"
	       "GIL around both calls.  Its response time runs from the send to holding the\n"
	       "GIL again after the reply.  Beside it, CPU threads run an eval loop.\n"
	       "0 CPU threads: the round trip alone, the echo delay included.\n\n",
	       (double)o.p.echo_delay_ns / 1e6);
	status = cli_for_each_backend(&bs, run_backend, &o);
	if (o.nran > 1) {
		char buf[32];

		printf("median response time, by CPU threads beside the I/O thread:\n  %-8s", "backend");
		for (int i = 0; i < o.nrows; i++)
			printf("  %8d CPU", o.ncpus[i]);
		putchar('\n');
		for (int j = 0; j < o.nran; j++) {
			printf("  %-8s", gil_backend_name(o.ran[j]));
			for (int i = 0; i < o.nrows; i++)
				printf("  %12s", fmt_ns(buf, sizeof(buf),
							(double)o.rows[j][i].p50));
			putchar('\n');
		}
	}
	return status;
}
