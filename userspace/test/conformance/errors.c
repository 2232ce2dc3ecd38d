// SPDX-License-Identifier: MIT
/* Error codes. */
#include "conformance.h"

/* What another thread gets from calls on our thread state. */
struct foreign {
	struct gil_tstate *ts;
	int acquire, release, yield, detach, free;
};

static void *foreign_thread(void *arg)
{
	struct foreign *f = arg;

	f->acquire = gil_acquire(f->ts);
	f->release = gil_release(f->ts);
	f->yield = gil_yield(f->ts);
	f->detach = gil_tstate_detach(f->ts);
	f->free = gil_tstate_free(f->ts);
	return NULL;
}

/* From another thread, held or not, our thread state is not theirs. */
static void check_foreign(struct gil_tstate *ts)
{
	struct foreign f = { .ts = ts };

	t_join_thread(t_start_thread(foreign_thread, &f));
	CHECK_RET(f.acquire, -EPERM);
	CHECK_RET(f.release, -EPERM);
	CHECK_RET(f.yield, -EPERM);
	CHECK_RET(f.detach, -EPERM);
	CHECK_RET(f.free, -EBUSY);
}

void test_errors(void)
{
	struct fixture fx;
	struct gil_tstate *ts, *ts2;

	fx_setup(&fx, 0, FX_TSTATE);
	ts = fx.ts;
	/* Not holding. */
	CHECK_RET(gil_release(ts), -EPERM);
	CHECK_RET(gil_yield(ts), -EPERM);
	/* Holding. */
	CHECK_OK(gil_acquire(ts));
	CHECK_RET(gil_acquire(ts), -EDEADLK);
	CHECK_RET(gil_tstate_detach(ts), -EBUSY);
	CHECK_RET(gil_tstate_free(ts), -EBUSY);
	CHECK_OK(gil_release(ts));
	CHECK_RET(gil_release(ts), -EPERM);

	/* One thread state per thread and GIL; one thread per tstate. */
	CHECK_OK(gil_tstate_new(fx.gil, &ts2));
	CHECK_RET(gil_tstate_attach(ts2), -EEXIST);
	CHECK_RET(gil_tstate_attach(ts), -EBUSY);
	/* Not attached. */
	CHECK_RET(gil_acquire(ts2), -EUNATCH);
	CHECK_RET(gil_release(ts2), -EUNATCH);
	CHECK_RET(gil_yield(ts2), -EUNATCH);
	CHECK_RET(gil_tstate_detach(ts2), -EUNATCH);
	CHECK_OK(gil_tstate_free(ts2));

	/* Another thread's thread state, held or not. */
	check_foreign(ts);
	CHECK_OK(gil_acquire(ts));
	check_foreign(ts);
	CHECK_RET(gil_acquire(ts), -EDEADLK);	/* still ours, still held */
	CHECK_OK(gil_release(ts));

	/* Detached, it can be attached again, here or elsewhere. */
	CHECK_OK(gil_tstate_detach(ts));
	CHECK_RET(gil_tstate_detach(ts), -EUNATCH);
	CHECK_RET(gil_acquire(ts), -EUNATCH);
	CHECK_OK(gil_tstate_attach(ts));
	CHECK_OK(gil_acquire(ts));
	CHECK_OK(gil_release(ts));
	CHECK_RET(gil_backend_from_name("no such backend"), -EINVAL);
	CHECK_RET(gil_backend_from_name(t_backend), gil_backend(fx.gil));
	fx_teardown(&fx);
}
