#!/bin/bash
# make demo: set up what is missing, build gil.ko for Debian's 6.1 kernel and
# the demo programs and the patched CPython, boot that kernel under QEMU,
# load the module, run the demos (C, then Python on /dev/gil).
# GIL_DEMO_KERNEL=6.12 picks the other kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

kernel=${GIL_DEMO_KERNEL:-6.1}
tests/setup.sh
make -s BUILD="$GIL_BUILD" guest
tests/build-module.sh "$kernel" "$(kernel_kdir "$kernel")" >/dev/null
userspace/cpython/build.sh
GIL_VM_PYTHON=1 exec tests/vm/run.sh "$kernel" demo demo
