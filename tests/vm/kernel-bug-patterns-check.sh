#!/bin/bash
# tests/vm/kernel-bug-patterns, the one list of what a kernel bug report
# looks like (read by run.sh on the console and by the guest on dmesg),
# against tests/vm/kernel-bug-samples: a line of each kind of report must
# match, and the lines every clean boot of ours prints must not.
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

patterns=$GIL_ROOT/tests/vm/kernel-bug-patterns
status=0
while read -r want line; do
	if grep -E -q -f "$patterns" <<<"$line"; then got=match; else got=clean; fi
	[[ $got == "$want" ]] || { echo "expected $want, got $got: $line"; status=1; }
done <"$GIL_ROOT/tests/vm/kernel-bug-samples"
exit "$status"
