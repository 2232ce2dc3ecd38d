#!/bin/bash
# Read the KTAP that the guest captured while loading gil.ko with its KUnit
# suites, have the kernel's own parser (kunit.py parse) judge it, and
# record one result per test case under the stage "kunit".
#
# usage: parse.sh OUTPUT   (OUTPUT: the guest output, build/vm/*/output.txt)
set -euo pipefail
. "$(dirname "$0")/../lib.sh"

output=$(realpath "$1")
dir=$(dirname "$output")
kunit_py=$GIL_BUILD/src/linux-source-6.1/tools/testing/kunit/kunit.py
[[ -f $kunit_py ]] || die "no $kunit_py (make setup)"

sed -n '/^GIL-KTAP-BEGIN$/,/^GIL-KTAP-END$/p' "$output" | sed '1d;$d' >"$dir/ktap.body"
# Module suites on 6.1 print without the top-level KTAP header; each suite
# ends with an unindented result line, so those give the plan.
nsuites=$(grep -cE '^(not )?ok [0-9]+ ' "$dir/ktap.body" || true)
if [[ $nsuites == 0 ]]; then
	result kunit 1 "KUnit suites ran when gil.ko was loaded"
	exit 1
fi
{ echo "KTAP version 1"; echo "1..$nsuites"; cat "$dir/ktap.body"; } >"$dir/ktap.txt"

rc=0
python3 "$kunit_py" parse --json="$dir/kunit.json" "$dir/ktap.txt" >"$dir/kunit.log" 2>&1 || rc=$?
cat "$dir/kunit.log"

# One result line per test case (parameterized cases count each parameter).
python3 - "$dir/kunit.json" >"$dir/kunit.tap" <<'PY'
import json, sys

def walk(group, path):
    for case in group.get("test_cases", []):
        name = ".".join(path + [case["name"]])
        ok = case["status"] in ("PASS", "SKIP")
        print(("ok" if ok else "not ok") + " - kunit: " + name)
    for sub in group.get("sub_groups", []):
        walk(sub, path + [sub["name"]])

walk(json.load(open(sys.argv[1])), [])
PY
mkdir -p "$GIL_RESULTS"
cat "$dir/kunit.tap" >>"$GIL_RESULTS/kunit.tap"
grep -q '^ok - ' "$dir/kunit.tap" || rc=1
# kunit.py exits 0 on some malformed logs; its summary says what it saw.
if grep -E -q 'failed: [1-9]|crashed: [1-9]|errors: [1-9]|\[CRASHED\]|\[ERROR\]' "$dir/kunit.log"; then
	rc=1
fi
result kunit "$rc" "kunit.py parse accepts the KTAP log"
exit "$rc"
