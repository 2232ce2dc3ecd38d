# Plan: the stress programs against one loaded module, the load again
# under CPU hotplug, then insmod/rmmod cycles; the module must unload
# after each, and at the end kmemleak must find nothing (a leak stays
# unreferenced, so one scan at the end finds them all: each scan costs
# half a minute on the debug kernel under TCG).
# GIL_STRESS_SECONDS (from the kernel command line) is how long each part
# runs.
secs=${GIL_STRESS_SECONDS:-10}
ko=/lib/gil/gil.ko

# On the record: how many CPUs the run had (tests/vm/run.sh's GIL_VM_SMP).
echo "# stress: cpus online $(cat /sys/devices/system/cpu/online)"
load_module
guest_tap stress-fuzz -d "$secs"
guest_tap stress-chaos -d "$secs"
guest_tap stress-load -d "$secs"

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
	rc=$?
	sed -e '/^# stress-load: seconds=/d' \
	    -e 's/^\(\(not \)\{0,1\}ok - \)stress-load:/\1stress-hotplug: load:/' \
	    -e 's/^# stress-load:/# stress-hotplug: load:/' \
	    /tmp/hotplug-load.log
	load_line=$(grep '^# stress-load: seconds=' /tmp/hotplug-load.log)
	findings=$(echo "$load_line" | sed -n 's/.* findings=\([0-9]*\)$/\1/p')
	[ -n "$findings" ] || findings=1	# the load did not report
	[ $rc = 0 ] || [ "$findings" != 0 ] || findings=1
	[ "$(cat $cpu)" = 1 ] || failed=1
	[ $failed = 0 ] && [ $n -gt 0 ] || findings=$((findings + 1))
	if [ $failed = 0 ] && [ $n -gt 0 ]; then
		echo "ok - stress-hotplug: CPU 1 went offline and online $n times, and is online"
	else
		echo "not ok - stress-hotplug: CPU 1 went offline and online $n times, and is online"
	fi
	# The load's counts after "seconds=" and up to "findings=".
	counts=$(echo "$load_line" |
		 sed -n 's/^# stress-load: seconds=[^ ]* \(.*\) findings=[0-9]*$/\1/p')
	echo "# stress-hotplug: seconds=$secs cycles=$n $counts findings=$findings"
	[ "$findings" = 0 ]
}

guest_tap hotplug
guest_test "rmmod gil after the stress programs" rmmod gil

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
# Each load takes the next handoff policy as the default of its GILs.
cycles() {
	end=$(($(date +%s) + secs))
	n=0
	while [ "$(date +%s)" -lt $end ]; do
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

echo 0 >/tmp/cycles
before=$gil_failed
gil_failed=0
guest_test "insmod/rmmod cycles, GILs used and killed in between" cycles
# The summary line the host collects, as the programs print theirs.
echo "# stress-cycles: seconds=$secs cycles=$(cat /tmp/cycles) findings=$gil_failed"
gil_failed=$((before | gil_failed))
guest_test "no leaks (kmemleak)" kmemleak_clean
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
