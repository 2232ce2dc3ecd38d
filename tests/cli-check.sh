#!/bin/bash
# The command-line tools' usage, on the host: every program prints its
# usage on stdout and exits 0 for -h and --help; bad usage (a bad value of
# any option that takes one, an unknown option, a stray argument) exits 2
# with nothing on stdout, and for a bad value stderr names the option and
# quotes the value, then points to --help.  Nothing here needs /dev/gil:
# bad usage is refused before a GIL is opened.
#
# usage: tests/cli-check.sh [BUILD]   BUILD: make -C userspace's O=
#        (default build/userspace); prints "ok - NAME" / "not ok - NAME"
#        per check, exits 1 if any failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

dir=${1:-$GIL_BUILD/userspace}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
# A usage error must not depend on the environment's backend.
unset GIL_BACKEND

# check NAME WHY: WHY is empty when the check passed.
check() {
	if [[ -z $2 ]]; then
		echo "ok - $1"
		passed=$((passed + 1))
	else
		echo "not ok - $1: $2"
		sed 's/^/    stderr: /' "$tmp/err" | head -n 5
		failed=$((failed + 1))
	fi
}

# run PROG ARGS...: $rc, and the output in $tmp/out and $tmp/err.  A
# program that takes bad usage for good would run: the timeout ends it.
run() {
	timeout 20 "$dir/$1" "${@:2}" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# help_prints_usage PROG: -h and --help.
help_prints_usage() {
	local opt why
	for opt in -h --help; do
		run "$1" "$opt"
		why=
		[[ $rc == 0 ]] || why="exit $rc, not 0"
		grep -q usage "$tmp/out" || why+="${why:+; }no \"usage\" on stdout"
		check "$1 $opt prints its usage" "$why"
	done
}

# expect_usage_error PROG ARGS...: runs it; $why says what bad usage's
# every case must do but did not: exit 2, nothing on stdout, --help named.
expect_usage_error() {
	run "$@"
	why=
	[[ $rc == 2 ]] || why="exit $rc, not 2"
	[[ ! -s $tmp/out ]] || why+="${why:+; }printed on stdout"
	grep -q -e '--help' "$tmp/err" || why+="${why:+; }no pointer to --help on stderr"
}

# usage_error NAME PROG ARGS...
usage_error() {
	local name=$1
	shift
	expect_usage_error "$@"
	check "$name" "$why"
}

# bad PROG OPT VALUE [ARGS...]: a bad value (after ARGS), which stderr
# names with its option.
bad() {
	local prog=$1 opt=$2 val=$3
	expect_usage_error "$prog" "${@:4}" "$opt" "$val"
	grep -q -F -e "$opt" "$tmp/err" || why+="${why:+; }stderr does not name $opt"
	grep -q -F -e "'$val'" "$tmp/err" || why+="${why:+; }stderr does not quote '$val'"
	check "$prog${4:+ ${*:4}} $opt '$val' exits 2, naming $opt and '$val'" "$why"
}

# common PROG STRAY: -h, --help, unknown options, a stray argument.
common() {
	help_prints_usage "$1"
	usage_error "$1 -Z (unknown option) exits 2" "$1" -Z
	usage_error "$1 --no-such-option exits 2" "$1" --no-such-option
	usage_error "$1 '$2' (stray argument) exits 2" "$1" "$2"
}

for p in demos/gil-info demos/gil-cpu demos/gil-convoy demos/gil-handoff \
	 examples/interp bench/gil-bench tools/gilstat; do
	[[ -x $dir/$p ]] || { echo "error: no $dir/$p (build it first)" >&2; exit 1; }
done

common demos/gil-info stray
# Its argument, once any device, can only be /dev/gil now (libgil's).
expect_usage_error demos/gil-info /dev/null
grep -q -F "'/dev/null'" "$tmp/err" || why+="${why:+; }stderr does not quote '/dev/null'"
check "demos/gil-info /dev/null exits 2, naming '/dev/null'" "$why"
run demos/gil-info /dev/gil
check "demos/gil-info /dev/gil is no usage error" "$([[ $rc != 2 ]] || echo "exit 2")"

common demos/gil-cpu stray
bad demos/gil-cpu -b nosuch
bad demos/gil-cpu -t abc
bad demos/gil-cpu -t 0
bad demos/gil-cpu -t 65
bad demos/gil-cpu -d 0
bad demos/gil-cpu -d inf
bad demos/gil-cpu -i abc
bad demos/gil-cpu -i 0
bad demos/gil-cpu -r -1

common demos/gil-convoy stray
bad demos/gil-convoy -b nosuch
bad demos/gil-convoy -d abc
bad demos/gil-convoy -d -1
bad demos/gil-convoy -c 1,x
bad demos/gil-convoy -c 17
bad demos/gil-convoy -i 0
bad demos/gil-convoy -i 7200
bad demos/gil-convoy -e abc
bad demos/gil-convoy -e -1
# Bad usage after good options: still nothing on stdout.
bad demos/gil-convoy -e 1e9 -b futex -d 0.1

common demos/gil-handoff stray
bad demos/gil-handoff -b nosuch
bad demos/gil-handoff -m sideways
bad demos/gil-handoff -n abc
bad demos/gil-handoff -n 0
bad demos/gil-handoff -c 0
bad demos/gil-handoff -i 0
bad demos/gil-handoff -H -5
bad demos/gil-handoff -H abc

common examples/interp stray
bad examples/interp -b nosuch
bad examples/interp -t abc
bad examples/interp -t 65
bad examples/interp -n 0
bad examples/interp -n 99999999999999999999
bad examples/interp -i -1
bad examples/interp -i abc
bad examples/interp -io -1
bad examples/interp -io x

common bench/gil-bench stray
bad bench/gil-bench -r abc
bad bench/gil-bench -r 0
bad bench/gil-bench -s 0
bad bench/gil-bench -s abc
bad bench/gil-bench -b nosuch
bad bench/gil-bench -b cpython,cpython
bad bench/gil-bench -p nosuch
bad bench/gil-bench -g nosuch

common tools/gilstat stray
bad tools/gilstat -i abc
bad tools/gilstat -i 0
bad tools/gilstat -i 7200
bad tools/gilstat -n abc
bad tools/gilstat -n 0
usage_error "tools/gilstat -j -c (two formats) exits 2" tools/gilstat -j -c

echo "# $passed passed, $failed failed"
[[ $failed == 0 ]]
