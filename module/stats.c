// SPDX-License-Identifier: GPL-2.0
/*
 * Statistics of a GIL, kept under gil->lock.
 */
#include <linux/log2.h>
#include <linux/minmax.h>

#include "gil.h"

static unsigned int gil_hist_bucket(s64 ns)
{
	if (ns <= 1)
		return 0;
	return min_t(unsigned int, ilog2(ns), GIL_STATS_HIST_BUCKETS - 1);
}

/*
 * Account an acquisition by @t, and tell the caller what it measured (for
 * the tracepoints).  For one that waited, @now is when it woke (read before
 * it took gil->lock), and the handoff latency runs from the last release
 * since it queued, one that found it waiting; a recovery by a call that
 * had no time has none and is left out of the histogram.
 */
void gil_stats_acquired(struct gil *gil, struct gil_thread *t, bool waited,
			ktime_t now, struct gil_acquire_times *times)
{
	struct gil_counters *c = &gil->stats;
	ktime_t handoff;

	times->wait_ns = 0;
	times->handoff_ns = -1;
	c->acquisitions++;
	if (!waited)
		return;
	times->wait_ns = ktime_to_ns(ktime_sub(now, t->wait_start));
	c->contended++;
	c->wait_ns += times->wait_ns;
	/*
	 * Both times are read before gil->lock is taken: a waiter that woke
	 * on its own (a timeout) just before the release may have read its
	 * clock first.  It was running when the GIL came free: 0.
	 */
	if (gil->releases != t->wait_releases && gil->released_at) {
		handoff = ktime_sub(now, gil->released_at);
		times->handoff_ns = max_t(s64, 0, ktime_to_ns(handoff));
		c->handoff_ns_hist[gil_hist_bucket(times->handoff_ns)]++;
	}
}

/*
 * The counters of what lock.c does, each counted where it happens (under
 * gil->lock); acquisitions are gil_stats_acquired()'s.
 */
void gil_stats_drop_request(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.drop_requests++;
}

void gil_stats_released(struct gil *gil, bool forced)
{
	lockdep_assert_held(&gil->lock);
	if (forced)
		gil->stats.forced_switches++;
	else
		gil->stats.voluntary_releases++;
}

void gil_stats_direct_handoff(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.direct_handoffs++;
}

void gil_stats_io_preemption(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.io_preemptions++;
}

void gil_stats_preempt_extension(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.preempt_extensions++;
}

void gil_stats_priority_boost(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.priority_boosts++;
}

void gil_stats_blocked_request(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.blocked_requests++;
}

void gil_stats_blocked_wait(struct gil *gil, ktime_t waited)
{
	lockdep_assert_held(&gil->lock);
	if (waited > 0)
		gil->stats.blocked_wait_ns += ktime_to_ns(waited);
}

void gil_stats_owner_death(struct gil *gil)
{
	lockdep_assert_held(&gil->lock);
	gil->stats.owner_deaths++;
}

/* The statistics as GIL_IOC_GET_STATS returns them. */
void gil_stats_read_locked(struct gil *gil, struct gil_stats *out)
	__must_hold(&gil->lock)
{
	struct gil_counters *c = &gil->stats;

	lockdep_assert_held(&gil->lock);
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->hist_buckets = GIL_STATS_HIST_BUCKETS;
	out->acquisitions = c->acquisitions;
	out->contended = c->contended;
	out->drop_requests = c->drop_requests;
	out->forced_switches = c->forced_switches;
	out->voluntary_releases = c->voluntary_releases;
	out->switch_number = gil->switch_number;
	out->owner_deaths = c->owner_deaths;
	out->wait_ns = c->wait_ns;
	memcpy(out->handoff_ns_hist, c->handoff_ns_hist,
	       sizeof(out->handoff_ns_hist));
	out->direct_handoffs = c->direct_handoffs;
	out->io_preemptions = c->io_preemptions;
	out->preempt_extensions = c->preempt_extensions;
	out->priority_boosts = c->priority_boosts;
	out->blocked_requests = c->blocked_requests;
	out->blocked_wait_ns = c->blocked_wait_ns;
	gil_word_stats(gil, out);
}

void gil_stats_read(struct gil *gil, struct gil_stats *out)
{
	spin_lock(&gil->lock);
	gil_stats_read_locked(gil, out);
	spin_unlock(&gil->lock);
}
