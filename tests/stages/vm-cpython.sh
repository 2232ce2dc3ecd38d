#!/bin/bash
# make check, vm-6.1-cpython: the patched CPython 3.13's test_thread and
# test_threading on /dev/gil in a 6.1 guest.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "vm-6.1-cpython: CPython's thread tests on /dev/gil"
if [[ -f $GIL_BUILD/cpython/guest/.stamp && -f $GIL_BUILD/kmod/6.1/gil.ko ]]; then
	# make cpython-test runs the whole list, on every GIL.
	GIL_VM_PYTHON=1 GIL_VM_TIMEOUT=1200 \
		GIL_VM_ENV="GIL_CPYTHON_GILS=kernel GIL_CPYTHON_TESTS=test_thread,test_threading" \
		tests/vm/run.sh 6.1 cpython-test vm-6.1-cpython ||
		grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-cpython.tap" ||
		result vm-6.1-cpython 1 "the VM runner ran"
	grep -s '^not ok' "$GIL_RESULTS/vm-6.1-cpython.tap" | sed 's/^/  /'
else
	result vm-6.1-cpython 1 "the patched CPython and gil.ko for 6.1 exist"
fi
