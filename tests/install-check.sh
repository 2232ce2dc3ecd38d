#!/bin/bash
# make install into a temporary DESTDIR; an example must then build against
# the installed tree with pkg-config alone, and run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/usr/local

make -s -C "$GIL_ROOT" install DESTDIR="$dest" PREFIX=$prefix
for f in include/gil.h include/linux/gil.h lib/libgil.a lib/libgil.so \
	 lib/pkgconfig/gil.pc share/man/man3/gil.3 share/man/man3/gil_acquire.3 \
	 sbin/gilstat share/man/man8/gilstat.8; do
	[[ -e $dest$prefix/$f ]] || die "make install did not install $prefix/$f"
done

export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o "$dest/interp" \
	"$GIL_ROOT/userspace/examples/interp.c" $(pkg-config --cflags --libs gil)
LD_LIBRARY_PATH=$dest$prefix/lib "$dest/interp" -b futex -t 2 -n 10000
