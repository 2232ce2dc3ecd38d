// SPDX-License-Identifier: MIT
/*
 * fork() while we hold the GIL and another thread waits (what os.fork()
 * does): the child's GIL is a new one, held by the forking thread, with the
 * interval, policy and options it had; a thread of the child takes part in
 * it; the parent's GIL is as it was, and its waiter gets it when we
 * release.
 */
#include <sys/wait.h>
#include <unistd.h>

#include "conformance.h"

static int fork_child(struct gil *gil, struct gil_tstate *ts, int policy,
		      unsigned int options)
{
	struct worker w = { .gil = gil };
	struct gil_stats st;
	unsigned int o;
	double interval;

	if (gil_after_fork_child(ts))
		return 2;
	if (gil_get_switch_interval(gil, &interval) || interval != 0.25)
		return 3;
	if (gil_get_policy(gil) != policy)
		return 4;
	if (gil_get_stats(gil, &st) || st.acquisitions > 1 || st.contended)
		return 5;
	if (gil_get_options(gil, &o) || o != options)
		return 10;
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer cannot start threads after a multi-threaded fork. */
	return gil_release(ts) || gil_acquire(ts) || gil_release(ts) ? 9 : 0;
#endif
	/* It holds the new GIL: a thread of the child waits for it. */
	worker_start(&w, acquire_once_thread);
	SPIN_UNTIL(atomic_load(&w.started), 5000);
	t_sleep_ms(20);
	if (atomic_load(&w.done))
		return 6;
	if (gil_release(ts))
		return 7;
	t_join_thread(w.thread);
	if (w.count != 1 || gil_acquire(ts) || gil_release(ts))
		return 8;
	return 0;
}

void test_fork(void)
{
	struct fixture fx;
	struct worker *w;
	unsigned int options;
	int policy, status;
	pid_t pid;

	fx_setup(&fx, 0.25, FX_HOLD);
	policy = gil_get_policy(fx.gil);
	if (gil_backend(fx.gil) == GIL_BACKEND_KERNEL)
		CHECK_OK(gil_set_options(fx.gil, GIL_OPT_PREEMPT_AWARE));
	CHECK_OK(gil_get_options(fx.gil, &options));
	w = fx_start(&fx, 1, acquire_once_thread);
	fx_wait_started(&fx);
	t_sleep_ms(10);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(fork_child(fx.gil, fx.ts, policy, options));
	CHECK_CMP(waitpid(pid, &status, 0), ==, pid);
	CHECK(WIFEXITED(status));
	CHECK_CMP(WEXITSTATUS(status), ==, 0);
	/* Ours held on all along, with the waiter waiting. */
	CHECK(!atomic_load(&w->done));
	CHECK_OK(gil_release(fx.ts));
	fx_join(&fx);
	CHECK_CMP(w->count, ==, 1);
	fx_teardown(&fx);
}
