// SPDX-License-Identifier: MIT
/* run.c: the clock, durations and a thread's life under a GIL (run.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "run.h"

int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

void sleep_ns(int64_t ns)
{
	struct timespec t = { ns / NSEC_PER_SEC, ns % NSEC_PER_SEC };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

const char *fmt_ns(char *buf, size_t len, double ns)
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

int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void percentiles(int64_t *v, size_t n, int64_t *p50, int64_t *p90,
		 int64_t *max)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	*p50 = v[(n - 1) / 2];
	*p90 = v[(n - 1) * 9 / 10];
	*max = v[n - 1];
}

int attach_new(struct gil *gil, struct gil_tstate **ts)
{
	int ret = gil_tstate_new(gil, ts);

	if (ret)
		return ret;
	ret = gil_tstate_attach(*ts);
	if (ret)
		gil_tstate_free(*ts);
	return ret;
}

void detach_free(struct gil_tstate *ts)
{
	gil_tstate_detach(ts);
	gil_tstate_free(ts);
}

int run_holding_gil(struct gil *gil,
		    int (*body)(struct gil_tstate *ts, void *arg), void *arg)
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
