#!/bin/bash
# Build a test kernel (the debug/KUnit one, or the KCSAN one) from Debian's
# linux-source package, once.
#
# usage: build-kernel.sh SRCDIR OUTDIR FRAGMENT...
#
# The tree in OUTDIR is reused while the fragments and the source are
# unchanged (a stamp records their hash), so a warm run costs nothing.
set -euo pipefail

src=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")
shift 2
fragments=("$@")

stamp_of() {
	{ cat "${fragments[@]}"; cat "$src/Makefile"; } | sha256sum | cut -d' ' -f1
}

want=$(stamp_of)
if [[ -f $out/.gil-stamp && $(cat "$out/.gil-stamp") == "$want" &&
      -f $out/arch/x86/boot/bzImage && -f $out/Module.symvers ]]; then
	echo "kernel: up to date in $out"
	exit 0
fi

rm -f "$out/.gil-stamp"
cat "${fragments[@]}" > "$out/.config"
make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig

# olddefconfig silently drops options whose dependencies are unmet; a debug
# option that vanished would make every later "no report" meaningless.  A
# later fragment overrides an earlier one ("# CONFIG_X is not set" too), as
# with scripts/kconfig/merge_config.sh, so only the last word counts.
missing=0
while read -r line; do
	if ! grep -qxF "$line" "$out/.config"; then
		echo "kernel config: $line did not survive olddefconfig" >&2
		missing=1
	fi
done < <(sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2 &/p' "${fragments[@]}" |
	 awk '{ sym = $1; sub(/^[^ ]+ /, ""); last[sym] = $0 }
	      END { for (s in last) if (last[s] ~ /^CONFIG_/) print last[s] }')
[[ $missing == 0 ]] || exit 1

echo "kernel: building in $out (takes several minutes the first time)"
make -s -C "$src" O="$out" ARCH=x86_64 -j"$(nproc)" bzImage modules
echo "$want" > "$out/.gil-stamp"
echo "kernel: done in $out"
