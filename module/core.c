// SPDX-License-Identifier: GPL-2.0
/*
 * GIL lifetime, thread records, and the switch interval.
 *
 * A GIL lives as long as its open file: descriptors, mappings and calls in
 * flight all hold the file.  Closing a descriptor changes nothing in the
 * GIL (as with OFD locks, flock() and epoll): the state belongs to the open
 * file, not to a process's descriptor table, so no close needs to look for
 * other descriptors of the file.
 *
 * A thread record (struct gil_thread) is the kernel's "OS thread attached
 * to this GIL".  Records live in gil->threads, keyed by tid, and are
 * reference counted: the xarray, gil->holder, every call in flight and
 * every pending wake-up hold a reference, so a record outlives a
 * concurrent detach.  A record names its thread by struct pid and exec id,
 * never by task_struct, so it pins next to nothing once its thread is
 * gone.  A record ends:
 *  - at DETACH;
 *  - when its thread has exited or exec'd: such records are reaped a few
 *    at each ATTACH, and all at once when the GIL has gil_max_threads of
 *    them; a holder among them is noticed at once by lock.c;
 *  - at SHUTDOWN by a thread of its process;
 *  - with the GIL.
 */
#include <linux/atomic.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>

#include "compat.h"
#include "gil.h"

/* Records looked at by each ATTACH for ones whose thread is gone. */
#define GIL_REAP_BATCH	4

static atomic64_t gil_next_id = ATOMIC64_INIT(0);
static atomic_long_t gil_live = ATOMIC_LONG_INIT(0);

/*
 * Everything a GIL allocates is charged to the opener's memory cgroup: an
 * unprivileged user can create as many as its limits let it keep files
 * open (descriptors, mappings, descriptors in flight).
 */
struct gil *gil_create(void)
{
	struct gil *gil = kzalloc(sizeof(*gil), GFP_KERNEL_ACCOUNT);

	if (!gil)
		return NULL;
	if (gil_page_alloc(gil)) {
		kfree(gil);
		return NULL;
	}
	if (gil_word_alloc(gil)) {
		gil_page_free(gil);
		kfree(gil);
		return NULL;
	}
	gil_lock_init(gil);
	gil_pi_init(gil);
	xa_init_flags(&gil->threads, XA_FLAGS_ACCOUNT);
	gil->interval_us = READ_ONCE(gil_default_interval_us);
	gil->policy = READ_ONCE(gil_default_policy);
	gil->id = atomic64_inc_return(&gil_next_id);
	gil->opener = get_pid(task_tgid(current));
	get_task_comm(gil->opener_comm, current);
	gil_page_sync(gil);
	atomic_long_inc(&gil_live);
	return gil;
}

/* Called when nothing can reach the GIL any more: no waiter, no call. */
void gil_destroy(struct gil *gil)
{
	struct gil_thread *t;
	unsigned long tid;

	gil_pi_destroy(gil);
	gil_lock_destroy(gil);
	xa_for_each(&gil->threads, tid, t)
		gil_thread_put(t);
	xa_destroy(&gil->threads);
	put_pid(gil->opener);
	gil_word_free(gil);
	gil_page_free(gil);
	kfree(gil);
	atomic_long_dec(&gil_live);
}

/* Number of GIL objects alive now; the tests use it to detect leaks. */
long gil_live_count(void)
{
	return atomic_long_read(&gil_live);
}

int gil_interval_check(s64 interval_us)
{
	if (interval_us <= 0)
		return -EINVAL;
	if (interval_us > GIL_INTERVAL_MAX_US)
		return -ERANGE;
	return 0;
}

/* As in CPython, waits already begun keep the deadline they computed. */
int gil_set_interval(struct gil *gil, s64 interval_us)
{
	int ret = gil_interval_check(interval_us);

	if (ret)
		return ret;
	spin_lock(&gil->lock);
	gil->interval_us = interval_us;
	gil_page_sync(gil);
	spin_unlock(&gil->lock);
	return 0;
}

/* Options this kernel cannot provide are refused, not ignored. */
int gil_set_options(struct gil *gil, u32 options)
{
	if (options & ~GIL_OPTS_ALL)
		return -EINVAL;
	if ((options & GIL_OPT_PREEMPT_AWARE) && !GIL_HAVE_RUN_DELAY)
		return -EOPNOTSUPP;
	if ((options & GIL_OPT_PRIO_INHERIT) && !GIL_HAVE_PRIO_INHERIT)
		return -EOPNOTSUPP;
	spin_lock(&gil->lock);
	WRITE_ONCE(gil->options, options);
	spin_unlock(&gil->lock);
	gil_pi_sync(gil);
	return 0;
}

