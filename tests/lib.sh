# Shared helpers for the test scripts; source it, do not run it.
# shellcheck shell=bash

GIL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GIL_BUILD=${GIL_BUILD:-$GIL_ROOT/build}
GIL_RESULTS=$GIL_BUILD/results

# The Debian kernel release of a series ("6.1", "6.12") installed by
# tests/setup.sh: the newest one with both an image and a build tree.
debian_kernel_release() {
	local series=$1 kver best=
	for img in /boot/vmlinuz-"$series".*-amd64; do
		[[ -e $img ]] || continue
		kver=${img#/boot/vmlinuz-}
		[[ -d /lib/modules/$kver/build ]] || continue
		best=$(printf '%s\n%s\n' "$best" "$kver" | sort -V | tail -n 1)
	done
	[[ -n $best ]] || return 1
	echo "$best"
}

# kernel_kdir NAME / kernel_image NAME, NAME being 6.1 or 6.12 (Debian's),
# or debug or kcsan (the test kernels built from Debian's 6.1 sources).
kernel_kdir() {
	case $1 in
	debug | kcsan) echo "$GIL_BUILD/kernels/$1-6.1" ;;
	*) echo "/lib/modules/$(debian_kernel_release "$1")/build" ;;
	esac
}

kernel_image() {
	case $1 in
	debug | kcsan) echo "$GIL_BUILD/kernels/$1-6.1/arch/x86/boot/bzImage" ;;
	*) echo "/boot/vmlinuz-$(debian_kernel_release "$1")" ;;
	esac
}

# The config fragments of a test kernel, for tests/kunit/build-kernel.sh.
kernel_fragments() {
	case $1 in
	debug) echo "$GIL_ROOT/tests/kunit/debug.config" ;;
	kcsan) echo "$GIL_ROOT/tests/kunit/debug.config $GIL_ROOT/tests/kunit/kcsan.config" ;;
	*) return 1 ;;
	esac
}

die() {
	echo "error: $*" >&2
	exit 1
}

# Results: each stage appends TAP-style lines ("ok - stage: name" or
# "not ok - stage: name") to $GIL_RESULTS/<stage>.tap; tests/check.sh counts
# them all.
result() {
	local stage=$1 status=$2 name=$3
	mkdir -p "$GIL_RESULTS"
	if [[ $status == 0 ]]; then
		echo "ok - $stage: $name" | tee -a "$GIL_RESULTS/$stage.tap"
	else
		echo "not ok - $stage: $name" | tee -a "$GIL_RESULTS/$stage.tap"
	fi
}

# collect_tap STAGE FILE: the "ok - NAME" / "not ok - NAME" lines a program
# printed in FILE, as results of STAGE.
collect_tap() {
	local stage=$1 file=$2
	mkdir -p "$GIL_RESULTS"
	grep -E '^(not )?ok - ' "$file" |
		sed -E "s/^(not ok|ok) - /\\1 - $stage: /" >>"$GIL_RESULTS/$stage.tap" || true
}

# Run a command as one test; its output goes to a log shown on failure.
run_test() {
	local stage=$1 name=$2 log rc=0
	shift 2
	mkdir -p "$GIL_RESULTS/logs"
	log=$GIL_RESULTS/logs/$stage-${name//[^A-Za-z0-9_.-]/_}.log
	"$@" >"$log" 2>&1 || rc=$?
	if [[ $rc != 0 ]]; then
		echo "--- $stage: $name failed (exit $rc); last lines of $log:"
		tail -n 40 "$log" | sed 's/^/    /'
	fi
	result "$stage" "$rc" "$name"
	return "$rc"
}

# stage_init: what each stage of make check (tests/stages/*.sh, which
# tests/check.sh runs in turn, or run alone) runs under: from the top of
# the tree, warnings as errors (a packager's build, make and make install,
# keeps them warnings).
stage_init() {
	set -uo pipefail
	cd "$GIL_ROOT" || exit
	export WERROR=-Werror
}

# stage TITLE: a stage's header, with the seconds since make check began
# (GIL_CHECK_START, epoch seconds, from tests/check.sh; run alone, since
# the stage's own start).
stage() {
	local now
	now=$(date +%s)
	echo
	echo "=== $* ($((now - ${GIL_CHECK_START:-$((now - SECONDS))}))s)"
}
