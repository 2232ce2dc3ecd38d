#!/bin/bash
# bpftrace and perf on gil.ko's tracepoints, in a guest: the README's
# recipes (Observability) as a user runs them.  The host's bpftrace and
# perf (Debian's bpftrace and linux-perf), every shared library they load
# and userspace/tools/gil-handoff.bt go into $GIL_BUILD/tracing-root, which
# run.sh copies over the guest's root (GIL_VM_EXTRA_ROOT); the plan
# tracing-tools runs them beside gil-handoff.
#
# usage: tracing-tools-check.sh [KERNEL [STAGE]]   (default: 6.1, vm-KERNEL-tracing)
# Exit: 0 when the plan passed; 77, after a "skip:" line, when bpftrace or
# perf is not installed on the host (make setup installs both);
# else 1.  Needs gil.ko and the guest programs, as run.sh does.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

kernel=${1:-6.1} stage=${2:-vm-${1:-6.1}-tracing}
root=$GIL_BUILD/tracing-root

skip() {
	echo "skip: $stage: $* (apt-get install bpftrace linux-perf)"
	exit 77
}

bpftrace=$(command -v bpftrace) || skip "no bpftrace on the host"
perf=$(command -v perf) || skip "no perf on the host"
# Debian has had /usr/bin/perf be a script that runs perf_VERSION for the
# running kernel; bookworm's linux-perf installs the program itself there.
# The guest needs the program.
if [[ $(od -An -c -N 4 "$perf" | tr -d ' ') != 177ELF ]]; then
	perf=$(find /usr/bin -maxdepth 1 -name 'perf_[0-9]*' | sort -V | tail -n 1)
	[[ -n $perf ]] || skip "$(command -v perf) is not a program and no /usr/bin/perf_VERSION is installed"
fi

rm -rf "$root"
mkdir -p "$root/usr/bin"
cp "$bpftrace" "$root/usr/bin/bpftrace"
cp "$perf" "$root/usr/bin/perf"
install -m 0755 userspace/tools/gil-handoff.bt "$root/usr/bin/gil-handoff.bt"
# The script's #! line names /usr/bin/env; busybox has it, in /bin.
ln -s /bin/busybox "$root/usr/bin/env"

# ldd lists a program's libraries and theirs, and the dynamic loader, at
# the paths the guest's loader searches (/lib/x86_64-linux-gnu is one of its
# built-in directories: the guest has no ld.so.cache).  Neither program
# dlopens a library for what the plan does (checked with strace).
for bin in "$bpftrace" "$perf"; do
	libs=$(ldd "$bin") || die "ldd $bin failed"
	! grep -q 'not found' <<<"$libs" || die "ldd $bin: $(grep 'not found' <<<"$libs")"
	while read -r lib; do
		[[ -e $root$lib ]] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")
done
echo "== $stage: $(basename "$bpftrace") $("$bpftrace" --version | awk '{ print $2 }')," \
	"perf $("$perf" --version | awk '{ print $3 }'):" \
	"$(du -sm "$root" | cut -f1) MiB in $root"

# The initramfs holds bpftrace's libraries (LLVM, clang) twice while the
# kernel unpacks it; bpftrace compiles in the guest's memory too.
GIL_VM_EXTRA_ROOT=$root GIL_VM_MEM=${GIL_VM_MEM:-2048} \
	exec tests/vm/run.sh "$kernel" tracing-tools "$stage"
