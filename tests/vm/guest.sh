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

# The kernel log since boot must hold no kernel bug report that touches
# gil.ko: tests/vm/attribute-reports.sh, with the one list of what a report
# looks like (run.sh packs both here), says whose each one is; the
# kernel's own are printed, and run.sh's console check lists them.
kernel_log_clean() {
	dmesg | sh /lib/gil/attribute-reports.sh
}

# kmemleak: every object the tests allocated must have been freed.  Objects
# allocated by the boot task (comm "swapper/N") predate every test; some
# early ACPI caches are reported no matter what, so they are left out.
kmemleak_clean() {
	f=/sys/kernel/debug/kmemleak
	[ -e $f ] || return 0
	# Objects younger than a few seconds are never reported; wait them out.
	sleep 6
	# A kmemleak that turned itself off (its own allocations failed, say)
	# takes no scan, and would find nothing: that is a failure too.
	echo scan >$f || { echo "# kmemleak is off"; return 1; }
	echo scan >$f
	awk '/^unreferenced object/ { if (rec != "" && rec !~ /comm "swapper/) { print rec; n++ } rec = "" }
	     { rec = rec $0 "\n" }
	     END { if (rec != "" && rec !~ /comm "swapper/) { print rec; n++ } exit n > 0 }' $f
}

# Forget what boot allocated: kmemleak reports some early boot objects
# (ACPI caches, for one) as leaks, and its periodic scan would print them.
kmemleak_reset() {
	f=/sys/kernel/debug/kmemleak
	[ -e $f ] || return 0
	echo scan=off >$f
	echo scan >$f
	echo clear >$f
}

# Load gil.ko.  When it carries KUnit suites they run during the load;
# their KTAP output goes between markers for the host to parse.
load_module() {
	kmemleak_reset
	echo "GIL-KUNIT-MARK" >/dev/kmsg
	guest_test "insmod gil.ko" insmod /lib/gil/gil.ko
	guest_test "/dev/gil is a character device" test -c /dev/gil
	echo "GIL-KTAP-BEGIN"
	dmesg | sed -e '1,/GIL-KUNIT-MARK/d' -e 's/^\[[^]]*\] //'
	echo "GIL-KTAP-END"
}

unload_and_check() {
	guest_test "rmmod gil" rmmod gil
	guest_test "no leaks after rmmod (kmemleak)" kmemleak_clean
	guest_test "kernel log clean" kernel_log_clean
}
