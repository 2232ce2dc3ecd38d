# Plan: bpftrace and perf on gil.ko's tracepoints, as README.md's
# Observability section shows them: userspace/tools/gil-handoff.bt's
# histograms, perf stat's count of gil:gil_handoff, perf record and
# perf script's events, each while gil-handoff runs on /dev/gil.
# tests/tracing-tools-check.sh packs bpftrace, perf, their libraries and
# the script (/usr/bin/gil-handoff.bt) into the guest's root.
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko

out=/tmp/tracing
mkdir -p $out
load="gil-handoff -b kernel -n 200 -c 2"

# hist_total FILE: the sum of the counts of bpftrace's histogram lines,
# "[256K, 512K)    12 |@@@@@@      |".
hist_total() {
	sed -nE 's/^\[[^])]*[])][[:space:]]+([0-9]+)[[:space:]]+\|.*/\1/p' "$1" |
		awk '{ n += $1 } END { print n + 0 }'
}

# show FILE: a tool's output in the log, indented.
show() {
	sed 's/^/    /' "$1"
}

guest_test "bpftrace and perf are in the guest" \
	sh -c 'command -v bpftrace && command -v perf && command -v gil-handoff.bt'
echo "# $(bpftrace --version), $(perf --version)"

echo
echo "\$ perf list 'gil:*'"
perf list 'gil:*' >$out/list.txt 2>&1
show $out/list.txt
guest_test "perf list shows the four gil events" \
	sh -c "[ \$(grep -c -E 'gil:gil_(acquire|release|drop_request|handoff) +\[Tracepoint event\]' $out/list.txt) = 4 ]"

# gil-handoff.bt until SIGINT (Ctrl-C), with perf stat counting the same
# tracepoint over the same run: the histograms' total is perf's count.
# bpftrace prints its BEGIN line once its probes are attached; compiling
# the script with LLVM under TCG takes a while.
echo
echo "\$ gil-handoff.bt &"
gil-handoff.bt >$out/bt.txt 2>&1 &
bt=$!
i=0
while ! grep -q '^Tracing' $out/bt.txt && kill -0 $bt 2>/dev/null && [ $i -lt 300 ]; do
	sleep 1
	i=$((i + 1))
done
echo "# attached after ${i}s"
echo "\$ perf stat -a -e gil:gil_handoff -- $load"
guest_test "perf stat -a -e gil:gil_handoff -- $load" \
	sh -c "timeout 300 perf stat -a -e gil:gil_handoff -- $load 2>$out/stat.txt"
show $out/stat.txt
echo "\$ kill -INT %1"
kill -INT $bt
# A bpftrace that does not stop on SIGINT fails its test, not the whole run.
(sleep 120 && kill -KILL $bt) 2>/dev/null &
watchdog=$!
wait $bt
bt_rc=$?
kill $watchdog 2>/dev/null
show $out/bt.txt
guest_test "gil-handoff.bt attached (printed its BEGIN line)" grep -q '^Tracing gil:gil_handoff' $out/bt.txt
guest_test "gil-handoff.bt exits 0 on SIGINT (exit $bt_rc)" [ $bt_rc = 0 ]
guest_test "gil-handoff.bt prints a histogram per GIL id" grep -q '^@handoff_ns\[[0-9][0-9]*\]: *$' $out/bt.txt
hist=$(hist_total $out/bt.txt)
stat=$(awk '$2 == "gil:gil_handoff" { gsub(",", "", $1); print $1 }' $out/stat.txt)
guest_test "gil-handoff.bt's histograms count handoffs ($hist)" [ "$hist" -gt 0 ]
guest_test "perf stat counts gil:gil_handoff events (${stat:-none})" [ "${stat:-0}" -gt 0 ]
guest_test "the histograms count as many handoffs as perf stat ($hist, ${stat:-none})" \
	[ "$hist" = "${stat:-none}" ]

# perf record: every gil event of a run, system-wide; perf script prints
# them as the trace does.
echo
echo "\$ perf record -a -e 'gil:*' -o $out/perf.data -- gil-handoff -b kernel -n 50 -c 1"
guest_test "perf record -a -e 'gil:*' -- gil-handoff" \
	sh -c "timeout 300 perf record -a -e 'gil:*' -o $out/perf.data -- gil-handoff -b kernel -n 50 -c 1 >$out/record.txt 2>&1"
show $out/record.txt
echo "\$ perf script -i $out/perf.data"
guest_test "perf script" sh -c "perf script -i $out/perf.data >$out/script.txt 2>$out/script.err"
head -n 12 $out/script.txt | sed 's/^/    /'
echo "    ..."
sed 's/^/    /' $out/script.err
for ev in gil_acquire gil_release gil_drop_request gil_handoff; do
	n=$(grep -c " gil:$ev: gil=[0-9]" $out/script.txt)
	guest_test "perf script shows gil:$ev events ($n)" [ "$n" -gt 0 ]
done
guest_test "perf script's gil_handoff events have a latency_ns" \
	grep -q -E ' gil:gil_handoff: gil=[0-9]+ from=[0-9]+ to=[0-9]+ latency_ns=[0-9]+' $out/script.txt

# gil-handoff.bt SECONDS stops by itself.
echo
echo "\$ gil-handoff.bt 2"
guest_test "gil-handoff.bt 2 stops by itself" sh -c "timeout 300 gil-handoff.bt 2 >$out/bt2.txt 2>&1"
show $out/bt2.txt
guest_test "gil-handoff.bt 2 said it would" grep -q '^Tracing gil:gil_handoff for 2 s' $out/bt2.txt
echo

guest_test "rmmod gil" rmmod gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
