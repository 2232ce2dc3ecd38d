#!/bin/bash
# Boot a kernel under QEMU (TCG) with a busybox initramfs, run a test plan
# inside, relay its output, and fail on any kernel bug report.
#
# usage: run.sh KERNEL PLAN [STAGE]
#   KERNEL  6.1, 6.12 or debug (see tests/lib.sh)
#   PLAN    a plan under tests/vm/plans (test, demo, bench, stress), or
#           the path of a plan file
#   STAGE   name under which results are recorded (default vm-KERNEL)
# Environment:
#   GIL_VM_TIMEOUT  seconds before the guest is killed (default 900)
#   GIL_VM_MEM      guest memory in MiB (default 1024; 2048 with CPython)
#   GIL_VM_SMP      vCPUs (default 2; the debug and KCSAN kernels take 8)
#   GIL_VM_KMOD     which build/kmod/NAME/gil.ko to load (default KERNEL)
#   GIL_VM_ENV      NAME=VALUE words for the plan's environment
#   GIL_VM_QEMU_ARGS  more QEMU arguments, e.g. "-monitor unix:m.sock,server,nowait"
#   GIL_VM_CMDLINE  more kernel command-line words, e.g. "tsc=reliable"
#                   (without a tsc= word the guest boots with tsc=unstable)
#   GIL_VM_PYTHON   1: pack the patched CPython too (userspace/cpython/
#                   build.sh builds it), at /opt/kgil-python, and its
#                   Python programs in /opt/kgil-python/share/kgil
#   GIL_VM_PYTHON_STOCK  1: and stock CPython (build.sh stock), at
#                   /opt/stock-python
#   GIL_VM_EXTRA_ROOT  a directory copied over the guest's root, e.g. the
#                   INSTALL_MOD_PATH of make modules_install, for modprobe
#                   (tests/modprobe-check.sh)
#
# Needs build/kmod/KERNEL/gil.ko and the guest programs in build/guest/.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

