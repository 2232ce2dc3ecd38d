// SPDX-License-Identifier: MIT
/*
 * gil-bench: the kernel GIL, under each of its handoff policies, against the
 * cpython and futex backends, and against the floor of the machine it runs
 * on, in one process run.
 *
 * What is measured is a variant: a backend, and for the kernel backend a
 * handoff policy (gil_set_policy).  The kernel backend runs as three
 * variants, "kernel-cpython", "kernel-fifo" and "kernel-io" (-p picks
 * some); the userspace backends have one policy each and keep their names,
 * "cpython" (policy cpython) and "futex" (policy fifo).  Every figure runs
 * on every variant.
 *
 * Every figure is a distribution of measured samples.  The run is made of
 * rounds; each round runs every benchmark once on every variant, in an
 * order that rotates from round to round, so that drift (a host that
 * slows down, timer noise) hits every variant alike.  Each variant gets a
 * new GIL for every chunk of samples.
 *
 * The figures are the table figures[] in figures.c, by group, each with
 * what it times (latencies are "from A until the thread that was waiting
 * runs"), its unit (ns, us, ms; J, Jain's index, and iv, switch intervals,
 * are stored in millionths) and what the report compares it with.  A group
 * runs its figures in one go: it is the unit of -g and of the progress.
 *
 * "same" pins both threads to CPU 0, "cross" to CPUs 0 and 1.  The convoy's
 * I/O thread runs on CPU 0 and its feeder on CPU 1, as in floor-pipe-cross;
 * its CPU-bound threads, the re-acquire's threads and the throughput
 * threads are not pinned.
 *
 * Output: progress on stderr; on stdout the environment, the results as
 * CSV (name,backend,unit,p50,p90,p99,max,mean,n,min; backend is the
 * variant), the GILs' counters per figure and variant (struct gil_stats,
 * summed), the raw samples (in ns; J and iv in millionths) for the plots
 * and how many of them each round took, for the report's spread of the
 * median, and the table of figures, each between marker lines (see
 * print_results in output.c).  At the end gil-bench checks the counters
 * against each kernel policy's promise (fifo: every wait ends in a direct
 * handoff; io: a thread back from I/O beside CPU-bound ones preempts;
 * cpython: neither) and warns on stderr where they disagree.
 *
 * usage: gil-bench [-r rounds] [-s scale] [-b backend,...] [-p policy,...]
 *                  [-g group,...] [-n]
 *   -r  rounds (default 8)       -s  multiply every sample count (1.0)
 *   -b  backends (default: kernel if /dev/gil opens, cpython, futex)
 *   -p  the kernel backend's policies (default: cpython,fifo,io, those
 *       the loaded module has)
 *   -g  run only the groups whose progress name contains one of these
 *   -n  do not print the raw samples
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../../common/cli.h"
#include "gil-bench.h"

/*
 * The groups, in the order a round runs them, each once on every variant
 * (a floor: once, with no GIL): name, run, its argument, once, two_cpus,
 * the options whose variants it runs too.
 */
const struct group groups[NR_GROUPS] = {
	[G_FLOORS]	= { "floors", run_floors, 0, true, false },
	[G_VOL_SAME]	= { "handoff-voluntary-same", run_voluntary, 0, false, false },
	[G_VOL_CROSS]	= { "handoff-voluntary-cross", run_voluntary, 1, false, true },
	[G_WAITERS1]	= { "handoff-waiters-1", run_waiters, 1, false, false },
	[G_WAITERS8]	= { "handoff-waiters-8", run_waiters, 8, false, false },
	[G_WAITERS64]	= { "handoff-waiters-64", run_waiters, 64, false, false },
	[G_FORCED_SAME]	= { "handoff-forced-same", run_forced_same, 0, false, false },
	[G_SLICE1]	= { "slice-1ms + handoff-forced-cross", run_slices, 1, false, true },
	[G_SLICE5]	= { "slice-5ms", run_slices, 5, false, true },
	[G_SLICE20]	= { "slice-20ms", run_slices, 20, false, true },
	[G_CONVOY0]	= { "convoy-0", run_convoy, 0, false, false },
	[G_CONVOY1]	= { "convoy-1", run_convoy, 1, false, false },
	[G_CONVOY2]	= { "convoy-2", run_convoy, 2, false, false },
	[G_CONVOY4]	= { "convoy-4", run_convoy, 4, false, false },
	[G_REACQ0]	= { "reacquire-0-1ms/5ms", run_reacquire, 0, false, false },
	[G_REACQ1]	= { "reacquire-1-1ms/5ms", run_reacquire, 1, false, false },
	[G_REACQ2]	= { "reacquire-2-1ms/5ms", run_reacquire, 2, false, false },
	[G_TPUT]	= { "throughput-1/2/4", run_throughput, 0, false, false },
	[G_FAIR2]	= { "fairness-2", run_fairness, 2, false, false },
	[G_FAIR4]	= { "fairness-4", run_fairness, 4, false, false },
	[G_FAIR2IO]	= { "fairness-2+io", run_fairness_io, 2, false, false },
	[G_HOGS2]	= { "hogs-2", run_hogs, 2, false, false,
			    GIL_OPT_PREEMPT_AWARE },
	[G_HOGS4]	= { "hogs-4", run_hogs, 4, false, false,
			    GIL_OPT_PREEMPT_AWARE },
	[G_INVERSION]	= { "inversion", run_inversion, 0, false, true,
			    GIL_OPT_PRIO_INHERIT },
	[G_UNCONTENDED]	= { "uncontended", run_uncontended, 0, false, false },
};

