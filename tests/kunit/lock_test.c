// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the GIL algorithm (lock.c), driven through the module's internal
 * interface by kernel threads standing in for Python threads: mutual
 * exclusion, drop requests against the switch interval, the forced-switch
 * handshake, voluntary releases, owner death, the statistics, the handoff
 * policies, and the validation of the interval.
 *
 * Each case gets its own GIL from gil_create() (no chardev is involved)
 * and a set of "agents": kernel threads attached to that GIL which run one
 * operation at a time on the case's request and record its result and the
 * GIL's state right after it returned.  The case itself never takes the
 * GIL, so it may fail an assertion at any point: the exit hook tells every
 * agent to stop (an agent holding the GIL releases it, so waiters finish),
 * waits for them and destroys the GIL.  An agent still blocked after a
 * generous delay fails the case, and its GIL is leaked rather than freed
 * under it.
 *
 * Timing bounds are generous: the suite runs under QEMU TCG with KASAN and
 * lockdep, ten to a hundred times slower than hardware.  Lower bounds are
 * exact: an hrtimer never fires early.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "gil.h"

#define GIL_LT_MAX_AGENTS	8
/* Bound on an operation that must not block for long. */
#define GIL_LT_OP_MS		10000
/* Bound on the exit hook's wait for every agent to stop. */
#define GIL_LT_EXIT_MS		30000
/* An idle agent that hears nothing for this long stops by itself. */
#define GIL_LT_IDLE_MS		600000

enum gil_lt_op {
	GIL_LT_TAKE = 1,
	GIL_LT_DROP,
	GIL_LT_YIELD,
	GIL_LT_DROP_TAKE,	/* gil_drop(), then at once gil_take() */
	GIL_LT_FN,		/* a function of the case */
	GIL_LT_EXIT_HOLDING,	/* exit without releasing the GIL */
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

/* Shared state of the mutual-exclusion case. */
struct gil_lt_contention {
	unsigned int iterations;
	s64 hold_us;
	struct gil_lt_agent *inside;	/* plain accesses: the GIL guards it */
	unsigned long entries;		/* non-atomic on purpose */
	atomic_t violations;
	atomic_t yields;
};

/* A holder watching for the drop request. */
struct gil_lt_request_poll {
	s64 timeout_us;
	ktime_t seen_page;	/* the eval breaker in the page showed it */
	ktime_t seen_flag;	/* gil->drop_request showed it */
};

struct gil_lt_detach {
	int busy;		/* detach while holding */
	int first;		/* detach */
	bool gone;		/* gil_thread_get() then found nothing */
	int second;		/* detach again */
};

/*
 * Everything the agents may touch lives here, allocated with kzalloc and
 * freed by the exit hook only once every agent has exited.
 */
struct gil_lt_ctx {
	struct gil *gil;
	bool stop;
	int nr_agents;
	struct gil_lt_agent *agents[GIL_LT_MAX_AGENTS];
	struct gil_lt_contention contention;
	struct gil_lt_request_poll poll;
	struct gil_lt_detach detach;
	unsigned int count;
};

static void gil_lt_snapshot(struct gil *gil, struct gil_thread *t,
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

static void gil_lt_read_stats(struct gil *gil, struct gil_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	gil_stats_read(gil, st);
}

static unsigned int gil_lt_nr_waiters(struct gil *gil)
{
	unsigned int n;

	spin_lock(&gil->lock);
	n = gil->nr_waiters;
	spin_unlock(&gil->lock);
	return n;
}

static bool gil_lt_stopping(struct gil_lt_agent *a)
{
	return READ_ONCE(a->ctx->stop);
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

static bool gil_lt_idle(struct gil_lt_agent *a)
{
	/* Pairs with gil_lt_agent_finish(): the results are visible. */
	return smp_load_acquire(&a->done) == a->posted;
}

static bool gil_lt_wait(struct gil_lt_agent *a, unsigned int ms)
{
	return wait_event_timeout(a->wq, gil_lt_idle(a),
				  msecs_to_jiffies(ms)) > 0;
}

static void gil_lt_post(struct gil_lt_agent *a, enum gil_lt_op op)
{
	a->op = op;
	/* Publish the op before the count; pairs with ..._has_work(). */
	smp_store_release(&a->posted, a->posted + 1);
	wake_up(&a->wq);
}

static void gil_lt_post_fn(struct gil_lt_agent *a,
			   int (*fn)(struct gil_lt_agent *a, void *arg),
			   void *arg)
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

/* Run @op in @a; it must return within GIL_LT_OP_MS.  Returns its result. */
static int gil_lt_do(struct kunit *test, struct gil_lt_agent *a,
		     enum gil_lt_op op)
{
	gil_lt_post(a, op);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, GIL_LT_OP_MS),
			      "%s: %s still blocked after %d ms", a->name,
			      gil_lt_op_name(op), GIL_LT_OP_MS);
	return a->ret;
}

static int gil_lt_do_fn(struct kunit *test, struct gil_lt_agent *a,
			int (*fn)(struct gil_lt_agent *a, void *arg),
			void *arg)
{
	gil_lt_post_fn(a, fn, arg);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, GIL_LT_OP_MS),
			      "%s: function still running after %d ms",
			      a->name, GIL_LT_OP_MS);
	return a->ret;
}

static struct gil_lt_agent *gil_lt_start(struct kunit *test,
					 const char *name)
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

/* Wait for an agent posted GIL_LT_EXIT_HOLDING to exit. */
static bool gil_lt_wait_exit(struct gil_lt_agent *a, unsigned int ms)
{
	if (!wait_for_completion_timeout(&a->exited, msecs_to_jiffies(ms)))
		return false;
	a->reaped = true;
	return true;
}

static int gil_lt_init(struct kunit *test)
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

static void gil_lt_exit(struct kunit *test)
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
	kfree(ctx);
	test->priv = NULL;
}

