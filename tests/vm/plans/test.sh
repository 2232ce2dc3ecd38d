# Plan: load the module, run the userspace tests against it, unload it.
load_module
module_parameter_tests
run_userspace_tests
run_tests_under_policies
unload_and_check
return $gil_failed
