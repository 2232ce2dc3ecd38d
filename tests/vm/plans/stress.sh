# Plan: the stress programs against one loaded module, then insmod/rmmod
# cycles; the module must unload after each, and at the end kmemleak must
# find nothing (a leak stays unreferenced, so one scan at the end finds
# them all: each scan costs half a minute on the debug kernel under TCG).
# GIL_STRESS_SECONDS (from the kernel command line) is how long each part
# runs.
secs=${GIL_STRESS_SECONDS:-10}
ko=/lib/gil/gil.ko

load_module
guest_tap stress-fuzz -d "$secs"
guest_tap stress-chaos -d "$secs"
guest_tap stress-load -d "$secs"
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