/* @from releases the GIL, and @to, waiting for it, takes it. */
static void gil_lt_pass(struct kunit *test, struct gil_lt_agent *from,
			struct gil_lt_agent *to)
{
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, from, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(to, GIL_LT_OP_MS),
			      "%s did not get the GIL from %s", to->name,
			      from->name);
	KUNIT_EXPECT_EQ(test, to->ret, 0);
	KUNIT_EXPECT_TRUE(test, to->after.held);
}

/* @a asks for the GIL, and is the @n-th thread to wait for it. */
static void gil_lt_queue(struct kunit *test, struct gil_lt_agent *a,
			 unsigned int n)
{
	gil_lt_post(a, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test,
			      gil_lt_poll(gil_lt_nr_waiters(a->ctx->gil) == n,
					  10000),
			      "%s is not waiting", a->name);
}

/*
 * Count @a among the threads of the case's process, so that the case's
 * gil_shutdown() ends @a's record (and no other agent's).
 */
static void gil_lt_join_case_process(struct gil_lt_agent *a)
{
	struct pid *old = a->t->tgid;

	WRITE_ONCE(a->t->tgid, get_pid(task_tgid(current)));
	put_pid(old);
}

/* Functions the agents run. */

static int gil_lt_fn_attach(struct gil_lt_agent *a, void *arg)
{
	return gil_attach(a->ctx->gil);
}

static int gil_lt_fn_detach_holding(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_detach *d = arg;

	d->busy = gil_detach(a->ctx->gil);
	return 0;
}

static int gil_lt_fn_detach(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_detach *d = arg;
	struct gil_thread *t;

	d->first = gil_detach(a->ctx->gil);
	t = gil_thread_get(a->ctx->gil);
	d->gone = !t;
	if (t)
		gil_thread_put(t);
	d->second = gil_detach(a->ctx->gil);
	return 0;
}

static int gil_lt_fn_take_drop(struct gil_lt_agent *a, void *arg)
{
	unsigned int i, n = *(unsigned int *)arg;
	int ret;

	for (i = 0; i < n; i++) {
		ret = gil_take(a->ctx->gil, a->t);
		if (ret) {
			a->why = "take";
			return ret;
		}
		ret = gil_drop(a->ctx->gil, a->t);
		if (ret) {
			a->why = "drop";
			return ret;
		}
	}
	return 0;
}

static bool gil_lt_requested(struct gil *gil)
{
	return READ_ONCE(gil->shared->eval_breaker) &
	       GIL_EVAL_BREAKER_DROP_REQUEST;
}

/*
 * Hold the GIL until a drop request shows, as an eval loop polls at its
 * safe points.  The time of each sighting is read after the sighting, so
 * it is never earlier than the request.
 */
static int gil_lt_fn_poll_request(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_request_poll *p = arg;
	struct gil *gil = a->ctx->gil;
	ktime_t deadline = ktime_add_us(ktime_get(), p->timeout_us);

	p->seen_page = 0;
	p->seen_flag = 0;
	for (;;) {
		if (!p->seen_page && gil_lt_requested(gil))
			p->seen_page = ktime_get();
		if (!p->seen_flag && READ_ONCE(gil->drop_request))
			p->seen_flag = ktime_get();
		if (p->seen_page && p->seen_flag)
			return 0;
		if (ktime_after(ktime_get(), deadline) || gil_lt_stopping(a)) {
			a->why = "no drop request in time";
			return -ETIMEDOUT;
		}
		usleep_range(10, 20);
	}
}

static void gil_lt_enter(struct gil_lt_contention *c, struct gil_lt_agent *a)
{
	if (READ_ONCE(c->inside))
		atomic_inc(&c->violations);
	WRITE_ONCE(c->inside, a);
}

static void gil_lt_leave(struct gil_lt_contention *c, struct gil_lt_agent *a)
{
	if (READ_ONCE(c->inside) != a)
		atomic_inc(&c->violations);
	WRITE_ONCE(c->inside, NULL);
}

/* Run "bytecode" for up to @us, answering a drop request with a yield. */
static int gil_lt_hold(struct gil_lt_agent *a, struct gil_lt_contention *c,
		       s64 us)
{
	struct gil *gil = a->ctx->gil;
	ktime_t end = ktime_add_us(ktime_get(), us);
	int ret;

	while (ktime_before(ktime_get(), end)) {
		if (READ_ONCE(c->inside) != a)
			atomic_inc(&c->violations);
		if (gil_lt_requested(gil)) {
			gil_lt_leave(c, a);
			ret = gil_yield(gil, a->t);
			if (ret) {
				a->why = "yield";
				return ret;
			}
			gil_lt_enter(c, a);
			atomic_inc(&c->yields);
			return 0;
		}
		cpu_relax();
	}
	return 0;
}

static int gil_lt_fn_contend(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_contention *c = arg;
	struct gil *gil = a->ctx->gil;
	unsigned int i;
	int ret;

	for (i = 0; i < c->iterations; i++) {
		if (gil_lt_stopping(a)) {
			a->why = "stopped";
			return -EINTR;
		}
		ret = gil_take(gil, a->t);
		if (ret) {
			a->why = "take";
			return ret;
		}
		gil_lt_enter(c, a);
		c->entries++;
		if (i % 8 == 0) {
			ret = gil_lt_hold(a, c, c->hold_us);
			if (ret)
				return ret;
		}
		gil_lt_leave(c, a);
		ret = gil_drop(gil, a->t);
		if (ret) {
			a->why = "drop";
			return ret;
		}
		if (i % 4 == 0)
			usleep_range(10, 50);
	}
	return 0;
}

/* The cases. */

