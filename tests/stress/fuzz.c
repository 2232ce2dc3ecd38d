// SPDX-License-Identifier: GPL-2.0
/*
 * stress-fuzz: an ABI fuzzer for /dev/gil.
 *
 * Threads share a table of GILs (slots) and loop, each on its own random
 * stream, over weighted random operations:
 *   - ioctls: the real commands with good arguments, the real commands
 *     with bad ones (NULL, unmapped, PROT_NONE, read-only, kernel and
 *     garbage pointers, objects straddling the end of a mapping, the
 *     GIL's own read-only page), the same numbers with other direction
 *     and size bits, other numbers under the GIL's magic, other magics,
 *     random values, and commands with garbage in the upper 32 bits;
 *   - mmap of a GIL with random length, offset, protection and flags;
 *     mprotect, mremap and munmap of the mappings, and reads of the page;
 *   - dup of a GIL's descriptor, calls on the duplicate, close;
 *   - racing close: a slot's GIL is replaced under the other threads'
 *     calls, by dup2() of a new GIL onto its number, or by close() and a
 *     reopen into the same number (calls in between see EBADF), then shut
 *     down (GIL_IOC_SHUTDOWN) through a descriptor kept for it, which
 *     ends the waits and holds our threads had there (ESHUTDOWN, and an
 *     owner death for the next taker);
 *   - fork: a child uses the inherited GILs for a few calls and exits
 *     (sometimes holding a GIL), or is SIGKILLed at a random moment;
 *   - a helper thread that attaches, acquires and exits holding the GIL;
 *   - handoff policies (ABI 1.1): SET_POLICY with valid and invalid
 *     policies under all of the above, so that the GILs switch between
 *     cpython, fifo and io while threads wait, take, yield and die;
 *   - options (ABI 2.3): SET_OPTIONS with GIL_OPT_PREEMPT_AWARE on and
 *     off, sometimes with bits outside GIL_OPTS_ALL, under all of the
 *     above, so that waits switch between the wall-clock interval and
 *     the one that stops while the holder waits for a CPU.
 *
 * Every result is checked against uapi/linux/gil.h.  Each thread keeps
 * what it knows of its own state on each GIL (attached? holding?), so
 * most calls have exactly one right answer.  A slot's generation counter
 * is odd while its GIL is being replaced and moves on with every
 * replacement; a call during which it moved may have landed on either
 * GIL, or on a closed descriptor, and is held to the union of what any
 * state allows, plus EBADF and ESHUTDOWN.  A result outside the allowed set, or a
 * broken invariant (the page's size and policy fields, the ABI major,
 * "locked" while we hold it, the statistics' sizes and sums, bytes written
 * past what GET_STATS reports, GET_OPTIONS's bits), is a finding.
 * GET_STATS fills and reports min(the caller's size, sizeof(struct
 * gil_stats)) bytes; under fifo and io a change of owner may be a direct
 * handoff, so switch_number is bounded by acquisitions + direct_handoffs.
 * At a quiet moment of a slot (no SET_POLICY under way or begun meanwhile,
 * no child alive, no replacement) GET_POLICY and the page agree, and name
 * the policy last set.  So with the options: at a quiet moment of them
 * (no SET_OPTIONS under way or begun meanwhile, no child alive, no
 * replacement) GET_OPTIONS and the fdinfo's options line agree, and name
 * the options last set; a SET_OPTIONS refused for its bits (EINVAL) left
 * them as GET_OPTIONS read them just before.  Whether this kernel has
 * GIL_OPT_PREEMPT_AWARE (EOPNOTSUPP) is asked once, before the run.
 *
 * The run cannot deadlock by design: a thread never waits in ACQUIRE or
 * YIELD while it holds (or may hold) another GIL, releases soon after it
 * takes one, answers drop requests it sees in the page with YIELD, and
 * never makes a call that can wait on a duplicate descriptor (whose GIL
 * may have left the slot with a forgotten holder).  A thread that makes
 * no progress for STALL_BOUND_S, or does not end, is a finding: a thread
 * that waits forever.
 *
 * With -f a quarter of the ioctls, mmaps, opens and fdinfo reads are
 * armed to fail one of their first three allocations (the kernel's fault
 * injection, fail-nth): ENOMEM where the ABI documents it (ATTACH, open,
 * mmap), EFAULT where a user page the call touches needed memory to fault
 * in, and otherwise the very result the call would have had; the thread's
 * book of its attachments must stay true (a failed ATTACH attached
 * nothing).  At least one allocation must have failed.
 *
 * The run ends with a table of what each operation cost, in the threads'
 * CPU time and in wall time: where a slow kernel's time goes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include "stress.h"

#define MAX_GILS	64
#define MAX_MAPS	4	/* live mappings of the page per thread */
#define STALL_BOUND_S	30	/* TCG with KASAN is 10-100x slower */
#define JOIN_BOUND_MS	60000
#define CHILD_TIMEOUT_S	30	/* a child's own alarm */
#define FINDINGS_SHOWN	20
#define SMALL_US	5000	/* intervals the GILs mostly keep */
#define BIG_US		20000	/* above this, set a small one again */

/*
 * Each thread's arena: pages at a fixed address far below where mmap()
 * places things (top-down from near the stack), so that its holes stay
 * holes while other threads map and unmap (a page from t_unmapped_page()
 * could be reused by the next mmap of one page).  Page by page:
 */
#if UINTPTR_MAX > 0xffffffffu
#define ARENA_BASE	0x200000000000UL
#else
/* A 32-bit process (-m32): between the brk heap and mmap's area. */
#define ARENA_BASE	0x30000000UL
#endif
#define ARENA_PAGES	16
enum {
	PG_RW = PROT_READ | PROT_WRITE,
	PG_RO = PROT_READ,
	PG_NONE = PROT_NONE,
	PG_HOLE = -1,
};

static const int arena_prot[ARENA_PAGES] = {
	PG_RW, PG_RW,	/* 0-1: the valid buffer (two pages) */
	PG_HOLE,	/* 2: end of page 1 straddles into nothing */
	PG_RW, PG_NONE,	/* 3-4: end of page 3 straddles into PROT_NONE */
	PG_RW, PG_RO,	/* 5-6: into read-only; page 6 holds fixed values */
	PG_HOLE, PG_HOLE, PG_HOLE, PG_HOLE, PG_HOLE,
	PG_HOLE, PG_HOLE, PG_HOLE, PG_HOLE,
};

/*
 * Values at the start of the read-only page, as __s64 (and as __u32: a
 * policy, a stats size, options).
 */
static const __s64 ro_values[] = {
	1000, -1, 0, 100, GIL_INTERVAL_MAX_US + 1, GIL_STATS_SIZE_VER0,
	GIL_INTERVAL_MAX_US, GIL_STATS_SIZE_VER1, GIL_POLICY_IO,
	GIL_POLICY_COUNT, GIL_STATS_SIZE_VER2, GIL_OPT_PREEMPT_AWARE,
	GIL_OPTS_ALL << 1, GIL_STATS_SIZE_VER3, GIL_OPT_PRIO_INHERIT,
};

/* ---- classes of calls, and what we count ------------------------------- */

enum cls {
	C_VERSION, C_ATTACH, C_DETACH, C_ACQUIRE, C_RELEASE, C_YIELD,
	C_GETINT, C_SETINT, C_STATS, C_GETPOL, C_SETPOL, C_TOKEN,
	C_GETOPT, C_SETOPT,
	NR_REAL,
	/* another number under 0xBD, or a real one's with other dir or size */
	C_BADNR = NR_REAL,
	C_FOREIGN,		/* another magic */
	C_MMAP, C_MPROTECT, C_MUNMAP, C_MREMAP,
	C_SHUTDOWN,		/* only by op_replace: see do_ioctl() */
	NCLS
};

static const char *const cls_names[NCLS] = {
	"GET_VERSION", "ATTACH", "DETACH", "ACQUIRE", "RELEASE", "YIELD",
	"GET_INTERVAL", "SET_INTERVAL", "GET_STATS", "GET_POLICY",
	"SET_POLICY", "GET_TOKEN", "GET_OPTIONS", "SET_OPTIONS", "other 0xBD",
	"foreign",
	"mmap", "mprotect", "munmap", "mremap", "SHUTDOWN",
};

static const unsigned int real_cmds[NR_REAL] = {
	GIL_IOC_GET_VERSION, GIL_IOC_ATTACH, GIL_IOC_DETACH, GIL_IOC_ACQUIRE,
	GIL_IOC_RELEASE, GIL_IOC_YIELD, GIL_IOC_GET_INTERVAL,
	GIL_IOC_SET_INTERVAL, GIL_IOC_GET_STATS, GIL_IOC_GET_POLICY,
	GIL_IOC_SET_POLICY, GIL_IOC_GET_TOKEN, GIL_IOC_GET_OPTIONS,
	GIL_IOC_SET_OPTIONS,
};

enum op {
	OP_REAL, OP_BAD, OP_MUTATED, OP_RANDOM, OP_EXTREME, OP_MMAP,
	OP_MPROTECT, OP_MUNMAP, OP_MREMAP, OP_READ, OP_POLICY, OP_OPTIONS,
	OP_DUP, OP_REPLACE, OP_FORK, OP_HELPER, NR_OPS
};

static const char *const op_name[NR_OPS] = {
	[OP_REAL] = "good calls", [OP_BAD] = "bad arguments",
	[OP_MUTATED] = "mutated numbers", [OP_RANDOM] = "random numbers",
	[OP_EXTREME] = "extreme values", [OP_MMAP] = "mmap",
	[OP_MPROTECT] = "mprotect", [OP_MUNMAP] = "munmap",
	[OP_MREMAP] = "mremap", [OP_READ] = "page reads",
	[OP_POLICY] = "policies", [OP_OPTIONS] = "options", [OP_DUP] = "dup",
	[OP_REPLACE] = "replacements", [OP_FORK] = "forks",
	[OP_HELPER] = "helper threads",
};

#define NERR 160	/* errno tallies; the last one counts anything else */

/* In shared memory: forked children count and report there too. */
struct shared {
	atomic_long calls;
	atomic_long tally[NCLS][NERR];
	atomic_long mmaps, maps_ok, closes, dups, forks, kills, helpers;
	atomic_long acquired, owner_dead, drop_yields;
	atomic_long stats_tight;	/* GET_STATS: a buffer < 352 bytes */
	atomic_long policy_sets, policy_checks;
	atomic_long options_sets, options_checks, options_refusals;
	/*
	 * The policy's quiet moments: SET_POLICY calls begun and ended on
	 * each slot by the first process's threads, children forked and
	 * reaped (a child may set any policy on the GILs it inherited).  While
	 * none of them moves, a slot's GIL has one policy, for all to see.
	 */
	atomic_long pol_begun[MAX_GILS], pol_ended[MAX_GILS];
	/* The same books for SET_OPTIONS. */
	atomic_long opt_begun[MAX_GILS], opt_ended[MAX_GILS];
	atomic_long forks_begun, forks_reaped;
	atomic_int bad_results, bad_invariants, child_problems, stuck;
	atomic_int printed;
	/* -f: the calls whose allocation failed, by class; opens, fdinfo. */
	atomic_long faults[NCLS], faults_open, faults_fdinfo;
	/* Where the run's time goes: per operation, its steps and costs. */
	atomic_long op_steps[NR_OPS], op_cpu_us[NR_OPS], op_wall_us[NR_OPS];
};

static struct shared *sh;

/* ---- slots, threads and what a thread knows ---------------------------- */

/*
 * A slot's descriptor number never changes; the GIL behind it does.  The
 * generation is odd while it is being replaced.
 */
struct slot {
	int fd;
	_Atomic unsigned int gen;
};

static struct slot *slots;
static int nslots;
/* Every descriptor allocation or close: keeps a replaced slot's number. */
static pthread_mutex_t fd_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int stop;
static long ps;
static int dev_noexec;		/* /dev is mounted noexec: no PROT_EXEC */
/* GIL_OPT_* this kernel provides (GIL_OPT_PREEMPT_AWARE may be missing). */
static __u32 opts_have;
static int in_child;
static int faults;		/* -f */

enum tri { NO, YES, UNK };

/* What a thread knows of itself on a slot's GIL of generation @gen. */
struct tstate {
	unsigned int gen;
	unsigned char attached, holding;
};

struct mapping {
	char *addr;
	int slot;
	int gen_ok;		/* mapped from the slot's GIL of @gen */
	unsigned int gen;
	int prot;
	__u64 last_sn;
};

struct worker {
	int id;
	uint64_t rng;
	struct tstate *st;	/* per slot */
	char *arena;		/* NULL: only calls without a pointer */
	struct mapping maps[MAX_MAPS];
	int nmaps;
	int hold_left;		/* steps before releasing what it holds */
	int fail_fd;		/* -f: the thread's fail-nth; else -1 */
	struct progress *progress;
	pthread_t th;
};

