/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * /dev/gil: CPython's global interpreter lock as a character device.
 *
 * Each open() of /dev/gil creates one independent GIL (as a per-interpreter
 * GIL is); the file descriptor is the handle for every call below.  Threads
 * of the opener, and of children that inherit the descriptor, take part in
 * that GIL once they have attached to it (GIL_IOC_ATTACH): the kernel's
 * record of "OS thread + thread state".
 *
 * The algorithm is CPython's (Python/ceval_gil.c, 3.12/3.13):
 *  - ACQUIRE takes a free GIL at once, ahead of any sleeping waiter.
 *    Otherwise it sleeps for the switch interval.  When a sleep times out
 *    while the GIL is still held by the thread that held it when the sleep
 *    began (switch_number unchanged), it posts a drop request to the holder.
 *    The interval restarts after every wake-up.
 *  - The drop request reaches the holder through the eval-breaker word of
 *    the mapped page (struct gil_page), which the holder polls at safe
 *    points of its eval loop without a system call.
 *  - RELEASE wakes one waiter.  When a drop request is pending it is a
 *    forced switch: the releaser clears the request and blocks until another
 *    thread has taken the GIL (FORCE_SWITCHING), or no thread waits any
 *    more.  A release with no request pending never blocks.
 *  - switch_number increases exactly once per change of owner, and the
 *    acquirer clears the drop request.
 * As in CPython 3.12 there is one drop request per GIL.  It is only ever
 * posted while the GIL is held and cleared by every acquisition, so it is
 * always aimed at the current holder, as 3.13's per-thread bit is.
 *
 * That is the GIL_POLICY_CPYTHON policy, the default.  Two more policies
 * (ABI 1.1, GIL_IOC_SET_POLICY) fix CPython's known weaknesses:
 *  - GIL_POLICY_FIFO: a release with threads waiting hands the GIL
 *    directly to the one that has waited longest; a free GIL is only ever
 *    taken when no thread waits, so no thread barges ahead of a waiter.
 *    A forced releaser returns at once: the new owner already owns.
 *  - GIL_POLICY_IO: Beazley's priority proposal.  A thread is I/O-bound
 *    until it is forced to drop the GIL, and again after every release
 *    with no drop request pending.  An I/O-bound thread that finds the
 *    GIL held by a CPU-bound one posts the drop request at once instead
 *    of after an interval, and a release hands the GIL directly to the
 *    longest-waiting I/O-bound thread, if one waits; otherwise it is
 *    GIL_POLICY_CPYTHON.
 * Everything else (the drop request after an interval, switch_number,
 * the forced-switch guarantee, the errors) holds under every policy.
 *
 * Waiting (ABI 2.0).  ACQUIRE, and RELEASE in a forced switch, sleep as a
 * futex wait does (state S): a waiting thread can be stopped (SIGSTOP,
 * ptrace), frozen (the cgroup freezer, suspend) and killed, and runs its
 * signal handlers during the wait.  The call is then restarted by the
 * kernel, whether or not the handler has SA_RESTART, and goes on with its
 * wait: the same place in line, the same deadline for the drop request,
 * the same switch_number.  So no signal makes these calls fail or delays a
 * drop request.  While a waiter is away handling a signal, a release does
 * not hand it the GIL; a forced releaser waits for it, unless it exits.  The
 * restarted call acts on the GIL as it is then: after a SHUTDOWN or DETACH
 * meanwhile it fails with EUNATCH (the record is gone), and after a close
 * of its descriptor with EBADF.  A thread whose handler does not return
 * (siglongjmp), or calls the GIL itself, acts on its pending wait (and a
 * forced releaser waits for it until it does, or exits): its
 * next ACQUIRE or YIELD goes on with an interrupted take; its next RELEASE
 * goes on with an interrupted handshake (returning 0, where a thread
 * holding nothing would get EPERM), and its next ACQUIRE gives that
 * handshake up.  As in CPython, nothing but SIGKILL (or siglongjmp) ends
 * a wait early: a timeout belongs around ACQUIRE, not in it.
 *
 * Lifetime (ABI 2.0).  A GIL lives as long as its open file: every
 * descriptor, mapping and call in flight holds it.  Its state belongs to
 * the open file, not to a descriptor table, as with OFD locks and flock():
 * closing a descriptor, or unshare(CLONE_FILES), changes nothing in it; a
 * thread waiting when its process closes its descriptor goes on waiting.
 * A process ends its part with GIL_IOC_SHUTDOWN.  A thread's attachment
 * ends at DETACH, at SHUTDOWN, when the thread exits, and when it execs
 * (the new program starts unattached, whatever its tid).  A thread that
 * exits or execs holding the GIL is an owner death: the first thread
 * waiting looks for it every 10 ms whatever the interval, the GIL is
 * released as the policy says (under fifo, to the longest waiter), and the
 * next owner gets EOWNERDEAD.  The records
 * of exited threads are reclaimed as other threads attach; a GIL has at
 * most max_threads records (a module parameter, 65536 by default).
 *
 * Observing.  /proc/<pid>/fdinfo/<fd> of a GIL's descriptor has its id,
 * state and statistics as "key:\tvalue" lines, readable by the process's
 * owner, with pids in the reader's pid namespace; the tracepoints in
 * events/gil/ mark what it does.
 *
 * All ioctls return 0 on success or -1 with errno set.  Besides the errors
 * listed per call, every call may fail with:
 *   ENOTTY   the command is not a /dev/gil ioctl
 *   EFAULT   the argument points to memory the caller cannot access
 *
 * Structures use only fixed-width types with explicit padding, so 32-bit
 * and 64-bit callers share one layout.
 */
