#!/bin/bash
# make stress: the stress programs (tests/stress/: ABI fuzzer, kill chaos,
# 64-thread load, the load again under CPU hotplug, the fuzzer and the
# chaos again with failing allocations, the load under the cgroup and the
# system freezers) and insmod/rmmod cycles in a guest, under the debug
# kernel (KASAN, lockdep, kmemleak, DEBUG_OBJECTS) and then the KCSAN
# kernel; ends with one summary of the counts and findings.  make soak:
# the long run, until issue 17's counts, on the debug kernel.
#
# usage: stress.sh [--soak] [SECONDS]
#   SECONDS  how long each part runs on each kernel (default 60); with
#            --soak, each part that does not run until a count
#            (tests/vm/plans/soak.sh)
# Environment: GIL_STRESS_KERNELS (default "debug kcsan"; "debug" with
# --soak); GIL_VM_SMP (vCPUs, default 2) reaches tests/vm/run.sh.
#
# A finding is a failed check in the guest, a kernel report on its
# console that touches gil.ko, or a part that did not report.  Exits 1 on
# any finding.  The kernel's own reports (tests/vm/attribute-reports.sh
# tells them apart by their stacks) are no finding of gil.ko's, but the
# summary lists each as "kernel, not gil.ko: FIRST LINE".
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

plan=stress kernels=${GIL_STRESS_KERNELS:-debug kcsan}
parts=(fuzz chaos load hotplug faults freeze cycles)
if [[ ${1:-} == --soak ]]; then
	shift
	plan=soak kernels=${GIL_STRESS_KERNELS:-debug}
	parts=(fuzz chaos load-256x1 load-64x4 hotplug faults freeze cycles)
fi
secs=${1:-60}
[[ $secs =~ ^[0-9]+$ && $secs -gt 0 && $# -le 1 ]] ||
	die "usage: stress.sh [--soak] [SECONDS]"
# A part runs for SECONDS at most (the fuzzer, the chaos and the cycles of
# a soak for an hour each), twice that with the fuzzer and the chaos in
# the faults part; then a boot, a kmemleak scan, slack.
timeout=$((${#parts[@]} * secs * 2 + 600))
[[ $plan == stress ]] || timeout=$((3 * 3600 + timeout))

make -s BUILD="$GIL_BUILD" guest >/dev/null || die "the guest programs do not build"
findings=0 ran=
for k in $kernels; do
	echo "=== stress on the $k kernel, $secs s a part"
	if ! tests/kunit/build-kernel.sh "$GIL_BUILD/src/linux-source-6.1" \
		"$(kernel_kdir "$k")" $(kernel_fragments "$k") ||
	   ! tests/build-module.sh "stress-$k" "$(kernel_kdir "$k")" >/dev/null; then
		result "$plan-$k" 1 "kernel and module build"
		findings=$((findings + 1))
		continue
	fi
	rm -f "$GIL_RESULTS/$plan-$k.tap"
	GIL_VM_KMOD=stress-$k GIL_VM_ENV="GIL_STRESS_SECONDS=$secs" \
		GIL_VM_TIMEOUT=$timeout GIL_VM_MEM=2048 \
		tests/vm/run.sh "$k" "$plan" "$plan-$k"
	ran+=" $k"
	out=$GIL_BUILD/vm/$plan-$k/output.txt
	missing=0
	for p in "${parts[@]}"; do
		grep -qs "^# stress-$p: .* findings=0\$" "$out" || missing=$((missing + 1))
	done
	result "$plan-$k" "$missing" "every part reported, with zero findings"
	findings=$((findings + $(grep -c '^not ok - ' "$GIL_RESULTS/$plan-$k.tap")))
done

echo
echo "=== $plan summary: $secs s a part, kernels: $kernels"
for k in $kernels; do
	for p in "${parts[@]}"; do
		line=$(grep -s "^# stress-$p: " "$GIL_BUILD/vm/$plan-$k/output.txt" | tail -n 1)
		[[ -n $line ]] || line=": no report (a finding)"
		printf '  %-6s %-10s %s\n' "$k" "$p" "${line#*: }"
	done
done
for k in $ran; do
	dir=$GIL_BUILD/vm/$plan-$k
	ours=$(grep -c '^gil\.ko: ' "$dir/reports.txt" 2>/dev/null)
	theirs=$(grep -c '' "$dir/kernel-reports.txt" 2>/dev/null)
	echo "  $k kernel reports: ${ours:-0} touching gil.ko (findings), ${theirs:-0} the kernel's own"
	sort "$dir/kernel-reports.txt" 2>/dev/null | uniq -c |
		sed -E 's/^ *([0-9]+) (.*)/    \2 (x\1)/'
done
echo "findings: $findings"
[[ $findings == 0 ]]
