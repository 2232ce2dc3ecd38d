// SPDX-License-Identifier: GPL-2.0
/*
 * The GIL algorithm: CPython's take_gil() and drop_gil()
 * (Python/ceval_gil.c) on one spinlock, a queue of waiting threads and an
 * hrtimer-bounded sleep.
 *
 * CPython's gil->mutex and switch_mutex become gil->lock; its condition
 * variables become the module's own queue gil->waiters (cond) and a sleep
 * in the thread's task state (for cond and for switch_cond), woken with
 * wake_up_process(); its timed wait becomes an hrtimer-bounded sleep.
 * What differs, and why:
 *  - Waiters are queued in arrival order, and a release wakes the longest
 *    waiter asleep, as glibc's pthread_cond_signal does.  A waiter whose
 *    wait timed out, or that was woken and found the GIL taken, goes to
 *    the back, as CPython's does when it waits on the condition anew
 *    (gil_requeue()); under GIL_POLICY_FIFO and GIL_POLICY_IO it keeps its
 *    place.
 *  - The queue is walked only under gil->lock, and a waiter is woken only
 *    after the waker drops gil->lock, and not through a wait queue, whose
 *    lock the waker holds while it wakes: woken under a lock, the waiter
 *    spins on it until the waker lets go, for a whole time slice of the
 *    host's if the host preempts the waker's vCPU right after the IPI.
 *    A pending wake-up holds a reference to the record, whose thread it
 *    wakes, so the waiter may have gone meanwhile: as with futexes (wake_q),
 *    a wake-up may be spurious, never lost.
 *  - Under GIL_POLICY_FIFO and GIL_POLICY_IO (policy.c) a release may hand
 *    the GIL to a chosen waiter instead of unlocking it.
 *  - Waits sleep interruptibly, as futex waits do: a thread waiting for
 *    the GIL can be stopped (SIGSTOP, ptrace), frozen (the freezers reach
 *    it as a signal does) and run signal handlers.  On a signal the call
 *    returns -ERESTARTNOINTR and is restarted once the signal is handled,
 *    so ACQUIRE still never fails on a signal.  The interrupted wait keeps
 *    its place in the queue, its deadline and its switch_number: a signal
 *    is no wake-up in CPython's sense (pthread_cond_timedwait resumes with
 *    its absolute deadline).  While away the thread is passed over by
 *    handoffs; a forced releaser waits for it, as CPython's does for a
 *    waiter running a handler.  A fatal signal ends the wait.
 *  - The forced releaser also stops waiting when no thread waits any more
 *    (a waiter was killed, or exited while away): CPython's untimed wait
 *    would hang there (gh-96387).  A waiter that exits while away leaves
 *    no trace to wake anyone by, so while some are away the releaser
 *    looks for them every GIL_OWNER_CHECK_MS.
 *  - A holder that exits or execs holding the GIL does not wedge it: the
 *    first waiter in line sleeps at most GIL_OWNER_CHECK_MS at a time and
 *    looks at the holder each time, whatever the interval (the others
 *    sleep until their deadlines; the cost is the waiters' own), and the
 *    GIL is released as the policy says (under fifo, to the longest
 *    waiter); the next owner gets EOWNERDEAD, as from a robust mutex.
 *  - Only a timeout or a release's wake-up restarts the interval; any
 *    other wake-up (a look at the holder, the freezer's thaw) goes on with
 *    the same deadline.
 *  - With GIL_OPT_PREEMPT_AWARE a timeout whose holder waited for a CPU
 *    meanwhile moves the deadline on by that time instead of asking
 *    (gil_extend_wait()): the same timed wait goes on, neither restarted
 *    nor requeued.  CPython's interval is wall time; a userspace GIL could
 *    read the holder's run delay from /proc/PID/task/TID/schedstat, at a
 *    file read a timeout, where the module reads two words.
 *  - With GIL_OPT_PRIO_INHERIT every change of the holder or of its
 *    waiters ends with gil_pi_sync() (pi.c), once gil->lock is let go.
 *
 * Takes and releases that need nothing of the module do not reach it: they
 * go through the word page (word.c), whose news gil_lock() brings in, so
 * that the state read here is always the GIL's.  What a thread's record is
 * and when it ends (exit, exec, DETACH, SHUTDOWN; at most max_threads of
 * them) is core.c's; what fdinfo shows of a GIL is fdinfo.c's.
 *
 * The tracepoints of trace.h mark acquisitions, releases, drop requests
 * and handoffs, under gil->lock; when disabled each is a patched-out
 * branch.
 */