static void gil_test_errors(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	struct gil_stats st;

	/* The case's own thread never attached. */
	KUNIT_EXPECT_NULL(test, gil_thread_get(gil));
	KUNIT_EXPECT_EQ(test, gil_lt_do_fn(test, a, gil_lt_fn_attach, NULL),
			-EEXIST);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), -EPERM);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_YIELD), -EPERM);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_TRUE(test, a->after.held);
	KUNIT_EXPECT_PTR_EQ(test, a->after.holder, a->t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 1);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), -EDEADLK);
	KUNIT_EXPECT_TRUE_MSG(test, a->after.held,
			      "a failed take lost the GIL");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), -EPERM);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_YIELD), -EPERM);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, a->t);
	KUNIT_EXPECT_TRUE_MSG(test, b->after.locked,
			      "another thread's drop released the GIL");

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_FALSE(test, a->after.held);
	/* The holder field keeps the last holder (CPython's last_holder). */
	KUNIT_EXPECT_PTR_EQ(test, a->after.holder, a->t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), -EPERM);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 1);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
}

static void gil_test_detach(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	struct gil_lt_detach *d = &ctx->detach;
	u64 sn;

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	sn = a->after.switch_number;
	gil_lt_do_fn(test, a, gil_lt_fn_detach_holding, d);
	KUNIT_EXPECT_EQ(test, d->busy, -EBUSY);
	KUNIT_EXPECT_TRUE(test, a->after.held);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	gil_lt_do_fn(test, a, gil_lt_fn_detach, d);
	KUNIT_EXPECT_EQ(test, d->first, 0);
	KUNIT_EXPECT_TRUE(test, d->gone);
	KUNIT_EXPECT_EQ(test, d->second, -EUNATCH);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 1);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

static void gil_test_single_thread_never_waits(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	const unsigned int n = 50;
	struct gil_stats st;
	u64 hist = 0;
	int i;

	ctx->count = n;
	KUNIT_EXPECT_EQ_MSG(test, gil_lt_do_fn(test, a, gil_lt_fn_take_drop,
					       &ctx->count),
			    0, "%s", a->why ?: "");
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.size, sizeof(st));
	KUNIT_EXPECT_EQ(test, st.hist_buckets, GIL_STATS_HIST_BUCKETS);
	KUNIT_EXPECT_EQ(test, st.acquisitions, n);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, n);
	KUNIT_EXPECT_EQ(test, st.contended, 0);
	KUNIT_EXPECT_EQ(test, st.wait_ns, 0);
	KUNIT_EXPECT_EQ(test, st.drop_requests, 0);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
	KUNIT_EXPECT_EQ(test, st.owner_deaths, 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		hist += st.handoff_ns_hist[i];
	KUNIT_EXPECT_EQ(test, hist, 0);
	/* One owner: one change, from nobody to it. */
	KUNIT_EXPECT_EQ(test, st.switch_number, 1);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number), 1);
}

static void gil_test_mutual_exclusion(struct kunit *test)
{
	const int nr = 4;
	struct gil_lt_ctx *ctx = test->priv;
	struct gil_lt_contention *c = &ctx->contention;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *agents[4];
	unsigned long deadline;
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 total, hist = 0;
	int i;

	/* Holders keep it past the interval now and then: forced switches. */
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	c->iterations = 200;
	c->hold_us = 10000;
	atomic_set(&c->violations, 0);
	atomic_set(&c->yields, 0);
	for (i = 0; i < nr; i++) {
		char name[8];

		snprintf(name, sizeof(name), "mx%d", i);
		agents[i] = gil_lt_start(test, name);
	}
	for (i = 0; i < nr; i++)
		gil_lt_post_fn(agents[i], gil_lt_fn_contend, c);

	deadline = jiffies + msecs_to_jiffies(120000);
	for (i = 0; i < nr; i++) {
		struct gil_lt_agent *a = agents[i];
		long left = max_t(long, (long)(deadline - jiffies), 1);

		KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, jiffies_to_msecs(left)),
				      "%s still running after 120 s", a->name);
		KUNIT_EXPECT_EQ_MSG(test, a->ret, 0, "%s: %s", a->name,
				    a->why ?: "");
	}

	total = (u64)nr * c->iterations;
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&c->violations), 0,
			    "two threads were inside the GIL at once");
	KUNIT_EXPECT_EQ_MSG(test, c->entries, total,
			    "lost updates to a counter the GIL guards");

	gil_lt_read_stats(gil, &st);
	gil_lt_snapshot(gil, NULL, &s);
	kunit_info(test, "acquisitions %llu contended %llu drop requests %llu forced %llu voluntary %llu yields %d\n",
		   st.acquisitions, st.contended, st.drop_requests,
		   st.forced_switches, st.voluntary_releases,
		   atomic_read(&c->yields));
	total += atomic_read(&c->yields);
	/* The take of a yield counts, and so does its release. */
	KUNIT_EXPECT_EQ(test, st.acquisitions, total);
	KUNIT_EXPECT_EQ_MSG(test, st.forced_switches + st.voluntary_releases,
			    total, "every release is forced or voluntary");
	KUNIT_EXPECT_GT_MSG(test, st.contended, 0,
			    "the case did not create contention");
	KUNIT_EXPECT_LE(test, st.contended, st.acquisitions);
	KUNIT_EXPECT_GT(test, st.wait_ns, 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		hist += st.handoff_ns_hist[i];
	KUNIT_EXPECT_EQ_MSG(test, hist, st.contended,
			    "every waiter's acquisition is one handoff");
	KUNIT_EXPECT_GT_MSG(test, atomic_read(&c->yields), 0,
			    "no holder saw a drop request");
	KUNIT_EXPECT_GE(test, st.drop_requests, st.forced_switches);
	KUNIT_EXPECT_EQ(test, st.switch_number, s.switch_number);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number),
			s.switch_number);
	KUNIT_EXPECT_FALSE(test, s.locked);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "a drop request outlived every waiter");
	KUNIT_EXPECT_EQ(test, s.eval_breaker, 0);
}

/*
 * Wake-up latency under TCG is a few milliseconds: the longer intervals
 * are the ones that would catch a request posted early.
 */
