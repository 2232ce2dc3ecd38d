// SPDX-License-Identifier: MIT
/* GIL_BEGIN/END_ALLOW_THREADS around a blocking read; errno survives. */
#include <unistd.h>

#include "conformance.h"

static int at_pipe[2];
static int at_written;		/* under the GIL */

static void at_writer(struct worker *w)
{
	char c = 'x';

	atomic_store(&w->started, 1);
	CHECK_OK(gil_acquire(w->ts));	/* only while the reader blocks */
	CHECK_CMP(write(at_pipe[1], &c, 1), ==, 1);
	at_written = 1;
	t_sleep_ms(20);			/* keep it: the reader must wait */
	CHECK_OK(gil_release(w->ts));
}

void test_allow_threads(void)
{
	struct fixture fx;
	ssize_t n;
	char c;

	CHECK_CMP(pipe(at_pipe), ==, 0);
	fx_setup(&fx, 1e-3, FX_HOLD);
	fx_start(&fx, 1, at_writer);
	fx_wait_started(&fx);

	errno = EXDEV;
	GIL_BEGIN_ALLOW_THREADS(fx.ts)
	CHECK_CMP(errno, ==, EXDEV);
	n = read(at_pipe[0], &c, 1);
	errno = EXDEV;
	GIL_END_ALLOW_THREADS(fx.ts)
	CHECK_CMP(errno, ==, EXDEV);	/* libgil never sets errno */
	CHECK_CMP(n, ==, 1);
	CHECK_CMP(at_written, ==, 1);
	CHECK_RET(gil_acquire(fx.ts), -EDEADLK);	/* END took it again */
	CHECK_OK(gil_release(fx.ts));
	fx_join(&fx);
	close(at_pipe[0]);
	close(at_pipe[1]);
	fx_teardown(&fx);
}

/* A GIL closed between the macros: the _RET form reports it. */
void test_allow_threads_ret(void)
{
	struct fixture fx;
	int ret = 1;

	fx_setup(&fx, 0, FX_HOLD);
	GIL_BEGIN_ALLOW_THREADS(fx.ts)
	GIL_END_ALLOW_THREADS_RET(fx.ts, ret)
	CHECK_RET(ret, 0);
	CHECK(gil_held(fx.gil));
	GIL_BEGIN_ALLOW_THREADS(fx.ts)
	CHECK(!gil_held(fx.gil));
	fx_close_gil(&fx);
	GIL_END_ALLOW_THREADS_RET(fx.ts, ret)
	CHECK_RET(ret, -EBADF);
	fx_teardown(&fx);
}
