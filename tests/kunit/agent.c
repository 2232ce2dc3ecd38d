// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the agents (agent.h), the init and exit hooks of their suites,
 * and the helpers the suites share.
 */
#include <linux/atomic.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "agent.h"

/* Bound on the exit hook's wait for every agent to stop. */
#define GIL_LT_EXIT_MS		30000
/* An idle agent that hears nothing for this long stops by itself. */
#define GIL_LT_IDLE_MS		600000

/**
 * gil_lt_snapshot() - read the GIL's state at once
 * @gil: the GIL
 * @t: the thread whose holding @s->held tells, or NULL
 * @s: the state, read under gil->lock
 */
void gil_lt_snapshot(struct gil *gil, struct gil_thread *t,
		     struct gil_lt_snap *s)
{
	spin_lock(&gil->lock);
	s->locked = gil->locked;
	s->held = t && gil_holds(gil, t);
	s->drop_request = gil->drop_request;
	s->eval_breaker = READ_ONCE(gil->shared->eval_breaker);
	s->holder = gil->holder;
	s->switch_number = gil->switch_number;
	spin_unlock(&gil->lock);
}

/**
 * gil_lt_read_stats() - the GIL's statistics, as the ioctl reads them
 * @gil: the GIL
 * @st: the statistics, at their full size
 */
void gil_lt_read_stats(struct gil *gil, struct gil_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	gil_stats_read(gil, st);
}

/**
 * gil_lt_nr_waiters() - how many threads wait for the GIL
 * @gil: the GIL
 *
 * Return: gil->nr_waiters, read under gil->lock.
 */
unsigned int gil_lt_nr_waiters(struct gil *gil)
{
	unsigned int n;

	spin_lock(&gil->lock);
	n = gil->nr_waiters;
	spin_unlock(&gil->lock);
	return n;
}

/* Agent side. */

static bool gil_lt_agent_has_work(struct gil_lt_agent *a)
{
	/* Pairs with the release in gil_lt_post(): the op's fields are set. */
	return smp_load_acquire(&a->posted) != a->done || gil_lt_stopping(a);
}

/* Wait for the next operation; false when the agent should stop. */
static bool gil_lt_agent_next(struct gil_lt_agent *a)
{
	unsigned long idle_end = jiffies + msecs_to_jiffies(GIL_LT_IDLE_MS);

	while (!wait_event_timeout(a->wq, gil_lt_agent_has_work(a), HZ)) {
		if (time_after(jiffies, idle_end))
			return false;
	}
	return !gil_lt_stopping(a);
}

static void gil_lt_agent_finish(struct gil_lt_agent *a)
{
	/* Publish the results before the count; pairs with gil_lt_idle(). */
	smp_store_release(&a->done, a->done + 1);
	wake_up(&a->wq);
}

static void gil_lt_agent_run(struct gil_lt_agent *a)
{
	struct gil *gil = a->ctx->gil;

	a->why = NULL;
	a->start = ktime_get();
	switch (a->op) {
	case GIL_LT_TAKE:
		a->ret = gil_take(gil, a->t);
		break;
	case GIL_LT_DROP:
		a->ret = gil_drop(gil, a->t);
		break;
	case GIL_LT_YIELD:
		a->ret = gil_yield(gil, a->t);
		break;
	case GIL_LT_DROP_TAKE:
		a->ret_drop = gil_drop(gil, a->t);
		gil_lt_snapshot(gil, a->t, &a->mid);
		a->ret = a->ret_drop ? a->ret_drop : gil_take(gil, a->t);
		break;
	case GIL_LT_FN:
		a->ret = a->fn(a, a->arg);
		break;
	default:
		a->ret = -EINVAL;
		break;
	}
	a->end = ktime_get();
	gil_lt_snapshot(gil, a->t, &a->after);
}

static int gil_lt_agent_main(void *data)
{
	struct gil_lt_agent *a = data;
	struct gil *gil = a->ctx->gil;
	bool release = true;
	int ret;

	ret = gil_attach(gil);
	if (!ret) {
		a->t = gil_thread_get(gil);
		if (!a->t)
			ret = -ENOENT;
	}
	a->ret = ret;
	gil_lt_agent_finish(a);

	while (a->t && gil_lt_agent_next(a)) {
		if (a->op == GIL_LT_EXIT_HOLDING) {
			release = false;
			break;
		}
		gil_lt_agent_run(a);
		gil_lt_agent_finish(a);
	}

	if (a->t) {
		bool held;

		/* Let the others finish: never leave the GIL to a dead thread. */
		spin_lock(&gil->lock);
		held = gil_holds(gil, a->t);
		spin_unlock(&gil->lock);
		if (held && release)
			gil_drop(gil, a->t);
		gil_thread_put(a->t);
	}
	a->exit_time = ktime_get();
	kthread_complete_and_exit(&a->exited, 0);
}

/* Case side. */

