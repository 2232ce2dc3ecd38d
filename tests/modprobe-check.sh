#!/bin/bash
# modprobe gil in a guest, from the tree make modules_install writes: the
# module installed for KERNEL into $GIL_BUILD/modprobe-root, packed into the
# initramfs (run.sh's GIL_VM_EXTRA_ROOT), loaded by name (plan install).
#
# usage: modprobe-check.sh [KERNEL [STAGE]]   (default: 6.1, vm-KERNEL-install)
# make modules_install builds into $GIL_BUILD/kmod/host, and that gil.ko is
# the one run.sh also packs (GIL_VM_KMOD=host).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

kernel=${1:-6.1} stage=${2:-vm-${1:-6.1}-install}
kdir=$(kernel_kdir "$kernel")
root=$GIL_BUILD/modprobe-root
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' dkms.conf)

rm -rf "$root"
make -s BUILD="$GIL_BUILD" KDIR="$kdir" INSTALL_MOD_PATH="$root" modules_install
GIL_VM_EXTRA_ROOT=$root GIL_VM_KMOD=host \
	GIL_VM_ENV="${GIL_VM_ENV:-} GIL_VERSION=$version" \
	exec tests/vm/run.sh "$kernel" install "$stage"
