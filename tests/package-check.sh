#!/bin/bash
# gil.ko packaged as an out-of-tree module is meant to be: make
# modules_install, DKMS, the version, the udev rule and modules-load.d
# file, the license texts.  Everything goes to temporary directories; the
# host's /lib/modules, /usr/src and /var/lib/dkms are left as they were.
#
# usage: package-check.sh [install | dkms | files | licenses]...  (default: all)
#   install   make modules_install for Debian's 6.1 into a temporary
#             INSTALL_MOD_PATH: the path, modules.dep, modprobe's view,
#             INSTALL_MOD_DIR, vermagic, the version against dkms.conf
#   dkms      dkms add, build, install for 6.1, remove, in private trees
#             (skipped, and says so, without dkms or root)
#   files     dkms.conf's fields, the version against the ABI, the udev
#             rule (udevadm verify, or a parse of its keys), modules-load.d
#   licenses  every SPDX tag's licenses and exceptions have their text in
#             LICENSES/, and COPYING names every tag
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$GIL_ROOT"

release=$(debian_kernel_release 6.1) || die "Debian's 6.1 kernel is not installed (make setup)"
kdir=$(kernel_kdir 6.1)
tmp=$(mktemp -d)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT

# dkms.conf sourced as dkms sources it, with the variables its MAKE line uses.
dkms_conf() {
	(
		set +u
		kernel_source_dir=$kdir dkms_tree=/var/lib/dkms
		. ./dkms.conf
		eval "echo \"\${$1}\""
	)
}
version=$(dkms_conf PACKAGE_VERSION)
[[ -n $version ]] || die "dkms.conf sets no PACKAGE_VERSION"
package=$(dkms_conf PACKAGE_NAME)

# check_module KO: gil.ko built for $release, carrying dkms.conf's version.
check_module() {
	local ko=$1 v
	v=$(modinfo -F vermagic "$ko")
	[[ $v == "$release "* ]] || die "$ko: vermagic '$v', not for $release"
	v=$(modinfo -F version "$ko")
	[[ $v == "$version" ]] ||
		die "$ko: MODULE_VERSION '$v', dkms.conf's PACKAGE_VERSION '$version'"
	echo "$ko: for $release, version $v"
}

# check_installed ROOT DIR: ROOT/lib/modules/$release/DIR/gil.ko, in
# modules.dep, where modprobe looks for gil.
check_installed() {
	local root=$1 dir=$2 mods=$1/lib/modules/$release out
	[[ -f $mods/$dir/gil.ko ]] ||
		die "no $mods/$dir/gil.ko; installed: $(cd "$root" && find . -name 'gil.ko*')"
	grep -qx "$dir/gil.ko:" "$mods/modules.dep" ||
		die "modules.dep does not list $dir/gil.ko: $(cat "$mods/modules.dep")"
	out=$(modprobe -d "$root" -S "$release" --show-depends gil)
	[[ $out == "insmod $mods/$dir/gil.ko"* ]] ||
		die "modprobe --show-depends gil: '$out'"
	check_module "$mods/$dir/gil.ko"
}

check_install() {
	echo "== make modules_install, KDIR=$kdir"
	make -s BUILD="$tmp/build" KDIR="$kdir" INSTALL_MOD_PATH="$tmp/root" modules_install
	check_installed "$tmp/root" extra
	echo "== make modules_install INSTALL_MOD_DIR=updates/kgil"
	make -s BUILD="$tmp/build" KDIR="$kdir" INSTALL_MOD_PATH="$tmp/root2" \
		INSTALL_MOD_DIR=updates/kgil modules_install
	check_installed "$tmp/root2" updates/kgil
}

