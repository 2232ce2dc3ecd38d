// SPDX-License-Identifier: MIT
/*
 * libgil: what every backend shares.  GIL and thread-state lifetime,
 * ownership checks, gil_ensure, the switch interval's validation, policy
 * names.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const struct gil_ops *const gil_backends[] = {
	[GIL_BACKEND_KERNEL] = &gil_kernel_ops,
	[GIL_BACKEND_CPYTHON] = &gil_cpython_ops,
	[GIL_BACKEND_FUTEX] = &gil_futex_ops,
};

#define NR_BACKENDS (sizeof(gil_backends) / sizeof(gil_backends[0]))

const char *gil_backend_name(enum gil_backend backend)
{
	if (backend <= GIL_BACKEND_DEFAULT || (size_t)backend >= NR_BACKENDS)
		return NULL;
	return gil_backends[backend]->name;
}

int gil_backend_from_name(const char *name)
{
	for (size_t b = GIL_BACKEND_KERNEL; b < NR_BACKENDS; b++)
		if (name && !strcmp(name, gil_backends[b]->name))
			return (int)b;
	return -EINVAL;
}

enum gil_backend gil_backend(const struct gil *gil)
{
	return gil->backend;
}

int gil_version_major(void)
{
	return GIL_VERSION_MAJOR;
}

int gil_version_minor(void)
{
	return GIL_VERSION_MINOR;
}

int gil_check_version(int major, int minor)
{
	return major == GIL_VERSION_MAJOR && minor <= GIL_VERSION_MINOR ?
	       0 : -ENOTSUP;
}

int gil_open(struct gil **gilp, enum gil_backend backend)
{
	struct gil *gil;
	int ret;

	if (backend == GIL_BACKEND_DEFAULT) {
		const char *env = getenv("GIL_BACKEND");

		ret = env ? gil_backend_from_name(env) : GIL_BACKEND_KERNEL;
		if (ret < 0)
			return ret;
		backend = (enum gil_backend)ret;
	}
	if (!gil_backend_name(backend))
		return -EINVAL;

	gil = calloc(1, sizeof(*gil));
	if (!gil)
		return -ENOMEM;
	gil->ops = gil_backends[backend];
	gil->backend = backend;
	atomic_init(&gil->refs, 1);
	atomic_init(&gil->closed, false);
	pthread_mutex_init(&gil->lock, NULL);
	ret = gil->ops->open(gil);
	if (ret) {
		pthread_mutex_destroy(&gil->lock);
		free(gil);
		return ret;
	}
	*gilp = gil;
	return 0;
}

static void gil_put(struct gil *gil)
{
	if (atomic_fetch_sub(&gil->refs, 1) != 1)
		return;
	gil->ops->free(gil);
	pthread_mutex_destroy(&gil->lock);
	free(gil);
}

int gil_close(struct gil *gil)
{
	if (atomic_exchange(&gil->closed, true))
		return -EBADF;
	gil->ops->close(gil);
	gil_put(gil);
	return 0;
}

static bool gil_closed(const struct gil *gil)
{
	return atomic_load_explicit(&gil->closed, memory_order_relaxed);
}

int gil_kernel_abi(struct gil *gil, unsigned int *major, unsigned int *minor)
{
	if (gil_closed(gil))
		return -EBADF;
	if (!gil->ops->get_abi)
		return -EOPNOTSUPP;
	return gil->ops->get_abi(gil, major, minor);
}

int gil_tstate_new(struct gil *gil, struct gil_tstate **tsp)
{
	size_t size = sizeof(struct gil_tstate) + gil->ops->tstate_size;
	struct gil_tstate *ts;

	if (gil_closed(gil))
		return -EBADF;
	/* Cache-line aligned: the backends' per-thread words do not share. */
	size = (size + 63) & ~(size_t)63;
	ts = aligned_alloc(64, size);
	if (!ts)
		return -ENOMEM;
	memset(ts, 0, size);
	ts->head.eval_breaker = gil->eval_breaker;
	ts->gil = gil;
	atomic_fetch_add(&gil->refs, 1);
	pthread_mutex_lock(&gil->lock);
	ts->next = gil->tstates;
	gil->tstates = ts;
	pthread_mutex_unlock(&gil->lock);
	*tsp = ts;
	return 0;
}

