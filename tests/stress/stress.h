/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared by the stress programs (fuzz.c, chaos.c, load.c), which run in
 * the test guest against /dev/gil: their options, a per-thread random
 * number generator, progress stamps for the "no thread waits forever"
 * checks, the summary line, and the books of the GILs' handoff policies
 * (chaos and load).
 *
 * Every program prints TAP lines ("ok - stress-NAME: ..." or "not ok -
 * ...") for what it checked, then one summary line
 *   # stress-NAME: seconds=S key=value ... findings=N
 * which tests/stress.sh collects.  A finding is any result the ABI does
 * not document, or a broken invariant; a program with findings exits 1.
 */
#ifndef GIL_STRESS_H
#define GIL_STRESS_H

#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>

#include "../uapi/uapi.h"

struct stress_opts {
	double seconds;		/* -d: how long to run */
	int threads;		/* -t: threads (per process where it applies) */
	int gils;		/* -g: GILs */
	uint64_t seed;		/* -s: first seed; each thread derives its own */
	int faults;		/* -f: calls fail their allocations at random */
	long count;		/* -n: end once this many (0: at -d only) */
};

static inline void stress_usage(const char *name, const struct stress_opts *o)
{
	fprintf(stderr,
		"usage: %s [-d seconds] [-t threads] [-g gils] [-s seed] [-f]"
		" [-n count]\n"
		"defaults: -d %g -t %d -g %d, seed from the clock\n"
		"-f: calls fail their allocations at random (the kernel's\n"
		"    fault injection, /proc/thread-self/fail-nth)\n"
		"-n: end at -d or once the run made this many of what it\n"
		"    counts first (calls, kills), whichever comes first\n",
		name, o->seconds, o->threads, o->gils);
	exit(2);
}

/* Parse the common options over the defaults already in @o. */
static inline void stress_parse(int argc, char **argv, struct stress_opts *o)
{
	int c;

	o->seed = (uint64_t)t_now_ns();
	while ((c = getopt(argc, argv, "d:t:g:s:fn:h")) != -1) {
		switch (c) {
		case 'd':
			o->seconds = atof(optarg);
			break;
		case 't':
			o->threads = atoi(optarg);
			break;
		case 'g':
			o->gils = atoi(optarg);
			break;
		case 's':
			o->seed = strtoull(optarg, NULL, 0);
			break;
		case 'f':
			o->faults = 1;
			break;
		case 'n':
			o->count = atol(optarg);
			break;
		default:
			stress_usage(argv[0], o);
		}
	}
	if (o->seconds <= 0 || o->threads < 1 || o->gils < 1 || o->count < 0)
		stress_usage(argv[0], o);
	/* The seed comes first, so that a failing run can be repeated. */
	printf("# %s: seed %" PRIu64 "\n", argv[0], o->seed);
	fflush(stdout);
}

/* -f: let allocations fail (t_fail_nth_setup()), or end the program. */
static inline void stress_faults_setup(const char *name)
{
	if (t_fail_nth_setup() == 0)
		return;
	printf("not ok - %s: fault injection set up (%s: -f needs a kernel "
	       "with CONFIG_FAULT_INJECTION, and debugfs)\n", name,
	       strerror(errno));
	exit(1);
}

static inline int64_t stress_deadline(const struct stress_opts *o)
{
	return t_now_ns() + (int64_t)(o->seconds * 1e9);
}

/*
 * printf through write(2), not stdio: forked children and killed workers
 * print too, and must neither take a stdio lock another thread held at
 * fork nor leave half a buffer to be flushed twice.
 */
static inline void out(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void out(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0 && write(STDOUT_FILENO, buf, n) < 0)
		return;
}

/* xorshift64*: small, fast, and good enough to pick calls and victims. */
static inline uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* A seed for stream @n of @seed; never 0, which xorshift cannot leave. */
static inline uint64_t rng_seed(uint64_t seed, uint64_t n)
{
	uint64_t s = seed + 0x9E3779B97F4A7C15ULL * (n + 1);

	return rng_next(&s) | 1;
}

static inline uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return rng_next(s) % n;
}

/* True with probability @pct percent. */
static inline int rng_chance(uint64_t *s, unsigned int pct)
{
	return rng_below(s, 100) < pct;
}

/*
 * -f: arm the calling thread's fail-nth (@fd; -1: never) for one call in
 * @pct percent, to fail one of its first @depth allocations; 1 if armed.
 */
static inline int stress_fault_arm(int fd, uint64_t *rng, unsigned int pct,
				   unsigned int depth)
{
	if (fd < 0 || !rng_chance(rng, pct))
		return 0;
	t_fail_nth_arm(fd, 1 + rng_below(rng, depth));
	return 1;
}

