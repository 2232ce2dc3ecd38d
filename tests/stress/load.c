// SPDX-License-Identifier: GPL-2.0
/*
 * stress-load: many threads on several GILs, taking, yielding and
 * releasing in a loop, with a checker for mutual exclusion and for lost
 * wake-ups.
 *
 * Threads are dealt round-robin to the GILs and play three parts, as the
 * threads of a Python program do:
 *   cpu    holds the GIL and "runs bytecode" until the eval breaker in the
 *          page shows a drop request, then yields (GIL_IOC_YIELD); now and
 *          then it releases of its own accord
 *   io     takes the GIL for a short step, releases it, and sleeps
 *   burst  takes and releases the GIL in quick succession
 *
 * What must hold:
 *   - mutual exclusion: under each GIL a plain (non-atomic) counter is
 *     incremented by a read, a pause and a write, so two holders at once
 *     would lose increments; and an "inside" flag must be clear on entry;
 *   - no lost wake-up: every thread gets the GIL again within the stall
 *     bound, for as long as the run lasts.  A waiter's sleep ends after
 *     the switch interval even if no release wakes it, which would hide
 *     a lost wake-up; so GIL 0 has the longest interval there is (an
 *     hour), where only a wake-up ends a wait (and no drop request is
 *     ever posted, so its cpu threads release when their steps are up);
 *   - the books balance: per GIL, the counter equals the increments the
 *     threads made, and the module's acquisition count and switch_number
 *     agree with what the threads saw, its releases (forced and voluntary)
 *     with the threads' RELEASEs and YIELDs.
 *
 * The GILs start under the three handoff policies in turn (cpython, fifo,
 * io), and a policy thread moves a random GIL to another policy every few
 * milliseconds to a tenth of a second, under the load.  No thread dies, so
 * every handoff goes to a waiter that takes the GIL: switch_number <=
 * acquisitions, direct_handoffs <= contended and <= switch_number;
 * io_preemptions <= drop_requests; a GIL never under fifo or io makes no
 * handoff, one never under io no preemption; GET_POLICY and the page show
 * the policy set last.
 */
#include "stress.h"

#define STALL_BOUND_S	30	/* TCG with KASAN is 10-100x slower */
#define JOIN_BOUND_MS	60000
#define POLICY_GAP_MS	100	/* a policy changes every 5..POLICY_GAP_MS */

enum part { PART_CPU, PART_IO, PART_BURST, NR_PARTS };

static const char *const part_names[NR_PARTS] = { "cpu", "io", "burst" };

struct load_gil {
	int fd;
	const struct gil_page *page;
	atomic_int inside;
	long counter;			/* only ever touched under the GIL */
	atomic_long overlaps;		/* entries with "inside" already set */
	atomic_long increments;		/* what the threads added */
	atomic_long acquisitions;	/* successful ACQUIREs and YIELDs */
	atomic_long releases;		/* successful RELEASEs and YIELDs */
};

struct load_thread {
	int id;
	enum part part;
	struct load_gil *gil;
	uint64_t rng;
	long yields, failures;
	struct progress *progress;
	pthread_t th;
};

static atomic_int stop;
static atomic_long call_failures;
static struct policy_book *pbook;	/* per GIL; the policy thread's */
static atomic_long policy_failures;
/* All threads start together: started ones would starve the creator. */
static pthread_barrier_t start_line;

/* Report a failed call once per thread, count every one. */
static void call_failed(struct load_thread *t, const char *call)
{
	if (!t->failures++)
		printf("    thread %d (%s): %s failed: %s\n", t->id,
		       part_names[t->part], call, strerror(errno));
	atomic_fetch_add(&call_failures, 1);
}

/* Just taken: check that no one else is inside, and add one. */
static void enter(struct load_thread *t)
{
	struct load_gil *g = t->gil;
	long v;

	if (atomic_exchange(&g->inside, 1))
		atomic_fetch_add(&g->overlaps, 1);
	atomic_fetch_add(&g->acquisitions, 1);
	progress_stamp(t->progress);

	v = g->counter;
	/* A holder that overlapped us would write in this window. */
	for (int i = 0; i < 50; i++)
		__asm__ volatile("" ::: "memory");
	g->counter = v + 1;
	atomic_fetch_add(&g->increments, 1);
}

