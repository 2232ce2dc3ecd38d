# Plan: the load checker wide (issue 17): 256 threads on one GIL, past the
# 64 entries a wake-up scan might stop at, then 64 threads on each of 4
# GILs; each GIL starts under a policy and changes policy under the load
# (load.c), so every policy is run.  GIL_STRESS_SECONDS (from the kernel
# command line) is how long each run lasts.  Each run's lines are renamed
# (stress-load-256x1, stress-load-64x4) to tell them apart.
secs=${GIL_STRESS_SECONDS:-10}

# load NAME ARGS...: stress-load with ARGS, its lines under NAME.
load() {
	name=$1
	shift
	stress-load -d "$secs" "$@" >/tmp/load.log 2>&1
	rc=$?
	sed "s/stress-load:/$name:/" /tmp/load.log
	return $rc
}

load_module
guest_tap load stress-load-256x1 -t 256 -g 1
guest_tap load stress-load-64x4 -t 256 -g 4
unload_and_check
return $gil_failed
