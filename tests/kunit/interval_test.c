// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the validation of the switch interval, the same rules for the
 * module parameter and the ioctl, and of the options that change how it
 * runs, on a GIL of the case's own (agent.h).
 */
#include <kunit/test.h>

#include "agent.h"
#include "compat.h"

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
	struct gil *gil = gil_lt_gil(test);

	KUNIT_EXPECT_EQ(test, gil_get_interval(gil),
			READ_ONCE(gil_default_interval_us));
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->interval_us),
			(u64)READ_ONCE(gil_default_interval_us));
	KUNIT_EXPECT_EQ(test, gil_interval_check(gil_default_interval_us), 0);
}

static void gil_test_interval_validation(struct kunit *test)
{
	const struct gil_lt_interval_case *c = test->param_value;
	struct gil *gil = gil_lt_gil(test);
	s64 before = gil_get_interval(gil);
	s64 expected = c->err ? before : c->us;

	KUNIT_EXPECT_EQ(test, gil_interval_check(c->us), c->err);
	KUNIT_EXPECT_EQ(test, gil_set_interval(gil, c->us), c->err);
	KUNIT_EXPECT_EQ(test, gil_get_interval(gil), expected);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->interval_us), (u64)expected);
}

/*
 * Off by default; a bad value changes nothing.  The debug kernel has
 * CONFIG_SCHED_INFO (debug.config), so GIL_OPT_PREEMPT_AWARE is there.
 */
static void gil_test_options(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);

	KUNIT_EXPECT_EQ(test, gil_get_options(gil), 0);
	KUNIT_ASSERT_TRUE(test, GIL_HAVE_RUN_DELAY);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, GIL_OPT_PREEMPT_AWARE), 0);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil), GIL_OPT_PREEMPT_AWARE);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, 1U << 31), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, GIL_OPTS_ALL << 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil), GIL_OPT_PREEMPT_AWARE);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, 0), 0);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil), 0);
}

static struct kunit_case gil_interval_cases[] = {
	KUNIT_CASE(gil_test_interval_default),
	KUNIT_CASE(gil_test_options),
	KUNIT_CASE_PARAM(gil_test_interval_validation,
			 gil_lt_interval_cases_gen_params),
	{}
};

GIL_LT_SUITE(gil_interval, gil_interval_cases);
