# Plan: 32-bit callers (issue 17).  The uapi tests and the ABI fuzzer built
# -m32 (make guest: $(BUILD)/guest32, packed at /m32 by GIL_VM_EXTRA_ROOT)
# against a 64-bit kernel with IA32_EMULATION: every call goes through the
# module's .compat_ioctl, compat_ptr_ioctl, which is right only while each
# argument has one layout for i386 and x86-64 (tests/host/uapi-layout.c).
# GIL_COMPAT_SECONDS (from the kernel command line): how long the fuzzer
# runs (default 10).
secs=${GIL_COMPAT_SECONDS:-10}
tracing=/sys/kernel/tracing

# ELF class of a file: 1 for 32-bit, 2 for 64-bit (byte 4 of the header).
elf_class() {
	hexdump -s 4 -n 1 -e '1/1 "%u"' "$1"
}

# Every 32-bit program (more than one: the glob matched) is ELF32.
all_elf32() {
	n=0
	for f in /m32/uapi/test-* /m32/stress/fuzz; do
		[ "$(elf_class "$f")" = 1 ] || return 1
		n=$((n + 1))
	done
	[ $n -gt 1 ]
}

# What the 32-bit programs are, and that this kernel runs them: nothing
# below would mean anything otherwise.
compat_setup_checks() {
	guest_test "32-bit: every /m32 program is ELF32" all_elf32
	guest_test "32-bit: /bin's programs are ELF64" \
		test "$(elf_class /bin/test-version)" = 2
	# /proc/sys/abi/vsyscall32 exists when the kernel has IA32_EMULATION.
	guest_test "32-bit: the kernel has IA32_EMULATION" \
		test -e /proc/sys/abi/vsyscall32
}

# ioctl_trace CMD...: while CMD runs, the function tracer on
# compat_ptr_ioctl and the module's gil_fop_ioctl; prints three counts:
# compat_ptr_ioctl's calls, gil_fop_ioctl's from a compat ioctl system
# call, and its others.  (compat_ptr_ioctl tail-calls gil_fop_ioctl, whose
# parent is then the system call: __do_compat_sys_ioctl on 6.1.)
ioctl_trace() {
	echo compat_ptr_ioctl >$tracing/set_ftrace_filter || return 1
	echo gil_fop_ioctl >>$tracing/set_ftrace_filter || return 1
	echo function >$tracing/current_tracer || return 1
	"$@" >/tmp/traced.log 2>&1
	# Read before the tracer goes: a change of tracer empties the buffer.
	echo 0 >$tracing/tracing_on
	grep -v '^#' $tracing/trace >/tmp/trace.txt
	echo nop >$tracing/current_tracer
	echo >$tracing/set_ftrace_filter
	echo 1 >$tracing/tracing_on
	echo "$(grep -c ' compat_ptr_ioctl <-' /tmp/trace.txt)" \
		"$(grep -c ' gil_fop_ioctl <-.*compat_sys_ioctl' /tmp/trace.txt)" \
		"$(grep ' gil_fop_ioctl <-' /tmp/trace.txt | grep -vc compat_sys_ioctl)"
}

# The compat path ran: a 32-bit caller's ioctls reach gil_fop_ioctl through
# compat_ptr_ioctl and the compat ioctl system call, a 64-bit caller's
# never do.  test-version calls GET_VERSION and unknown commands.
compat_path_checks() {
	# shellcheck disable=SC2046 # the three counts
	set -- $(ioctl_trace /m32/uapi/test-version)
	echo "# 32-bit test-version: compat_ptr_ioctl ${1:-?} calls;" \
		"gil_fop_ioctl ${2:-?} from compat_sys_ioctl, ${3:-?} from elsewhere"
	guest_test "32-bit: test-version's ioctls go through compat_ptr_ioctl" \
		test "${1:-0}" -gt 0 -a "${2:-0}" -gt 0 -a "${3:-1}" = 0
	# shellcheck disable=SC2046 # the three counts
	set -- $(ioctl_trace /bin/test-version)
	echo "# 64-bit test-version: compat_ptr_ioctl ${1:-?} calls;" \
		"gil_fop_ioctl ${2:-?} from compat_sys_ioctl, ${3:-?} from elsewhere"
	guest_test "64-bit: test-version's ioctls do not" \
		test "${1:-1}" = 0 -a "${2:-1}" = 0 -a "${3:-0}" -gt 0
}

load_module
compat_setup_checks
compat_path_checks
for t in /m32/uapi/test-*; do
	guest_tap "$t"
done
guest_tap /m32/stress/fuzz -d "$secs"
unload_and_check
return $gil_failed