/* Where a call goes: a slot's descriptor or a duplicate of it. */
struct target {
	int s, fd;
	int dup;
	unsigned int gen;	/* dup: the slot's generation when duplicated */
};

/* ---- reporting --------------------------------------------------------- */

/* Print a finding unless FINDINGS_SHOWN were printed already. */
static int show_finding(void)
{
	int n = atomic_fetch_add(&sh->printed, 1);

	if (n == FINDINGS_SHOWN)
		out("    (further findings not shown)\n");
	return n < FINDINGS_SHOWN;
}

static const char *ename(int e)
{
	const char *n = e ? strerrorname_np(e) : "ok";

	return n ? n : "?";
}

static void invariant(const char *what, long long got, long long want)
{
	atomic_fetch_add(&sh->bad_invariants, 1);
	if (show_finding())
		out("    finding: invariant: %s: got %lld, want %lld%s\n", what,
		    got, want, in_child ? " (in a child)" : "");
}

/* ---- errno sets -------------------------------------------------------- */

/* A set of results: bit 0 is success, bit e is errno e. */
struct eset {
	uint64_t m[3];
};

static void es_add(struct eset *s, int e)
{
	if (e >= 0 && e < 192)
		s->m[e / 64] |= 1ULL << (e % 64);
}

static int es_has(const struct eset *s, int e)
{
	return e >= 0 && e < 192 && (s->m[e / 64] >> (e % 64) & 1);
}

static void es_str(const struct eset *s, char *buf, size_t len)
{
	size_t n = 0;
	int e;

	buf[0] = 0;
	for (e = 0; e < 192 && n < len; e++)
		if (es_has(s, e))
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      ename(e));
}

static void tally(int cls, long ret, int err)
{
	int i = ret == 0 ? 0 : ret == -1 && err > 0 && err < NERR - 1 ?
		err : NERR - 1;

	atomic_fetch_add_explicit(&sh->calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->tally[cls][i], 1, memory_order_relaxed);
}

/*
 * Count the result; whether it is one of @want (else report the call,
 * @what, and its circumstances, @ctx).
 */
static int judge(int cls, const struct eset *want, long ret, int err,
		 const char *what, const char *ctx)
{
	char ws[128];

	tally(cls, ret, err);
	if ((ret == 0 && es_has(want, 0)) ||
	    (ret == -1 && err > 0 && es_has(want, err)))
		return 1;
	atomic_fetch_add(&sh->bad_results, 1);
	if (show_finding()) {
		es_str(want, ws, sizeof(ws));
		out("    finding: %s ret=%ld errno=%d (%s) want {%s} %s%s\n",
		    what, ret, ret == -1 ? err : 0,
		    ret == -1 ? ename(err) : "-", ws, ctx,
		    in_child ? " (in a child)" : "");
	}
	return 0;
}

/* ---- the thread's state ------------------------------------------------ */

static unsigned int gen_load(int s)
{
	return atomic_load(&slots[s].gen);
}

/*
 * The state on slot @s as of generation @g: a new GIL knows no thread.
 * A call that raced a replacement left the state unknown as of the
 * generation the replacement ends at, which can be ahead of @g.
 */
static struct tstate *fresh(struct worker *w, int s, unsigned int g)
{
	struct tstate *st = &w->st[s];

	if ((int)(g - st->gen) > 0) {
		st->gen = g;
		st->attached = NO;
		st->holding = NO;
	}
	return st;
}

static struct tstate *now_state(struct worker *w, int s)
{
	return fresh(w, s, gen_load(s));
}

/* The slot where the thread holds, or may hold, a GIL; or -1. */
static int held_slot(struct worker *w)
{
	for (int s = 0; s < nslots; s++)
		if (now_state(w, s)->holding != NO)
			return s;
	return -1;
}

/* May the thread wait for slot @s: it holds no other GIL. */
static int can_wait(struct worker *w, int s)
{
	for (int i = 0; i < nslots; i++)
		if (i != s && now_state(w, i)->holding != NO)
			return 0;
	return 1;
}

static int classify(unsigned int cmd)
{
	for (int i = 0; i < NR_REAL; i++)
		if (cmd == real_cmds[i])
			return i;
	/* GET_STATS is matched on number and direction, whatever its size. */
	if (_IOC_TYPE(cmd) == GIL_IOC_MAGIC &&
	    _IOC_NR(cmd) == _IOC_NR(GIL_IOC_GET_STATS) &&
	    _IOC_DIR(cmd) == _IOC_DIR(GIL_IOC_GET_STATS))
		return C_STATS;
	if (cmd == GIL_IOC_SHUTDOWN)
		return C_SHUTDOWN;
	return _IOC_TYPE(cmd) == GIL_IOC_MAGIC ? C_BADNR : C_FOREIGN;
}

/*
 * Whether a call of class @cls on @t keeps the no-deadlock rule: it cannot
 * wait while the thread holds another GIL, and never waits on a duplicate.
 */
static int wait_ok(struct worker *w, const struct target *t, int cls)
{
	struct tstate *st;

	if (cls != C_ACQUIRE && cls != C_YIELD)
		return 1;
	if (t->dup)
		return 0;
	if (can_wait(w, t->s))
		return 1;
	/* Calls that cannot wait: EUNATCH, EDEADLK, EPERM. */
	st = now_state(w, t->s);
	if (cls == C_ACQUIRE)
		return st->attached == NO || st->holding == YES;
	return st->holding == NO;
}

/* ---- arguments --------------------------------------------------------- */

enum akind {
	A_VALID, A_MISALIGNED, A_NULL, A_HOLE, A_NONE, A_RDONLY, A_KERNEL,
	A_STRADDLE_HOLE, A_STRADDLE_NONE, A_STRADDLE_RO, A_RO_END, A_GARBAGE,
	A_GILPAGE, NR_AKINDS
};

static const char *const akind_names[NR_AKINDS] = {
	"valid", "misaligned", "null", "unmapped", "prot_none", "rdonly",
	"kernel", "straddle-unmapped", "straddle-prot_none",
	"straddle-rdonly", "rdonly-end", "garbage", "gilpage",
};

struct arg {
	enum akind kind;
	unsigned long val;
	long rd, wr;		/* bytes readable / writable from val */
	/* inputs, as the kernel will read them (valid if rd allows) */
	__s64 set_val;
	__u32 stats_size;
	__u32 pol_val;
	__u32 opt_val;
	char desc[64];
};

static char *arena_page(struct worker *w, int i)
{
	return w->arena + (long)i * ps;
}

/* Bytes accessible from @p on, as far as our own memory model knows. */
static long accessible(struct worker *w, unsigned long p, int write)
{
	unsigned long base = (unsigned long)w->arena, end, cur;
	long n = 0;
	int i;

	if (w->arena && p >= base && p < base + ARENA_PAGES * ps) {
		for (cur = p; cur < base + ARENA_PAGES * ps; cur = end) {
			i = (cur - base) / ps;
			end = base + (unsigned long)(i + 1) * ps;
			if (arena_prot[i] == PG_HOLE ||
			    !(arena_prot[i] & (write ? PROT_WRITE : PROT_READ)))
				break;
			n += end - cur;
		}
		return n;
	}
	for (i = 0; i < w->nmaps; i++) {
		struct mapping *m = &w->maps[i];
		unsigned long a = (unsigned long)m->addr;

		/* The page is never writable; what follows it, unknown. */
		if (p >= a && p < a + ps)
			return !write && (m->prot & PROT_READ) ?
			       (long)(a + ps - p) : 0;
	}
	return 0;	/* NULL, holes, kernel and non-canonical addresses */
}

static long pick_k(struct worker *w)
{
	static const long ks[] = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 100, 327, 328,
				   329, 336, 343, 344, 345, 351, 352, 353,
				   400 };

	if (rng_chance(&w->rng, 20))
		return 1 + rng_below(&w->rng, ps);
	return ks[rng_below(&w->rng, T_ARRAY_SIZE(ks))];
}

static const unsigned long kernel_ptrs[] = {
#if UINTPTR_MAX > 0xffffffffu
	0xffff888000000000UL, 0xffffffff81000000UL, 0xffffffffff600000UL,
	0xfffffe0000000000UL, 0x0000800000000000UL, 0xdead000000000000UL,
	0xfffffffffffffff8UL, 0xfffffffffffff000UL,
#else
	/* A 32-bit process's memory ends at 0xffffe000 (a compat task's). */
	0xffffe000UL, 0xfffff000UL, 0xfffffff8UL, 0xfffffffcUL,
#endif
};

/* A readable or PROT_NONE mapping of the page, to pass as an argument. */
static struct mapping *arg_mapping(struct worker *w)
{
	struct mapping *m;

	if (!w->nmaps)
		return NULL;
	m = &w->maps[rng_below(&w->rng, w->nmaps)];
	/* PROT_EXEC alone may be execute-only (protection keys). */
	if (m->prot != PROT_NONE && !(m->prot & PROT_READ))
		return NULL;
	return m;
}

static void make_arg(struct worker *w, struct arg *a, enum akind kind, int cls)
{
	unsigned long v = 0;
	long k = 0;
	struct mapping *m;
	int i;

	if (!w->arena)		/* helper threads: no pointers */
		kind = A_NULL;
	switch (kind) {
	case A_VALID:
		v = (unsigned long)arena_page(w, 0) +
		    (rng_chance(&w->rng, 70) ? 0 : 8 * rng_below(&w->rng, 256));
		break;
	case A_MISALIGNED:
		v = (unsigned long)arena_page(w, 0) + 1 +
		    rng_below(&w->rng, 7) + 8 * rng_below(&w->rng, 128);
		break;
	case A_NULL:
		break;
	case A_HOLE:
		i = rng_chance(&w->rng, 50) ? 2 : 7 + rng_below(&w->rng, 9);
		v = (unsigned long)arena_page(w, i) +
		    (rng_chance(&w->rng, 50) ? 0 : rng_below(&w->rng, ps));
		break;
	case A_NONE:
		v = (unsigned long)arena_page(w, 4) +
		    (rng_chance(&w->rng, 50) ? 0 : rng_below(&w->rng, ps));
		break;
	case A_RDONLY:
		v = (unsigned long)arena_page(w, 6) +
		    (rng_chance(&w->rng, 80) ?
		     8 * rng_below(&w->rng, T_ARRAY_SIZE(ro_values)) :
		     rng_below(&w->rng, ps - 8));
		break;
	case A_KERNEL:
		v = kernel_ptrs[rng_below(&w->rng, T_ARRAY_SIZE(kernel_ptrs))];
		break;
	case A_STRADDLE_HOLE:
		k = pick_k(w);
		v = (unsigned long)arena_page(w, 2) - k;
		break;
	case A_STRADDLE_NONE:
		k = pick_k(w);
		v = (unsigned long)arena_page(w, 4) - k;
		break;
	case A_STRADDLE_RO:
		k = pick_k(w);
		v = (unsigned long)arena_page(w, 6) - k;
		break;
	case A_RO_END:
		k = pick_k(w);
		v = (unsigned long)arena_page(w, 7) - k;
		break;
	case A_GARBAGE:
		/*
		 * Never an address of ours: the kernel half (in a 32-bit
		 * process, past the end of a compat task's), or below 4 KiB.
		 */
#if UINTPTR_MAX > 0xffffffffu
		v = rng_chance(&w->rng, 50) ? rng_next(&w->rng) | 1UL << 63
					    : rng_below(&w->rng, 4096);
#else
		v = rng_chance(&w->rng, 50) ? 0xffffe000UL | rng_next(&w->rng)
					    : rng_below(&w->rng, 4096);
#endif
		break;
	case A_GILPAGE:
		m = arg_mapping(w);
		if (!m) {
			make_arg(w, a, A_VALID, cls);
			return;
		}
		/*
		 * The size field (128: EINVAL as a stats size, a policy and
		 * options), the interval or the policy (always valid to set),
		 * or "locked" (0 or 1: valid options, where the kernel has
		 * GIL_OPT_PREEMPT_AWARE).  Written to, it is EFAULT
		 * (GET_POLICY and GET_OPTIONS too).
		 */
		v = (unsigned long)m->addr;
		if (cls == C_SETINT)
			v += offsetof(struct gil_page, interval_us);
		else if (cls == C_SETPOL && rng_chance(&w->rng, 50))
			v += offsetof(struct gil_page, policy);
		else if (cls == C_SETOPT && rng_chance(&w->rng, 50))
			v += offsetof(struct gil_page, locked);
		else if (cls != C_STATS && cls != C_SETPOL && cls != C_SETOPT)
			v += 8 * rng_below(&w->rng, 4);
		break;
	default:
		break;
	}
	a->kind = kind;
	a->val = v;
	a->rd = accessible(w, v, 0);
	a->wr = accessible(w, v, 1);
	if (k)
		snprintf(a->desc, sizeof(a->desc), "%s-%ld", akind_names[kind],
			 k);
	else
		snprintf(a->desc, sizeof(a->desc), "%s:%#lx", akind_names[kind],
			 v);
}