/* ------------------------------------------------------------- driver */

/* The options' variants: kernel-cpython with each, by its suffix. */
static const struct {
	unsigned int option;
	const char *suffix;
} option_variants[] = {
	{ GIL_OPT_PREEMPT_AWARE, "pa" },
	{ GIL_OPT_PRIO_INHERIT, "pi" },
};
#define N_OPTION_VARIANTS (sizeof(option_variants) / sizeof(option_variants[0]))

static struct variant variants[2 + GIL_POLICY_COUNT + N_OPTION_VARIANTS];
static int nvariants;
static enum gil_backend backends[3];
static int nbackends;
static int policies[GIL_POLICY_COUNT];	/* the kernel backend's */
static int npolicies;

static int64_t start_ns;
static const char *group_list;	/* -g */

#define MAX_ROUNDS 1000
#define MAX_SCALE 100

static bool group_selected(const char *name)
{
	char *list, *tok, *save;
	bool found = false;

	if (!group_list)
		return true;
	list = strdup(group_list);
	if (!list)
		die("strdup", ENOMEM);
	for (tok = strtok_r(list, ",", &save); tok && !found;
	     tok = strtok_r(NULL, ",", &save))
		found = strstr(name, tok) != NULL;
	free(list);
	return found;
}

static double elapsed(void)
{
	return (double)(now_ns() - start_ns) / 1e9;
}

static void print_env(void)
{
	struct utsname u;
	char cs[64] = "?";
	FILE *f;

	uname(&u);
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
	if (f) {
		if (fgets(cs, sizeof(cs), f))
			cs[strcspn(cs, "\n")] = 0;
		fclose(f);
	}
	printf("GIL-BENCH-ENV-BEGIN\n");
	printf("kernel=%s %s\n", u.release, u.machine);
	printf("cpus=%d\n", ncpus);
	printf("clocksource=%s\n", cs);
	printf("timer_slack_ns=%d\n", prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0));
	printf("rounds=%d\nscale=%g\n", rounds, scale);
	printf("backends=");
	for (int i = 0; i < nbackends; i++)
		printf("%s%s", i ? "," : "", gil_backend_name(backends[i]));
	printf("\nkernel_policies=");
	for (int i = 0; i < npolicies; i++)
		printf("%s%s", i ? "," : "", gil_policy_name((unsigned int)policies[i]));
	printf("\nvariants=");
	for (int i = 0; i < nvariants; i++)
		printf("%s%s", i ? "," : "", variants[i].label);
	printf("\nthroughput_steps=%llu\n", (unsigned long long)tput_total);
	printf("fairness_window_ns=%lld\n", FAIR_WINDOW_NS);
	printf("GIL-BENCH-ENV-END\n");
}

static const char prog[] = "gil-bench";

static void usage(void)
{
	printf("usage: gil-bench [-r rounds] [-s scale] [-b backend,...] [-p policy,...] [-g group,...] [-n]\n"
	       "  Every figure on every backend and kernel policy, round after round.\n"
	       "  -r  rounds, 1..%d (default 8)\n"
	       "  -s  multiply every sample count, 0 < s <= %d (default 1.0)\n"
	       "  -b  backends: kernel, cpython, futex (default: kernel if /dev/gil\n"
	       "      opens, cpython, futex)\n"
	       "  -p  the kernel backend's policies: cpython, fifo, io (default: those\n"
	       "      the loaded module has)\n"
	       "  -g  run only the groups whose progress name contains one of these\n"
	       "  -n  do not print the raw samples\n"
	       "  -h, --help  this help\n"
	       "Progress goes to stderr, the results to stdout.\n"
	       "Exit: 0 on success, 1 on an error, 2 on usage.\n",
	       MAX_ROUNDS, MAX_SCALE);
}

