#!/bin/bash
# Install what building and testing kgil needs, from Debian 12's archive,
# and unpack the 6.1 kernel source (checkpatch, kunit.py, the debug
# kernel) under build/src; add Debian trixie's source packages to apt, for
# CPython 3.13 (userspace/cpython/build.sh).  Idempotent: quick when
# everything is present.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(
	build-essential pkg-config bc bison flex cpio kmod rsync xz-utils python3 dkms
	bpftrace linux-perf
	libelf-dev libssl-dev dwarves sparse
	qemu-system-x86 busybox-static
	linux-image-amd64 linux-headers-amd64 linux-source-6.1
	linux-source-6.12
	dpkg-dev libffi-dev zlib1g-dev valgrind
	# -m32 -static: the 32-bit guest programs (the compat ioctl path)
	gcc-multilib
)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

updated=0
apt_update() {
	if [[ $updated == 0 ]]; then
		apt-get update -qq
		updated=1
	fi
}

# 6.12 comes from bookworm-security; its package names carry the version,
# and the archive keeps only the newest, so look the name up.  Without a
# security suite, fall back to bookworm-backports.
kernel_612_packages() {
	local v
	v=$(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
		grep -E '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | sort -V | tail -n 1)
	[[ -n $v ]] || return 1
	echo "$v" "${v/linux-image/linux-headers}"
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
if ! debian_kernel_release 6.12 >/dev/null; then
	apt_update
	if ! k612=$(kernel_612_packages); then
		echo "setup: no 6.12 kernel in the configured suites; adding bookworm-backports"
		echo "deb http://deb.debian.org/debian bookworm-backports main" \
			>/etc/apt/sources.list.d/kgil-backports.list
		updated=0
		apt_update
		k612=$(kernel_612_packages) || die "no linux-image-6.12 package found"
	fi
	read -ra k612_pkgs <<<"$k612"
	missing+=("${k612_pkgs[@]}")
fi

# Sources only: no binary package comes from trixie.
trixie_src=/etc/apt/sources.list.d/kgil-trixie-src.sources
if [[ ! -f $trixie_src ]]; then
	echo "setup: adding Debian trixie's source packages (deb-src) for python3.13"
	cat >"$trixie_src" <<'EOF'
# kgil: Debian trixie's source packages, for apt-get source python3.13
# (userspace/cpython/build.sh).  Sources only: no binary package.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	updated=0
	apt_update
fi

if ((${#missing[@]})); then
	echo "setup: installing ${missing[*]}"
	apt_update
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

src=$GIL_BUILD/src/linux-source-6.1
if [[ ! -f $src/Makefile ]]; then
	echo "setup: unpacking linux-source-6.1 into $src"
	mkdir -p "$GIL_BUILD/src"
	tar -xJf /usr/src/linux-source-6.1.tar.xz -C "$GIL_BUILD/src"
fi

for k in 6.1 6.12; do
	r=$(debian_kernel_release "$k") || die "the Debian $k kernel is not installed"
	echo "setup: Debian $k kernel $r"
done
