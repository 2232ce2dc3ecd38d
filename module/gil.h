/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal interface of the /dev/gil module.
 *
 * The module is split by concern, in the manner of kernel/futex/:
 *   main.c     module init/exit and parameters
 *   chardev.c  the misc device: open/release, mmap, fdinfo, ioctl plumbing
 *   core.c     GIL lifetime, thread records (attach, detach, exit, exec,
 *              shutdown), the switch interval
 *   lock.c     the algorithm: take, drop, yield, drop requests, owner death
 *   policy.c   handoff policies: who a release hands the GIL to
 *   page.c     the page shared read-only with userspace
 *   word.c     the word page: takes and releases without a system call
 *   pi.c       priority inheritance: the holder runs at its waiters'
 *              priority (GIL_OPT_PRIO_INHERIT)
 *   stats.c    statistics
 *   fdinfo.c   /proc/<pid>/fdinfo/<fd>: a GIL's statistics and state
 *   trace.c    the tracepoints declared in trace.h (events/gil/)
 *
 * Locking, outermost first:
 *   gil_pi_lock         the holders' boosts (pi.c), an rt_mutex, held
 *                       while a boost is set (sched_setattr_nocheck(),
 *                       which takes the task's pi_lock and runqueue
 *                       lock, and may sleep)
 *   gil->lock           the algorithm's state: everything in struct gil but
 *                       @threads and @tokens, and a record's wait state;
 *                       taken with gil_lock(), which brings in the word
 *                       page's news, and let go with gil_unlock() (word.c)
 *   xa_lock(threads)    the records by tid, and gil->nr_threads
 *   xa_lock(tokens)     the records by token (a record gets its token,
 *                       and erases it as it leaves the GIL, under
 *                       gil->lock)
 * No wake-up is done under gil->lock, and no clock is read under it:
 * lock.c reads the time (and for GIL_OPT_PREEMPT_AWARE the scheduler's
 * clock) before taking it and collects the wake-ups (struct gil_op) to do
 * once it has let go.  One exception: after a write to the
 * word page outside its exchanges, word.c wakes the threads that sleep on
 * the module's view of the holder at once.
 * A thread sleeps in its task state, on no wait queue, and is woken with
 * wake_up_process() (gil_thread_wake()), as futex's wake_q does: so the
 * woken thread needs no lock its waker may still hold (lock.c says why).
 * Every sleep loops on its condition: a wake-up may be spurious.
 */
#ifndef _GIL_H
#define _GIL_H

#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/gil.h>
#include <uapi/linux/sched/types.h>

struct pid;
struct seq_file;

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
	u64 preempt_extensions;
	u64 priority_boosts;
	u64 blocked_requests;
	u64 blocked_wait_ns;
};

/**
 * struct gil_thread - a thread attached to a GIL (CPython's thread state)
 * @kref: held by gil->threads, by gil->holder, by each call in flight and
 *	by each pending wake-up
 * @gil: the GIL
 * @pid: the thread, by its struct pid: a record whose thread has exited
 *	pins no task_struct
 * @exec_id: the thread's self_exec_id when it attached: an exec ends the
 *	attachment (the new program's tid may be another thread's)
 * @tid: key in gil->threads (in the initial pid namespace)
 * @tgid: the thread's process, for GIL_IOC_SHUTDOWN (a reference)
 * @token: key in gil->tokens, the thread's name in the word page
 *
 * Under gil->lock:
 * @wait_node: on gil->waiters from the first sleep of a take to its end,
 *	a signal's interruption included; holds no reference: a record
 *	leaves the line (lock.c) before its xarray reference is dropped
 * @wait_start: when the take began to wait
 * @wait_releases: gil->releases then
 * @deadline: the end of the timed wait under way (kept across signals)
 * @wait_switch_number: gil->switch_number when that timed wait began
 * @holder_run_delay: the holder's time waiting for a CPU so far, at
 *	@run_delay_at (GIL_OPT_PREEMPT_AWARE)
 * @run_delay_at: the scheduler's clock when that was read, in this timed
 *	wait; 0: the wait has no such base (begun with the option off)
 * @lent: the SCHED_FIFO priority it lends the holder under
 *	GIL_OPT_PRIO_INHERIT, read at its last wake-up (pi.c); 0: none
 * @woken: a release woke it to take the free GIL; it has not looked yet
 * @switching: in the forced-switch handshake of a release
 * @away: its take or handshake was interrupted by a signal: the call will
 *	be restarted, and meanwhile the thread is in userspace and is passed
 *	over by handoffs
 * @cpu_bound: its last release answered a drop request (GIL_POLICY_IO's
 *	classification, policy.c)
 * @gone: the record has left the GIL (detach, exit, exec, shutdown)
 *
 * @rcu: for the RCU-deferred free
 */
