// SPDX-License-Identifier: MIT
/*
 * The "futex" backend: CPython's GIL semantics, made fast with futexes and
 * direct handoff.
 *
 * Observable semantics (the same as the kernel's and the cpython
 * backend's): a waiter that has waited a whole switch interval, during
 * which the GIL stayed locked by the same holder, posts the drop request
 * (GIL_EVAL_BREAKER_DROP_REQUEST in the eval-breaker word, one per GIL as
 * in CPython 3.12), then starts a new interval; switch_number grows once
 * per change of owner; a release with a request pending is a forced
 * switch, after which another thread holds the GIL before the releaser
 * can take it again; a release never blocks; the acquirer clears the
 * request; -EDEADLK, -EPERM, and -EBADF after close.
 *
 * What differs from CPython, on purpose: waiters are served in FIFO order
 * and a release hands the GIL straight to the longest waiter, so no thread
 * takes the GIL ahead of a waiter (CPython's "take a free GIL at once"
 * only applies here when no one waits), and the forced releaser never has
 * to sleep for the handshake: when it returns, the new owner already owns.
 *
 * Design.
 *
 * 1. One 64-bit state word: bit 0 LOCKED, bit 1 QUEUED (the wait queue is
 *    not empty), bits 2-63 the id of the holder, or of the last holder
 *    while unlocked.  Ids are unique per attach (a 62-bit counter), so the
 *    word tells "same holder again" (no switch) from a change of owner
 *    without ABA, and a thread state that detached and attached again
 *    counts as a new owner, as in the kernel.
 *
 * 2. Fast paths, one CAS each, no syscall.  Acquire: an unlocked word
 *    without QUEUED becomes LOCKED|my id (acquire order).  Release:
 *    LOCKED|my id becomes my id (release order); a word with QUEUED makes
 *    the CAS fail and sends the release to the slow path.
 *
 * 3. Slow paths run under a small internal futex lock ("qlock", Drepper's
 *    three-state mutex with a short spin) that protects the FIFO wait
 *    queue, QUEUED, the posting of drop requests and the handoff.  The
 *    queue is a list of the waiters' per-thread nodes, which live in
 *    their thread states (ops->tstate_size; each on its own cache line).
 *
 * 4. Direct handoff.  A waiter that finds the GIL locked sets QUEUED,
 *    appends itself and sleeps on its OWN futex word (WAITING).  A release
 *    that sees QUEUED takes the qlock, dequeues the head, writes the word
 *    as LOCKED|head's id (QUEUED kept if more wait), stores HANDED into
 *    the head's word (release order) and wakes that one thread: exactly
 *    one wake-up per handoff, and no thread can barge in between because
 *    the GIL never becomes free while anyone waits.  Invariant: the queue
 *    is non-empty => QUEUED is set => the word is LOCKED (until close).
 *
 * 5. Drop requests.  A waiter sleeps (FUTEX_WAIT_BITSET) until a
 *    CLOCK_MONOTONIC deadline one interval away.  When the sleep times out
 *    it takes the qlock, and unless it has been handed the GIL meanwhile
 *    (the handoff is published under the qlock, so a timeout racing with
 *    a handoff can never lose it: the waiter sees HANDED and owns the
 *    GIL), posts the request if the word is still LOCKED by the holder it
 *    saw at the start of this wait; then it starts a new wait, with a new
 *    deadline, against the holder it sees now.  With FIFO handoff "same
 *    holder" is exactly CPython's "switch_number unchanged": an owner that
 *    lost the GIL queues behind this waiter, so it cannot get it back
 *    during the wait unseen.  A waiter is never woken for a release it
 *    then loses (there is no barging), so the only wake-ups that end a
 *    wait are the timeout, the handoff and close; a signal handler or a
 *    stale wake-up keeps the deadline, as pthread_cond_timedwait (the
 *    cpython backend) and the kernel do.
 *
 * 6. Forced switches by construction.  A request is pending only while
 *    its poster is queued, so a release with a request pending always
 *    finds QUEUED and hands the GIL to another thread before returning:
 *    the releaser's next acquire finds it held and queues behind.  The
 *    releaser counts the forced switch and clears the request as part of
 *    the handoff: the handoff is the acquisition, so the acquirer's
 *    "clear the request" happens there (and on the fast path too).  A
 *    request posted while the new holder is still waking up is a genuine
 *    one (a whole interval has passed since the handoff) and stays.
 *
 * 7. Statistics.  Counters written only by the GIL holder (acquisitions,
 *    contended, switch_number, forced/voluntary releases, wait_ns, the
 *    histogram) are plain relaxed load+store pairs, ordered between
 *    holders by the acquire/release of the word and of the handoff.  The
 *    releaser counts a handoff's acquisition and change of owner before
 *    publishing it (so a forced release returns with the new owner
 *    counted, as in the kernel); the woken thread then adds its wait_ns
 *    and its handoff latency (from the release to its running with the
 *    GIL: the wake-up latency).  drop_requests is written under the
 *    qlock.  get_stats reads relaxed: a snapshot, exact when the GIL is
 *    quiet.
 *
 * 8. Close wakes every queued waiter with CLOSED (-EBADF); the state is
 *    checked under the qlock, so no waiter can queue after it.
 *
 * Memory ordering is all C11 atomics (acquire/release on the word, the
 * qlock and the per-thread futex words), which is also what lets
 * ThreadSanitizer, which does not know futexes, see every happens-before
 * edge.  One known wart, shared with glibc's own mutexes: after storing
 * HANDED or CLOSED the waker still issues FUTEX_WAKE on the waiter's word,
 * and by then the woken thread may have run on and freed its thread
 * state.  The waker touches no memory after the store; FUTEX_WAKE on a
 * private futex only hashes the address, so the worst case is a spurious
 * wake-up of a future futex at the same address, which every futex user
 * (including this file's) tolerates.
 *
 * No syscall in this file changes errno as the caller sees it.
 */