static const s64 gil_lt_intervals[] = { 1000, 5000, 20000, 100000 };

static void gil_lt_interval_desc(const s64 *us, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "interval %lld us", *us);
}

KUNIT_ARRAY_PARAM(gil_lt_intervals, gil_lt_intervals, gil_lt_interval_desc);

/*
 * A waiter posts the drop request when its sleep of one interval times
 * out, never earlier, and the holder sees it in the page.
 */
static void gil_test_drop_request_timing(struct kunit *test)
{
	const s64 interval = *(const s64 *)test->param_value;
	const s64 bound_us = interval * 10 + 2 * USEC_PER_SEC;
	struct gil_lt_ctx *ctx = test->priv;
	struct gil_lt_request_poll *p = &ctx->poll;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;
	s64 page_us, flag_us;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, interval), 0);
	a = gil_lt_start(test, "holder");
	b = gil_lt_start(test, "waiter");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);

	/* No waiter: no request, however long the holder keeps the GIL. */
	msleep(DIV_ROUND_UP(2 * interval, 1000));
	gil_lt_snapshot(gil, NULL, &s);
	KUNIT_EXPECT_FALSE(test, s.drop_request);
	KUNIT_EXPECT_EQ(test, s.eval_breaker, 0);

	p->timeout_us = bound_us + USEC_PER_SEC;
	gil_lt_post_fn(a, gil_lt_fn_poll_request, p);
	gil_lt_post(b, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, p->timeout_us / 1000 + 5000));
	KUNIT_ASSERT_EQ_MSG(test, a->ret, 0,
			    "the holder saw no drop request within %lld us",
			    p->timeout_us);
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(b),
			       "the waiter stopped waiting by itself");

	/* The forced switch: the waiter gets the GIL. */
	gil_lt_pass(test, a, b);

	/* b->start is read after b finished: its store is visible. */
	page_us = ktime_us_delta(p->seen_page, b->start);
	flag_us = ktime_us_delta(p->seen_flag, b->start);
	kunit_info(test, "request seen %lld us (page) / %lld us (flag) after the take began\n",
		   page_us, flag_us);
	KUNIT_EXPECT_GE_MSG(test, page_us, interval,
			    "drop request before the interval ran out");
	KUNIT_EXPECT_GE_MSG(test, flag_us, interval,
			    "drop request before the interval ran out");
	KUNIT_EXPECT_LE(test, page_us, bound_us);
	KUNIT_EXPECT_LE(test, flag_us, bound_us);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_GE(test, st.drop_requests, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 1);
	KUNIT_EXPECT_EQ(test, st.contended, 1);
	KUNIT_EXPECT_GE(test, st.wait_ns, (u64)interval * NSEC_PER_USEC);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

/* switch_number counts changes of owner, not acquisitions. */
static void gil_test_switch_number(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 sn;

	gil_lt_snapshot(gil, NULL, &s);
	sn = s.switch_number;

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ_MSG(test, a->after.switch_number, sn + 1,
			    "the same thread taking again is no switch");
	/* No request, no waiter: a yield gives the GIL straight back. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_YIELD), 0);
	KUNIT_EXPECT_TRUE(test, a->after.held);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 2);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, b->t);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 2);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 3);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.switch_number, sn + 3);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number), sn + 3);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 6);
}

struct gil_lt_release_mode {
	enum gil_lt_op op;
	const char *name;
};

static const struct gil_lt_release_mode gil_lt_release_modes[] = {
	{ GIL_LT_DROP, "drop" },
	{ GIL_LT_YIELD, "yield" },
	{ GIL_LT_DROP_TAKE, "drop then take at once" },
};

static void gil_lt_release_mode_desc(const struct gil_lt_release_mode *m,
				     char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", m->name);
}

KUNIT_ARRAY_PARAM(gil_lt_release_modes, gil_lt_release_modes,
		  gil_lt_release_mode_desc);

/*
 * The forced switch: with a drop request pending, the holder's release
 * returns only once the waiter holds the GIL, and a holder that takes it
 * again at once (as yield does) gets it only after the waiter had it.
 */
static void gil_test_forced_switch(struct kunit *test)
{
	const struct gil_lt_release_mode *mode = test->param_value;
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 sn;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	a = gil_lt_start(test, "holder");
	b = gil_lt_start(test, "waiter");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_post(b, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_ASSERT_TRUE(test, s.held);
	KUNIT_EXPECT_TRUE(test, s.drop_request);
	sn = s.switch_number;

	gil_lt_post(a, mode->op);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(b, GIL_LT_OP_MS),
			      "the waiter did not get the GIL");
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_TRUE(test, b->after.held);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 1);

	if (mode->op == GIL_LT_DROP) {
		/*
		 * No one else waits: no new request can have been posted.
		 * (A releaser taking again waits, and may post a new one.)
		 */
		KUNIT_EXPECT_FALSE_MSG(test, b->after.drop_request,
				       "the request survived the switch");
		KUNIT_EXPECT_EQ(test, b->after.eval_breaker, 0);
		KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, GIL_LT_OP_MS));
		KUNIT_EXPECT_EQ(test, a->ret, 0);
		/* Sampled right after the drop returned; b keeps the GIL. */
		KUNIT_EXPECT_PTR_EQ_MSG(test, a->after.holder, b->t,
					"the forced release returned before the waiter held the GIL");
		KUNIT_EXPECT_TRUE(test, a->after.locked);
		KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
		KUNIT_EXPECT_FALSE(test, a->after.drop_request);
		KUNIT_EXPECT_EQ(test, a->after.eval_breaker, 0);
		KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
		gil_lt_read_stats(gil, &st);
		KUNIT_EXPECT_EQ(test, st.forced_switches, 1);
		KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
		return;
	}

	/* b holds the GIL: the releaser, taking again, must be waiting. */
	msleep(20);
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(a),
			       "the forced releaser took the GIL back while the waiter held it");
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 1);

	gil_lt_pass(test, b, a);
	KUNIT_EXPECT_EQ_MSG(test, a->after.switch_number, sn + 2,
			    "a -> b -> a is two changes of owner");
	if (mode->op == GIL_LT_DROP_TAKE) {
		KUNIT_EXPECT_EQ(test, a->ret_drop, 0);
		KUNIT_EXPECT_PTR_EQ_MSG(test, a->mid.holder, b->t,
					"the forced release returned before the waiter held the GIL");
		KUNIT_EXPECT_EQ(test, a->mid.switch_number, sn + 1);
	}
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