#include <linux/errno.h>
#include <linux/hrtimer.h>
#include <linux/math64.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/sched/signal.h>

#include "compat.h"
#include "gil.h"
#include "trace.h"

/* How often the first waiter looks for a dead holder, at the longest. */
#define GIL_OWNER_CHECK_MS	10
#define GIL_WATCH_SLACK_NS	(NSEC_PER_MSEC / 2)

/* How long a waiter that asked for the GIL watches a running holder. */
#define GIL_SPIN_NS		(100 * NSEC_PER_USEC)

/*
 * Not TASK_FREEZABLE: frozen in place, the first waiter would still count
 * as the one watching the holder.  Through the signal path it is away.
 */
#define GIL_SLEEP	TASK_INTERRUPTIBLE

/*
 * What one call does outside gil->lock.
 *
 * @now: the time, read before taking gil->lock, or 0 if the call has not
 *	needed it yet.  A clock read can be a trap into a hypervisor (the
 *	emulated HPET costs about a microsecond under QEMU TCG, and takes
 *	QEMU's big lock): done under gil->lock, every thread spinning on
 *	it would wait for that, the longer on a busy host.
 * @sched_now: local_clock() then, for GIL_OPT_PREEMPT_AWARE (0 when the
 *	option was off): the scheduler's clock, which its run delays are in
 * @t, @n: the wake-ups a change of state leaves to do once gil->lock is
 *	dropped (kernel/futex/'s wake_q, which modules cannot use).  No call
 *	needs more than two (say, a waiter leaving with the GIL handed to
 *	it: the next owner, and the new first waiter in line); the third
 *	slot is to spare.
 */
struct gil_op {
	ktime_t now;
	u64 sched_now;
	struct gil_thread *t[3];
	unsigned int n;
};

/* The time, before gil->lock is taken; the scheduler's too if needed. */
static void gil_op_read_clock(struct gil *gil, struct gil_op *op)
{
	op->now = ktime_get();
	op->sched_now = READ_ONCE(gil->options) & GIL_OPT_PREEMPT_AWARE ?
			local_clock() : 0;
}

/*
 * Read the clock for a call that found it needs the time only under
 * gil->lock: let go of the lock for it.  The caller looks at the state
 * anew.
 */
static void gil_op_clock(struct gil *gil, struct gil_op *op)
	__must_hold(&gil->lock)
{
	gil_unlock(gil);
	gil_op_read_clock(gil, op);
	gil_lock(gil);
}

static void gil_wake_q_add(struct gil_op *q, struct gil_thread *t)
{
	/* Never lost: at worst woken under the lock. */
	if (WARN_ON_ONCE(q->n == ARRAY_SIZE(q->t))) {
		gil_thread_wake(t);
		return;
	}
	kref_get(&t->kref);
	q->t[q->n++] = t;
}

static void gil_wake_up(struct gil_op *q)
{
	unsigned int i;

	for (i = 0; i < q->n; i++) {
		gil_thread_wake(q->t[i]);
		gil_thread_put(q->t[i]);
	}
	q->n = 0;
}

/*
 * The holder or its real-time waiters changed (GIL_OPT_PRIO_INHERIT): let
 * go of gil->lock, do the wake-ups, and set the holder's boost, which may
 * sleep (pi.c).
 */
static void gil_unlock_boost(struct gil *gil, struct gil_op *q)
	__releases(&gil->lock)
{
	gil_unlock(gil);
	gil_wake_up(q);
	gil_pi_sync(gil);
}

bool gil_holds(struct gil *gil, struct gil_thread *t)
{
	lockdep_assert_held(&gil->lock);
	return gil->locked && gil->holder == t;
}

static bool gil_queued(const struct gil_thread *t)
{
	return !list_empty(&t->wait_node);
}

/* Waiters in the wait loop now, not away handling a signal. */
static unsigned int gil_nr_present(const struct gil *gil)
{
	if (WARN_ON_ONCE(gil->nr_away > gil->nr_waiters))
		return 0;
	return gil->nr_waiters - gil->nr_away;
}

/*
 * The first waiter in line that is not away: it watches the holder.  The
 * walk passes the waiters away in their handlers, threads of the GIL's own
 * users, as a futex wake passes the waiters of other futexes in its bucket.
 */
struct gil_thread *gil_head(struct gil *gil)
{
	struct gil_thread *w;

	lockdep_assert_held(&gil->lock);
	list_for_each_entry(w, &gil->waiters, wait_node)
		if (!w->away && !w->gone)
			return w;
	return NULL;
}