/**
 * gil_lt_wait() - wait for @a to finish what was posted to it
 * @a: the agent
 * @ms: for at most this long
 *
 * Return: true if @a finished in time (its results are then visible).
 */
bool gil_lt_wait(struct gil_lt_agent *a, unsigned int ms)
{
	return wait_event_timeout(a->wq, gil_lt_idle(a),
				  msecs_to_jiffies(ms)) > 0;
}

/**
 * gil_lt_post() - have @a run @op, without waiting for it
 * @a: the agent, idle
 * @op: the operation (not GIL_LT_FN: see gil_lt_post_fn())
 */
void gil_lt_post(struct gil_lt_agent *a, enum gil_lt_op op)
{
	a->op = op;
	/* Publish the op before the count; pairs with ..._has_work(). */
	smp_store_release(&a->posted, a->posted + 1);
	wake_up(&a->wq);
}

/**
 * gil_lt_post_fn() - have @a run @fn(@a, @arg), without waiting for it
 * @a: the agent, idle
 * @fn: its result is @a->ret; it sets @a->why when it fails
 * @arg: what @fn works on: memory that outlives the case's function
 *	 (gil_lt_alloc()), as @fn may still run after a failed assertion
 */
void gil_lt_post_fn(struct gil_lt_agent *a,
		    int (*fn)(struct gil_lt_agent *a, void *arg), void *arg)
{
	a->fn = fn;
	a->arg = arg;
	gil_lt_post(a, GIL_LT_FN);
}

static const char *gil_lt_op_name(enum gil_lt_op op)
{
	switch (op) {
	case GIL_LT_TAKE:
		return "take";
	case GIL_LT_DROP:
		return "drop";
	case GIL_LT_YIELD:
		return "yield";
	case GIL_LT_DROP_TAKE:
		return "drop+take";
	case GIL_LT_FN:
		return "function";
	default:
		return "?";
	}
}

/**
 * gil_lt_do() - have @a run @op, which must return within GIL_LT_OP_MS
 * @test: the case, failed (and ended) if @op does not return in time
 * @a: the agent, idle
 * @op: the operation
 *
 * Return: the result of @op.
 */
int gil_lt_do(struct kunit *test, struct gil_lt_agent *a, enum gil_lt_op op)
{
	gil_lt_post(a, op);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, GIL_LT_OP_MS),
			      "%s: %s still blocked after %d ms", a->name,
			      gil_lt_op_name(op), GIL_LT_OP_MS);
	return a->ret;
}

/**
 * gil_lt_do_fn() - gil_lt_post_fn(), then wait for @fn as gil_lt_do() does
 * @test: the case
 * @a: the agent, idle
 * @fn: as for gil_lt_post_fn()
 * @arg: as for gil_lt_post_fn()
 *
 * Return: the result of @fn.
 */
int gil_lt_do_fn(struct kunit *test, struct gil_lt_agent *a,
		 int (*fn)(struct gil_lt_agent *a, void *arg), void *arg)
{
	gil_lt_post_fn(a, fn, arg);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, GIL_LT_OP_MS),
			      "%s: function still running after %d ms",
			      a->name, GIL_LT_OP_MS);
	return a->ret;
}

/**
 * gil_lt_alloc() - zeroed memory for the state a case shares with its agents
 * @test: the case; it may ask once
 * @size: bytes
 *
 * Freed by the exit hook once every agent has exited (never, if one is
 * stuck), so an agent never writes to freed memory, whatever the case did.
 *
 * Return: the memory; the case ends, failed, if there is none.
 */
void *gil_lt_alloc(struct kunit *test, size_t size)
{
	struct gil_lt_ctx *ctx = test->priv;

	KUNIT_ASSERT_NULL(test, ctx->data);
	ctx->data = kzalloc(size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->data);
	return ctx->data;
}

/**
 * gil_lt_start() - start an agent, attached to the case's GIL
 * @test: the case, failed (and ended) if the agent cannot attach
 * @name: for messages and the thread's name
 *
 * Return: the agent, idle.
 */
struct gil_lt_agent *gil_lt_start(struct kunit *test, const char *name)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct task_struct *task;
	struct gil_lt_agent *a;

	KUNIT_ASSERT_LT(test, ctx->nr_agents, GIL_LT_MAX_AGENTS);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	a->ctx = ctx;
	strscpy(a->name, name, sizeof(a->name));
	init_waitqueue_head(&a->wq);
	init_completion(&a->exited);
	a->posted = 1;		/* the attach */
	task = kthread_create(gil_lt_agent_main, a, "gil-kunit-%s", name);
	if (IS_ERR(task)) {
		kfree(a);
		KUNIT_ASSERT_FAILURE(test, "kthread_create: %ld", PTR_ERR(task));
	}
	a->task = get_task_struct(task);
	ctx->agents[ctx->nr_agents++] = a;
	wake_up_process(task);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, GIL_LT_OP_MS),
			      "%s did not attach", name);
	KUNIT_ASSERT_EQ_MSG(test, a->ret, 0, "%s: attach", name);
	return a;
}

