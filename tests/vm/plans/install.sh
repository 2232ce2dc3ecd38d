# Plan: gil.ko as a user installs it.  tests/modprobe-check.sh packs the
# tree make modules_install wrote (lib/modules/RELEASE/extra/gil.ko and
# depmod's modules.dep) into the guest's root; modprobe finds the module
# there by name, as after `make modules_install` or dkms on a real machine.
# GIL_VERSION (from GIL_VM_ENV): dkms.conf's PACKAGE_VERSION.
mods=/lib/modules/$(uname -r)

guest_test "$mods/modules.dep lists extra/gil.ko" grep -qx 'extra/gil.ko:' "$mods/modules.dep"
guest_test "modprobe gil" modprobe gil
guest_test "/dev/gil is a character device" test -c /dev/gil
# No udev in the guest: the mode is the module's own, dev_mode's default.
guest_test "/dev/gil is 0666 (dev_mode's default)" \
	sh -c "[ \$(stat -c %a /dev/gil) = 666 ]"
guest_test "/dev/gil opens" sh -c ': </dev/gil'
guest_test "the loaded module's version is ${GIL_VERSION:-unset}" \
	grep -qx "${GIL_VERSION:-unset}" /sys/module/gil/version
guest_test "modprobe gil again: already loaded, no error" modprobe gil
guest_test "modprobe -r gil" modprobe -r gil
guest_test "gil is unloaded, /dev/gil gone" \
	sh -c '[ ! -e /sys/module/gil ] && [ ! -e /dev/gil ]'
guest_test "modprobe gil dev_mode=0600: options reach the module" \
	sh -c "modprobe gil dev_mode=0600 && [ \$(stat -c %a /dev/gil) = 600 ]"
guest_test "modprobe -r gil, again" modprobe -r gil
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