check_dkms() {
	if ! command -v dkms >/dev/null; then
		echo "skipped: dkms is not installed (make setup installs it)"
		return 0
	fi
	if [[ $(id -u) != 0 ]]; then
		echo "skipped: dkms needs root"
		return 0
	fi
	# Private source, dkms and install trees: a kgil already in the host's
	# dkms stays untouched.  --no-depmod: dkms's depmod would run on the
	# host's /lib/modules; depmod -b runs on the private tree instead.
	local src=$tmp/dkms-dest/usr/src mods=$tmp/dkms-root/lib/modules
	local dkms=(dkms --sourcetree "$src" --dkmstree "$tmp/dkms-tree" --installtree "$mods")
	local mv=$package/$version dir
	mkdir -p "$mods/$release" "$tmp/dkms-tree"
	# Debian's dkms signs what it builds and makes its MOK key pair the
	# first time; a pair made here is removed afterwards.
	local made_keys=()
	for f in /var/lib/dkms/mok.key /var/lib/dkms/mok.pub; do
		[[ -e $f ]] || made_keys+=("$f")
	done
	# shellcheck disable=SC2064
	trap "rm -f ${made_keys[*]}; cleanup" EXIT

	echo "== make dkms-source; dkms add, build, install $mv for $release"
	make -s dkms-source DESTDIR="$tmp/dkms-dest"
	[[ -f $src/$package-$version/dkms.conf ]] || die "make dkms-source made no $src/$package-$version"
	"${dkms[@]}" add "$mv"
	"${dkms[@]}" build "$mv" -k "$release"
	"${dkms[@]}" install "$mv" -k "$release" --no-depmod
	"${dkms[@]}" status "$mv"
	"${dkms[@]}" status "$mv" -k "$release" | grep -q ': installed' ||
		die "dkms status does not say installed"
	dir=$(dkms_conf 'DEST_MODULE_LOCATION[0]')
	# Debian's and Ubuntu's dkms put it in /updates/dkms whatever dkms.conf says.
	[[ -f $mods/$release/$dir/gil.ko ]] || dir=/updates/dkms
	dir=${dir#/}
	depmod -a -b "$tmp/dkms-root" "$release" 2>/dev/null
	check_installed "$tmp/dkms-root" "$dir"

	echo "== dkms remove $mv --all"
	"${dkms[@]}" remove "$mv" --all --no-depmod
	[[ ! -e $mods/$release/$dir/gil.ko ]] || die "dkms remove left $dir/gil.ko"
	[[ -z $("${dkms[@]}" status "$mv") ]] || die "dkms still knows $mv: $("${dkms[@]}" status "$mv")"
}

check_files() {
	echo "== dkms.conf"
	local v
	[[ $package == kgil ]] || die "dkms.conf: PACKAGE_NAME '$package'"
	[[ $(dkms_conf 'BUILT_MODULE_NAME[0]') == gil ]] || die "dkms.conf: BUILT_MODULE_NAME[0] is not gil"
	[[ $(dkms_conf AUTOINSTALL) == yes ]] || die "dkms.conf: AUTOINSTALL is not yes"
	v=$(dkms_conf 'MAKE[0]')
	[[ $v == *"-C $kdir "* ]] || die "dkms.conf: MAKE[0] does not build against \$kernel_source_dir: $v"
	# The Makefile reads the version out of dkms.conf with sed.
	v=$(make -s -f Makefile -f - <<<'print-version: ; @echo $(KGIL_VERSION)' print-version)
	[[ $v == "$version" ]] || die "the Makefile's KGIL_VERSION '$v', dkms.conf's '$version'"
	# major.minor is the ABI the module implements (uapi/linux/gil.h).
	v=$(sed -nE 's/^#define GIL_ABI_(MAJOR|MINOR) ([0-9]+)$/\2/p' uapi/linux/gil.h | paste -sd.)
	[[ $version == "$v".* ]] ||
		die "version $version does not start with the ABI's major.minor $v (uapi/linux/gil.h)"
	grep -q "^MODULE_VERSION(\"$version\");" module/main.c ||
		die "module/main.c: no MODULE_VERSION(\"$version\")"
	echo "kgil $version, ABI $v"

	echo "== packaging/udev/60-gil.rules"
	local rules=packaging/udev/60-gil.rules
	if udevadm verify --help >/dev/null 2>&1; then
		udevadm verify --no-summary "$rules"
	else
		echo "(udevadm $(udevadm --version 2>/dev/null || echo absent) has no verify: parsing the keys here)"
		udev_parse "$rules"
	fi
	grep -Eq '^KERNEL=="gil",' "$rules" || die "$rules: no rule for KERNEL==\"gil\""

	echo "== packaging/modules-load.d/gil.conf"
	v=$(grep -Ev '^[[:space:]]*([#;]|$)' packaging/modules-load.d/gil.conf)
	[[ $v == gil ]] || die "packaging/modules-load.d/gil.conf loads '$v', not gil"
}

# udev_parse FILE: each rule a comma-separated list of KEY op "value", with
# keys and operators udev knows, match keys matched and assignments
# assigned; MODE an octal mode, GROUP and OWNER a name.
udev_parse() {
	local file=$1 n=0 line key op val rest
	local re='^[[:space:]]*([A-Z_]+)(==|!=|\+=|-=|:=|=)"([^"]*)"[[:space:]]*(,(.*))?$'
	while IFS= read -r line; do
		n=$((n + 1))
		[[ $line =~ ^[[:space:]]*(#|$) ]] && continue
		rest=$line
		while [[ -n $rest ]]; do
			[[ $rest =~ $re ]] || die "$file:$n: cannot parse '$rest'"
			key=${BASH_REMATCH[1]} op=${BASH_REMATCH[2]} val=${BASH_REMATCH[3]}
			rest=${BASH_REMATCH[5]}
			case $key in
			ACTION | KERNEL | SUBSYSTEM | DRIVER | DEVPATH)
				[[ $op == == || $op == != ]] || die "$file:$n: $key$op: a match key needs == or !=" ;;
			GROUP | OWNER)
				[[ $op == = || $op == := ]] || die "$file:$n: $key$op: an assignment needs = or :="
				[[ $val =~ ^[a-z_][a-z0-9_-]*$ ]] || die "$file:$n: $key=\"$val\" is no user or group name" ;;
			MODE)
				[[ $op == = || $op == := ]] || die "$file:$n: $key$op: an assignment needs = or :="
				[[ $val =~ ^0?[0-7]{3}$ ]] || die "$file:$n: MODE=\"$val\" is no octal mode" ;;
			TAG)
				[[ $op == += || $op == -= || $op == = ]] || die "$file:$n: TAG$op" ;;
			*)
				die "$file:$n: unknown key $key" ;;
			esac
		done
	done <"$file"
}

