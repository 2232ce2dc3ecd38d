# Plan for tests/bench-steps.sh: every /bin/gil-step-N.ko in turn, then the
# userspace backends, each pass; CSV lines "step-N,pass,<gil-bench CSV>".
passes=$(cat /bin/bench-steps.passes)
groups=$(cat /bin/bench-steps.groups)
bench() {
	gil-bench -r 2 -s 0.5 -g "$groups" -n "$@" 2>/dev/null |
		sed -n '/^GIL-BENCH-CSV-BEGIN$/,/^GIL-BENCH-CSV-END$/p' |
		grep -v '^GIL-BENCH-'
}
pass=1
while [ $pass -le "$passes" ]; do
	for ko in /bin/gil-step-*.ko; do
		step=${ko#/bin/gil-}
		step=${step%.ko}
		guest_test "insmod $step" insmod "$ko" || continue
		bench -b kernel -p cpython | sed "s/^/$step,$pass,/"
		guest_test "rmmod $step" rmmod gil
	done
	bench -b cpython,futex | sed "s/^/step-user,$pass,/"
	pass=$((pass + 1))
done
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
