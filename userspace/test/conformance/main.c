// SPDX-License-Identifier: MIT
/* The conformance suite's cases, in the order they run (see conformance.h). */
#include "conformance.h"

static const struct t_gil_case cases[] = {
	{ "mutual exclusion under contention", test_mutual_exclusion },
	{ "drop request only after the interval", test_drop_request_timing },
	{ "a new holder gets a whole interval", test_new_holder_interval },
	{ "signals neither fail nor delay a waiter", test_signals },
	{ "forced switch handshake", test_forced_switch },
	{ "forced release returns after another thread took the GIL",
	  test_forced_release },
	{ "forced switch handshake, three threads", test_forced_switch_three },
	{ "switch_number counts changes of owner", test_switch_number },
	{ "switch_number under contention matches the log",
	  test_switch_number_contended },
	{ "1 us interval storm", test_storm },
	{ "voluntary release never blocks", test_voluntary_release },
	{ "yield with no request pending", test_yield_unrequested },
	{ "acquirer clears the drop request", test_acquirer_clears },
	{ "gil_check", test_gil_check },
	{ "the pending bit: set, seen by every holder, kept by drop requests",
	  test_pending },
	{ "allow threads around a blocking read", test_allow_threads },
	{ "GIL_END_ALLOW_THREADS_RET reports the acquire's result",
	  test_allow_threads_ret },
	{ "gil_ensure and gil_ensure_release", test_ensure },
	{ "gil_tstate_current and gil_held reach gil_ensure's thread state",
	  test_tstate_current },
	{ "library and module versions", test_versions },
	{ "switch interval validation", test_interval },
	{ "handoff policies", test_policy },
	{ "options: the backend's set and read back, unknown bits refused",
	  test_options },
	{ "error codes", test_errors },
	{ "every call fails with EBADF after close", test_closed },
	{ "close wakes blocked acquirers with EBADF",
	  test_close_wakes_waiters },
	{ "close racing with busy threads", test_close_race },
	{ "statistics", test_stats },
	{ "fork: the child gets a new GIL, the forking thread holding it",
	  test_fork },
};

int main(int argc, char **argv)
{
	return t_gil_main(argc, argv, cases, T_ARRAY_SIZE(cases));
}