/**
 * gil_lt_start_pair() - a holder and another agent, under a switch interval
 * @test: the case
 * @interval_us: the GIL's switch interval, set first
 * @holder: the name of *@a, which then takes the GIL
 * @other: the name of *@b, idle
 * @a: the holder
 * @b: the other agent
 */
void gil_lt_start_pair(struct kunit *test, s64 interval_us,
		       const char *holder, const char *other,
		       struct gil_lt_agent **a, struct gil_lt_agent **b)
{
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil_lt_gil(test), interval_us),
			0);
	*a = gil_lt_start(test, holder);
	*b = gil_lt_start(test, other);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, *a, GIL_LT_TAKE), 0);
}

/**
 * gil_lt_wait_exit() - wait for an agent posted GIL_LT_EXIT_HOLDING to exit
 * @a: the agent
 * @ms: for at most this long
 *
 * Return: true if it exited in time.
 */
bool gil_lt_wait_exit(struct gil_lt_agent *a, unsigned int ms)
{
	if (!wait_for_completion_timeout(&a->exited, msecs_to_jiffies(ms)))
		return false;
	a->reaped = true;
	return true;
}

/**
 * gil_lt_init() - the init hook: a GIL of the case's own
 * @test: the case
 *
 * Return: 0, or -ENOMEM.
 */
int gil_lt_init(struct kunit *test)
{
	struct gil_lt_ctx *ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);

	if (!ctx)
		return -ENOMEM;
	ctx->gil = gil_create();
	if (!ctx->gil) {
		kfree(ctx);
		return -ENOMEM;
	}
	test->priv = ctx;
	return 0;
}

/**
 * gil_lt_exit() - the exit hook: stop every agent, free what they touched
 * @test: the case, failed if an agent does not stop in GIL_LT_EXIT_MS
 */
void gil_lt_exit(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	unsigned long deadline = jiffies + msecs_to_jiffies(GIL_LT_EXIT_MS);
	bool stuck = false;
	int i;

	if (!ctx)
		return;
	WRITE_ONCE(ctx->stop, true);
	for (i = 0; i < ctx->nr_agents; i++)
		wake_up(&ctx->agents[i]->wq);
	for (i = 0; i < ctx->nr_agents; i++) {
		struct gil_lt_agent *a = ctx->agents[i];
		long left = max_t(long, (long)(deadline - jiffies), 1);

		if (a->reaped || wait_for_completion_timeout(&a->exited, left))
			continue;
		KUNIT_FAIL(test, "%s still blocked %d ms after the case; GIL leaked",
			   a->name, GIL_LT_EXIT_MS);
		stuck = true;
	}
	if (stuck) {
		/*
		 * The stuck threads sleep in this module's text and wake up
		 * again (their hrtimers): keep the module loaded, so that
		 * rmmod fails instead of freeing the code under them.
		 */
		__module_get(THIS_MODULE);
		return;
	}
	for (i = 0; i < ctx->nr_agents; i++) {
		put_task_struct(ctx->agents[i]->task);
		kfree(ctx->agents[i]);
	}
	gil_destroy(ctx->gil);
	kfree(ctx->data);
	kfree(ctx);
	test->priv = NULL;
}

/**
 * gil_lt_pass() - @from releases the GIL, and @to, waiting for it, takes it
 * @test: the case
 * @from: the holder, idle
 * @to: an agent posted GIL_LT_TAKE
 */
void gil_lt_pass(struct kunit *test, struct gil_lt_agent *from,
		 struct gil_lt_agent *to)
{
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, from, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(to, GIL_LT_OP_MS),
			      "%s did not get the GIL from %s", to->name,
			      from->name);
	KUNIT_EXPECT_EQ(test, to->ret, 0);
	KUNIT_EXPECT_TRUE(test, to->after.held);
}

/**
 * gil_lt_queue() - @a asks for the GIL, and is the @n-th thread to wait
 * @test: the case, ended if @a does not wait within 10 s
 * @a: the agent, idle
 * @n: the number of waiters once @a waits
 */
void gil_lt_queue(struct kunit *test, struct gil_lt_agent *a, unsigned int n)
{
	gil_lt_post(a, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test,
			      gil_lt_poll(gil_lt_nr_waiters(a->ctx->gil) == n,
					  10000),
			      "%s is not waiting", a->name);
}

/**
 * gil_lt_join_case_process() - count @a among the case's process's threads
 * @a: the agent
 *
 * So that the case's gil_shutdown() ends @a's record (and no other
 * agent's).
 */
void gil_lt_join_case_process(struct gil_lt_agent *a)
{
	struct pid *old = a->t->tgid;

	WRITE_ONCE(a->t->tgid, get_pid(task_tgid(current)));
	put_pid(old);
}
