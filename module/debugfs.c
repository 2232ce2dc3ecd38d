// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/gil/<id>: one file per GIL, from its open to its
 * release, named by the id its trace events carry.  Reading it gives
 * "key value" lines:
 *
 *   id, opener_pid, opener_comm  the GIL and the process that opened it
 *   locked, holder               whether it is held, and by which tid (0:
 *                                none)
 *   nr_waiters, threads          threads waiting in ACQUIRE; attached
 *   interval_us                  the switch interval
 *   policy                       the handoff policy, by name
 *   acquisitions, ...,           the counters of struct gil_stats, in its
 *     io_preemptions             order, switch_number among them
 *   handoff_ns_hist_<i> n        a nonzero bucket of the handoff histogram:
 *                                n handoffs of [2^i, 2^(i+1)) ns
 *
 * The counters and the live state are one snapshot, under gil->lock.
 *
 * Lifetime: the file is removed in gil_destroy() before the GIL is freed,
 * and debugfs_remove() waits for reads in progress (the proxy fops of
 * debugfs_create_file()); a read after the removal fails with EIO.  So a
 * read sees a live GIL.
 *
 * Without debugfs (not built, or debugfs=off) nothing is created and the
 * module works as before.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "gil.h"

static struct dentry *gil_debugfs_root;

/* The state shown besides struct gil_stats, read with it. */
struct gil_debugfs_state {
	bool locked;
	pid_t holder;
	unsigned int nr_waiters;
	s64 interval_us;
	u32 policy;
};

static unsigned long gil_nr_threads(struct gil *gil)
{
	struct gil_thread *t;
	unsigned long tid, n = 0;

	xa_for_each(&gil->threads, tid, t)
		n++;
	return n;
}

static int gil_debugfs_show(struct seq_file *m, void *unused)
{
	struct gil *gil = m->private;
	struct gil_debugfs_state s;
	struct gil_stats st;
	unsigned long threads = gil_nr_threads(gil);
	unsigned int i;

	spin_lock(&gil->lock);
	gil_stats_read_locked(gil, &st);
	s.locked = gil->locked;
	s.holder = gil->locked ? gil->holder->tid : 0;
	s.nr_waiters = gil->nr_waiters;
	s.interval_us = gil->interval_us;
	s.policy = gil->policy;
	spin_unlock(&gil->lock);

	seq_printf(m, "id %llu\n", gil->id);
	seq_printf(m, "opener_pid %d\n", gil->opener_tgid);
	seq_printf(m, "opener_comm %s\n", gil->opener_comm);
	seq_printf(m, "locked %d\n", s.locked);
	seq_printf(m, "holder %d\n", s.holder);
	seq_printf(m, "nr_waiters %u\n", s.nr_waiters);
	seq_printf(m, "threads %lu\n", threads);
	seq_printf(m, "interval_us %lld\n", s.interval_us);
	seq_printf(m, "policy %s\n", gil_policy_name(s.policy));
	seq_printf(m, "acquisitions %llu\n", st.acquisitions);
	seq_printf(m, "contended %llu\n", st.contended);
	seq_printf(m, "drop_requests %llu\n", st.drop_requests);
	seq_printf(m, "forced_switches %llu\n", st.forced_switches);
	seq_printf(m, "voluntary_releases %llu\n", st.voluntary_releases);
	seq_printf(m, "switch_number %llu\n", st.switch_number);
	seq_printf(m, "owner_deaths %llu\n", st.owner_deaths);
	seq_printf(m, "wait_ns %llu\n", st.wait_ns);
	seq_printf(m, "direct_handoffs %llu\n", st.direct_handoffs);
	seq_printf(m, "io_preemptions %llu\n", st.io_preemptions);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		if (st.handoff_ns_hist[i])
			seq_printf(m, "handoff_ns_hist_%u %llu\n", i,
				   st.handoff_ns_hist[i]);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(gil_debugfs);

/* Module setup: /sys/kernel/debug/gil/.  Failing leaves it out, silently. */
void gil_debugfs_init(void)
{
	gil_debugfs_root = debugfs_create_dir("gil", NULL);
}

/* Module teardown, when no GIL is left to have a file in it. */
void gil_debugfs_exit(void)
{
	debugfs_remove(gil_debugfs_root);
	gil_debugfs_root = NULL;
}

/*
 * Called by gil_create().  GILs the KUnit suites create before module
 * setup get no file: with a NULL parent it would land in the debugfs root.
 */
void gil_debugfs_add(struct gil *gil)
{
	char name[24];

	if (IS_ERR_OR_NULL(gil_debugfs_root))
		return;
	snprintf(name, sizeof(name), "%llu", gil->id);
	gil->debugfs = debugfs_create_file(name, 0400, gil_debugfs_root, gil,
					   &gil_debugfs_fops);
}

/* Called by gil_destroy(); returns once no read of the file is running. */
void gil_debugfs_remove(struct gil *gil)
{
	debugfs_remove(gil->debugfs);
	gil->debugfs = NULL;
}