/* A good pointer: the valid buffer, aligned or not. */
static void good_arg(struct worker *w, struct arg *a, int cls)
{
	make_arg(w, a, rng_chance(&w->rng, 85) ? A_VALID : A_MISALIGNED, cls);
}

static void bad_arg(struct worker *w, struct arg *a, int cls)
{
	enum akind k = A_NULL + rng_below(&w->rng, NR_AKINDS - A_NULL);

	make_arg(w, a, k, cls);
}

static void any_arg(struct worker *w, struct arg *a, int cls)
{
	if (rng_chance(&w->rng, 50))
		good_arg(w, a, cls);
	else
		bad_arg(w, a, cls);
}

/* An interval to set: mostly small and valid, sometimes not. */
static __s64 interval_value(struct worker *w)
{
	switch (rng_below(&w->rng, 20)) {
	case 0:
		return 0;
	case 1:
		return -1 - (__s64)rng_below(&w->rng, 1000000);
	case 2:
		return 1;
	case 3:
		return GIL_INTERVAL_DEFAULT_US;
	default:
		return 1 + (__s64)rng_below(&w->rng, SMALL_US);
	}
}

static __s64 extreme_interval(struct worker *w)
{
	static const __s64 vals[] = {
		GIL_INTERVAL_MAX_US, GIL_INTERVAL_MAX_US + 1,
		GIL_INTERVAL_MAX_US - 1, INT64_MAX, INT64_MIN, -1, 0, 1,
		(__s64)1 << 32, ((__s64)1 << 32) + 1000, 4294967295LL,
	};

	if (rng_chance(&w->rng, 30))
		return (__s64)rng_next(&w->rng);
	return vals[rng_below(&w->rng, T_ARRAY_SIZE(vals))];
}

static __u32 stats_size(struct worker *w)
{
	static const __u32 sizes[] = {
		0, 1, 8, GIL_STATS_SIZE_VER0 - 1, GIL_STATS_SIZE_VER0,
		GIL_STATS_SIZE_VER0, GIL_STATS_SIZE_VER0 + 1,
		GIL_STATS_SIZE_VER0 + 8, GIL_STATS_SIZE_VER1 - 1,
		GIL_STATS_SIZE_VER1, GIL_STATS_SIZE_VER1,
		GIL_STATS_SIZE_VER1 + 1, GIL_STATS_SIZE_VER2 - 1,
		GIL_STATS_SIZE_VER2, GIL_STATS_SIZE_VER2 + 1,
		GIL_STATS_SIZE_VER3, GIL_STATS_SIZE_VER3 + 1, 512, 4096,
		0xffffffffu,
		sizeof(struct gil_stats),
	};

	if (rng_chance(&w->rng, 10))
		return (__u32)rng_next(&w->rng);
	return sizes[rng_below(&w->rng, T_ARRAY_SIZE(sizes))];
}

/* A policy to set: mostly a valid one, else one just past or far off. */
static __u32 policy_value(struct worker *w)
{
	static const __u32 bad[] = {
		GIL_POLICY_COUNT, GIL_POLICY_COUNT + 1, 0xff, 0x100,
		0x100 + GIL_POLICY_FIFO, 0x10000 + GIL_POLICY_IO, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff,
	};

	if (rng_chance(&w->rng, 70))
		return rng_below(&w->rng, GIL_POLICY_COUNT);
	if (rng_chance(&w->rng, 20))
		return (__u32)rng_next(&w->rng);
	return bad[rng_below(&w->rng, T_ARRAY_SIZE(bad))];
}

/*
 * Options to set: mostly valid ones (any of GIL_OPTS_ALL), else with a bit
 * outside it: the next one, the top one, or any.
 */
static __u32 options_value(struct worker *w)
{
	static const __u32 bad[] = {
		GIL_OPTS_ALL + 1, GIL_OPTS_ALL << 1,
		GIL_OPTS_ALL | GIL_OPTS_ALL << 1, 0x80000000,
		0x80000000 | GIL_OPT_PREEMPT_AWARE, 0xfffffffe, 0xffffffff,
	};

	if (rng_chance(&w->rng, 80))
		return rng_below(&w->rng, GIL_OPTS_ALL + 1);
	if (rng_chance(&w->rng, 30))
		return (__u32)rng_next(&w->rng);
	return bad[rng_below(&w->rng, T_ARRAY_SIZE(bad))];
}

/* Bits SET_OPTIONS refuses: EINVAL, or EOPNOTSUPP for a valid option. */
static int options_errno(__u32 options)
{
	if (options & ~GIL_OPTS_ALL)
		return EINVAL;
	if (options & ~opts_have)
		return EOPNOTSUPP;
	return 0;
}

/*
 * Write the input the kernel will read (as much of it as is writable),
 * then read back what it will see: a straddling object's tail is what the
 * read-only page holds.  GET_STATS's buffer gets a canary past its end.
 */
static void prepare_input(struct arg *a, int cls)
{
	char *p = (char *)a->val;
	long n;

	if (cls == C_SETINT) {
		n = a->wr < 8 ? a->wr : 8;
		if (n > 0)
			memcpy(p, &a->set_val, n);
		if (a->rd >= 8)
			memcpy(&a->set_val, p, 8);
	} else if (cls == C_SETPOL) {
		n = a->wr < 4 ? a->wr : 4;
		if (n > 0)
			memcpy(p, &a->pol_val, n);
		if (a->rd >= 4)
			memcpy(&a->pol_val, p, 4);
	} else if (cls == C_SETOPT) {
		n = a->wr < 4 ? a->wr : 4;
		if (n > 0)
			memcpy(p, &a->opt_val, n);
		if (a->rd >= 4)
			memcpy(&a->opt_val, p, 4);
	} else if (cls == C_STATS) {
		n = a->wr < 400 ? a->wr : 400;
		if (n > 0)
			memset(p, 0xA5, n);
		n = a->wr < 4 ? a->wr : 4;
		if (n > 0)
			memcpy(p, &a->stats_size, n);
		if (a->rd >= 4)
			memcpy(&a->stats_size, p, 4);
	}
}

/* ---- the expected results ------------------------------------------------ */

/* What the ABI allows for a call of class @cls, in state @st, with @a. */
static struct eset expected(int cls, const struct tstate *st,
			    const struct arg *a)
{
	struct eset e = { { 0 } };
	long fill = a->stats_size < sizeof(struct gil_stats) ?
		    a->stats_size : sizeof(struct gil_stats);
	int att_no = st->attached != YES, att_yes = st->attached != NO;
	int hold_no = st->holding != YES, hold_yes = st->holding != NO;

	switch (cls) {
	case C_VERSION:
	case C_GETINT:
		es_add(&e, a->wr >= 8 ? 0 : EFAULT);
		break;
	case C_GETPOL:
	case C_GETOPT:	/* ABI 2.3 */
		es_add(&e, a->wr >= 4 ? 0 : EFAULT);
		break;
	case C_TOKEN:	/* ABI 2.1 */
		if (att_no)
			es_add(&e, EUNATCH);
		if (att_yes)
			es_add(&e, a->wr >= 4 ? 0 : EFAULT);
		break;
	case C_SETPOL:
		if (a->rd < 4)
			es_add(&e, EFAULT);
		else if (a->pol_val >= GIL_POLICY_COUNT)
			es_add(&e, EINVAL);
		else
			es_add(&e, 0);
		break;
	case C_SETOPT:	/* ABI 2.3 */
		es_add(&e, a->rd < 4 ? EFAULT : options_errno(a->opt_val));
		break;
	case C_SETINT:
		if (a->rd < 8)
			es_add(&e, EFAULT);
		else if (a->set_val <= 0)
			es_add(&e, EINVAL);
		else if (a->set_val > GIL_INTERVAL_MAX_US)
			es_add(&e, ERANGE);
		else
			es_add(&e, 0);
		break;
	case C_STATS:
		if (a->rd < 4)
			es_add(&e, EFAULT);
		else if (a->stats_size < GIL_STATS_SIZE_VER0)
			es_add(&e, EINVAL);
		else if (a->wr < fill)
			es_add(&e, EFAULT);
		else
			es_add(&e, 0);
		break;
	case C_ATTACH:
		if (att_no) {
			es_add(&e, 0);
			es_add(&e, ENOMEM);
		}
		if (att_yes)
			es_add(&e, EEXIST);
		break;
	case C_DETACH:
		if (att_no)
			es_add(&e, EUNATCH);
		if (att_yes && hold_no)
			es_add(&e, 0);
		if (att_yes && hold_yes)
			es_add(&e, EBUSY);
		break;
	case C_ACQUIRE:
		if (att_no)
			es_add(&e, EUNATCH);
		if (att_yes && hold_yes)
			es_add(&e, EDEADLK);
		if (att_yes && hold_no) {
			es_add(&e, 0);
			es_add(&e, EOWNERDEAD);
		}
		break;
	case C_RELEASE:
		if (att_no)
			es_add(&e, EUNATCH);
		if (att_yes && hold_no)
			es_add(&e, EPERM);
		if (att_yes && hold_yes)
			es_add(&e, 0);
		break;
	case C_YIELD:
		if (att_no)
			es_add(&e, EUNATCH);
		if (att_yes && hold_no)
			es_add(&e, EPERM);
		if (att_yes && hold_yes) {
			es_add(&e, 0);
			es_add(&e, EOWNERDEAD);
		}
		break;
	default:
		es_add(&e, ENOTTY);
		break;
	}
	return e;
}

/* The state after a call whose result was as expected. */
static void apply(struct tstate *st, int cls, long ret, int err)
{
	int r = ret == 0 ? 0 : err;

	switch (cls) {
	case C_ATTACH:
		if (r == 0 || r == EEXIST)
			st->attached = YES;
		break;
	case C_DETACH:
		if (r == 0 || r == EUNATCH)
			st->attached = st->holding = NO;
		else if (r == EBUSY)
			st->attached = st->holding = YES;
		break;
	case C_ACQUIRE:
	case C_YIELD:
		if (r == 0 || r == EOWNERDEAD || r == EDEADLK) {
			st->attached = st->holding = YES;
		} else if (r == EUNATCH) {
			st->attached = st->holding = NO;
		} else if (r == EPERM) {
			st->attached = YES;
			st->holding = NO;
		}
		break;
	case C_RELEASE:
		if (r == 0 || r == EPERM) {
			st->attached = YES;
			st->holding = NO;
		} else if (r == EUNATCH) {
			st->attached = st->holding = NO;
		}
		break;
	}
}

/* ---- the page ---------------------------------------------------------- */

static struct mapping *slot_mapping(struct worker *w, int s, unsigned int g)
{
	for (int i = 0; i < w->nmaps; i++) {
		struct mapping *m = &w->maps[i];

		if (m->slot == s && m->gen_ok && m->gen == g &&
		    (m->prot & PROT_READ))
			return m;
	}
	return NULL;
}

/* Fields any GIL's page must show, dead or alive. */
static void check_page(struct mapping *m)
{
	const struct gil_page *pg = (const struct gil_page *)m->addr;
	__u64 sn, iv;
	__u32 v;

	if (!(m->prot & PROT_READ))
		return;
	v = T_PAGE_LOAD(pg->size);
	if (v != sizeof(struct gil_page))
		invariant("page size field", v, sizeof(struct gil_page));
	v = T_PAGE_LOAD(pg->locked);
	if (v > 1)
		invariant("page locked field", v, 1);
	v = T_PAGE_LOAD(pg->eval_breaker);
	if (v & ~GIL_EVAL_BREAKER_DROP_REQUEST)
		invariant("page eval_breaker bits", v,
			  GIL_EVAL_BREAKER_DROP_REQUEST);
	v = T_PAGE_LOAD(pg->policy);
	if (v >= GIL_POLICY_COUNT)
		invariant("page policy field", v, GIL_POLICY_COUNT - 1);
	iv = T_PAGE_LOAD(pg->interval_us);
	if (iv < 1 || iv > GIL_INTERVAL_MAX_US)
		invariant("page interval_us in range", iv, SMALL_US);
	sn = T_PAGE_LOAD(pg->switch_number);
	if (sn < m->last_sn)
		invariant("page switch_number never decreases", sn, m->last_sn);
	m->last_sn = sn;
}

/* While the thread holds slot @s's GIL, its page says locked. */
static void check_locked(struct worker *w, int s)
{
	unsigned int g = gen_load(s);
	struct mapping *m = slot_mapping(w, s, g);
	__u32 locked;

	if (!m || fresh(w, s, g)->holding != YES)
		return;
	locked = T_PAGE_LOAD(((const struct gil_page *)m->addr)->locked);
	if (gen_load(s) == g && locked != 1)
		invariant("page locked while we hold the GIL", locked, 1);
}

/* ---- ioctl ------------------------------------------------------------- */

