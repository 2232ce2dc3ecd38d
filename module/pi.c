// SPDX-License-Identifier: GPL-2.0
/*
 * Priority inheritance (GIL_OPT_PRIO_INHERIT): while a real-time thread
 * waits for the GIL, the holder runs at the waiter's priority, so that a
 * thread of middle priority on the holder's CPU cannot keep the waiter
 * waiting (the classic inversion).
 *
 * The kernel's machinery for this, rt_mutex, does not fit a GIL as far as
 * a module can reach it: an rt_mutex is locked and unlocked by its owner,
 * where a GIL is taken without a system call (the word page), handed from
 * thread to thread by releases, and recovered by a waiter from a holder
 * that exited; an rt_mutex's waiters sleep without the GIL's timeout; and
 * the calls PI futexes use to lock and unlock for another task
 * (rt_mutex_init_proxy_locked(), rt_mutex_start_proxy_lock()) are not
 * exported.  So the holder is boosted as the Android Common Kernel's binder
 * boosts the thread serving a transaction: sched_setattr_nocheck() to
 * SCHED_FIFO at the waiters' highest priority, and its own parameters set
 * back when the boost ends.  What differs from an rt_mutex, and why:
 *  - The boost is the holder's policy, which sched_getscheduler() shows,
 *    not only its effective priority, which nothing outside the scheduler
 *    can set.  So it must not outlive the hold, and the holder must not
 *    keep what it could not have set itself: when the boost ends, changes
 *    made meanwhile stay only if they left the real-time classes (which
 *    anyone may do, but SCHED_IDLE's way out) or went above the boost
 *    (which needs the privilege); any other real-time setting, even one
 *    the thread was entitled to, goes back to the holder's own (telling
 *    them apart would take the scheduler's permission checks, which are
 *    not the module's).  A failed restore leaves it at SCHED_NORMAL.
 *  - A thread holding several GILs is boosted once, to the highest of
 *    their priorities, and its own parameters are kept once: struct
 *    gil_boosted, shared by the GILs' struct gil_boost.
 *  - The boost is set by whichever thread changed what it should be, once
 *    that thread has let go of gil->lock (setting a task's parameters may
 *    sleep), under gil_pi_lock: gil_pi_sync() works it out afresh from the
 *    GIL's state, so the last sync after a change is right whatever order
 *    the threads ran in.  That lock is an rt_mutex: a holder that has just
 *    ended its own boost, preempted by the middle thread before it lets go
 *    of the lock, would otherwise keep the real-time waiter, now the new
 *    holder, out of its own sync for as long as the middle thread runs (a
 *    plain mutex did, under CONFIG_PREEMPT: the waiter waited the middle
 *    thread's 300 ms, in test-pi).
 *  - A waiter's priority is read at its own wake-ups, where an rt_mutex's
 *    chain is walked at once by sched_setscheduler(): a waiter that lends
 *    wakes every GIL_OWNER_CHECK_MS to look (lock.c), so a change of its
 *    priority reaches the holder within that; one that becomes real-time
 *    while it sleeps lends from its next wake-up (its interval's end at
 *    the latest).  Chains of GILs are not followed: a waiter that is
 *    itself a boosted holder lends its own priority, not the boost, or a
 *    cycle of GILs waiting on one another would keep a boost alive after
 *    the waiter that began it has gone.  Priority inherited from rt_mutexes
 *    and PI futexes is lent.
 *  - While a real-time thread waits, each wait's pass and each take and
 *    drop walk the waiters under gil->lock for the highest priority lent:
 *    linear in the waiters, as the handoff policies' walks are.
 *  - Only real-time waiters lend, as rt_mutex's __waiter_prio() has it; a
 *    SCHED_DEADLINE one lends the highest SCHED_FIFO priority, where an
 *    rt_mutex would lend its deadline.  A holder already at the priority
 *    lent or above, or SCHED_DEADLINE, keeps its own.
 *  - Under CONFIG_RT_GROUP_SCHED the option is refused: a policy set with
 *    sched_setattr_nocheck() is not exempt from a group's real-time
 *    runtime, which may be none, as an rt_mutex boost is.
 *  - Leaving SCHED_FIFO resets a timer slack set with PR_SET_TIMERSLACK to
 *    the default, as any such change does.
 */
