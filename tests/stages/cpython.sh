#!/bin/bash
# make check's first stage, so that a fresh clone's CI builds the patched
# CPython as a user would, with nothing built before it (build.sh builds
# the libgil it links).
. "$(dirname "$0")/../lib.sh"
stage_init

stage "cpython: CPython 3.13 with PYTHONGIL (built once, then cached)"
run_test cpython "the patched CPython builds (userspace/cpython/build.sh)" \
	userspace/cpython/build.sh