#ifndef _UAPI_LINUX_GIL_H
#define _UAPI_LINUX_GIL_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * ABI version.  The major number changes on incompatible changes, the
 * minor number when calls or fields are added.  2.0: closing a descriptor
 * no longer ends waits (SHUTDOWN does), waits are interruptible and
 * restarted, attachments end at exit and exec, ENOSPC.  2.1: the word page
 * (struct gil_word) and GIL_IOC_GET_TOKEN.  2.2: the word page's
 * eval_breaker, which userspace may add bits of its own to.  2.3: a GIL's
 * options (GIL_IOC_GET/SET_OPTIONS, GIL_OPT_PREEMPT_AWARE) and
 * gil_stats.preempt_extensions.  2.4: GIL_OPT_PRIO_INHERIT, and
 * gil_stats.priority_boosts, blocked_requests and blocked_wait_ns.
 */
#define GIL_ABI_MAJOR 2
#define GIL_ABI_MINOR 4

/* Free in Documentation/userspace-api/ioctl/ioctl-number.rst up to 6.12. */
#define GIL_IOC_MAGIC 0xBD

/*
 * A GIL's options (GIL_IOC_SET_OPTIONS), each off by default.
 *
 * GIL_OPT_PREEMPT_AWARE: the switch interval does not run while the holder
 * waits for a CPU.  A waiter whose interval runs out while the holder
 * waited for a CPU (runnable, preempted, by another process on its CPU
 * say) for a twentieth of the interval or more waits on for as long as the
 * holder waited, and again at the end of that, until the holder has had a
 * whole interval.  So a preempted holder keeps its slice, where CPython's
 * wall-clock interval asks it to drop the GIL when it has hardly run.
 * Time the holder spends blocked (in a system call, a page fault) counts
 * as its own, but not its wait for a CPU after it wakes.  The price: a
 * waiter waits about the interval over the holder's share of its CPU (a
 * holder at nice 19 on a busy CPU keeps the GIL for many intervals of
 * wall time), and one whose holder gets no CPU at all never asks, as the
 * holder could not answer.  A wait begun with the option off is not
 * extended.  Uses the scheduler's run-delay accounting: SET fails with
 * EOPNOTSUPP on a kernel without CONFIG_SCHED_INFO, or a 32-bit one.
 */
#define GIL_OPT_PREEMPT_AWARE	0x1U

