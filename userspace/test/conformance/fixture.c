// SPDX-License-Identifier: MIT
/* What the cases share: the fixture, common workers, owner logs. */
#include "conformance.h"

void fx_setup(struct fixture *fx, double interval, enum fx_setup what)
{
	*fx = (struct fixture){ .gil = t_gil_open() };
	if (interval)
		t_gil_set_switch_interval(fx->gil, interval);
	if (what >= FX_TSTATE)
		fx->ts = t_gil_tstate_new(fx->gil);
	if (what == FX_HOLD)
		CHECK_OK(gil_acquire(fx->ts));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	if (!w->bare)
		w->ts = t_gil_tstate_new(w->gil);
	w->fn(w);
	if (!w->bare)
		t_gil_tstate_free(w->ts);
	return NULL;
}

void worker_start(struct worker *w, worker_fn *fn)
{
	w->fn = fn;
	w->thread = t_start_thread(worker_main, w);
}

static struct worker *start(struct fixture *fx, int n, worker_fn *fn,
			    bool bare)
{
	struct worker *first = &fx->w[fx->nr_started];

	CHECK_CMP(fx->nr_started + n, <=, FX_WORKERS);
	for (int i = 0; i < n; i++) {
		struct worker *w = &fx->w[fx->nr_started];

		*w = (struct worker){
			.gil = fx->gil, .bare = bare, .id = ++fx->nr_started,
		};
		worker_start(w, fn);
	}
	return first;
}

struct worker *fx_start(struct fixture *fx, int n, worker_fn *fn)
{
	return start(fx, n, fn, false);
}

struct worker *fx_start_bare(struct fixture *fx, int n, worker_fn *fn)
{
	return start(fx, n, fn, true);
}

void fx_wait_started(struct fixture *fx)
{
	for (int i = fx->nr_joined; i < fx->nr_started; i++)
		SPIN_UNTIL(atomic_load(&fx->w[i].started), 5000);
}

long fx_join(struct fixture *fx)
{
	long total = 0;

	for (; fx->nr_joined < fx->nr_started; fx->nr_joined++) {
		t_join_thread(fx->w[fx->nr_joined].thread);
		total += fx->w[fx->nr_joined].count;
	}
	return total;
}

long fx_run(struct fixture *fx, int n, worker_fn *fn)
{
	fx_start(fx, n, fn);
	return fx_join(fx);
}

void fx_close_gil(struct fixture *fx)
{
	CHECK_OK(gil_close(fx->gil));
	fx->closed = true;
}

void fx_teardown(struct fixture *fx)
{
	fx_join(fx);
	if (fx->ts)
		t_gil_tstate_free(fx->ts);
	if (!fx->closed)
		CHECK_OK(gil_close(fx->gil));
}

/* Take the GIL once; keep it until w->go is set if @hold. */
static void acquire_once(struct worker *w, bool hold)
{
	w->t = t_now_ns();		/* before gil_acquire */
	atomic_store(&w->started, 1);
	w->ret = gil_acquire(w->ts);	/* read after join */
	CHECK_OK(w->ret);
	w->count++;			/* under the GIL */
	atomic_store(&w->done, 1);
	if (hold)
		WAIT_UNTIL(atomic_load(&w->go), 5000);
	CHECK_OK(gil_release(w->ts));
}

void acquire_once_thread(struct worker *w)
{
	acquire_once(w, false);
}

void acquire_hold_thread(struct worker *w)
{
	acquire_once(w, true);
}

void log_owner(struct owner_log *log, int id)
{
	CHECK_CMP(log->len, <, LOG_MAX);
	log->id[log->len++] = id;
}

long owner_changes(const struct owner_log *log)
{
	long changes = 0;

	for (long i = 1; i < log->len; i++)
		changes += log->id[i] != log->id[i - 1];
	return changes;
}
