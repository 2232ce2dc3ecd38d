// SPDX-License-Identifier: GPL-2.0
/*
 * Handoff policies (GIL_POLICY_*, uapi/linux/gil.h): who a release hands
 * the GIL to, and when a waiter asks for it at once.  lock.c consults them
 * under gil->lock; the rest of the algorithm is the same for every policy.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "gil.h"

static const char *const gil_policy_names[GIL_POLICY_COUNT] = {
	[GIL_POLICY_CPYTHON]	= "cpython",
	[GIL_POLICY_FIFO]	= "fifo",
	[GIL_POLICY_IO]		= "io",
};

const char *gil_policy_name(u32 policy)
{
	return policy < GIL_POLICY_COUNT ? gil_policy_names[policy] : "?";
}

/* The policy called @name (a trailing newline allowed), or -EINVAL. */
int gil_policy_from_name(const char *name)
{
	int i = sysfs_match_string(gil_policy_names, name);

	return i < 0 ? -EINVAL : i;
}

int gil_set_policy(struct gil *gil, u32 policy)
{
	if (policy >= GIL_POLICY_COUNT)
		return -EINVAL;
	/* The word's exchanges stop while io has a CPU-bound thread. */
	gil_lock(gil);
	WRITE_ONCE(gil->policy, policy);
	gil_page_sync(gil);
	gil_unlock(gil);
	return 0;
}

u32 gil_get_policy(struct gil *gil)
{
	return READ_ONCE(gil->policy);
}

/*
 * Does a release hand the GIL straight to a waiter (GIL_POLICY_FIFO,
 * GIL_POLICY_IO), or let the waiters compete for it (GIL_POLICY_CPYTHON)?
 */
bool gil_policy_hands_off(const struct gil *gil)
{
	return gil->policy != GIL_POLICY_CPYTHON;
}

/*
 * May a release that hands off give the GIL to @w?  lock.c asks of its
 * present waiters in arrival order: the first that may has waited longest.
 */
bool gil_policy_may_take(const struct gil *gil, const struct gil_thread *w)
{
	return gil->policy == GIL_POLICY_FIFO || !w->cpu_bound;
}

/*
 * Beazley's classification, kept under every policy (a policy may change
 * at any time): a release that answered a drop request makes its thread
 * CPU-bound, any other release I/O-bound (one through the word page too,
 * when the module knew the holder, word.c; a thread that took and released
 * through the word unseen keeps its class until a release the module
 * sees), and a record that goes is neither.  A thread that exits CPU-bound
 * counts until its record is reaped.
 */
void gil_classify(struct gil *gil, struct gil_thread *t, bool cpu_bound)
{
	lockdep_assert_held(&gil->lock);
	if (t->cpu_bound == cpu_bound)
		return;
	t->cpu_bound = cpu_bound;
	if (cpu_bound)
		gil->nr_cpu_bound++;
	else
		gil->nr_cpu_bound--;
}

/*
 * Must the module see the next release, for the policy's sake?  Under
 * GIL_POLICY_IO, while some thread is CPU-bound: that thread's next
 * release must be seen to reclassify it (word.c keeps the exchanges off).
 */
bool gil_policy_watches_releases(const struct gil *gil)
{
	return gil->policy == GIL_POLICY_IO && gil->nr_cpu_bound;
}

/*
 * GIL_POLICY_IO: an I/O-bound thread that finds the GIL held by a CPU-bound
 * one asks for it at once, not after an interval.
 */
bool gil_io_preempts(struct gil *gil, struct gil_thread *t)
{
	lockdep_assert_held(&gil->lock);
	return gil->policy == GIL_POLICY_IO && !t->cpu_bound &&
	       gil->holder->cpu_bound && !gil->drop_request;
}
