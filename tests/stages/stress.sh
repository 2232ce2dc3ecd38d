#!/bin/bash
# make check, stress-debug: make stress's short run (5 s a part) under the
# debug kernel (tests/stress.sh); its summary shown when it fails.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "stress: the short run, under the debug kernel"
mkdir -p "$GIL_RESULTS/logs"
GIL_STRESS_KERNELS=debug tests/stress.sh 5 >"$GIL_RESULTS/logs/stress.log" 2>&1 ||
	sed -n '/^=== stress summary/,$p' "$GIL_RESULTS/logs/stress.log"
