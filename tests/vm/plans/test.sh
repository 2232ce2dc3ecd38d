# Plan: load the module, run the userspace tests against it, unload it.
kmemleak_reset
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko
guest_test "/dev/gil is a character device" test -c /dev/gil
for t in /bin/test-*; do
	guest_tap "$t"
done
guest_test "rmmod gil" rmmod gil
guest_test "no leaks after rmmod (kmemleak)" kmemleak_clean
guest_test "kernel log clean" kernel_log_clean
return $gil_failed
