// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: priority inheritance (GIL_OPT_PRIO_INHERIT, pi.c): what a waiter
 * lends, whom it boosts, and the holder's own parameters back after, with
 * agents standing in for Python threads (agent.h).
 */
#include <kunit/test.h>
#include <linux/sched.h>
#include <linux/sched/prio.h>

#include "agent.h"

struct gil_lt_lent_case {
	int prio;
	unsigned int want;
	const char *name;
};

static const struct gil_lt_lent_case gil_lt_lent_cases[] = {
	{ 120, 0, "SCHED_NORMAL nice 0: nothing" },
	{ 100, 0, "nice -20: nothing" },
	{ MAX_RT_PRIO - 1 - 20, 20, "SCHED_FIFO 20: 20" },
	{ 0, MAX_RT_PRIO - 1, "SCHED_FIFO 99: 99" },
	{ -1, MAX_RT_PRIO - 1, "SCHED_DEADLINE: 99" },
};

GIL_LT_NAME_DESC(gil_lt_lent_case);
KUNIT_ARRAY_PARAM(gil_lt_lent_cases, gil_lt_lent_cases,
		  gil_lt_lent_case_desc);

static void gil_test_pi_lent(struct kunit *test)
{
	const struct gil_lt_lent_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, gil_pi_lent(c->prio), c->want);
}

struct gil_lt_outranks_case {
	u32 policy;
	u32 priority;
	unsigned int lent;
	bool want;
	const char *name;
};

static const struct gil_lt_outranks_case gil_lt_outranks_cases[] = {
	{ SCHED_NORMAL, 0, 1, false, "SCHED_NORMAL below SCHED_FIFO 1" },
	{ SCHED_IDLE, 0, 1, false, "SCHED_IDLE below SCHED_FIFO 1" },
	{ SCHED_FIFO, 19, 20, false, "SCHED_FIFO 19 below 20" },
	{ SCHED_RR, 20, 20, true, "SCHED_RR 20 at 20" },
	{ SCHED_FIFO, 30, 20, true, "SCHED_FIFO 30 above 20" },
	{ SCHED_DEADLINE, 0, 99, true, "SCHED_DEADLINE above all" },
};

GIL_LT_NAME_DESC(gil_lt_outranks_case);
KUNIT_ARRAY_PARAM(gil_lt_outranks_cases, gil_lt_outranks_cases,
		  gil_lt_outranks_case_desc);

static void gil_test_pi_outranks(struct kunit *test)
{
	const struct gil_lt_outranks_case *c = test->param_value;
	struct sched_attr own = {
		.sched_policy = c->policy,
		.sched_priority = c->priority,
	};

	KUNIT_EXPECT_EQ(test, gil_pi_outranks(&own, c->lent), c->want);
}

static u64 gil_lt_boosts(struct gil *gil)
{
	struct gil_stats st;

	gil_lt_read_stats(gil, &st);
	return st.priority_boosts;
}

static bool gil_lt_runs_at(struct gil_lt_agent *a, u32 policy, u32 prio)
{
	return READ_ONCE(a->task->policy) == policy &&
	       READ_ONCE(a->task->rt_priority) == prio;
}

/*
 * @b, at SCHED_FIFO 20, waits behind @a, which holds the GIL, with the
 * option @on or off; an hour's interval, so that @b never asks.
 */
static void gil_lt_pi_pair(struct kunit *test, bool on,
			   struct gil_lt_agent **a, struct gil_lt_agent **b)
{
	struct sched_attr fifo = {
		.sched_policy = SCHED_FIFO,
		.sched_priority = 20,
	};
	struct gil *gil = gil_lt_gil(test);

	gil_lt_start_pair(test, GIL_INTERVAL_MAX_US, "holder", "rt", a, b);
	KUNIT_ASSERT_EQ(test, gil_set_options(gil,
					      on ? GIL_OPT_PRIO_INHERIT : 0), 0);
	KUNIT_ASSERT_EQ(test, sched_setattr_nocheck((*b)->task, &fifo), 0);
	gil_lt_queue(test, *b, 1);
}

/* The holder runs at the waiter's priority until it releases. */
static void gil_test_pi_boosts_the_holder(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_stats st;

	gil_lt_pi_pair(test, true, &a, &b);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_runs_at(a, SCHED_FIFO, 20),
					    10000));
	/* Counted once the boost is set: a moment after, seen from here. */
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_boosts(gil) >= 1, 10000));
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.priority_boosts, 1);
	/* Released, it is itself again; the waiter, now holder, lends none. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_TRUE(test, gil_lt_runs_at(a, SCHED_NORMAL, 0));
	KUNIT_EXPECT_EQ(test, task_nice(a->task), 0);
	KUNIT_EXPECT_TRUE(test, gil_lt_runs_at(b, SCHED_FIFO, 20));
}

/* Turned off mid-wait, the option ends the boost at once. */
static void gil_test_pi_off_ends_the_boost(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;

	gil_lt_pi_pair(test, true, &a, &b);
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_runs_at(a, SCHED_FIFO, 20),
					    10000));
	KUNIT_ASSERT_EQ(test, gil_set_options(gil, 0), 0);
	KUNIT_EXPECT_TRUE(test, gil_lt_runs_at(a, SCHED_NORMAL, 0));
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
}

/* Without the option a real-time waiter changes nothing. */
static void gil_test_pi_not_without_the_option(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_stats st;

	gil_lt_pi_pair(test, false, &a, &b);
	msleep(20);
	KUNIT_EXPECT_TRUE(test, gil_lt_runs_at(a, SCHED_NORMAL, 0));
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.priority_boosts, 0);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
}

static struct kunit_case gil_pi_cases[] = {
	KUNIT_CASE_PARAM(gil_test_pi_lent, gil_lt_lent_cases_gen_params),
	KUNIT_CASE_PARAM(gil_test_pi_outranks,
			 gil_lt_outranks_cases_gen_params),
	KUNIT_CASE(gil_test_pi_boosts_the_holder),
	KUNIT_CASE(gil_test_pi_off_ends_the_boost),
	KUNIT_CASE(gil_test_pi_not_without_the_option),
	{}
};

GIL_LT_SUITE(gil_pi, gil_pi_cases);
