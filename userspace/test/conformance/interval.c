// SPDX-License-Identifier: MIT
/* The switch interval: sys.setswitchinterval's rules. */
#include <math.h>

#include "conformance.h"

static int64_t interval_us(struct gil *gil)
{
	double s = -1;

	CHECK_OK(gil_get_switch_interval(gil, &s));
	return (int64_t)(s * 1e6 + 0.5);	/* no libm: s >= 0 */
}

void test_interval(void)
{
	struct fixture fx;
	struct gil *gil;
	double s = 0;

	fx_setup(&fx, 0, FX_GIL);
	gil = fx.gil;
	CHECK_OK(gil_get_switch_interval(gil, &s));
	CHECK(s == 0.005);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_DEFAULT_US);

	CHECK_RET(gil_set_switch_interval(gil, 0.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -0.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -1.0), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, -INFINITY), -EINVAL);
	CHECK_RET(gil_set_switch_interval(gil, NAN), -EINVAL);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_DEFAULT_US);

	CHECK_OK(gil_set_switch_interval(gil, 1e-9));	/* CPython: 0, waits 1 us */
	CHECK_CMP(interval_us(gil), ==, 1);
	CHECK_OK(gil_set_switch_interval(gil, 2.5e-6));	/* truncated */
	CHECK_CMP(interval_us(gil), ==, 2);
	CHECK_OK(gil_get_switch_interval(gil, &s));
	CHECK(s == 2e-6);
	CHECK_OK(gil_set_switch_interval(gil, 0.0123456789));
	CHECK_CMP(interval_us(gil), ==, 12345);
	CHECK_OK(gil_set_switch_interval(gil, 1.0));
	CHECK_CMP(interval_us(gil), ==, 1000000);

	CHECK_OK(gil_set_switch_interval(gil, GIL_INTERVAL_MAX_US / 1e6));
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_MAX_US);
	CHECK_RET(gil_set_switch_interval(gil, (GIL_INTERVAL_MAX_US + 1) / 1e6),
		  -ERANGE);
	CHECK_RET(gil_set_switch_interval(gil, 1e300), -ERANGE);
	CHECK_RET(gil_set_switch_interval(gil, INFINITY), -ERANGE);
	CHECK_CMP(interval_us(gil), ==, GIL_INTERVAL_MAX_US);
	fx_teardown(&fx);
}
