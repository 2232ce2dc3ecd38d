/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: agents, kernel threads standing in for Python threads, for the
 * suites that drive the GIL algorithm through the module's internal
 * interface (lock_test.c, signal_test.c, policy_test.c, interval_test.c).
 *
 * Each case gets its own GIL from gil_create() (no chardev is involved)
 * and a set of agents: kernel threads attached to that GIL which run one
 * operation at a time on the case's request and record its result and the
 * GIL's state right after it returned.  The case itself never takes the
 * GIL, so it may fail an assertion at any point: the exit hook tells every
 * agent to stop (an agent holding the GIL releases it, so waiters finish),
 * waits for them and destroys the GIL.  An agent still blocked after a
 * generous delay fails the case, and its GIL is leaked rather than freed
 * under it.
 *
 * Timing bounds are generous: the suites run under QEMU TCG with KASAN and
 * lockdep, ten to a hundred times slower than hardware.  Lower bounds are
 * exact: an hrtimer never fires early.
 */
#ifndef _GIL_KUNIT_AGENT_H
#define _GIL_KUNIT_AGENT_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/wait.h>

#include "gil.h"

#define GIL_LT_MAX_AGENTS	8
/* Bound on an operation that must not block for long. */
#define GIL_LT_OP_MS		10000

/**
 * enum gil_lt_op - what an agent runs when the case posts it
 * @GIL_LT_TAKE: gil_take()
 * @GIL_LT_DROP: gil_drop()
 * @GIL_LT_YIELD: gil_yield()
 * @GIL_LT_DROP_TAKE: gil_drop(), then at once gil_take()
 * @GIL_LT_FN: a function of the case
 * @GIL_LT_EXIT_HOLDING: exit without releasing the GIL
 */
enum gil_lt_op {
	GIL_LT_TAKE = 1,
	GIL_LT_DROP,
	GIL_LT_YIELD,
	GIL_LT_DROP_TAKE,
	GIL_LT_FN,
	GIL_LT_EXIT_HOLDING,
};

/* The GIL's state, read under gil->lock. */
struct gil_lt_snap {
	bool locked;
	bool held;		/* by the agent that took the snapshot */
	bool drop_request;
	u32 eval_breaker;
	struct gil_thread *holder;
	u64 switch_number;
};

struct gil_lt_ctx;

/**
 * struct gil_lt_agent - a kernel thread attached to the GIL
 * @ctx: the case
 * @name: for messages
 * @task: the thread (a reference is held)
 * @t: its thread state, with a reference
 * @wq: both directions of the handshake with the case wait here
 * @posted: operations posted by the case (the attach counts as the first)
 * @done: operations finished by the agent
 * @op: the operation posted last
 * @fn: for GIL_LT_FN, with @arg
 * @arg: argument of @fn
 * @ret: result of the last operation (of the take, for GIL_LT_DROP_TAKE)
 * @ret_drop: for GIL_LT_DROP_TAKE, the result of the drop
 * @why: set by @fn when it returns an error
 * @start: when the last operation started
 * @end: when it returned
 * @mid: for GIL_LT_DROP_TAKE, the state between the drop and the take
 * @after: the state right after the last operation returned
 * @exited: completed by the thread as it exits
 * @exit_time: when it exited
 * @reaped: the case has waited for @exited
 */
struct gil_lt_agent {
	struct gil_lt_ctx *ctx;
	char name[16];
	struct task_struct *task;
	struct gil_thread *t;
	wait_queue_head_t wq;
	unsigned int posted;
	unsigned int done;
	enum gil_lt_op op;
	int (*fn)(struct gil_lt_agent *a, void *arg);
	void *arg;
	int ret;
	int ret_drop;
	const char *why;
	ktime_t start;
	ktime_t end;
	struct gil_lt_snap mid;
	struct gil_lt_snap after;
	struct completion exited;
	ktime_t exit_time;
	bool reaped;
};

/**
 * struct gil_lt_ctx - a case's GIL, its agents and what they may touch
 * @gil: the case's GIL
 * @stop: set by the exit hook: every agent stops
 * @nr_agents: entries of @agents
 * @agents: started by gil_lt_start()
 * @data: from gil_lt_alloc()
 *
 * Allocated by the init hook, freed by the exit hook only once every
 * agent has exited.
 */
