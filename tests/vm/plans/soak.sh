# Plan: the long run (make soak): issue 17's counts in one boot of the
# debug kernel.  The fuzzer until 1,000,000 calls and the chaos until
# 10,000 kills (each for an hour at most), the load with 256 threads on
# one GIL (past the 64 entries a wake-up scan might stop at) and with 64
# on each of 4 GILs, each GIL under a policy and changing policy under
# the load (load.c); the hotplug, fault and freezer parts; 200
# insmod/rmmod cycles.  The parts are tests/vm/stress-parts.sh's.
# GIL_STRESS_SECONDS (from the kernel command line) is how long each part
# with no count runs; GIL_SOAK_CALLS, _KILLS and _CYCLES change the counts
# (a smoke test of the plan).
secs=${GIL_STRESS_SECONDS:-60}
. /lib/gil/stress-parts.sh

echo "# stress: cpus online $(cat /sys/devices/system/cpu/online)"
load_module
guest_tap stress-fuzz -d 3600 -n "${GIL_SOAK_CALLS:-1000000}"
guest_tap stress-chaos -d 3600 -n "${GIL_SOAK_KILLS:-10000}"
guest_tap load_part load-256x1 -t 256 -g 1
guest_tap load_part load-64x4 -t 256 -g 4
guest_tap hotplug
guest_tap faults
guest_tap freeze
guest_test "rmmod gil after the stress programs" rmmod gil
secs=3600
cycles_part "${GIL_SOAK_CYCLES:-200}"
guest_test "no leaks (kmemleak)" kmemleak_clean
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