static void reset_interval(struct worker *w, const struct target *t);
static void check_stats(const struct arg *a);
static void policy_agrees(struct worker *w, int s, unsigned int g, long begun,
			  long forks, long want);
static void options_agree(struct worker *w, int s, unsigned int g, long begun,
			  long forks, long want, const char *what);

/* After a call that worked: what it wrote must make sense. */
static void check_output(struct worker *w, const struct target *t, int cls,
			 const struct arg *a)
{
	const char *p = (const char *)a->val;

	if (cls == C_VERSION) {
		struct gil_version v;

		memcpy(&v, p, sizeof(v));
		if (v.major != GIL_ABI_MAJOR)
			invariant("GET_VERSION major", v.major, GIL_ABI_MAJOR);
	} else if (cls == C_GETINT) {
		__s64 v;

		memcpy(&v, p, sizeof(v));
		if (v < 1 || v > GIL_INTERVAL_MAX_US)
			invariant("GET_INTERVAL in range", v, SMALL_US);
	} else if (cls == C_SETINT) {
		if (a->set_val > BIG_US)
			reset_interval(w, t);
	} else if (cls == C_GETPOL) {
		__u32 v;

		memcpy(&v, p, sizeof(v));
		if (v >= GIL_POLICY_COUNT)
			invariant("GET_POLICY a policy", v,
				  GIL_POLICY_COUNT - 1);
	} else if (cls == C_GETOPT) {
		__u32 v;

		/* Only options this kernel has: none without any. */
		memcpy(&v, p, sizeof(v));
		if (v & ~opts_have)
			invariant("GET_OPTIONS only GIL_OPT_* bits", v,
				  v & opts_have);
	} else if (cls == C_STATS) {
		check_stats(a);
	}
}

/* Whether the first @fill bytes of struct gil_stats hold all of @field. */
#define STATS_HAS(fill, field)						\
	((fill) >= (long)(offsetof(struct gil_stats, field) +		\
			  sizeof(((struct gil_stats *)0)->field)))

/*
 * A GET_STATS that worked: it filled min(the caller's size, the module's
 * struct) bytes, said so in the size field and wrote nothing after them;
 * the counters it filled agree with each other.
 */
static void check_stats(const struct arg *a)
{
	const char *p = (const char *)a->val;
	long fill = a->stats_size < sizeof(struct gil_stats) ?
		    a->stats_size : sizeof(struct gil_stats);
	struct gil_stats st;
	__u64 sum = 0;
	long i, end;

	/*
	 * Only what the call filled: the buffer may end right after it (an
	 * object straddling the end of a mapping), and the rest is canary.
	 */
	memset(&st, 0, sizeof(st));
	memcpy(&st, p, fill);
	if (a->wr < (long)sizeof(st))
		atomic_fetch_add_explicit(&sh->stats_tight, 1,
					  memory_order_relaxed);
	if ((long)st.size != fill)
		invariant("GET_STATS size out: min(size in, its own)", st.size,
			  fill);
	if (st.hist_buckets != GIL_STATS_HIST_BUCKETS)
		invariant("GET_STATS hist_buckets", st.hist_buckets,
			  GIL_STATS_HIST_BUCKETS);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		sum += st.handoff_ns_hist[i];
	if (st.contended > st.acquisitions)
		invariant("stats contended <= acquisitions", st.contended,
			  st.acquisitions);
	if (st.owner_deaths > st.acquisitions)
		invariant("stats owner_deaths <= acquisitions",
			  st.owner_deaths, st.acquisitions);
	if (sum > st.contended)
		invariant("stats handoffs <= contended", sum, st.contended);
	if (st.forced_switches > st.drop_requests)
		invariant("stats forced_switches <= drop_requests",
			  st.forced_switches, st.drop_requests);
	/*
	 * A change of owner is an acquisition or a direct handoff (fifo,
	 * io), whose new owner counts its acquisition only when it wakes, or
	 * never if it is killed first: switch_number <= acquisitions holds
	 * only where no handoff happens.
	 */
	if (STATS_HAS(fill, direct_handoffs)) {
		if (st.switch_number > st.acquisitions + st.direct_handoffs)
			invariant("stats switch_number <= acquisitions + "
				  "direct_handoffs", st.switch_number,
				  st.acquisitions + st.direct_handoffs);
		if (st.direct_handoffs > st.switch_number)
			invariant("stats direct_handoffs <= switch_number",
				  st.direct_handoffs, st.switch_number);
	}
	if (STATS_HAS(fill, io_preemptions) &&
	    st.io_preemptions > st.drop_requests)
		invariant("stats io_preemptions <= drop_requests",
			  st.io_preemptions, st.drop_requests);
	/* Only GIL_OPT_PREEMPT_AWARE extends a wait. */
	if (STATS_HAS(fill, preempt_extensions) &&
	    !(opts_have & GIL_OPT_PREEMPT_AWARE) && st.preempt_extensions)
		invariant("stats preempt_extensions without the option",
			  st.preempt_extensions, 0);
	if (STATS_HAS(fill, blocked_requests) &&
	    st.blocked_requests > st.drop_requests)
		invariant("stats blocked_requests <= drop_requests",
			  st.blocked_requests, st.drop_requests);
	/* Only a real-time waiter boosts, and the fuzzer's threads are not. */
	if (STATS_HAS(fill, priority_boosts) && st.priority_boosts)
		invariant("stats priority_boosts with no real-time waiter",
			  st.priority_boosts, 0);
	/* Nothing past what it filled: the canary stays. */
	end = a->wr < 400 ? a->wr : 400;
	for (i = fill; i < end; i++)
		if ((unsigned char)p[i] != 0xA5) {
			invariant("GET_STATS wrote past the bytes it filled, "
				  "at offset", i, fill - 1);
			break;
		}
}

/*
 * -f: a call in four is armed to fail its first, second or third
 * allocation; fault_fired() says whether it did, and counts it in @count.
 * A call whose allocation failed must still return what the ABI documents
 * for it: ENOMEM where it says so, and elsewhere the result it would have
 * had.
 */
static int fault_arm(struct worker *w)
{
	return stress_fault_arm(w->fail_fd, &w->rng, 25, 3);
}

static int fault_fired(struct worker *w, int armed, atomic_long *count)
{
	return stress_fault_fired(w->fail_fd, armed, count);
}

/*
 * The calling thread's fail-nth, with -f (a forked child's is its own).
 * Opened under fd_lock, as every descriptor is (a replacement's reopen
 * counts on the slot's number being the lowest free); a child is alone.
 */
static void fault_thread_init(struct worker *w)
{
	w->fail_fd = -1;
	if (!faults)
		return;
	if (!in_child)
		pthread_mutex_lock(&fd_lock);
	w->fail_fd = t_fail_nth_open();
	if (!in_child)
		pthread_mutex_unlock(&fd_lock);
	if (w->fail_fd < 0) {
		fprintf(stderr, "stress-fuzz: /proc/thread-self/fail-nth: %s\n",
			strerror(errno));
		_exit(1);
	}
}

/*
 * One checked ioctl.  The call must keep the no-deadlock rule, or it
 * becomes a RELEASE (a GET_VERSION on a duplicate).
 */
static long do_ioctl(struct worker *w, const struct target *t,
		     unsigned long cmd64, struct arg *a)
{
	unsigned int cmd = (unsigned int)cmd64, g1, g2;
	int cls = classify(cmd), err, same, ok;
	long ret, pol_begun = 0, pol_ended = 0, forks = 0, reaped = 0;
	long opt_begun = 0, opt_ended = 0;
	int setpol, setopt, armed, fired;
	struct tstate *st, snap;
	struct eset want;
	char what[128], ctx[96];

	if (!wait_ok(w, t, cls)) {
		cmd64 = cmd = t->dup ? GIL_IOC_GET_VERSION : GIL_IOC_RELEASE;
		cls = classify(cmd);
	}
	/*
	 * A SHUTDOWN drawn at random would end every thread's records at
	 * once; op_replace() is where that happens, under a generation.
	 */
	if (cls == C_SHUTDOWN) {
		cmd64 = cmd = GIL_IOC_GET_VERSION;
		cls = C_VERSION;
	}
	prepare_input(a, cls);
	setpol = cls == C_SETPOL && !in_child;
	setopt = cls == C_SETOPT && !in_child;
	if (setpol) {
		/* Every setter that began before us ended before our call. */
		pol_begun = atomic_fetch_add(&sh->pol_begun[t->s], 1);
		pol_ended = atomic_load(&sh->pol_ended[t->s]);
	}
	if (setopt) {
		opt_begun = atomic_fetch_add(&sh->opt_begun[t->s], 1);
		opt_ended = atomic_load(&sh->opt_ended[t->s]);
	}
	if (setpol || setopt) {
		forks = atomic_load(&sh->forks_begun);
		reaped = atomic_load(&sh->forks_reaped);
	}
	g1 = gen_load(t->s);
	st = fresh(w, t->s, g1);
	snap = *st;
	armed = fault_arm(w);
	errno = 0;
	ret = syscall(SYS_ioctl, t->fd, cmd64, a->val);
	err = errno;
	fired = fault_fired(w, armed, &sh->faults[cls]);
	g2 = gen_load(t->s);
	if (setpol)
		atomic_fetch_add(&sh->pol_ended[t->s], 1);
	if (setopt)
		atomic_fetch_add(&sh->opt_ended[t->s], 1);
	/*
	 * A slot's call is exact when its generation stayed put and even.  A
	 * duplicate keeps its GIL, which is the slot's (and our state's) only
	 * while the slot's generation is the one it was duplicated at.
	 */
	same = g1 == g2 && !(g1 & 1) && (!t->dup || g1 == t->gen);
	if (!same)
		snap.attached = snap.holding = UNK;
	want = expected(cls, &snap, a);
	/*
	 * The user page a call reads or writes may need memory to fault in
	 * (a page table, an anon_vma): that allocation failed is EFAULT, as
	 * for any system call.
	 */
	if (fired && _IOC_DIR(cmd) != _IOC_NONE)
		es_add(&want, EFAULT);
	if (!same && !t->dup) {
		es_add(&want, EBADF);	/* closed under us, or the new GIL's */
		es_add(&want, ESHUTDOWN);	/* the old GIL, shut down */
	}
	snprintf(what, sizeof(what), "cmd=0x%x arg=%s", cmd, a->desc);
	snprintf(ctx, sizeof(ctx),
		 "(%s%sslot %d%s, gen %u..%u, attached %c, holding %c)",
		 cls_names[cls], cmd64 != cmd ? " with high bits, " : ", ",
		 t->s, t->dup ? " dup" : "", g1, g2, "ny?"[snap.attached],
		 "ny?"[snap.holding]);
	ok = judge(cls, &want, ret, err, what, ctx);

	if (cls >= C_ATTACH && cls <= C_YIELD) {
		if (same && ok) {
			apply(st, cls, ret, err);
		} else if (same) {
			st->attached = st->holding = UNK;
		} else if (!t->dup) {
			/* Either GIL: known again by the next exact call. */
			st->gen = (g2 + 1) & ~1u;
			st->attached = st->holding = UNK;
		}
		if ((cls == C_ACQUIRE || cls == C_YIELD) &&
		    (ret == 0 || err == EOWNERDEAD)) {
			atomic_fetch_add_explicit(&sh->acquired, 1,
						  memory_order_relaxed);
			if (ret)
				atomic_fetch_add_explicit(&sh->owner_dead, 1,
							  memory_order_relaxed);
			w->hold_left = rng_below(&w->rng, 7);
			if (same && ok)
				check_locked(w, t->s);
		}
	}
	if (ret == 0 && ok)
		check_output(w, t, cls, a);
	if (cls == C_SETPOL && ret == 0 && ok) {
		atomic_fetch_add_explicit(&sh->policy_sets, 1,
					  memory_order_relaxed);
		/*
		 * The last to set it, alone: all must see its policy (which
		 * we know unless it came from a page another GIL may change).
		 */
		if (setpol && same && pol_begun == pol_ended &&
		    forks == reaped)
			policy_agrees(w, t->s, g1, pol_begun + 1, forks,
				      a->kind == A_GILPAGE ? -1 :
				      (long)a->pol_val);
	}
	if (cls == C_SETOPT && ret == 0 && ok) {
		atomic_fetch_add_explicit(&sh->options_sets, 1,
					  memory_order_relaxed);
		/* As with the policy ("locked" changes under us). */
		if (setopt && same && opt_begun == opt_ended &&
		    forks == reaped)
			options_agree(w, t->s, g1, opt_begun + 1, forks,
				      a->kind == A_GILPAGE ? -1 :
				      (long)a->opt_val,
				      "GET_OPTIONS right after a SET_OPTIONS");
	}
	return ret;
}

/* Set a small interval again after a big one was set. */
static void reset_interval(struct worker *w, const struct target *t)
{
	struct arg a;

	good_arg(w, &a, C_SETINT);
	a.set_val = 1 + rng_below(&w->rng, SMALL_US);
	do_ioctl(w, t, GIL_IOC_SET_INTERVAL, &a);
}