u32 gil_get_options(struct gil *gil)
{
	return READ_ONCE(gil->options);
}

/* Under the lock: an s64 may tear on a 32-bit kernel. */
s64 gil_get_interval(struct gil *gil)
{
	s64 interval_us;

	spin_lock(&gil->lock);
	interval_us = gil->interval_us;
	spin_unlock(&gil->lock);
	return interval_us;
}

static void gil_thread_free_rcu(struct rcu_head *rcu)
{
	struct gil_thread *t = container_of(rcu, struct gil_thread, rcu);

	put_pid(t->pid);
	put_pid(t->tgid);
	kfree(t);
}

/* Lookups run under RCU only, so the record is freed after a grace period. */
static void gil_thread_release(struct kref *kref)
{
	struct gil_thread *t = container_of(kref, struct gil_thread, kref);

	call_rcu(&t->rcu, gil_thread_free_rcu);
}

void gil_thread_put(struct gil_thread *t)
{
	kref_put(&t->kref, gil_thread_release);
}

/* @t is the calling thread's record, in this program (not before an exec). */
static bool gil_thread_is_current(const struct gil_thread *t)
{
	return t->pid == task_pid(current) &&
	       t->exec_id == READ_ONCE(current->self_exec_id);
}

/*
 * The record's thread has exited, or exec'd: it will never release or wait
 * again.  A zombie leader counts as exited.
 */
bool gil_thread_dead(struct gil_thread *t)
{
	struct task_struct *task;
	bool dead;

	rcu_read_lock();
	task = pid_task(t->pid, PIDTYPE_PID);
	dead = !task || (READ_ONCE(task->flags) & PF_EXITING) ||
	       READ_ONCE(task->self_exec_id) != t->exec_id;
	rcu_read_unlock();
	return dead;
}

/*
 * Wake the record's thread if it sleeps (in the module, as far as the
 * module knows: the sleeps tolerate spurious wake-ups, and so must any
 * other sleep of the thread's that this reaches late, as with wake_q).
 */
void gil_thread_wake(struct gil_thread *t)
{
	struct task_struct *task;

	rcu_read_lock();
	task = pid_task(t->pid, PIDTYPE_PID);
	if (task)
		wake_up_process(task);
	rcu_read_unlock();
}

/* The calling thread's record, with a reference, or NULL if not attached. */
struct gil_thread *gil_thread_get(struct gil *gil)
{
	struct gil_thread *t;

	rcu_read_lock();
	t = xa_load(&gil->threads, current->pid);
	if (t && !kref_get_unless_zero(&t->kref))
		t = NULL;
	rcu_read_unlock();
	/* A record of a thread that had this tid, or of this one before exec. */
	if (t && !gil_thread_is_current(t)) {
		gil_thread_put(t);
		t = NULL;
	}
	return t;
}

/*
 * Take @t out of gil->threads, unless someone else already did: true if
 * this call did, and now owns the reference the xarray had.
 */
bool gil_thread_unlink(struct gil *gil, struct gil_thread *t)
{
	bool unlinked;

	xa_lock(&gil->threads);
	unlinked = __xa_cmpxchg(&gil->threads, t->tid, t, NULL, 0) == t;
	if (unlinked)
		WRITE_ONCE(gil->nr_threads, gil->nr_threads - 1);
	xa_unlock(&gil->threads);
	return unlinked;
}

/* Unlink @t and undo what the algorithm holds of it. */
static int gil_thread_end(struct gil *gil, struct gil_thread *t)
{
	if (!gil_thread_unlink(gil, t))
		return 0;
	gil_thread_leave(gil, t, false);
	gil_thread_put(t);
	return 1;
}

/* The first record at a tid of *@tid or above, with a reference. */
static struct gil_thread *gil_thread_next(struct gil *gil, unsigned long *tid)
{
	struct gil_thread *t;

	rcu_read_lock();
	for (;;) {
		t = xa_find(&gil->threads, tid, ULONG_MAX, XA_PRESENT);
		if (!t || kref_get_unless_zero(&t->kref))
			break;
		(*tid)++;	/* being freed: skip it */
	}
	rcu_read_unlock();
	return t;
}

/*
 * Look at up to @budget records, from where the last look ended, and end
 * those whose thread has exited or exec'd.
 */
