#!/bin/bash
# Measure what changes to the handoff path gain: gil.ko as built at each of
# several commits, in one boot of Debian's 6.1 kernel.  Each pass loads
# every commit's module in turn and runs gil-bench's figures (by default
# the handoff group) on the kernel backend (cpython policy), then the
# cpython and futex backends as a reference, so that drift hits every
# module alike.  Prints, per figure, the median over the passes of each
# module's p50, p90 and p99, and their range over the passes
# (tests/bench-report.py --steps).
#
# usage: bench-steps.sh [-n passes] [-g groups] REV...
#   -n  passes (default 4)
#   -g  gil-bench's -g (default handoff), e.g. handoff,uncontended,reacquire
# The guest programs are the current tree's; each REV's module is built
# from a temporary worktree of that commit.  See docs/BENCHMARKS.md.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

passes=4 groups=handoff
while [[ ${1:-} == -[ng] ]]; do
	case $1 in
	-n) passes=$2 ;;
	-g) groups=$2 ;;
	esac
	shift 2
done
[[ $# -gt 0 && $passes =~ ^[1-9][0-9]*$ ]] ||
	die "usage: bench-steps.sh [-n passes] [-g groups] REV..."

kdir=$(kernel_kdir 6.1)
work=$GIL_BUILD/bench-steps
rm -rf "$work"
mkdir -p "$work/guest"
make -s BUILD="$GIL_BUILD" guest
cp -r "$GIL_BUILD/guest/." "$work/guest/"
i=0
for rev in "$@"; do
	tree=$work/src-$i
	git worktree add -q --detach "$tree" "$rev"
	echo "bench-steps: step $i is $(git log -1 --format='%h %s' "$rev")"
	(cd "$tree" && GIL_BUILD=$work tests/build-module.sh "step-$i" "$kdir" >/dev/null)
	git worktree remove --force "$tree"
	cp "$work/kmod/step-$i/gil.ko" "$work/guest/gil-step-$i.ko"
	i=$((i + 1))
done
echo "$passes" >"$work/guest/bench-steps.passes"
echo "$groups" >"$work/guest/bench-steps.groups"

# As make bench boots it (tests/bench.sh): the TSC, not the emulated HPET.
GIL_VM_CMDLINE=${GIL_VM_CMDLINE-tsc=reliable} GIL_BUILD=$work GIL_VM_KMOD=step-0 GIL_VM_TIMEOUT=$((600 + passes * i * 120)) \
	tests/vm/run.sh 6.1 bench-steps bench-steps >/dev/null
grep '^step' "$work/vm/bench-steps/output.txt" >"$work/samples.csv" ||
	die "no results (see $work/vm/bench-steps/)"
python3 tests/bench-report.py --steps "$work/samples.csv" "$i"
