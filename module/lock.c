// SPDX-License-Identifier: GPL-2.0
/*
 * The GIL algorithm: CPython's take_gil() and drop_gil()
 * (Python/ceval_gil.c) on one spinlock, two wait queues and an
 * hrtimer-bounded sleep.
 *
 * CPython's gil->mutex and switch_mutex become gil->lock; its condition
 * variables become the wait queues gil->waiters (cond) and
 * gil->switch_wait (switch_cond); its timed wait becomes an exclusive,
 * hrtimer-bounded sleep.  What differs, and why:
 *  - A waiter sleeps in an exclusive wait queue, queued once in arrival
 *    order, so a release wakes the longest waiter asleep where
 *    pthread_cond_signal wakes an unspecified one.
 *  - The waiter is woken after the releaser drops gil->lock.
 *  - Under GIL_POLICY_FIFO and GIL_POLICY_IO (policy.c) a release may hand
 *    the GIL to a chosen waiter instead of unlocking it.
 *  - The forced releaser also stops waiting when no thread waits any more
 *    (a waiter was killed, or its process closed the GIL): CPython's
 *    untimed wait would hang there (gh-96387).
 *  - A holder that exits, or whose process closes the GIL, while holding
 *    it does not wedge the GIL: waiters recover it, as robust mutexes do.
 *
 * The tracepoints of trace.h mark acquisitions, releases, drop requests
 * and handoffs, under gil->lock; when disabled each is a patched-out
 * branch.
 */
#include <linux/errno.h>
#include <linux/freezer.h>
#include <linux/hrtimer.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>

#include "gil.h"
#include "trace.h"

bool gil_holds(struct gil *gil, struct gil_thread *t)
{
	lockdep_assert_held(&gil->lock);
	return gil->locked && gil->holder == t;
}

/*
 * SET_GIL_DROP_REQUEST, by waiter @t: the holder sees it in the page, with
 * no syscall.
 */
static void gil_post_drop_request(struct gil *gil, struct gil_thread *t)
{
	gil->drop_request = true;
	gil->stats.drop_requests++;
	WRITE_ONCE(gil->shared->eval_breaker, GIL_EVAL_BREAKER_DROP_REQUEST);
	trace_gil_drop_request(gil, t->tid, gil->holder->tid);
}

static void gil_clear_drop_request(struct gil *gil)
{
	if (!gil->drop_request)
		return;
	gil->drop_request = false;
	WRITE_ONCE(gil->shared->eval_breaker, 0);
}

/*
 * Make @t the owner: CPython's "locked = 1; last_holder = tstate", a change
 * of owner counted once.  A drop request pending is for the old owner.
 */
static void gil_set_owner(struct gil *gil, struct gil_thread *t)
{
	gil->locked = true;
	if (gil->holder != t) {
		if (gil->holder)
			gil_thread_put(gil->holder);
		kref_get(&t->kref);
		gil->holder = t;
		gil->switch_number++;
		/* A forced releaser waits for exactly this change. */
		wake_up_all(&gil->switch_wait);
	}
	gil_clear_drop_request(gil);
}

/*
 * The part of drop_gil() under the mutex: unlock, or, as the policy says,
 * hand the GIL straight to a waiter (gil_next_owner()).  The caller wakes
 * the waiter with gil_wake() once it has dropped gil->lock: woken under
 * it, the waiter would spin on the lock until the releaser lets go, the
 * longer if the releaser is preempted.
 */
struct gil_wake gil_release_locked(struct gil *gil)
{
	struct gil_wake wake = { };

	lockdep_assert_held(&gil->lock);
	if (gil->nr_waiters) {
		/* Only a waiter's handoff latency is measured from here. */
		gil->released_at = ktime_get();
		gil->released_by = gil->holder->tid;
		wake.waiter = true;
		wake.owner = gil_next_owner(gil);
	}
	if (wake.owner) {
		gil_set_owner(gil, wake.owner);
		gil->stats.direct_handoffs++;
	} else {
		gil->locked = false;
	}
	gil_page_sync(gil);
	return wake;
}

/*
 * A waiter's wake function.  A handoff wakes its new owner (the key), and
 * only it; any other wake-up wakes the first waiter still asleep, or all.
 */
