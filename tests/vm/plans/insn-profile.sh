# Plan: gil-bench's figures one at a time, each between two marks for the
# instruction-counting plugin (tests/insn-profile.sh, tests/vm/insn-plugin.c).
# The mark is sethostname(), which nothing else in the guest calls.  Each
# figure runs at two scales, so that the difference between the two
# windows is the cost of the extra samples alone, start-up left out.
# Environment: INSN_GROUPS and INSN_BACKENDS, comma-separated, as
# gil-bench's -g and -b take them; INSN_GATE=1 has gil-bench mark each
# voluntary handoff's measured span (GIL_BENCH_INSN_GATE); INSN_KALLSYMS=1
# only prints the kernel's symbols (the plugin needs the marks' addresses
# before boot).
if [ "${INSN_KALLSYMS:-0}" = 1 ]; then
	echo "GIL-INSN-SYMBOLS-BEGIN"
	grep ' [tT] ' /proc/kallsyms
	echo "GIL-INSN-SYMBOLS-END"
	return 0
fi
[ "${INSN_GATE:-0}" = 1 ] && export GIL_BENCH_INSN_GATE=1
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko
echo "GIL-INSN-SYMBOLS-BEGIN"
grep ' [tT] .*\[gil\]' /proc/kallsyms
echo "GIL-INSN-SYMBOLS-END"
for g in $(echo "$INSN_GROUPS" | tr , ' '); do
	for b in $(echo "$INSN_BACKENDS" | tr , ' '); do
		p=
		[ "$b" = kernel ] && p="-p cpython"
		for s in 0.5 1; do
			hostname mark
			# shellcheck disable=SC2086 # $p is words
			gil-bench -n -r 1 -s $s -b "$b" $p -g "$g" >/tmp/bench.log 2>&1
			rc=$?
			hostname mark
			# The window, then its results (name,backend,...,n,min).
			echo "GIL-INSN-WINDOW $g $b $s $rc"
			sed -n '/GIL-BENCH-CSV-BEGIN/,/GIL-BENCH-CSV-END/p' /tmp/bench.log |
				grep -v GIL-BENCH | sed 's/^/GIL-INSN-CSV /'
			[ $rc = 0 ] || { cat /tmp/bench.log; gil_failed=1; }
		done
	done
done
guest_test "rmmod gil" rmmod gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