/*
 * GIL_OPT_PRIO_INHERIT (ABI 2.4): while real-time threads wait for the GIL,
 * the holder runs at SCHED_FIFO at the highest of their priorities (a
 * SCHED_DEADLINE waiter counts as SCHED_FIFO 99), so that a thread of
 * middle priority on the holder's CPU cannot keep them waiting.  The boost
 * is the holder's scheduling policy, set by the module as sched_setattr(2)
 * would set it, without its permission checks: sched_getscheduler(2) shows
 * it, with SCHED_RESET_ON_FORK (a child starts at SCHED_OTHER; and, as
 * for any thread with that flag, an unprivileged holder's
 * sched_setscheduler(2) while boosted fails with EPERM unless it passes
 * the flag too).  It ends as the holder releases, or its waiters leave or
 * stop being real-time; then the holder's own policy, priority and time
 * slice come back, with the nice value it has then.  Changes made to the
 * holder meanwhile, by anyone, stay only if they are to a policy that is
 * not real-time (but out of SCHED_IDLE) or to a priority above the boost;
 * any other real-time setting made meanwhile, even one the thread was
 * entitled to, is undone.  A thread holding several GILs runs at the
 * highest boost of them; a waiter that is itself a boosted holder lends
 * its own priority, not the boost (boosts do not pass along chains of
 * GILs).  A waiter's priority is read as it begins to wait and at each of
 * its wake-ups: one that lends wakes every 10 ms to look, one that becomes
 * real-time while asleep lends from its next wake-up (its interval's end
 * at the latest).  Any thread that shares the GIL's file may so lift its
 * holder, in another process too, to its own real-time priority for as
 * long as it waits, as with a PI futex.  Leaving SCHED_FIFO resets a timer
 * slack set with PR_SET_TIMERSLACK.  SET fails with EOPNOTSUPP under
 * CONFIG_RT_GROUP_SCHED, whose group runtime limits would apply to the
 * boost.  Turned on, it applies to the waits under way, with the
 * priorities they last read; turned off, their boosts end at once.
 */
#define GIL_OPT_PRIO_INHERIT	0x2U
#define GIL_OPTS_ALL		(GIL_OPT_PREEMPT_AWARE | GIL_OPT_PRIO_INHERIT)

/* Switch interval, in microseconds as CPython stores it. */
#define GIL_INTERVAL_DEFAULT_US	5000
#define GIL_INTERVAL_MAX_US	3600000000LL	/* one hour */

/**
 * struct gil_version - argument of GIL_IOC_GET_VERSION
 * @major: GIL_ABI_MAJOR of the running module
 * @minor: GIL_ABI_MINOR of the running module
 */
struct gil_version {
	__u32 major;
	__u32 minor;
};

/* Handoff policies: see above, and GIL_IOC_SET_POLICY. */
#define GIL_POLICY_CPYTHON	0
#define GIL_POLICY_FIFO		1
#define GIL_POLICY_IO		2
#define GIL_POLICY_COUNT	3

/*
 * Bits of gil_page.eval_breaker and gil_word.eval_breaker.  The module sets
 * and clears DROP_REQUEST; PENDING is userspace's (ABI 2.2): an
 * interpreter's own events (signals, pending calls) that its eval loop
 * must see at the same safe points, in the same load.  In the word page,
 * every bit but DROP_REQUEST is the process's: the module never sets,
 * clears or reads another (later module bits go elsewhere).  In the
 * read-only page only DROP_REQUEST is ever set.
 */
#define GIL_EVAL_BREAKER_DROP_REQUEST	0x1U
#define GIL_EVAL_BREAKER_PENDING	0x2U

/**
 * struct gil_page - the page shared read-only with userspace
 *
 * Map it with mmap(NULL, page_size, PROT_READ, MAP_SHARED, fd, 0), where
 * page_size is sysconf(_SC_PAGESIZE).  The module writes it; the mapping
 * cannot be made writable.  mmap fails with EINVAL for another length, an
 * offset other than 0 and page_size (struct gil_word) or MAP_PRIVATE, and
 * with EPERM for PROT_WRITE; mprotect() to PROT_WRITE fails with EACCES.
 * All fields are written with single stores; read them with relaxed atomic
 * loads.
 *
 * @size: bytes of this structure the module fills (sizeof(struct gil_page)
 *	in the module's ABI); later minor versions only add fields at the end
 * @locked: 1 while a thread holds the GIL, else 0
 * @switch_number: number of changes of owner since the GIL was created
 * @interval_us: the switch interval
 * @policy: the handoff policy, GIL_POLICY_* (ABI 1.1; always 0, which is
 *	GIL_POLICY_CPYTHON, in ABI 1.0)
 * @eval_breaker: GIL_EVAL_BREAKER_* bits; the holder polls this word (on a
 *	cache line of its own) at the safe points of its eval loop and answers
 *	GIL_EVAL_BREAKER_DROP_REQUEST with GIL_IOC_YIELD
 */
struct gil_page {
	__u32 size;
	__u32 locked;
	__u64 switch_number;
	__u64 interval_us;
	__u32 policy;
	__u8 __reserved0[36];
	__u32 eval_breaker;
	__u8 __reserved1[60];
};

