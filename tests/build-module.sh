#!/bin/bash
# Build gil.ko for one kernel in its own shadow tree, so that builds for
# several kernels never share object files.
#
# usage: build-module.sh NAME KDIR [make arguments...]
#   NAME  the shadow tree: build/kmod/NAME (gil.ko lands there)
#   KDIR  the kernel build tree
set -euo pipefail
. "$(dirname "$0")/lib.sh"

name=$1 kdir=$2
shift 2
[[ -f $kdir/Makefile ]] ||
	die "no kernel build tree at $kdir (install the headers: make setup, or set KDIR=)"

out=$GIL_BUILD/kmod/$name
mkdir -p "$out"
# Symlinks keep the sources in one place; stale links from removed files go.
cp -asf "$GIL_ROOT/Kbuild" "$GIL_ROOT/module" "$GIL_ROOT/uapi" "$out/"
mkdir -p "$out/tests"
cp -asf "$GIL_ROOT/tests/kunit" "$out/tests/"
find "$out" -xtype l -delete

make -C "$kdir" M="$out" "$@" modules
