#!/bin/sh
# Split a kernel log (a guest's console, or dmesg) into its bug reports (a
# line of tests/vm/kernel-bug-patterns opens one) and say whose each one is:
#   gil.ko: FIRST LINE               the report touches the module
#   kernel, not gil.ko: FIRST LINE   it does not
# Exits 1 if any report touches the module, else 0 (2 on bad usage).
# POSIX sh and awk: it runs on the host (run.sh) and in the busybox guest.
#
# usage: attribute-reports.sh [-f] [-m MODULE] [-p PATTERNS] [FILE...]
#   -f  print each of the module's reports in full, indented, after its line
#   -m  the module's name as stack traces print it (default gil)
#   -p  the pattern list (default kernel-bug-patterns beside this script)
#
# The rule.  A frame "func+0x1/0x2 [gil]", or an address in the module
# area (0xffffffffc0000000-0xffffffffff000000 with KASLR, which every
# kernel of ours has; gil.ko is the only module our guests load, and an
# unloaded module's code prints as a bare address) touches the module.
# Where it counts:
#   - KCSAN: only in the racing accesses' own contexts.  Each access's stack
#     is read from its top down to the first entry boundary (an exception,
#     interrupt, softirq, syscall or kthread entry: asm_*, exc_*, sysvec_*,
#     __do_softirq, do_syscall_64, ret_from_fork...); frames below it are
#     the code that was interrupted or faulted, not the code that raced.
#     gil.ko's put_user taking a COW fault whose TLB flush races in the
#     kernel is the kernel's race; a gil.ko function, or a kernel function
#     gil.ko called, in the racing context is the module's.  A KCSAN report
#     cut short, with no stack, counts as the module's.
#   - any other report (KASAN with its allocation and free stacks, lockdep's
#     lock chains, a WARNING, an Oops and its registers, ODEBUG's hint):
#     anywhere in the report, as all of it is evidence of how the object,
#     lock or fault got there.
#
# Where a report ends: KCSAN, KASAN, KFENCE and UBSAN reports at their
# closing line of "="; others at "---[ end trace", at the next report, or
# at the end of the log.  "Call Trace:", "Oops" and KASAN's "KASAN:" hint
# inside a report are part of it;
# "Kernel panic" belongs to the report before it (the panic it caused).
set -eu

full=0 module=gil patterns=
while getopts fm:p: opt; do
	case $opt in
	f) full=1 ;;
	m) module=$OPTARG ;;
	p) patterns=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ -n "$patterns" ] || patterns=$(dirname "$0")/kernel-bug-patterns
[ -r "$patterns" ] || { echo "attribute-reports: no pattern list $patterns" >&2; exit 2; }

awk -v full="$full" -v module="$module" -v patfile="$patterns" '
BEGIN {
	npat = 0
	while ((getline p < patfile) > 0)
		if (p != "")
			pats[++npat] = p
	close(patfile)
	# A symbol of the module, or an address in the module area.
	modsym = "\\+0x[0-9a-f]+/0x[0-9a-f]+ \\[" module "\\]"
	modhex = "ffffffff([c-e][0-9a-f]|f[0-e])[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
	modaddr = "0x" modhex
	frame = "^ +(\\? )?([A-Za-z0-9_.$]+\\+0x[0-9a-f]+/0x[0-9a-f]+( \\[[A-Za-z0-9_]+\\])?|0x[0-9a-f]+)$"
	barefr = "^ +(\\? )?" modaddr "$"
	boundary = "^(asm_|entry_|exc_|sysvec_|__sysvec_|common_interrupt|irq_exit|__irq_exit|__do_softirq|handle_softirqs|do_softirq|do_syscall_|do_int80_syscall|__do_fast_syscall|do_fast_syscall|ret_from_fork|kthread\\+)"
	access = " to 0x[0-9a-f]+ of [0-9]+ bytes by (task [0-9]+|interrupt) on cpu [0-9]+:$"
	n = 0; open = 0
}

function is_report(line,   i) {
	for (i = 1; i <= npat; i++)
		if (line ~ pats[i])
			return 1
	return 0
}

# The module is in this frame line (a KCSAN stack line, or a
# "reordered to" line that names where the access went).
function mod_frame(line) {
	return line ~ modsym || line ~ barefr ||
	       line ~ /reordered to: / && line ~ (modaddr "$")
}

function start(line) {
	n++
	first[n] = line; text[n] = ""; lines[n] = 0; kind[n] = "plain"
	touch[n] = 0; stacks[n] = 0
	if (line ~ /^BUG: KCSAN:/) kind[n] = "kcsan"
	if (line ~ /^(BUG: K(CSAN|ASAN|FENCE)|UBSAN):/) delimited = 1; else delimited = 0
	open = 1; instack = 0
}

# One line of report n: the rule above, for its kind.
function add(line,   f) {
	if (lines[n]++ < 100)
		text[n] = text[n] "    " line "\n"
	if (kind[n] != "kcsan") {
		if (line ~ modsym || line ~ modaddr || line ~ ("address: " modhex))
			touch[n] = 1
		return
	}
	if (line ~ access) {
		stacks[n]++
		instack = 1; below = 0
		return
	}
	if (!instack)
		return
	if (line ~ frame || line ~ /^  \+-> reordered to: /) {
		if (below)
			return
		if (mod_frame(line)) {
			touch[n] = 1
			return
		}
		f = line; sub(/^ +(\? )?/, "", f)
		if (f ~ boundary)
			below = 1
	} else if (line != "  |") {
		instack = 0
	}
}

{
	sub(/\r$/, "")
	sub(/^\[ *[0-9]+\.[0-9]+\] /, "")
	if (open && delimited) {
		if ($0 ~ /^=+$/) { open = 0; next }
		add($0)
		next
	}
	if ($0 ~ /Kernel panic/ && n > 0) {
		text[n] = text[n] "    " $0 "\n"
		next
	}
	if (is_report($0)) {
		if (!open || $0 !~ /Call Trace:|^Oops|^KASAN: /)
			start($0)
		add($0)
		next
	}
	if (!open)
		next
	add($0)
	if ($0 ~ /^---\[ end trace/)
		open = 0
}

END {
	bad = 0
	for (i = 1; i <= n; i++) {
		if (kind[i] == "kcsan" && stacks[i] == 0)
			touch[i] = 1
		if (touch[i]) {
			print module ".ko: " first[i]
			if (full)
				printf "%s", text[i]
			bad = 1
		} else {
			print "kernel, not " module ".ko: " first[i]
		}
	}
	exit bad
}
' "$@"