kernel=$1 plan=$2 stage=${3:-vm-$kernel}
timeout_s=${GIL_VM_TIMEOUT:-900}
image=$(kernel_image "$kernel") || die "kernel $kernel is not installed (make setup)"
[[ -f $image ]] || die "no kernel image $image (make setup, or make kunit-kernel)"
ko=$GIL_BUILD/kmod/${GIL_VM_KMOD:-$kernel}/gil.ko
[[ -f $ko ]] || die "no module $ko: build it first (make modules)"
plan_file=$GIL_ROOT/tests/vm/plans/$plan.sh
[[ $plan == */* ]] && plan_file=$plan
[[ -f $plan_file ]] || die "no plan $plan_file"

work=$GIL_BUILD/vm/$stage
rm -rf "$work"
mkdir -p "$work/root"/{bin,lib/gil,proc,sys,dev,tmp}

# The initramfs: busybox, the module, the static guest programs, the plan.
root=$work/root
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "$GIL_ROOT/tests/vm/init" "$root/init"
cp "$GIL_ROOT/tests/vm/guest.sh" "$root/lib/gil/guest.sh"
cp "$GIL_ROOT/tests/vm/stress-parts.sh" "$root/lib/gil/stress-parts.sh"
# What a kernel bug report looks like: one list, for the console here and
# for dmesg in the guest (guest.sh's kernel_log_clean).
# And whose it is (attribute-reports.sh, beside the list, as here).
bug_patterns=$GIL_ROOT/tests/vm/kernel-bug-patterns
cp "$bug_patterns" "$root/lib/gil/kernel-bug-patterns"
cp "$GIL_ROOT/tests/vm/attribute-reports.sh" "$root/lib/gil/attribute-reports.sh"
cp "$plan_file" "$root/plan.sh"
cp "$ko" "$root/lib/gil/"
if [[ -d $GIL_BUILD/guest ]]; then
	cp -r "$GIL_BUILD/guest/." "$root/bin/"
fi
if [[ ${GIL_VM_PYTHON:-0} == 1 ]]; then
	[[ -f $GIL_BUILD/cpython/guest/.stamp ]] ||
		die "no CPython for the guest: run userspace/cpython/build.sh"
	cp -a "$GIL_BUILD/cpython/guest/." "$root/"
	mkdir -p "$root/opt/kgil-python/share/kgil"
	cp "$GIL_ROOT"/userspace/cpython/*.py "$root/opt/kgil-python/share/kgil/"
fi
if [[ ${GIL_VM_PYTHON_STOCK:-0} == 1 ]]; then
	[[ -f $GIL_BUILD/cpython-stock/guest/.stamp ]] ||
		die "no stock CPython for the guest: run userspace/cpython/build.sh stock"
	cp -a "$GIL_BUILD/cpython-stock/guest/." "$root/"
fi
if [[ -n ${GIL_VM_EXTRA_ROOT:-} ]]; then
	[[ -d $GIL_VM_EXTRA_ROOT ]] || die "GIL_VM_EXTRA_ROOT: no directory $GIL_VM_EXTRA_ROOT"
	cp -a "$GIL_VM_EXTRA_ROOT/." "$root/"
fi
(cd "$root" && find . | cpio -o -H newc --quiet) >"$work/initramfs.cpio"
# CPython's tree and its tests' processes need more than the C programs.
mem=${GIL_VM_MEM:-1024}
[[ ${GIL_VM_PYTHON:-0} != 1 ]] || mem=${GIL_VM_MEM:-2048}

: >"$work/console.log"
: >"$work/output.log"
: >"$work/dmesg.log"
echo "== $stage: booting $(basename "$image") with plan '$plan'"

# A soft lockup panics, with every CPU's backtrace, rather than waiting for
# the timeout: the guest then dies at once and its console says where.
cmdline="console=ttyS0 loglevel=5 oops=panic panic=-1 log_buf_len=8M"
cmdline+=" softlockup_panic=1 softlockup_all_cpu_backtrace=1"
# The clock must not change under a running plan: when the clocksource
# watchdog drops a TSC that looked stable at boot (6.12 guests, 70 s in, on
# a busy host), sched_clock's static key is re-patched with int3 while both
# vCPUs run, and TCG can execute the stale int3: an Oops in sched_clock_cpu.
# tsc=unstable is the kernel's own advice and what 6.1 decides by itself.
[[ " ${GIL_VM_CMDLINE:-} " == *" tsc="* ]] || cmdline+=" tsc=unstable"
qemu_rc=0
timeout "$timeout_s" qemu-system-x86_64 -accel tcg -smp "${GIL_VM_SMP:-2}" -m "$mem" \
	-nodefaults -display none -no-reboot \
	-kernel "$image" -initrd "$work/initramfs.cpio" \
	-append "$cmdline ${GIL_VM_CMDLINE:-} ${GIL_VM_ENV:-}" \
	-serial "file:$work/console.log" \
	-serial "file:$work/output.log" \
	-serial "file:$work/dmesg.log" ${GIL_VM_QEMU_ARGS:-} &
qemu_pid=$!
# Relay the plan's output while it runs.
tail -n +1 -F --pid="$qemu_pid" "$work/output.log" 2>/dev/null | tr -d '\r' &
tail_pid=$!
wait "$qemu_pid" || qemu_rc=$?
wait "$tail_pid" || true

tr -d '\r' <"$work/output.log" >"$work/output.txt"
mkdir -p "$GIL_RESULTS"
# Test result lines from the guest count as tests of this stage.
collect_tap "$stage" "$work/output.txt"

finished=0 status=0
if [[ $qemu_rc == 124 ]]; then
	echo "error: $stage: guest timed out after ${timeout_s}s (see $work/console.log)"
	finished=1
elif ! grep -q '^GIL-VM-EXIT ' "$work/output.txt"; then
	echo "error: $stage: guest died before finishing its plan (qemu exit $qemu_rc); console:"
	tail -n 60 "$work/console.log" | sed 's/^/    /'
	finished=1
fi
result "$stage" "$finished" "guest finished its plan"
guest_rc=$(sed -n 's/^GIL-VM-EXIT //p' "$work/output.txt" | tail -n 1)
[[ $finished == 0 && $guest_rc == 0 ]] || status=1

clock_re="Marking clocksource 'tsc' as unstable|TSC found unstable after boot"
if grep -E -q "$clock_re" "$work/console.log"; then
	echo "error: $stage: the guest's clocksource changed during the run:"
	grep -E "$clock_re" "$work/console.log" | sed 's/^/    /'
	result "$stage" 1 "clocksource stayed as booted"
	status=1
else
	result "$stage" 0 "clocksource stayed as booted"
fi

# Whatever the tests said, a kernel bug report on the console that touches
# gil.ko fails the run.  The kernel's own (a race in its TLB flush, say) are
# not gil.ko's findings: attribute-reports.sh tells them apart by their
# stacks, and they are listed here and in kernel-reports.txt, which
# make stress's summary prints; none is dropped.
attribute_rc=0
"$GIL_ROOT/tests/vm/attribute-reports.sh" -f "$work/console.log" >"$work/reports.txt" ||
	attribute_rc=$?
grep '^kernel, not gil\.ko: ' "$work/reports.txt" >"$work/kernel-reports.txt" || true
if [[ -s $work/kernel-reports.txt ]]; then
	echo "note: $stage: kernel reports that do not touch gil.ko (not findings):"
	sort "$work/kernel-reports.txt" | uniq -c | sed 's/^ */    /'
fi
if [[ $attribute_rc != 0 ]]; then
	echo "error: $stage: the kernel reported a bug that touches gil.ko:"
	grep -v '^kernel, not gil\.ko: ' "$work/reports.txt" | head -n 80 | sed 's/^/    /'
	result "$stage" 1 "console shows no kernel bug report touching gil.ko"
	status=1
else
	result "$stage" 0 "console shows no kernel bug report touching gil.ko"
fi
exit "$status"
