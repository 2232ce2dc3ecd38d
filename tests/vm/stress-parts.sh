# The parts of the stress plans (tests/vm/plans/stress.sh and soak.sh),
# sourced in the guest after guest.sh.  A part prints TAP lines, then one
# summary line that tests/stress.sh collects:
#   # stress-PART: seconds=S key=value ... findings=N
# $secs is how long a part runs; gil.ko is loaded, except for the cycles.
ko=/lib/gil/gil.ko

# The value of KEY= in summary line LINE ("" if none).
summary_value() {
	echo "$1" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"
}

# report_as PART PROG LOG RC: stress-PROG's output in LOG, its lines
# renamed "stress-PART: PROG: ...", its own summary line left out (the
# part prints one); that line in $line, and in $findings its findings (1
# if it did not report, or exited with RC not 0 without any).
report_as() {
	sed -e "/^# stress-$2: seconds=/d" \
	    -e "s/^\(\(not \)\{0,1\}ok - \)stress-$2:/\1stress-$1: $2:/" \
	    -e "s/^# stress-$2:/# stress-$1: $2:/" "$3"
	line=$(grep "^# stress-$2: seconds=" "$3")
	findings=$(summary_value "$line" findings)
	[ -n "$findings" ] || findings=1	# it did not report
	[ "$4" = 0 ] || [ "$findings" != 0 ] || findings=1
}

# load_part NAME ARGS...: stress-load with ARGS, its lines renamed
# stress-NAME.
load_part() {
	name=$1
	shift
	stress-load -d "$secs" "$@" >/tmp/load.log 2>&1
	rc=$?
	sed "s/stress-load:/stress-$name:/" /tmp/load.log
	return $rc
}

# CPU hotplug under load: stress-load runs while CPU 1 goes offline and
# online again every 100-300 ms.  Waiters asleep on CPU 1, their hrtimers
# and the threads running there move to CPU 0 and back; a wake-up lost on
# the way shows as a stall or a thread that never ends (GIL 0 waits an
# hour, see load.c), a broken book as a count that disagrees.  The load's
# lines are renamed stress-hotplug, so that its summary is not the load
# part's.
hotplug() {
	cpu=/sys/devices/system/cpu/cpu1/online
	n=0 failed=0
	if [ ! -w $cpu ]; then
		echo "not ok - stress-hotplug: CPU 1 can go offline ($cpu)"
		echo "# stress-hotplug: seconds=$secs cycles=0 findings=1"
		return 1
	fi
	stress-load -d "$secs" >/tmp/hotplug-load.log 2>&1 &
	load=$!
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt $end ]; do
		echo 0 >$cpu || { failed=1; break; }
		sleep 0.$((1 + n % 3))
		echo 1 >$cpu || { failed=1; break; }
		n=$((n + 1))
		sleep 0.$((3 - n % 3))
	done
	echo 1 >$cpu 2>/dev/null
	wait $load
	report_as hotplug load /tmp/hotplug-load.log $?
	[ "$(cat $cpu)" = 1 ] || failed=1
	[ $failed = 0 ] && [ $n -gt 0 ] || findings=$((findings + 1))
	if [ $failed = 0 ] && [ $n -gt 0 ]; then
		echo "ok - stress-hotplug: CPU 1 went offline and online $n times, and is online"
	else
		echo "not ok - stress-hotplug: CPU 1 went offline and online $n times, and is online"
	fi
	# The load's counts after "seconds=" and up to "findings=".
	counts=$(echo "$line" |
		 sed -n 's/^# stress-load: seconds=[^ ]* \(.*\) findings=[0-9]*$/\1/p')
	echo "# stress-hotplug: seconds=$secs cycles=$n $counts findings=$findings"
	[ "$findings" = 0 ]
}

# Failing allocations: the fuzzer and then the chaos again, half the
# part's time each, with a third to a quarter of their calls armed to
# fail their first few allocations (-f: the kernel's fault injection,
# /proc/thread-self/fail-nth).  Every result must still be one the ABI
# documents, the books must balance, and kmemleak (at the end of the
# plan) must find nothing.  Their lines are renamed stress-faults.
faults() {
	half=$(((secs + 1) / 2))
	total=0 summary=
	for prog in fuzz chaos; do
		stress-$prog -f -d $half >/tmp/faults-$prog.log 2>&1
		report_as faults $prog /tmp/faults-$prog.log $?
		total=$((total + findings))
		[ $prog = fuzz ] && count=calls || count=kills
		summary="$summary ${prog}_$count=$(summary_value "$line" $count)"
		summary="$summary ${prog}_failed_allocations=$(summary_value "$line" failed_allocations)"
	done
	echo "# stress-faults: seconds=$secs$summary findings=$total"
	[ $total = 0 ]
}