static void leave(struct load_thread *t)
{
	atomic_store(&t->gil->inside, 0);
}

static int take(struct load_thread *t)
{
	if (ioctl(t->gil->fd, GIL_IOC_ACQUIRE)) {
		call_failed(t, "ACQUIRE");
		return -1;
	}
	enter(t);
	return 0;
}

static void give(struct load_thread *t)
{
	leave(t);
	if (ioctl(t->gil->fd, GIL_IOC_RELEASE))
		call_failed(t, "RELEASE");
	else
		atomic_fetch_add(&t->gil->releases, 1);
}

/* Answer a drop request: leave, yield, and count the new entry. */
static int yield(struct load_thread *t)
{
	leave(t);
	if (ioctl(t->gil->fd, GIL_IOC_YIELD)) {
		call_failed(t, "YIELD");
		return -1;
	}
	atomic_fetch_add(&t->gil->releases, 1);
	t->yields++;
	enter(t);
	return 0;
}

/* Bytecode until a drop request, or a few thousand steps at most. */
static int run_cpu(struct load_thread *t)
{
	long steps = 1000 + (long)rng_below(&t->rng, 5000);

	if (take(t))
		return -1;
	while (steps-- > 0 && !atomic_load(&stop)) {
		if (!t_drop_requested(t->gil->page))
			continue;
		if (yield(t))
			return -1;
	}
	give(t);
	return 0;
}

static int run_io(struct load_thread *t)
{
	if (take(t))
		return -1;
	give(t);
	t_sleep_us(100 + (long)rng_below(&t->rng, 2000));
	return 0;
}

static int run_burst(struct load_thread *t)
{
	for (int i = 0; i < 10; i++) {
		if (take(t))
			return -1;
		give(t);
	}
	sched_yield();
	return 0;
}

static void *load_main(void *arg)
{
	struct load_thread *t = arg;
	int ret = 0;

	pthread_barrier_wait(&start_line);
	if (ioctl(t->gil->fd, GIL_IOC_ATTACH)) {
		call_failed(t, "ATTACH");
		return NULL;
	}
	progress_stamp(t->progress);
	while (!atomic_load(&stop) && !ret) {
		switch (t->part) {
		case PART_CPU:
			ret = run_cpu(t);
			break;
		case PART_IO:
			ret = run_io(t);
			break;
		default:
			ret = run_burst(t);
			break;
		}
	}
	if (ioctl(t->gil->fd, GIL_IOC_DETACH))
		call_failed(t, "DETACH");
	atomic_store(&t->progress->stamp, 0);	/* done: no longer watched */
	return NULL;
}

/* Every few milliseconds, a random GIL changes its handoff policy. */
static void *policy_main(void *arg)
{
	struct stress_opts *o = arg;
	uint64_t rng = rng_seed(o->seed, o->threads);

	while (!atomic_load(&stop)) {
		t_sleep_ms(5 + rng_below(&rng, POLICY_GAP_MS - 5));
		if (atomic_load(&stop) || !policy_change(pbook, o->gils, &rng))
			continue;
		if (!atomic_fetch_add(&policy_failures, 1))
			printf("    SET_POLICY failed: %s\n", strerror(errno));
	}
	return NULL;
}