struct gil_lt_ctx {
	struct gil *gil;
	bool stop;
	int nr_agents;
	struct gil_lt_agent *agents[GIL_LT_MAX_AGENTS];
	void *data;
};

/* The case's GIL. */
static inline struct gil *gil_lt_gil(struct kunit *test)
{
	return ((struct gil_lt_ctx *)test->priv)->gil;
}

/* For the functions agents run: the case is over, return. */
static inline bool gil_lt_stopping(struct gil_lt_agent *a)
{
	return READ_ONCE(a->ctx->stop);
}

/* A drop request shows in the page, as an eval loop would see it. */
static inline bool gil_lt_requested(struct gil *gil)
{
	return READ_ONCE(gil->shared->eval_breaker) &
	       GIL_EVAL_BREAKER_DROP_REQUEST;
}

/* @a has finished every operation posted to it. */
static inline bool gil_lt_idle(struct gil_lt_agent *a)
{
	/* Pairs with gil_lt_agent_finish(): the results are visible. */
	return smp_load_acquire(&a->done) == a->posted;
}

/* Poll @cond every 100 to 200 us, for up to @ms milliseconds. */
#define gil_lt_poll(cond, ms)						\
({									\
	unsigned long __end = jiffies + msecs_to_jiffies(ms);		\
	bool __ok;							\
									\
	for (;;) {							\
		__ok = (cond);						\
		if (__ok || time_after(jiffies, __end))			\
			break;						\
		usleep_range(100, 200);					\
	}								\
	__ok;								\
})

void gil_lt_snapshot(struct gil *gil, struct gil_thread *t,
		     struct gil_lt_snap *s);
void gil_lt_read_stats(struct gil *gil, struct gil_stats *st);
unsigned int gil_lt_nr_waiters(struct gil *gil);

void *gil_lt_alloc(struct kunit *test, size_t size);
struct gil_lt_agent *gil_lt_start(struct kunit *test, const char *name);
void gil_lt_start_pair(struct kunit *test, s64 interval_us,
		       const char *holder, const char *other,
		       struct gil_lt_agent **a, struct gil_lt_agent **b);
void gil_lt_post(struct gil_lt_agent *a, enum gil_lt_op op);
void gil_lt_post_fn(struct gil_lt_agent *a,
		    int (*fn)(struct gil_lt_agent *a, void *arg), void *arg);
bool gil_lt_wait(struct gil_lt_agent *a, unsigned int ms);
int gil_lt_do(struct kunit *test, struct gil_lt_agent *a, enum gil_lt_op op);
int gil_lt_do_fn(struct kunit *test, struct gil_lt_agent *a,
		 int (*fn)(struct gil_lt_agent *a, void *arg), void *arg);
bool gil_lt_wait_exit(struct gil_lt_agent *a, unsigned int ms);

void gil_lt_pass(struct kunit *test, struct gil_lt_agent *from,
		 struct gil_lt_agent *to);
void gil_lt_queue(struct kunit *test, struct gil_lt_agent *a, unsigned int n);
void gil_lt_join_case_process(struct gil_lt_agent *a);

int gil_lt_init(struct kunit *test);
void gil_lt_exit(struct kunit *test);

/**
 * GIL_LT_SUITE() - define and register a suite whose cases use agents
 * @suite_name: the suite's name in the KTAP output, as an identifier
 * @cases: its array of &struct kunit_case
 *
 * Every case gets a GIL of its own (gil_lt_init()), and loses it with its
 * agents at its end (gil_lt_exit()).
 */
#define GIL_LT_SUITE(suite_name, cases)					\
	static struct kunit_suite suite_name##_suite = {		\
		.name = #suite_name,					\
		.init = gil_lt_init,					\
		.exit = gil_lt_exit,					\
		.test_cases = cases,					\
	};								\
	kunit_test_suite(suite_name##_suite)

/**
 * GIL_LT_NAME_DESC() - define type_desc(), for KUNIT_ARRAY_PARAM()
 * @type: a struct with a string member "name": each parameter's description
 */
#define GIL_LT_NAME_DESC(type)						\
	static void type##_desc(const struct type *p, char *desc)	\
	{								\
		strscpy(desc, p->name, KUNIT_PARAM_DESC_SIZE);		\
	}

#endif /* _GIL_KUNIT_AGENT_H */
