// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the handoff policies (policy.c): their names, and whom a release
 * hands the GIL to under GIL_POLICY_FIFO and GIL_POLICY_IO, with agents
 * standing in for Python threads (agent.h).
 */
#include <kunit/test.h>
#include <linux/delay.h>

#include "agent.h"

/* A thread's GIL_POLICY_IO class, as its last release would have set it. */
static void gil_lt_set_cpu_bound(struct gil *gil, struct gil_lt_agent *a,
				 bool cpu_bound)
{
	spin_lock(&gil->lock);
	a->t->cpu_bound = cpu_bound;
	spin_unlock(&gil->lock);
}

/* @policy, and an hour's interval: no waiter asks for the GIL by time. */
static void gil_lt_policy_setup(struct kunit *test, u32 policy)
{
	struct gil *gil = gil_lt_gil(test);

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	KUNIT_ASSERT_EQ(test, gil_set_policy(gil, policy), 0);
}

static void gil_test_policy_names(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	u32 p;

	for (p = 0; p < GIL_POLICY_COUNT; p++) {
		KUNIT_EXPECT_EQ(test, gil_policy_from_name(gil_policy_name(p)),
				(int)p);
		KUNIT_EXPECT_EQ(test, gil_set_policy(gil, p), 0);
		KUNIT_EXPECT_EQ(test, gil_get_policy(gil), p);
		KUNIT_EXPECT_EQ(test, gil->shared->policy, p);
	}
	KUNIT_EXPECT_EQ(test, gil_policy_from_name("fifo\n"), GIL_POLICY_FIFO);
	KUNIT_EXPECT_EQ(test, gil_policy_from_name("FIFO"), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_policy_from_name(""), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_set_policy(gil, GIL_POLICY_COUNT), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_get_policy(gil), GIL_POLICY_COUNT - 1);
}

/*
 * GIL_POLICY_FIFO: each release hands the GIL to the longest waiter,
 * passing over one whose process shut the GIL down, so the GIL is never
 * free and the releaser, asking again at once, comes last.
 */
static void gil_test_fifo_order(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b, *c, *d;
	struct gil_stats st;

	gil_lt_policy_setup(test, GIL_POLICY_FIFO);
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
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b, *c;
	struct gil_lt_snap s;
	struct gil_stats st;

	gil_lt_policy_setup(test, GIL_POLICY_IO);
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

static struct kunit_case gil_policy_cases[] = {
	KUNIT_CASE(gil_test_policy_names),
	KUNIT_CASE(gil_test_fifo_order),
	KUNIT_CASE(gil_test_io_priority),
	{}
};

GIL_LT_SUITE(gil_policy, gil_policy_cases);
