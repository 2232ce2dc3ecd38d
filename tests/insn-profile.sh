#!/bin/bash
# Count the guest instructions one sample of a gil-bench figure costs, by
# function, on each backend: where the time goes under TCG, which runs
# every instruction through the emulator and lets no guest clock split it.
# A QEMU plugin (tests/vm/insn-plugin.c) counts the instructions of every
# translation block between marks the plan sets around each run; each
# figure runs at two scales, and the difference between the two windows,
# over the difference in samples, is the cost of one sample.
#
# usage: insn-profile.sh [-k KERNEL] [-g groups] [-b backends] [-t N] [-s] [-m] [-o]
#   -k  6.1 (default) or 6.12
#   -g  gil-bench's groups (default handoff-voluntary-same)
#   -b  backends (default kernel,futex)
#   -t  functions listed per figure (default 25)
#   -s  count only each sample's measured span (the voluntary handoffs:
#       gil-bench marks them with GIL_BENCH_INSN_GATE), and time it on
#       the host
#   -m  count memory accesses too, and those that reach a device (MMIO)
#   -o  count instructions by mnemonic too
# The guest boots with nokaslr, so the kernel's addresses, read once in a
# first boot, hold for the second.  Output in build/insn-KERNEL/.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

kernel=6.1 groups=handoff-voluntary-same backends=kernel,futex top=25 span=0 mem=0 ops=0
while [[ ${1:-} == -[kgbtsmo] ]]; do
	case $1 in
	-k) kernel=$2 ;;
	-g) groups=$2 ;;
	-b) backends=$2 ;;
	-t) top=$2 ;;
	-s) span=1; shift; continue ;;
	-m) mem=1; shift; continue ;;
	-o) ops=1; shift; continue ;;
	esac
	shift 2
done
[[ $# == 0 ]] || die "usage: insn-profile.sh [-k KERNEL] [-g groups] [-b backends] [-t N] [-s] [-m] [-o]"

work=$GIL_BUILD/insn-$kernel
mkdir -p "$work"
cc -std=c11 -O2 -Wall -Wextra -shared -fPIC -o "$work/insn-plugin.so" \
	tests/vm/insn-plugin.c -lpthread
make -s BUILD="$GIL_BUILD" guest
plan=$GIL_ROOT/tests/vm/plans/insn-profile.sh
syms=$work/kallsyms
if [[ ! -s $syms ]]; then
	GIL_VM_CMDLINE="nokaslr tsc=reliable" GIL_VM_ENV="INSN_KALLSYMS=1" \
		tests/vm/run.sh "$kernel" "$plan" "insn-$kernel" >/dev/null
	sed -n '/GIL-INSN-SYMBOLS-BEGIN/,/GIL-INSN-SYMBOLS-END/p' \
		"$GIL_BUILD/vm/insn-$kernel/output.txt" | grep -v GIL-INSN >"$syms"
fi
address() {
	local a
	a=$(awk -v f="$1" '$3 == f { print $1 }' "$syms")
	[[ -n $a ]] || die "no $1 in $syms"
	echo "0x$a"
}
plugin="$work/insn-plugin.so,mark=$(address __x64_sys_sethostname),out=$work/blocks.txt"
[[ $span == 0 ]] || plugin+=",gate=$(address __x64_sys_sched_rr_get_interval)"
[[ $mem == 0 ]] || plugin+=",mem=1"
[[ $ops == 0 ]] || plugin+=",ops=1"
GIL_VM_CMDLINE="nokaslr tsc=reliable" \
	GIL_VM_ENV="INSN_GROUPS=$groups INSN_BACKENDS=$backends INSN_GATE=$span" \
	GIL_VM_QEMU_ARGS="-plugin $plugin" \
	tests/vm/run.sh "$kernel" "$plan" "insn-$kernel" >"$work/run.log" ||
	die "the profile's guest failed: $work/run.log"
python3 tests/insn-profile.py -t "$top" "$syms" \
	"$GIL_BUILD/vm/insn-$kernel/output.txt" "$work/blocks.txt" | tee "$work/report.txt"
