// SPDX-License-Identifier: MIT
/* Handoff policies: the kernel backend has all three, the others one. */
#include "conformance.h"

void test_policy(void)
{
	static const int own_policy[] = {
		[GIL_BACKEND_CPYTHON] = GIL_POLICY_CPYTHON,
		[GIL_BACKEND_FUTEX] = GIL_POLICY_FIFO,
	};
	struct fixture fx;
	struct gil *gil;
	bool kernel;
	int own;

	fx_setup(&fx, 0, FX_GIL);
	gil = fx.gil;
	kernel = gil_backend(gil) == GIL_BACKEND_KERNEL;
	own = gil_get_policy(gil);
	if (!kernel)
		CHECK_CMP(own, ==, own_policy[gil_backend(gil)]);
	for (unsigned int p = 0; p < GIL_POLICY_COUNT; p++) {
		CHECK_CMP(gil_policy_from_name(gil_policy_name(p)), ==, (int)p);
		if (kernel) {
			CHECK_OK(gil_set_policy(gil, p));
			CHECK_CMP(gil_get_policy(gil), ==, (int)p);
		} else {
			CHECK_RET(gil_set_policy(gil, p),
				  (int)p == own ? 0 : -EOPNOTSUPP);
			CHECK_CMP(gil_get_policy(gil), ==, own);
		}
	}
	CHECK_RET(gil_set_policy(gil, GIL_POLICY_COUNT), -EINVAL);
	CHECK_RET(gil_set_policy(gil, ~0u), -EINVAL);
	CHECK(!gil_policy_name(GIL_POLICY_COUNT));
	CHECK_RET(gil_policy_from_name("bogus"), -EINVAL);
	CHECK_RET(gil_policy_from_name(NULL), -EINVAL);
	fx_teardown(&fx);
}
