// SPDX-License-Identifier: MIT
/*
 * gil-bench's results: the series of samples, one per figure and variant,
 * what is printed of them, and the check of the GILs' counters against
 * each kernel policy's promise.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gil-bench.h"

#define MAX_SERIES 256
static struct series all_series[MAX_SERIES];
static int nseries;

/* The series of figure @name on @backend, new if need be. */
struct series *series(const char *name, const char *backend)
{
	struct series *s;

	for (int i = 0; i < nseries; i++) {
		s = &all_series[i];
		if (!strcmp(s->fig->name, name) && !strcmp(s->backend, backend))
			return s;
	}
	if (nseries == MAX_SERIES)
		die("too many series", ENOSPC);
	s = &all_series[nseries++];
	s->fig = figure(name);
	snprintf(s->backend, sizeof(s->backend), "%s", backend);
	return s;
}

void add(struct series *s, const int64_t *v, size_t n)
{
	if (s->n + n > s->cap) {
		s->cap = (s->n + n) * 2;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			die("realloc", ENOMEM);
	}
	memcpy(s->v + s->n, v, n * sizeof(*v));
	s->n += n;
}

void add1(struct series *s, int64_t v)
{
	add(s, &v, 1);
}

/*
 * What one unit of @unit is in the stored samples: ns for the times; Jain's
 * index J, dimensionless, and iv, switch intervals, in millionths.
 */
static double unit_ns(const char *unit)
{
	return !strcmp(unit, "ms") || !strcmp(unit, "J") ||
	       !strcmp(unit, "iv") ? 1e6 : !strcmp(unit, "us") ? 1e3 : 1.0;
}

/* The end of round @r: where each series' samples of the round end. */
void end_round(int r)
{
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		if (!s->round_end)
			s->round_end = xcalloc((size_t)rounds, sizeof(*s->round_end));
		s->round_end[r] = s->n;
	}
}

/* Nearest-rank percentile of sorted @v. */
static int64_t pct(const int64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p * (double)n);

	return v[rank ? rank - 1 : 0];
}

/*
 * GIL-BENCH-CSV-BEGIN / -END: one row per figure and variant (the backend
 * column is the variant's label), values in its unit; J with 4 decimals.
 * GIL-BENCH-SAMPLES-BEGIN / -END: "name backend unit" then the samples in
 * ns (units J, iv: in millionths), in the order they were measured, at
 * most 16 a line, lines of one series following each other.
 * GIL-BENCH-ROUNDS-BEGIN / -END: "name backend" then, for each round, how
 * many of the series' samples it took (in order: the first n1 samples are
 * round 1's, and so on).
 * GIL-BENCH-STATS-BEGIN / -END: CSV, per figure and variant, the GIL's
 * counters (struct gil_stats) summed over the chunks that measured it.
 * GIL-BENCH-FIGURES-BEGIN / -END: CSV, the table of figures (figures.c):
 * each figure's unit, what the report compares it with, its group, the
 * report's plot of it and its column in the summary ("", 0: none).
 */