/* After a call @armed for: 1 if its allocation failed, counted in @count. */
static inline int stress_fault_fired(int fd, int armed, atomic_long *count)
{
	if (!armed || !t_fail_nth_fired(fd))
		return 0;
	atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
	return 1;
}

/*
 * Progress stamps: a thread stamps its slot each time it gets the GIL; a
 * slot older than the bound, while the run goes on, is a thread that
 * waits forever (a lost wake-up, or a GIL never recovered).  The slots
 * may live in shared memory, so that a parent watches its children.
 */
struct progress {
	_Atomic int64_t stamp;	/* t_now_ns() at the last progress; 0: idle */
	atomic_long count;	/* times it made progress */
	_Atomic int64_t longest;	/* longest time between two stamps */
};

/* Only the slot's own thread stamps it; others just read. */
static inline void progress_stamp(struct progress *p)
{
	int64_t now = t_now_ns();
	int64_t last = atomic_load_explicit(&p->stamp, memory_order_relaxed);

	if (last && now - last > atomic_load_explicit(&p->longest,
						      memory_order_relaxed))
		atomic_store_explicit(&p->longest, now - last,
				      memory_order_relaxed);
	atomic_store_explicit(&p->stamp, now, memory_order_relaxed);
	atomic_fetch_add_explicit(&p->count, 1, memory_order_relaxed);
}

/* The longest wait of any slot, in milliseconds. */
static inline long progress_longest_ms(struct progress *p, int n)
{
	int64_t longest = 0;
	int i;

	for (i = 0; i < n; i++)
		if (atomic_load(&p[i].longest) > longest)
			longest = atomic_load(&p[i].longest);
	return (long)T_MS(longest);
}

/* Index of the first slot stuck for longer than @bound_ns, or -1. */
static inline int progress_stalled(struct progress *p, int n, int64_t bound_ns)
{
	int64_t now = t_now_ns(), stamp;
	int i;

	for (i = 0; i < n; i++) {
		stamp = atomic_load_explicit(&p[i].stamp, memory_order_relaxed);
		if (stamp && now - stamp > bound_ns)
			return i;
	}
	return -1;
}

/*
 * Watch @n slots until @deadline, or until *@count reaches @enough when
 * that is not 0, every 100 ms: the index of the first slot stuck for
 * longer than @bound_ns (the watch ends there), or -1 when the run reached
 * its end with every thread making progress.
 */
static inline int progress_watch(int64_t deadline, struct progress *p, int n,
				 int64_t bound_ns, atomic_long *count, long enough)
{
	int stalled;

	while (t_now_ns() < deadline &&
	       !(enough && atomic_load(count) >= enough)) {
		t_sleep_ms(100);
		stalled = progress_stalled(p, n, bound_ns);
		if (stalled >= 0)
			return stalled;
	}
	return -1;
}

/*
 * Handoff policies (ABI 1.1) over a run, for chaos and load: each GIL
 * starts under one, dealt round the GILs from a random one on so that
 * every policy has GILs when there are enough, and changes at random
 * moments.  One thread sets them; what a GIL has been under bounds what
 * its statistics may show, and the last policy set is what it has.
 */
static const char *const policy_names[GIL_POLICY_COUNT] = {
	[GIL_POLICY_CPYTHON] = "cpython",
	[GIL_POLICY_FIFO] = "fifo",
	[GIL_POLICY_IO] = "io",
};

struct policy_book {
	int fd;
	__u32 now;		/* the policy last set */
	unsigned int had;	/* bit p: the GIL was under policy p */
	long periods[GIL_POLICY_COUNT];	/* times it was set to each */
	long changes;		/* SET_POLICYs after the first */
	char history[64];	/* "cpython>fifo>io", cut short */
};

#define POLICY_BIT(p)	(1u << (p))
#define POLICY_ANY_HANDOFF \
	(POLICY_BIT(GIL_POLICY_FIFO) | POLICY_BIT(GIL_POLICY_IO))

/* SET_POLICY @policy on @b's GIL, and note it; 0, or -1 with errno. */
static inline int policy_set(struct policy_book *b, __u32 policy)
{
	size_t n = strlen(b->history);

	if (ioctl(b->fd, GIL_IOC_SET_POLICY, &policy))
		return -1;
	if (b->had)
		b->changes++;
	b->now = policy;
	b->had |= POLICY_BIT(policy);
	b->periods[policy]++;
	if (n + 12 < sizeof(b->history))
		snprintf(b->history + n, sizeof(b->history) - n, "%s%s",
			 n ? ">" : "", policy_names[policy]);
	else if (n + 4 < sizeof(b->history) &&
		 strcmp(b->history + n - 3, "...") != 0)
		strcpy(b->history + n, "...");
	return 0;
}

