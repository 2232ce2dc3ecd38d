// SPDX-License-Identifier: GPL-2.0
/*
 * Many waiters on one GIL: 128 and 512 threads under every handoff policy,
 * with a 1 us switch interval, so that every release, handoff and drop
 * request happens with a long queue behind it.
 *
 * All but four threads are CPU-bound, as in an eval loop: they hold the GIL
 * until a drop request shows in the page and answer it with YIELD (so the
 * io policy classifies them CPU-bound).  Four threads are I/O-bound: they
 * take the GIL and release it at once, again and again.
 * Under io a release then hands the GIL to an I/O thread queued behind
 * dozens of CPU-bound waiters, which is what crashed 6.1 when the module
 * walked the wait queue's internals (issue 12).
 *
 * Checked: mutual exclusion throughout; the module counts exactly the
 * acquisitions the threads made; and once told to stop, every thread takes
 * the GIL once more and ends (a lost wake-up would strand one).  For the
 * stop the interval becomes an hour, so that the waiters' timeouts, a herd
 * with 512 threads at 1 us, no longer crowd out the handoffs: each ends by
 * a release waking it.
 */
#include "uapi.h"

#define IO_THREADS	4
#define RUN_MS		1500
#define IO_RUN_MS	6000	/* the crash's shape: long enough to hit it */
#define STOP_BOUND_MS	120000	/* 512 handoffs under TCG with KASAN */

struct crowd;

struct member {
	struct crowd *c;
	int id;
	int io;
	pthread_t th;
	long acquisitions;	/* its own count: ACQUIRE and YIELD that took */
	int err;		/* first unexpected errno */
	atomic_int got_it;
	atomic_int done;
};

struct crowd {
	int fd;
	const struct gil_page *pg;
	int n;
	atomic_int stop;
	atomic_int ready;	/* threads attached (or failed to) */
	pthread_mutex_t go_lock;
	pthread_cond_t go_cond;
	int go;			/* all started: run */
	atomic_int inside;	/* id of the holder in its critical section, or -1 */
	atomic_long violations;
	atomic_int have_had_it;	/* threads that got the GIL at least once */
	struct member *m;
};

static void enter(struct member *me)
{
	int expect = -1;

	if (!atomic_compare_exchange_strong(&me->c->inside, &expect, me->id))
		atomic_fetch_add(&me->c->violations, 1);
	if (!atomic_exchange(&me->got_it, 1))
		atomic_fetch_add(&me->c->have_had_it, 1);
}

static void leave(struct member *me)
{
	int expect = me->id;

	if (!atomic_compare_exchange_strong(&me->c->inside, &expect, -1))
		atomic_fetch_add(&me->c->violations, 1);
}

static int gil_call(struct member *me, unsigned long cmd)
{
	if (ioctl(me->c->fd, cmd) == 0)
		return 0;
	if (!me->err)
		me->err = errno;
	return -1;
}

/* Hold the GIL until asked to drop it, as an eval loop does; YIELD then. */
static void cpu_bound(struct member *me)
{
	struct crowd *c = me->c;

	if (gil_call(me, GIL_IOC_ACQUIRE))
		return;
	me->acquisitions++;
	for (;;) {
		enter(me);
		while (!t_drop_requested(c->pg) && !atomic_load(&c->stop))
			;
		leave(me);
		if (atomic_load(&c->stop))
			break;
		if (gil_call(me, GIL_IOC_YIELD))
			return;
		me->acquisitions++;
	}
	gil_call(me, GIL_IOC_RELEASE);
}

/* Take the GIL, let it go at once, and again. */
static void io_bound(struct member *me)
{
	struct crowd *c = me->c;

	while (!atomic_load(&c->stop)) {
		if (gil_call(me, GIL_IOC_ACQUIRE))
			return;
		me->acquisitions++;
		enter(me);
		leave(me);
		if (gil_call(me, GIL_IOC_RELEASE))
			return;
		sched_yield();
	}
}

/* Wait for the word to start: 512 threads polling would be a storm. */
static void wait_for_go(struct crowd *c)
{
	pthread_mutex_lock(&c->go_lock);
	while (!c->go)
		pthread_cond_wait(&c->go_cond, &c->go_lock);
	pthread_mutex_unlock(&c->go_lock);
}

static void *member_main(void *arg)
{
	struct member *me = arg;
	int attached = !gil_call(me, GIL_IOC_ATTACH);

	atomic_fetch_add(&me->c->ready, 1);
	wait_for_go(me->c);
	if (attached) {
		if (me->io)
			io_bound(me);
		else
			cpu_bound(me);
		gil_call(me, GIL_IOC_DETACH);
	}
	atomic_store(&me->done, 1);
	return NULL;
}

