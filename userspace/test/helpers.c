// SPDX-License-Identifier: MIT
/* The conformance suite's helpers for libgil: see helpers.h. */
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

const char *t_backend = "?";

struct gil *t_gil_open(void)
{
	struct gil *gil = NULL;

	CHECK_OK(gil_open(&gil, GIL_BACKEND_DEFAULT));
	return gil;
}

struct gil_tstate *t_gil_tstate_new(struct gil *gil)
{
	struct gil_tstate *ts = NULL;

	CHECK_OK(gil_tstate_new(gil, &ts));
	CHECK_OK(gil_tstate_attach(ts));
	return ts;
}

void t_gil_tstate_free(struct gil_tstate *ts)
{
	int ret = gil_tstate_detach(ts);

	if (ret != -EBADF)
		CHECK_OK(ret);
	CHECK_OK(gil_tstate_free(ts));
}

void t_gil_set_switch_interval(struct gil *gil, double seconds)
{
	CHECK_OK(gil_set_switch_interval(gil, seconds));
}

void t_gil_get_stats(struct gil *gil, struct gil_stats *stats)
{
	CHECK_OK(gil_get_stats(gil, stats));
}

uint64_t t_hist_sum(const struct gil_stats *stats)
{
	uint64_t sum = 0;

	for (int i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		sum += stats->handoff_ns_hist[i];
	return sum;
}

/* The runner. */

static unsigned int case_timeout_s(void)
{
	const char *env = getenv("GIL_TEST_TIMEOUT");
	int t = env ? atoi(env) : 0;

	return t > 0 ? (unsigned int)t : 10;
}

int t_gil_main(int argc, char **argv, const struct t_gil_case *cases,
	       size_t nr_cases)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *env = getenv("GIL_BACKEND");
	size_t planned = 0, passed = 0;
	char name[256];
	struct gil *gil;
	int ret;

	ret = gil_backend_from_name(env ? env : "kernel");
	if (ret < 0) {
		printf("Bail out! unknown GIL_BACKEND \"%s\"\n", env);
		return 2;
	}
	t_backend = gil_backend_name((enum gil_backend)ret);
	ret = gil_open(&gil, GIL_BACKEND_DEFAULT);
	if (ret) {
		printf("Bail out! %s: gil_open: %s\n", t_backend,
		       strerror(-ret));
		return 2;
	}
	gil_close(gil);
	t_timeout_s = case_timeout_s();

	for (size_t i = 0; i < nr_cases; i++)
		if (!filter || strstr(cases[i].name, filter))
			planned++;
	printf("1..%zu\n", planned);
	for (size_t i = 0; i < nr_cases; i++) {
		if (filter && !strstr(cases[i].name, filter))
			continue;
		snprintf(name, sizeof(name), "%s: %s", t_backend,
			 cases[i].name);
		passed += t_run(name, cases[i].run);
	}
	printf("# %s: %zu of %zu passed\n", t_backend, passed, planned);
	return passed == planned ? 0 : 1;
}
