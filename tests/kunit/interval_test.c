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

/* Off by default; a bad value, or one the kernel cannot do, changes nothing. */
static void gil_test_options(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	int want = GIL_HAVE_RUN_DELAY ? 0 : -EOPNOTSUPP;

	KUNIT_EXPECT_EQ(test, gil_get_options(gil), 0);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, GIL_OPT_PREEMPT_AWARE), want);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil),
			want ? 0 : GIL_OPT_PREEMPT_AWARE);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, 0x80000000U), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, GIL_OPTS_ALL << 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil),
			want ? 0 : GIL_OPT_PREEMPT_AWARE);
	KUNIT_EXPECT_EQ(test, gil_set_options(gil, 0), 0);
	KUNIT_EXPECT_EQ(test, gil_get_options(gil), 0);
}

/* GIL_OPT_PREEMPT_AWARE's extension of a wait, at a 10 ms interval. */
struct gil_lt_extension_case {
	u64 delay_ns, elapsed_ns, want_ns;
	const char *name;
};

static const struct gil_lt_extension_case gil_lt_extension_cases[] = {
	{ 0, 10000000, 0, "no run delay: ask" },
	{ 499999, 10000000, 0, "under a twentieth: ask" },
	{ 500000, 10000000, 500000, "a twentieth: wait as long" },
	{ 10000000, 10000000, 10000000, "preempted throughout" },
	{ 200000000, 10000000, 10000000, "a torn read: no more than passed" },
	{ 10000000, 400000, 0, "bounded below a twentieth: ask" },
	{ U64_MAX, U64_MAX, U64_MAX, "no overflow" },
};

GIL_LT_NAME_DESC(gil_lt_extension_case);
KUNIT_ARRAY_PARAM(gil_lt_extension_cases, gil_lt_extension_cases,
		  gil_lt_extension_case_desc);

static void gil_test_preempt_extension(struct kunit *test)
{
	const struct gil_lt_extension_case *c = test->param_value;

	KUNIT_EXPECT_EQ(test, gil_preempt_extension(c->delay_ns, c->elapsed_ns,
						    10 * NSEC_PER_MSEC),
			c->want_ns);
}

static struct kunit_case gil_interval_cases[] = {
	KUNIT_CASE(gil_test_interval_default),
	KUNIT_CASE(gil_test_options),
	KUNIT_CASE_PARAM(gil_test_preempt_extension,
			 gil_lt_extension_cases_gen_params),
	KUNIT_CASE_PARAM(gil_test_interval_validation,
			 gil_lt_interval_cases_gen_params),
	{}
};

GIL_LT_SUITE(gil_interval, gil_interval_cases);
