// SPDX-License-Identifier: MIT
/*
 * The "cpython" backend: CPython 3.12's Python/ceval_gil.c (take_gil,
 * drop_gil, FORCE_SWITCHING) ported to plain pthreads, to measure the
 * kernel GIL and the futex GIL against.
 *
 * As in CPython:
 *  - gil->mutex protects locked, last_holder, switch_number; gil->cond is
 *    where acquirers wait, pthread_cond_signal'led (one waiter) on release;
 *  - an acquirer takes a free GIL at once, ahead of any sleeping waiter;
 *  - a waiter sleeps for the switch interval on CLOCK_MONOTONIC, with the
 *    deadline recomputed on every iteration (the interval restarts after
 *    every wake-up), and posts the drop request only if the wait timed
 *    out, the GIL is still locked and switch_number did not change during
 *    this wait;
 *  - one drop request per GIL (3.12's gil_drop_request, mirrored in the
 *    eval-breaker word that gil_check() polls);
 *  - switch_number grows only when the holder changes; the acquirer sets
 *    last_holder under switch_mutex (lock order mutex -> switch_mutex) and
 *    signals switch_cond, then clears the drop request;
 *  - FORCE_SWITCHING: a release with a drop request pending clears it and
 *    waits on switch_cond until last_holder is no longer the releaser.
 *
 * Where this port differs, each time as the kernel backend does:
 *  - whether a release is forced is decided under the mutex, at the
 *    moment of the release (CPython reads the flag just after unlocking);
 *  - the forced releaser's wait is a predicate loop (CPython's single
 *    COND_WAIT returns on a spurious wake-up) that also ends when no
 *    thread waits any more or the GIL is closed, where CPython's untimed
 *    wait can hang (gh-96387);
 *  - gil_close() wakes every waiter with -EBADF; a waiter that leaves
 *    without the GIL passes on the wake-up it may have consumed and, if it
 *    was the last one, retracts its request and wakes a forced releaser;
 *  - detaching the last holder forgets it, so the next acquisition counts
 *    as a change of owner (the kernel drops its thread record);
 *  - errors instead of Py_FatalError: -EDEADLK, -EPERM, -EBADF.
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

struct cpython_gil {
	pthread_mutex_t mutex;		/* CPython's gil->mutex */
	pthread_cond_t cond;		/* gil->cond */
	pthread_mutex_t switch_mutex;	/* gil->switch_mutex */
	pthread_cond_t switch_cond;	/* gil->switch_cond */

	/*
	 * Under mutex; last_holder is written under both mutexes, so it can
	 * be read under either.
	 */
	int locked;
	struct gil_tstate *last_holder;
	uint64_t switch_number;
	int64_t released_at;		/* ns, CLOCK_MONOTONIC */

	/* Atomics: read where only one of the two mutexes is held. */
	int64_t interval_us;
	uint32_t drop_request;		/* 3.12's gil_drop_request */
	unsigned int nr_waiters;	/* threads in the wait loop of take */
	uint32_t closed;

	/* Under mutex. */
	struct gil_stats stats;

	/* The eval breaker, on a cache line of its own: the holder polls it. */
	_Alignas(64) uint32_t eval_breaker;
	unsigned char pad[60];
};

static struct cpython_gil *cgil(struct gil *gil)
{
	struct cpython_gil *c = gil->backend_data;

