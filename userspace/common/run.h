/* SPDX-License-Identifier: MIT */
/*
 * run.h: what the demos, gil-bench and gilstat share at run time: the
 * clock, durations and their percentiles, and an interpreter thread's life
 * under a GIL.
 */
#ifndef KGIL_RUN_H
#define KGIL_RUN_H

#include <stddef.h>
#include <stdint.h>

#include <gil.h>

#define NSEC_PER_SEC 1000000000LL

/* CLOCK_MONOTONIC, in ns. */
int64_t now_ns(void);
/* Sleeps @ns, through signals. */
void sleep_ns(int64_t ns);

/* "4.98 ms", "12.3 us": a duration in ns, 4 significant-ish digits. */
const char *fmt_ns(char *buf, size_t len, double ns);

/* qsort's comparison of two int64_t. */
int cmp_i64(const void *a, const void *b);
/* p50, p90, max of @n > 0 samples; sorts them. */
void percentiles(int64_t *v, size_t n, int64_t *p50, int64_t *p90,
		 int64_t *max);

/* A new thread state, attached to the calling thread; freed on failure. */
int attach_new(struct gil *gil, struct gil_tstate **ts);
/* attach_new()'s undoing. */
void detach_free(struct gil_tstate *ts);

/*
 * The life of an interpreter thread: a thread state, the GIL, @body under
 * it, the GIL released, the thread state gone.  Returns 0 or a libgil error.
 */
int run_holding_gil(struct gil *gil,
		    int (*body)(struct gil_tstate *ts, void *arg), void *arg);

#endif /* KGIL_RUN_H */