#include <errno.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define ST_LOCKED	1ULL
#define ST_QUEUED	2ULL
#define ST_ID_MASK	(~3ULL)

/* A waiter's futex word. */
enum {
	W_WAITING = 0,
	W_HANDED = 1,
	W_CLOSED = 2,
};

/* The per-thread part, in struct gil_tstate's backend area. */
struct futex_tstate {
	uint32_t futex;			/* W_*; the waiter sleeps here */
	uint64_t id;			/* unique id << 2, set at attach */
	struct futex_tstate *next;	/* in the wait queue, under qlock */
	int64_t wait_start;		/* ns */
};

struct futex_gil {
	/* The state word, alone on its cache line. */
	_Alignas(64) uint64_t state;

	/* Under qlock: the wait queue and what goes with it. */
	_Alignas(64) uint32_t qlock;
	bool closed;
	struct futex_tstate *head, *tail;
	uint64_t drop_requests;		/* written under qlock, read relaxed */
	int64_t interval_us;		/* atomic */
	uint64_t next_id;		/* atomic */

	/* Written by the holder only (relaxed load + store). */
	_Alignas(64) uint64_t acquisitions;
	uint64_t contended;
	uint64_t forced_switches;
	uint64_t voluntary_releases;
	uint64_t switch_number;
	uint64_t wait_ns;
	int64_t released_at;		/* of the last handoff */
	uint64_t handoff_ns_hist[GIL_STATS_HIST_BUCKETS];

	/* The eval breaker, polled by the holder. */
	_Alignas(64) uint32_t eval_breaker;
	unsigned char pad[60];
};

static struct futex_gil *fgil(struct gil *gil)
{
	return gil->backend_data;
}