struct gil_thread {
	struct kref kref;
	struct gil *gil;
	struct pid *pid;
	u64 exec_id;
	pid_t tid;
	struct pid *tgid;
	u32 token;
	struct list_head wait_node;
	ktime_t wait_start;
	u64 wait_releases;
	ktime_t deadline;
	u64 wait_switch_number;
	u64 holder_run_delay;
	u64 run_delay_at;
	unsigned int lent;
	bool woken;
	bool switching;
	bool away;
	bool cpu_bound;
	bool gone;
	struct rcu_head rcu;
};

struct gil_boosted;

/**
 * struct gil_boost - what a GIL lends its holder (GIL_OPT_PRIO_INHERIT)
 * @boosted: the thread it boosts, shared with the other GILs that boost
 *	it (pi.c); NULL: none
 * @node: on @boosted's list of lenders
 * @prio: the SCHED_FIFO priority this GIL lends it
 *
 * Under pi.c's gil_pi_lock.
 */
struct gil_boost {
	struct gil_boosted *boosted;
	struct list_head node;
	unsigned int prio;
};

/**
 * struct gil - one GIL, created by one open() of /dev/gil
 * @lock: protects every field below but @threads, @nr_threads and
 *	@reap_cursor (CPython's gil->mutex and switch_mutex in one)
 * @locked: a thread holds the GIL
 * @holder: the thread holding, or that last held, the GIL (CPython's
 *	last_holder); holds a reference
 * @switch_number: changes of owner
 * @drop_request: a drop request is posted (mirrored in the page)
 * @owner_died: the holder went away holding the GIL; the next acquirer
 *	is told so
 * @interval_us: the switch interval
 * @policy: the handoff policy, GIL_POLICY_*
 * @options: GIL_OPT_*
 * @pi_prio: the priority the last gil_pi_sync() found the holder should
 *	run at (0: its own)
 * @pi_holder: the holder then, with a reference, if @pi_prio
 * @pi_lenders: waiters on @waiters whose priority would lend one
 * @waiters: threads in the wait of take, in arrival order (CPython's
 *	gil->cond), by struct gil_thread.wait_node
 * @nr_waiters: threads on @waiters
 * @nr_away: of those, interrupted by a signal
 * @nr_cpu_bound: attached threads whose last release answered a drop
 *	request (GIL_POLICY_IO's CPU-bound ones)
 * @released_at: time of the last release that found waiters, for the
 *	handoff latency (0: not measured)
 * @releases: releases that found waiters: a waiter measures from the last
 *	one if it came after the waiter queued (times read before gil->lock
 *	was taken may be in the other order)
 * @released_by: tid of the thread that released then, for its trace
 * @blocked_since: when a drop request first found the holder asleep in
 *	the kernel, in this hold; 0: none did
 * @threads: attached threads by tid, under the xarray's lock
 * @nr_threads: records in @threads, under the xarray's lock
 * @reap_cursor: where the next look for records of exited threads begins
 * @page: the page shared read-only with userspace
 * @shared: its contents
 * @word_page: the page shared read-write with userspace (word.c)
 * @word: its contents
 * @tokens: attached threads by token, the xarray's lock its own; a record
 *	leaves it when it leaves the GIL
 * @next_token: for the cyclic allocation of tokens, under that lock
 * @stats: statistics
 * @boost: the holder's boost (GIL_OPT_PRIO_INHERIT)
 * @id: sequence number, for fdinfo and the trace events
 * @opener: the process that opened it (a reference)
 * @opener_comm: that process's name when it opened it
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
	u32 options;
	unsigned int pi_prio;
	struct gil_thread *pi_holder;
	unsigned int pi_lenders;
	struct list_head waiters;
	unsigned int nr_waiters;
	unsigned int nr_away;
	unsigned int nr_cpu_bound;
	ktime_t released_at;
	u64 releases;
	pid_t released_by;
	ktime_t blocked_since;
	struct xarray threads;
	unsigned long nr_threads;
	unsigned long reap_cursor;
	struct page *page;
	struct gil_page *shared;
	struct page *word_page;
	struct gil_word *word;
	struct xarray tokens;
	u32 next_token;
	struct gil_counters stats;
	struct gil_boost boost;
	u64 id;
	struct pid *opener;
	char opener_comm[TASK_COMM_LEN];
};

/* main.c */
extern s64 gil_default_interval_us;
extern u32 gil_default_policy;
extern unsigned long gil_max_threads;
int gil_module_setup(void);
void gil_module_teardown(void);

