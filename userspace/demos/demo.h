/* SPDX-License-Identifier: MIT */
/*
 * demo.h: the pieces the demos, the benchmark, the interp example and
 * gilstat share: the clock, duration formatting, percentiles, option
 * parsing and usage errors, backend selection, opening a GIL and running a
 * thread under it.
 *
 * Header-only (static inline): a program is built from its own files only
 * (one .c, or gil-bench's folder).
 */
#ifndef KGIL_DEMO_H
#define KGIL_DEMO_H

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gil.h>

#define DEMO_NSEC_PER_SEC 1000000000LL

static inline int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * DEMO_NSEC_PER_SEC + t.tv_nsec;
}

static inline void sleep_ns(int64_t ns)
{
	struct timespec t = { ns / DEMO_NSEC_PER_SEC, ns % DEMO_NSEC_PER_SEC };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* "4.98 ms", "12.3 us": a duration in ns, 4 significant-ish digits. */
static inline const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static inline int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* p50, p90, max of @n > 0 samples; sorts them. */
static inline void percentiles(int64_t *v, size_t n, int64_t *p50,
			       int64_t *p90, int64_t *max)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	*p50 = v[(n - 1) / 2];
	*p90 = v[(n - 1) * 9 / 10];
	*max = v[n - 1];
}

/*
 * Command lines.  -h and --help print the usage on stdout and exit 0.  Bad
 * usage exits 2 (DEMO_USAGE) with nothing on stdout: a line on stderr that
 * names the option and quotes its value, "PROG: -t: 'abc' is not a thread
 * count (1..64)", then "Try 'PROG --help'.".
 */
#define DEMO_USAGE 2

/* getopt_long over @optstring, with --help as -h. */
static inline int demo_getopt(int argc, char **argv, const char *optstring)
{
	static const struct option help[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};

	return getopt_long(argc, argv, optstring, help, NULL);
}

/* After a message on stderr, getopt's own included.  Returns DEMO_USAGE. */
static inline int try_help(const char *prog)
{
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return DEMO_USAGE;
}

/* "PROG: MESSAGE", then try_help(). */
static inline int __attribute__((format(printf, 2, 3)))
bad_usage(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return try_help(prog);
}

/* "PROG: -OPT: 'VAL' is not WHAT", WHAT from @fmt; then try_help(). */
static inline int __attribute__((format(printf, 4, 5)))
bad_value(const char *prog, int opt, const char *val, const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return bad_usage(prog, "-%c: '%s' is not %s", opt, val, what);
}

/* No operands after the options: 0, or DEMO_USAGE after saying so. */
static inline int no_operands(const char *prog, int argc, char **argv)
{
	if (optind == argc)
		return 0;
	return bad_usage(prog, "'%s': unexpected argument", argv[optind]);
}

/* Option values: the whole of @s, else false (and *v untouched). */
static inline bool parse_positive(const char *s, double *v)
{
	char *endp;
	double x = strtod(s, &endp);

	if (endp == s || *endp || !(x > 0) || !isfinite(x))
		return false;
	*v = x;
	return true;
}

/* A switch interval in seconds, as gil_set_switch_interval takes it. */
#define DEMO_INTERVAL_RANGE "a switch interval in seconds (0 < s <= 3600)"

static inline bool parse_interval(const char *s, double *v)
{
	double x;

	if (!parse_positive(s, &x) || x * 1e6 > (double)GIL_INTERVAL_MAX_US)
		return false;
	*v = x;
	return true;
}

static inline bool parse_long(const char *s, long lo, long hi, long *v)
{
	char *endp;
	long x;

	errno = 0;
	x = strtol(s, &endp, 10);
	if (endp == s || *endp || errno || x < lo || x > hi)
		return false;
	*v = x;
	return true;
}

static inline bool parse_int(const char *s, int lo, int hi, int *v)
{
	long x;

	if (!parse_long(s, lo, hi, &x))
		return false;
	*v = (int)x;
	return true;
}

/*
 * The backend named @bname, or every one for "all": sets [*first, *last].
 * @from says where the name came from: "-b", or "$GIL_BACKEND".  Returns
 * 0, or DEMO_USAGE after saying why.
 */
static inline int backend_range(const char *prog, const char *from,
				const char *bname, int *first, int *last)
{
	if (!strcmp(bname, "all")) {
		*first = GIL_BACKEND_KERNEL;
		*last = GIL_BACKEND_FUTEX;
		return 0;
	}
	*first = *last = gil_backend_from_name(bname);
	if (*first < 0)
		return bad_usage(prog, "%s: '%s' is not a backend (kernel, cpython, futex, all)",
				 from, bname);
	return 0;
}

/* With -b all: the kernel backend is skipped when gil.ko is not loaded. */
static inline bool kernel_missing(int backend)
{
	return backend == GIL_BACKEND_KERNEL && access("/dev/gil", F_OK);
}

/*
 * In the loop over backend_range()'s [@first, @last]: true, after saying
 * so, for a backend to pass over (the kernel's, in a range, without
 * gil.ko).
 */
static inline bool skip_backend(int backend, int first, int last)
{
	if (first == last || !kernel_missing(backend))
		return false;
	printf("backend kernel: skipped, no /dev/gil (gil.ko not loaded)\n\n");
	return true;
}

/*
 * gil_open, then the switch interval when @interval > 0; says what failed.
 * Returns 0, or 1 (the error exit code) with nothing left open.
 */
static inline int open_demo_gil(const char *prog, struct gil **gil,
				enum gil_backend backend, double interval)
{
	int ret = gil_open(gil, backend);

	if (ret) {
		fprintf(stderr, "%s: gil_open(%s): %s%s\n", prog,
			gil_backend_name(backend), strerror(-ret),
			ret == -ENOENT ? " (is gil.ko loaded?)" : "");
		return 1;
	}
	if (interval > 0 && (ret = gil_set_switch_interval(*gil, interval))) {
		fprintf(stderr, "%s: switch interval: %s\n", prog, strerror(-ret));
		gil_close(*gil);
		return 1;
	}
	return 0;
}

/* A new thread state, attached to the calling thread; freed on failure. */
static inline int attach_new(struct gil *gil, struct gil_tstate **ts)
{
	int ret = gil_tstate_new(gil, ts);

	if (ret)
		return ret;
	ret = gil_tstate_attach(*ts);
	if (ret)
		gil_tstate_free(*ts);
	return ret;
}

static inline void detach_free(struct gil_tstate *ts)
{
	gil_tstate_detach(ts);
	gil_tstate_free(ts);
}

/*
 * The life of an interpreter thread: a thread state, the GIL, @body under
 * it, the GIL released, the thread state gone.  Returns 0 or a libgil error.
 */
static inline int run_holding_gil(struct gil *gil,
				  int (*body)(struct gil_tstate *ts, void *arg),
				  void *arg)
{
	struct gil_tstate *ts;
	int ret = attach_new(gil, &ts);

	if (ret)
		return ret;
	ret = gil_acquire(ts);
	if (!ret) {
		ret = body(ts, arg);
		gil_release(ts);
	}
	detach_free(ts);
	return ret;
}

#endif /* KGIL_DEMO_H */
