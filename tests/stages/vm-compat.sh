#!/bin/bash
# make check, vm-KERNEL-compat: 32-bit callers (issue 17).  The uapi tests
# and the fuzzer built -m32 (make guest's $GIL_BUILD/guest32), in a guest
# of Debian's 6.1 and 6.12 kernels (IA32_EMULATION), whose every ioctl goes
# through the compat path (plan compat).  The debug kernel has no
# IA32_EMULATION.
#
# usage: tests/stages/vm-compat.sh [KERNEL...]   (default: 6.1 6.12)
# Environment: GIL_COMPAT_SECONDS, the fuzzer's run (default 10); a
# kernel's whole run, boot and tests, takes 1 min 45 s here.
. "$(dirname "$0")/../lib.sh"
stage_init
secs=${GIL_COMPAT_SECONDS:-10}

kernels=("$@")
(($#)) || kernels=(6.1 6.12)
for k in "${kernels[@]}"; do
	s=vm-$k-compat
	stage "$s: the uapi tests and the fuzzer as 32-bit callers"
	if [[ ! -f $GIL_BUILD/kmod/$k/gil.ko || ! -d $GIL_BUILD/guest32/m32 ]]; then
		result "$s" 1 "gil.ko for $k and the 32-bit programs (make guest) exist"
		continue
	fi
	GIL_VM_EXTRA_ROOT=$GIL_BUILD/guest32 GIL_VM_KMOD=$k \
		GIL_VM_ENV="GIL_COMPAT_SECONDS=$secs" \
		tests/vm/run.sh "$k" compat "$s" ||
		grep -qs '^not ok' "$GIL_RESULTS/$s.tap" ||
		result "$s" 1 "the VM runner ran"
	# The fuzzer reports its counts on a line of its own.
	grep -qs '^# stress-fuzz: .* findings=0$' "$GIL_BUILD/vm/$s/output.txt"
	result "$s" $? "the 32-bit fuzzer reported, with zero findings"
done
