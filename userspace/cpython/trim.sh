#!/bin/bash
# Copy an installed CPython (SRC, installed for PREFIX) into DEST as a guest
# root holds it: DEST/PREFIX, trimmed to what the threading tests and the
# workloads need (about 35 MB), and the shared libraries it loads.
#
# usage: trim.sh SRC DEST PREFIX
set -euo pipefail

src=$1 dest=$2 prefix=$3
ver=3.13
root=$dest$prefix
lib=$root/lib/python$ver

mkdir -p "$root/bin" "$root/lib"
cp -a "$src/bin/python$ver" "$root/bin/"
ln -sf "python$ver" "$root/bin/python3"
strip "$root/bin/python$ver"
cp -a "$src/lib/python$ver" "$root/lib/"

# What no test or workload here uses.
rm -rf "$lib"/config-$ver-* "$lib"/{idlelib,tkinter,turtledemo,ensurepip} \
	"$lib"/{pydoc_data,venv,sqlite3,curses,dbm,wsgiref,xmlrpc,__phello__} \
	"$lib"/turtle.py
for m in _tkinter _curses _curses_panel readline _sqlite3 _dbm _gdbm _ssl \
	_hashlib _lzma _bz2 _uuid xxlimited xxlimited_35 xxsubtype _xxtestfuzz; do
	rm -f "$lib"/lib-dynload/$m.cpython-*.so
done
# The regression tests: the harness and the suites of the threads' tests.
keep=(__init__.py __main__.py support libregrtest lock_tests.py
	mapping_tests.py signalinterproctester.py test_thread.py
	test_threading.py test_threadsignals.py test_threading_local.py
	test_queue.py test_sys.py test_signal.py test_os.py
	test_concurrent_futures test_capi)
for f in "$lib"/test/*; do
	[[ " ${keep[*]} " == *" $(basename "$f") "* ]] || rm -rf "$f"
done
find "$lib" -name '*.opt-[12].pyc' -delete
find "$lib/lib-dynload" -name '*.so' -exec strip --strip-debug {} +

# The shared libraries, and libgcc_s, which glibc loads inside
# pthread_exit() (a daemon thread's exit) and ldd never lists.
libs=$( { ldd "$root/bin/python$ver"; find "$lib/lib-dynload" -name '*.so' \
	-exec ldd {} \; ; } | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/lib/ { print $1 }' |
	sort -u)
gcc_s=$(gcc -print-file-name=libgcc_s.so.1)
for l in $libs $(readlink -f "$gcc_s"); do
	mkdir -p "$dest$(dirname "$l")"
	cp -L "$l" "$dest$l"
done
# libgcc_s under the name glibc dlopen()s.
mkdir -p "$dest/lib/x86_64-linux-gnu"
cp -L "$gcc_s" "$dest/lib/x86_64-linux-gnu/libgcc_s.so.1"