/*
 * The waiter a release hands the GIL to, or NULL to let the waiters compete
 * for it, as the policy says.  Waiters are queued in arrival order, so the
 * first one the policy accepts has waited longest; one away handling a
 * signal, or whose record is going, is passed over.
 */
static struct gil_thread *gil_next_owner(struct gil *gil)
	__must_hold(&gil->lock)
{
	struct gil_thread *w;

	if (!gil_policy_hands_off(gil))
		return NULL;
	list_for_each_entry(w, &gil->waiters, wait_node)
		if (!w->away && !w->gone && gil_policy_may_take(gil, w))
			return w;
	return NULL;
}

/*
 * The line changed (@old_head was first): a new first waiter takes over
 * watching the holder, and must wake up to shorten its sleep, if that
 * goes past the next look.
 */
static void gil_wake_new_head(struct gil *gil, struct gil_thread *old_head,
			      struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *h = gil_head(gil);

	if (!h || h == old_head || !gil->locked || h->woken)
		return;
	/* Without the time, a wake-up too many costs less than a look. */
	if (!q->now || ktime_after(h->deadline,
				   ktime_add_ms(q->now, GIL_OWNER_CHECK_MS)))
		gil_wake_q_add(q, h);
}

/*
 * The holder cannot run to answer a drop request: it sleeps in the kernel
 * (a system call, a page fault), is stopped (a debugger) or frozen; not
 * when it only waits for a CPU.  Its state is read without its runqueue's
 * lock: it may be a moment behind.
 */
bool gil_holder_blocked(struct gil *gil)
	__must_hold(&gil->lock)
{
	struct task_struct *task;
	bool blocked;

	rcu_read_lock();
	task = pid_task(gil->holder->pid, PIDTYPE_PID);
	blocked = task && (READ_ONCE(task->__state) &
			   (TASK_NORMAL | __TASK_STOPPED | __TASK_TRACED |
			    TASK_FROZEN));
	rcu_read_unlock();
	return blocked;
}

/*
 * SET_GIL_DROP_REQUEST, by waiter @t at @now: the holder sees it in the
 * page, with no syscall.  One the holder cannot see, asleep in the kernel
 * holding the GIL, is counted, and the wait it begins timed until the
 * release (gil_release_locked()): the call that should have released the
 * GIL, found.
 */
static void gil_post_drop_request(struct gil *gil, struct gil_thread *t,
				  ktime_t now)
{
	bool blocked = gil_holder_blocked(gil);

	gil->drop_request = true;
	gil_stats_drop_request(gil);
	gil_page_drop_request(gil, true);
	trace_gil_drop_request(gil, t->tid, gil->holder->tid);
	if (!blocked)
		return;
	gil_stats_blocked_request(gil);
	if (!gil->blocked_since)
		gil->blocked_since = now;
	trace_gil_holder_blocked(gil, t->tid, gil->holder->tid);
}

/*
 * The hold a request found blocked ends (timed up to @now, if known), or
 * the request goes with no release (a reset).
 */
static void gil_blocked_end(struct gil *gil, ktime_t now)
{
	if (!gil->blocked_since)
		return;
	if (now)
		gil_stats_blocked_wait(gil, ktime_sub(now, gil->blocked_since));
	gil->blocked_since = 0;
}

static void gil_clear_drop_request(struct gil *gil)
{
	gil_blocked_end(gil, 0);
	if (!gil->drop_request)
		return;
	gil->drop_request = false;
	gil_page_drop_request(gil, false);
}

/*
 * Make @t the owner: CPython's "locked = 1; last_holder = tstate", a change
 * of owner counted once (the word page's takers compare with it too).  A
 * drop request pending is for the old owner, and a forced release of the
 * old owner waits for exactly this change.
 */
static void gil_set_owner(struct gil *gil, struct gil_thread *t,
			  struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *old = gil->holder;

	gil->locked = true;
	if (old != t) {
		if (old) {
			if (old->switching && !old->away)
				gil_wake_q_add(q, old);
			gil_thread_put(old);
		}
		kref_get(&t->kref);
		gil->holder = t;
		gil->switch_number++;
	}
	gil_word_taken(gil, t);
	gil_clear_drop_request(gil);
}

/* Wake the longest waiter still asleep: a free GIL needs a taker. */
static void gil_wake_next(struct gil *gil, struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *w;

	list_for_each_entry(w, &gil->waiters, wait_node) {
		if (w->away || w->woken || w->gone)
			continue;
		w->woken = true;
		gil_wake_q_add(q, w);
		return;
	}
}

/*
 * A forced releaser waits while threads wait: tell it when none is left
 * present, to stop or to start looking for the away ones' exits.
 */