/* core.c */
struct gil *gil_create(void);
void gil_destroy(struct gil *gil);
long gil_live_count(void);
int gil_interval_check(s64 interval_us);
int gil_set_interval(struct gil *gil, s64 interval_us);
s64 gil_get_interval(struct gil *gil);
int gil_set_options(struct gil *gil, u32 options);
u32 gil_get_options(struct gil *gil);
int gil_attach(struct gil *gil);
int gil_detach(struct gil *gil);
int gil_shutdown(struct gil *gil);
struct gil_thread *gil_thread_get(struct gil *gil);
void gil_thread_put(struct gil_thread *t);
bool gil_thread_unlink(struct gil *gil, struct gil_thread *t);
bool gil_thread_dead(struct gil_thread *t);
void gil_thread_wake(struct gil_thread *t);
unsigned long gil_nr_threads(struct gil *gil);

/* lock.c */
void gil_lock_init(struct gil *gil);
void gil_lock_destroy(struct gil *gil);
int gil_take(struct gil *gil, struct gil_thread *t);
int gil_drop(struct gil *gil, struct gil_thread *t);
int gil_yield(struct gil *gil, struct gil_thread *t);
bool gil_holds(struct gil *gil, struct gil_thread *t);
int gil_thread_leave(struct gil *gil, struct gil_thread *t, bool unless_held);
struct gil_thread *gil_head(struct gil *gil);
bool gil_holder_blocked(struct gil *gil);
u64 gil_preempt_extension(u64 delay_ns, u64 elapsed_ns, u64 interval_ns);

/* policy.c */
const char *gil_policy_name(u32 policy);
int gil_policy_from_name(const char *name);
int gil_set_policy(struct gil *gil, u32 policy);
u32 gil_get_policy(struct gil *gil);
bool gil_policy_hands_off(const struct gil *gil);
bool gil_policy_may_take(const struct gil *gil, const struct gil_thread *w);
bool gil_policy_watches_releases(const struct gil *gil);
bool gil_io_preempts(struct gil *gil, struct gil_thread *t);
void gil_classify(struct gil *gil, struct gil_thread *t, bool cpu_bound);

/* pi.c */
void gil_pi_init(struct gil *gil);
void gil_pi_destroy(struct gil *gil);
unsigned int gil_pi_lent(int prio);
bool gil_pi_outranks(const struct sched_attr *own, unsigned int prio);
bool gil_pi_stale(struct gil *gil);
void gil_pi_waiter_lends(struct gil *gil, struct gil_thread *t);
void gil_pi_waiter_leaves(struct gil *gil, struct gil_thread *t);
void gil_pi_sync(struct gil *gil);

/* page.c */
int gil_page_alloc(struct gil *gil);
void gil_page_free(struct gil *gil);
int gil_page_mmap(struct gil *gil, struct vm_area_struct *vma);
void gil_page_sync(struct gil *gil);
void gil_page_drop_request(struct gil *gil, bool on);

/* word.c */
int gil_word_alloc(struct gil *gil);
void gil_word_free(struct gil *gil);
int gil_word_mmap(struct gil *gil, struct vm_area_struct *vma);
int gil_token_alloc(struct gil *gil, struct gil_thread *t);
void gil_token_free(struct gil *gil, struct gil_thread *t);
void gil_lock(struct gil *gil) __acquires(&gil->lock);
void gil_unlock(struct gil *gil) __releases(&gil->lock);
void gil_word_taken(struct gil *gil, struct gil_thread *t);
void gil_word_stats(struct gil *gil, struct gil_stats *st);
void gil_word_drop_request(struct gil *gil, bool on);

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

void gil_stats_acquired(struct gil *gil, struct gil_thread *t, bool waited,
			ktime_t now, struct gil_acquire_times *times);
void gil_stats_read_locked(struct gil *gil, struct gil_stats *out);
void gil_stats_drop_request(struct gil *gil);
void gil_stats_released(struct gil *gil, bool forced);
void gil_stats_direct_handoff(struct gil *gil);
void gil_stats_io_preemption(struct gil *gil);
void gil_stats_preempt_extension(struct gil *gil);
void gil_stats_priority_boost(struct gil *gil);
void gil_stats_blocked_request(struct gil *gil);
void gil_stats_blocked_wait(struct gil *gil, ktime_t waited);
void gil_stats_owner_death(struct gil *gil);
void gil_stats_read(struct gil *gil, struct gil_stats *out);

/* fdinfo.c */
void gil_show_fdinfo(struct gil *gil, struct seq_file *m);

/* chardev.c */
int gil_chardev_register(umode_t mode);
void gil_chardev_unregister(void);
void gil_fill_version(struct gil_version *ver);

#endif /* _GIL_H */