/*
 * -b and -p: the comma-separated names in @list, each once, into @v;
 * @from_name gives each name's number, or < 0.  @v has room for every
 * name @from_name knows.  Returns 0, or CLI_USAGE after saying what is
 * wrong.
 */
static int parse_names(int opt, const char *list,
		       int (*from_name)(const char *), const char *what,
		       int *v, int *n)
{
	char *copy = strdup(list), *tok, *save;
	int ret = 0;

	if (!copy)
		die("strdup", ENOMEM);
	*n = 0;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		int x = from_name(tok), i;

		for (i = 0; i < *n && v[i] != x; i++)
			;
		if (x < 0)
			ret = cli_bad_value(prog, opt, tok, "%s", what);
		else if (i < *n)
			ret = cli_usage_error(prog, "-%c: '%s' names %s twice",
					      opt, list, tok);
		else
			v[(*n)++] = x;
	}
	if (!ret && !*n)
		ret = cli_usage_error(prog, "-%c: '%s' names nothing", opt,
				      list);
	free(copy);
	return ret;
}

/* -b */
static int parse_backends(int key, const char *list, void *value)
{
	int b[3], ret;

	(void)value;
	ret = parse_names(key, list, gil_backend_from_name,
			  "a backend (kernel, cpython, futex)", b, &nbackends);
	for (int i = 0; !ret && i < nbackends; i++)
		backends[i] = (enum gil_backend)b[i];
	return ret;
}

/* -p */
static int parse_policies(int key, const char *list, void *value)
{
	(void)value;
	return parse_names(key, list, gil_policy_from_name,
			   "a policy (cpython, fifo, io)", policies, &npolicies);
}

/* -g: each of its names must pick a group. */
static int parse_groups(int key, const char *list, void *value)
{
	char *copy = strdup(list), *tok, *save;
	int ret = 0, n = 0, id;

	if (!copy)
		die("strdup", ENOMEM);
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save), n++) {
		for (id = 0; id < NR_GROUPS; id++)
			if (strstr(groups[id].name, tok))
				break;
		if (id == NR_GROUPS)
			ret = cli_bad_value(prog, key, tok,
					    "part of a group's name (as the progress lines show them)");
	}
	if (!ret && !n)
		ret = cli_usage_error(prog, "-g: no group in '%s'", list);
	if (!ret)
		*(const char **)value = list;
	free(copy);
	return ret;
}


/*
 * The kernel backend's variants: the policies asked for (-p), else every
 * policy the loaded module has (an ABI 1.0 module has only cpython), and
 * one for each option it has.
 */
static void make_variants(bool policies_given)
{
	unsigned int options = 0;
	struct gil *gil = NULL;
	bool kernel = false;
	int n = 0, ret;

	for (int i = 0; i < nbackends; i++)
		kernel |= backends[i] == GIL_BACKEND_KERNEL;
	if (!kernel) {
		if (policies_given)
			warn("-p: policies are the kernel backend's; not measured");
		npolicies = 0;
	} else if (!policies_given) {
		for (int p = 0; p < GIL_POLICY_COUNT; p++)
			policies[npolicies++] = p;
	}
	if (kernel && gil_open(&gil, GIL_BACKEND_KERNEL))
		gil = NULL;	/* gil-bench fails on its first kernel GIL */
	for (int i = 0; gil && i < npolicies; i++) {
		ret = gil_set_policy(gil, (unsigned int)policies[i]);
		if (ret && policies_given)
			die(gil_policy_name((unsigned int)policies[i]), ret);
		if (ret)
			warn("the kernel backend has no policy %s: %s",
			     gil_policy_name((unsigned int)policies[i]),
			     strerror(-ret));
		else
			policies[n++] = policies[i];
	}
	for (size_t i = 0; gil && i < N_OPTION_VARIANTS; i++)
		if (!gil_set_options(gil, option_variants[i].option))
			options |= option_variants[i].option;
	if (gil) {
		npolicies = n;
		gil_close(gil);
	}
	nvariants = 0;
	for (int i = 0; i < nbackends; i++) {
		if (backends[i] != GIL_BACKEND_KERNEL) {
			struct variant *v = &variants[nvariants++];

			v->b = backends[i];
			v->policy = -1;
			snprintf(v->label, sizeof(v->label), "%s",
				 gil_backend_name(backends[i]));
			continue;
		}
		for (int k = 0; k < npolicies; k++) {
			struct variant *v = &variants[nvariants++];

			v->b = backends[i];
			v->policy = policies[k];
			snprintf(v->label, sizeof(v->label), "kernel-%s",
				 gil_policy_name((unsigned int)policies[k]));
		}
		for (size_t k = 0; !policies_given &&
				   k < N_OPTION_VARIANTS; k++) {
			struct variant *v;

			if (!(options & option_variants[k].option))
				continue;
			v = &variants[nvariants++];
			*v = (struct variant){
				.b = GIL_BACKEND_KERNEL,
				.policy = GIL_POLICY_CPYTHON,
				.options = option_variants[k].option,
			};
			snprintf(v->label, sizeof(v->label), "kernel-cpython+%s",
				 option_variants[k].suffix);
		}
	}
}

