#!/bin/bash
# make check, build: gil.ko for Debian 6.1 and 6.12 with W=1 and sparse;
# any compiler, sparse or modpost warning fails.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "build: gil.ko with W=1 and sparse"
for k in 6.1 6.12; do
	run_test build "gil.ko builds for $k: no compiler or sparse warning" \
		tests/static-check.sh build "$k"
done