static struct futex_tstate *fts(struct gil_tstate *ts)
{
	return (struct futex_tstate *)ts->backend;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* 0, or -1 with errno set (EAGAIN, EINTR). */
static long futex_wait(uint32_t *addr, uint32_t val)
{
	return syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

/* Until @deadline (CLOCK_MONOTONIC); -1 with errno ETIMEDOUT after it. */
static long futex_wait_until(uint32_t *addr, uint32_t val,
			     const struct timespec *deadline)
{
	return syscall(SYS_futex, addr, FUTEX_WAIT_BITSET_PRIVATE, val,
		       deadline, NULL, FUTEX_BITSET_MATCH_ANY);
}

static void deadline_after_us(struct timespec *ts, int64_t us)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += us / 1000000;
	ts->tv_nsec += (us % 1000000) * 1000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static void futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/*
 * The qlock: 0 free, 1 locked, 2 locked with (possible) sleepers.  The
 * critical sections are a few dozen instructions, so spin a little first.
 */
static void qlock_lock(uint32_t *l)
{
	uint32_t c = 0;

	if (__atomic_compare_exchange_n(l, &c, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	for (int i = 0; i < 100; i++) {
		cpu_relax();
		c = 0;
		if (__atomic_load_n(l, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(l, &c, 1, false,
						__ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return;
	}
	c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex_wait(l, 2);
		c = __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE);
	}
}

static void qlock_unlock(uint32_t *l)
{
	if (__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) == 2)
		futex_wake(l, 1);
}

/* Counters only the holder writes: no read-modify-write needed. */
static inline void hold_add(uint64_t *p, uint64_t n)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n,
			 __ATOMIC_RELAXED);
}

static inline uint64_t rd(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* The eval breaker's other bit, GIL_EVAL_BREAKER_PENDING, is the user's. */
static bool drop_request_posted(struct futex_gil *f)
{
	return __atomic_load_n(&f->eval_breaker, __ATOMIC_RELAXED) &
	       GIL_EVAL_BREAKER_DROP_REQUEST;
}

static void clear_drop_request(struct futex_gil *f)
{
	if (drop_request_posted(f))
		__atomic_fetch_and(&f->eval_breaker,
				   ~GIL_EVAL_BREAKER_DROP_REQUEST,
				   __ATOMIC_RELAXED);
}

static int futex_open(struct gil *gil)
{
	struct futex_gil *f;

	if (posix_memalign((void **)&f, 64, sizeof(*f)))
		return -ENOMEM;
	*f = (struct futex_gil){ .interval_us = GIL_INTERVAL_DEFAULT_US };
	gil->backend_data = f;
	gil->eval_breaker = &f->eval_breaker;
	gil->pending_word = &f->eval_breaker;
	return 0;
}

/* Fail every queued waiter with -EBADF; later ones fail under the qlock. */
static void futex_close(struct gil *gil)
{
	struct futex_gil *f = fgil(gil);
	struct futex_tstate *w, *next;
	int saved_errno = errno;
	uint64_t s;

	qlock_lock(&f->qlock);
	f->closed = true;
	for (w = f->head; w; w = next) {
		next = w->next;
		/* After this store, w may be freed: only its address is used. */
		__atomic_store_n(&w->futex, W_CLOSED, __ATOMIC_RELEASE);
		futex_wake(&w->futex, 1);
	}
	f->head = f->tail = NULL;
	s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
	while (!__atomic_compare_exchange_n(&f->state, &s, s & ~ST_QUEUED,
					    false, __ATOMIC_RELAXED,
					    __ATOMIC_RELAXED))
		;
	clear_drop_request(f);	/* its poster is gone */
	qlock_unlock(&f->qlock);
	errno = saved_errno;
}

static void futex_free(struct gil *gil)
{
	free(fgil(gil));
}

static int futex_attach(struct gil_tstate *ts)
{
	struct futex_gil *f = fgil(ts->gil);
	struct futex_tstate *ft = fts(ts);
	uint64_t id = __atomic_add_fetch(&f->next_id, 1, __ATOMIC_RELAXED);

	ft->id = id << 2;
	ft->next = NULL;
	__atomic_store_n(&ft->futex, W_WAITING, __ATOMIC_RELAXED);
	return 0;
}

/* Nothing to do: the next attach takes a new id, a new owner. */
static int futex_detach(struct gil_tstate *ts)
{
	(void)ts;
	return 0;
}

/* Bookkeeping of an acquisition that did not wait; @prev: the old word. */
static void acquired_now(struct futex_gil *f, uint64_t prev, uint64_t me)
{
	hold_add(&f->acquisitions, 1);
	if ((prev & ST_ID_MASK) != me)
		hold_add(&f->switch_number, 1);
	clear_drop_request(f);
}

/*
 * The part of a handoff's bookkeeping that needs the new holder's clock:
 * how long it waited, and how long it took to run once handed the GIL.
 * The releaser counted the acquisition itself (release_slow).
 */
static void acquired_handoff(struct futex_gil *f, struct futex_tstate *ft)
{
	int64_t now = now_ns();
	int64_t released_at = __atomic_load_n(&f->released_at,
					      __ATOMIC_RELAXED);

	hold_add(&f->wait_ns, (uint64_t)(now - ft->wait_start));
	hold_add(&f->handoff_ns_hist[gil_hist_bucket(now - released_at)], 1);
}

/* The switch interval, at least 1 us as in CPython. */
static int64_t interval_us(struct futex_gil *f)
{
	int64_t interval = __atomic_load_n(&f->interval_us, __ATOMIC_RELAXED);

	return interval < 1 ? 1 : interval;
}

static int __acquire_slow(struct futex_gil *f, struct futex_tstate *ft)
{
	uint64_t me = ft->id, s, holder;
	struct timespec deadline;
	uint32_t v;

	qlock_lock(&f->qlock);
	if (f->closed) {
		qlock_unlock(&f->qlock);
		return -EBADF;
	}
	s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
	for (;;) {
		if (!(s & ST_LOCKED)) {
			/* Free (the queue is empty): take it, no wait. */
			if (__atomic_compare_exchange_n(&f->state, &s,
					me | ST_LOCKED | (s & ST_QUEUED),
					false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED)) {
				qlock_unlock(&f->qlock);
				acquired_now(f, s, me);
				return 0;
			}
			continue;
		}
		if ((s & ST_ID_MASK) == me) {
			qlock_unlock(&f->qlock);
			return -EDEADLK;
		}
		if (s & ST_QUEUED)
			break;
		/* The holder's fast release fails from here on. */
		if (__atomic_compare_exchange_n(&f->state, &s, s | ST_QUEUED,
						false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED)) {
			s |= ST_QUEUED;
			break;
		}
	}

	/* Queue up, behind every thread already waiting. */
	__atomic_store_n(&ft->futex, W_WAITING, __ATOMIC_RELAXED);
	ft->next = NULL;
	if (f->tail)
		f->tail->next = ft;
	else
		f->head = ft;
	f->tail = ft;
	ft->wait_start = now_ns();
	holder = s & ST_ID_MASK;	/* whom this wait is measured against */
	qlock_unlock(&f->qlock);

	deadline_after_us(&deadline, interval_us(f));
	for (;;) {
		bool timed_out = futex_wait_until(&ft->futex, W_WAITING,
						  &deadline) &&
				 errno == ETIMEDOUT;

		v = __atomic_load_n(&ft->futex, __ATOMIC_ACQUIRE);
		if (v != W_WAITING)
			break;
		/*
		 * A signal handler, or a stale wake-up (see the top): keep
		 * the deadline, as a condition variable's timed wait does.
		 */
		if (!timed_out)
			continue;

		/*
		 * A whole interval: decide under the qlock, where handoffs
		 * are published, so that one racing with this timeout is
		 * seen here (and owned), never lost.
		 */
		qlock_lock(&f->qlock);
		v = __atomic_load_n(&ft->futex, __ATOMIC_ACQUIRE);
		if (v == W_WAITING) {
			s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
			if ((s & ST_LOCKED) && (s & ST_ID_MASK) == holder) {
				__atomic_fetch_or(&f->eval_breaker,
						  GIL_EVAL_BREAKER_DROP_REQUEST,
						  __ATOMIC_RELAXED);
				__atomic_store_n(&f->drop_requests,
						 f->drop_requests + 1,
						 __ATOMIC_RELAXED);
			}
			holder = s & ST_ID_MASK;
		}
		qlock_unlock(&f->qlock);
		if (v != W_WAITING)
			break;
		/* The next wait, against the holder seen now. */
		deadline_after_us(&deadline, interval_us(f));
	}
	if (v == W_CLOSED)
		return -EBADF;
	acquired_handoff(f, ft);
	return 0;
}

/* The futex calls must not leak into the caller's errno. */
static int acquire_slow(struct futex_gil *f, struct futex_tstate *ft)
{
	int saved_errno = errno;
	int ret = __acquire_slow(f, ft);

	errno = saved_errno;
	return ret;
}

static int futex_acquire(struct gil_tstate *ts)
{
	struct futex_gil *f = fgil(ts->gil);
	struct futex_tstate *ft = fts(ts);
	uint64_t me = ft->id;
	uint64_t s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);

	if (!(s & (ST_LOCKED | ST_QUEUED)) &&
	    __atomic_compare_exchange_n(&f->state, &s, me | ST_LOCKED, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		acquired_now(f, s, me);
		return 0;
	}
	if ((s & ST_LOCKED) && (s & ST_ID_MASK) == me)
		return -EDEADLK;
	return acquire_slow(f, ft);
}

/* A release that found QUEUED: hand the GIL to the longest waiter. */
static void release_slow(struct futex_gil *f, uint64_t me)
{
	struct futex_tstate *w;
	int saved_errno = errno;
	uint64_t s;

	qlock_lock(&f->qlock);
	if (drop_request_posted(f)) {
		hold_add(&f->forced_switches, 1);
		clear_drop_request(f);
	} else {
		hold_add(&f->voluntary_releases, 1);
	}
	w = f->head;
	if (w) {
		f->head = w->next;
		if (!f->head)
			f->tail = NULL;
		/*
		 * The handoff is the acquisition: count it now, so that when
		 * a forced release returns the change of owner is visible.
		 */
		hold_add(&f->acquisitions, 1);
		hold_add(&f->contended, 1);
		hold_add(&f->switch_number, 1);	/* w is not us */
		__atomic_store_n(&f->released_at, now_ns(), __ATOMIC_RELAXED);
		/* No one else writes the word now: it is LOCKED, by us. */
		__atomic_store_n(&f->state, w->id | ST_LOCKED |
				 (f->head ? ST_QUEUED : 0), __ATOMIC_RELEASE);
		/* From here on w belongs to its thread: only its address. */
		__atomic_store_n(&w->futex, W_HANDED, __ATOMIC_RELEASE);
		qlock_unlock(&f->qlock);
		futex_wake(&w->futex, 1);
	} else {
		/* Only after close: no one to hand to, unlock. */
		s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);
		while (!__atomic_compare_exchange_n(&f->state, &s, me, false,
						    __ATOMIC_RELEASE,
						    __ATOMIC_RELAXED))
			;
		qlock_unlock(&f->qlock);
	}
	errno = saved_errno;
}

static int futex_release(struct gil_tstate *ts)
{
	struct futex_gil *f = fgil(ts->gil);
	uint64_t me = fts(ts)->id;
	uint64_t s = __atomic_load_n(&f->state, __ATOMIC_RELAXED);

	if (!(s & ST_LOCKED) || (s & ST_ID_MASK) != me)
		return -EPERM;
	if (!(s & ST_QUEUED)) {
		/* No one queued, so no request pending: a voluntary release. */
		hold_add(&f->voluntary_releases, 1);
		if (__atomic_compare_exchange_n(&f->state, &s, me, false,
						__ATOMIC_RELEASE,
						__ATOMIC_RELAXED))
			return 0;
		/* A waiter queued meanwhile: we still hold the GIL. */
		__atomic_store_n(&f->voluntary_releases,
				 rd(&f->voluntary_releases) - 1,
				 __ATOMIC_RELAXED);
	}
	release_slow(f, me);
	return 0;
}

static int futex_yield(struct gil_tstate *ts)
{
	int ret = futex_release(ts);

	return ret ? ret : futex_acquire(ts);
}

static int futex_set_interval(struct gil *gil, int64_t interval_us)
{
	__atomic_store_n(&fgil(gil)->interval_us, interval_us, __ATOMIC_RELAXED);
	return 0;
}

static int64_t futex_get_interval(struct gil *gil)
{
	return __atomic_load_n(&fgil(gil)->interval_us, __ATOMIC_RELAXED);
}

static int futex_get_stats(struct gil *gil, struct gil_stats *stats)
{
	struct futex_gil *f = fgil(gil);

	stats->size = sizeof(*stats);
	stats->hist_buckets = GIL_STATS_HIST_BUCKETS;
	stats->acquisitions = rd(&f->acquisitions);
	stats->contended = rd(&f->contended);
	stats->drop_requests = rd(&f->drop_requests);
	stats->forced_switches = rd(&f->forced_switches);
	stats->voluntary_releases = rd(&f->voluntary_releases);
	stats->switch_number = rd(&f->switch_number);
	stats->owner_deaths = 0;
	stats->wait_ns = rd(&f->wait_ns);
	for (int i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		stats->handoff_ns_hist[i] = rd(&f->handoff_ns_hist[i]);
	return 0;
}

const struct gil_ops gil_futex_ops = {
	.name = "futex",
	.tstate_size = sizeof(struct futex_tstate),
	.open = futex_open,
	.close = futex_close,
	.free = futex_free,
	.fork_child = futex_free,	/* only words: nothing to destroy */
	.attach = futex_attach,
	.detach = futex_detach,
	.acquire = futex_acquire,
	.release = futex_release,
	.yield = futex_yield,
	.set_interval = futex_set_interval,
	.policy = GIL_POLICY_FIFO,
	.get_interval = futex_get_interval,
	.get_stats = futex_get_stats,
};