/* The thread state the calling thread has attached to @gil, if any. */
static struct gil_tstate *gil_current_tstate(struct gil *gil)
{
	pthread_t self = pthread_self();
	struct gil_tstate *ts;

	for (ts = gil->tstates; ts; ts = ts->next)
		if (ts->attached && pthread_equal(ts->owner, self))
			return ts;
	return NULL;
}

struct gil_tstate *gil_tstate_current(struct gil *gil)
{
	struct gil_tstate *ts;

	if (gil_closed(gil))
		return NULL;
	pthread_mutex_lock(&gil->lock);
	ts = gil_current_tstate(gil);
	pthread_mutex_unlock(&gil->lock);
	return ts;
}

/* Only the calling thread changes its own thread state's @holds. */
bool gil_held(struct gil *gil)
{
	struct gil_tstate *ts = gil_tstate_current(gil);

	return ts && ts->holds;
}

int gil_tstate_attach(struct gil_tstate *ts)
{
	struct gil *gil = ts->gil;
	int ret;

	if (gil_closed(gil))
		return -EBADF;
	pthread_mutex_lock(&gil->lock);
	if (ts->attached) {
		ret = -EBUSY;
	} else if (gil_current_tstate(gil)) {
		ret = -EEXIST;
	} else {
		ret = gil->ops->attach(ts);
		if (!ret) {
			ts->owner = pthread_self();
			ts->attached = true;
		}
	}
	pthread_mutex_unlock(&gil->lock);
	return ret;
}

/* Calls on a thread state: the GIL is open, the caller is its thread. */
static int gil_tstate_check(const struct gil_tstate *ts)
{
	if (gil_closed(ts->gil))
		return -EBADF;
	if (!ts->attached)
		return -EUNATCH;
	if (!pthread_equal(ts->owner, pthread_self()))
		return -EPERM;
	return 0;
}

int gil_tstate_detach(struct gil_tstate *ts)
{
	struct gil *gil = ts->gil;
	int ret = gil_tstate_check(ts);

	if (ret)
		return ret;
	if (ts->holds)
		return -EBUSY;
	pthread_mutex_lock(&gil->lock);
	ret = gil->ops->detach(ts);
	if (!ret)
		ts->attached = false;
	pthread_mutex_unlock(&gil->lock);
	return ret;
}

/* After gil_close() a thread state can always be freed. */
int gil_tstate_free(struct gil_tstate *ts)
{
	struct gil *gil = ts->gil;
	struct gil_tstate **p;

	if (ts->attached && !gil_closed(gil))
		return -EBUSY;
	pthread_mutex_lock(&gil->lock);
	for (p = &gil->tstates; *p != ts; p = &(*p)->next)
		;
	*p = ts->next;
	pthread_mutex_unlock(&gil->lock);
	free(ts);
	gil_put(gil);
	return 0;
}

int gil_acquire(struct gil_tstate *ts)
{
	int ret = gil_tstate_check(ts);

	if (ret)
		return ret;
	ret = ts->gil->ops->acquire(ts);
	if (!ret || ret == -EOWNERDEAD)
		ts->holds = true;
	return ret;
}

int gil_release(struct gil_tstate *ts)
{
	int ret = gil_tstate_check(ts);

	if (ret)
		return ret;
	ret = ts->gil->ops->release(ts);
	if (!ret)
		ts->holds = false;
	return ret;
}

int gil_yield(struct gil_tstate *ts)
{
	int ret = gil_tstate_check(ts);

	if (ret)
		return ret;
	ret = ts->gil->ops->yield(ts);
	if (!ret || ret == -EOWNERDEAD)
		ts->holds = true;
	else if (ret != -EPERM)
		ts->holds = false;	/* released, then failed to take again */
	return ret;
}