static int gil_waiter_wake(struct wait_queue_entry *wq, unsigned int mode,
			   int flags, void *key)
{
	struct gil_waiter *w = container_of(wq, struct gil_waiter, wq);

	if (!key)
		return default_wake_function(wq, mode, flags, key);
	if (key != w->t)
		return 0;
	default_wake_function(wq, mode, flags, key);
	return 1;
}

/*
 * Do the wake-up a release asked for, without gil->lock.  No wake-up is
 * lost: a waiter sets its task state under gil->lock before it tests for
 * the GIL.  The owner is only compared, never dereferenced: it may have
 * run and gone by now.
 *
 * @sync: the caller is about to sleep until the waiter runs (a forced
 * switch).  WF_SYNC then lets the scheduler run the waiter on this CPU, as
 * a direct handoff would; WF_CURRENT_CPU, which forces that, is not
 * exported to modules.
 */
void gil_wake(struct gil *gil, struct gil_wake wake, bool sync)
{
	if (!wake.waiter)
		return;
	if (sync)
		__wake_up_sync_key(&gil->waiters, TASK_NORMAL, wake.owner);
	else
		__wake_up(&gil->waiters, TASK_NORMAL, 1, wake.owner);
}

/*
 * A waiter stays queued, in arrival order, from its first sleep to the end
 * of its wait, so that gil_next_owner() finds the longest waiter first.
 */
static void gil_enqueue(struct gil *gil, struct gil_waiter *w)
{
	init_waitqueue_func_entry(&w->wq, gil_waiter_wake);
	w->wq.private = current;
	add_wait_queue_exclusive(&gil->waiters, &w->wq);
	gil->nr_waiters++;
}

static void gil_dequeue(struct gil *gil, struct gil_waiter *w)
{
	remove_wait_queue(&gil->waiters, &w->wq);
	gil->nr_waiters--;
}

/* The holder is exiting: it will never release the GIL. */
static bool gil_holder_gone(struct gil *gil)
{
	return READ_ONCE(gil->holder->task->flags) & PF_EXITING;
}

/*
 * Take the GIL away from a holder that exited holding it.  Its record is
 * unlinked too: nothing can use it any more.
 */
static void gil_recover(struct gil *gil)
{
	struct gil_thread *dead = gil->holder;

	gil->locked = false;
	gil->owner_died = true;
	gil_thread_unlink(gil, dead);
}

/*
 * The end of take_gil(): the caller owns the GIL from here on.  A thread
 * the GIL was handed to owns it already.
 */
static int gil_acquire_locked(struct gil *gil, struct gil_thread *t,
			      bool waited, ktime_t wait_start)
{
	struct gil_acquire_times times;
	int ret = 0;

	if (!gil_holds(gil, t))
		gil_set_owner(gil, t);
	if (gil->owner_died) {
		gil->owner_died = false;
		gil->stats.owner_deaths++;
		ret = -EOWNERDEAD;
	}
	gil_stats_acquired(gil, waited, wait_start, &times);
	gil_page_sync(gil);
	trace_gil_acquire(gil, t->tid, waited, times.wait_ns,
			  ret == -EOWNERDEAD);
	if (times.handoff_ns >= 0)
		trace_gil_handoff(gil, gil->released_by, t->tid,
				  times.handoff_ns);
	return ret;
}

/*
 * Where acquirers and forced releasers sleep.  Ordinary signals do not end
 * the sleep: their handlers run once the call returns, and no signal makes
 * a waiter start its interval again (CPython's timed condition wait also
 * resumes with its deadline after a handler).  Fatal signals end it.
 */
#define GIL_SLEEP	TASK_KILLABLE

/*
 * take_gil().  A thread the GIL is handed to while it waits (GIL_POLICY_FIFO,
 * GIL_POLICY_IO) finds itself the holder when it wakes.
 */
