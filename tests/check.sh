#!/bin/bash
# make check: every test of the project, stage by stage, then one summary
# line "N passed, N failed" counting every test that ran.
#
# Each stage is a script in tests/stages/ (which says what it tests),
# appending its results to build/results/STAGE.tap: cpython (the patched
# CPython 3.13), host (userspace builds, uapi layout), lib (libgil, its
# programs and its install), build (gil.ko for Debian 6.1 and 6.12 with W=1
# and sparse), static (checkpatch --strict), package (modules_install,
# DKMS, udev rule, licenses), debug-kernel (the debug/KUnit kernel), vm
# 6.1, 6.12 and debug (userspace tests in a guest; on debug, the KUnit
# suites under lockdep, KASAN, kmemleak and friends), vm-compat (the uapi
# tests and the fuzzer as 32-bit callers, on 6.1 and 6.12), vm-install (modprobe
# from modules_install's tree), vm-tracing (bpftrace and perf on the
# tracepoints), vm-cpython (CPython's test_thread and test_threading on
# /dev/gil), stress (make stress for 5 s a part, under the debug kernel).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

rm -rf "$GIL_RESULTS"
mkdir -p "$GIL_RESULTS"
GIL_CHECK_START=$(date +%s)
export GIL_CHECK_START

stage "setup"
tests/setup.sh || die "setup failed"

for s in cpython host lib build static package debug-kernel "vm 6.1" "vm 6.12" \
	vm-compat "vm debug" vm-install vm-tracing vm-cpython stress; do
	# shellcheck disable=SC2086 # the stage, then its arguments
	set -- $s
	"tests/stages/$1.sh" "${@:2}"
done

stage "summary"
passed=$(cat "$GIL_RESULTS"/*.tap | grep -c '^ok - ')
failed=$(cat "$GIL_RESULTS"/*.tap | grep -c '^not ok - ')
for f in "$GIL_RESULTS"/*.tap; do
	printf '  %-10s %3d passed, %d failed\n' "$(basename "$f" .tap)" \
		"$(grep -c '^ok - ' "$f")" "$(grep -c '^not ok - ' "$f")"
done
grep -h '^not ok - ' "$GIL_RESULTS"/*.tap | sed 's/^/  /'
echo "took $(($(date +%s) - GIL_CHECK_START))s"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
