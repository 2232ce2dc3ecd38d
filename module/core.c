// SPDX-License-Identifier: GPL-2.0
/*
 * GIL object lifetime.
 */
#include <linux/atomic.h>
#include <linux/slab.h>

#include "gil.h"

static atomic64_t gil_next_id = ATOMIC64_INIT(0);
static atomic_long_t gil_live = ATOMIC_LONG_INIT(0);

/*
 * GIL objects are charged to the opener's memory cgroup: an unprivileged
 * user can create as many as its fd limit allows.
 */
struct gil *gil_create(void)
{
	struct gil *gil = kzalloc(sizeof(*gil), GFP_KERNEL_ACCOUNT);

	if (!gil)
		return NULL;
	gil->id = atomic64_inc_return(&gil_next_id);
	atomic_long_inc(&gil_live);
	return gil;
}

void gil_destroy(struct gil *gil)
{
	kfree(gil);
	atomic_long_dec(&gil_live);
}

/* Number of GIL objects alive now; used by the tests to detect leaks. */
long gil_live_count(void)
{
	return atomic_long_read(&gil_live);
}