#include <linux/list.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/rtmutex.h>
#include <linux/sched.h>
#include <linux/sched/deadline.h>
#include <linux/sched/rt.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <uapi/linux/sched/types.h>

#include "compat.h"
#include "gil.h"
#include "trace.h"

/**
 * struct gil_boosted - a thread some GILs boost
 * @node: on gil_boosted_tasks
 * @task: the thread, with a reference
 * @own: its own parameters, set back when no GIL lends any more
 * @prio: the SCHED_FIFO priority it was set to, or the real-time setting
 *	only the boost let it make; 0: it runs at its own
 * @lenders: struct gil_boost.node of each GIL that lends it a priority
 * @boost: the boost it runs at, or is about to, for waiters to tell it
 *	from its own (gil_boosted_lock; 0: none)
 * @own_lent: what its own parameters lend as a waiter's, at @boost
 *	(gil_boosted_lock)
 */
struct gil_boosted {
	struct list_head node;
	struct task_struct *task;
	struct sched_attr own;
	unsigned int prio;
	struct list_head lenders;
	unsigned int boost;
	unsigned int own_lent;
};

/*
 * Every boost's changes, and gil_boosted_tasks.  One lock for all GILs: a
 * thread may hold several; its holds are short (a sched_setattr_nocheck()
 * each), and only GILs with the option on take it.
 */
static DEFINE_RT_MUTEX(gil_pi_lock);
static LIST_HEAD(gil_boosted_tasks);
/* gil_boosted_tasks and own_lent, for waiters under gil->lock too. */
static DEFINE_SPINLOCK(gil_boosted_lock);

void gil_pi_init(struct gil *gil)
{
	INIT_LIST_HEAD(&gil->boost.node);
}

/*
 * The SCHED_FIFO priority a thread of effective priority @prio (struct
 * task_struct's prio, which counts its own boosts) lends the holder; 0:
 * none.
 */
unsigned int gil_pi_lent(int prio)
{
	if (dl_prio(prio))
		return MAX_RT_PRIO - 1;
	if (rt_prio(prio))
		return MAX_RT_PRIO - 1 - prio;
	return 0;
}

/* What parameters @own lend as a waiter's; 0: nothing. */
static unsigned int gil_pi_own_lent(const struct sched_attr *own)
{
	switch (own->sched_policy) {
	case SCHED_DEADLINE:
		return MAX_RT_PRIO - 1;
	case SCHED_FIFO:
	case SCHED_RR:
		return own->sched_priority;
	default:
		return 0;
	}
}

/* A thread with parameters @own needs no boost to @prio. */
bool gil_pi_outranks(const struct sched_attr *own, unsigned int prio)
{
	switch (own->sched_policy) {
	case SCHED_DEADLINE:
		return true;
	case SCHED_FIFO:
	case SCHED_RR:
		return own->sched_priority >= prio;
	default:
		return false;
	}
}

/*
 * The waiter @t, the calling thread, would lend what its priority says
 * from now on, should the option be on; gil->pi_lenders counts the queued
 * waiters that would lend anything.
 */
void gil_pi_waiter_lends(struct gil *gil, struct gil_thread *t)
	__must_hold(&gil->lock)
{
	unsigned int lent = gil_pi_lent(current->prio);
	struct gil_boosted *rec;

	/*
	 * Running at a boost of a GIL it holds, it lends its own priority,
	 * and what an rt_mutex lends it on top, not the boost: a cycle of GILs
	 * waiting on one another (a deadlock a user can build) would otherwise
	 * keep a boost alive after the real-time waiter that began it has
	 * gone.  Chains of GILs are not followed.  Only a real-time thread can
	 * be at a boost; none is with the option off.
	 */
	if (!lent || !(READ_ONCE(gil->options) & GIL_OPT_PRIO_INHERIT))
		goto out;
	spin_lock(&gil_boosted_lock);
	list_for_each_entry(rec, &gil_boosted_tasks, node) {
		if (rec->task != current)
			continue;
		if (rec->boost && current->policy == SCHED_FIFO &&
		    current->rt_priority == rec->boost)
			lent = max(rec->own_lent,
				   current->prio < current->normal_prio ?
				   gil_pi_lent(current->prio) : 0);
		break;
	}
	spin_unlock(&gil_boosted_lock);
out:
	gil->pi_lenders += !!lent - !!t->lent;
	t->lent = lent;
}