int gil_ensure(struct gil *gil)
{
	struct gil_tstate *ts;
	int ret;

	if (gil_closed(gil))
		return -EBADF;
	pthread_mutex_lock(&gil->lock);
	ts = gil_current_tstate(gil);
	pthread_mutex_unlock(&gil->lock);
	if (!ts) {
		ret = gil_tstate_new(gil, &ts);
		if (ret)
			return ret;
		ret = gil_tstate_attach(ts);
		if (ret) {
			gil_tstate_free(ts);
			return ret;
		}
		ts->ensure_created = true;
	}
	if (ts->holds) {
		ts->ensure_count++;
		return GIL_ENSURE_LOCKED;
	}
	ret = gil_acquire(ts);
	if (ret && ret != -EOWNERDEAD) {
		if (ts->ensure_created && !ts->ensure_count) {
			gil_tstate_detach(ts);
			gil_tstate_free(ts);
		}
		return ret;
	}
	ts->ensure_count++;
	return GIL_ENSURE_UNLOCKED;
}

int gil_ensure_release(struct gil *gil, enum gil_ensure_state state)
{
	struct gil_tstate *ts;
	int ret = 0;

	pthread_mutex_lock(&gil->lock);
	ts = gil_current_tstate(gil);
	pthread_mutex_unlock(&gil->lock);
	if (!ts || !ts->ensure_count)
		return gil_closed(gil) ? -EBADF : -EINVAL;
	if (!gil_closed(gil) && !ts->holds)
		return -EPERM;
	ts->ensure_count--;
	if (gil_closed(gil)) {
		/* Nothing to release any more, but what gil_ensure made goes. */
		if (!ts->ensure_count && ts->ensure_created)
			gil_tstate_free(ts);
		return -EBADF;
	}
	if (!ts->ensure_count && ts->ensure_created) {
		/* The thread state gil_ensure made goes, and the GIL with it. */
		ret = gil_release(ts);
		if (!ret)
			ret = gil_tstate_detach(ts);
		if (!ret)
			ret = gil_tstate_free(ts);
	} else if (state == GIL_ENSURE_UNLOCKED) {
		ret = gil_release(ts);
	}
	return ret;
}

const uint32_t *gil_eval_breaker(struct gil *gil)
{
	return gil->eval_breaker;
}

/* No lock, no system call: these run in signal handlers. */
int gil_set_pending(struct gil *gil)
{
	if (gil_closed(gil))
		return -EBADF;
	if (!gil->pending_word)
		return -EOPNOTSUPP;
	__atomic_fetch_or(gil->pending_word, GIL_EVAL_BREAKER_PENDING,
			  __ATOMIC_RELAXED);
	return 0;
}

int gil_clear_pending(struct gil *gil)
{
	if (gil_closed(gil))
		return -EBADF;
	if (!gil->pending_word)
		return -EOPNOTSUPP;
	__atomic_fetch_and(gil->pending_word, ~GIL_EVAL_BREAKER_PENDING,
			   __ATOMIC_RELAXED);
	return 0;
}

/*
 * The GIL as the parent left it is unusable here: its lock and the
 * backend's may be held by threads the child does not have, and the kernel
 * backend's descriptor is the parent's GIL.  So everything but the thread
 * states' memory starts again.
 */
