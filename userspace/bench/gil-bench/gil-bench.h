/* SPDX-License-Identifier: MIT */
/*
 * gil-bench's pieces (main.c says what it measures and how): the groups
 * and the driver (main.c), the table of figures (figures.c), what the
 * benchmarks' threads share (common.c), the results and their output
 * (output.c), and a file per group of figures: floors.c, handoff.c,
 * convoy.c, reacquire.c, throughput.c, fairness.c, inversion.c.
 */
#ifndef GIL_BENCH_H
#define GIL_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <gil.h>

/* The clock (now_ns, NSEC_PER_SEC) and samples (cmp_i64). */
#include "../../common/run.h"

/* ------------------------------------------------------------ figures */

/* What a round runs, in this order: a group measures one or more figures. */
enum group_id {
	G_FLOORS, G_VOL_SAME, G_VOL_CROSS, G_WAITERS1, G_WAITERS8, G_WAITERS64,
	G_FORCED_SAME, G_SLICE1, G_SLICE5, G_SLICE20, G_CONVOY0, G_CONVOY1,
	G_CONVOY2, G_CONVOY4, G_REACQ0, G_REACQ1, G_REACQ2, G_TPUT, G_FAIR2,
	G_FAIR4, G_FAIR2IO, G_HOGS2, G_HOGS4, G_INVERSION, G_UNCONTENDED,
	NR_GROUPS
};

/*
 * What is measured: a backend, and for the kernel backend a handoff
 * policy.  The userspace backends have one policy each (cpython: cpython,
 * futex: fifo) and keep their backend's name as label; the kernel backend
 * runs once per policy, labelled "kernel-cpython", "kernel-fifo",
 * "kernel-io"; and once more under cpython for each option the module
 * has, "kernel-cpython+pa" (GIL_OPT_PREEMPT_AWARE) and "kernel-cpython+pi"
 * (GIL_OPT_PRIO_INHERIT), in the groups the option is for only.  Every
 * report line is per label.
 */
struct variant {
	enum gil_backend b;
	int policy;		/* GIL_POLICY_*, or -1: the backend's own */
	unsigned int options;	/* GIL_OPT_* */
	char label[24];
};

struct group {
	const char *name;	/* its progress line, and what -g matches */
	/* Runs the group once on @var (NULL: once a round, no GIL). */
	void (*run)(const struct variant *var, int arg);
	int arg;
	bool once;		/* a machine's floor: no variant */
	bool two_cpus;
	unsigned int options;	/* GIL_OPT_*: the option variants it runs */
};

struct figure {
	const char *name;
	const char *unit;	/* ns, us, ms; J and iv are stored in millionths */
	/*
	 * What the report compares it with: a figure (the same variant's, or
	 * the machine's), or a constant "label N unit"; NULL: nothing.
	 */
	const char *floor;
	enum group_id group;
	/* A thread back from I/O meets CPU-bound ones: io preempts them. */
	bool io;
	/*
	 * The report's plot that draws it, each variant's CDF, with the
	 * machine's floors its figures are compared with; NULL: none.
	 */
	const char *plot;
	/* Its column in the report's summary of the policies, from 1; 0: none. */
	int summary;
};

extern const struct group groups[NR_GROUPS];
extern const struct figure figures[];
extern const int nfigures;

const struct figure *figure(const char *name);

/* ------------------------------------------------------------ results */

/* A figure measured on one variant. */
struct series {
	const struct figure *fig;
	char backend[24];	/* the variant's label, "-" for a floor */
	int64_t *v;		/* samples, in ns (units J, iv: in millionths) */
	size_t n, cap;
	size_t *round_end;	/* n at the end of each round */
	/* The GIL's counters, summed over the chunks that measured it. */
	struct gil_stats st;
	int chunks;
};

struct series *series(const char *name, const char *backend);
void add(struct series *s, const int64_t *v, size_t n);
void add1(struct series *s, int64_t v);
void end_round(int r);
void print_results(bool samples);
void check_policies(void);

/* ------------------------------------------------------------- common */

extern int ncpus;
extern int rounds;
extern double scale;
extern volatile uint64_t sink;

void die(const char *what, int err);
void check(const char *what, int ret);
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xcalloc(size_t n, size_t size);
pid_t gettid_(void);
void pin(int cpu);
uint64_t rnd(void);
/*
 * Samples of one chunk: a total over all rounds, divided among them.
 * Each file's totals, at scale 1, were chosen for about 4 minutes under
 * QEMU TCG with 2 vCPUs; a chunk that takes longer than its cap stops
 * early and says so (the CSV's n is what was measured).
 */
int per_round(int total);

void futex_wait(uint32_t *w, uint32_t val);
void futex_wake(uint32_t *w, int n);
uint32_t load(const uint32_t *w);
void wait_ge(uint32_t *w, uint32_t v);
void publish(uint32_t *w, uint32_t v);
void publish_add(uint32_t *w);
void store64(int64_t *p, int64_t v);
int64_t load64(const int64_t *p);
void wait_sleeping(pid_t tid);
void insn_gate(void);
pthread_t spawn(void *(*fn)(void *), void *arg);

struct gil_tstate *tstate(struct gil *gil);
void tstate_done(struct gil_tstate *ts);
struct gil *gil_new(const struct variant *var, double interval);
void stats(struct gil *gil, struct gil_stats *st);
void gil_done(struct gil *gil, struct series *s);

/* One step of a CPU-bound "eval loop": work the compiler cannot drop. */
static inline uint64_t work(uint64_t x)
{
	return x * 6364136223846793005ULL + (x >> 29) + 1442695040888963407ULL;
}

/*
 * The CPU-bound threads beside an I/O-bound one (the convoy, the
 * re-acquire): eval loops that call gil_check at every step, as CPython's
 * eval loop polls its eval breaker, until told to stop.  Not pinned.
 */
struct evalloops {
	struct gil *gil;
	int n;
	pthread_t t[8];
	uint32_t started;	/* threads that hold or held the GIL */
	uint32_t stop;
};

void evalloops_spawn(struct evalloops *e);
void evalloops_stop(struct evalloops *e);

/* ------------------------------------------------------------- groups */

void run_floors(const struct variant *var, int arg);
void run_uncontended(const struct variant *var, int arg);
void run_voluntary(const struct variant *var, int cpu1);
void run_waiters(const struct variant *var, int waiters);
void run_forced_same(const struct variant *var, int arg);
void run_slices(const struct variant *var, int interval_ms);
void run_convoy(const struct variant *var, int ncpu);
void run_reacquire(const struct variant *var, int ncpu);
void run_throughput(const struct variant *var, int arg);
void run_fairness(const struct variant *var, int ncpu);
void run_fairness_io(const struct variant *var, int ncpu);
void run_hogs(const struct variant *var, int ncpu);
void run_inversion(const struct variant *var, int arg);

/* Throughput: the eval-loop steps of one run, calibrated once. */
extern uint64_t tput_total;
void tput_calibrate(const struct variant *var);

/* Fairness: each run's window (printed with the environment). */
#define FAIR_WINDOW_NS		(NSEC_PER_SEC / 4)

#endif
