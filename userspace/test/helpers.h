/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for libgil: a TAP runner that runs every case in a child
 * process of its own under an alarm() watchdog, checks that fail the case
 * with the expression and the values, clocks, threads.
 *
 * Output: "1..N", then one line per case, "ok - <backend>: <case>" or
 * "not ok - <backend>: <case>", with "# " diagnostics before a failure.
 * The program exits 0 only if every case passed.
 *
 * Environment: GIL_BACKEND picks the backend (gil_open's default: kernel);
 * GIL_TEST_TIMEOUT sets the per-case watchdog in seconds (default 10).
 * A command-line argument runs only the cases whose name contains it.
 */
#ifndef GIL_TEST_HELPERS_H
#define GIL_TEST_HELPERS_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gil.h"

struct test_case {
	const char *name;
	void (*run)(void);
};

/* Run the cases, each in a child process; returns main's exit status. */
int test_main(int argc, char **argv, const struct test_case *cases,
	      size_t nr_cases);

/* The backend under test, by name. */
extern const char *test_backend;

/* Fail the running case: print a diagnostic and end its process. */
__attribute__((noreturn, format(printf, 3, 4)))
void test_fail(const char *file, int line, const char *fmt, ...);

/* A diagnostic line ("# ..."). */
__attribute__((format(printf, 1, 2)))
void test_diag(const char *fmt, ...);

/* "EPERM" for -EPERM or EPERM, "0" for 0. */
const char *test_errname(long long err);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "check failed: %s",  \
				  #cond);                                  \
	} while (0)

#define CHECK_CMP(a, op, b)                                                \
	do {                                                               \
		long long _a = (long long)(a), _b = (long long)(b);        \
		if (!(_a op _b))                                           \
			test_fail(__FILE__, __LINE__,                      \
				  "check failed: %s %s %s (%lld vs %lld)", \
				  #a, #op, #b, _a, _b);                    \
	} while (0)

/* A call that must return exactly @want (0, or a negative errno). */
#define CHECK_RET(call, want)                                              \
	do {                                                               \
		long long _r = (long long)(call), _w = (long long)(want);  \
		if (_r != _w)                                              \
			test_fail(__FILE__, __LINE__,                      \
				  "%s returned %lld (%s), expected %lld (%s)", \
				  #call, _r, test_errname(_r), _w,         \
				  test_errname(_w));                       \
	} while (0)

#define CHECK_OK(call) CHECK_RET(call, 0)

/* CLOCK_MONOTONIC. */
int64_t now_ns(void);
void sleep_ms(int64_t ms);

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL

/*
 * Poll @cond, running @between after each poll that found it false; fail
 * after @ms.
 */
#define POLL_UNTIL_(cond, ms, between)                                     \
	do {                                                               \
		int64_t _dl = now_ns() + (int64_t)(ms) * NSEC_PER_MSEC;    \
		while (!(cond)) {                                          \
			if (now_ns() > _dl)                                \
				test_fail(__FILE__, __LINE__,              \
					  "timed out waiting for %s",      \
					  #cond);                          \
			between;                                           \
		}                                                          \
	} while (0)

/* Poll @cond, sleeping a little between polls; fail after @ms. */
#define WAIT_UNTIL(cond, ms) POLL_UNTIL_(cond, ms, sleep_us_(100))

/* Poll @cond without sleeping (the caller may hold the GIL); fail after @ms. */
#define SPIN_UNTIL(cond, ms) POLL_UNTIL_(cond, ms, (void)0)

void sleep_us_(int64_t us);

/* gil_open(GIL_BACKEND_DEFAULT), or fail. */
struct gil *open_gil(void);
/* A new thread state attached to the calling thread, or fail. */
struct gil_tstate *new_tstate(struct gil *gil);
/* Detach (unless the GIL is closed) and free, or fail. */
void free_tstate(struct gil_tstate *ts);
/* gil_set_switch_interval, or fail. */
void set_interval(struct gil *gil, double seconds);
/* gil_get_stats, or fail. */
void get_stats(struct gil *gil, struct gil_stats *stats);
uint64_t hist_sum(const struct gil_stats *stats);

pthread_t start_thread(void *(*fn)(void *), void *arg);
void join_thread(pthread_t thread);

#endif /* GIL_TEST_HELPERS_H */