/* A release with no drop request pending returns at once. */
static void gil_test_voluntary_release(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;

	/* An hour: no waiter here ever posts a request. */
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	a = gil_lt_start(test, "a");
	b = gil_lt_start(test, "b");

	/* No waiter. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);

	/* A waiter, but no request. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, b, 1);
	msleep(20);
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_TRUE(test, s.held);
	KUNIT_EXPECT_FALSE(test, s.drop_request);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(b));
	gil_lt_pass(test, a, b);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 2);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
	KUNIT_EXPECT_EQ(test, st.drop_requests, 0);
	KUNIT_EXPECT_EQ(test, st.contended, 1);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 3);
}

/*
 * A drop request was posted, then its waiter left without the GIL (its
 * process shut the GIL down: ESHUTDOWN).  No one is left to take over, so
 * the release must not wait for one.
 */
static void gil_test_release_after_waiter_left(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *c;
	struct gil_stats st;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	a = gil_lt_start(test, "holder");
	c = gil_lt_start(test, "leaver");
	gil_lt_join_case_process(c);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_post(c, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");

	KUNIT_EXPECT_EQ(test, gil_shutdown(gil), 0);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(c, GIL_LT_OP_MS),
			      "a waiter whose process shut the GIL down kept waiting");
	KUNIT_EXPECT_EQ(test, c->ret, -ESHUTDOWN);
	KUNIT_EXPECT_FALSE(test, c->after.held);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_FALSE_MSG(test, a->after.drop_request,
			       "a request outlived its waiter");
	KUNIT_EXPECT_EQ(test, a->after.eval_breaker, 0);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches + st.voluntary_releases, 1);
	/* The GIL still works. */
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

struct gil_lt_death_mode {
	bool waiter_first;
	s64 interval_us;
	const char *name;
};

static const struct gil_lt_death_mode gil_lt_death_modes[] = {
	{ true, 2000, "waiter already waiting" },
	{ false, 2000, "holder gone before the take" },
	{ true, GIL_INTERVAL_MAX_US, "waiter waiting, an hour's interval" },
};

static void gil_lt_death_mode_desc(const struct gil_lt_death_mode *m,
				   char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", m->name);
}

KUNIT_ARRAY_PARAM(gil_lt_death_modes, gil_lt_death_modes,
		  gil_lt_death_mode_desc);

/*
 * A holder exits holding the GIL: the next acquirer gets it, with
 * EOWNERDEAD, within about an interval or, with a long interval, within
 * the owner check's period; and only that acquirer is told.
 */
static void gil_test_owner_death(struct kunit *test)
{
	const struct gil_lt_death_mode *mode = test->param_value;
	const s64 interval = mode->interval_us;
	const s64 bound_us = min_t(s64, interval, 10 * USEC_PER_MSEC) * 10 +
			     2 * USEC_PER_SEC;
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_stats st;
	ktime_t from;
	s64 took_us;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, interval), 0);
	a = gil_lt_start(test, "dying");
	b = gil_lt_start(test, "heir");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);

	if (mode->waiter_first && interval < USEC_PER_SEC) {
		gil_lt_post(b, GIL_LT_TAKE);
		/* b asks the (live) holder to drop: a request is pending. */
		KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_requested(gil),
						    10000));
	} else if (mode->waiter_first) {
		gil_lt_queue(test, b, 1);
	}
	gil_lt_post(a, GIL_LT_EXIT_HOLDING);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait_exit(a, GIL_LT_OP_MS));
	if (!mode->waiter_first) {
		KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(a->task->exit_state),
						    GIL_LT_OP_MS));
		gil_lt_post(b, GIL_LT_TAKE);
	}

	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(b, bound_us / 1000 + 5000),
			      "the GIL was not recovered from a dead holder");
	KUNIT_EXPECT_EQ(test, b->ret, -EOWNERDEAD);
	from = ktime_after(b->start, a->exit_time) ? b->start : a->exit_time;
	took_us = ktime_us_delta(b->end, from);
	kunit_info(test, "recovered %lld us after the holder exited\n",
		   took_us);
	KUNIT_EXPECT_LE(test, took_us, bound_us);
	KUNIT_EXPECT_TRUE(test, b->after.held);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, b->t);
	/* No one released: the acquirer itself cleared the request. */
	KUNIT_EXPECT_FALSE_MSG(test, b->after.drop_request,
			       "the acquirer did not clear the drop request");
	KUNIT_EXPECT_EQ(test, b->after.eval_breaker, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 1);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_EXPECT_EQ_MSG(test, gil_lt_do(test, b, GIL_LT_TAKE), 0,
			    "the owner death was reported twice");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.owner_deaths, 1);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 3);
}

/* A call interrupted by a signal, what it left behind, and the call again. */
struct gil_lt_restart {
	int (*call)(struct gil *gil, struct gil_thread *t);
	int first;		/* the interrupted call */
	bool queued;		/* its wait kept its place */
	bool away;
	bool switching;		/* its handshake is kept */
	ktime_t deadline;
	u64 wait_switch_number;
	int second;		/* the call made again */
};

