#!/bin/bash
# make check, static: checkpatch --strict over the module, the uapi header
# and the KUnit suites.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "static: checkpatch --strict"
run_test static "checkpatch.pl --strict: module, uapi, KUnit suites" \
	tests/static-check.sh checkpatch
