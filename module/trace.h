/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Tracepoints of the GIL: /sys/kernel/tracing/events/gil/, and perf's
 * gil:* events.  Each names its GIL by the id its descriptors' fdinfo
 * shows (/proc/<pid>/fdinfo/<fd>) and its threads by tid (in the initial
 * pid namespace, as sched events do).
 *
 *   gil_acquire       a thread took the GIL (ACQUIRE, or the take of YIELD)
 *   gil_release       a thread released it (RELEASE, or the drop of YIELD)
 *   gil_drop_request  a waiter whose interval ran out asked the holder
 *   gil_handoff       a waiter took the GIL a release let go: the latency
 *                     the statistics' histogram counts
 *   gil_holder_blocked
 *                     that drop request found the holder asleep in the
 *                     kernel (a system call, a page fault) holding the
 *                     GIL: it cannot answer until it wakes
 *   gil_boost         the holder now runs at a real-time waiter's
 *                     SCHED_FIFO priority, or (priority 0) at its own
 *                     again (GIL_OPT_PRIO_INHERIT); err: what setting
 *                     it returned (the thread is left as it was)
 *
 * A holder that exits or execs holding the GIL, or whose process shuts it
 * down, has no gil_release; the next gil_acquire says owner_died=1.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM gil

#if !defined(_GIL_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _GIL_TRACE_H

#include <linux/tracepoint.h>

#include "gil.h"

TRACE_EVENT(gil_acquire,
	    TP_PROTO(const struct gil *gil, pid_t tid, bool waited,
		     s64 wait_ns, bool owner_died),
	    TP_ARGS(gil, tid, waited, wait_ns, owner_died),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(u64, wait_ns)
			     __field(u64, switch_number)
			     __field(pid_t, tid)
			     __field(bool, waited)
			     __field(bool, owner_died)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->wait_ns = wait_ns;
			   __entry->switch_number = gil->switch_number;
			   __entry->tid = tid;
			   __entry->waited = waited;
			   __entry->owner_died = owner_died;),
	    TP_printk("gil=%llu tid=%d waited=%d wait_ns=%llu switch_number=%llu owner_died=%d",
		      __entry->gil, __entry->tid, __entry->waited,
		      __entry->wait_ns, __entry->switch_number,
		      __entry->owner_died)
);

TRACE_EVENT(gil_release,
	    TP_PROTO(const struct gil *gil, pid_t tid, bool forced),
	    TP_ARGS(gil, tid, forced),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(pid_t, tid)
			     __field(bool, forced)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->tid = tid;
			   __entry->forced = forced;),
	    TP_printk("gil=%llu tid=%d forced=%d",
		      __entry->gil, __entry->tid, __entry->forced)
);

TRACE_EVENT(gil_drop_request,
	    TP_PROTO(const struct gil *gil, pid_t requester, pid_t holder),
	    TP_ARGS(gil, requester, holder),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(u64, switch_number)
			     __field(pid_t, requester)
			     __field(pid_t, holder)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->switch_number = gil->switch_number;
			   __entry->requester = requester;
			   __entry->holder = holder;),
	    TP_printk("gil=%llu requester=%d holder=%d switch_number=%llu",
		      __entry->gil, __entry->requester, __entry->holder,
		      __entry->switch_number)
);

TRACE_EVENT(gil_handoff,
	    TP_PROTO(const struct gil *gil, pid_t from, pid_t to,
		     s64 latency_ns),
	    TP_ARGS(gil, from, to, latency_ns),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(u64, latency_ns)
			     __field(pid_t, from)
			     __field(pid_t, to)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->latency_ns = latency_ns;
			   __entry->from = from;
			   __entry->to = to;),
	    TP_printk("gil=%llu from=%d to=%d latency_ns=%llu",
		      __entry->gil, __entry->from, __entry->to,
		      __entry->latency_ns)
);

TRACE_EVENT(gil_holder_blocked,
	    TP_PROTO(const struct gil *gil, pid_t requester, pid_t holder),
	    TP_ARGS(gil, requester, holder),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(pid_t, requester)
			     __field(pid_t, holder)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->requester = requester;
			   __entry->holder = holder;),
	    TP_printk("gil=%llu requester=%d holder=%d",
		      __entry->gil, __entry->requester, __entry->holder)
);

TRACE_EVENT(gil_boost,
	    TP_PROTO(const struct gil *gil, pid_t tid, unsigned int prio,
		     int err),
	    TP_ARGS(gil, tid, prio, err),
	    TP_STRUCT__entry(__field(u64, gil)
			     __field(pid_t, tid)
			     __field(unsigned int, prio)
			     __field(int, err)),
	    TP_fast_assign(__entry->gil = gil->id;
			   __entry->tid = tid;
			   __entry->prio = prio;
			   __entry->err = err;),
	    TP_printk("gil=%llu tid=%d prio=%u err=%d",
		      __entry->gil, __entry->tid, __entry->prio, __entry->err)
);

#endif /* _GIL_TRACE_H */

/* define_trace.h includes this file again, found through -I module/. */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