static void gil_lt_wait_state(struct gil *gil, struct gil_thread *t,
			      struct gil_lt_restart *r)
{
	spin_lock(&gil->lock);
	r->queued = !list_empty(&t->wait_node);
	r->away = t->away;
	r->switching = t->switching;
	r->deadline = t->deadline;
	r->wait_switch_number = t->wait_switch_number;
	spin_unlock(&gil->lock);
}

/* Make r->call, which a SIGUSR1 will interrupt, then make it again. */
static int gil_lt_fn_call_twice(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_restart *r = arg;
	struct gil *gil = a->ctx->gil;
	int ret;

	allow_signal(SIGUSR1);
	ret = r->call(gil, a->t);
	gil_lt_wait_state(gil, a->t, r);
	/* Publish the state before the result; pairs with the case's poll. */
	smp_store_release(&r->first, ret);
	flush_signals(current);
	disallow_signal(SIGUSR1);
	r->second = r->call(gil, a->t);
	return r->second;
}

/*
 * A signal interrupts a take: it returns -ERESTARTNOINTR (the syscall is
 * restarted once the signal is handled) with its wait kept, in place, with
 * its deadline and switch_number; the call made again goes on with that
 * wait, as one wait, and takes the GIL.
 */
static void gil_test_take_restarts_after_signal(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_restart before = { }, r = { .call = gil_take };
	struct gil_lt_agent *a, *b;
	struct gil_stats st;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	a = gil_lt_start(test, "holder");
	b = gil_lt_start(test, "signalled");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_post_fn(b, gil_lt_fn_call_twice, &r);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_nr_waiters(gil) == 1, 10000));
	gil_lt_wait_state(gil, b->t, &before);
	KUNIT_ASSERT_EQ(test, send_sig(SIGUSR1, b->task, 0), 0);
	/* Pairs with the agent's release: its snapshot is visible. */
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(smp_load_acquire(&r.first), 10000));
	KUNIT_EXPECT_EQ(test, r.first, -ERESTARTNOINTR);
	KUNIT_EXPECT_TRUE(test, r.queued);
	KUNIT_EXPECT_TRUE(test, r.away);
	KUNIT_EXPECT_EQ(test, ktime_to_ns(r.deadline),
			ktime_to_ns(before.deadline));
	KUNIT_EXPECT_EQ(test, r.wait_switch_number, before.wait_switch_number);

	gil_lt_pass(test, a, b);
	KUNIT_EXPECT_EQ(test, r.second, 0);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.contended, 1);
	KUNIT_EXPECT_EQ(test, gil_lt_nr_waiters(gil), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

/*
 * A waiter that never runs: the case's own record, queued by hand (@away:
 * as one in its signal handler), so that a forced release waits in its
 * handshake for as long as the case likes.
 */
static void gil_lt_phantom_waiter(struct gil *gil, struct gil_thread *t,
				  bool queued, bool away)
{
	spin_lock(&gil->lock);
	if (queued) {
		list_add_tail(&t->wait_node, &gil->waiters);
		gil->nr_waiters++;
		t->woken = true;	/* not to be woken: nobody sleeps */
		t->away = away;
		gil->nr_away += away;
	} else {
		list_del_init(&t->wait_node);
		gil->nr_waiters--;
		gil->nr_away -= t->away;
		t->away = false;
	}
	spin_unlock(&gil->lock);
}

/*
 * A forced release about to happen: "releaser" holds the GIL with a drop
 * request pending, and the case's own record waits behind it as a phantom
 * (@away: in its signal handler) that will never take the GIL.
 */
static struct gil_lt_agent *gil_lt_phantom_start(struct kunit *test,
						 bool away,
						 struct gil_thread **me)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	a = gil_lt_start(test, "releaser");
	KUNIT_ASSERT_EQ(test, gil_attach(gil), 0);
	*me = gil_thread_get(gil);
	KUNIT_ASSERT_NOT_NULL(test, *me);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_phantom_waiter(gil, *me, true, away);
	spin_lock(&gil->lock);
	gil->drop_request = true;
	spin_unlock(&gil->lock);
	return a;
}

/* The phantom leaves: @a's forced release, waiting for it, must end. */
static void gil_lt_phantom_end(struct kunit *test, struct gil_lt_agent *a,
			       struct gil_thread *me)
{
	struct gil *gil = a->ctx->gil;

	gil_lt_phantom_waiter(gil, me, false, false);
	gil_thread_wake(a->t);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, GIL_LT_OP_MS));
	gil_thread_put(me);
	KUNIT_EXPECT_EQ(test, gil_detach(gil), 0);
}

/*
 * A signal interrupts the handshake of a forced release: the release
 * returns -ERESTARTNOINTR with the handshake kept; the call made again does
 * not fail (EPERM: it no longer holds) but waits on, until no thread waits.
 */
static void gil_test_forced_release_restarts_after_signal(struct kunit *test)
{
	struct gil_lt_restart r = { .call = gil_drop };
	struct gil_thread *me;
	struct gil_lt_agent *a = gil_lt_phantom_start(test, false, &me);

	gil_lt_post_fn(a, gil_lt_fn_call_twice, &r);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(a->t->switching), 10000));
	KUNIT_ASSERT_EQ(test, send_sig(SIGUSR1, a->task, 0), 0);
	/* Pairs with the agent's release: its snapshot is visible. */
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(smp_load_acquire(&r.first), 10000));
	KUNIT_EXPECT_EQ(test, r.first, -ERESTARTNOINTR);
	KUNIT_EXPECT_TRUE(test, r.switching);
	KUNIT_EXPECT_TRUE(test, r.away);
	/* The call made again waits on in the handshake. */
	msleep(50);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(a));

	gil_lt_phantom_end(test, a, me);
	KUNIT_EXPECT_EQ(test, r.second, 0);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(a->t->switching));
}

/*
 * A forced releaser waits for a waiter away in its signal handler, as
 * CPython's waits for one whose condition wait runs a handler: it will be
 * back for the GIL.  (Only one that exits is not waited for.)
 */