static void gil_wake_switcher(struct gil *gil, struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *r = gil->holder;

	if (r && r->switching && !r->away && !gil->locked)
		gil_wake_q_add(q, r);
}

/*
 * The part of drop_gil() under the mutex, also the end of a dead holder's
 * hold: unlock the GIL and wake a waiter, or, as the policy says, hand the
 * GIL straight to one.
 */
static void gil_release_locked(struct gil *gil, struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *next = NULL;

	gil_blocked_end(gil, q->now);
	if (gil_nr_present(gil)) {
		/*
		 * Only a waiter's handoff latency is measured from here (not
		 * from a dead holder's recovery by a call that had no time).
		 */
		gil->released_at = q->now;
		gil->releases++;
		gil->released_by = gil->holder->tid;
		next = gil_next_owner(gil);
	}
	if (next) {
		gil_set_owner(gil, next, q);
		gil_stats_direct_handoff(gil);
		gil_wake_q_add(q, next);
	} else {
		gil->locked = false;
		gil_wake_next(gil, q);
	}
	gil_page_sync(gil);
}

#if GIL_HAVE_RUN_DELAY
/*
 * The time @task has spent runnable but waiting for a CPU by @now (the
 * scheduler's clock), counting a wait under way: sched_info.run_delay,
 * /proc/PID/schedstat's second field, and since last_queued.  Read
 * without the runqueue's lock: the pair may be one update apart (a wait
 * that just ended missed, or counted twice), which gil_extend_wait()
 * bounds by the time that passed.
 */
static u64 gil_task_run_delay(struct task_struct *task, u64 now)
{
	u64 delay = READ_ONCE(task->sched_info.run_delay);
	u64 queued = READ_ONCE(task->sched_info.last_queued);

	return queued && now > queued ? delay + (now - queued) : delay;
}
#else
static u64 gil_task_run_delay(struct task_struct *task, u64 now)
{
	return 0;
}
#endif

/*
 * The holder's time waiting for a CPU so far (GIL_OPT_PREEMPT_AWARE); 0
 * with no holder, or one whose thread is gone.
 */
static u64 gil_holder_run_delay(struct gil *gil, u64 now)
	__must_hold(&gil->lock)
{
	struct task_struct *task;
	u64 delay = 0;

	if (!gil->holder)
		return 0;
	rcu_read_lock();
	task = pid_task(gil->holder->pid, PIDTYPE_PID);
	if (task)
		delay = gil_task_run_delay(task, now);
	rcu_read_unlock();
	return delay;
}

/*
 * A new timed wait: the interval restarts after every wake-up.  Under
 * GIL_OPT_PREEMPT_AWARE the wait notes the holder's run delay, from which
 * its extensions count; a wait begun with the option off has no such
 * base, and asks when its interval runs out.
 */
static void gil_arm(struct gil *gil, struct gil_thread *t,
		    const struct gil_op *q)
	__must_hold(&gil->lock)
{
	t->deadline = ktime_add_us(q->now, gil->interval_us);
	t->wait_switch_number = gil->switch_number;
	t->run_delay_at = 0;
	if ((gil->options & GIL_OPT_PREEMPT_AWARE) && q->sched_now) {
		t->holder_run_delay = gil_holder_run_delay(gil, q->sched_now);
		t->run_delay_at = q->sched_now;
	}
}

/*
 * How much longer a wait goes on (GIL_OPT_PREEMPT_AWARE) when its interval
 * of @interval_ns ran out: as long as the holder waited for a CPU since the
 * last look, @delay_ns of the scheduler's run delay in @elapsed_ns, which
 * bounds it; 0, to ask, when that is less than a twentieth of the interval
 * (not worth another sleep).
 */
u64 gil_preempt_extension(u64 delay_ns, u64 elapsed_ns, u64 interval_ns)
{
	u64 waited = min(delay_ns, elapsed_ns);

	return waited < div_u64(interval_ns, 20) ? 0 : waited;
}

/*
 * @t's interval ran out, but the holder spent some of it waiting for a
 * CPU: the same timed wait goes on for as long (true), and again at its
 * end, until the holder has had a whole interval.  So a waiter waits the
 * interval over the holder's share of a CPU, and one whose holder never
 * gets a CPU never asks: it could not be answered.
 */
