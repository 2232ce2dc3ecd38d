#!/bin/bash
# Build CPython 3.13 with kgil's pluggable GIL (PYTHONGIL=cpython|kernel|
# kernel:POLICY|futex), once: Debian's python3.13 source package, gil.patch,
# the glue beside it (kgil.c, pycore_kgil.h), linked with libgil.
#
# Cached in $GIL_BUILD/cpython on the hashes of the source package, the
# patch, the glue and the configure line: a change to any of them builds
# anew (configure and make -j2 take 5 to 10 minutes here); otherwise the
# build tree is reused, relinked when libgil changed.
#
# usage: build.sh [stock]
#   stock: the same source and configure line without gil.patch, into
#   $GIL_BUILD/cpython-stock, prefix /opt/stock-python: the baseline that
#   measures what the patch costs a single thread.
#
# Output:
#   $GIL_BUILD/cpython/stage/opt/kgil-python   the installed tree (prefix
#                                             /opt/kgil-python)
#   $GIL_BUILD/cpython/guest                  a trimmed copy of it with its
#                                             shared libraries, for the VM's
#                                             initramfs (tests/vm/run.sh)
#   $GIL_BUILD/cpython/obj/python             the build tree's interpreter
#
# Needs the trixie deb-src entry and the build dependencies (tests/setup.sh).
set -euo pipefail
. "$(dirname "$0")/../../tests/lib.sh"

here=$GIL_ROOT/userspace/cpython
variant=${1:-patched}
case $variant in
patched) out=$GIL_BUILD/cpython prefix=/opt/kgil-python
	patches=("$here/gil.patch" "$here/kgil.c" "$here/pycore_kgil.h") ;;
stock) out=$GIL_BUILD/cpython-stock prefix=/opt/stock-python patches=() ;;
*) die "usage: build.sh [stock]" ;;
esac
pkg=python3.13
dl=$GIL_BUILD/cpython/dl
mkdir -p "$dl" "$out"

# The source package: fetched once.
dsc=$(ls "$dl"/${pkg}_*.dsc 2>/dev/null | tail -n 1 || true)
if [[ -z $dsc ]]; then
	echo "cpython: fetching Debian's $pkg source package"
	(cd "$dl" && apt-get source -qq --download-only "$pkg" 2>&1 |
		grep -v 'couldn.t be accessed by user' || true)
	dsc=$(ls "$dl"/${pkg}_*.dsc 2>/dev/null | tail -n 1 || true)
	[[ -n $dsc ]] || die "cpython: apt-get source $pkg failed (is the trixie deb-src entry there? make setup)"
fi

# libgil, linked in statically (configure links test programs with it too):
# a newer one relinks the interpreter.
make -s -C "$GIL_ROOT" BUILD="$GIL_BUILD" userspace >/dev/null

configure=(--prefix="$prefix" --without-ensurepip
	CPPFLAGS="-I$GIL_ROOT/userspace/include -I$GIL_ROOT/uapi"
	LIBS="$GIL_BUILD/userspace/libgil.a -lpthread")
key=$( { cat "$dsc" "${patches[@]}"; echo "${configure[*]}"; } |
	sha256sum | cut -c1-16)
if [[ $(cat "$out/key" 2>/dev/null) != "$key" ]]; then
	echo "cpython: building $variant anew ($(basename "$dsc"), key $key)"
	rm -rf "$out/src" "$out/obj" "$out/stage" "$out/guest" "$out/key"
	# apt-get source checked the files against the archive's signed index;
	# dpkg-source's own check of the .dsc's signature, which needs
	# debian-keyring, would only warn.
	dpkg-source -x "$dsc" "$out/src" >"$out/dpkg-source.log" 2>&1 ||
		die "cpython: dpkg-source -x failed (see $out/dpkg-source.log)"
	if [[ $variant == patched ]]; then
		cp "$here/kgil.c" "$out/src/Python/kgil.c"
		cp "$here/pycore_kgil.h" "$out/src/Include/internal/pycore_kgil.h"
		patch -d "$out/src" -p1 -s <"$here/gil.patch"
	fi
	mkdir -p "$out/obj"
	start=$SECONDS
	(cd "$out/obj" &&
		"$out/src/configure" "${configure[@]}" >configure.log 2>&1) ||
		die "cpython: configure failed (see $out/obj/configure.log)"
	echo "cpython: configured in $((SECONDS - start)) s"
	echo "$key" >"$out/key"
fi

if [[ -f $out/obj/python && $GIL_BUILD/userspace/libgil.a -nt $out/obj/python ]]; then
	rm -f "$out/obj/python"
fi

start=$SECONDS
make -C "$out/obj" -j2 >"$out/obj/make.log" 2>&1 ||
	die "cpython: make failed (see $out/obj/make.log)"
if [[ ! -f $out/guest/.stamp || $out/obj/python -nt $out/guest/.stamp ]]; then
	echo "cpython: built in $((SECONDS - start)) s; installing"
	rm -rf "$out/stage" "$out/guest"
	make -C "$out/obj" install DESTDIR="$out/stage" >"$out/obj/install.log" 2>&1 ||
		die "cpython: make install failed (see $out/obj/install.log)"
	"$here/trim.sh" "$out/stage$prefix" "$out/guest" "$prefix"
	touch "$out/guest/.stamp"
	echo "cpython: guest tree $(du -sh "$out/guest" | cut -f1) in $out/guest"
fi