static void gil_test_forced_release_waits_for_away_waiter(struct kunit *test)
{
	struct gil_thread *me;
	struct gil_lt_agent *a = gil_lt_phantom_start(test, true, &me);

	gil_lt_post(a, GIL_LT_DROP);
	msleep(100);
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(a),
			       "the forced release did not wait for the waiter");
	gil_lt_phantom_end(test, a, me);
	KUNIT_EXPECT_EQ(test, a->ret, 0);
}

/*
 * Records of exited threads go as new threads attach, and no more than
 * gil_max_threads records of live threads exist: ENOSPC beyond.
 */
static void gil_test_records_reaped_and_bounded(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	unsigned long saved_max = gil_max_threads;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *x;
	int full, reaped;

	x = gil_lt_start(test, "exits");
	gil_lt_start(test, "stays");
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
	gil_lt_post(x, GIL_LT_EXIT_HOLDING);	/* not holding: just exits */
	KUNIT_ASSERT_TRUE(test, gil_lt_wait_exit(x, GIL_LT_OP_MS));
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(x->task->exit_state),
					    GIL_LT_OP_MS));
	/* Not noticed yet: nothing looked. */
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);

	/* The case attaches at the limit: x's record is reaped for it. */
	WRITE_ONCE(gil_max_threads, 2);
	reaped = gil_attach(gil);
	WRITE_ONCE(gil_max_threads, saved_max);
	KUNIT_EXPECT_EQ(test, reaped, 0);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
	KUNIT_EXPECT_EQ(test, gil_detach(gil), 0);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 1);

	/* y and z live: a third finds no room. */
	gil_lt_start(test, "third");
	WRITE_ONCE(gil_max_threads, 2);
	full = gil_attach(gil);
	WRITE_ONCE(gil_max_threads, saved_max);
	if (!full)
		gil_detach(gil);
	KUNIT_EXPECT_EQ(test, full, -ENOSPC);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
}

/* A wait already begun keeps its deadline; later waits use the new one. */
static void gil_test_interval_change_keeps_deadline(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	a = gil_lt_start(test, "a");
	b = gil_lt_start(test, "b");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, b, 1);
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	msleep(50);
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "a wait begun under a 1 h interval posted a request after 50 ms");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);

	/* A new wait uses the new interval. */
	gil_lt_post(a, GIL_LT_TAKE);
	KUNIT_EXPECT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, a->ret, 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

/*
 * Wake-ups are not tied to a wait queue (gil_thread_wake()), so one may
 * reach a thread late: a spurious wake-up of a waiter is neither the GIL
 * nor the end of its interval.  It sleeps on: no return without the GIL,
 * no drop request before its deadline.
 */
static void gil_test_spurious_wakeups_keep_waiting(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	int i;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 2000000), 0);
	a = gil_lt_start(test, "a");
	b = gil_lt_start(test, "b");
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, b, 1);
	for (i = 0; i < 50; i++) {
		gil_thread_wake(b->t);
		usleep_range(1000, 2000);
	}
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(b),
			       "b's take returned after spurious wake-ups");
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_TRUE(test, s.held);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "spurious wake-ups posted a drop request before the 2 s deadline");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

/* A thread's GIL_POLICY_IO class, as its last release would have set it. */
static void gil_lt_set_cpu_bound(struct gil *gil, struct gil_lt_agent *a,
				 bool cpu_bound)
{
	spin_lock(&gil->lock);
	a->t->cpu_bound = cpu_bound;
	spin_unlock(&gil->lock);
}

static void gil_test_policy_names(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	u32 p;

	for (p = 0; p < GIL_POLICY_COUNT; p++) {
		KUNIT_EXPECT_EQ(test, gil_policy_from_name(gil_policy_name(p)),
				(int)p);
		KUNIT_EXPECT_EQ(test, gil_set_policy(ctx->gil, p), 0);
		KUNIT_EXPECT_EQ(test, gil_get_policy(ctx->gil), p);
		KUNIT_EXPECT_EQ(test, ctx->gil->shared->policy, p);
	}
	KUNIT_EXPECT_EQ(test, gil_policy_from_name("fifo\n"), GIL_POLICY_FIFO);
	KUNIT_EXPECT_EQ(test, gil_policy_from_name("FIFO"), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_policy_from_name(""), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_set_policy(ctx->gil, GIL_POLICY_COUNT),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, gil_get_policy(ctx->gil), GIL_POLICY_COUNT - 1);
}

/*
 * GIL_POLICY_FIFO: each release hands the GIL to the longest waiter,
 * passing over one whose process shut the GIL down, so the GIL is never
 * free and the releaser, asking again at once, comes last.
 */
static void gil_test_fifo_order(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b, *c, *d;
	struct gil_stats st;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	KUNIT_ASSERT_EQ(test, gil_set_policy(gil, GIL_POLICY_FIFO), 0);
	a = gil_lt_start(test, "holder");
	b = gil_lt_start(test, "first");
	c = gil_lt_start(test, "closer");
	d = gil_lt_start(test, "third");
	gil_lt_join_case_process(c);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, b, 1);
	gil_lt_queue(test, c, 2);
	gil_lt_queue(test, d, 3);
	KUNIT_EXPECT_EQ(test, gil_shutdown(gil), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(c, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, c->ret, -ESHUTDOWN);

	gil_lt_post(a, GIL_LT_DROP_TAKE);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_TRUE(test, b->after.held);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_nr_waiters(gil) == 2, 10000));
	KUNIT_EXPECT_EQ(test, a->ret_drop, 0);
	KUNIT_EXPECT_TRUE(test, a->mid.locked);
	KUNIT_EXPECT_PTR_EQ(test, a->mid.holder, b->t);

	gil_lt_pass(test, b, d);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(a));

	gil_lt_pass(test, d, a);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.direct_handoffs, 3);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 3);
	KUNIT_EXPECT_EQ(test, st.switch_number, 4);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

