/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of the /dev/gil module.
 *
 * The module is split by concern, in the manner of kernel/futex/:
 *   main.c     module init/exit and parameters
 *   chardev.c  the misc device: open/flush/release, mmap and ioctl plumbing
 *   core.c     GIL and thread-state lifetime, the switch interval
 *   lock.c     the algorithm: take, drop, yield, drop requests
 *   policy.c   handoff policies: who a release hands the GIL to
 *   page.c     the page shared read-only with userspace
 *   stats.c    statistics
 *   debugfs.c  /sys/kernel/debug/gil/<id>: statistics and state per GIL
 *   trace.c    the tracepoints declared in trace.h (events/gil/)
 */
#ifndef _GIL_H
#define _GIL_H

#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/gil.h>

struct dentry;
struct files_struct;
struct page;
struct task_struct;

/* Counters behind struct gil_stats; protected by gil->lock. */
struct gil_counters {
	u64 acquisitions;
	u64 contended;
	u64 drop_requests;
	u64 forced_switches;
	u64 voluntary_releases;
	u64 owner_deaths;
	u64 wait_ns;
	u64 handoff_ns_hist[GIL_STATS_HIST_BUCKETS];
	u64 direct_handoffs;
	u64 io_preemptions;
};

/**
 * struct gil_thread - a thread attached to a GIL (CPython's thread state)
 * @kref: held by gil->threads, by gil->holder, and by each ioctl in flight
 * @gil: the GIL
 * @task: the thread (a reference is held, to test it for exit)
 * @files: the thread's file table when it attached; compared, never used
 * @tid: key in gil->threads
 * @closed: its process closed the GIL; set under gil->lock
 * @cpu_bound: its last release answered a drop request (GIL_POLICY_IO's
 *	classification); under gil->lock
 * @rcu: for the RCU-deferred free
 */
struct gil_thread {
	struct kref kref;
	struct gil *gil;
	struct task_struct *task;
	struct files_struct *files;
	pid_t tid;
	bool closed;
	bool cpu_bound;
	struct rcu_head rcu;
};

/**
 * struct gil_waiter - a thread in the wait loop of take, on gil->waiters
 * @wq: its entry, queued in arrival order for the whole wait
 * @t: the thread
 */
struct gil_waiter {
	struct wait_queue_entry wq;
	struct gil_thread *t;
};

/**
 * struct gil_wake - the wake-up a release leaves to do (gil_wake())
 * @waiter: threads wait: wake one
 * @owner: the waiter the GIL was handed to, which is the one to wake; NULL
 *	when the release unlocked the GIL instead
 */
struct gil_wake {
	bool waiter;
	struct gil_thread *owner;
};

/**
 * struct gil - one GIL, created by one open() of /dev/gil
 * @lock: protects every field below but @threads (CPython's gil->mutex and
 *	switch_mutex in one)
 * @locked: a thread holds the GIL
 * @holder: the thread holding, or that last held, the GIL (CPython's
 *	last_holder); holds a reference
 * @switch_number: changes of owner
 * @drop_request: a drop request is posted (mirrored in the page)
 * @owner_died: the holder went away holding the GIL; the next acquirer
 *	is told so
 * @interval_us: the switch interval
 * @policy: the handoff policy, GIL_POLICY_*
 * @nr_waiters: threads inside the wait loop of take
 * @released_at: time of the last release, for the handoff latency
 * @released_by: tid of the thread that released then, for its trace
 * @waiters: where acquirers sleep, as struct gil_waiter (CPython's
 *	gil->cond)
 * @switch_wait: where a forced releaser sleeps (CPython's switch_cond)
 * @threads: attached threads by tid, under its own lock
 * @page: the page shared with userspace
 * @shared: its contents
 * @stats: statistics
 * @id: sequence number: names its debugfs file and its trace events
 * @opener_tgid: the process that opened it (for debugfs)
 * @opener_comm: that process's name when it opened it
 * @debugfs: its file in /sys/kernel/debug/gil/, or NULL or an error
 */
struct gil {
	spinlock_t lock;	/* see above */
	bool locked;
	struct gil_thread *holder;
	u64 switch_number;
	bool drop_request;
	bool owner_died;
	s64 interval_us;
	u32 policy;
	unsigned int nr_waiters;
	ktime_t released_at;
	pid_t released_by;
	wait_queue_head_t waiters;
	wait_queue_head_t switch_wait;
	struct xarray threads;
	struct page *page;
	struct gil_page *shared;
	struct gil_counters stats;
	u64 id;
	pid_t opener_tgid;
	char opener_comm[TASK_COMM_LEN];
	struct dentry *debugfs;
};

/* main.c */
extern s64 gil_default_interval_us;
extern u32 gil_default_policy;
int gil_module_setup(void);
void gil_module_teardown(void);

/* core.c */
struct gil *gil_create(void);
void gil_destroy(struct gil *gil);
long gil_live_count(void);
int gil_interval_check(s64 interval_us);
int gil_set_interval(struct gil *gil, s64 interval_us);
s64 gil_get_interval(struct gil *gil);
int gil_attach(struct gil *gil);
int gil_detach(struct gil *gil);
struct gil_thread *gil_thread_get(struct gil *gil);
void gil_thread_put(struct gil_thread *t);
void gil_thread_unlink(struct gil *gil, struct gil_thread *t);
void gil_files_closed(struct gil *gil, struct files_struct *files);

/* lock.c */
int gil_take(struct gil *gil, struct gil_thread *t);
int gil_drop(struct gil *gil, struct gil_thread *t);
int gil_yield(struct gil *gil, struct gil_thread *t);
bool gil_holds(struct gil *gil, struct gil_thread *t);
struct gil_wake gil_release_locked(struct gil *gil);
void gil_wake(struct gil *gil, struct gil_wake wake, bool sync);

/* policy.c */
const char *gil_policy_name(u32 policy);
int gil_policy_from_name(const char *name);
int gil_set_policy(struct gil *gil, u32 policy);
u32 gil_get_policy(struct gil *gil);
struct gil_thread *gil_next_owner(struct gil *gil);
bool gil_io_preempts(struct gil *gil, struct gil_thread *t);

/* page.c */
int gil_page_alloc(struct gil *gil);
void gil_page_free(struct gil *gil);
int gil_page_mmap(struct gil *gil, struct vm_area_struct *vma);
void gil_page_sync(struct gil *gil);

/* stats.c */

/**
 * struct gil_acquire_times - what gil_stats_acquired() measured
 * @wait_ns: time the acquirer waited; 0 if it did not
 * @handoff_ns: time from the release that let it in, or -1 if none did
 */
struct gil_acquire_times {
	s64 wait_ns;
	s64 handoff_ns;
};

void gil_stats_acquired(struct gil *gil, bool waited, ktime_t wait_start,
			struct gil_acquire_times *times);
void gil_stats_read_locked(struct gil *gil, struct gil_stats *out);
void gil_stats_read(struct gil *gil, struct gil_stats *out);

/* debugfs.c */
void gil_debugfs_init(void);
void gil_debugfs_exit(void);
void gil_debugfs_add(struct gil *gil);
void gil_debugfs_remove(struct gil *gil);

/* chardev.c */
int gil_chardev_register(void);
void gil_chardev_unregister(void);
void gil_fill_version(struct gil_version *ver);

#endif /* _GIL_H */