/* The first policies of @n GILs, whose descriptors are @fds. */
static inline int policy_deal(struct policy_book *b, const int *fds, int n,
			      uint64_t *rng)
{
	unsigned int first = rng_below(rng, GIL_POLICY_COUNT);

	for (int i = 0; i < n; i++) {
		memset(&b[i], 0, sizeof(b[i]));
		b[i].fd = fds[i];
		if (policy_set(&b[i], (first + i) % GIL_POLICY_COUNT))
			return -1;
	}
	return 0;
}

/* A random GIL of @n changes to another policy; 0, or -1 with errno. */
static inline int policy_change(struct policy_book *b, int n, uint64_t *rng)
{
	struct policy_book *g = &b[rng_below(rng, n)];
	__u32 to = g->now + 1 + rng_below(rng, GIL_POLICY_COUNT - 1);

	return policy_set(g, to % GIL_POLICY_COUNT);
}

/*
 * The mix of @n GILs' policies, "cpython:N,fifo:N,io:N" in @buf: how many
 * times a GIL was put under each (dealt or changed to).  Returns the
 * number of changes.
 */
static inline long policy_mix(const struct policy_book *b, int n, char *buf,
			      size_t len)
{
	long changes = 0, periods[GIL_POLICY_COUNT] = { 0 };
	size_t o = 0;

	for (int i = 0; i < n; i++) {
		changes += b[i].changes;
		for (int p = 0; p < GIL_POLICY_COUNT; p++)
			periods[p] += b[i].periods[p];
	}
	buf[0] = 0;
	for (int p = 0; p < GIL_POLICY_COUNT && o < len; p++)
		o += snprintf(buf + o, len - o, "%s%s:%ld", p ? "," : "",
			      policy_names[p], periods[p]);
	return changes;
}

/*
 * After the run: GET_POLICY and the page (@pg) say the policy last set.
 * NULL, or what is wrong.
 */
static inline const char *policy_final(const struct policy_book *b,
				       const struct gil_page *pg)
{
	__u32 got = GIL_POLICY_COUNT;

	if (ioctl(b->fd, GIL_IOC_GET_POLICY, &got))
		return "GET_POLICY failed";
	if (got != b->now)
		return "GET_POLICY is not the policy last set";
	if (T_PAGE_LOAD(pg->policy) != b->now)
		return "the page's policy is not the policy last set";
	return NULL;
}

/*
 * The statistics of a GIL whose threads all ended, against the policies
 * it had: NULL, or the rule they break.  @lost is how many threads were
 * killed waiting in ACQUIRE or YIELD: one of them may have been handed
 * the GIL (a change of owner, a direct handoff) and died before it took
 * it (no acquisition).  Every other handoff went to a waiter that took
 * the GIL, so is one of its contended acquisitions.
 */
static inline const char *policy_stats(const struct gil_stats *st,
				       unsigned int had, long lost)
{
	__u64 slack = had & POLICY_ANY_HANDOFF ? (__u64)lost : 0;

	if (st->forced_switches > st->drop_requests)
		return "forced_switches > drop_requests";
	if (st->io_preemptions > st->drop_requests)
		return "io_preemptions > drop_requests";
	if (st->switch_number > st->acquisitions + slack)
		return "switch_number > acquisitions (+ waiters killed)";
	if (st->direct_handoffs > st->switch_number)
		return "direct_handoffs > switch_number";
	if (st->direct_handoffs > st->contended + slack)
		return "direct_handoffs > contended (+ waiters killed)";
	if (!(had & POLICY_ANY_HANDOFF) && st->direct_handoffs)
		return "direct handoffs, never under fifo or io";
	if (!(had & POLICY_BIT(GIL_POLICY_IO)) && st->io_preemptions)
		return "io preemptions, never under io";
	return NULL;
}

/* The counters policy_stats() looks at, as text for a finding or a summary. */
static inline const char *stats_text(const struct gil_stats *st, char *buf,
				     size_t len)
{
	snprintf(buf, len, "acquisitions %llu (contended %llu), switches %llu, "
		 "direct handoffs %llu, drop requests %llu (forced %llu, io %llu)",
		 (unsigned long long)st->acquisitions,
		 (unsigned long long)st->contended,
		 (unsigned long long)st->switch_number,
		 (unsigned long long)st->direct_handoffs,
		 (unsigned long long)st->drop_requests,
		 (unsigned long long)st->forced_switches,
		 (unsigned long long)st->io_preemptions);
	return buf;
}

#endif
