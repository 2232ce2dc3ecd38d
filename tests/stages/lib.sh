#!/bin/bash
# make check, lib and lib-tsan: libgil on the userspace backends, on the
# host: its conformance suite (plain and under ThreadSanitizer), the example
# interpreter, the demos, a short gil-bench and its report, make install,
# the command-line tools, the instruction-count plugin's build.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "lib: libgil on the userspace backends (host)"
lib_suite() {
	local stage=$1 dir=$2 b
	run_test "$stage" "libgil builds ($dir)" make -s -C userspace O="$GIL_BUILD/$dir" \
		${3:+SANITIZE=$3} all
	for b in cpython futex; do
		GIL_BACKEND=$b "$GIL_BUILD/$dir/test/conformance" \
			>"$GIL_RESULTS/logs/$stage-$b.log" 2>&1
		collect_tap "$stage" "$GIL_RESULTS/logs/$stage-$b.log"
		grep -q '^ok - ' "$GIL_RESULTS/logs/$stage-$b.log" ||
			result "$stage" 1 "conformance suite ran on $b"
	done
}
mkdir -p "$GIL_RESULTS/logs"
lib_suite lib userspace
lib_suite lib-tsan userspace-thread thread
for b in cpython futex; do
	run_test lib "interp: 4 threads on $b keep their counter exact" \
		"$GIL_BUILD/userspace/examples/interp" -b "$b" -t 4 -n 300000
done
demos=$GIL_BUILD/userspace/demos
for b in cpython futex; do
	run_test lib "demo gil-cpu on $b" "$demos/gil-cpu" -p -b "$b" -t 3 -d 1 -r 0.5
	run_test lib "demo gil-convoy on $b" "$demos/gil-convoy" -b "$b" -d 0.3
	run_test lib "demo gil-handoff on $b" "$demos/gil-handoff" -b "$b" -n 50 -c 2
done
run_test lib "gil-bench (short) on cpython and futex; its report's spread and verdicts" \
	sh -c "'$GIL_BUILD/userspace/bench/gil-bench' -r 2 -s 0.05 -b cpython,futex \
		>'$GIL_BUILD/results/logs/gil-bench.txt' &&
	       tests/bench-report-check.py '$GIL_BUILD/results/logs/gil-bench.txt' \
		'$GIL_BUILD/results/bench-smoke'"
run_test lib "make install DESTDIR=..., then an example builds with pkg-config" \
	tests/install-check.sh
run_test lib "command-line tools: --help, bad usage exits 2 naming the option" \
	tests/cli-check.sh "$GIL_BUILD/userspace"
run_test lib "the instruction-count plugin builds against QEMU's plugin API" \
	cc -std=c11 -O2 -Wall -Wextra -Werror -shared -fPIC \
	-o "$GIL_BUILD/results/insn-plugin.so" tests/vm/insn-plugin.c -lpthread
