// SPDX-License-Identifier: GPL-2.0
/*
 * GIL and thread-state lifetime, and the switch interval.
 *
 * A thread state (struct gil_thread) is the kernel's record of "OS thread
 * attached to this GIL".  Records live in gil->threads, keyed by tid, and
 * are reference counted: the xarray, gil->holder and every ioctl in flight
 * hold a reference, so a record outlives a concurrent close or detach.
 */
#include <linux/atomic.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "gil.h"

static atomic64_t gil_next_id = ATOMIC64_INIT(0);
static atomic_long_t gil_live = ATOMIC_LONG_INIT(0);

/*
 * Everything a GIL allocates is charged to the opener's memory cgroup: an
 * unprivileged user can create as many GILs as its fd limit allows.
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
	spin_lock_init(&gil->lock);
	init_waitqueue_head(&gil->waiters);
	init_waitqueue_head(&gil->switch_wait);
	xa_init_flags(&gil->threads, XA_FLAGS_ACCOUNT);
	gil->interval_us = READ_ONCE(gil_default_interval_us);
	gil->policy = READ_ONCE(gil_default_policy);
	gil->id = atomic64_inc_return(&gil_next_id);
	gil->opener_tgid = current->tgid;
	get_task_comm(gil->opener_comm, current);
	gil_page_sync(gil);
	gil_debugfs_add(gil);
	atomic_long_inc(&gil_live);
	return gil;
}

/* Called when nothing can reach the GIL any more: no waiter, no ioctl. */
void gil_destroy(struct gil *gil)
{
	struct gil_thread *t;
	unsigned long tid;

	/* First: waits for the readers of the debugfs file. */
	gil_debugfs_remove(gil);
	xa_for_each(&gil->threads, tid, t)
		gil_thread_put(t);
	xa_destroy(&gil->threads);
	if (gil->holder)
		gil_thread_put(gil->holder);
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

s64 gil_get_interval(struct gil *gil)
{
	return READ_ONCE(gil->interval_us);
}

static void gil_thread_free_rcu(struct rcu_head *rcu)
{
	struct gil_thread *t = container_of(rcu, struct gil_thread, rcu);

	put_task_struct(t->task);
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

/* The calling thread's record, with a reference, or NULL if not attached. */
struct gil_thread *gil_thread_get(struct gil *gil)
{
	struct gil_thread *t;

	rcu_read_lock();
	t = xa_load(&gil->threads, current->pid);
	/* A record left by an exited thread whose tid was reused is not ours. */
	if (t && (t->task != current || !kref_get_unless_zero(&t->kref)))
		t = NULL;
	rcu_read_unlock();
	return t;
}

/* Drop the xarray's reference to @t, unless someone else already did. */
void gil_thread_unlink(struct gil *gil, struct gil_thread *t)
{
	if (xa_cmpxchg(&gil->threads, t->tid, t, NULL, 0) == t)
		gil_thread_put(t);
}

int gil_attach(struct gil *gil)
{
	struct gil_thread *t, *old;
	int ret;

	t = kzalloc(sizeof(*t), GFP_KERNEL_ACCOUNT);
	if (!t)
		return -ENOMEM;
	kref_init(&t->kref);
	t->gil = gil;
	t->task = get_task_struct(current);
	t->files = current->files;
	t->tid = current->pid;

	xa_lock(&gil->threads);
	old = xa_load(&gil->threads, t->tid);
	if (old && old->task == current) {
		ret = -EEXIST;
	} else {
		/* Replaces the record of an exited thread that had this tid. */
		ret = xa_err(__xa_store(&gil->threads, t->tid, t,
					GFP_KERNEL_ACCOUNT));
	}
	xa_unlock(&gil->threads);

	if (ret) {
		put_task_struct(t->task);
		kfree(t);
		return ret;
	}
	if (old)
		gil_thread_put(old);
	return 0;
}

int gil_detach(struct gil *gil)
{
	struct gil_thread *t = gil_thread_get(gil);
	struct gil_thread *last_holder = NULL;

	if (!t)
		return -EUNATCH;
	spin_lock(&gil->lock);
	if (gil_holds(gil, t)) {
		spin_unlock(&gil->lock);
		gil_thread_put(t);
		return -EBUSY;
	}
	/* The next acquirer, whoever it is, counts as a change of owner. */
	if (gil->holder == t) {
		last_holder = t;
		gil->holder = NULL;
	}
	spin_unlock(&gil->lock);

	if (last_holder)
		gil_thread_put(last_holder);
	gil_thread_unlink(gil, t);
	gil_thread_put(t);
	return 0;
}

/*
 * A process closed its last descriptor of the GIL (@files no longer refers
 * to it).  Its threads can no longer release or wait: the GIL is taken from
 * a holder among them (the next acquirer is told, as after an owner death),
 * their waits fail, and their records go.
 */
void gil_files_closed(struct gil *gil, struct files_struct *files)
{
	struct gil_thread *t;
	unsigned long tid;
	bool found = false;

	spin_lock(&gil->lock);
	xa_for_each(&gil->threads, tid, t) {
		if (t->files != files)
			continue;
		found = true;
		t->closed = true;
		gil_thread_unlink(gil, t);
	}
	/* All are marked first, so that none of them is handed the GIL. */
	if (found && gil->locked && gil->holder->closed) {
		gil->owner_died = true;
		gil_release_locked(gil);
	}
	if (found) {
		wake_up_all(&gil->waiters);
		wake_up_all(&gil->switch_wait);
	}
	spin_unlock(&gil->lock);
}