# The tree's files: git's view (tracked and new, not ignored), else all
# but build/.
source_files() {
	git ls-files --cached --others --exclude-standard 2>/dev/null ||
		find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's@^\./@@'
}

check_licenses() {
	echo "== SPDX tags and LICENSES/"
	local f d expr tok prev ids=() exprs=() seen
	# The tag in a file's first lines, after a comment leader, as the kernel
	# puts it; LICENSES/ quotes tags in its usage guides.
	while IFS= read -r f; do
		[[ -f $f && $f != LICENSES/* ]] || continue
		expr=$(head -n 3 "$f" | sed -nE 's@^(//|/\*|#|--|\.\\")[[:space:]]*SPDX-License-Identifier:[[:space:]]*(.*)$@\2@p' |
			sed -E 's@[[:space:]]*\*/[[:space:]]*$@@' | head -n 1)
		[[ -n $expr ]] || continue
		exprs+=("$expr")
	done < <(source_files)
	((${#exprs[@]})) || die "no SPDX tag found"
	seen=$(printf '%s\n' "${exprs[@]}" | sort -u)
	echo "tags:"
	echo "$seen" | sed 's/^/    /'
	while IFS= read -r expr; do
		grep -qF "SPDX-License-Identifier: $expr" COPYING ||
			die "COPYING does not say where '$expr' applies"
		prev=
		for tok in ${expr//[()]/ }; do
			case $tok in
			AND | OR | WITH) ;;
			*)
				if [[ $prev == WITH ]]; then
					[[ -f LICENSES/exceptions/$tok ]] || die "no LICENSES/exceptions/$tok (tag '$expr')"
					grep -qx "SPDX-Exception-Identifier: $tok" "LICENSES/exceptions/$tok" ||
						die "LICENSES/exceptions/$tok is not that exception's text"
				else
					f=
					for d in preferred dual deprecated; do
						[[ -f LICENSES/$d/$tok ]] && f=LICENSES/$d/$tok
					done
					[[ -n $f ]] || die "no LICENSES/{preferred,dual,deprecated}/$tok (tag '$expr')"
					grep -qx "Valid-License-Identifier: $tok" "$f" ||
						die "$f is not the text of $tok"
				fi
				ids+=("$tok")
				;;
			esac
			prev=$tok
		done
	done <<<"$seen"
	echo "texts: $(printf '%s\n' "${ids[@]}" | sort -u | tr '\n' ' ')"
	[[ -f COPYING ]] || die "no COPYING"
}

parts=("$@")
((${#parts[@]})) || parts=(files licenses install dkms)
for p in "${parts[@]}"; do
	case $p in
	install | dkms | files | licenses) "check_$p" ;;
	*) die "usage: $0 [install | dkms | files | licenses]..." ;;
	esac
done
echo "package-check: ${parts[*]}: ok"
