/* SPDX-License-Identifier: MIT */
/*
 * What the conformance suite adds to the test harness (tests/harness/t.h:
 * the runner, CHECK and its family, clocks, threads) for libgil: its
 * runner over a table of cases on the backend under test, and the libgil
 * calls a case makes so often that they fail it themselves.
 *
 * Output: "1..N", then one line per case, "ok - <backend>: <case>" or
 * "not ok - <backend>: <case>", with "# " diagnostics before a failure,
 * and a summary line.  The program exits 0 only if every case passed.
 *
 * Environment: GIL_BACKEND picks the backend (gil_open's default: kernel);
 * GIL_TEST_TIMEOUT sets the per-case watchdog in seconds (default 10).
 * A command-line argument runs only the cases whose name contains it.
 */
#ifndef GIL_TEST_HELPERS_H
#define GIL_TEST_HELPERS_H

#include <stdatomic.h>
#include <stdbool.h>

#include "gil.h"
#include "t.h"

struct t_gil_case {
	const char *name;
	void (*run)(void);
};

/* Run the cases, each as a t_run() case; returns main's exit status. */
int t_gil_main(int argc, char **argv, const struct t_gil_case *cases,
	       size_t nr_cases);

/* The backend under test, by name. */
extern const char *t_backend;

/* gil_open(GIL_BACKEND_DEFAULT), or fail. */
struct gil *t_gil_open(void);
/* A new thread state attached to the calling thread, or fail. */
struct gil_tstate *t_gil_tstate_new(struct gil *gil);
/* Detach (unless the GIL is closed) and free, or fail. */
void t_gil_tstate_free(struct gil_tstate *ts);
/* gil_set_switch_interval, or fail. */
void t_gil_set_switch_interval(struct gil *gil, double seconds);
/* gil_get_stats, or fail. */
void t_gil_get_stats(struct gil *gil, struct gil_stats *stats);
/* The handoffs in the latency histogram. */
uint64_t t_hist_sum(const struct gil_stats *stats);

#endif /* GIL_TEST_HELPERS_H */