/*
 * The lock word of struct gil_word: GIL_WORD_KERNEL, and the holder's
 * token (GIL_WORD_TOKEN), 0 when the GIL is free.
 */
#define GIL_WORD_TOKEN		0x3fffffffU
#define GIL_WORD_KERNEL		0x80000000U

/**
 * struct gil_word - the page shared read-write with userspace (ABI 2.1)
 *
 * Map it with mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
 * fd, page_size): the page at offset page_size.  It lets a thread take a
 * free GIL, and release one nobody waits for, without a system call, as a
 * futex does:
 *
 *   take:    cmpxchg @word from 0 to the thread's token; if that fails,
 *            GIL_IOC_ACQUIRE (or YIELD)
 *   release: cmpxchg @word from the token to 0; if that fails,
 *            GIL_IOC_RELEASE (@word then has GIL_WORD_KERNEL)
 *
 * A thread's token is GIL_IOC_GET_TOKEN's, never 0, unique in the GIL while
 * the thread is attached.  Whenever the module has something to say
 * (threads wait, a drop request is pending, the previous holder died, the
 * policy is GIL_POLICY_IO and some thread is CPU-bound, whose next release
 * makes it I/O-bound) it keeps GIL_WORD_KERNEL set, so both exchanges fail
 * and every call goes through it; it clears the bit when nothing is left
 * to say.
 * A GIL taken through the word is held as one taken by ACQUIRE: RELEASE,
 * YIELD, DETACH (EBUSY), EDEADLK and owner death treat them alike.  A
 * holder that exits or execs is found out when a thread next enters the
 * module; a word naming a token no attached thread has counts as a dead
 * holder.
 *
 * The page is the GIL's users' to scribble on: the module reads it as a
 * hint it checks, never as a pointer or an index it trusts.  Writes other
 * than the two exchanges above break that GIL for its own users (two
 * threads may think they hold it, a call may wait until a drop request is
 * answered, or fail with EOWNERDEAD, EDEADLK or EPERM), and nothing else:
 * not the module, not another GIL.
 *
 * A fork's child shares the parent's mapping but not its attachments: it
 * must not use a token of its parent's threads (libgil gives the child a
 * GIL of its own).  The counters are 64-bit: on a 32-bit system a reader
 * may see one torn while it is added to.
 *
 * @word: the lock word
 * @last_token: the token of the thread that took the GIL last; whoever
 *	takes it writes it (the module too)
 * @fast_acquisitions: takes through the word
 * @fast_switches: of those, the ones whose taker's token was not
 *	@last_token (a change of owner; the taker then sets @last_token)
 * @fast_releases: releases through the word
 * @eval_breaker: (ABI 2.2) GIL_EVAL_BREAKER_* bits, on a cache line of its
 *	own: the module sets and clears DROP_REQUEST here as in the read-only
 *	page, with atomic or and and-not, which keep every other bit; a
 *	process may set and clear GIL_EVAL_BREAKER_PENDING in it the same
 *	way, so that one load at a safe point sees both
 * The counters are added to with atomic adds, once the exchange has
 * succeeded.
 * GIL_IOC_GET_STATS adds the three counters to the module's own
 * (acquisitions, switch_number, voluntary_releases); the read-only page's
 * @locked and @switch_number only show what went through the module.
 */
struct gil_word {
	__u32 word;
	__u32 last_token;
	__u64 fast_acquisitions;
	__u64 fast_switches;
	__u64 fast_releases;
	__u8 __reserved0[32];
	__u32 eval_breaker;
	__u8 __reserved1[60];
};

/* Handoff latency histogram buckets of struct gil_stats. */
#define GIL_STATS_HIST_BUCKETS 32