	/* Never NULL; saying so spares GCC 12 a false -Wstringop-overflow. */
	if (!c)
		__builtin_unreachable();
	return c;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* SET_GIL_DROP_REQUEST; called with mutex held. */
static void set_drop_request(struct cpython_gil *c)
{
	__atomic_store_n(&c->drop_request, 1, __ATOMIC_RELAXED);
	__atomic_fetch_or(&c->eval_breaker, GIL_EVAL_BREAKER_DROP_REQUEST,
			  __ATOMIC_RELAXED);
	c->stats.drop_requests++;
}

/* RESET_GIL_DROP_REQUEST; with mutex held, or switch_mutex (drop_gil). */
static void reset_drop_request(struct cpython_gil *c)
{
	__atomic_store_n(&c->drop_request, 0, __ATOMIC_RELAXED);
	__atomic_fetch_and(&c->eval_breaker, ~GIL_EVAL_BREAKER_DROP_REQUEST,
			   __ATOMIC_RELAXED);
}

static bool drop_requested(struct cpython_gil *c)
{
	return __atomic_load_n(&c->drop_request, __ATOMIC_RELAXED);
}

static bool is_closed(struct cpython_gil *c)
{
	return __atomic_load_n(&c->closed, __ATOMIC_RELAXED);
}

static int cpython_open(struct gil *gil)
{
	struct cpython_gil *c;
	pthread_condattr_t attr;
	int ret;

	if (posix_memalign((void **)&c, 64, sizeof(*c)))
		return -ENOMEM;
	*c = (struct cpython_gil){ .interval_us = GIL_INTERVAL_DEFAULT_US };
	ret = pthread_condattr_init(&attr);
	if (ret)
		goto err_free;
	ret = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (ret)
		goto err_attr;
	ret = pthread_mutex_init(&c->mutex, NULL);
	if (ret)
		goto err_attr;
	ret = pthread_cond_init(&c->cond, &attr);
	if (ret)
		goto err_mutex;
	ret = pthread_mutex_init(&c->switch_mutex, NULL);
	if (ret)
		goto err_cond;
	ret = pthread_cond_init(&c->switch_cond, NULL);
	if (ret)
		goto err_switch_mutex;
	pthread_condattr_destroy(&attr);
	gil->backend_data = c;
	gil->eval_breaker = &c->eval_breaker;
	gil->pending_word = &c->eval_breaker;
	return 0;

err_switch_mutex:
	pthread_mutex_destroy(&c->switch_mutex);
err_cond:
	pthread_cond_destroy(&c->cond);
err_mutex:
	pthread_mutex_destroy(&c->mutex);
err_attr:
	pthread_condattr_destroy(&attr);
err_free:
	free(c);
	return -ret;
}

/* Wake everyone: waiters in take, and a forced releaser in its switch wait. */
static void cpython_close(struct gil *gil)
{
	struct cpython_gil *c = cgil(gil);

	pthread_mutex_lock(&c->mutex);
	__atomic_store_n(&c->closed, 1, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->mutex);

	pthread_mutex_lock(&c->switch_mutex);
	pthread_cond_broadcast(&c->switch_cond);
	pthread_mutex_unlock(&c->switch_mutex);
}

static void cpython_free(struct gil *gil)
{
	struct cpython_gil *c = cgil(gil);

	pthread_cond_destroy(&c->switch_cond);
	pthread_mutex_destroy(&c->switch_mutex);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->mutex);
	free(c);
}

/* Its mutexes may be held by threads the child does not have: no destroy. */
static void cpython_fork_child(struct gil *gil)
{
	free(cgil(gil));
}

/* Nothing to record: gil.c keeps the binding of thread state to thread. */
static int cpython_attach(struct gil_tstate *ts)
{
	(void)ts;
	return 0;
}

/* Forget a detaching last holder: the next acquirer is a change of owner. */
static int cpython_detach(struct gil_tstate *ts)
{
	struct cpython_gil *c = cgil(ts->gil);

	pthread_mutex_lock(&c->mutex);
	if (c->last_holder == ts) {
		pthread_mutex_lock(&c->switch_mutex);
		c->last_holder = NULL;
		pthread_mutex_unlock(&c->switch_mutex);
	}
	pthread_mutex_unlock(&c->mutex);
	return 0;
}

static bool holds(struct cpython_gil *c, struct gil_tstate *ts)
{
	return c->locked && c->last_holder == ts;
}

