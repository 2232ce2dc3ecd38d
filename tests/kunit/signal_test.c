// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: a signal interrupts a take, or the handshake of a forced release:
 * what the call leaves behind and the call made again, with agents
 * standing in for Python threads (agent.h).
 */
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/list.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/signal.h>

#include "agent.h"

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
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_restart before = { };
	struct gil_lt_restart *r = gil_lt_alloc(test, sizeof(*r));
	struct gil_lt_agent *a, *b;
	struct gil_stats st;

	r->call = gil_take;

	gil_lt_start_pair(test, GIL_INTERVAL_MAX_US, "holder", "signalled",
			  &a, &b);
	gil_lt_post_fn(b, gil_lt_fn_call_twice, r);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_nr_waiters(gil) == 1, 10000));
	gil_lt_wait_state(gil, b->t, &before);
	KUNIT_ASSERT_EQ(test, send_sig(SIGUSR1, b->task, 0), 0);
	/* Pairs with the agent's release: its snapshot is visible. */
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(smp_load_acquire(&r->first), 10000));
	KUNIT_EXPECT_EQ(test, r->first, -ERESTARTNOINTR);
	KUNIT_EXPECT_TRUE(test, r->queued);
	KUNIT_EXPECT_TRUE(test, r->away);
	KUNIT_EXPECT_EQ(test, ktime_to_ns(r->deadline),
			ktime_to_ns(before.deadline));
	KUNIT_EXPECT_EQ(test, r->wait_switch_number, before.wait_switch_number);

	gil_lt_pass(test, a, b);
	KUNIT_EXPECT_EQ(test, r->second, 0);
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
	struct gil *gil = gil_lt_gil(test);
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
	struct gil_lt_restart *r = gil_lt_alloc(test, sizeof(*r));
	struct gil_thread *me;
	struct gil_lt_agent *a = gil_lt_phantom_start(test, false, &me);

	r->call = gil_drop;

	gil_lt_post_fn(a, gil_lt_fn_call_twice, r);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(a->t->switching), 10000));
	KUNIT_ASSERT_EQ(test, send_sig(SIGUSR1, a->task, 0), 0);
	/* Pairs with the agent's release: its snapshot is visible. */
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(smp_load_acquire(&r->first), 10000));
	KUNIT_EXPECT_EQ(test, r->first, -ERESTARTNOINTR);
	KUNIT_EXPECT_TRUE(test, r->switching);
	KUNIT_EXPECT_TRUE(test, r->away);
	/* The call made again waits on in the handshake. */
	msleep(50);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(a));

	gil_lt_phantom_end(test, a, me);
	KUNIT_EXPECT_EQ(test, r->second, 0);
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

static struct kunit_case gil_signal_cases[] = {
	KUNIT_CASE(gil_test_take_restarts_after_signal),
	KUNIT_CASE(gil_test_forced_release_restarts_after_signal),
	KUNIT_CASE(gil_test_forced_release_waits_for_away_waiter),
	{}
};

GIL_LT_SUITE(gil_signal, gil_signal_cases);