/**
 * struct gil_stats - argument of GIL_IOC_GET_STATS
 *
 * The structure carries its own size so that it can grow.  The caller sets
 * @size to sizeof(struct gil_stats) as it knows it (at least
 * GIL_STATS_SIZE_VER0); the module fills that many bytes at most and sets
 * @size to the number it filled.
 *
 * @size: in: the caller's size of this structure; out: bytes filled
 * @hist_buckets: out: GIL_STATS_HIST_BUCKETS
 * @acquisitions: successful acquisitions (ACQUIRE, and the take of YIELD)
 * @contended: acquisitions that had to wait
 * @drop_requests: drop requests posted (a timed-out wait may post again)
 * @forced_switches: releases that answered a drop request (the handshake)
 * @voluntary_releases: releases with no drop request pending
 * @switch_number: changes of owner
 * @owner_deaths: acquisitions that recovered the GIL from a holder that
 *	exited or exec'd holding it, or whose process shut it down (in ABI
 *	1, closed it)
 * @wait_ns: total time acquirers spent waiting, in nanoseconds
 * @handoff_ns_hist: handoff latency (from a release to the acquisition by
 *	a thread that was waiting), bucket i counting latencies in
 *	[2^i, 2^(i+1)) ns; bucket 0 also counts 0 ns, the last bucket
 *	everything longer
 * @direct_handoffs: releases that handed the GIL directly to a waiter
 *	(GIL_POLICY_FIFO and GIL_POLICY_IO; ABI 1.1)
 * @io_preemptions: drop requests posted at once by an I/O-bound waiter
 *	(GIL_POLICY_IO; ABI 1.1); also counted in @drop_requests
 * @preempt_extensions: waits that went on when their interval ran out,
 *	because the holder had waited for a CPU meanwhile
 *	(GIL_OPT_PREEMPT_AWARE; ABI 2.3)
 * @priority_boosts: times a holder was boosted, or its boost changed, to
 *	a real-time waiter's priority (GIL_OPT_PRIO_INHERIT; ABI 2.4)
 * @blocked_requests: drop requests posted while the holder slept in the
 *	kernel holding the GIL (a system call outside
 *	GIL_BEGIN_ALLOW_THREADS, a page fault), which it could not see until
 *	it woke; also counted in @drop_requests (ABI 2.4)
 * @blocked_wait_ns: for each hold that met such a request, the time from
 *	the first one to the release, in nanoseconds (ABI 2.4)
 */
struct gil_stats {
	__u32 size;
	__u32 hist_buckets;
	__u64 acquisitions;
	__u64 contended;
	__u64 drop_requests;
	__u64 forced_switches;
	__u64 voluntary_releases;
	__u64 switch_number;
	__u64 owner_deaths;
	__u64 wait_ns;
	__u64 handoff_ns_hist[GIL_STATS_HIST_BUCKETS];
	__u64 direct_handoffs;
	__u64 io_preemptions;
	__u64 preempt_extensions;
	__u64 priority_boosts;
	__u64 blocked_requests;
	__u64 blocked_wait_ns;
};

#define GIL_STATS_SIZE_VER0 328	/* sizeof(struct gil_stats) in ABI 1.0 */
#define GIL_STATS_SIZE_VER1 344	/* and in ABI 1.1 */
#define GIL_STATS_SIZE_VER2 352	/* and in ABI 2.3 */
#define GIL_STATS_SIZE_VER3 376	/* and from ABI 2.4 */

/*
 * GIL_IOC_GET_VERSION - report the module's ABI version.
 * Never blocks.
 */
#define GIL_IOC_GET_VERSION	_IOR(GIL_IOC_MAGIC, 0x00, struct gil_version)

/*
 * GIL_IOC_ATTACH - attach the calling thread to this GIL.
 * Every call below but GET_VERSION, GET/SET_INTERVAL, GET_STATS,
 * GET/SET_POLICY, SHUTDOWN and GET/SET_OPTIONS needs it.  A thread attaches
 * once per GIL.
 * Errors: EEXIST (already attached; never ENOMEM then), ENOMEM, ENOSPC
 * (the GIL has max_threads records of live threads: ABI 2.0).
 */
#define GIL_IOC_ATTACH		_IO(GIL_IOC_MAGIC, 0x01)

/*
 * GIL_IOC_DETACH - detach the calling thread from this GIL.
 * Errors: EUNATCH (not attached), EBUSY (it holds the GIL: release first).
 */
#define GIL_IOC_DETACH		_IO(GIL_IOC_MAGIC, 0x02)

/*
 * GIL_IOC_ACQUIRE - take the GIL (CPython's take_gil), waiting as long as
 * it takes.  Signals do not make it fail (see "Waiting" above), as
 * CPython's acquire is infallible to its callers.
 * Errors:
 *   EUNATCH     the thread is not attached
 *   EDEADLK     the thread already holds the GIL
 *   EOWNERDEAD  the GIL is taken, but the previous holder exited or
 *               exec'd holding it, or its process shut the GIL down, as
 *               robust mutexes report it: the state it protected may be
 *               inconsistent
 *   ESHUTDOWN   this process shut the GIL down (SHUTDOWN) while the
 *               thread waited (ABI 2.0; ABI 1 failed with EBADF when the
 *               process closed its last descriptor)
 */
