#!/bin/bash
# make check: every test of the project, stage by stage, then one summary
# line "N passed, N failed" counting every test that ran.
#
# Stages: cpython (the patched CPython 3.13, userspace/cpython/build.sh),
# host (userspace builds, uapi layout), lib (libgil, its programs and its
# install), build (gil.ko for Debian 6.1 and 6.12 with W=1 and sparse),
# static (checkpatch --strict), package (modules_install, DKMS, udev rule,
# licenses), the debug/KUnit kernel, vm-6.1 and vm-6.12 (userspace tests
# in a guest), vm-6.1-install (modprobe from modules_install's tree),
# vm-6.1-tracing (bpftrace's gil-handoff.bt and perf on the tracepoints),
# vm-debug (KUnit suites, then the userspace tests, under lockdep, KASAN,
# kmemleak and friends), vm-6.1-cpython (CPython 3.13's test_thread and
# test_threading on /dev/gil), stress-debug (make stress for 5 s a part).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

rm -rf "$GIL_RESULTS"
mkdir -p "$GIL_RESULTS"
start=$SECONDS
stage() { echo; echo "=== $* ($((SECONDS - start))s)"; }

stage "setup"
tests/setup.sh || die "setup failed"
# Warnings are errors here; a packager's build (make, make install) keeps
# them warnings.
export WERROR=-Werror

# First, so that a fresh clone's CI builds it as a user would, with nothing
# built before it (build.sh builds the libgil it links).
stage "cpython: CPython 3.13 with PYTHONGIL (built once, then cached)"
run_test cpython "the patched CPython builds (userspace/cpython/build.sh)" \
	userspace/cpython/build.sh

stage "host: userspace and uapi"
run_test host "userspace programs build (-Wall -Wextra -Werror)" make -s BUILD="$GIL_BUILD" userspace guest
run_test host "uapi header layout, 64-bit" \
	gcc -m64 -fsyntax-only -Iuapi tests/host/uapi-layout.c
run_test host "uapi header layout, 32-bit" \
	gcc -m32 -fsyntax-only -Iuapi -idirafter /usr/include/x86_64-linux-gnu \
	tests/host/uapi-layout.c
run_test host "uapi header compiles as C++" \
	sh -c "echo '#include <linux/gil.h>' | g++ -x c++ -fsyntax-only -Wall -Wextra -Werror -Iuapi -"
run_test host "the kernel-bug patterns match each kind of report, and no clean boot's line" \
	tests/vm/kernel-bug-patterns-check.sh
run_test host "shell scripts parse" \
	sh -c 'for f in tests/*.sh tests/*/*.sh tests/vm/init .ci/run; do bash -n "$f" || exit 1; done'

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

stage "build: gil.ko with W=1 and sparse"
for k in 6.1 6.12; do
	run_test build "gil.ko builds for $k: no compiler or sparse warning" \
		tests/static-check.sh build "$k"
done

stage "static: checkpatch --strict"
run_test static "checkpatch.pl --strict: module, uapi, KUnit suites" \
	tests/static-check.sh checkpatch

stage "package: make modules_install, DKMS, dkms.conf, udev rule, licenses"
run_test package "dkms.conf, its version = MODULE_VERSION = the ABI's, udev rule, modules-load.d" \
	tests/package-check.sh files
run_test package "every SPDX tag's license texts in LICENSES/, and in COPYING" \
	tests/package-check.sh licenses
run_test package "make modules_install for 6.1: extra/gil.ko, depmod, INSTALL_MOD_DIR, version" \
	tests/package-check.sh install
run_test package "dkms add, build, install, remove for 6.1 (private trees)" \
	tests/package-check.sh dkms

stage "debug kernel (built once, then cached)"
if make -s kunit-kernel; then
	run_test build "gil.ko with KUnit suites builds for the debug kernel" \
		tests/static-check.sh build debug GIL_KUNIT=y
else
	result build 1 "debug kernel builds"
fi

for k in 6.1 6.12 debug; do
	stage "vm-$k"
	if [[ ! -f $GIL_BUILD/kmod/$k/gil.ko ]]; then
		result "vm-$k" 1 "gil.ko for $k exists"
		continue
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
done

stage "vm-6.1-install: modprobe gil from make modules_install's tree"
tests/modprobe-check.sh 6.1 vm-6.1-install ||
	grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-install.tap" ||
	result vm-6.1-install 1 "make modules_install and the VM runner ran"

stage "vm-6.1-tracing: bpftrace and perf on the gil tracepoints"
tests/tracing-tools-check.sh 6.1 vm-6.1-tracing ||
	grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-tracing.tap" ||
	result vm-6.1-tracing 1 "bpftrace and perf (tests/setup.sh) and the VM runner ran"

stage "vm-6.1-cpython: CPython's thread tests on /dev/gil"
if [[ -f $GIL_BUILD/cpython/guest/.stamp && -f $GIL_BUILD/kmod/6.1/gil.ko ]]; then
	# make cpython-test runs the whole list, on every GIL.
	GIL_VM_PYTHON=1 GIL_VM_TIMEOUT=1200 \
		GIL_VM_ENV="GIL_CPYTHON_GILS=kernel GIL_CPYTHON_TESTS=test_thread,test_threading" \
		tests/vm/run.sh 6.1 cpython-test vm-6.1-cpython ||
		grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-cpython.tap" ||
		result vm-6.1-cpython 1 "the VM runner ran"
	grep -s '^not ok' "$GIL_RESULTS/vm-6.1-cpython.tap" | sed 's/^/  /'
else
	result vm-6.1-cpython 1 "the patched CPython and gil.ko for 6.1 exist"
fi

stage "stress: the short run, under the debug kernel"
GIL_STRESS_KERNELS=debug tests/stress.sh 5 >"$GIL_RESULTS/logs/stress.log" 2>&1 ||
	sed -n '/^=== stress summary/,$p' "$GIL_RESULTS/logs/stress.log"

stage "summary"
passed=$(cat "$GIL_RESULTS"/*.tap | grep -c '^ok - ')
failed=$(cat "$GIL_RESULTS"/*.tap | grep -c '^not ok - ')
for f in "$GIL_RESULTS"/*.tap; do
	printf '  %-10s %3d passed, %d failed\n' "$(basename "$f" .tap)" \
		"$(grep -c '^ok - ' "$f")" "$(grep -c '^not ok - ' "$f")"
done
grep -h '^not ok - ' "$GIL_RESULTS"/*.tap | sed 's/^/  /'
echo "took $((SECONDS - start))s"
echo "$passed passed, $failed failed"
[[ $failed == 0 && $passed -gt 0 ]]
