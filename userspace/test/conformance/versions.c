// SPDX-License-Identifier: MIT
/* Versions: of the library, and of the module's ABI. */
#include "conformance.h"

void test_versions(void)
{
	struct fixture fx;
	unsigned int major = 0, minor = 0;

	fx_setup(&fx, 0, FX_TSTATE);
	CHECK_CMP(gil_version_major(), ==, GIL_VERSION_MAJOR);
	CHECK_CMP(gil_version_minor(), ==, GIL_VERSION_MINOR);
	CHECK_OK(gil_check_version(GIL_VERSION_MAJOR, GIL_VERSION_MINOR));
	CHECK_OK(gil_check_version(GIL_VERSION_MAJOR, 0));
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR, GIL_VERSION_MINOR + 1),
		  -ENOTSUP);
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR + 1, 0), -ENOTSUP);
	CHECK_RET(gil_check_version(GIL_VERSION_MAJOR - 1, GIL_VERSION_MINOR),
		  -ENOTSUP);
	if (gil_backend(fx.gil) == GIL_BACKEND_KERNEL) {
		CHECK_OK(gil_kernel_abi(fx.gil, &major, &minor));
		CHECK_CMP(major, ==, GIL_ABI_MAJOR);
		CHECK_CMP(minor, ==, GIL_ABI_MINOR);
	} else {
		CHECK_RET(gil_kernel_abi(fx.gil, &major, &minor), -EOPNOTSUPP);
	}
	/* The thread state keeps the closed GIL's memory for this. */
	fx_close_gil(&fx);
	CHECK_RET(gil_kernel_abi(fx.gil, &major, &minor), -EBADF);
	fx_teardown(&fx);
}