static void slot_target(struct target *t, int s)
{
	t->s = s;
	t->fd = slots[s].fd;
	t->dup = 0;
	t->gen = 0;
}

/* Fill the per-command inputs for a call of class @cls. */
static void fill_inputs(struct worker *w, struct arg *a, int cls)
{
	a->set_val = cls == C_SETINT ? interval_value(w) : 0;
	a->stats_size = stats_size(w);
	a->pol_val = policy_value(w);
	a->opt_val = options_value(w);
}

/*
 * Whether slot @s is quiet for a check of what one kind of setter set
 * (@begun, @ended: those SETs begun and ended, per slot): no replacement
 * under way, no SET in flight, no child that may set.  What it saw goes
 * to *@g, *@begun_now and *@forks, for still_quiet() after the check's
 * reads.
 */
static int slot_quiet(int s, atomic_long *begun, atomic_long *ended,
		      unsigned int *g, long *begun_now, long *forks)
{
	long ended_now, reaped;

	*g = gen_load(s);
	*begun_now = atomic_load(&begun[s]);
	ended_now = atomic_load(&ended[s]);
	*forks = atomic_load(&sh->forks_begun);
	reaped = atomic_load(&sh->forks_reaped);
	return !(*g & 1) && *begun_now == ended_now && *forks == reaped;
}

/* Still the moment a check began in (slot_quiet()): else it is let go. */
static int still_quiet(int s, atomic_long *begun, unsigned int g,
		       long begun_then, long forks)
{
	atomic_thread_fence(memory_order_seq_cst);
	return gen_load(s) == g && atomic_load(&begun[s]) == begun_then &&
	       atomic_load(&sh->forks_begun) == forks;
}

/*
 * While slot @s's GIL is the one of generation @g and no SET_POLICY
 * (@begun: those begun) or child (@forks: those forked) began since its
 * policy was last set, GET_POLICY reads that policy (@want, when known)
 * and the page shows it.  A quiet moment is checked; others are let go.
 */
static void policy_agrees(struct worker *w, int s, unsigned int g, long begun,
			  long forks, long want)
{
	struct mapping *m = slot_mapping(w, s, g);
	__u32 got, page = 0;
	struct target t;
	struct arg a;

	if (!w->arena)
		return;
	slot_target(&t, s);
	make_arg(w, &a, A_VALID, C_GETPOL);
	fill_inputs(w, &a, C_GETPOL);
	if (do_ioctl(w, &t, GIL_IOC_GET_POLICY, &a))
		return;
	memcpy(&got, (const void *)a.val, sizeof(got));
	if (m)
		page = T_PAGE_LOAD(((const struct gil_page *)m->addr)->policy);
	if (!still_quiet(s, sh->pol_begun, g, begun, forks))
		return;
	atomic_fetch_add_explicit(&sh->policy_checks, 1, memory_order_relaxed);
	if (want >= 0 && (long long)got != want)
		invariant("GET_POLICY right after a SET_POLICY", got, want);
	if (m && page != got)
		invariant("page policy is GET_POLICY's", page, got);
}

/*
 * SET_POLICY, a valid policy mostly (do_ioctl checks that it took); or,
 * at a quiet moment of slot @t->s, GET_POLICY against the page.
 */
static void op_policy(struct worker *w, const struct target *t)
{
	long begun, forks;
	unsigned int g;
	struct arg a;

	if (rng_chance(&w->rng, 50) || in_child) {
		good_arg(w, &a, C_SETPOL);
		fill_inputs(w, &a, C_SETPOL);
		do_ioctl(w, t, GIL_IOC_SET_POLICY, &a);
		return;
	}
	if (slot_quiet(t->s, sh->pol_begun, sh->pol_ended, &g, &begun,
		       &forks)) {
		policy_agrees(w, t->s, g, begun, forks, -1);
		return;
	}
	good_arg(w, &a, C_GETPOL);
	fill_inputs(w, &a, C_GETPOL);
	do_ioctl(w, t, GIL_IOC_GET_POLICY, &a);
}

/*
 * The GIL_OPT_* bits of fdinfo's "options:" value @names ("-" for none,
 * else names, comma separated, up to the line's end); -1 if odd.
 */
static long options_from_names(const char *names)
{
	static const char *const known[] = {
		"preempt_aware",	/* bit 0, GIL_OPT_PREEMPT_AWARE */
		"prio_inherit",		/* bit 1, GIL_OPT_PRIO_INHERIT */
	};
	size_t len, i;
	long bits = 0;

	if (!strncmp(names, "-\n", 2))
		return 0;
	for (;;) {
		len = strcspn(names, ",\n");
		for (i = 0; i < T_ARRAY_SIZE(known); i++)
			if (len == strlen(known[i]) &&
			    !strncmp(names, known[i], len))
				break;
		if (i == T_ARRAY_SIZE(known) || (bits & (1L << i)))
			return -1;
		bits |= 1L << i;
		if (names[len] != ',')
			return names[len] == '\n' ? bits : -1;
		names += len + 1;
	}
}

/*
 * While slot @s's GIL is the one of generation @g and no SET_OPTIONS
 * (@begun: those begun) or child (@forks) began since its options were
 * last set, GET_OPTIONS reads them (@want, when known: what the last
 * setter set, or what a GET read before a refused SET; @what says which)
 * and the fdinfo shows them.  A quiet moment is checked; others are let
 * go.
 */
static void options_agree(struct worker *w, int s, unsigned int g, long begun,
			  long forks, long want, const char *what)
{
	char *text, *line;
	long shown = -1;
	struct target t;
	struct arg a;
	__u32 got;
	int armed;

	/* A child's fd_lock stays locked: op_fork() forks holding it. */
	if (!w->arena || in_child)
		return;
	slot_target(&t, s);
	make_arg(w, &a, A_VALID, C_GETOPT);
	fill_inputs(w, &a, C_GETOPT);
	if (do_ioctl(w, &t, GIL_IOC_GET_OPTIONS, &a))
		return;
	memcpy(&got, (const void *)a.val, sizeof(got));
	/*
	 * fdinfo's "options:" line, as GIL_OPT_* bits (-1: none, or odd).
	 * Reading it opens a descriptor: under fd_lock, as every one is,
	 * or a replacement's dup2() could land on it and our close() then
	 * close the slot's.
	 */
	pthread_mutex_lock(&fd_lock);
	armed = fault_arm(w);
	text = t_fdinfo_text(getpid(), t.fd);
	if (fault_fired(w, armed, &sh->faults_fdinfo) && !text) {
		pthread_mutex_unlock(&fd_lock);
		return;		/* the read ran out of memory: no answer */
	}
	pthread_mutex_unlock(&fd_lock);
	line = text ? strstr(text, "\noptions:\t") : NULL;
	if (line)
		shown = options_from_names(line + strlen("\noptions:\t"));
	free(text);
	if (!still_quiet(s, sh->opt_begun, g, begun, forks))
		return;
	atomic_fetch_add_explicit(&sh->options_checks, 1,
				  memory_order_relaxed);
	if (want >= 0 && (long long)got != want)
		invariant(what, got, want);
	/* The same GIL throughout: its descriptor has its fdinfo. */
	if (shown != (long long)got)
		invariant("fdinfo options is GET_OPTIONS's", shown, got);
}

/*
 * SET_OPTIONS, mostly valid options (do_ioctl checks that they took); or,
 * at a quiet moment of slot @t->s, GET_OPTIONS against the fdinfo, or a
 * SET_OPTIONS with a bit outside GIL_OPTS_ALL between two GET_OPTIONS,
 * which must read the same.
 */
static void op_options(struct worker *w, const struct target *t)
{
	long begun, forks;
	struct target own;
	unsigned int g;
	struct arg a;
	__u32 before;

	if (rng_chance(&w->rng, 50) || in_child || !w->arena) {
		good_arg(w, &a, C_SETOPT);
		fill_inputs(w, &a, C_SETOPT);
		do_ioctl(w, t, GIL_IOC_SET_OPTIONS, &a);
		return;
	}
	if (!slot_quiet(t->s, sh->opt_begun, sh->opt_ended, &g, &begun,
			&forks)) {
		good_arg(w, &a, C_GETOPT);
		fill_inputs(w, &a, C_GETOPT);
		do_ioctl(w, t, GIL_IOC_GET_OPTIONS, &a);
		return;
	}
	if (rng_chance(&w->rng, 50)) {
		options_agree(w, t->s, g, begun, forks, -1,
			      "GET_OPTIONS at a quiet moment");
		return;
	}
	/* On the slot's descriptor: a duplicate's GIL may have left it. */
	slot_target(&own, t->s);
	make_arg(w, &a, A_VALID, C_GETOPT);
	fill_inputs(w, &a, C_GETOPT);
	if (do_ioctl(w, &own, GIL_IOC_GET_OPTIONS, &a))
		return;
	memcpy(&before, (const void *)a.val, sizeof(before));
	good_arg(w, &a, C_SETOPT);
	fill_inputs(w, &a, C_SETOPT);
	while (!(a.opt_val & ~GIL_OPTS_ALL))
		a.opt_val = options_value(w);
	if (do_ioctl(w, &own, GIL_IOC_SET_OPTIONS, &a) == 0)
		return;		/* a finding already */
	atomic_fetch_add_explicit(&sh->options_refusals, 1,
				  memory_order_relaxed);
	options_agree(w, t->s, g, begun + 1, forks, before,
		      "GET_OPTIONS after a refused SET_OPTIONS");
}

/* An argument-less command, with whatever argument. */
static long simple_call(struct worker *w, const struct target *t,
			unsigned int cmd)
{
	struct arg a;

	if (w->arena && rng_chance(&w->rng, 20))
		any_arg(w, &a, classify(cmd));
	else
		make_arg(w, &a, A_NULL, classify(cmd));
	fill_inputs(w, &a, classify(cmd));
	return do_ioctl(w, t, cmd, &a);
}

/*
 * A real command, half the time the next step of a thread's life on the
 * GIL (attach, acquire, release), half the time any.
 */
static unsigned int pick_real(struct worker *w, int s)
{
	struct tstate *st = now_state(w, s);
	unsigned int r = rng_below(&w->rng, 100);

	if (rng_chance(&w->rng, 50))
		return real_cmds[rng_below(&w->rng, NR_REAL)];
	if (st->attached == NO)
		return r < 80 ? GIL_IOC_ATTACH : GIL_IOC_GET_STATS;
	if (st->holding == NO)
		return r < 70 ? GIL_IOC_ACQUIRE : r < 85 ? GIL_IOC_DETACH :
		       GIL_IOC_SET_INTERVAL;
	return r < 50 ? GIL_IOC_RELEASE : r < 70 ? GIL_IOC_YIELD :
	       r < 80 ? GIL_IOC_ACQUIRE : r < 90 ? GIL_IOC_DETACH :
	       GIL_IOC_GET_INTERVAL;
}

static void op_real(struct worker *w, const struct target *t, int bad)
{
	unsigned int cmd = t->dup ? real_cmds[rng_below(&w->rng, NR_REAL)]
				  : pick_real(w, t->s);
	int cls = classify(cmd);
	struct arg a;

	if (bad)
		bad_arg(w, &a, cls);
	else
		good_arg(w, &a, cls);
	fill_inputs(w, &a, cls);
	do_ioctl(w, t, cmd, &a);
}

/* Commands the VFS answers before the driver (fs/ioctl.c): not ours. */
static int vfs_cmd(unsigned int cmd)
{
	static const unsigned int cmds[] = {
		FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE,
		FITHAW, FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE,
		FIDEDUPERANGE, FIONREAD, FS_IOC_GETFLAGS, FS_IOC_SETFLAGS,
		FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	};

	for (unsigned int i = 0; i < T_ARRAY_SIZE(cmds); i++)
		if (cmd == cmds[i])
			return 1;
	return 0;
}

static unsigned int ioc(unsigned int dir, unsigned int type, unsigned int nr,
			unsigned int size)
{
	return dir << _IOC_DIRSHIFT | type << _IOC_TYPESHIFT |
	       nr << _IOC_NRSHIFT | (size & _IOC_SIZEMASK) << _IOC_SIZESHIFT;
}