int gil_take(struct gil *gil, struct gil_thread *t)
{
	struct gil_waiter w = { .t = t };
	struct gil_wake wake = { };
	ktime_t wait_start = 0;
	bool waited = false, requested = false;
	int ret = 0;

	spin_lock(&gil->lock);
	if (t->closed) {
		ret = -EBADF;
		goto out;
	}
	if (gil_holds(gil, t)) {
		ret = -EDEADLK;
		goto out;
	}
	while (gil->locked && !gil_holds(gil, t)) {
		u64 switch_number = gil->switch_number;
		ktime_t now, expires;
		bool timed_out;

		if (gil_holder_gone(gil)) {
			gil_recover(gil);
			break;
		}
		now = ktime_get();
		if (!waited) {
			waited = true;
			wait_start = now;
			gil_enqueue(gil, &w);
			if (gil_io_preempts(gil, t)) {
				gil_post_drop_request(gil, t);
				gil->stats.io_preemptions++;
				requested = true;
			}
		}
		set_current_state(GIL_SLEEP);
		expires = ktime_add_us(now, gil->interval_us);
		spin_unlock(&gil->lock);

		timed_out = !schedule_hrtimeout_range(&expires,
						      current->timer_slack_ns,
						      HRTIMER_MODE_ABS);
		/*
		 * A killable sleeper is not frozen for suspend on its own; a
		 * waiter whose holder is frozen must freeze too.  Not when a
		 * release woke it: a forced releaser waits for it.
		 */
		if (timed_out)
			try_to_freeze();

		spin_lock(&gil->lock);
		if (t->closed) {
			ret = -EBADF;
			break;
		}
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
		/* Ask only if no one else got the GIL during this wait. */
		if (timed_out && gil->locked && !gil_holds(gil, t) &&
		    gil->switch_number == switch_number) {
			gil_post_drop_request(gil, t);
			requested = true;
		}
	}
	if (waited)
		gil_dequeue(gil, &w);
	if (!ret) {
		ret = gil_acquire_locked(gil, t, waited, wait_start);
		goto out;
	}

	/* Leaving without the GIL: hand it on if it was just handed over. */
	if (gil_holds(gil, t))
		wake = gil_release_locked(gil);
	else if (!gil->locked)	/* pass on a wake-up it may have consumed */
		wake.waiter = gil->nr_waiters > 0;
	if (!gil->nr_waiters) {
		/* No one is left to take over (gh-96387). */
		if (requested)
			gil_clear_drop_request(gil);
		wake_up_all(&gil->switch_wait);
	}
out:
	spin_unlock(&gil->lock);
	gil_wake(gil, wake, false);
	return ret;
}

/*
 * drop_gil().  With a drop request pending this is a forced switch: the
 * releaser waits until another thread has taken the GIL, so that it cannot
 * win the GIL straight back (FORCE_SWITCHING).  A handoff makes that wait
 * empty: the new owner owns before the releaser returns.
 */
int gil_drop(struct gil *gil, struct gil_thread *t)
{
	DEFINE_WAIT(wait);
	struct gil_wake wake;
	bool forced;

	spin_lock(&gil->lock);
	if (!gil_holds(gil, t)) {
		spin_unlock(&gil->lock);
		return -EPERM;
	}
	forced = gil->drop_request;
	/* Beazley's classification, for GIL_POLICY_IO. */
	t->cpu_bound = forced;
	if (forced) {
		gil_clear_drop_request(gil);
		gil->stats.forced_switches++;
	} else {
		gil->stats.voluntary_releases++;
	}
	wake = gil_release_locked(gil);
	trace_gil_release(gil, t->tid, forced);
	spin_unlock(&gil->lock);
	gil_wake(gil, wake, forced);
	if (!forced)
		return 0;

	spin_lock(&gil->lock);
	while (gil->holder == t && gil->nr_waiters && !t->closed &&
	       !fatal_signal_pending(current)) {
		prepare_to_wait(&gil->switch_wait, &wait, GIL_SLEEP);
		spin_unlock(&gil->lock);
		schedule();
		spin_lock(&gil->lock);
	}
	finish_wait(&gil->switch_wait, &wait);
	spin_unlock(&gil->lock);
	return 0;
}

/* Answer a drop request: release (with the handshake), take again. */
int gil_yield(struct gil *gil, struct gil_thread *t)
{
	int ret = gil_drop(gil, t);

	if (ret)
		return ret;
	return gil_take(gil, t);
}