static bool gil_extend_wait(struct gil *gil, struct gil_thread *t,
			    const struct gil_op *q)
	__must_hold(&gil->lock)
{
	u64 delay, more;

	/* Asked already: the holder answers at its next check. */
	if (!(gil->options & GIL_OPT_PREEMPT_AWARE) || !t->run_delay_at ||
	    gil->drop_request || q->sched_now <= t->run_delay_at)
		return false;
	delay = gil_holder_run_delay(gil, q->sched_now);
	if (delay <= t->holder_run_delay)
		return false;
	more = gil_preempt_extension(delay - t->holder_run_delay,
				     q->sched_now - t->run_delay_at,
				     (u64)gil->interval_us * NSEC_PER_USEC);
	if (!more)
		return false;
	t->holder_run_delay = delay;
	t->run_delay_at = q->sched_now;
	t->deadline = ktime_add_ns(q->now, more);
	gil_stats_preempt_extension(gil);
	return true;
}

static void gil_enqueue(struct gil *gil, struct gil_thread *t,
			const struct gil_op *q)
	__must_hold(&gil->lock)
{
	list_add_tail(&t->wait_node, &gil->waiters);
	gil->nr_waiters++;
	gil_pi_waiter_lends(gil, t);
	t->wait_start = q->now;
	t->wait_releases = gil->releases;
	gil_arm(gil, t, q);
	if (gil_io_preempts(gil, t)) {
		gil_post_drop_request(gil, t, q->now);
		gil_stats_io_preemption(gil);
	}
}

static void gil_dequeue(struct gil *gil, struct gil_thread *t)
	__must_hold(&gil->lock)
{
	list_del_init(&t->wait_node);
	gil->nr_waiters--;
	gil_pi_waiter_leaves(gil, t);
}

/*
 * A timed wait ends and another begins: CPython's waiter enters
 * pthread_cond_timedwait() anew, behind those already waiting.  So the
 * sleeper that re-takes the GIL beside CPU-bound threads is woken at the
 * first release after its request, not behind them (the re-acquire
 * oracle).  GIL_POLICY_FIFO and GIL_POLICY_IO keep arrival order, which
 * they promise (io: to the longest-waiting I/O-bound thread).  Only a
 * waiter that goes back to sleep moves: one about to take the GIL leaves
 * the line from where it is, the first one's watch passing on as it goes.
 */
static void gil_requeue(struct gil *gil, struct gil_thread *t,
			struct gil_op *q)
	__must_hold(&gil->lock)
{
	bool was_head;

	if (gil->policy != GIL_POLICY_CPYTHON ||
	    list_is_last(&t->wait_node, &gil->waiters))
		return;
	was_head = gil_head(gil) == t;
	list_move_tail(&t->wait_node, &gil->waiters);
	if (was_head)
		gil_wake_new_head(gil, t, q);
}

/*
 * Waiters that exited while away, their handlers never back: they never
 * will be, so they leave the line (their records are core.c's to reap).
 */
static void gil_prune_away(struct gil *gil)
	__must_hold(&gil->lock)
{
	struct gil_thread *w, *next;

	list_for_each_entry_safe(w, next, &gil->waiters, wait_node) {
		if (!w->away || !gil_thread_dead(w))
			continue;
		gil_dequeue(gil, w);
		gil->nr_away--;
		w->away = false;
	}
}

/*
 * The end of a wait without the GIL: for good (@away false), or for the
 * time a signal takes.  A wake-up it may have consumed goes on to the next
 * waiter, the next in line watches the holder, a request no one waits for
 * any more is withdrawn (gh-96387), and a forced releaser left with no
 * waiter stops waiting.
 */
static void gil_wait_end(struct gil *gil, struct gil_thread *t, bool away,
			 struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *head = gil_head(gil);

	if (away) {
		t->away = true;
		gil->nr_away++;
	} else {
		gil_dequeue(gil, t);
		if (t->away)
			gil->nr_away--;
		t->away = false;
	}
	if (!gil->locked && t->woken)
		gil_wake_next(gil, q);
	t->woken = false;
	if (head == t)
		gil_wake_new_head(gil, t, q);
	if (!gil_nr_present(gil)) {
		gil_prune_away(gil);
		gil_wake_switcher(gil, q);
	}
	if (!gil->nr_waiters)
		gil_clear_drop_request(gil);
}

/*
 * Record @t leaving the GIL (detach, exit, exec, shutdown): a hold it has
 * ends as an owner death, a wait it is away from ends, and a wait it
 * sleeps in is woken to end itself (it sees @gone).  With @unless_held, a
 * holder stays (DETACH fails with EBUSY).
 */
