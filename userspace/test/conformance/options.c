// SPDX-License-Identifier: MIT
/*
 * The GIL's options (gil_set_options): the kernel backend has
 * GIL_OPT_PREEMPT_AWARE (every test kernel has CONFIG_SCHED_INFO, so it is
 * asserted, not skipped) and GIL_OPT_PRIO_INHERIT, the userspace backends
 * none.  Every backend
 * refuses unknown bits with -EINVAL before an option it lacks with
 * -EOPNOTSUPP, and a refused call changes nothing.
 */
#include "conformance.h"

static unsigned int options_of(struct gil *gil)
{
	unsigned int options = ~0u;

	CHECK_OK(gil_get_options(gil, &options));
	return options;
}

void test_options(void)
{
	struct fixture fx;
	struct gil *gil;
	unsigned int want;
	bool kernel;
	int r;

	fx_setup(&fx, 1e-3, FX_GIL);	/* no thread state: none needed */
	gil = fx.gil;
	kernel = gil_backend(gil) == GIL_BACKEND_KERNEL;
	want = kernel ? GIL_OPTS_ALL : 0;
	CHECK_CMP(options_of(gil), ==, 0);		/* off in a new GIL */
	CHECK_OK(gil_set_options(gil, 0));
	for (unsigned int o = 1; o & GIL_OPTS_ALL; o <<= 1) {
		CHECK_RET(gil_set_options(gil, o), kernel ? 0 : -EOPNOTSUPP);
		CHECK_CMP(options_of(gil), ==, kernel ? o : 0);
	}
	CHECK_RET(gil_set_options(gil, GIL_OPTS_ALL),
		  kernel ? 0 : -EOPNOTSUPP);
	CHECK_CMP(options_of(gil), ==, want);

	/* Unknown bits, alone or beside a known one: -EINVAL first. */
	CHECK_RET(gil_set_options(gil, GIL_OPTS_ALL << 1), -EINVAL);
	CHECK_RET(gil_set_options(gil, GIL_OPT_PREEMPT_AWARE | 1u << 31),
		  -EINVAL);
	CHECK_RET(gil_set_options(gil, ~GIL_OPTS_ALL), -EINVAL);
	CHECK_RET(gil_set_options(gil, ~0u), -EINVAL);
	CHECK_CMP(options_of(gil), ==, want);

	/* With them on, a holder that runs still answers drop requests. */
	fx.ts = t_gil_tstate_new(gil);
	CHECK_OK(gil_acquire(fx.ts));
	fx_start(&fx, 1, acquire_once_thread);
	SPIN_UNTIL((r = gil_check(fx.ts)) != 0, 5000);
	CHECK_RET(r, GIL_CHECK_YIELDED);
	fx_join(&fx);
	CHECK_CMP(fx.w[0].count, ==, 1);
	CHECK_OK(gil_release(fx.ts));

	CHECK_OK(gil_set_options(gil, 0));
	CHECK_CMP(options_of(gil), ==, 0);
	/* The thread state keeps the closed GIL's memory for these. */
	fx_close_gil(&fx);
	CHECK_RET(gil_set_options(gil, 0), -EBADF);
	CHECK_RET(gil_get_options(gil, &want), -EBADF);
	fx_teardown(&fx);
}
