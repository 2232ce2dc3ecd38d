#!/bin/bash
# make check, the debug/KUnit kernel (built once, then cached) and gil.ko
# with its KUnit suites for it; results in the build stage.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "debug kernel (built once, then cached)"
if make -s kunit-kernel; then
	run_test build "gil.ko with KUnit suites builds for the debug kernel" \
		tests/static-check.sh build debug GIL_KUNIT=y
else
	result build 1 "debug kernel builds"
fi
