#!/bin/bash
# make check, host: the userspace programs and the guest's build, the uapi
# header's layout (64-bit, 32-bit, C++), the kernel-bug patterns, and that
# every shell script parses.
. "$(dirname "$0")/../lib.sh"
stage_init

stage "host: userspace and uapi"
run_test host "userspace programs build (-Wall -Wextra -Werror)" make -s BUILD="$GIL_BUILD" userspace guest
run_test host "uapi header layout, 64-bit" \
	gcc -m64 -fsyntax-only -Iuapi tests/host/uapi-layout.c
run_test host "uapi header layout, 32-bit" \
	gcc -m32 -fsyntax-only -Iuapi -idirafter /usr/include/x86_64-linux-gnu \
	tests/host/uapi-layout.c
run_test host "uapi header compiles as C++" \
	sh -c "echo '#include <linux/gil.h>' | g++ -x c++ -fsyntax-only -Wall -Wextra -Werror -Iuapi -"
run_test host "the kernel-bug patterns match each kind of report, and no clean boot's line" \
	tests/vm/kernel-bug-patterns-check.sh
run_test host "shell scripts parse" \
	sh -c 'for f in tests/*.sh tests/*/*.sh tests/vm/init .ci/run; do bash -n "$f" || exit 1; done'
