# Helpers for the plans that run inside the test guest (busybox sh).
# Output protocol, read by tests/vm/run.sh on the host:
#   ok - NAME / not ok - NAME      one test result
#   GIL-KTAP-BEGIN ... GIL-KTAP-END  the kernel's KTAP output, for kunit.py
#   GIL-VM-EXIT RC                 the plan finished

gil_failed=0

# guest_test NAME CMD...: run one test, print its result line.
guest_test() {
	name=$1
	shift
	if "$@" >/tmp/test.log 2>&1; then
		echo "ok - $name"
	else
		echo "not ok - $name (exit $?)"
		sed 's/^/    /' /tmp/test.log | tail -n 40
		gil_failed=1
	fi
}

# guest_tap CMD...: run a program that prints its own "ok"/"not ok" lines.
guest_tap() {
	"$@" || gil_failed=1
}

# The kernel log since boot must hold no report of a kernel bug.
kernel_log_clean() {
	! dmesg | grep -E -e 'BUG:|WARNING:|Oops|general protection fault' \
		-e 'possible (recursive|circular) locking|inconsistent lock state' \
		-e 'KASAN|UBSAN|ODEBUG|kmemleak:.*new suspected|list_(add|del) corruption' \
		-e 'Call Trace:'
}

# kmemleak: every object the tests allocated must have been freed.
kmemleak_clean() {
	f=/sys/kernel/debug/kmemleak
	[ -e $f ] || return 0
	# Objects younger than a few seconds are never reported; wait them out.
	sleep 6
	echo scan >$f
	echo scan >$f
	if grep -q unreferenced $f; then
		cat $f
		return 1
	fi
}

kmemleak_reset() {
	[ -e /sys/kernel/debug/kmemleak ] && echo clear >/sys/kernel/debug/kmemleak
	return 0
}