/* take_gil() */
static int cpython_acquire(struct gil_tstate *ts)
{
	struct cpython_gil *c = cgil(ts->gil);
	bool waited = false, requested = false;
	int64_t wait_start = 0, now;
	int ret = 0;

	pthread_mutex_lock(&c->mutex);
	if (is_closed(c)) {
		ret = -EBADF;
		goto out;
	}
	if (holds(c, ts)) {
		ret = -EDEADLK;
		goto out;
	}
	while (c->locked) {
		uint64_t saved_switchnum = c->switch_number;
		int64_t interval = __atomic_load_n(&c->interval_us,
						   __ATOMIC_RELAXED);
		struct timespec deadline;
		bool timed_out;

		if (!waited) {
			waited = true;
			wait_start = now_ns();
			__atomic_store_n(&c->nr_waiters, c->nr_waiters + 1,
					 __ATOMIC_RELAXED);
		}
		/* COND_TIMED_WAIT: a fresh deadline for every wait. */
		if (interval < 1)
			interval = 1;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += interval / 1000000;
		deadline.tv_nsec += (interval % 1000000) * 1000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		timed_out = pthread_cond_timedwait(&c->cond, &c->mutex,
						   &deadline) == ETIMEDOUT;
		if (is_closed(c)) {
			ret = -EBADF;
			break;
		}
		/* Ask only if no one else got the GIL during this wait. */
		if (timed_out && c->locked &&
		    c->switch_number == saved_switchnum) {
			set_drop_request(c);
			requested = true;
		}
	}
	if (ret) {
		/* Leaving without the GIL. */
		if (waited)
			__atomic_store_n(&c->nr_waiters, c->nr_waiters - 1,
					 __ATOMIC_RELAXED);
		if (!c->locked)
			pthread_cond_signal(&c->cond);	/* pass it on */
		if (!c->nr_waiters) {
			/* No one is left to take over (gh-96387). */
			if (requested)
				reset_drop_request(c);
			pthread_mutex_lock(&c->switch_mutex);
			pthread_cond_broadcast(&c->switch_cond);
			pthread_mutex_unlock(&c->switch_mutex);
		}
		goto out;
	}

	/* _ready: this must be done under switch_mutex, see drop_gil. */
	pthread_mutex_lock(&c->switch_mutex);
	c->locked = 1;
	if (c->last_holder != ts) {
		c->last_holder = ts;
		c->switch_number++;
	}
	pthread_cond_signal(&c->switch_cond);
	pthread_mutex_unlock(&c->switch_mutex);
	/* Only now: a forced releaser must see the switch, not 0 waiters. */
	if (waited)
		__atomic_store_n(&c->nr_waiters, c->nr_waiters - 1,
				 __ATOMIC_RELAXED);

	if (drop_requested(c))
		reset_drop_request(c);

	c->stats.acquisitions++;
	if (waited) {
		now = now_ns();
		c->stats.contended++;
		c->stats.wait_ns += (uint64_t)(now - wait_start);
		if (c->released_at > wait_start)
			c->stats.handoff_ns_hist[gil_hist_bucket(
				now - c->released_at)]++;
	}
out:
	pthread_mutex_unlock(&c->mutex);
	return ret;
}

/* drop_gil() */
static int cpython_release(struct gil_tstate *ts)
{
	struct cpython_gil *c = cgil(ts->gil);
	bool forced;

	pthread_mutex_lock(&c->mutex);
	if (!holds(c, ts)) {
		pthread_mutex_unlock(&c->mutex);
		return -EPERM;
	}
	c->locked = 0;
	c->released_at = now_ns();
	forced = drop_requested(c);
	if (forced)
		c->stats.forced_switches++;
	else
		c->stats.voluntary_releases++;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->mutex);

	if (!forced)
		return 0;

	/* FORCE_SWITCHING */
	pthread_mutex_lock(&c->switch_mutex);
	if (c->last_holder == ts) {	/* not switched yet => wait */
		reset_drop_request(c);
		while (c->last_holder == ts &&
		       __atomic_load_n(&c->nr_waiters, __ATOMIC_RELAXED) &&
		       !is_closed(c))
			pthread_cond_wait(&c->switch_cond, &c->switch_mutex);
	}
	pthread_mutex_unlock(&c->switch_mutex);
	return 0;
}

/* The drop-request answer of _Py_HandlePending: drop_gil, then take_gil. */
static int cpython_yield(struct gil_tstate *ts)
{
	int ret = cpython_release(ts);

	return ret ? ret : cpython_acquire(ts);
}

static int cpython_set_interval(struct gil *gil, int64_t interval_us)
{
	__atomic_store_n(&cgil(gil)->interval_us, interval_us, __ATOMIC_RELAXED);
	return 0;
}

static int64_t cpython_get_interval(struct gil *gil)
{
	return __atomic_load_n(&cgil(gil)->interval_us, __ATOMIC_RELAXED);
}

static int cpython_get_stats(struct gil *gil, struct gil_stats *stats)
{
	struct cpython_gil *c = cgil(gil);

	pthread_mutex_lock(&c->mutex);
	*stats = c->stats;
	stats->switch_number = c->switch_number;
	pthread_mutex_unlock(&c->mutex);
	stats->size = sizeof(*stats);
	stats->hist_buckets = GIL_STATS_HIST_BUCKETS;
	stats->owner_deaths = 0;
	return 0;
}

const struct gil_ops gil_cpython_ops = {
	.name = "cpython",
	.tstate_size = 0,
	.open = cpython_open,
	.close = cpython_close,
	.free = cpython_free,
	.fork_child = cpython_fork_child,
	.attach = cpython_attach,
	.detach = cpython_detach,
	.acquire = cpython_acquire,
	.release = cpython_release,
	.yield = cpython_yield,
	.set_interval = cpython_set_interval,
	.policy = GIL_POLICY_CPYTHON,
	.get_interval = cpython_get_interval,
	.get_stats = cpython_get_stats,
};