static void gil_reap(struct gil *gil, unsigned long budget)
{
	unsigned long tid = READ_ONCE(gil->reap_cursor);
	bool wrapped = false;
	struct gil_thread *t;

	while (budget--) {
		t = gil_thread_next(gil, &tid);
		if (!t) {
			if (wrapped || !tid)
				break;
			wrapped = true;
			tid = 0;
			continue;
		}
		if (gil_thread_dead(t))
			gil_thread_end(gil, t);
		gil_thread_put(t);
		tid++;
		cond_resched();
	}
	WRITE_ONCE(gil->reap_cursor, tid);
}

unsigned long gil_nr_threads(struct gil *gil)
{
	return READ_ONCE(gil->nr_threads);
}

static struct gil_thread *gil_thread_alloc(struct gil *gil)
{
	struct gil_thread *t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);

	if (!t)
		return NULL;
	kref_init(&t->kref);
	t->gil = gil;
	t->pid = get_pid(task_pid(current));
	t->exec_id = READ_ONCE(current->self_exec_id);
	t->tid = current->pid;
	t->tgid = get_pid(task_tgid(current));
	INIT_LIST_HEAD(&t->wait_node);
	return t;
}

int gil_attach(struct gil *gil)
{
	unsigned long max = READ_ONCE(gil_max_threads);
	struct gil_thread *t, *old;
	int ret = 0;

	/*
	 * An attached thread hears EEXIST whatever memory there is: asked
	 * before allocating.  Only the thread attaches itself, so the answer
	 * holds until the check under the lock (a SHUTDOWN that ends the
	 * record meanwhile makes either answer right).
	 */
	old = gil_thread_get(gil);
	if (old) {
		gil_thread_put(old);
		return -EEXIST;
	}
	t = gil_thread_alloc(gil);
	if (!t)
		return -ENOMEM;
	gil_reap(gil, GIL_REAP_BATCH);
	if (gil_nr_threads(gil) >= max)
		gil_reap(gil, gil_nr_threads(gil));

	xa_lock(&gil->threads);
	old = xa_load(&gil->threads, t->tid);
	if (old && gil_thread_is_current(old)) {
		ret = -EEXIST;
	} else if (!old && gil->nr_threads >= max) {
		ret = -ENOSPC;
	} else {
		struct gil_thread *prev;

		/* Counted first: the store may drop the lock to allocate. */
		if (!old)
			WRITE_ONCE(gil->nr_threads, gil->nr_threads + 1);
		prev = __xa_store(&gil->threads, t->tid, t, GFP_KERNEL_ACCOUNT);
		ret = xa_err(prev);
		if (ret && !old)
			WRITE_ONCE(gil->nr_threads, gil->nr_threads - 1);
		else if (!ret && old && !prev)	/* unlinked meanwhile */
			WRITE_ONCE(gil->nr_threads, gil->nr_threads + 1);
		old = ret ? NULL : prev;
		/* The call's own: a SHUTDOWN may end @t once it is stored. */
		if (!ret)
			kref_get(&t->kref);
	}
	xa_unlock(&gil->threads);

	if (ret) {
		gil_thread_put(t);
		return ret;
	}
	/* It held this tid before an exec, or a thread long gone did. */
	if (old) {
		gil_thread_leave(gil, old, false);
		gil_thread_put(old);
	}
	/*
	 * Only an attached record gets a token: a word naming one never
	 * makes a record that failed to attach the holder.
	 */
	ret = gil_token_alloc(gil, t);
	if (ret && gil_thread_unlink(gil, t))
		gil_thread_put(t);
	gil_thread_put(t);
	return ret;
}

int gil_detach(struct gil *gil)
{
	struct gil_thread *t = gil_thread_get(gil);
	int ret;

	if (!t)
		return -EUNATCH;
	ret = gil_thread_leave(gil, t, true);
	if (!ret && gil_thread_unlink(gil, t))
		gil_thread_put(t);
	gil_thread_put(t);
	return ret;
}

/*
 * The calling process is done with the GIL: every record of its threads
 * ends.  Waits among them fail with ESHUTDOWN, and a hold among them ends
 * as an owner death.
 */
int gil_shutdown(struct gil *gil)
{
	unsigned long tid = 0;
	struct gil_thread *t;

	while ((t = gil_thread_next(gil, &tid))) {
		if (t->tgid == task_tgid(current))
			gil_thread_end(gil, t);
		gil_thread_put(t);
		tid++;
		cond_resched();
	}
	return 0;
}