static int gil_thread_leave_locked(struct gil *gil, struct gil_thread *t,
				   bool unless_held, struct gil_op *q)
	__must_hold(&gil->lock)
{
	bool held = gil_holds(gil, t), was_head;

	if (held && unless_held)
		return -EBUSY;
	/* Whoever set @gone undid all the rest. */
	if (t->gone)
		return 0;
	was_head = gil_head(gil) == t;
	/* First: a release passes over it, not back to it. */
	t->gone = true;
	gil_token_free(gil, t);
	gil_classify(gil, t, false);
	if (held) {
		gil->owner_died = true;
		gil_release_locked(gil, q);
	}
	if (t->away && gil_queued(t)) {
		gil_wait_end(gil, t, false, q);
	} else if ((gil_queued(t) || t->switching) && !t->away) {
		gil_wake_q_add(q, t);
		if (was_head)
			gil_wake_new_head(gil, t, q);
	}
	t->switching = false;
	/* The next acquirer, whoever it is, counts as a change of owner. */
	if (gil->holder == t && !gil->locked) {
		gil->holder = NULL;
		gil_thread_put(t);
	}
	return 0;
}

/* For core.c: undo what the algorithm holds of a record that goes. */
int gil_thread_leave(struct gil *gil, struct gil_thread *t, bool unless_held)
{
	struct gil_op q = { .now = ktime_get() };
	int ret;

	gil_lock(gil);
	ret = gil_thread_leave_locked(gil, t, unless_held, &q);
	if (gil_pi_stale(gil)) {
		gil_unlock_boost(gil, &q);
		return ret;
	}
	gil_unlock(gil);
	gil_wake_up(&q);
	return ret;
}

/* The holder exited or exec'd holding the GIL: release it for them. */
static void gil_recover(struct gil *gil, struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_thread *dead = gil->holder;
	/* Whoever else unlinks it leaves it too, in vain: once is enough. */
	bool unlinked = gil_thread_unlink(gil, dead);

	gil_thread_leave_locked(gil, dead, false, q);
	if (unlinked)
		gil_thread_put(dead);
}

void gil_lock_init(struct gil *gil)
{
	spin_lock_init(&gil->lock);
	INIT_LIST_HEAD(&gil->waiters);
}

/* No call is in flight: drop the last holder's reference. */
void gil_lock_destroy(struct gil *gil)
{
	if (gil->holder)
		gil_thread_put(gil->holder);
}

/*
 * The end of take_gil(): the caller owns the GIL from here on.  A thread
 * the GIL was handed to owns it already.
 */
static int gil_acquire_locked(struct gil *gil, struct gil_thread *t,
			      bool waited, struct gil_op *q)
	__must_hold(&gil->lock)
{
	struct gil_acquire_times times;
	int ret = 0;

	if (!gil_holds(gil, t))
		gil_set_owner(gil, t, q);
	if (gil->owner_died) {
		gil->owner_died = false;
		gil_stats_owner_death(gil);
		ret = -EOWNERDEAD;
	}
	gil_stats_acquired(gil, t, waited, q->now, &times);
	gil_page_sync(gil);
	trace_gil_acquire(gil, t->tid, waited, times.wait_ns,
			  ret == -EOWNERDEAD);
	if (times.handoff_ns >= 0)
		trace_gil_handoff(gil, gil->released_by, t->tid,
				  times.handoff_ns);
	return ret;
}

/*
 * @t is the waiter the next release favours: the one it hands the GIL to,
 * or the one it wakes (the first in line), as the policy says.
 */
static bool gil_is_next(struct gil *gil, struct gil_thread *t)
{
	struct gil_thread *next = gil_next_owner(gil);

	return next ? next == t : gil_head(gil) == t;
}

/*
 * A waiter has just asked for the GIL (a drop request is pending), and the
 * release will favour it (were it another, asleep, a waiter awake would
 * win the GIL from it, where CPython's, asleep too, would not).  While the
 * holder runs on another CPU it answers within microseconds, at its next
 * safe point: the waiter watches for that instead of sleeping and being
 * woken, an IPI and a schedule later (as a mutex waiter spins on a running
 * owner).  At most GIL_SPIN_NS a request, never while the holder waits for
 * a CPU (this one, say), nor past a reschedule or a signal.  Lets go of
 * gil->lock, as a sleep does.
 */
static void gil_watch_holder(struct gil *gil, struct gil_op *q)
	__releases(&gil->lock)
{
	struct gil_thread *holder = gil->holder;
	struct task_struct *task;
	u64 end;

	kref_get(&holder->kref);
	gil_unlock(gil);
	gil_wake_up(q);
	end = local_clock() + GIL_SPIN_NS;
	rcu_read_lock();
	task = pid_task(holder->pid, PIDTYPE_PID);
	while (task && owner_on_cpu(task) && READ_ONCE(gil->locked) &&
	       READ_ONCE(gil->holder) == holder && !need_resched() &&
	       !signal_pending(current) && local_clock() < end)
		cpu_relax();
	rcu_read_unlock();
	gil_thread_put(holder);
}