/* The module's books against the threads': counts that must agree. */
static int check_books(struct load_gil *g, int i, struct gil_stats *st)
{
	long counted = atomic_load(&g->acquisitions);
	long released = atomic_load(&g->releases);
	const char *why;
	char text[200];

	if (t_gil_stats(g->fd, st)) {
		printf("    GIL %d: GET_STATS failed: %s\n", i,
		       strerror(errno));
		return -1;
	}
	if (g->counter
 != atomic_load(&g->increments) ||
	    (long)st->acquisitions != counted ||
	    (long)(st->forced_switches + st->voluntary_releases) != released ||
	    st->switch_number != T_PAGE_LOAD(g->page->switch_number)) {
		printf("    GIL %d: counter %ld, increments %ld, "
		       "acquisitions %ld (module: %llu), releases %ld (module: "
		       "%llu forced + %llu voluntary), switches %llu (page: "
		       "%llu)\n", i, g->counter, atomic_load(&g->increments),
		       counted, (unsigned long long)st->acquisitions, released,
		       (unsigned long long)st->forced_switches,
		       (unsigned long long)st->voluntary_releases,
		       (unsigned long long)st->switch_number,
		       (unsigned long long)T_PAGE_LOAD(g->page->switch_number));
		return -1;
	}
	why = policy_stats(st, pbook[i].had, 0);
	if (why) {
		printf("    GIL %d (policies %s): %s: %s\n", i,
		       pbook[i].history, why, stats_text(st, text, sizeof(text)));
		return -1;
	}
	why = policy_final(&pbook[i], g->page);
	if (why) {
		printf("    GIL %d: %s (%s)\n", i, why,
		       policy_names[pbook[i].now]);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct stress_opts o = { .seconds = 10, .threads = 64, .gils = 4 };
	struct load_gil *gils;
	struct load_thread *threads;
	struct progress *progress;
	long overlaps = 0, acquisitions = 0, yields = 0, switches = 0;
	long handoffs = 0, io_preemptions = 0, policy_changes;
	int stalled = -1, unjoined = 0, books = 0, never = 0, findings;
	int64_t start = t_now_ns(), join_deadline;
	char text[200];
	uint64_t rng;
	pthread_t policy_th;
	int policy_started;
	int *fds;
	char mix[64];

	setvbuf(stdout, NULL, _IOLBF, 0);
	stress_parse(argc, argv, &o);
	/* Its checks count on every ATTACH working; it runs for -d. */
	if (o.faults || o.count)
		stress_usage(argv[0], &o);
	gils = calloc(o.gils, sizeof(*gils));
	threads = calloc(o.threads, sizeof(*threads));
	progress = calloc(o.threads, sizeof(*progress));
	pbook = calloc(o.gils, sizeof(*pbook));
	fds = calloc(o.gils, sizeof(*fds));
	if (!gils || !threads || !progress || !pbook || !fds)
		return 1;
	rng = rng_seed(o.seed, o.threads + 1);

	for (int i = 0; i < o.gils; i++) {
		gils[i].fd = t_open_dev();
		gils[i].page = gils[i].fd < 0 ? NULL : t_map_page(gils[i].fd);
		if (!gils[i].page) {
			printf("not ok - stress-load: open and map %d GILs (%s)\n",
			       o.gils, strerror(errno));
			return 1;
		}
		fds[i] = gils[i].fd;
	}
	/* Only wake-ups end GIL 0's waits: see the top of the file. */
	if (t_set_interval(gils[0].fd, GIL_INTERVAL_MAX_US)) {
		printf("not ok - stress-load: set GIL 0's interval (%s)\n",
		       strerror(errno));
		return 1;
	}
	if (policy_deal(pbook, fds, o.gils, &rng)) {
		printf("not ok - stress-load: set the GILs' policies (%s)\n",
		       strerror(errno));
		return 1;
	}
	pthread_barrier_init(&start_line, NULL, o.threads + 1);
	for (int i = 0; i < o.threads; i++) {
		struct load_thread *t = &threads[i];

		t->id = i;
		t->gil = &gils[i % o.gils];
		t->part = (enum part)((i / o.gils) % NR_PARTS);
		t->rng = rng_seed(o.seed, i);
		t->progress = &progress[i];
		if (pthread_create(&t->th, NULL, load_main, t)) {
			printf("not ok - stress-load: start %d threads\n",
			       o.threads);
			return 1;
		}
	}

	pthread_barrier_wait(&start_line);
	policy_started = !pthread_create(&policy_th, NULL, policy_main, &o);
	if (!policy_started)
		atomic_fetch_add(&policy_failures, 1);
	stalled = progress_watch(stress_deadline(&o), progress, o.threads,
				 STALL_BOUND_S * 1000000000LL, NULL, 0);
	atomic_store(&stop, 1);
	if (policy_started)
		pthread_join(policy_th, NULL);
	/* One bound for all: stuck threads must not add up their waits. */
	join_deadline = t_now_ns() + JOIN_BOUND_MS * 1000000LL;
	for (int i = 0; i < o.threads; i++) {
		long left = T_MS(join_deadline - t_now_ns());

		if (t_join_within(threads[i].th, left > 0 ? left : 1)) {
			printf("    thread %d (%s, GIL %d) did not end\n", i,
			       part_names[threads[i].part], i % o.gils);
			unjoined++;
		}
	}
	for (int i = 0; i < o.gils && unjoined; i++) {
		const struct gil_page *pg = gils[i].page;

		printf("    GIL %d: locked %u, switch_number %llu, policy %s "
		       "(%s)\n", i, T_PAGE_LOAD(pg->locked),
		       (unsigned long long)T_PAGE_LOAD(pg->switch_number),
		       policy_names[pbook[i].now], pbook[i].history);
	}
	/* With threads still inside the kernel, the books cannot balance. */
	for (int i = 0; i < o.gils && !unjoined; i++) {
		struct gil_stats st;

		overlaps += atomic_load(&gils[i].overlaps);
		acquisitions += atomic_load(&gils[i].acquisitions);
		memset(&st, 0, sizeof(st));
		if (check_books(&gils[i], i, &st))
			books++;
		switches += st.switch_number;
		handoffs += st.direct_handoffs;
		io_preemptions += st.io_preemptions;
		printf("#   GIL %d: policies %s (%ld changes), %s\n", i,
		       pbook[i].history, pbook[i].changes,
		       stats_text(&st, text, sizeof(text)));
		t_close_gil(gils[i].fd, gils[i].page);
	}
	for (int i = 0; i < o.threads; i++) {
		yields += threads[i].yields;
		/* The stamp at attach counts one. */
		if (atomic_load(&progress[i].count) < 2) {
			printf("    thread %d never got the GIL\n", i);
			never++;
		}
	}
	if (stalled >= 0)
		printf("    thread %d (%s) waited over %d s for the GIL\n",
		       stalled, part_names[threads[stalled].part],
		       STALL_BOUND_S);

	printf("%s - stress-load: mutual exclusion held (%ld overlaps)\n",
	       overlaps ? "not ok" : "ok", overlaps);
	printf("%s - stress-load: every thread got the GIL within %d s, "
	       "all the run long\n", stalled >= 0 || never ? "not ok" : "ok",
	       STALL_BOUND_S);
	printf("%s - stress-load: every thread ended\n",
	       unjoined ? "not ok" : "ok");
	printf("%s - stress-load: every call succeeded (%ld failed)\n",
	       atomic_load(&call_failures) ? "not ok" : "ok",
	       atomic_load(&call_failures));
	printf("%s - stress-load: every policy change succeeded (%ld failed)\n",
	       atomic_load(&policy_failures) ? "not ok" : "ok",
	       atomic_load(&policy_failures));
	printf("%s - stress-load: counters and the module's statistics "
	       "agree, under every policy\n",
	       books || unjoined ? "not ok" : "ok");
	findings = (overlaps > 0) + (stalled >= 0) + never +
		   (atomic_load(&call_failures) > 0) +
		   (atomic_load(&policy_failures) > 0) + books + unjoined;
	policy_changes = policy_mix(pbook, o.gils, mix, sizeof(mix));
	printf("# stress-load: seconds=%.1f threads=%d gils=%d "
	       "acquisitions=%ld yields=%ld switches=%ld longest_wait_ms=%ld "
	       "policies=%s policy_changes=%ld direct_handoffs=%ld "
	       "io_preemptions=%ld findings=%d\n", (t_now_ns() - start) / 1e9,
	       o.threads, o.gils, acquisitions, yields, switches,
	       progress_longest_ms(progress, o.threads), mix, policy_changes,
	       handoffs, io_preemptions, findings);
	return findings ? 1 : 0;
}