/* @t leaves the queue: it lends nothing. */
void gil_pi_waiter_leaves(struct gil *gil, struct gil_thread *t)
	__must_hold(&gil->lock)
{
	gil->pi_lenders -= !!t->lent;
	t->lent = 0;
}

/*
 * The priority the holder should run at: the highest lent by a waiter in
 * the wait loop (not one away handling a signal); 0 with the option off,
 * the GIL free, or no waiter lending.
 */
static unsigned int gil_pi_wanted(struct gil *gil)
	__must_hold(&gil->lock)
{
	unsigned int prio = 0;
	struct gil_thread *w;

	if (!(READ_ONCE(gil->options) & GIL_OPT_PRIO_INHERIT) ||
	    !gil->locked || !gil->pi_lenders)
		return 0;
	/* A new owner handed the GIL is still queued: it lends to no one. */
	list_for_each_entry(w, &gil->waiters, wait_node)
		if (!w->away && !w->gone && w != gil->holder)
			prio = max(prio, w->lent);
	return prio;
}

/*
 * The boost is not what the GIL's state says it should be: the waiters'
 * priority or the holder changed since the last gil_pi_sync().
 */
bool gil_pi_stale(struct gil *gil)
	__must_hold(&gil->lock)
{
	unsigned int prio = gil_pi_wanted(gil);

	return prio != gil->pi_prio || (prio && gil->pi_holder != gil->holder);
}

/*
 * @task's parameters, under its pi_lock, which __sched_setscheduler() and
 * set_user_nice() hold as they write them: one setting, not half of two.
 */
static void gil_pi_capture(struct task_struct *task, struct sched_attr *own)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&task->pi_lock, flags);
	*own = (struct sched_attr){
		.size = sizeof(*own),
		.sched_policy = task->policy,
		.sched_priority = task->rt_priority,
		.sched_nice = task_nice(task),
		.sched_flags = task->sched_reset_on_fork ?
			       SCHED_FLAG_RESET_ON_FORK : 0,
		.sched_runtime = gil_task_fair_slice(task),
	};
	raw_spin_unlock_irqrestore(&task->pi_lock, flags);
}

/* Under gil_pi_lock: @rec's thread runs at the boost it was given. */
static bool gil_pi_ours(const struct gil_boosted *rec)
{
	return READ_ONCE(rec->task->policy) == SCHED_FIFO &&
	       READ_ONCE(rec->task->rt_priority) == rec->prio;
}

/*
 * Someone changed @rec's thread's parameters while it was boosted.  What
 * it could have set from its own is theirs to keep, their own from now on
 * (true): a policy out of the real-time classes, or above the boost, which
 * needs the privilege; from SCHED_IDLE, only SCHED_IDLE (its way out needs
 * a privilege the checks skip for a thread at the boost).  Any other
 * setting is not, as the boost made it possible: the thread's own stay
 * what they were, to be set back (false).
 */
static bool gil_pi_keeps_change(struct gil_boosted *rec)
{
	struct sched_attr now;
	bool keep;

	gil_pi_capture(rec->task, &now);
	if (rec->own.sched_policy == SCHED_IDLE)
		keep = now.sched_policy == SCHED_IDLE;
	else if (now.sched_policy == SCHED_FIFO ||
		 now.sched_policy == SCHED_RR ||
		 now.sched_policy == SCHED_DEADLINE)
		keep = gil_pi_outranks(&now, rec->prio + 1);
	else
		keep = true;
	if (!keep)
		return false;
	/* Forced on by the boost: not the change's, unless its own had it. */
	now.sched_flags = (now.sched_flags & ~SCHED_FLAG_RESET_ON_FORK) |
			  (rec->own.sched_flags & SCHED_FLAG_RESET_ON_FORK);
	rec->own = now;
	return true;
}

