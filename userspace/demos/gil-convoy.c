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
 * Its response time, from the send to holding the GIL again after the
 * reply, is measured with 0, 1, 2 and 4 CPU-bound threads running an eval
 * loop beside it.  Alone, a request costs two wake-ups.  With CPU threads,
 * every release of the GIL lets one of them take it, and the I/O thread
 * gets it back only once it has waited out a switch interval and its drop
 * request was answered (and, with several CPU threads, only if it wins the
 * race for the GIL that follows): a request costs about one interval per
 * GIL release, times the number of races lost.
 *
 * usage: gil-convoy [-b backend|all] [-d seconds] [-c list] [-i interval_s]
 * Exit: 0 on success, 1 on a libgil error, 2 on usage.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "demo.h"

#define MAX_CPU 16
#define MAX_ROWS 8
#define PROCESS_LOOPS 200	/* bytecode iterations to "process" a reply */

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

struct convoy {
	struct gil *gil;
	atomic_bool stop;		/* ends the CPU threads */
	int sock[2];			/* [0] the I/O thread's, [1] the peer's */
	int64_t duration_ns;
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

/* The peer: echoes every byte, never touches the GIL. */
static void *peer_main(void *arg)
{
	struct convoy *c = arg;
	char byte;

	while (read(c->sock[1], &byte, 1) == 1)
		if (write(c->sock[1], &byte, 1) != 1)
			break;
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
static int measure(enum gil_backend backend, double interval, double seconds,
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
	c->duration_ns = (int64_t)(seconds * 1e9);
	ret = gil_open(&c->gil, backend);
	if (ret)
		goto out_free;
	if (interval > 0 && (ret = gil_set_switch_interval(c->gil, interval)))
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

static int run_backend(enum gil_backend backend, const int *ncpus, int nrows,
		       double seconds, double interval, struct row *rows)
{
	char b1[32], b2[32], b3[32];
	double iv = interval > 0 ? interval : GIL_INTERVAL_DEFAULT_US * 1e-6;
	int ret;

	printf("backend %s: switch interval %.3f ms, %.2f s per row\n",
	       gil_backend_name(backend), iv * 1e3, seconds);
	printf("  CPU threads  requests    req/s      median         p90         max  CPU Mloops/s  switches\n");
	fflush(stdout);
	for (int i = 0; i < nrows; i++) {
		struct row *r = &rows[i];

		*r = (struct row){ .ncpu = ncpus[i] };
		ret = measure(backend, interval, seconds, r);
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
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: gil-convoy [-b backend|all] [-d seconds] [-c list] [-i interval_s]\n"
		"  Beazley's convoy effect: the response time of an I/O thread that\n"
		"  blocks on a socket peer, beside 0, 1, 2, 4 CPU-bound threads.\n"
		"  -b  kernel, cpython, futex or all (default: $GIL_BACKEND, else all;\n"
		"      all skips kernel when /dev/gil does not exist)\n"
		"  -d  seconds per measurement (default 0.5)\n"
		"  -c  CPU thread counts, comma-separated, each 0..%d (default 0,1,2,4)\n"
		"  -i  switch interval in seconds (default: the GIL's, 0.005)\n",
		MAX_CPU);
}

static int parse_list(const char *s, int *v, int max_n)
{
	int n = 0;
	char *endp;

	for (;;) {
		long x = strtol(s, &endp, 10);

		if (endp == s || x < 0 || x > MAX_CPU || n == max_n)
			return -1;
		v[n++] = (int)x;
		if (!*endp)
			return n;
		if (*endp != ',')
			return -1;
		s = endp + 1;
	}
}

int main(int argc, char **argv)
{
	const char *bname = getenv("GIL_BACKEND");
	int ncpus[MAX_ROWS] = { 0, 1, 2, 4 }, nrows = 4, opt, status = 0;
	double seconds = 0.5, interval = 0;
	struct row rows[3][MAX_ROWS];
	enum gil_backend ran[3];
	int nran = 0, first, last;

	while ((opt = getopt(argc, argv, "b:d:c:i:h")) != -1) {
		switch (opt) {
		case 'b':
			bname = optarg;
			break;
		case 'd':
			if (!parse_positive(optarg, &seconds))
				goto bad;
			break;
		case 'c':
			nrows = parse_list(optarg, ncpus, MAX_ROWS);
			if (nrows < 1)
				goto bad;
			break;
		case 'i':
			if (!parse_positive(optarg, &interval))
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	if (!bname)
		bname = "all";
	printf("gil-convoy: an I/O thread sends a byte to a peer thread and blocks in read()\n"
	       "for the echo, releasing the GIL around both calls; its response time runs from\n"
	       "the send to holding the GIL again after the reply.  Beside it, CPU threads\n"
	       "run an eval loop.  0 CPU threads: the round trip alone.\n\n");
	if (backend_range("gil-convoy", bname, &first, &last))
		return 2;
	for (int b = first; b <= last; b++) {
		if (first != last && kernel_missing(b)) {
			printf("backend kernel: skipped, no /dev/gil (gil.ko not loaded)\n\n");
			continue;
		}
		if (run_backend((enum gil_backend)b, ncpus, nrows, seconds,
				interval, rows[nran])) {
			status = 1;
		} else {
			ran[nran++] = (enum gil_backend)b;
		}
		if (first != last)
			putchar('\n');
	}
	if (nran > 1) {
		char buf[32];

		printf("median response time, by CPU threads beside the I/O thread:\n  %-8s", "backend");
		for (int i = 0; i < nrows; i++)
			printf("  %8d CPU", ncpus[i]);
		putchar('\n');
		for (int j = 0; j < nran; j++) {
			printf("  %-8s", gil_backend_name(ran[j]));
			for (int i = 0; i < nrows; i++)
				printf("  %12s", fmt_ns(buf, sizeof(buf),
							(double)rows[j][i].p50));
			putchar('\n');
		}
	}
	return status;
bad:
	usage(stderr);
	return 2;
}