/* A real command with other direction or size bits, or another number. */
static unsigned long mutated_cmd(struct worker *w)
{
	unsigned int base = real_cmds[rng_below(&w->rng, NR_REAL)];
	unsigned int dir = _IOC_DIR(base), nr = _IOC_NR(base);
	unsigned int size = _IOC_SIZE(base);
	static const unsigned int sizes[] = { 0, 1, 4, 8, 16, 327, 329, 1024,
					      _IOC_SIZEMASK };

	switch (rng_below(&w->rng, 6)) {
	case 0:
		dir = rng_below(&w->rng, 4);
		break;
	case 1:
		if (rng_chance(&w->rng, 30))
			size += rng_chance(&w->rng, 50) ? 1 : -1;
		else
			size = sizes[rng_below(&w->rng, T_ARRAY_SIZE(sizes))];
		break;
	case 2:
		dir = rng_below(&w->rng, 4);
		size = rng_below(&w->rng, _IOC_SIZEMASK + 1);
		break;
	case 3:
		nr = rng_below(&w->rng, 256);
		dir = rng_below(&w->rng, 4);
		if (rng_chance(&w->rng, 50))
			size = rng_below(&w->rng, 1024);
		break;
	case 4:	/* GET_STATS as built with another struct size */
		dir = _IOC_READ | _IOC_WRITE;
		nr = _IOC_NR(GIL_IOC_GET_STATS);
		size = rng_chance(&w->rng, 50) ?
		       sizes[rng_below(&w->rng, T_ARRAY_SIZE(sizes))] :
		       rng_below(&w->rng, _IOC_SIZEMASK + 1);
		break;
	default:
		/*
		 * The numbers of the policy (0x09, 0x0a), the token and the
		 * options (0x0c-0x0e) and their neighbours, any direction,
		 * the right size or another: only the exact commands (and
		 * GET_STATS whatever its size) are commands.
		 */
		nr = _IOC_NR(GIL_IOC_GET_STATS) + rng_below(&w->rng, 8);
		dir = rng_below(&w->rng, 4);
		size = rng_chance(&w->rng, 50) ? sizeof(__u32) :
		       sizes[rng_below(&w->rng, T_ARRAY_SIZE(sizes))];
		break;
	}
	return ioc(dir, GIL_IOC_MAGIC, nr, size);
}

static unsigned long random_cmd(struct worker *w)
{
	unsigned long cmd;

	do {
		switch (rng_below(&w->rng, 4)) {
		case 0:
			cmd = (unsigned int)rng_next(&w->rng);
			break;
		case 1: {	/* another magic */
			unsigned int type = rng_below(&w->rng, 256);

			if (type == GIL_IOC_MAGIC)
				type++;
			cmd = ioc(rng_below(&w->rng, 4), type,
				  rng_below(&w->rng, 256),
				  rng_below(&w->rng, 1024));
			break;
		}
		case 2:	/* the neighbouring magics */
			cmd = real_cmds[rng_below(&w->rng, NR_REAL)] ^
			      (rng_chance(&w->rng, 50) ? 1u : 3u) <<
			      _IOC_TYPESHIFT;
			break;
		default:
			/*
			 * A real command with garbage above bit 31: the
			 * kernel takes an unsigned int.  (A 32-bit
			 * process's long has no such bits.)
			 */
			cmd = (unsigned long)(rng_next(&w->rng) << 32 |
					      1ULL << 63) |
			      real_cmds[rng_below(&w->rng, NR_REAL)];
			break;
		}
	} while (vfs_cmd((unsigned int)cmd));
	return cmd;
}

static void op_cmd(struct worker *w, const struct target *t, unsigned long cmd)
{
	int cls = classify((unsigned int)cmd);
	struct arg a;

	any_arg(w, &a, cls);
	fill_inputs(w, &a, cls);
	do_ioctl(w, t, cmd, &a);
}

/* Set an interval at or beyond the limits; a small one right after. */
static void op_extreme(struct worker *w, const struct target *t)
{
	struct arg a;

	good_arg(w, &a, C_SETINT);
	a.set_val = extreme_interval(w);
	a.stats_size = 0;
	do_ioctl(w, t, GIL_IOC_SET_INTERVAL, &a);
}

/* ---- mmap and friends ---------------------------------------------------- */

static int mmap_errno(unsigned long len, long off, int prot, int flags)
{
	int type = flags & MAP_TYPE;

	if (off & (ps - 1))
		return EINVAL;	/* the syscall itself */
	if (len == 0)
		return EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    type != MAP_SHARED_VALIDATE)
		return EINVAL;
	if (dev_noexec && (prot & PROT_EXEC))
		return EPERM;	/* do_mmap(), before the driver */
	/* The driver: gil_word_mmap(), ABI 2.1's read-write page. */
	if (off == ps) {
		if ((len + ps - 1) / ps != 1 || type == MAP_PRIVATE)
			return EINVAL;
		return prot & PROT_EXEC ? EPERM : 0;
	}
	/* The driver: gil_page_mmap(). */
	if (off || (len + ps - 1) / ps != 1)
		return EINVAL;
	if (type == MAP_PRIVATE)
		return EINVAL;
	if (prot & PROT_WRITE)
		return EPERM;
	return 0;
}

static void drop_mapping(struct worker *w, int i)
{
	w->maps[i] = w->maps[--w->nmaps];
}

static void op_munmap(struct worker *w)
{
	struct eset want = { { 0 } };
	char what[96];
	int i, r, err;

	if (!w->nmaps)
		return;
	i = rng_below(&w->rng, w->nmaps);
	errno = 0;
	r = munmap(w->maps[i].addr, ps);
	err = errno;
	es_add(&want, 0);
	snprintf(what, sizeof(what), "munmap(%p)", (void *)w->maps[i].addr);
	judge(C_MUNMAP, &want, r, err, what, "");
	drop_mapping(w, i);
}

static void op_mmap(struct worker *w, const struct target *t)
{
	static const unsigned long lens[] = { 0, 1, 2, 3, 4, 4, 5, 8, 12 };
	static const int prots[] = {
		PROT_READ, PROT_READ, PROT_READ, PROT_NONE,
		PROT_READ | PROT_EXEC, PROT_EXEC, PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	static const int types[] = { MAP_SHARED, MAP_SHARED, MAP_SHARED,
				     MAP_PRIVATE, MAP_SHARED_VALIDATE, 0 };
	unsigned long len;
	long off;
	int prot, flags, err, e, same, armed;
	unsigned int g1, g2;
	struct eset want = { { 0 } };
	char what[160];
	char *p;

	if (w->nmaps == MAX_MAPS)
		op_munmap(w);
	if (rng_chance(&w->rng, 50)) {	/* the right call, mostly */
		len = ps;
		off = 0;
		prot = prots[rng_below(&w->rng, 5)];
		flags = MAP_SHARED;
	} else {
		/* lens[] in quarter pages: 0, 1 byte, half, ..., 3 pages */
		len = lens[rng_below(&w->rng, T_ARRAY_SIZE(lens))] * ps / 4;
		if (len == (unsigned long)ps / 4 && rng_chance(&w->rng, 50))
			len = 1;
		off = 0;
		if (rng_chance(&w->rng, 40))
			off = (long)rng_below(&w->rng, 3) * ps +
			      rng_chance(&w->rng, 20);
		prot = prots[rng_below(&w->rng, T_ARRAY_SIZE(prots))];
		flags = types[rng_below(&w->rng, T_ARRAY_SIZE(types))];
	}
	atomic_fetch_add_explicit(&sh->mmaps, 1, memory_order_relaxed);
	g1 = gen_load(t->s);
	armed = fault_arm(w);
	errno = 0;
	p = mmap(NULL, len, prot, flags, t->fd, off);
	err = errno;
	fault_fired(w, armed, &sh->faults[C_MMAP]);
	g2 = gen_load(t->s);
	same = g1 == g2 && !(g1 & 1) && (!t->dup || g1 == t->gen);
	e = mmap_errno(len, off, prot, flags);
	es_add(&want, e);
	es_add(&want, ENOMEM);	/* the mm may always run out */
	if (!same && !t->dup && !(off & (ps - 1)))
		es_add(&want, EBADF);	/* fget() is after the offset check */
	snprintf(what, sizeof(what),
		 "mmap(len=%lu prot=%#x flags=%#x off=%ld) slot=%d%s "
		 "gen=%u..%u", len, prot, flags, off, t->s,
		 t->dup ? "(dup)" : "", g1, g2);
	if (!judge(C_MMAP, &want, p == MAP_FAILED ? -1 : 0, err, what, "") ||
	    p == MAP_FAILED) {
		if (p != MAP_FAILED)
			munmap(p, len);
		return;
	}
	atomic_fetch_add_explicit(&sh->maps_ok, 1, memory_order_relaxed);
	/* The word page is no struct gil_page: not one to check or keep. */
	if (off == ps) {
		munmap(p, len);
		return;
	}
	w->maps[w->nmaps] = (struct mapping){
		.addr = p, .slot = t->s, .gen_ok = same, .gen = g1,
		.prot = prot,
	};
	check_page(&w->maps[w->nmaps]);
	w->nmaps++;
}

static void op_mprotect(struct worker *w)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ, PROT_WRITE,
		PROT_READ | PROT_WRITE, PROT_EXEC, PROT_READ | PROT_EXEC,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};
	struct eset want = { { 0 } };
	struct mapping *m;
	char what[96];
	int prot, r, err;

	if (!w->nmaps)
		return;
	m = &w->maps[rng_below(&w->rng, w->nmaps)];
	prot = prots[rng_below(&w->rng, T_ARRAY_SIZE(prots))];
	errno = 0;
	r = mprotect(m->addr, ps, prot);
	err = errno;
	/* VM_MAYWRITE is gone; VM_MAYEXEC too on a noexec mount. */
	if ((prot & PROT_WRITE) || (dev_noexec && (prot & PROT_EXEC)))
		es_add(&want, EACCES);
	else
		es_add(&want, 0);
	es_add(&want, ENOMEM);
	snprintf(what, sizeof(what), "mprotect(%p, %#x)", (void *)m->addr,
		 prot);
	if (judge(C_MPROTECT, &want, r, err, what, "") && r == 0)
		m->prot = prot;
	check_page(m);
}

/* Growing or duplicating the mapping: VM_DONTEXPAND makes it EFAULT. */
static void op_mremap(struct worker *w)
{
	struct eset want = { { 0 } };
	struct mapping *m;
	unsigned long old_len = ps, new_len = 2 * ps;
	int flags = MREMAP_MAYMOVE, i, err;
	char what[96];
	void *p;

	if (!w->nmaps)
		return;
	i = rng_below(&w->rng, w->nmaps);
	m = &w->maps[i];
	switch (rng_below(&w->rng, 3)) {
	case 0:
		break;
	case 1:
		flags = 0;
		break;
	default:	/* old_len 0: a second mapping of a shared one */
		old_len = 0;
		new_len = ps;
		break;
	}
	errno = 0;
	p = mremap(m->addr, old_len, new_len, flags);
	err = errno;
	es_add(&want, EFAULT);
	es_add(&want, ENOMEM);
	snprintf(what, sizeof(what), "mremap(%p, %lu, %lu, %#x)",
		 (void *)m->addr, old_len, new_len, flags);
	judge(C_MREMAP, &want, p == MAP_FAILED ? -1 : 0, err, what, "");
	if (p != MAP_FAILED) {
		/* It should not have worked; forget whatever it made. */
		munmap(p, new_len);
		if (old_len)
			drop_mapping(w, i);
	}
}

static void op_read_pages(struct worker *w)
{
	for (int i = 0; i < w->nmaps; i++)
		check_page(&w->maps[i]);
}

/* ---- descriptors: dup, close and reopen -------------------------------- */

static int open_retry(struct worker *w)
{
	int fd, i, armed;

	for (i = 0; i < 100; i++) {
		armed = fault_arm(w);
		fd = t_open_dev();
		fault_fired(w, armed, &sh->faults_open);
		if (fd >= 0)
			return fd;
		/* ENOMEM is documented; EMFILE would be a leak of ours. */
		if (errno != ENOMEM) {
			atomic_fetch_add(&sh->bad_results, 1);
			if (show_finding())
				out("    finding: open(/dev/gil) failed: %s\n",
				    ename(errno));
		}
		t_sleep_ms(10);
	}
	fprintf(stderr, "stress-fuzz: cannot open /dev/gil\n");
	exit(1);
}

/*
 * Replace a slot's GIL under the other threads' calls: they see EBADF, or
 * land on the new GIL.  Then shut the old one down: a thread waiting there
 * gets ESHUTDOWN, and what our threads held there goes to its next taker
 * as an owner death (a call in flight may still be on it).
 */
static void op_replace(struct worker *w, int s)
{
	struct slot *sl = &slots[s];
	int nfd, old, i;

	pthread_mutex_lock(&fd_lock);
	atomic_fetch_add(&sl->gen, 1);
	old = dup(sl->fd);
	if (rng_chance(&w->rng, 50)) {
		nfd = open_retry(w);
		dup2(nfd, sl->fd);
		close(nfd);
	} else {
		close(sl->fd);
		for (i = rng_below(&w->rng, 20); i > 0; i--)
			sched_yield();
		nfd = open_retry(w);
		if (nfd != sl->fd) {
			dup2(nfd, sl->fd);
			close(nfd);
		}
	}
	if (old >= 0 && ioctl(old, GIL_IOC_SHUTDOWN)) {
		atomic_fetch_add(&sh->bad_results, 1);
		if (show_finding())
			out("    finding: SHUTDOWN: %s\n", ename(errno));
	}
	close(old);
	atomic_fetch_add(&sl->gen, 1);
	pthread_mutex_unlock(&fd_lock);
	atomic_fetch_add_explicit(&sh->closes, 1, memory_order_relaxed);
}

