# Plan: load the module and run the benchmark (make bench, tests/bench.sh).
# gil-bench prints its progress, then the environment, the results as CSV
# and the raw samples between marker lines, which tests/bench.sh takes out
# of the guest's output on the host.  Arguments for gil-bench, if any, come
# in the file /bin/gil-bench.args (build/guest/gil-bench.args on the host).
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko
args=$(cat /bin/gil-bench.args 2>/dev/null)
echo "GIL-BENCH-GUEST-BEGIN"
echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "mem_kib=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
echo "interval_default_us=$(cat /sys/module/gil/parameters/default_interval_us)"
echo "GIL-BENCH-GUEST-END"
# shellcheck disable=SC2086 # the arguments are words
if gil-bench $args; then
	echo "ok - gil-bench ran to completion"
else
	echo "not ok - gil-bench ran to completion (exit $?)"
	gil_failed=1
fi
guest_test "rmmod gil" rmmod gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
