/* SPDX-License-Identifier: MIT */
/*
 * libgil internals: the backend interface and the objects behind the
 * public handles.
 */
#ifndef GIL_INTERNAL_H
#define GIL_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "gil.h"

/*
 * A backend.  The common code (gil.c) has already checked that the thread
 * state belongs to the calling thread and that the GIL is open; backends
 * check the GIL state (-EDEADLK, -EPERM, -EBUSY) themselves.
 *
 * @open: set up gil->backend_data and the eval-breaker word
 * @close: make every waiter and later call fail with -EBADF
 * @free: release what open set up; no thread uses the GIL any more
 * @fork_child: in a fork's child, let go of what open set up in the parent
 *	without touching the parent's GIL: memory may be freed, but a lock
 *	another thread held at fork() must not be used
 * @attach, @detach: bind the thread state to / unbind it from the caller
 * @tstate_size: bytes of backend data after struct gil_tstate
 * @acquire, @release, @yield: take_gil, drop_gil, and both
 * @set_interval, @get_interval: microseconds, already validated
 * @policy: the one policy of a backend without @set_policy
 * @set_policy, @get_policy: a backend with several (validated)
 * @set_options, @get_options: a backend with options (validated: no bit
 *	outside GIL_OPTS_ALL); NULL for one without, whose options are 0
 * @get_stats: fill every field of struct gil_stats
 * @get_abi: the kernel module's ABI version; NULL for the other backends
 */
struct gil_ops {
	const char *name;
	size_t tstate_size;
	int (*open)(struct gil *gil);
	void (*close)(struct gil *gil);
	void (*free)(struct gil *gil);
	void (*fork_child)(struct gil *gil);
	int (*attach)(struct gil_tstate *ts);
	int (*detach)(struct gil_tstate *ts);
	int (*acquire)(struct gil_tstate *ts);
	int (*release)(struct gil_tstate *ts);
	int (*yield)(struct gil_tstate *ts);
	int (*set_interval)(struct gil *gil, int64_t interval_us);
	int64_t (*get_interval)(struct gil *gil);
	unsigned int policy;
	int (*set_policy)(struct gil *gil, unsigned int policy);
	int (*get_policy)(struct gil *gil);
	int (*set_options)(struct gil *gil, unsigned int options);
	int (*get_options)(struct gil *gil, unsigned int *options);
	int (*get_stats)(struct gil *gil, struct gil_stats *stats);
	int (*get_abi)(struct gil *gil, unsigned int *major,
		       unsigned int *minor);
};

extern const struct gil_ops gil_kernel_ops;
extern const struct gil_ops gil_cpython_ops;
extern const struct gil_ops gil_futex_ops;

/*
 * @refs: one for the open handle, one per thread state; the memory goes
 *	with the last
 * @closed: gil_close() was called
 * @lock: protects @tstates
 * @tstates: every thread state of this GIL
 * @eval_breaker: where the backend publishes drop requests
 * @pending_word: the same word when the process may write it, for
 *	GIL_EVAL_BREAKER_PENDING; NULL if it may not (a kernel module before
 *	ABI 2.2)
 * @backend_data: the backend's own state
 */
struct gil {
	const struct gil_ops *ops;
	enum gil_backend backend;
	atomic_int refs;
	atomic_bool closed;
	pthread_mutex_t lock;
	struct gil_tstate *tstates;
	const uint32_t *eval_breaker;
	uint32_t *pending_word;
	void *backend_data;
};

/*
 * @head: must come first (gil_check reads it inline)
 * @attached: bound to the thread @owner
 * @holds: the thread holds the GIL (kept by gil.c from the results)
 * @ensure_count: gil_ensure nesting
 * @ensure_created: gil_ensure created this thread state
 * @next: in gil->tstates
 * @backend: the backend's per-thread data (ops->tstate_size bytes)
 */
struct gil_tstate {
	struct gil_tstate_head head;
	struct gil *gil;
	bool attached;
	bool holds;
	pthread_t owner;
	int ensure_count;
	bool ensure_created;
	struct gil_tstate *next;
	_Alignas(64) unsigned char backend[];
};

/* Shared by the userspace backends: the histogram bucket of a latency. */
unsigned int gil_hist_bucket(int64_t ns);

#endif /* GIL_INTERNAL_H */