/*
 * Sleep until woken, the interval runs out (true), or, for the first
 * waiter in line, the time to look at the holder comes.  Lets go of
 * gil->lock.
 */
static bool gil_sleep(struct gil *gil, struct gil_thread *t, struct gil_op *q)
	__releases(&gil->lock)
{
	ktime_t until = t->deadline, check;
	u64 slack = current->timer_slack_ns;
	bool expired;

	/* Also looks at its own priority, which the holder borrows. */
	if (gil_head(gil) == t || (t->lent && gil->pi_lenders &&
				   (gil->options & GIL_OPT_PRIO_INHERIT))) {
		check = ktime_add_ms(q->now, GIL_OWNER_CHECK_MS);
		if (ktime_before(check, until)) {
			until = check;
			/* The watch is for everyone: no user's slack. */
			slack = min_t(u64, slack, GIL_WATCH_SLACK_NS);
		}
	}
	set_current_state(GIL_SLEEP);
	gil_unlock(gil);
	gil_wake_up(q);
	expired = !schedule_hrtimeout_range(&until, slack, HRTIMER_MODE_ABS);
	/* Only this thread sets its deadline: no need of gil->lock here. */
	return expired && !ktime_before(until, t->deadline);
}

/*
 * The wait of take_gil(), until the GIL is taken (0) or the wait ends
 * otherwise (a fatal signal, a shutdown, or -ERESTARTNOINTR for a signal to
 * handle, with the wait kept).
 */
static int gil_wait(struct gil *gil, struct gil_thread *t,
		    struct gil_op *q)
	__must_hold(&gil->lock)
{
	bool timed_out, asked = false;

	for (;;) {
		/*
		 * The call has no time yet if the GIL looked free when it
		 * began; a wait (a restarted one too) measures from it.
		 */
		if (!q->now && (gil->locked || gil_queued(t))) {
			gil_op_clock(gil, q);
			/* Meanwhile SHUTDOWN may have ended the record. */
			if (t->gone)
				return -ESHUTDOWN;
			continue;
		}
		if (gil_holds(gil, t))		/* handed over as it slept */
			return 0;
		if (!gil->locked)
			return 0;
		if (gil_thread_dead(gil->holder)) {
			gil_recover(gil, q);
			continue;
		}
		if (!gil_queued(t)) {
			gil_enqueue(gil, t, q);
			asked = gil->drop_request;
		}
		t->woken = false;
		gil_pi_waiter_lends(gil, t);
		if (gil_pi_stale(gil)) {
			/* The holder is boosted before this waiter sleeps. */
			gil_unlock_boost(gil, q);
			timed_out = false;
		} else if (asked && gil->drop_request && gil_is_next(gil, t)) {
			gil_watch_holder(gil, q);
			timed_out = false;
		} else {
			timed_out = gil_sleep(gil, t, q);
		}
		asked = false;
		gil_op_read_clock(gil, q);
		gil_lock(gil);

		if (t->gone)
			return -ESHUTDOWN;
		if (fatal_signal_pending(current))
			return -EINTR;
		if (gil_holds(gil, t))
			return 0;
		if (signal_pending(current))
			return -ERESTARTNOINTR;
		if (timed_out) {
			/* Ask only if no one else got the GIL meanwhile. */
			if (gil->locked &&
			    gil->switch_number == t->wait_switch_number) {
				if (gil_extend_wait(gil, t, q))
					continue;
				gil_post_drop_request(gil, t, q->now);
				asked = true;
			}
		} else if (!t->woken) {
			continue;
		}
		gil_arm(gil, t, q);
		if (gil->locked)
			gil_requeue(gil, t, q);
	}
}

/*
 * take_gil().  A thread the GIL is handed to while it waits (GIL_POLICY_FIFO,
 * GIL_POLICY_IO) finds itself the holder when it wakes.  A call restarted
 * after a signal finds its wait queued and goes on with it.
 */