/*
 * Tell waiters @rec's thread is at boost @boost (0: none), before it is:
 * as a waiter it lends its own, not the boost.
 */
static void gil_pi_publish(struct gil_boosted *rec, unsigned int boost)
{
	spin_lock(&gil_boosted_lock);
	rec->boost = boost;
	rec->own_lent = gil_pi_own_lent(&rec->own);
	spin_unlock(&gil_boosted_lock);
}

static void gil_pi_note(struct gil *gil, struct task_struct *task,
			unsigned int prio, int err)
{
	gil_lock(gil);
	if (prio && !err)
		gil_stats_priority_boost(gil);
	trace_gil_boost(gil, task_pid_nr(task), prio, err);
	gil_unlock(gil);
}

/*
 * The boost ends: @rec's thread's own parameters back, with the nice value
 * it has now (set meanwhile, it is the thread's).  Should that fail (own
 * parameters read torn, a class the thread may no longer enter), it runs
 * at SCHED_NORMAL rather than stay at the boost.
 */
static void gil_pi_restore(struct gil *gil, struct gil_boosted *rec)
	__must_hold(&gil_pi_lock)
{
	struct sched_attr attr = rec->own;
	int err = 0;

	attr.sched_nice = task_nice(rec->task);
	if (!(rec->task->flags & PF_EXITING)) {
		err = sched_setattr_nocheck(rec->task, &attr);
		if (err) {
			attr = (struct sched_attr){
				.size = sizeof(attr),
				.sched_policy = SCHED_NORMAL,
				.sched_nice = task_nice(rec->task),
			};
			err = sched_setattr_nocheck(rec->task, &attr);
		}
	}
	gil_pi_note(gil, rec->task, 0, err);
	rec->prio = 0;
}

/*
 * A change kept while boosted, and no boost after it: only the
 * SCHED_RESET_ON_FORK the boost forced on it is undone.  Not for
 * SCHED_DEADLINE, set only with the privilege, by whoever chose the flag
 * (and whose parameters gil_pi_capture() does not read).
 */
static void gil_pi_unforce_reset_on_fork(struct gil_boosted *rec)
	__must_hold(&gil_pi_lock)
{
	struct sched_attr attr;

	gil_pi_capture(rec->task, &attr);
	if (attr.sched_policy == SCHED_DEADLINE ||
	    attr.sched_flags == rec->own.sched_flags ||
	    (rec->task->flags & PF_EXITING))
		return;
	attr.sched_flags = rec->own.sched_flags;
	sched_setattr_nocheck(rec->task, &attr);
}

/*
 * Set @rec's thread to what its lenders want, for @gil (the GIL whose
 * change this is, for the statistics and the trace), and forget it when
 * none lends any more.
 */
static void gil_pi_apply(struct gil *gil, struct gil_boosted *rec)
	__must_hold(&gil_pi_lock)
{
	struct sched_attr attr;
	struct gil_boost *b;
	unsigned int want = 0;
	int err;
	bool kept = false;

	list_for_each_entry(b, &rec->lenders, node)
		want = max(want, b->prio);
	/*
	 * rec->prio: the thread runs at the boost, or at what only the boost
	 * let it set; else at its own.
	 */
	if (!rec->prio) {
		gil_pi_capture(rec->task, &rec->own);
	} else if (!gil_pi_ours(rec) && gil_pi_keeps_change(rec)) {
		kept = true;
		rec->prio = 0;
	}
	if (!want || gil_pi_outranks(&rec->own, want)) {
		if (rec->prio)
			gil_pi_restore(gil, rec);
		else if (kept)
			gil_pi_unforce_reset_on_fork(rec);
	} else if (want != rec->prio || !gil_pi_ours(rec)) {
		attr = (struct sched_attr){
			.size = sizeof(attr),
			.sched_policy = SCHED_FIFO,
			.sched_priority = want,
			/* The holder's boost, not its children's. */
			.sched_flags = SCHED_FLAG_RESET_ON_FORK,
		};
		gil_pi_publish(rec, want);
		err = sched_setattr_nocheck(rec->task, &attr);
		gil_pi_note(gil, rec->task, want, err);
		if (!err)
			rec->prio = want;
	}
	gil_pi_publish(rec, rec->prio);
	if (list_empty(&rec->lenders)) {
		spin_lock(&gil_boosted_lock);
		list_del(&rec->node);
		spin_unlock(&gil_boosted_lock);
		put_task_struct(rec->task);
		kfree(rec);
	}
}

