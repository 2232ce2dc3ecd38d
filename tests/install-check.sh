#!/bin/bash
# make install into a temporary DESTDIR; an example must then build against
# the installed tree with pkg-config alone, and run.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
prefix=/usr/local

make -s -C "$GIL_ROOT" install DESTDIR="$dest" PREFIX=$prefix
for f in include/libgil/gil.h include/libgil/linux/gil.h lib/libgil.a lib/libgil.so \
	 lib/pkgconfig/gil.pc share/man/man3/gil.3 share/man/man3/gil_acquire.3 \
	 sbin/gilstat sbin/gil-handoff.bt share/man/man8/gilstat.8; do
	[[ -e $dest$prefix/$f ]] || die "make install did not install $prefix/$f"
done

# The installed library exports exactly the functions its header declares,
# each under a symbol version, and each has a man page.
inc=$dest$prefix/include/libgil/gil.h
declared=$(sed -nE '/^static/d; s/^[a-z][^(]*[ *](gil_[a-z_]+)\(.*/\1/p' "$inc" | sort -u)
exported=$(nm -D --defined-only "$dest$prefix/lib/libgil.so" |
	sed -nE 's/.* (gil_[a-z_]+)@@LIBGIL_[0-9.]+$/\1/p' | sort -u)
[[ $declared == "$exported" ]] ||
	die "gil.h and libgil.so differ: $(diff <(echo "$declared") <(echo "$exported") | grep '^[<>]' | tr '\n' ' ')"
for f in $declared gil_check gil_drop_requested GIL_BEGIN_ALLOW_THREADS \
	 GIL_END_ALLOW_THREADS GIL_END_ALLOW_THREADS_RET; do
	[[ -e $dest$prefix/share/man/man3/$f.3 ]] || die "no man page $f(3)"
done

# One version everywhere: the header's, the library's file name, and every
# man page's footer.
major=$(sed -nE 's/^#define GIL_VERSION_MAJOR[[:space:]]+([0-9]+)$/\1/p' "$inc")
minor=$(sed -nE 's/^#define GIL_VERSION_MINOR[[:space:]]+([0-9]+)$/\1/p' "$inc")
ls "$dest$prefix/lib/libgil.so.$major.$minor."* >/dev/null 2>&1 ||
	die "no libgil.so.$major.$minor.* for gil.h's version $major.$minor"
for m in "$dest$prefix"/share/man/man*/*; do
	th=$(sed -n '1{/^\.TH/p}' "$m")
	[[ -z $th || $th == *"\"libgil $major.$minor\""* ]] ||
		die "$(basename "$m"): footer not libgil $major.$minor: $th"
done

export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_LIBDIR=$dest$prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Wall -Werror -o "$dest/interp" \
	"$GIL_ROOT/userspace/examples/interp.c" $(pkg-config --cflags --libs gil)
LD_LIBRARY_PATH=$dest$prefix/lib "$dest/interp" -b futex -t 2 -n 10000

# A second install with another prefix, without a clean in between: gil.pc
# must name the new directories (it was once made only when gil.pc.in
# changed), and the headers stay out of the kernel headers' linux/.
prefix2=/opt/kgil
make -s -C "$GIL_ROOT" install DESTDIR="$dest" PREFIX=$prefix2
pc=$dest$prefix2/lib/pkgconfig/gil.pc
grep -qx "prefix=$prefix2" "$pc" || die "gil.pc after PREFIX=$prefix2: $(head -n 3 "$pc")"
export PKG_CONFIG_LIBDIR=$dest$prefix2/lib/pkgconfig
[[ $(pkg-config --cflags gil) == *"-I$dest$prefix2/include/libgil"* ]] ||
	die "pkg-config --cflags gil: $(pkg-config --cflags gil)"
[[ ! -e $dest$prefix2/include/linux ]] || die "make install wrote $prefix2/include/linux"
