# Plan: load the module, run the userspace tests against it, unload it.

# The module parameter takes the bounds of GIL_IOC_SET_INTERVAL.  Not on a
# kernel with KUnit: every load attempt would run the suites again.
module_parameter_tests() {
	[ -d /sys/kernel/debug/kunit ] && return 0
	p=/sys/module/gil/parameters/default_interval_us
	guest_test "default_interval_us is 5000" grep -qx 5000 $p
	guest_test "default_interval_us rejects 0" sh -c "! echo 0 >$p"
	guest_test "default_interval_us rejects -1" sh -c "! echo -1 >$p"
	guest_test "default_interval_us rejects above an hour" \
		sh -c "! echo 3600000001 >$p"
	guest_test "default_interval_us sets a new GIL's interval" \
		sh -c "echo 2500 >$p && gil-info | grep -q 'interval of a new GIL: 2500 us'"
	echo 5000 >$p
	rmmod gil
	guest_test "insmod rejects default_interval_us=0" \
		sh -c "! insmod /lib/gil/gil.ko default_interval_us=0"
	guest_test "insmod default_interval_us=1000" \
		sh -c "insmod /lib/gil/gil.ko default_interval_us=1000 && grep -qx 1000 $p"
	rmmod gil
	guest_test "/dev/gil is 0666 by default (dev_mode)" \
		sh -c "insmod /lib/gil/gil.ko && [ \$(stat -c %a /dev/gil) = 666 ]"
	guest_test "max_threads is 65536 by default" \
		grep -qx 65536 /sys/module/gil/parameters/max_threads
	rmmod gil
	guest_test "insmod dev_mode=0600 makes /dev/gil 0600" \
		sh -c "insmod /lib/gil/gil.ko dev_mode=0600 && [ \$(stat -c %a /dev/gil) = 600 ]"
	rmmod gil
	guest_test "insmod rejects dev_mode=01777" \
		sh -c "! insmod /lib/gil/gil.ko dev_mode=01777"
	insmod /lib/gil/gil.ko
}

# run_userspace_tests [SKIP...]: every uapi test but those named, then
# libgil's conformance suite and the example interpreter.
run_userspace_tests() {
	# KASAN and lockdep make each thread's start and exit slow: test-records'
	# 100,000 threads would take 20 minutes on the debug kernel, and an
	# owner death is noticed in up to 60 ms there, not 10 to 20.
	if [ -d /sys/kernel/debug/kunit ]; then
		export GIL_TEST_THREADS=10000 GIL_TEST_DEATH_BOUND_MS=500
	fi
	for t in /bin/test-*; do
		case " $* " in
		*" ${t#/bin/} "*) continue ;;
		esac
		guest_tap "$t"
	done
	# libgil on the kernel backend: the conformance suite all backends
	# pass, and the example interpreter's threads sharing /dev/gil.
	guest_tap env GIL_BACKEND=kernel libgil-conformance
	guest_test "interp: 3 threads on /dev/gil keep their counter exact" \
		interp -b kernel -t 3 -n 200000
	guest_test "interp: CPU threads beside a thread blocked in read()" \
		interp -b kernel -t 2 -n 200000 -io 50
}

# The uapi tests, the conformance suite and interp again, for each policy
# but cpython as the default of new GILs (default_policy): every case
# holds under every policy, or sets the policy it is about.  test-waiters
# sets every policy itself and test-records has none to depend on: they
# run once.  Not on a kernel with KUnit (see module_parameter_tests).
run_tests_under_policies() {
	[ -d /sys/kernel/debug/kunit ] && return 0
	for policy in fifo io; do
		echo "# default_policy=$policy"
		rmmod gil
		guest_test "insmod default_policy=$policy" \
			insmod /lib/gil/gil.ko default_policy=$policy
		run_userspace_tests test-waiters test-records
	done
	rmmod gil
	insmod /lib/gil/gil.ko
}

load_module
module_parameter_tests
run_userspace_tests
run_tests_under_policies
unload_and_check
return $gil_failed
