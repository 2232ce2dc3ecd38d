#!/bin/bash
# make bench: set up what is missing, build gil.ko for Debian's 6.1 kernel
# and the guest programs, boot that kernel under QEMU, run gil-bench there
# (every figure on every backend, interleaved, in one boot), then, on the
# host, take the results out of the guest's output, print the table and
# plot the distributions.  See docs/BENCHMARKS.md.
#
# Results go to build/bench/ (results.csv, results.json, samples.csv,
# stats.csv, table.txt, table.md, *.svg, output.txt, host-env.txt).
# Then the patched CPython's workloads (userspace/cpython/workloads.py) run
# on every GIL in the same boot, stock CPython's GIL (PYTHONGIL=cpython)
# among them, and their figures ("py-...") join gil-bench's.  When stock
# CPython is built (userspace/cpython/build.sh stock, or make cpython-cost),
# its single-thread loop (py-loop, backend "stock") is timed there too.
# Environment: GIL_BENCH_ARGS (passed to gil-bench, e.g. "-r 3 -s 0.5"),
# GIL_PY_ROUNDS (rounds of the Python workloads, default 3; 0: none),
# GIL_VM_TIMEOUT (seconds, default 1800), GIL_VM_CMDLINE (the guest's extra
# kernel words; default "tsc=reliable", see docs/BENCHMARKS.md).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

start=$SECONDS
out=$GIL_BUILD/bench
# Under TCG the guest finds the TSC unstable and reads the emulated HPET
# instead: ~0.9 us a clock read, a trap into QEMU, where the TSC takes 83 ns.
export GIL_VM_CMDLINE=${GIL_VM_CMDLINE-tsc=reliable}
kernel=6.1

tests/setup.sh
# Plots: gnuplot-nox, from Debian's archive, only here (not a test need).
if ! command -v gnuplot >/dev/null; then
	echo "bench: installing gnuplot-nox for the plots"
	if ! { apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends gnuplot-nox >/dev/null; }; then
		echo "bench: warning: gnuplot-nox did not install; no plots"
	fi
fi
command -v python3 >/dev/null || die "python3 is missing (make setup)"

echo "bench: building the guest programs, gil.ko for $kernel and CPython"
make -s BUILD="$GIL_BUILD" guest
tests/build-module.sh "$kernel" "$(kernel_kdir "$kernel")" >/dev/null
userspace/cpython/build.sh
# The plan reads its arguments from the initramfs.
printf '%s\n' "${GIL_BENCH_ARGS:-}" >"$GIL_BUILD/guest/gil-bench.args"
printf '%s\n' "${GIL_PY_ROUNDS:-3}" >"$GIL_BUILD/guest/py-bench.rounds"

rm -rf "$out"
mkdir -p "$out"
{
	echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
	echo "cpus=$(nproc)"
	echo "kernel=$(uname -r)"
	echo "qemu=$(qemu-system-x86_64 --version | head -n 1)"
	echo "qemu_args=-accel tcg -smp 2 -m ${GIL_VM_MEM:-2048}"
	echo "guest_cmdline=$GIL_VM_CMDLINE"
	echo "loadavg_before=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$out/host-env.txt"

# The guest's output is relayed as it comes (the progress), but for the
# bulk of the results, which go to files instead of the terminal.
vm_start=$SECONDS
vm_rc=0
stock=0
[[ ! -f $GIL_BUILD/cpython-stock/guest/.stamp ]] || stock=1
GIL_VM_PYTHON=1 GIL_VM_PYTHON_STOCK=$stock GIL_VM_TIMEOUT=${GIL_VM_TIMEOUT:-1800} \
	tests/vm/run.sh "$kernel" bench bench |
	awk '/^GIL-BENCH-(CSV|STATS|SAMPLES|ROUNDS|PYSAMPLES)-BEGIN$/ { skip = 1; n = 0; next }
	     /^GIL-BENCH-(CSV|STATS|SAMPLES|ROUNDS|PYSAMPLES)-END$/ {
		skip = 0
		printf "(%d lines of %s, for the host)\n", n, \
			($0 ~ /CSV/ ? "results" : $0 ~ /STATS/ ? "GIL counters" : \
			 $0 ~ /ROUNDS/ ? "samples per round" : "raw samples"); fflush(); next }
	     skip { n++; next }
	     { print; fflush() }' || vm_rc=$?
{
	echo "vm_seconds=$((SECONDS - vm_start))"
	echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$out/host-env.txt"
cp "$GIL_BUILD/vm/bench/output.txt" "$out/output.txt"

echo
report_rc=0
python3 tests/bench-report.py "$out/output.txt" "$out" "$out/host-env.txt" || report_rc=$?
echo "bench: VM $(sed -n 's/^vm_seconds=//p' "$out/host-env.txt") s, total $((SECONDS - start)) s; host load $(sed -n 's/^loadavg_before=//p' "$out/host-env.txt") before, $(sed -n 's/^loadavg_after=//p' "$out/host-env.txt") after"
echo "bench: QEMU TCG emulates the CPUs: compare the ratios, not the times (docs/BENCHMARKS.md)"
[[ $vm_rc == 0 ]] || die "the benchmark VM failed (see build/vm/bench/)"
[[ $report_rc == 0 ]] || die "no report (see $out/output.txt)"