static void step_on(struct worker *w, const struct target *t);

/* A few calls on a duplicate of a slot's descriptor, then close it. */
static void op_dup(struct worker *w, int s)
{
	struct target t;
	int n;

	pthread_mutex_lock(&fd_lock);
	t.s = s;
	t.dup = 1;
	t.gen = gen_load(s);	/* even: replacements hold fd_lock */
	t.fd = dup(slots[s].fd);
	pthread_mutex_unlock(&fd_lock);
	if (t.fd < 0) {
		atomic_fetch_add(&sh->bad_results, 1);
		if (show_finding())
			out("    finding: dup: %s\n", ename(errno));
		return;
	}
	atomic_fetch_add_explicit(&sh->dups, 1, memory_order_relaxed);
	for (n = 1 + rng_below(&w->rng, 4); n > 0; n--)
		step_on(w, &t);
	/* Perhaps the last descriptor of a GIL the slot no longer has. */
	pthread_mutex_lock(&fd_lock);
	close(t.fd);
	pthread_mutex_unlock(&fd_lock);
}

/* ---- children and helper threads ----------------------------------------- */

/* Release what the thread holds, or may hold: before it waits. */
static void release_all(struct worker *w)
{
	struct target t;
	int s, rounds;

	for (rounds = 0; rounds < 100000; rounds++) {
		s = held_slot(w);
		if (s < 0)
			return;
		/* Mid-replacement a RELEASE cannot tell; wait for the end. */
		if (gen_load(s) & 1) {
			sched_yield();
			continue;
		}
		slot_target(&t, s);
		simple_call(w, &t, GIL_IOC_RELEASE);
	}
	atomic_fetch_add(&sh->stuck, 1);
	if (show_finding())
		out("    finding: thread %d cannot release slot %d's GIL\n",
		    w->id, held_slot(w));
}

static void step(struct worker *w);

static void child_main(struct worker *w, int quick)
{
	struct target t;
	int n;

	in_child = 1;
	w->rng = rng_seed(w->rng, (uint64_t)getpid());
	fault_thread_init(w);
	/* A new thread: attached nowhere. */
	for (int s = 0; s < nslots; s++)
		w->st[s] = (struct tstate){ gen_load(s), NO, NO };
	if (quick) {
		/* Take a GIL and exit holding it: an owner death. */
		slot_target(&t, rng_below(&w->rng, nslots));
		simple_call(w, &t, GIL_IOC_ATTACH);
		simple_call(w, &t, GIL_IOC_ACQUIRE);
		_exit(0);
	}
	for (n = 1 + rng_below(&w->rng, 40); n > 0; n--)
		step(w);
	_exit(0);
}

static void op_fork(struct worker *w, int kill_it)
{
	int status = 0, quick = rng_chance(&w->rng, 25);
	pid_t pid;

	release_all(w);
	atomic_fetch_add(&sh->forks_begun, 1);	/* a child may set policies */
	pthread_mutex_lock(&fd_lock);	/* the child gets whole slots */
	pid = t_fork(CHILD_TIMEOUT_S);
	if (pid == 0)
		child_main(w, quick);
	pthread_mutex_unlock(&fd_lock);
	if (pid < 0) {
		atomic_fetch_add(&sh->forks_reaped, 1);
		return;		/* EAGAIN: not the module's business */
	}
	atomic_fetch_add_explicit(&sh->forks, 1, memory_order_relaxed);
	atomic_store(&w->progress->stamp, 0);	/* waiting, not stuck */
	if (kill_it) {
		t_sleep_us(rng_below(&w->rng, 3000));
		kill(pid, SIGKILL);
		atomic_fetch_add_explicit(&sh->kills, 1, memory_order_relaxed);
	}
	if (t_wait_child(pid, (kill_it ? 10 : CHILD_TIMEOUT_S + 15) * 1000L,
			 &status)) {
		/* Never reaped: no quiet moment for the policies any more. */
		atomic_fetch_add(&sh->child_problems, 1);
		if (show_finding())
			out("    finding: child %d did not end%s\n", (int)pid,
			    kill_it ? " after SIGKILL" : "");
		progress_stamp(w->progress);
		return;
	}
	atomic_fetch_add(&sh->forks_reaped, 1);
	if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(kill_it && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
		atomic_fetch_add(&sh->child_problems, 1);
		if (show_finding())
			out("    finding: child %d ended with status %#x%s\n",
			    (int)pid, status,
			    WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ?
			    " (stuck for its whole alarm)" : "");
	}
	progress_stamp(w->progress);
}

struct helper {
	int s;
	uint64_t rng;
};

/* A thread that takes a GIL and exits holding it. */
static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct tstate st[MAX_GILS];
	struct worker hw = { .id = -1, .rng = h->rng, .st = st,
			     .fail_fd = -1 };
	struct target t;

	memset(st, 0, sizeof(st));
	for (int s = 0; s < nslots; s++)
		fresh(&hw, s, gen_load(s));
	slot_target(&t, h->s);
	simple_call(&hw, &t, GIL_IOC_ATTACH);
	simple_call(&hw, &t, GIL_IOC_ACQUIRE);
	return NULL;
}

static void op_helper(struct worker *w, int s)
{
	struct helper h = { s, rng_next(&w->rng) };
	pthread_t th;

	release_all(w);
	if (pthread_create(&th, NULL, helper_main, &h))
		return;
	atomic_fetch_add_explicit(&sh->helpers, 1, memory_order_relaxed);
	atomic_store(&w->progress->stamp, 0);
	if (t_join_within(th, CHILD_TIMEOUT_S * 1000L)) {
		atomic_fetch_add(&sh->stuck, 1);
		if (show_finding())
			out("    finding: a helper thread did not end in "
			    "%d s\n", CHILD_TIMEOUT_S);
		/* It uses h on our stack: never return under it. */
		pthread_join(th, NULL);
	}
	progress_stamp(w->progress);
}

/* ---- the loop ---------------------------------------------------------- */

/* Per mille. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_REAL] = 568, [OP_BAD] = 120, [OP_MUTATED] = 80, [OP_RANDOM] = 40,
	[OP_EXTREME] = 6, [OP_MMAP] = 45, [OP_MPROTECT] = 15,
	[OP_MUNMAP] = 20, [OP_MREMAP] = 5, [OP_READ] = 20, [OP_POLICY] = 25,
	[OP_OPTIONS] = 20, [OP_DUP] = 16, [OP_REPLACE] = 12, [OP_FORK] = 5,
	[OP_HELPER] = 3,
};

static enum op pick_op(struct worker *w, int limited)
{
	unsigned int total = 0, r;
	int i;

	for (i = 0; i < NR_OPS; i++)
		total += op_weight[i];
	for (;;) {
		r = rng_below(&w->rng, total);
		for (i = 0; r >= op_weight[i]; i++)
			r -= op_weight[i];
		/* Children and duplicates: no descriptors, forks, helpers. */
		if (!limited || i < OP_DUP)
			return (enum op)i;
	}
}

/* One operation on @t (a slot, or a duplicate from op_dup). */
static void run_op(struct worker *w, const struct target *t, enum op op)
{
	switch (op) {
	case OP_REAL:
		op_real(w, t, 0);
		break;
	case OP_BAD:
		op_real(w, t, 1);
		break;
	case OP_MUTATED:
		op_cmd(w, t, mutated_cmd(w));
		break;
	case OP_RANDOM:
		op_cmd(w, t, random_cmd(w));
		break;
	case OP_EXTREME:
		op_extreme(w, t);
		break;
	case OP_MMAP:
		op_mmap(w, t);
		break;
	case OP_MPROTECT:
		op_mprotect(w);
		break;
	case OP_MUNMAP:
		op_munmap(w);
		break;
	case OP_MREMAP:
		op_mremap(w);
		break;
	case OP_READ:
		op_read_pages(w);
		break;
	case OP_POLICY:
		op_policy(w, t);
		break;
	case OP_OPTIONS:
		op_options(w, t);
		break;
	case OP_DUP:
		op_dup(w, t->s);
		break;
	case OP_REPLACE:
		op_replace(w, t->s);
		break;
	case OP_FORK:
		op_fork(w, rng_chance(&w->rng, 60));
		break;
	case OP_HELPER:
		op_helper(w, t->s);
		break;
	default:
		break;
	}
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * run_op(), with its cost booked: the calling thread's CPU time (its
 * system calls' too) and the wall time, which adds the waits.  A fork's
 * child, a helper thread and the kernel's deferred work (RCU callbacks,
 * workers) run on other clocks: compare the table's CPU total with the
 * run's.
 */
static void step_on(struct worker *w, const struct target *t)
{
	enum op op = pick_op(w, t->dup || in_child);
	int64_t cpu = thread_cpu_ns(), wall = t_now_ns();

	run_op(w, t, op);
	atomic_fetch_add_explicit(&sh->op_steps[op], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->op_cpu_us[op],
				  (thread_cpu_ns() - cpu) / 1000,
				  memory_order_relaxed);
	atomic_fetch_add_explicit(&sh->op_wall_us[op],
				  (t_now_ns() - wall) / 1000,
				  memory_order_relaxed);
}

/*
 * One step: a holder releases once its steps are up, and answers a drop
 * request it sees in the page with YIELD; otherwise a random operation.
 */
static void step(struct worker *w)
{
	struct target t;
	struct mapping *m;
	int h = held_slot(w);

	if (h >= 0) {
		slot_target(&t, h);
		/*
		 * Time is up, or it may hold after a race: release, unless a
		 * replacement is under way (the result would not tell).
		 */
		if ((w->hold_left-- <= 0 || now_state(w, h)->holding == UNK) &&
		    !(gen_load(h) & 1)) {
			simple_call(w, &t, GIL_IOC_RELEASE);
			return;
		}
		m = slot_mapping(w, h, gen_load(h));
		if (m) {
			check_locked(w, h);
			if (t_drop_requested((const struct gil_page *)m->addr)) {
				atomic_fetch_add_explicit(&sh->drop_yields, 1,
							  memory_order_relaxed);
				simple_call(w, &t, GIL_IOC_YIELD);
				return;
			}
		}
	}
	slot_target(&t, rng_below(&w->rng, nslots));
	step_on(w, &t);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct target t;

	fault_thread_init(w);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		step(w);
		progress_stamp(w->progress);
	}
	release_all(w);
	for (int s = 0; s < nslots; s++) {
		slot_target(&t, s);
		simple_call(w, &t, GIL_IOC_DETACH);
	}
	while (w->nmaps)
		op_munmap(w);
	atomic_store(&w->progress->stamp, 0);	/* done: no longer watched */
	return NULL;
}

/*
 * After the run, a new thread takes and releases every GIL once: as any
 * later acquirer would, it recovers a GIL whose holder exited, so that a
 * waiter that began a long interval just before cannot outlast the run.
 */
static void *sweep_main(void *arg)
{
	struct tstate st[MAX_GILS];
	struct worker sw = { .id = -2, .rng = *(uint64_t *)arg, .st = st,
			     .fail_fd = -1 };
	struct target t;

	memset(st, 0, sizeof(st));
	for (int s = 0; s < nslots; s++) {
		slot_target(&t, s);
		simple_call(&sw, &t, GIL_IOC_ATTACH);
		simple_call(&sw, &t, GIL_IOC_ACQUIRE);
		release_all(&sw);
		simple_call(&sw, &t, GIL_IOC_DETACH);
	}
	return NULL;
}

