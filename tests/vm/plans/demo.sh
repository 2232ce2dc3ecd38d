# Plan: load the module and run the demos.  A demo that fails (or runs past
# its timeout) fails the plan, after the others have run.
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko

# demo SECONDS CMD...: show the command and its output as it comes; then a
# result line.
demo() {
	limit=$1
	shift
	echo
	echo "\$ $*"
	if timeout "$limit" "$@"; then
		echo "ok - $*"
	else
		echo "not ok - $* (exit $?)"
		gil_failed=1
	fi
}

demo 30 gil-info
# N threads on one GIL: loops, share of GIL time, slices, switches.  The
# serial line is a tty, but its output goes to a log: -p, no redrawing.
demo 60 gil-cpu -p -b kernel -t 4 -d 2 -r 0.5
demo 60 gil-cpu -p -b cpython -t 4 -d 2 -r 0.5
# beside_gilstat CMD...: gilstat, a line per GIL a second from fdinfo,
# while CMD runs (for 5 s or more); then CMD's result.
beside_gilstat() {
	"$@" >/tmp/beside.log 2>&1 &
	pid=$!
	sleep 1
	demo 30 gilstat -p -i 1 -n 3
	if ! wait $pid; then
		echo "not ok - $* beside gilstat"
		sed 's/^/    /' /tmp/beside.log
		gil_failed=1
	fi
}
beside_gilstat gil-cpu -p -b kernel -t 3 -d 6 -r 3
# Beazley's convoy: an I/O thread beside 0, 1, 2, 4 CPU threads.
demo 120 gil-convoy -b all -d 1
# The same on /dev/gil under the io handoff policy (new GILs take the
# module's default_policy): the I/O thread no longer waits an interval.
p=/sys/module/gil/parameters/default_policy
echo io >$p
echo
echo "\$ echo io >$p"
demo 120 gil-convoy -b kernel -d 1
echo cpython >$p
# The GIL passed back and forth: voluntary and forced handoffs.
demo 120 gil-handoff -b all -n 100 -c 3

# CPython itself (userspace/cpython/), when make demo packed it: the
# convoy under CPython's own GIL, then on /dev/gil with the io policy; and
# gilstat watching real Python threads on /dev/gil.
py=/opt/kgil-python/bin/python3
share=/opt/kgil-python/share/kgil
if [ -x $py ]; then
	demo 300 env PYTHONGIL=cpython $py $share/convoy.py
	demo 300 env PYTHONGIL=kernel:io $py $share/convoy.py
	beside_gilstat env PYTHONGIL=kernel $py $share/spin.py 3 6
fi
echo

guest_test "rmmod gil" rmmod gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
