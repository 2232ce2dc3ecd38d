#!/bin/bash
# make check, vm-6.1-tracing: bpftrace's gil-handoff.bt and perf on the gil
# tracepoints in a 6.1 guest (tests/tracing-tools-check.sh).
. "$(dirname "$0")/../lib.sh"
stage_init

stage "vm-6.1-tracing: bpftrace and perf on the gil tracepoints"
tests/tracing-tools-check.sh 6.1 vm-6.1-tracing ||
	grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-tracing.tap" ||
	result vm-6.1-tracing 1 "bpftrace and perf (tests/setup.sh) and the VM runner ran"