static int setup_arena(struct worker *w)
{
	char *base = (char *)ARENA_BASE + (long)w->id * ARENA_PAGES * ps;
	int i;

	w->arena = base;
	for (i = 0; i < ARENA_PAGES; i++) {
		int prot = arena_prot[i] == PG_RO ? PG_RW : arena_prot[i];
		void *p;

		if (arena_prot[i] == PG_HOLE)
			continue;
		p = mmap(base + (long)i * ps, ps, prot, MAP_PRIVATE |
			 MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (p != base + (long)i * ps)
			return -1;
		if (arena_prot[i] == PG_RO) {
			for (long j = 0; j < ps; j++)
				((unsigned char *)p)[j] = rng_next(&w->rng);
			memcpy(p, ro_values, sizeof(ro_values));
			if (mprotect(p, ps, PROT_READ))
				return -1;
		}
	}
	return 0;
}

/*
 * A new GIL still works after all that, its policy is what GET_POLICY,
 * SET_POLICY and the page say, and its options what GET_OPTIONS and
 * SET_OPTIONS say.  A case of its own (t_run): its CHECKs end its process,
 * not the program.
 */
static void after_check(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	__u32 pol, bad = GIL_POLICY_COUNT, opt, bad_opt = GIL_OPTS_ALL << 1;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_GET_POLICY, &pol) == 0);
	CHECK_CMP(pol, <, GIL_POLICY_COUNT);
	CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, pol);
	for (__u32 p = 0; p < GIL_POLICY_COUNT; p++) {
		CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &p) == 0);
		CHECK(ioctl(fd, GIL_IOC_GET_POLICY, &pol) == 0);
		CHECK_CMP(pol, ==, p);
		CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, p);
	}
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_POLICY, &bad), EINVAL);
	CHECK_CMP(T_PAGE_LOAD(pg->policy), ==, GIL_POLICY_COUNT - 1);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_POLICY, (void *)pg), EFAULT);
	/* Off by default; each value reads back; bad bits change nothing. */
	CHECK(ioctl(fd, GIL_IOC_GET_OPTIONS, &opt) == 0);
	CHECK_CMP(opt, ==, 0);
	for (__u32 o = 0; o <= GIL_OPTS_ALL; o++) {
		if (options_errno(o)) {
			CHECK_ERR(ioctl(fd, GIL_IOC_SET_OPTIONS, &o),
				  options_errno(o));
			continue;
		}
		CHECK(ioctl(fd, GIL_IOC_SET_OPTIONS, &o) == 0);
		CHECK(ioctl(fd, GIL_IOC_GET_OPTIONS, &opt) == 0);
		CHECK_CMP(opt, ==, o);
	}
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_OPTIONS, &bad_opt), EINVAL);
	CHECK(ioctl(fd, GIL_IOC_GET_OPTIONS, &opt) == 0);
	CHECK_CMP(opt, ==, opts_have);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_OPTIONS, (void *)pg), EFAULT);
	CHECK_ERR(ioctl(fd, GIL_IOC_SET_OPTIONS, NULL), EFAULT);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK_CMP(T_PAGE_LOAD(pg->locked), ==, 1);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 1);
	t_close_gil(fd, pg);
}

static void print_table(void)
{
	char line[1024];
	long n;
	size_t len;

	printf("#   %-13s %9s  results\n", "call", "count");
	for (int c = 0; c < NCLS; c++) {
		long calls = 0;

		for (int e = 0; e < NERR; e++)
			calls += atomic_load(&sh->tally[c][e]);
		if (!calls)
			continue;
		len = 0;
		line[0] = 0;
		for (int e = 0; e < NERR && len < sizeof(line) - 32; e++) {
			n = atomic_load(&sh->tally[c][e]);
			if (n)
				len += snprintf(line + len, sizeof(line) - len,
						" %s:%ld", e == NERR - 1 ?
						"other" : ename(e), n);
		}
		printf("#   %-13s %9ld %s\n", cls_names[c], calls, line);
	}
}

/* -f: where allocations failed; how many in all. */
static long print_faults(void)
{
	char line[512];
	size_t len = 0;
	long n, all = 0;

	line[0] = 0;
	for (int c = 0; c < NCLS; c++) {
		n = atomic_load(&sh->faults[c]);
		all += n;
		if (n)
			len += snprintf(line + len, sizeof(line) - len,
					" %s:%ld", cls_names[c], n);
	}
	n = atomic_load(&sh->faults_open);
	all += n;
	len += snprintf(line + len, sizeof(line) - len, " open:%ld", n);
	n = atomic_load(&sh->faults_fdinfo);
	all += n;
	snprintf(line + len, sizeof(line) - len, " fdinfo:%ld", n);
	printf("#   calls whose allocation failed:%s\n", line);
	return all;
}

/*
 * Where the time went, per operation, and the whole process's CPU time
 * beside it (children reaped included): what the run pays for its calls.
 */
static void print_costs(void)
{
	struct rusage self, kids;

	printf("#   %-16s %8s %10s %10s %9s\n", "operation", "steps",
	       "cpu ms", "wall ms", "cpu us/1");
	for (int op = 0; op < NR_OPS; op++) {
		long n = atomic_load(&sh->op_steps[op]);
		long cpu = atomic_load(&sh->op_cpu_us[op]);

		if (n)
			printf("#   %-16s %8ld %10ld %10ld %9ld\n", op_name[op],
			       n, cpu / 1000,
			       atomic_load(&sh->op_wall_us[op]) / 1000,
			       cpu / n);
	}
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &kids);
	printf("#   process cpu ms: user %ld system %ld; children's: user %ld "
	       "system %ld\n",
	       self.ru_utime.tv_sec * 1000 + self.ru_utime.tv_usec / 1000,
	       self.ru_stime.tv_sec * 1000 + self.ru_stime.tv_usec / 1000,
	       kids.ru_utime.tv_sec * 1000 + kids.ru_utime.tv_usec / 1000,
	       kids.ru_stime.tv_sec * 1000 + kids.ru_stime.tv_usec / 1000);
}

/*
 * The options this kernel provides (opts_have): each SET_OPTIONS takes, or
 * fails with EOPNOTSUPP (GIL_OPT_PREEMPT_AWARE without CONFIG_SCHED_INFO).
 * -1 on another result.
 */
static int probe_options(void)
{
	int fd = t_open_dev(), r = 0;

	if (fd < 0)
		return -1;
	for (__u32 opt = 1; opt & GIL_OPTS_ALL && !r; opt <<= 1) {
		r = ioctl(fd, GIL_IOC_SET_OPTIONS, &opt);
		if (r == 0)
			opts_have |= opt;
		else if (errno == EOPNOTSUPP)
			r = 0;
	}
	close(fd);
	return r ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct stress_opts o = { .seconds = 10, .threads = 8, .gils = 4 };
	struct worker *workers;
	struct progress *progress;
	struct statvfs sv;
	int64_t start = t_now_ns(), join_deadline;
	int stalled = -1, unjoined = 0, after = 0, findings, i;
	long injected = 0;
	uint64_t sweep_seed;
	pthread_t sweep;
	long longest;

	setvbuf(stdout, NULL, _IOLBF, 0);
	stress_parse(argc, argv, &o);
	faults = o.faults;
	if (faults)
		stress_faults_setup(argv[0]);
	if (o.gils > MAX_GILS)
		stress_usage(argv[0], &o);
	ps = t_page_size();
	sh = t_shared_zalloc(sizeof(*sh));
	nslots = o.gils;
	slots = calloc(nslots, sizeof(*slots));
	workers = calloc(o.threads, sizeof(*workers));
	progress = calloc(o.threads, sizeof(*progress));
	if (!sh || !slots || !workers || !progress)
		return 1;
	dev_noexec = statvfs("/dev/gil", &sv) == 0 && (sv.f_flag & ST_NOEXEC);
	if (probe_options()) {
		printf("not ok - stress-fuzz: SET_OPTIONS on a new GIL (%s)\n",
		       strerror(errno));
		return 1;
	}
	for (i = 0; i < nslots; i++) {
		slots[i].fd = t_open_dev();
		if (slots[i].fd < 0) {
			printf("not ok - stress-fuzz: open %d GILs (%s)\n",
			       nslots, strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < o.threads; i++) {
		struct worker *w = &workers[i];

		w->id = i;
		w->rng = rng_seed(o.seed, i);
		w->st = calloc(nslots, sizeof(*w->st));
		w->progress = &progress[i];
		if (!w->st || setup_arena(w)) {
			printf("not ok - stress-fuzz: set up thread %d (%s)\n",
			       i, strerror(errno));
			return 1;
		}
	}
	for (i = 0; i < o.threads; i++) {
		if (pthread_create(&workers[i].th, NULL, worker_main,
				   &workers[i])) {
			printf("not ok - stress-fuzz: start %d threads\n",
			       o.threads);
			return 1;
		}
	}

	stalled = progress_watch(stress_deadline(&o), progress, o.threads,
				 STALL_BOUND_S * 1000000000LL, &sh->calls,
				 o.count);
	atomic_store(&stop, 1);
	if (stalled >= 0 && show_finding())
		printf("    finding: thread %d made no progress for %d s\n",
		       stalled, STALL_BOUND_S);

	/* One bound for the sweep and every thread to end. */
	join_deadline = t_now_ns() + JOIN_BOUND_MS * 1000000LL;
	sweep_seed = rng_seed(o.seed, o.threads);
	if (pthread_create(&sweep, NULL, sweep_main, &sweep_seed) == 0 &&
	    t_join_within(sweep, JOIN_BOUND_MS)) {
		printf("    the sweep thread did not end\n");
		unjoined++;
	}
	for (i = 0; i < o.threads; i++) {
		long left = T_MS(join_deadline - t_now_ns());

		if (t_join_within(workers[i].th, left > 0 ? left : 1)) {
			printf("    thread %d did not end\n", i);
			unjoined++;
		}
	}
	longest = progress_longest_ms(progress, o.threads);
	if (!unjoined)
		for (i = 0; i < nslots; i++)
			close(slots[i].fd);

	print_table();
	if (faults)
		injected = print_faults();
	print_costs();
	printf("#   /dev/gil is on a mount %s\n", dev_noexec ?
	       "with noexec: PROT_EXEC fails" : "that allows PROT_EXEC");
	printf("#   mmaps %ld (%ld mapped), closes %ld, dups %ld, forks %ld, "
	       "kills %ld, helpers %ld, acquisitions %ld (%ld owner dead), "
	       "drop requests answered %ld, longest step %ld ms\n",
	       atomic_load(&sh->mmaps), atomic_load(&sh->maps_ok),
	       atomic_load(&sh->closes), atomic_load(&sh->dups),
	       atomic_load(&sh->forks), atomic_load(&sh->kills),
	       atomic_load(&sh->helpers), atomic_load(&sh->acquired),
	       atomic_load(&sh->owner_dead), atomic_load(&sh->drop_yields),
	       longest);
	printf("#   GET_STATS into a buffer that ends within %zu bytes: %ld\n",
	       sizeof(struct gil_stats), atomic_load(&sh->stats_tight));
	printf("#   policies set %ld, checked at quiet moments %ld\n",
	       atomic_load(&sh->policy_sets), atomic_load(&sh->policy_checks));
	printf("#   options set %ld, checked at quiet moments %ld (%ld after "
	       "a refused SET_OPTIONS); GIL_OPT_PREEMPT_AWARE %s\n",
	       atomic_load(&sh->options_sets), atomic_load(&sh->options_checks),
	       atomic_load(&sh->options_refusals),
	       opts_have & GIL_OPT_PREEMPT_AWARE ?
	       "there" : "not there (EOPNOTSUPP)");
	printf("%s - stress-fuzz: every call returned a documented result "
	       "(%ld calls, %d not)\n",
	       atomic_load(&sh->bad_results) ? "not ok" : "ok",
	       atomic_load(&sh->calls), atomic_load(&sh->bad_results));
	printf("%s - stress-fuzz: the invariants held (page, version, locked "
	       "while held, statistics, policy, options)\n",
	       atomic_load(&sh->bad_invariants) ? "not ok" : "ok");
	printf("%s - stress-fuzz: no thread went %d s without progress\n",
	       stalled >= 0 ? "not ok" : "ok", STALL_BOUND_S);
	printf("%s - stress-fuzz: all threads ended\n",
	       unjoined || atomic_load(&sh->stuck) ? "not ok" : "ok");
	printf("%s - stress-fuzz: every child ended as it should\n",
	       atomic_load(&sh->child_problems) ? "not ok" : "ok");
	if (faults)
		printf("%s - stress-fuzz: allocations failed under the calls "
		       "(%ld)\n", injected ? "ok" : "not ok", injected);
	if (unjoined)
		printf("ok - stress-fuzz: a new GIL works after the run # SKIP "
		       "threads still inside\n");
	else
		after = !t_run("stress-fuzz: a new GIL works after the run",
			       after_check);

	findings = atomic_load(&sh->bad_results) +
		   atomic_load(&sh->bad_invariants) +
		   atomic_load(&sh->child_problems) + atomic_load(&sh->stuck) +
		   (stalled >= 0) + unjoined + (!unjoined && after) +
		   (faults && !injected);
	printf("# stress-fuzz: seconds=%g threads=%d gils=%d calls=%ld "
	       "mmaps=%ld closes=%ld forks=%ld kills=%ld policy_sets=%ld "
	       "policy_checks=%ld options_sets=%ld options_checks=%ld ",
	       (double)((t_now_ns() - start) / 100000000) / 10, o.threads,
	       o.gils, atomic_load(&sh->calls), atomic_load(&sh->mmaps),
	       atomic_load(&sh->closes), atomic_load(&sh->forks),
	       atomic_load(&sh->kills), atomic_load(&sh->policy_sets),
	       atomic_load(&sh->policy_checks),
	       atomic_load(&sh->options_sets),
	       atomic_load(&sh->options_checks));
	if (faults)
		printf("failed_allocations=%ld ", injected);
	printf("findings=%d\n", findings);
	fflush(stdout);
	/* Threads may still sit in the kernel: exit() ends them. */
	return findings ? 1 : 0;
}