/*
 * GIL_POLICY_IO: a CPU-bound waiter waits its interval (an hour here); an
 * I/O-bound one asks the CPU-bound holder at once, and the forced release
 * hands it the GIL ahead of the CPU-bound waiter that came first.  The
 * releases classify their threads.
 */
static void gil_test_io_priority(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	struct gil_lt_agent *a, *b, *c;
	struct gil_lt_snap s;
	struct gil_stats st;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	KUNIT_ASSERT_EQ(test, gil_set_policy(gil, GIL_POLICY_IO), 0);
	a = gil_lt_start(test, "cpu-holder");
	c = gil_lt_start(test, "cpu-waiter");
	b = gil_lt_start(test, "io-waiter");
	gil_lt_set_cpu_bound(gil, a, true);
	gil_lt_set_cpu_bound(gil, c, true);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, c, 1);
	msleep(20);
	gil_lt_snapshot(gil, NULL, &s);
	KUNIT_EXPECT_FALSE(test, s.drop_request);

	gil_lt_post(b, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "an I/O-bound waiter did not ask at once");
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.io_preemptions, 1);

	gil_lt_pass(test, a, b);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(c));
	KUNIT_EXPECT_TRUE(test, a->t->cpu_bound);

	/* No I/O-bound waiter left: the CPU-bound one gets it, as in cpython. */
	gil_lt_pass(test, b, c);
	KUNIT_EXPECT_FALSE(test, b->t->cpu_bound);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.direct_handoffs, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 1);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
	KUNIT_EXPECT_EQ(test, st.drop_requests, 1);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, c, GIL_LT_DROP), 0);
}

static struct kunit_case gil_lock_cases[] = {
	KUNIT_CASE(gil_test_errors),
	KUNIT_CASE(gil_test_detach),
	KUNIT_CASE(gil_test_single_thread_never_waits),
	KUNIT_CASE(gil_test_switch_number),
	KUNIT_CASE(gil_test_mutual_exclusion),
	KUNIT_CASE_PARAM(gil_test_drop_request_timing,
			 gil_lt_intervals_gen_params),
	KUNIT_CASE_PARAM(gil_test_forced_switch,
			 gil_lt_release_modes_gen_params),
	KUNIT_CASE(gil_test_voluntary_release),
	KUNIT_CASE(gil_test_release_after_waiter_left),
	KUNIT_CASE_PARAM(gil_test_owner_death, gil_lt_death_modes_gen_params),
	KUNIT_CASE(gil_test_interval_change_keeps_deadline),
	KUNIT_CASE(gil_test_spurious_wakeups_keep_waiting),
	KUNIT_CASE(gil_test_take_restarts_after_signal),
	KUNIT_CASE(gil_test_forced_release_restarts_after_signal),
	KUNIT_CASE(gil_test_forced_release_waits_for_away_waiter),
	KUNIT_CASE(gil_test_records_reaped_and_bounded),
	KUNIT_CASE(gil_test_policy_names),
	KUNIT_CASE(gil_test_fifo_order),
	KUNIT_CASE(gil_test_io_priority),
	{}
};

static struct kunit_suite gil_lock_suite = {
	.name = "gil_lock",
	.init = gil_lt_init,
	.exit = gil_lt_exit,
	.test_cases = gil_lock_cases,
};

/* Interval validation: the same rules for the module parameter and ioctl. */

struct gil_lt_interval_case {
	s64 us;
	int err;
	const char *result;
};

static const struct gil_lt_interval_case gil_lt_interval_cases[] = {
	{ 0, -EINVAL, "EINVAL" },
	{ -1, -EINVAL, "EINVAL" },
	{ S64_MIN, -EINVAL, "EINVAL" },
	{ 1, 0, "accepted" },
	{ GIL_INTERVAL_DEFAULT_US, 0, "accepted" },
	{ GIL_INTERVAL_MAX_US, 0, "accepted" },
	{ GIL_INTERVAL_MAX_US + 1, -ERANGE, "ERANGE" },
	{ S64_MAX, -ERANGE, "ERANGE" },
};

static void gil_lt_interval_case_desc(const struct gil_lt_interval_case *c,
				      char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%lld us %s", c->us, c->result);
}

KUNIT_ARRAY_PARAM(gil_lt_interval_cases, gil_lt_interval_cases,
		  gil_lt_interval_case_desc);

static void gil_test_interval_default(struct kunit *test)
{
	struct gil_lt_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ(test, gil_get_interval(ctx->gil),
			READ_ONCE(gil_default_interval_us));
	KUNIT_EXPECT_EQ(test, READ_ONCE(ctx->gil->shared->interval_us),
			(u64)READ_ONCE(gil_default_interval_us));
	KUNIT_EXPECT_EQ(test, gil_interval_check(gil_default_interval_us), 0);
}

static void gil_test_interval_validation(struct kunit *test)
{
	const struct gil_lt_interval_case *c = test->param_value;
	struct gil_lt_ctx *ctx = test->priv;
	struct gil *gil = ctx->gil;
	s64 before = gil_get_interval(gil);
	s64 expected = c->err ? before : c->us;

	KUNIT_EXPECT_EQ(test, gil_interval_check(c->us), c->err);
	KUNIT_EXPECT_EQ(test, gil_set_interval(gil, c->us), c->err);
	KUNIT_EXPECT_EQ(test, gil_get_interval(gil), expected);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->interval_us), (u64)expected);
}

static struct kunit_case gil_interval_cases[] = {
	KUNIT_CASE(gil_test_interval_default),
	KUNIT_CASE_PARAM(gil_test_interval_validation,
			 gil_lt_interval_cases_gen_params),
	{}
};

static struct kunit_suite gil_interval_suite = {
	.name = "gil_interval",
	.init = gil_lt_init,
	.exit = gil_lt_exit,
	.test_cases = gil_interval_cases,
};

kunit_test_suites(&gil_lock_suite, &gil_interval_suite);