/* @task's record, or a new one (taking over the caller's reference). */
static struct gil_boosted *gil_pi_record(struct task_struct *task)
	__must_hold(&gil_pi_lock)
{
	struct gil_boosted *rec;

	/* Only gil_pi_lock's holder changes the list: no other lock needed. */
	lockdep_assert_held(&gil_pi_lock);
	list_for_each_entry(rec, &gil_boosted_tasks, node) {
		if (rec->task == task) {
			put_task_struct(task);
			return rec;
		}
	}
	rec = kzalloc(sizeof(*rec), GFP_KERNEL_ACCOUNT);
	if (!rec) {
		put_task_struct(task);
		return NULL;
	}
	rec->task = task;
	INIT_LIST_HEAD(&rec->lenders);
	spin_lock(&gil_boosted_lock);
	list_add(&rec->node, &gil_boosted_tasks);
	spin_unlock(&gil_boosted_lock);
	return rec;
}

/* @gil lends nothing any more. */
static void gil_pi_withdraw(struct gil *gil)
	__must_hold(&gil_pi_lock)
{
	struct gil_boost *b = &gil->boost;
	struct gil_boosted *rec = b->boosted;

	list_del_init(&b->node);
	b->boosted = NULL;
	b->prio = 0;
	gil_pi_apply(gil, rec);
}

/*
 * Make the boost what the GIL's state says: called with no lock held by
 * every call that may have changed the holder, the waiters or the option.
 */
void gil_pi_sync(struct gil *gil)
{
	struct gil_boost *b = &gil->boost;
	struct task_struct *task = NULL;
	struct gil_thread *old;
	unsigned int prio;

	/* Option off and no boost: pi_prio is 0 only once a sync ended it. */
	if (!(READ_ONCE(gil->options) & GIL_OPT_PRIO_INHERIT) &&
	    !READ_ONCE(gil->pi_prio))
		return;
	rt_mutex_lock(&gil_pi_lock);
	gil_lock(gil);
	prio = gil_pi_wanted(gil);
	WRITE_ONCE(gil->pi_prio, prio);
	old = gil->pi_holder;
	gil->pi_holder = prio ? gil->holder : NULL;
	if (gil->pi_holder)
		kref_get(&gil->pi_holder->kref);
	if (old)
		gil_thread_put(old);
	/* An exec'd holder's new program is nobody's to boost. */
	if (prio && !gil_thread_dead(gil->holder))
		task = get_pid_task(gil->holder->pid, PIDTYPE_PID);
	gil_unlock(gil);

	if (b->boosted && b->boosted->task != task)
		gil_pi_withdraw(gil);
	if (task) {
		if (!b->boosted) {
			b->boosted = gil_pi_record(task);
			if (b->boosted)
				list_add(&b->node, &b->boosted->lenders);
		} else {
			put_task_struct(task);
		}
		if (b->boosted) {
			b->prio = prio;
			gil_pi_apply(gil, b->boosted);
		}
	}
	rt_mutex_unlock(&gil_pi_lock);
}

/* The GIL goes: it lends nothing. */
void gil_pi_destroy(struct gil *gil)
{
	rt_mutex_lock(&gil_pi_lock);
	if (gil->boost.boosted)
		gil_pi_withdraw(gil);
	rt_mutex_unlock(&gil_pi_lock);
	if (gil->pi_holder)
		gil_thread_put(gil->pi_holder);
}
