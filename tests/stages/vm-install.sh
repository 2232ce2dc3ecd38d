#!/bin/bash
# make check, vm-6.1-install: modprobe gil in a 6.1 guest from the tree
# make modules_install wrote (tests/modprobe-check.sh).
. "$(dirname "$0")/../lib.sh"
stage_init

stage "vm-6.1-install: modprobe gil from make modules_install's tree"
tests/modprobe-check.sh 6.1 vm-6.1-install ||
	grep -qs '^not ok' "$GIL_RESULTS/vm-6.1-install.tap" ||
	result vm-6.1-install 1 "make modules_install and the VM runner ran"
