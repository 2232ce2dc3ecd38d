# Plan: load the module, run the userspace tests against it, unload it.
load_module
module_parameter_tests
run_userspace_tests
unload_and_check
return $gil_failed
