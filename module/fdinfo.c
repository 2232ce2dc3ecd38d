// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/<pid>/fdinfo/<fd> of a /dev/gil descriptor: after the lines every
 * file has (pos, flags, mnt_id, ino), "key:\tvalue" lines, readable by
 * whoever may read the process's fdinfo (its owner, without root):
 *
 *   id, opener_pid, opener_comm  the GIL (the id its trace events carry)
 *                                and the process that opened it
 *   locked, holder               whether it is held, and by which tid (0:
 *                                none, or not in the reader's namespace)
 *   holder_blocked               1 if the holder cannot run now: asleep
 *                                in the kernel (a system call, a page
 *                                fault), stopped or frozen; 0 if it runs,
 *                                waits for a CPU, or there is none
 *   nr_waiters, threads          threads waiting in ACQUIRE (those away
 *                                handling a signal too); records of
 *                                attached threads
 *   interval_us                  the switch interval
 *   policy                       the handoff policy, by name
 *   options                      the options set, by name, comma
 *                                separated (GIL_OPT_*; "-" for none)
 *   acquisitions, ...,           the counters of struct gil_stats, in its
 *     blocked_wait_ns            order, switch_number among them
 *   handoff_ns_hist_<i>          a nonzero bucket of the handoff histogram:
 *                                n handoffs of [2^i, 2^(i+1)) ns
 *
 * Pids are in the pid namespace of the procfs read, as pidfd's fdinfo has
 * them.  The counters and the live state are one snapshot, under
 * gil->lock; threads is read apart from them.  The file pins the GIL while
 * it is read, as every fdinfo reader pins its file.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "gil.h"

/* The state shown besides struct gil_stats, read with it. */
struct gil_fdinfo_state {
	bool locked;
	pid_t holder;
	bool holder_blocked;
	unsigned int nr_waiters;
	s64 interval_us;
	u32 policy;
	u32 options;
};

/* Bit i of GIL_OPTS_ALL, by name. */
static const char *const gil_option_names[] = {
	"preempt_aware",	/* GIL_OPT_PREEMPT_AWARE */
	"prio_inherit",		/* GIL_OPT_PRIO_INHERIT */
};

static void gil_show_options(struct seq_file *m, u32 options)
{
	bool any = false;
	unsigned int i;

	BUILD_BUG_ON(BIT(ARRAY_SIZE(gil_option_names)) - 1 != GIL_OPTS_ALL);
	seq_puts(m, "options:\t");
	for (i = 0; i < ARRAY_SIZE(gil_option_names); i++) {
		if (!(options & BIT(i)))
			continue;
		seq_printf(m, "%s%s", any ? "," : "", gil_option_names[i]);
		any = true;
	}
	seq_puts(m, any ? "\n" : "-\n");
}

void gil_show_fdinfo(struct gil *gil, struct seq_file *m)
{
	struct pid_namespace *ns = proc_pid_ns(file_inode(m->file)->i_sb);
	struct gil_fdinfo_state s;
	struct gil_stats st;
	unsigned int i;

	gil_lock(gil);
	gil_stats_read_locked(gil, &st);
	s.locked = gil->locked;
	s.holder = gil->locked ? pid_nr_ns(gil->holder->pid, ns) : 0;
	s.holder_blocked = gil->locked && gil_holder_blocked(gil);
	s.nr_waiters = gil->nr_waiters;
	s.interval_us = gil->interval_us;
	s.policy = gil->policy;
	s.options = gil->options;
	gil_unlock(gil);

	seq_printf(m, "id:\t%llu\n", gil->id);
	seq_printf(m, "opener_pid:\t%d\n", pid_nr_ns(gil->opener, ns));
	seq_printf(m, "opener_comm:\t%s\n", gil->opener_comm);
	seq_printf(m, "locked:\t%d\n", s.locked);
	seq_printf(m, "holder:\t%d\n", s.holder);
	seq_printf(m, "holder_blocked:\t%d\n", s.holder_blocked);
	seq_printf(m, "nr_waiters:\t%u\n", s.nr_waiters);
	seq_printf(m, "threads:\t%lu\n", gil_nr_threads(gil));
	seq_printf(m, "interval_us:\t%lld\n", s.interval_us);
	seq_printf(m, "policy:\t%s\n", gil_policy_name(s.policy));
	gil_show_options(m, s.options);
	seq_printf(m, "acquisitions:\t%llu\n", st.acquisitions);
	seq_printf(m, "contended:\t%llu\n", st.contended);
	seq_printf(m, "drop_requests:\t%llu\n", st.drop_requests);
	seq_printf(m, "forced_switches:\t%llu\n", st.forced_switches);
	seq_printf(m, "voluntary_releases:\t%llu\n", st.voluntary_releases);
	seq_printf(m, "switch_number:\t%llu\n", st.switch_number);
	seq_printf(m, "owner_deaths:\t%llu\n", st.owner_deaths);
	seq_printf(m, "wait_ns:\t%llu\n", st.wait_ns);
	seq_printf(m, "direct_handoffs:\t%llu\n", st.direct_handoffs);
	seq_printf(m, "io_preemptions:\t%llu\n", st.io_preemptions);
	seq_printf(m, "preempt_extensions:\t%llu\n", st.preempt_extensions);
	seq_printf(m, "priority_boosts:\t%llu\n", st.priority_boosts);
	seq_printf(m, "blocked_requests:\t%llu\n", st.blocked_requests);
	seq_printf(m, "blocked_wait_ns:\t%llu\n", st.blocked_wait_ns);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		if (st.handoff_ns_hist[i])
			seq_printf(m, "handoff_ns_hist_%u:\t%llu\n", i,
				   st.handoff_ns_hist[i]);
}
