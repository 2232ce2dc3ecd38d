#!/bin/bash
# make check, package: the packaging files, the license texts, make
# modules_install, DKMS (tests/package-check.sh).
. "$(dirname "$0")/../lib.sh"
stage_init

stage "package: make modules_install, DKMS, dkms.conf, udev rule, licenses"
run_test package "dkms.conf, its version = MODULE_VERSION = the ABI's, udev rule, modules-load.d" \
	tests/package-check.sh files
run_test package "every SPDX tag's license texts in LICENSES/, and in COPYING" \
	tests/package-check.sh licenses
run_test package "make modules_install for 6.1: extra/gil.ko, depmod, INSTALL_MOD_DIR, version" \
	tests/package-check.sh install
run_test package "dkms add, build, install, remove for 6.1 (private trees)" \
	tests/package-check.sh dkms
