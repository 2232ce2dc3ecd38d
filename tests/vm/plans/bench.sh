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
# Real CPython's threads (userspace/cpython/workloads.py) on every GIL, a
# round of each in turn, beside stock CPython's (PYTHONGIL=cpython).
py=/opt/kgil-python/bin/python3
if [ -x $py ]; then
	rounds=$(cat /bin/py-bench.rounds 2>/dev/null || echo 3)
	r=1
	while [ "$r" -le "$rounds" ]; do
		for g in cpython kernel:cpython kernel:fifo kernel:io futex; do
			label=$(echo "$g" | tr : -)
			echo "py-bench: round $r of $rounds, PYTHONGIL=$g"
			# The single thread's loop in a process of its own, as stock's.
			for w in py-loop py-countdown,py-convoy,py-reacquire,py-slice,py-pool; do
				PYTHONGIL=$g $py /opt/kgil-python/share/kgil/workloads.py -g $w "$label" \
					2>/dev/null || { echo "not ok - py-bench: PYTHONGIL=$g $w round $r"; gil_failed=1; }
			done
		done
		# Stock CPython, unpatched, when packed: the single thread's loop.
		stock=/opt/stock-python/bin/python3
		if [ -x $stock ]; then
			echo "py-bench: round $r of $rounds, stock CPython"
			$stock /opt/kgil-python/share/kgil/workloads.py -g py-loop stock \
				2>/dev/null || { echo "not ok - py-bench: stock round $r"; gil_failed=1; }
		fi
		r=$((r + 1))
	done
fi
guest_test "rmmod gil" rmmod gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
