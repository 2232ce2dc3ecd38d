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
 * exported.  So the holder is boosted as Android's binder boosts the thread
 * that serves a transaction: sched_setattr_nocheck() to SCHED_FIFO at the
 * waiters' highest priority, and its own parameters set back when the boost
 * ends.  What differs from an rt_mutex, and why:
 *  - The boost shows: sched_getscheduler() of the holder says SCHED_FIFO
 *    while it lasts.  An rt_mutex changes only the effective priority,
 *    which nothing outside the scheduler can set.
 *  - It is applied by whichever thread changed what it should be, once
 *    that thread has let go of gil->lock (setting a task's parameters may
 *    sleep), under the boost's lock: gil_pi_sync() works it out afresh
 *    from the GIL's state, so the last sync after a change is right
 *    whatever order the threads ran in.  That lock is an rt_mutex: a
 *    holder that has just ended its own boost, preempted by the middle
 *    thread before it lets go of the lock, would otherwise keep the
 *    real-time waiter, now the new holder, out of its own sync for as long
 *    as the middle thread runs (a plain mutex did, under CONFIG_PREEMPT:
 *    the waiter waited the middle thread's 300 ms, in test-pi).
 *  - A waiter's priority is read when the boost is worked out: one changed
 *    while its thread sleeps counts at its next wake-up (the end of its
 *    interval at the latest), where sched_setscheduler() walks an
 *    rt_mutex's chain at once.
 *  - Parameters set on the holder while it is boosted win: the boost ends
 *    without setting anything back if the holder's policy or priority is
 *    no longer the boost's.  On 6.12 a timer slack set with
 *    PR_SET_TIMERSLACK goes back to the default, as after any change from
 *    SCHED_FIFO.
 *  - Only real-time waiters lend their priority (a SCHED_DEADLINE one lends
 *    the highest SCHED_FIFO priority), as rt_mutex's __waiter_prio() has
 *    it; a holder already at that priority or above, or SCHED_DEADLINE,
 *    keeps its own.
 */
#include <linux/rtmutex.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/deadline.h>
#include <linux/sched/rt.h>
#include <linux/sched/task.h>
#include <uapi/linux/sched/types.h>

#include "gil.h"
#include "trace.h"

void gil_pi_init(struct gil *gil)
{
	rt_mutex_init(&gil->boost.lock);
}

/*
 * The SCHED_FIFO priority a waiter of effective priority @prio (struct
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
 * The priority the holder should run at: the highest lent by a waiter in
 * the wait loop (not one away handling a signal); 0 with the option off
 * or the GIL free.
 */
static unsigned int gil_pi_wanted(struct gil *gil)
	__must_hold(&gil->lock)
{
	unsigned int prio = 0;
	struct task_struct *task;
	struct gil_thread *w;

	if (!(READ_ONCE(gil->options) & GIL_OPT_PRIO_INHERIT) ||
	    !gil->locked)
		return 0;
	rcu_read_lock();
	list_for_each_entry(w, &gil->waiters, wait_node) {
		if (w->away || w->gone)
			continue;
		task = pid_task(w->pid, PIDTYPE_PID);
		if (task)
			prio = max(prio, gil_pi_lent(READ_ONCE(task->prio)));
	}
	rcu_read_unlock();
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

	return prio != gil->pi_prio ||
	       (prio && gil->pi_switch_number != gil->switch_number);
}

static void gil_pi_own(struct task_struct *task, struct sched_attr *own)
{
	*own = (struct sched_attr){
		.size = sizeof(*own),
		.sched_policy = READ_ONCE(task->policy),
		.sched_priority = READ_ONCE(task->rt_priority),
		.sched_nice = task_nice(task),
		.sched_flags = task->sched_reset_on_fork ?
			       SCHED_FLAG_RESET_ON_FORK : 0,
	};
}

static void gil_pi_trace(struct gil *gil, struct task_struct *task,
			 unsigned int prio)
{
	gil_lock(gil);
	if (prio)
		gil_stats_priority_boost(gil);
	trace_gil_boost(gil, task_pid_nr(task), prio);
	gil_unlock(gil);
}

/* End the boost: the holder's own parameters back, unless changed since. */
static void gil_unboost(struct gil *gil)
	__must_hold(&gil->boost.lock)
{
	struct gil_boost *b = &gil->boost;
	struct task_struct *task = b->task;

	if (READ_ONCE(task->policy) == SCHED_FIFO &&
	    READ_ONCE(task->rt_priority) == b->prio &&
	    !(READ_ONCE(task->flags) & PF_EXITING))
		sched_setattr_nocheck(task, &b->own);
	gil_pi_trace(gil, task, 0);
	b->task = NULL;
	put_task_struct(task);
}

/*
 * Run @task, which holds the GIL, at SCHED_FIFO @prio; @own: its own
 * parameters.  Takes over the reference to @task if it succeeds.
 */
static bool gil_boost(struct gil *gil, struct task_struct *task,
		      const struct sched_attr *own, unsigned int prio)
	__must_hold(&gil->boost.lock)
{
	struct sched_attr fifo = {
		.size = sizeof(fifo),
		.sched_policy = SCHED_FIFO,
		.sched_priority = prio,
		/* The boost is the holder's, not its children's. */
		.sched_flags = SCHED_FLAG_RESET_ON_FORK,
	};
	struct gil_boost *b = &gil->boost;

	if (sched_setattr_nocheck(task, &fifo))
		return false;
	gil_pi_trace(gil, task, prio);
	if (b->task != task) {
		b->own = *own;
		b->task = task;
	} else {
		put_task_struct(task);
	}
	b->prio = prio;
	return true;
}

/*
 * Make the boost what the GIL's state says: called with no lock held by
 * every call that may have changed the holder, the waiters or the option
 * (a sync with nothing to change costs the lock and a walk of the waiters).
 */
void gil_pi_sync(struct gil *gil)
{
	struct gil_boost *b = &gil->boost;
	struct task_struct *task = NULL;
	struct sched_attr own;
	unsigned int prio;

	/* Option off and no boost: pi_prio is 0 only once a sync ended it. */
	if (!(READ_ONCE(gil->options) & GIL_OPT_PRIO_INHERIT) &&
	    !READ_ONCE(gil->pi_prio))
		return;
	rt_mutex_lock(&b->lock);
	gil_lock(gil);
	prio = gil_pi_wanted(gil);
	WRITE_ONCE(gil->pi_prio, prio);
	gil->pi_switch_number = gil->switch_number;
	if (prio)
		task = get_pid_task(gil->holder->pid, PIDTYPE_PID);
	gil_unlock(gil);

	if (b->task && b->task != task)
		gil_unboost(gil);
	if (!task)
		goto out;
	if (b->task == task)
		own = b->own;
	else
		gil_pi_own(task, &own);
	if (gil_pi_outranks(&own, prio)) {
		if (b->task == task)
			gil_unboost(gil);
	} else if (b->task != task || b->prio != prio) {
		if (gil_boost(gil, task, &own, prio))
			task = NULL;
		else if (b->task == task)
			gil_unboost(gil);
	}
	if (task)
		put_task_struct(task);
out:
	rt_mutex_unlock(&b->lock);
}

/* The GIL goes: no holder keeps its boost. */
void gil_pi_destroy(struct gil *gil)
{
	rt_mutex_lock(&gil->boost.lock);
	if (gil->boost.task)
		gil_unboost(gil);
	rt_mutex_unlock(&gil->boost.lock);
}