void print_results(bool samples)
{
	printf("GIL-BENCH-FIGURES-BEGIN\n");
	printf("name,unit,floor,group,plot,summary\n");
	for (int f = 0; f < nfigures; f++)
		printf("%s,%s,%s,%s,%s,%d\n", figures[f].name, figures[f].unit,
		       figures[f].floor ? figures[f].floor : "",
		       groups[figures[f].group].name,
		       figures[f].plot ? figures[f].plot : "",
		       figures[f].summary);
	printf("GIL-BENCH-FIGURES-END\n");
	printf("GIL-BENCH-CSV-BEGIN\n");
	printf("name,backend,unit,p50,p90,p99,max,mean,n,min\n");
	for (int f = 0; f < nfigures; f++) {
		for (int i = 0; i < nseries; i++) {
			struct series *s = &all_series[i];
			const char *unit = s->fig->unit;
			double u = unit_ns(unit), sum = 0;
			int64_t *v;
			int prec;

			if (s->fig != &figures[f] || !s->n)
				continue;
			v = xcalloc(s->n, sizeof(*v));
			memcpy(v, s->v, s->n * sizeof(*v));
			qsort(v, s->n, sizeof(*v), cmp_i64);
			for (size_t k = 0; k < s->n; k++)
				sum += (double)v[k];
			prec = !strcmp(unit, "J") ? 4 : !strcmp(unit, "iv") ? 6 : 3;
			printf("%s,%s,%s,%.*f,%.*f,%.*f,%.*f,%.*f,%zu,%.*f\n",
			       s->fig->name, s->backend, unit,
			       prec, pct(v, s->n, 0.50) / u,
			       prec, pct(v, s->n, 0.90) / u,
			       prec, pct(v, s->n, 0.99) / u,
			       prec, v[s->n - 1] / u,
			       prec, sum / (double)s->n / u, s->n,
			       prec, v[0] / u);
			free(v);
		}
	}
	printf("GIL-BENCH-CSV-END\n");
	printf("GIL-BENCH-STATS-BEGIN\n");
	printf("name,backend,chunks,acquisitions,contended,drop_requests,"
	       "forced_switches,voluntary_releases,switch_number,wait_ns,"
	       "direct_handoffs,io_preemptions\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];
		const struct gil_stats *st = &s->st;

		if (!s->chunks)
			continue;
		printf("%s,%s,%d,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu\n",
		       s->fig->name, s->backend, s->chunks,
		       (unsigned long long)st->acquisitions,
		       (unsigned long long)st->contended,
		       (unsigned long long)st->drop_requests,
		       (unsigned long long)st->forced_switches,
		       (unsigned long long)st->voluntary_releases,
		       (unsigned long long)st->switch_number,
		       (unsigned long long)st->wait_ns,
		       (unsigned long long)st->direct_handoffs,
		       (unsigned long long)st->io_preemptions);
	}
	printf("GIL-BENCH-STATS-END\n");
	if (!samples)
		return;
	printf("GIL-BENCH-SAMPLES-BEGIN\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		for (size_t k = 0; k < s->n; k++) {
			if (k % 16 == 0)
				printf("%s %s %s", s->fig->name, s->backend,
				       s->fig->unit);
			printf(" %lld", (long long)s->v[k]);
			if (k % 16 == 15 || k + 1 == s->n)
				printf("\n");
		}
	}
	printf("GIL-BENCH-SAMPLES-END\n");
	printf("GIL-BENCH-ROUNDS-BEGIN\n");
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];

		if (!s->n)
			continue;
		printf("%s %s", s->fig->name, s->backend);
		for (int r = 0; r < rounds; r++)
			printf(" %zu", s->round_end[r] - (r ? s->round_end[r - 1] : 0));
		printf("\n");
	}
	printf("GIL-BENCH-ROUNDS-END\n");
}

/*
 * Did each kernel policy act as it says, by the GIL's own counters?  Under
 * fifo every wait ends in a direct handoff, under io a thread back from
 * I/O facing CPU-bound ones asks at once (the figures marked io), under
 * cpython neither happens.  A policy
 * that did not would make its figures mean nothing (and be a bug in the
 * module): say so.
 */
void check_policies(void)
{
	for (int i = 0; i < nseries; i++) {
		struct series *s = &all_series[i];
		const struct gil_stats *st = &s->st;
		unsigned long long contended = st->contended;
		unsigned long long direct = st->direct_handoffs;
		unsigned long long io = st->io_preemptions;
		int policy;

		if (!s->chunks || strncmp(s->backend, "kernel-", 7))
			continue;
		policy = gil_policy_from_name(s->backend + 7);
		if (policy == GIL_POLICY_CPYTHON && (direct || io))
			warn("%s on %s: %llu direct handoffs, %llu I/O preemptions",
			     s->fig->name, s->backend, direct, io);
		if (policy == GIL_POLICY_FIFO && (direct != contended || io))
			warn("%s on %s: %llu waits but %llu direct handoffs, %llu I/O preemptions",
			     s->fig->name, s->backend, contended, direct, io);
		if (policy == GIL_POLICY_IO && direct > contended)
			warn("%s on %s: %llu direct handoffs for %llu waits",
			     s->fig->name, s->backend, direct, contended);
		if (policy == GIL_POLICY_IO && s->fig->io && !io)
			warn("%s on %s: no I/O preemption", s->fig->name,
			     s->backend);
	}
}
