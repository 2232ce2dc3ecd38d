#!/bin/bash
# make cpython-cost: what gil.patch costs a single thread, counted in
# instructions rather than timed: the same single-thread loop (the py-loop
# workload, userspace/cpython/workloads.py) on stock CPython (the same
# source and configure line without the patch, build.sh stock) and on the
# patched one under PYTHONGIL=cpython and futex, under valgrind's
# cachegrind.  Each count is the loop's alone: a run of N iterations minus
# a run of none.  The kernel backend needs /dev/gil, so the guest times it
# instead (make bench's py-loop, beside the same two).
#
# Environment: GIL_COST_N (iterations, default 2000).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

n=${GIL_COST_N:-2000}
command -v valgrind >/dev/null || die "valgrind is missing (make setup)"
userspace/cpython/build.sh
userspace/cpython/build.sh stock

# instructions PYTHON GIL N: the instructions of a run of the loop.
instructions() {
	local out=$GIL_BUILD/cpython/cost.out
	PYTHONHASHSEED=0 PYTHONGIL=$2 valgrind --tool=cachegrind --cache-sim=no \
		--cachegrind-out-file="$out" "$1" -c "
import sys; sys.path.insert(0, '$GIL_ROOT/userspace/cpython')
import workloads; workloads.run_loop($3)" 2>/dev/null
	sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out"
}

stock=$GIL_BUILD/cpython-stock/stage/opt/stock-python/bin/python3.13
patched=$GIL_BUILD/cpython/stage/opt/kgil-python/bin/python3.13
base=
printf '%-28s %16s %10s\n' "interpreter, PYTHONGIL" "instructions" "vs stock"
for run in "stock $stock cpython" "patched $patched cpython" "patched $patched futex"; do
	# shellcheck disable=SC2086 # the words of the run
	set -- $run
	i=$(($(instructions "$2" "$3" "$n") - $(instructions "$2" "$3" 0)))
	base=${base:-$i}
	awk -v w="$1, $3" -v i="$i" -v b="$base" \
		'BEGIN { printf "%-28s %16d %9.4fx\n", w, i, i / b }'
done
echo "(py-loop, $n iterations; $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1))"
