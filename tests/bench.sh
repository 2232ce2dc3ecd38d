#!/bin/bash
# make bench: set up what is missing, build gil.ko for Debian's 6.1 kernel
# and the guest programs, boot that kernel under QEMU, run gil-bench there
# (every figure on every backend, interleaved, in one boot), then, on the
# host, take the results out of the guest's output, print the table and
# plot the distributions.  See docs/BENCHMARKS.md.
#
# Results go to build/bench/ (results.csv, results.json, samples.csv,
# stats.csv, table.txt, table.md, *.svg, output.txt, host-env.txt, and
# host-load.csv and rounds.csv: the host's load once a second while the VM
# runs, and the host's time at the start of each gil-bench round, from
# which the report flags the rounds the host was busier than its CPUs).
# Then the patched CPython's workloads (userspace/cpython/workloads.py) run
# on every GIL in the same boot, stock CPython's GIL (PYTHONGIL=cpython)
# among them, and their figures ("py-...") join gil-bench's.  When stock
# CPython is built (userspace/cpython/build.sh stock, or make cpython-cost),
# its single-thread loop (py-loop, backend "stock") is timed there too.
# Environment: GIL_BENCH_ARGS (passed to gil-bench, e.g. "-r 3 -s 0.5"),
# GIL_PY_ROUNDS (rounds of the Python workloads, default 3; 0: none),
# GIL_VM_TIMEOUT (seconds, default 1800), GIL_VM_CMDLINE (the guest's extra
# kernel words; default "tsc=reliable", see docs/BENCHMARKS.md),
# GIL_BENCH_HOST_HOGS=N (busy-host mode: N CPU-bound processes on the host
# while the VM runs, ended with it; hogs=N in host-env.txt, and the report
# says so at its top).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

start=$SECONDS
out=$GIL_BUILD/bench
hogs=${GIL_BENCH_HOST_HOGS:-0}
[[ $hogs =~ ^[0-9]+$ ]] || die "GIL_BENCH_HOST_HOGS=$hogs: not a number of processes"
# Background processes of this script, ended on any exit: none outlives it.
bg_pids=()
stop_bg() {
	[[ ${#bg_pids[@]} == 0 ]] || kill "${bg_pids[@]}" 2>/dev/null || true
	bg_pids=()
}
trap stop_bg EXIT

# The host's load, once a second: runnable and blocked threads, of which
# the sampler (this bash, reading /proc/stat) is one runnable, and the load
# averages.  Builtins only, so that no process of its own adds to them.
host_load() {
	local k v running blocked l1 l5 l15
	echo "epoch,procs_running,procs_blocked,load1,load5,load15"
	while :; do
		while read -r k v _; do
			case $k in
			procs_running) running=$v ;;
			procs_blocked) blocked=$v ;;
			esac
		done </proc/stat
		read -r l1 l5 l15 _ </proc/loadavg
		echo "$EPOCHREALTIME,$running,$blocked,$l1,$l5,$l15"
		sleep 1
	done
}
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
	echo "hogs=$hogs"
} >"$out/host-env.txt"

# The guest's output, relayed as it comes (the progress) but for the bulk
# of the results, which go to files instead of the terminal; gil-bench's
# rounds, and its end, stamped on fd 3 with the host's time as they pass.
# Bash reads a pipe a byte at a time: no line waits for the next (mawk's
# input, and tr's output without stdbuf, would hold them in blocks).
relay() {
	local line block="" n=0 round
	echo "event,round,host_epoch" >&3
	while IFS= read -r line; do
		if [[ $block ]]; then
			if [[ $line != "GIL-BENCH-$block-END" ]]; then
				n=$((n + 1))
				continue
			fi
			case $block in
			CSV) line="results" ;;
			FIGURES) line="figures" ;;
			STATS) line="GIL counters" ;;
			ROUNDS) line="samples per round" ;;
			*) line="raw samples" ;;
			esac
			echo "($n lines of $line, for the host)"
			block=""
			continue
		fi
		case $line in
		GIL-BENCH-CSV-BEGIN | GIL-BENCH-FIGURES-BEGIN | GIL-BENCH-STATS-BEGIN | \
		GIL-BENCH-SAMPLES-BEGIN | GIL-BENCH-ROUNDS-BEGIN | GIL-BENCH-PYSAMPLES-BEGIN)
			block=${line#GIL-BENCH-} n=0
			block=${block%-BEGIN}
			continue ;;
		"gil-bench: round "[0-9]*)
			round=${line#gil-bench: round }
			echo "round,${round%%/*},$EPOCHREALTIME" >&3 ;;
		"gil-bench: done in "*)
			echo "end,,$EPOCHREALTIME" >&3 ;;
		esac
		printf '%s\n' "$line"
	done
}

vm_start=$SECONDS
vm_rc=0
stock=0
[[ ! -f $GIL_BUILD/cpython-stock/guest/.stamp ]] || stock=1
for ((i = 0; i < hogs; i++)); do
	sh -c 'while :; do :; done' &
	bg_pids+=("$!")
done
host_load >"$out/host-load.csv" &
bg_pids+=("$!")
GIL_VM_PYTHON=1 GIL_VM_PYTHON_STOCK=$stock GIL_VM_TIMEOUT=${GIL_VM_TIMEOUT:-1800} \
	stdbuf -oL tests/vm/run.sh "$kernel" bench bench |
	relay 3>"$out/rounds.csv" || vm_rc=$?
stop_bg
{
	echo "vm_seconds=$((SECONDS - vm_start))"
	echo "loadavg_after=$(cut -d' ' -f1-3 /proc/loadavg)"
} >>"$out/host-env.txt"
cp "$GIL_BUILD/vm/bench/output.txt" "$out/output.txt"

echo
report_rc=0
python3 tests/bench-report.py --round-load "$out" >>"$out/host-env.txt" || true
python3 tests/bench-report.py "$out/output.txt" "$out" "$out/host-env.txt" || report_rc=$?
echo "bench: VM $(sed -n 's/^vm_seconds=//p' "$out/host-env.txt") s, total $((SECONDS - start)) s; host load $(sed -n 's/^loadavg_before=//p' "$out/host-env.txt") before, $(sed -n 's/^loadavg_after=//p' "$out/host-env.txt") after"
echo "bench: QEMU TCG emulates the CPUs: compare the ratios, not the times (docs/BENCHMARKS.md)"
[[ $vm_rc == 0 ]] || die "the benchmark VM failed (see build/vm/bench/)"
[[ $report_rc == 0 ]] || die "no report (see $out/output.txt)"
