# Plan: load the module and run the demo.
guest_test "insmod gil.ko" insmod /lib/gil/gil.ko
echo
echo "\$ gil-info"
gil-info || gil_failed=1
echo
return $gil_failed
