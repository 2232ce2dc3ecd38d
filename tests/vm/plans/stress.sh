# Plan: the stress programs against one loaded module, the load again
# under CPU hotplug, the fuzzer and the chaos with failing allocations,
# the load under the freezers, then insmod/rmmod cycles (the parts are
# tests/vm/stress-parts.sh's); the module must unload after each, and at
# the end kmemleak must find nothing (a leak stays unreferenced, so one
# scan at the end finds them all: each scan costs half a minute on the
# debug kernel under TCG).
# GIL_STRESS_SECONDS (from the kernel command line) is how long each part
# runs.
secs=${GIL_STRESS_SECONDS:-10}
. /lib/gil/stress-parts.sh

# On the record: how many CPUs the run had (tests/vm/run.sh's GIL_VM_SMP).
echo "# stress: cpus online $(cat /sys/devices/system/cpu/online)"
load_module
guest_tap stress-fuzz -d "$secs"
guest_tap stress-chaos -d "$secs"
guest_tap stress-load -d "$secs"
guest_tap hotplug
guest_tap faults
guest_tap freeze
guest_test "rmmod gil after the stress programs" rmmod gil
cycles_part
guest_test "no leaks (kmemleak)" kmemleak_clean
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