#define GIL_IOC_ACQUIRE		_IO(GIL_IOC_MAGIC, 0x03)

/*
 * GIL_IOC_RELEASE - drop the GIL (CPython's drop_gil).  Wakes one waiter.
 * Blocks only for a forced switch: with a drop request pending, until
 * another thread has taken the GIL or none waits any more (see "Waiting":
 * a restarted RELEASE goes on with that wait).
 * Errors: EUNATCH (not attached), EPERM (the thread does not hold the GIL).
 */
#define GIL_IOC_RELEASE		_IO(GIL_IOC_MAGIC, 0x04)

/*
 * GIL_IOC_YIELD - answer a drop request in one call: release (with the
 * forced-switch handshake when a request is pending), then acquire again.
 * Errors: those of RELEASE, then those of ACQUIRE but EDEADLK.
 */
#define GIL_IOC_YIELD		_IO(GIL_IOC_MAGIC, 0x05)

/*
 * GIL_IOC_GET_INTERVAL - read the switch interval, in microseconds.
 * GIL_IOC_SET_INTERVAL - set it; waits already begun keep their deadline.
 * The default is the module parameter default_interval_us (5000).
 * Errors of SET: EINVAL (zero or negative), ERANGE (above
 * GIL_INTERVAL_MAX_US).
 */
#define GIL_IOC_GET_INTERVAL	_IOR(GIL_IOC_MAGIC, 0x06, __s64)
#define GIL_IOC_SET_INTERVAL	_IOW(GIL_IOC_MAGIC, 0x07, __s64)

/*
 * GIL_IOC_GET_STATS - read the GIL's statistics (struct gil_stats).
 * Matched on its number, whatever size the command encodes, so binaries
 * built with an older, smaller struct keep working.
 * Errors: EINVAL (size below GIL_STATS_SIZE_VER0).
 */
#define GIL_IOC_GET_STATS	_IOWR(GIL_IOC_MAGIC, 0x08, struct gil_stats)

/*
 * GIL_IOC_GET_POLICY - read the handoff policy (GIL_POLICY_*).
 * GIL_IOC_SET_POLICY - set it; it applies from the next acquisition or
 * release, and threads already waiting keep their place.  The default is
 * the module parameter default_policy ("cpython").  ABI 1.1.
 * Errors of SET: EINVAL (not a GIL_POLICY_*).
 */
#define GIL_IOC_GET_POLICY	_IOR(GIL_IOC_MAGIC, 0x09, __u32)
#define GIL_IOC_SET_POLICY	_IOW(GIL_IOC_MAGIC, 0x0a, __u32)

/*
 * GIL_IOC_SHUTDOWN - the calling process is done with this GIL (ABI 2.0):
 * the records of all its threads end, as if each had detached.  Those
 * waiting in ACQUIRE or YIELD fail with ESHUTDOWN; one holding the GIL
 * loses it as if it had exited (the next acquirer gets EOWNERDEAD); one
 * in a forced release returns from it.  Threads of other processes
 * sharing the GIL are not affected.  Needs no attachment.  No errors.
 */
#define GIL_IOC_SHUTDOWN	_IO(GIL_IOC_MAGIC, 0x0b)

/*
 * GIL_IOC_GET_TOKEN - the calling thread's token, for struct gil_word.
 * ABI 2.1.
 * Errors: EUNATCH (not attached).
 */
#define GIL_IOC_GET_TOKEN	_IOR(GIL_IOC_MAGIC, 0x0c, __u32)

/*
 * GIL_IOC_GET_OPTIONS - read the GIL's options (GIL_OPT_*).
 * GIL_IOC_SET_OPTIONS - set them, all at once (two callers doing
 * read-modify-write race); waits begin with the new ones, waits already
 * begun no longer extend if the option went off.  Needs no attachment.
 * ABI 2.3.
 * Errors of SET, in this order: EINVAL (a bit this module does not know),
 * EOPNOTSUPP (an option this kernel cannot provide, see
 * GIL_OPT_PREEMPT_AWARE); the options stay as they were.
 */
#define GIL_IOC_GET_OPTIONS	_IOR(GIL_IOC_MAGIC, 0x0d, __u32)
#define GIL_IOC_SET_OPTIONS	_IOW(GIL_IOC_MAGIC, 0x0e, __u32)

#endif /* _UAPI_LINUX_GIL_H */
