#!/bin/bash
# tests/vm/kernel-bug-patterns, the one list of what a kernel bug report
# looks like (read by run.sh on the console and by the guest on dmesg),
# against tests/vm/kernel-bug-samples/lines: a line of each kind of report
# must match, and the lines every clean boot of ours prints must not.
# Then tests/vm/attribute-reports.sh, which says whose each report is,
# against the consoles in tests/vm/kernel-bug-samples: NAME.console must
# give NAME.expected, and exit 1 exactly when a line there is gil.ko's;
# with the host's awk and with busybox's, the guest's.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

samples=$GIL_ROOT/tests/vm/kernel-bug-samples
patterns=$GIL_ROOT/tests/vm/kernel-bug-patterns
status=0
while read -r want line; do
	if grep -E -q -f "$patterns" <<<"$line"; then got=match; else got=clean; fi
	[[ $got == "$want" ]] || { echo "expected $want, got $got: $line"; status=1; }
done <"$samples/lines"

# attribute SHELL CONSOLE: the classifier's output and exit status, run
# by SHELL, with busybox's awk first on the path when SHELL is busybox.
bb_path=$(mktemp -d)
trap 'rm -rf "$bb_path"' EXIT
ln -s "$(command -v busybox)" "$bb_path/awk"
attribute() {
	local rc=0
	if [[ $1 == busybox ]]; then
		PATH=$bb_path:$PATH busybox sh "$GIL_ROOT/tests/vm/attribute-reports.sh" "$2" || rc=$?
	else
		"$GIL_ROOT/tests/vm/attribute-reports.sh" "$2" || rc=$?
	fi
	echo "exit $rc"
}

n=0
for console in "$samples"/*.console; do
	name=$(basename "$console" .console)
	want=$(cat "$samples/$name.expected")
	if grep -q '^gil\.ko: ' <<<"$want"; then want+=$'\nexit 1'; else want+=$'\nexit 0'; fi
	for sh in bash busybox; do
		got=$(attribute "$sh" "$console")
		if [[ $got != "$want" ]]; then
			echo "attribute-reports.sh ($sh) on $name.console:"
			diff <(echo "$want") <(echo "$got") | sed 's/^/    /' || true
			status=1
		fi
	done
	n=$((n + 1))
done
# Each way a report is told apart is sampled: a kernel race with gil.ko
# below an exception and below an interrupt, gil.ko's own race, a kernel
# function gil.ko called, an unloaded module's bare address, KASAN's free
# stack, an Oops and its panic after a kernel WARNING.
[[ $n -ge 8 ]] || { echo "only $n sample consoles"; status=1; }
exit "$status"