int gil_take(struct gil *gil, struct gil_thread *t)
{
	struct gil_op q = { };
	bool waited;
	int ret;

	/*
	 * A free GIL is taken without the time; a wait needs it.  The word
	 * says whether the GIL is held (or the module keeps it), whether the
	 * caller went through it or not.
	 */
	if (READ_ONCE(gil->word->word))
		gil_op_read_clock(gil, &q);
	gil_lock(gil);
	if (t->gone) {
		ret = -ESHUTDOWN;
		goto out;
	}
	if (gil_holds(gil, t)) {
		ret = -EDEADLK;
		goto out;
	}
	/* Back from a signal; or a forced release interrupted for good. */
	if (t->away && gil_queued(t))
		gil->nr_away--;
	t->away = false;
	t->switching = false;
	ret = gil_wait(gil, t, &q);
	waited = gil_queued(t);
	if (ret == -ERESTARTNOINTR) {
		gil_wait_end(gil, t, true, &q);
	} else if (ret) {
		gil_wait_end(gil, t, false, &q);
		/* Leaving without the GIL: hand it on if it was handed over. */
		if (gil_holds(gil, t))
			gil_release_locked(gil, &q);
	} else {
		bool was_head = waited && gil_head(gil) == t;

		if (waited) {
			gil_dequeue(gil, t);
			t->woken = false;
		}
		ret = gil_acquire_locked(gil, t, waited, &q);
		if (was_head)
			gil_wake_new_head(gil, t, &q);
	}
	if (gil_pi_stale(gil)) {
		gil_unlock_boost(gil, &q);
		return ret;
	}
out:
	gil_unlock(gil);
	gil_wake_up(&q);
	return ret;
}

/*
 * The handshake of a forced release: wait until another thread has taken
 * the GIL, or none waits any more (one away may have exited: look every
 * GIL_OWNER_CHECK_MS).  Resumable after a signal, as the wait of take is.
 */
static int gil_switch_wait(struct gil *gil, struct gil_thread *t,
			   struct gil_op *q)
	__must_hold(&gil->lock)
{
	ktime_t until = 0;
	bool away;

	/* Locked by t again: only an outside write to the word does that. */
	while (gil->holder == t && !gil->locked && gil->nr_waiters) {
		away = gil->nr_away;
		if (away && !q->now) {
			gil_op_clock(gil, q);
			continue;
		}
		if (away)
			until = ktime_add_ms(q->now, GIL_OWNER_CHECK_MS);
		set_current_state(GIL_SLEEP);
		gil_unlock(gil);
		gil_wake_up(q);
		if (away)
			schedule_hrtimeout_range(&until, GIL_WATCH_SLACK_NS,
						 HRTIMER_MODE_ABS);
		else
			schedule();
		q->now = 0;
		gil_lock(gil);
		if (t->gone || fatal_signal_pending(current))
			break;
		if (signal_pending(current)) {
			t->away = true;
			return -ERESTARTNOINTR;
		}
		if (gil->nr_away)
			gil_prune_away(gil);
	}
	t->switching = false;
	return 0;
}

/*
 * drop_gil().  With a drop request pending this is a forced switch: the
 * releaser waits until another thread has taken the GIL, so that it cannot
 * win the GIL straight back (FORCE_SWITCHING).  A handoff makes that wait
 * empty: the new owner owns before the releaser returns.  A call restarted
 * after a signal goes on with its handshake.
 */
int gil_drop(struct gil *gil, struct gil_thread *t)
{
	struct gil_op q = { };
	bool forced;
	int ret = 0;

	/*
	 * The time of the release, which a waiter measures its handoff from.
	 * A release nobody waits for goes through the word page, not here.
	 */
	q.now = ktime_get();
	gil_lock(gil);
	if (t->switching) {
		t->away = false;
	} else if (!gil_holds(gil, t)) {
		ret = -EPERM;
		goto out;
	} else {
		forced = gil->drop_request;
		gil_classify(gil, t, forced);
		gil_blocked_end(gil, q.now);
		if (forced)
			gil_clear_drop_request(gil);
		gil_stats_released(gil, forced);
		gil_release_locked(gil, &q);
		trace_gil_release(gil, t->tid, forced);
		t->switching = forced;
		if (gil_pi_stale(gil)) {
			/* The boost ends with the hold, not the handshake. */
			gil_unlock_boost(gil, &q);
			if (!forced)
				return 0;
			gil_lock(gil);
		} else if (!forced) {
			goto out;
		}
	}
	ret = gil_switch_wait(gil, t, &q);
out:
	gil_unlock(gil);
	gil_wake_up(&q);
	return ret;
}

/*
 * Answer a drop request: release (with the handshake), take again.  A call
 * restarted after a signal in the take goes on with the take.
 */
int gil_yield(struct gil *gil, struct gil_thread *t)
{
	bool taking;
	int ret;

	spin_lock(&gil->lock);
	taking = gil_queued(t);
	spin_unlock(&gil->lock);
	if (!taking) {
		ret = gil_drop(gil, t);
		if (ret)
			return ret;
	}
	return gil_take(gil, t);
}