# Freezing under load: stress-load runs in a cgroup v2 that is frozen and
# thawed every 100-400 ms, and the first time and every fourth after it
# the whole system is frozen instead, by a suspend (echo mem: s2idle in
# the test guests) that /sys/power/pm_test ends after its freezer (a
# second).  Waiters leave their waits to be frozen, through
# the signal path, and go back to them thawed; a wait the freezer cannot
# reach keeps the cgroup from freezing (a finding after 10 s) or fails
# the suspend (EBUSY), and a wake-up lost on the way shows in the load's
# stall and count checks.  The load's lines are renamed stress-freeze.
freeze() {
	cg=/sys/fs/cgroup/kgil-stress-freeze
	n=0 system=0 failed=0 why=
	rmdir $cg 2>/dev/null
	if ! mkdir $cg || [ ! -w /sys/power/pm_test ]; then
		echo "not ok - stress-freeze: a cgroup at $cg and /sys/power/pm_test"
		echo "# stress-freeze: seconds=$secs cycles=0 findings=1"
		return 1
	fi
	delay=$(cat /sys/module/suspend/parameters/pm_test_delay)
	echo 1 >/sys/module/suspend/parameters/pm_test_delay
	sh -c "echo \$\$ >$cg/cgroup.procs && exec stress-load -d $secs" \
		>/tmp/freeze-load.log 2>&1 &
	load=$!
	end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt $end ] && [ $failed = 0 ]; do
		n=$((n + 1))
		if [ $((n % 4)) = 1 ]; then
			echo freezer >/sys/power/pm_test
			echo mem >/sys/power/state ||
				{ failed=1; why="echo mem >/sys/power/state failed"; }
			echo none >/sys/power/pm_test
			system=$((system + 1))
		else
			echo 1 >$cg/cgroup.freeze
			i=0
			while ! grep -q '^frozen 1' $cg/cgroup.events; do
				i=$((i + 1))
				[ $i -lt 1000 ] || { failed=1; why="the cgroup did not freeze in 10 s"; break; }
				sleep 0.01
			done
			sleep 0.$((1 + n % 3))
			echo 0 >$cg/cgroup.freeze
		fi
		sleep 0.$((1 + n % 4))
	done
	echo 0 >$cg/cgroup.freeze
	echo "$delay" >/sys/module/suspend/parameters/pm_test_delay
	wait $load
	rc=$?
	rmdir $cg
	report_as freeze load /tmp/freeze-load.log $rc
	if [ $failed = 0 ] && [ $n -gt 0 ]; then
		echo "ok - stress-freeze: $n freezes ($system of the whole system), each complete, each thawed"
	else
		echo "not ok - stress-freeze: $n freezes ($system of the whole system): $why"
		findings=$((findings + 1))
	fi
	echo "# stress-freeze: seconds=$secs freezes=$n system_freezes=$system acquisitions=$(summary_value "$line" acquisitions) findings=$findings"
	[ "$findings" = 0 ]
}

# A GIL held open (here as a shell's stdin) pins the module: rmmod must
# fail while it is open, then succeed once its holder is gone.
rmmod_waits_for_holder() {
	sleep 600 </dev/gil &
	holder=$!
	sleep 0.2
	if rmmod gil 2>/dev/null; then
		kill -9 $holder
		return 1
	fi
	kill -9 $holder
	wait $holder 2>/dev/null
	rmmod gil
}

# insmod/rmmod cycles, with GILs opened, used and closed in between; a
# process killed while it holds a GIL; a GIL open across an rmmod attempt.
# Each load takes the next handoff policy as the default of its GILs.  For
# $secs, or until $1 cycles when given.
cycles() {
	end=$(($(date +%s) + secs))
	want=${1:-999999999}
	n=0
	while [ "$(date +%s)" -lt $end ] && [ $n -lt "$want" ]; do
		set -- cpython fifo io
		shift $((n % 3))
		insmod $ko default_policy=$1 || return 1
		gil-info >/dev/null || return 1
		interp -b kernel -t 2 -n 2000 >/dev/null || return 1
		interp -b kernel -t 3 -n 100000000 >/dev/null &
		sleep 0.$((n % 5))
		kill -9 $!
		wait $! 2>/dev/null
		rmmod_waits_for_holder || return 1
		n=$((n + 1))
		echo $n >/tmp/cycles
	done
}

# The cycles as a part, gil.ko unloaded: cycles_part [COUNT].
cycles_part() {
	echo 0 >/tmp/cycles
	before=$gil_failed
	gil_failed=0
	guest_test "insmod/rmmod cycles, GILs used and killed in between" cycles "$@"
	# The summary line the host collects, as the programs print theirs.
	echo "# stress-cycles: seconds=$secs cycles=$(cat /tmp/cycles) findings=$gil_failed"
	gil_failed=$((before | gil_failed))
}