static void default_backends(void)
{
	struct gil *gil;
	int ret = gil_open(&gil, GIL_BACKEND_KERNEL);

	nbackends = 0;
	if (!ret) {
		gil_close(gil);
		backends[nbackends++] = GIL_BACKEND_KERNEL;
	} else {
		warn("no kernel backend (/dev/gil: %s); measuring the others",
		     strerror(-ret));
	}
	backends[nbackends++] = GIL_BACKEND_CPYTHON;
	backends[nbackends++] = GIL_BACKEND_FUTEX;
}

int main(int argc, char **argv)
{
	bool no_samples = false;
	const struct cli_option opts[] = {
		CLI_OPT_INT('r', &rounds, "a number of rounds", 1, MAX_ROUNDS),
		CLI_OPT_DOUBLE('s', &scale, "a scale", 0, MAX_SCALE),
		CLI_OPT_PARSE('b', CLI_STRING, NULL, parse_backends),
		CLI_OPT_PARSE('p', CLI_STRING, NULL, parse_policies),
		CLI_OPT_PARSE('g', CLI_STRING, &group_list, parse_groups),
		CLI_OPT_FLAG('n', &no_samples),
		CLI_OPT_END,
	};
	const struct cli cli = { prog, usage, opts, false };

	setvbuf(stderr, NULL, _IOLBF, 0);
	cli_parse(&cli, argc, argv);
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpus > CPU_SETSIZE)
		ncpus = CPU_SETSIZE;
	if (ncpus < 2)
		warn("one CPU: the cross-CPU figures and slices are left out");
	if (!nbackends)
		default_backends();
	make_variants(npolicies > 0);	/* -p */

	start_ns = now_ns();
	fprintf(stderr, "gil-bench: %d rounds, scale %g, %d CPUs, variants", rounds,
		scale, ncpus);
	for (int i = 0; i < nvariants; i++)
		fprintf(stderr, " %s", variants[i].label);
	fprintf(stderr, "\n");
	if (group_selected(groups[G_TPUT].name))
		tput_calibrate(&variants[nvariants - 1]);

	for (int r = 0; r < rounds; r++) {
		fprintf(stderr, "gil-bench: round %d/%d (%.0f s)\n", r + 1, rounds,
			elapsed());
		for (int id = 0; id < NR_GROUPS; id++) {
			const struct group *g = &groups[id];
			int64_t t = now_ns();

			if ((g->two_cpus && ncpus < 2) || !group_selected(g->name))
				continue;
			fprintf(stderr, "  %-34s", g->name);
			for (int i = 0; i < (g->once ? 1 : nvariants); i++) {
				/* Rotate the order from one round to the next. */
				const struct variant *var =
					&variants[(i + r) % nvariants];

				if (!g->once &&
				    (var->options & ~g->options))
					continue;
				if (!g->once)
					fprintf(stderr, " %s", var->label);
				g->run(g->once ? NULL : var, g->arg);
			}
			fprintf(stderr, " %6.1f s\n", (double)(now_ns() - t) / 1e9);
		}
		end_round(r);
	}
	fprintf(stderr, "gil-bench: done in %.0f s\n", elapsed());
	check_policies();
	print_env();
	print_results(!no_samples);
	return 0;
}

