#!/bin/bash
# make check, vm-KERNEL: the userspace tests in a guest of KERNEL (6.1,
# 6.12, debug); on the debug kernel, the KUnit suites too, whose KTAP then
# goes through kunit.py parse.
#
# usage: tests/stages/vm.sh KERNEL
. "$(dirname "$0")/../lib.sh"
stage_init
k=$1

stage "vm-$k"
if [[ ! -f $GIL_BUILD/kmod/$k/gil.ko ]]; then
	result "vm-$k" 1 "gil.ko for $k exists"
	exit
fi
# KASAN and lockdep under TCG: the debug kernel's plan takes 10 to 15
# minutes, the Debian kernels' 2.
timeout_s=900
[[ $k == debug ]] && timeout_s=2700
if ! GIL_VM_TIMEOUT=$timeout_s tests/vm/run.sh "$k" test &&
   ! grep -qs '^not ok' "$GIL_RESULTS/vm-$k.tap"; then
	result "vm-$k" 1 "the VM runner ran"
fi
if [[ $k == debug ]]; then
	stage "kunit: the suites' KTAP through kunit.py parse"
	tests/kunit/parse.sh "$GIL_BUILD/vm/vm-debug/output.txt"
fi