static void crowd_run(unsigned int policy, int n)
{
	struct crowd c = { .n = n };
	struct gil_stats st;
	long total = 0, errors = 0;
	int64_t begin = t_now_ns(), start, stop;
	pthread_attr_t attr;
	__u32 p = policy;
	int i, started = 0, had_it;

	t_open_mapped(&c.fd, &c.pg);
	CHECK(t_set_interval(c.fd, 1) == 0);
	CHECK(ioctl(c.fd, GIL_IOC_SET_POLICY, &p) == 0);
	atomic_init(&c.inside, -1);
	pthread_mutex_init(&c.go_lock, NULL);
	pthread_cond_init(&c.go_cond, NULL);
	c.m = calloc(n, sizeof(*c.m));
	CHECK(c.m);
	/* Small stacks: 512 threads in a small guest. */
	CHECK(pthread_attr_init(&attr) == 0);
	CHECK(pthread_attr_setstacksize(&attr, 64 * 1024) == 0);
	for (i = 0; i < n; i++) {
		c.m[i].c = &c;
		c.m[i].id = i;
		c.m[i].io = i < IO_THREADS;
		if (pthread_create(&c.m[i].th, &attr, member_main, &c.m[i]))
			break;
		started++;
	}
	pthread_attr_destroy(&attr);
	if (started < n)	/* let those started finish at once */
		atomic_store(&c.stop, 1);
	while (atomic_load(&c.ready) < started)
		t_sleep_ms(1);
	pthread_mutex_lock(&c.go_lock);
	c.go = 1;
	pthread_cond_broadcast(&c.go_cond);
	pthread_mutex_unlock(&c.go_lock);
	start = t_now_ns();
	if (started == n)
		t_sleep_ms(policy == GIL_POLICY_IO ? IO_RUN_MS : RUN_MS);
	had_it = atomic_load(&c.have_had_it);
	CHECK(t_set_interval(c.fd, 3600000000ll) == 0);
	atomic_store(&c.stop, 1);
	stop = t_now_ns();
	for (i = 0; i < started; i++) {
		CHECK(t_join_within(c.m[i].th, STOP_BOUND_MS -
				    T_MS(t_now_ns() - stop)) == 0);
		total += c.m[i].acquisitions;
		if (c.m[i].err) {
			if (!errors)
				printf("    thread %d: %s\n", i,
				       strerror(c.m[i].err));
			errors++;
		}
	}
	CHECK(t_gil_stats(c.fd, &st) == 0);
	printf("    %d threads attached in %lld ms; %d had the GIL in %lld ms; "
	       "%ld acquisitions, %llu forced switches, %llu direct handoffs; "
	       "all ended %lld ms after the stop\n", n,
	       (long long)T_MS(start - begin), had_it,
	       (long long)T_MS(stop - start), total,
	       (unsigned long long)st.forced_switches,
	       (unsigned long long)st.direct_handoffs,
	       (long long)T_MS(t_now_ns() - stop));
	CHECK_CMP(started, ==, n);
	CHECK_CMP(errors, ==, 0);
	CHECK_CMP(atomic_load(&c.violations), ==, 0);
	CHECK_CMP(atomic_load(&c.have_had_it), ==, n);
	CHECK_CMP(st.forced_switches, >, 0);
	CHECK_CMP(st.acquisitions, ==, total);
	CHECK_CMP(st.owner_deaths, ==, 0);
	free(c.m);
	pthread_cond_destroy(&c.go_cond);
	pthread_mutex_destroy(&c.go_lock);
	t_close_gil(c.fd, c.pg);
}

#define CROWD(pol, n)							\
	static void pol##_##n##_waiters(void)				\
	{								\
		crowd_run(GIL_POLICY_##pol, n);				\
	}

CROWD(CPYTHON, 128)
CROWD(FIFO, 128)
CROWD(IO, 128)
CROWD(CPYTHON, 512)
CROWD(FIFO, 512)
CROWD(IO, 512)

int main(void)
{
	t_timeout_s = 240;
	T_RUN(CPYTHON_128_waiters);
	T_RUN(FIFO_128_waiters);
	T_RUN(IO_128_waiters);
	T_RUN(CPYTHON_512_waiters);
	T_RUN(FIFO_512_waiters);
	T_RUN(IO_512_waiters);
	return t_exit_status();
}
