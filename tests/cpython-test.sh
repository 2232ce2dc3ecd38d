#!/bin/bash
# make cpython-test: CPython's own regression tests for threads on the
# patched CPython 3.13 (userspace/cpython/), in a guest, under every GIL:
# CPython's own, /dev/gil with each policy, libgil's futex GIL.  Ends with
# one line "N passed, N failed" (a test module under one GIL is one test).
#
# Environment: KERNEL (6.1, 6.12 or debug; default 6.1), and, passed to the
# plan (tests/vm/plans/cpython-test.sh), GIL_CPYTHON_GILS and
# GIL_CPYTHON_TESTS (comma-separated) to run fewer, and
# GIL_CPYTHON_TIMEOUT, regrtest's limit in seconds for one test module
# (default 1800; the debug kernel's test_queue needs more).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

kernel=${KERNEL:-6.1}
stage=cpython-$kernel
start=$SECONDS

tests/setup.sh
make -s BUILD="$GIL_BUILD" userspace guest
userspace/cpython/build.sh
if [[ $kernel == debug ]]; then
	make -s kunit-kernel
	tests/build-module.sh debug "$GIL_BUILD/kernels/debug-6.1" GIL_KUNIT=y >/dev/null
else
	tests/build-module.sh "$kernel" "$(kernel_kdir "$kernel")" >/dev/null
fi

rm -f "$GIL_RESULTS/$stage.tap"
env=
for v in GIL_CPYTHON_GILS GIL_CPYTHON_TESTS GIL_CPYTHON_TIMEOUT; do
	[[ -z ${!v:-} ]] || env+=" $v=${!v}"
done
# Under TCG the whole list takes 10 to 20 minutes a GIL; KASAN triples it.
GIL_VM_PYTHON=1 GIL_VM_TIMEOUT=${GIL_VM_TIMEOUT:-14400} \
	GIL_VM_ENV="${env# }" tests/vm/run.sh "$kernel" cpython-test "$stage" || true

passed=$(grep -c '^ok - ' "$GIL_RESULTS/$stage.tap" || true)
failed=$(grep -c '^not ok - ' "$GIL_RESULTS/$stage.tap" || true)
grep '^not ok - ' "$GIL_RESULTS/$stage.tap" | sed 's/^/  /' || true
echo "took $((SECONDS - start))s"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