int gil_after_fork_child(struct gil_tstate *ts)
{
	struct gil *gil = ts->gil;
	int64_t interval_us;
	struct gil_tstate *t;
	bool held = ts->holds;
	unsigned int options;
	int policy, ret;

	if (gil_closed(gil))
		return -EBADF;
	if (!ts->attached || !pthread_equal(ts->owner, pthread_self()))
		return -EPERM;
	interval_us = gil->ops->get_interval(gil);
	policy = gil_get_policy(gil);
	ret = gil_get_options(gil, &options);
	if (ret)
		return ret;
	pthread_mutex_init(&gil->lock, NULL);
	gil->ops->fork_child(gil);
	for (t = gil->tstates; t; t = t->next) {
		t->attached = false;
		t->holds = false;
	}
	gil->pending_word = NULL;
	ret = gil->ops->open(gil);
	if (ret)
		return ret;
	for (t = gil->tstates; t; t = t->next)
		t->head.eval_breaker = gil->eval_breaker;
	ret = gil->ops->set_interval(gil, interval_us);
	if (!ret && gil->ops->set_policy)
		ret = gil->ops->set_policy(gil, (unsigned int)policy);
	if (!ret && options)	/* a new GIL has none */
		ret = gil->ops->set_options(gil, options);
	if (!ret)
		ret = gil->ops->attach(ts);
	if (ret)
		return ret;
	ts->attached = true;
	if (!held)
		return 0;
	ret = gil->ops->acquire(ts);
	if (!ret)
		ts->holds = true;
	return ret;
}

int gil_set_switch_interval(struct gil *gil, double seconds)
{
	double us = seconds * 1e6;

	if (gil_closed(gil))
		return -EBADF;
	if (!(seconds > 0.0))
		return -EINVAL;
	if (us > (double)GIL_INTERVAL_MAX_US)
		return -ERANGE;
	/* CPython stores 0 for less than 1 us and waits 1 us; store that. */
	return gil->ops->set_interval(gil, us < 1.0 ? 1 : (int64_t)us);
}

int gil_get_switch_interval(struct gil *gil, double *seconds)
{
	if (gil_closed(gil))
		return -EBADF;
	*seconds = (double)gil->ops->get_interval(gil) * 1e-6;
	return 0;
}

static const char *const gil_policies[GIL_POLICY_COUNT] = {
	[GIL_POLICY_CPYTHON] = "cpython",
	[GIL_POLICY_FIFO] = "fifo",
	[GIL_POLICY_IO] = "io",
};

const char *gil_policy_name(unsigned int policy)
{
	return policy < GIL_POLICY_COUNT ? gil_policies[policy] : NULL;
}

int gil_policy_from_name(const char *name)
{
	for (unsigned int p = 0; p < GIL_POLICY_COUNT; p++)
		if (name && !strcmp(name, gil_policies[p]))
			return (int)p;
	return -EINVAL;
}

int gil_set_policy(struct gil *gil, unsigned int policy)
{
	if (gil_closed(gil))
		return -EBADF;
	if (policy >= GIL_POLICY_COUNT)
		return -EINVAL;
	if (gil->ops->set_policy)
		return gil->ops->set_policy(gil, policy);
	return policy == gil->ops->policy ? 0 : -EOPNOTSUPP;
}

int gil_get_policy(struct gil *gil)
{
	if (gil_closed(gil))
		return -EBADF;
	if (gil->ops->get_policy)
		return gil->ops->get_policy(gil);
	return (int)gil->ops->policy;
}

/* Unknown bits first, so that every backend fails alike. */
int gil_set_options(struct gil *gil, unsigned int options)
{
	if (gil_closed(gil))
		return -EBADF;
	if (options & ~GIL_OPTS_ALL)
		return -EINVAL;
	if (gil->ops->set_options)
		return gil->ops->set_options(gil, options);
	return options ? -EOPNOTSUPP : 0;
}

int gil_get_options(struct gil *gil, unsigned int *options)
{
	if (gil_closed(gil))
		return -EBADF;
	if (gil->ops->get_options)
		return gil->ops->get_options(gil, options);
	*options = 0;
	return 0;
}

int gil_get_stats(struct gil *gil, struct gil_stats *stats)
{
	if (gil_closed(gil))
		return -EBADF;
	memset(stats, 0, sizeof(*stats));
	return gil->ops->get_stats(gil, stats);
}

unsigned int gil_hist_bucket(int64_t ns)
{
	unsigned int b = 0;

	while (ns > 1 && b < GIL_STATS_HIST_BUCKETS - 1) {
		ns >>= 1;
		b++;
	}
	return b;
}
