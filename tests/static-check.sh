#!/bin/bash
# Static checks of the kernel code.
#
# usage: static-check.sh build KERNEL [make arguments...]
#          gil.ko for KERNEL (6.1, 6.12, debug) with W=1 and sparse (C=2):
#          fails on any compiler, sparse or modpost warning
#        static-check.sh checkpatch
#          scripts/checkpatch.pl --strict on every kernel source file
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

checkpatch=$GIL_BUILD/src/linux-source-6.1/scripts/checkpatch.pl

case $1 in
build)
	kernel=$2
	shift 2
	log=$(mktemp)
	trap 'rm -f "$log"' EXIT
	tests/build-module.sh "$kernel" "$(kernel_kdir "$kernel")" W=1 C=2 "$@" 2>&1 | tee "$log"
	if grep -E -i 'warning:|error:' "$log"; then
		echo "static-check: warnings in the $kernel build" >&2
		exit 1
	fi
	;;
checkpatch)
	[[ -f $checkpatch ]] || die "no $checkpatch (make setup extracts the kernel source)"
	args=(--strict --no-tree --show-types --color=never)
	files=()
	for f in module/*.[ch] uapi/linux/*.h tests/kunit/*.[ch]; do
		[[ $f == module/compat.h ]] || files+=("$f")
	done
	# Every kernel version test lives in compat.h, where it is allowed.
	perl "$checkpatch" "${args[@]}" --ignore LINUX_VERSION_CODE -f module/compat.h
	perl "$checkpatch" "${args[@]}" -f "${files[@]}"
	;;
*)
	die "usage: $0 build KERNEL | checkpatch"
	;;
esac
