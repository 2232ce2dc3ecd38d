// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the GIL algorithm (lock.c), driven through the module's internal
 * interface by agents, kernel threads standing in for Python threads
 * (agent.h): mutual exclusion, drop requests against the switch interval,
 * the forced-switch handshake, voluntary releases, owner death, thread
 * records and the statistics.
 */
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/sched.h>

#include "agent.h"

/* Shared state of the mutual-exclusion case. */
struct gil_lt_contention {
	unsigned int iterations;
	s64 hold_us;
	struct gil_lt_agent *inside;	/* plain accesses: the GIL guards it */
	unsigned long entries;		/* non-atomic on purpose */
	atomic_t violations;
	atomic_t yields;
};

/* A holder watching for the drop request. */
struct gil_lt_request_poll {
	s64 timeout_us;
	ktime_t seen_page;	/* the eval breaker in the page showed it */
	ktime_t seen_flag;	/* gil->drop_request showed it */
};

/* What a detaching agent saw. */
struct gil_lt_detach {
	int busy;		/* detach while holding */
	int first;		/* detach */
	bool gone;		/* gil_thread_get() then found nothing */
	int second;		/* detach again */
};

/* Functions the agents run. */

static int gil_lt_fn_attach(struct gil_lt_agent *a, void *arg)
{
	return gil_attach(a->ctx->gil);
}

static int gil_lt_fn_detach_holding(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_detach *d = arg;

	d->busy = gil_detach(a->ctx->gil);
	return 0;
}

static int gil_lt_fn_detach(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_detach *d = arg;
	struct gil_thread *t;

	d->first = gil_detach(a->ctx->gil);
	t = gil_thread_get(a->ctx->gil);
	d->gone = !t;
	if (t)
		gil_thread_put(t);
	d->second = gil_detach(a->ctx->gil);
	return 0;
}

static int gil_lt_fn_take_drop(struct gil_lt_agent *a, void *arg)
{
	unsigned int i, n = *(unsigned int *)arg;
	int ret;

	for (i = 0; i < n; i++) {
		ret = gil_take(a->ctx->gil, a->t);
		if (ret) {
			a->why = "take";
			return ret;
		}
		ret = gil_drop(a->ctx->gil, a->t);
		if (ret) {
			a->why = "drop";
			return ret;
		}
	}
	return 0;
}

/*
 * Hold the GIL until a drop request shows, as an eval loop polls at its
 * safe points.  The time of each sighting is read after the sighting, so
 * it is never earlier than the request.
 */
static int gil_lt_fn_poll_request(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_request_poll *p = arg;
	struct gil *gil = a->ctx->gil;
	ktime_t deadline = ktime_add_us(ktime_get(), p->timeout_us);

	p->seen_page = 0;
	p->seen_flag = 0;
	for (;;) {
		if (!p->seen_page && gil_lt_requested(gil))
			p->seen_page = ktime_get();
		if (!p->seen_flag && READ_ONCE(gil->drop_request))
			p->seen_flag = ktime_get();
		if (p->seen_page && p->seen_flag)
			return 0;
		if (ktime_after(ktime_get(), deadline) || gil_lt_stopping(a)) {
			a->why = "no drop request in time";
			return -ETIMEDOUT;
		}
		usleep_range(10, 20);
	}
}

static void gil_lt_enter(struct gil_lt_contention *c, struct gil_lt_agent *a)
{
	if (READ_ONCE(c->inside))
		atomic_inc(&c->violations);
	WRITE_ONCE(c->inside, a);
}

static void gil_lt_leave(struct gil_lt_contention *c, struct gil_lt_agent *a)
{
	if (READ_ONCE(c->inside) != a)
		atomic_inc(&c->violations);
	WRITE_ONCE(c->inside, NULL);
}

/* Run "bytecode" for up to @us, answering a drop request with a yield. */
static int gil_lt_hold(struct gil_lt_agent *a, struct gil_lt_contention *c,
		       s64 us)
{
	struct gil *gil = a->ctx->gil;
	ktime_t end = ktime_add_us(ktime_get(), us);
	int ret;

	while (ktime_before(ktime_get(), end)) {
		if (READ_ONCE(c->inside) != a)
			atomic_inc(&c->violations);
		if (gil_lt_requested(gil)) {
			gil_lt_leave(c, a);
			ret = gil_yield(gil, a->t);
			if (ret) {
				a->why = "yield";
				return ret;
			}
			gil_lt_enter(c, a);
			atomic_inc(&c->yields);
			return 0;
		}
		cpu_relax();
	}
	return 0;
}

static int gil_lt_fn_contend(struct gil_lt_agent *a, void *arg)
{
	struct gil_lt_contention *c = arg;
	struct gil *gil = a->ctx->gil;
	unsigned int i;
	int ret;

	for (i = 0; i < c->iterations; i++) {
		if (gil_lt_stopping(a)) {
			a->why = "stopped";
			return -EINTR;
		}
		ret = gil_take(gil, a->t);
		if (ret) {
			a->why = "take";
			return ret;
		}
		gil_lt_enter(c, a);
		c->entries++;
		if (i % 8 == 0) {
			ret = gil_lt_hold(a, c, c->hold_us);
			if (ret)
				return ret;
		}
		gil_lt_leave(c, a);
		ret = gil_drop(gil, a->t);
		if (ret) {
			a->why = "drop";
			return ret;
		}
		if (i % 4 == 0)
			usleep_range(10, 50);
	}
	return 0;
}

/* The cases. */

static void gil_test_errors(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	struct gil_stats st;

	/* The case's own thread never attached. */
	KUNIT_EXPECT_NULL(test, gil_thread_get(gil));
	KUNIT_EXPECT_EQ(test, gil_lt_do_fn(test, a, gil_lt_fn_attach, NULL),
			-EEXIST);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), -EPERM);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_YIELD), -EPERM);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_TRUE(test, a->after.held);
	KUNIT_EXPECT_PTR_EQ(test, a->after.holder, a->t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 1);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), -EDEADLK);
	KUNIT_EXPECT_TRUE_MSG(test, a->after.held,
			      "a failed take lost the GIL");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), -EPERM);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_YIELD), -EPERM);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, a->t);
	KUNIT_EXPECT_TRUE_MSG(test, b->after.locked,
			      "another thread's drop released the GIL");

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_FALSE(test, a->after.held);
	/* The holder field keeps the last holder (CPython's last_holder). */
	KUNIT_EXPECT_PTR_EQ(test, a->after.holder, a->t);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), -EPERM);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 1);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
}

static void gil_test_detach(struct kunit *test)
{
	struct gil_lt_detach *d = gil_lt_alloc(test, sizeof(*d));
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	u64 sn;

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	sn = a->after.switch_number;
	gil_lt_do_fn(test, a, gil_lt_fn_detach_holding, d);
	KUNIT_EXPECT_EQ(test, d->busy, -EBUSY);
	KUNIT_EXPECT_TRUE(test, a->after.held);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	gil_lt_do_fn(test, a, gil_lt_fn_detach, d);
	KUNIT_EXPECT_EQ(test, d->first, 0);
	KUNIT_EXPECT_TRUE(test, d->gone);
	KUNIT_EXPECT_EQ(test, d->second, -EUNATCH);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 1);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

static void gil_test_single_thread_never_waits(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	unsigned int *count = gil_lt_alloc(test, sizeof(*count));
	const unsigned int n = 50;
	struct gil_stats st;
	u64 hist = 0;
	int i;

	*count = n;
	KUNIT_EXPECT_EQ_MSG(test, gil_lt_do_fn(test, a, gil_lt_fn_take_drop,
					       count),
			    0, "%s", a->why ?: "");
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.size, sizeof(st));
	KUNIT_EXPECT_EQ(test, st.hist_buckets, GIL_STATS_HIST_BUCKETS);
	KUNIT_EXPECT_EQ(test, st.acquisitions, n);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, n);
	KUNIT_EXPECT_EQ(test, st.contended, 0);
	KUNIT_EXPECT_EQ(test, st.wait_ns, 0);
	KUNIT_EXPECT_EQ(test, st.drop_requests, 0);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
	KUNIT_EXPECT_EQ(test, st.owner_deaths, 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		hist += st.handoff_ns_hist[i];
	KUNIT_EXPECT_EQ(test, hist, 0);
	/* One owner: one change, from nobody to it. */
	KUNIT_EXPECT_EQ(test, st.switch_number, 1);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, 1);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number), 1);
}

static void gil_test_mutual_exclusion(struct kunit *test)
{
	const int nr = 4;
	struct gil_lt_contention *c = gil_lt_alloc(test, sizeof(*c));
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *agents[4];
	unsigned long deadline;
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 total, hist = 0;
	int i;

	/* Holders keep it past the interval now and then: forced switches. */
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	c->iterations = 200;
	c->hold_us = 10000;
	atomic_set(&c->violations, 0);
	atomic_set(&c->yields, 0);
	for (i = 0; i < nr; i++) {
		char name[8];

		snprintf(name, sizeof(name), "mx%d", i);
		agents[i] = gil_lt_start(test, name);
	}
	for (i = 0; i < nr; i++)
		gil_lt_post_fn(agents[i], gil_lt_fn_contend, c);

	deadline = jiffies + msecs_to_jiffies(120000);
	for (i = 0; i < nr; i++) {
		struct gil_lt_agent *a = agents[i];
		long left = max_t(long, (long)(deadline - jiffies), 1);

		KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(a, jiffies_to_msecs(left)),
				      "%s still running after 120 s", a->name);
		KUNIT_EXPECT_EQ_MSG(test, a->ret, 0, "%s: %s", a->name,
				    a->why ?: "");
	}

	total = (u64)nr * c->iterations;
	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&c->violations), 0,
			    "two threads were inside the GIL at once");
	KUNIT_EXPECT_EQ_MSG(test, c->entries, total,
			    "lost updates to a counter the GIL guards");

	gil_lt_read_stats(gil, &st);
	gil_lt_snapshot(gil, NULL, &s);
	kunit_info(test, "acquisitions %llu contended %llu drop requests %llu forced %llu voluntary %llu yields %d\n",
		   st.acquisitions, st.contended, st.drop_requests,
		   st.forced_switches, st.voluntary_releases,
		   atomic_read(&c->yields));
	total += atomic_read(&c->yields);
	/* The take of a yield counts, and so does its release. */
	KUNIT_EXPECT_EQ(test, st.acquisitions, total);
	KUNIT_EXPECT_EQ_MSG(test, st.forced_switches + st.voluntary_releases,
			    total, "every release is forced or voluntary");
	KUNIT_EXPECT_GT_MSG(test, st.contended, 0,
			    "the case did not create contention");
	KUNIT_EXPECT_LE(test, st.contended, st.acquisitions);
	KUNIT_EXPECT_GT(test, st.wait_ns, 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		hist += st.handoff_ns_hist[i];
	KUNIT_EXPECT_EQ_MSG(test, hist, st.contended,
			    "every waiter's acquisition is one handoff");
	KUNIT_EXPECT_GT_MSG(test, atomic_read(&c->yields), 0,
			    "no holder saw a drop request");
	KUNIT_EXPECT_GE(test, st.drop_requests, st.forced_switches);
	KUNIT_EXPECT_EQ(test, st.switch_number, s.switch_number);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number),
			s.switch_number);
	KUNIT_EXPECT_FALSE(test, s.locked);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "a drop request outlived every waiter");
	KUNIT_EXPECT_EQ(test, s.eval_breaker, 0);
}

/*
 * Wake-up latency under TCG is a few milliseconds: the longer intervals
 * are the ones that would catch a request posted early.
 */
static const s64 gil_lt_intervals[] = { 1000, 5000, 20000, 100000 };

static void gil_lt_interval_desc(const s64 *us, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "interval %lld us", *us);
}

KUNIT_ARRAY_PARAM(gil_lt_intervals, gil_lt_intervals, gil_lt_interval_desc);

/*
 * A waiter posts the drop request when its sleep of one interval times
 * out, never earlier, and the holder sees it in the page.
 */
static void gil_test_drop_request_timing(struct kunit *test)
{
	const s64 interval = *(const s64 *)test->param_value;
	const s64 bound_us = interval * 10 + 2 * USEC_PER_SEC;
	struct gil_lt_request_poll *p = gil_lt_alloc(test, sizeof(*p));
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;
	s64 page_us, flag_us;

	gil_lt_start_pair(test, interval, "holder", "waiter", &a, &b);

	/* No waiter: no request, however long the holder keeps the GIL. */
	msleep(DIV_ROUND_UP(2 * interval, 1000));
	gil_lt_snapshot(gil, NULL, &s);
	KUNIT_EXPECT_FALSE(test, s.drop_request);
	KUNIT_EXPECT_EQ(test, s.eval_breaker, 0);

	p->timeout_us = bound_us + USEC_PER_SEC;
	gil_lt_post_fn(a, gil_lt_fn_poll_request, p);
	gil_lt_post(b, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, p->timeout_us / 1000 + 5000));
	KUNIT_ASSERT_EQ_MSG(test, a->ret, 0,
			    "the holder saw no drop request within %lld us",
			    p->timeout_us);
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(b),
			       "the waiter stopped waiting by itself");

	/* The forced switch: the waiter gets the GIL. */
	gil_lt_pass(test, a, b);

	/* b->start is read after b finished: its store is visible. */
	page_us = ktime_us_delta(p->seen_page, b->start);
	flag_us = ktime_us_delta(p->seen_flag, b->start);
	kunit_info(test, "request seen %lld us (page) / %lld us (flag) after the take began\n",
		   page_us, flag_us);
	KUNIT_EXPECT_GE_MSG(test, page_us, interval,
			    "drop request before the interval ran out");
	KUNIT_EXPECT_GE_MSG(test, flag_us, interval,
			    "drop request before the interval ran out");
	KUNIT_EXPECT_LE(test, page_us, bound_us);
	KUNIT_EXPECT_LE(test, flag_us, bound_us);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_GE(test, st.drop_requests, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 1);
	KUNIT_EXPECT_EQ(test, st.contended, 1);
	KUNIT_EXPECT_GE(test, st.wait_ns, (u64)interval * NSEC_PER_USEC);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

/* switch_number counts changes of owner, not acquisitions. */
static void gil_test_switch_number(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a = gil_lt_start(test, "a");
	struct gil_lt_agent *b = gil_lt_start(test, "b");
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 sn;

	gil_lt_snapshot(gil, NULL, &s);
	sn = s.switch_number;

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ_MSG(test, a->after.switch_number, sn + 1,
			    "the same thread taking again is no switch");
	/* No request, no waiter: a yield gives the GIL straight back. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_YIELD), 0);
	KUNIT_EXPECT_TRUE(test, a->after.held);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 2);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, b->t);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 2);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 3);
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.switch_number, sn + 3);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->switch_number), sn + 3);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 6);
}

struct gil_lt_release_mode {
	enum gil_lt_op op;
	const char *name;
};

static const struct gil_lt_release_mode gil_lt_release_modes[] = {
	{ GIL_LT_DROP, "drop" },
	{ GIL_LT_YIELD, "yield" },
	{ GIL_LT_DROP_TAKE, "drop then take at once" },
};

GIL_LT_NAME_DESC(gil_lt_release_mode);
KUNIT_ARRAY_PARAM(gil_lt_release_modes, gil_lt_release_modes,
		  gil_lt_release_mode_desc);

/*
 * The forced switch: with a drop request pending, the holder's release
 * returns only once the waiter holds the GIL, and a holder that takes it
 * again at once (as yield does) gets it only after the waiter had it.
 */
static void gil_test_forced_switch(struct kunit *test)
{
	const struct gil_lt_release_mode *mode = test->param_value;
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;
	u64 sn;

	gil_lt_start_pair(test, 1000, "holder", "waiter", &a, &b);
	gil_lt_post(b, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_ASSERT_TRUE(test, s.held);
	KUNIT_EXPECT_TRUE(test, s.drop_request);
	sn = s.switch_number;

	gil_lt_post(a, mode->op);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(b, GIL_LT_OP_MS),
			      "the waiter did not get the GIL");
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_TRUE(test, b->after.held);
	KUNIT_EXPECT_EQ(test, b->after.switch_number, sn + 1);

	if (mode->op == GIL_LT_DROP) {
		/*
		 * No one else waits: no new request can have been posted.
		 * (A releaser taking again waits, and may post a new one.)
		 */
		KUNIT_EXPECT_FALSE_MSG(test, b->after.drop_request,
				       "the request survived the switch");
		KUNIT_EXPECT_EQ(test, b->after.eval_breaker, 0);
		KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, GIL_LT_OP_MS));
		KUNIT_EXPECT_EQ(test, a->ret, 0);
		/* Sampled right after the drop returned; b keeps the GIL. */
		KUNIT_EXPECT_PTR_EQ_MSG(test, a->after.holder, b->t,
					"the forced release returned before the waiter held the GIL");
		KUNIT_EXPECT_TRUE(test, a->after.locked);
		KUNIT_EXPECT_EQ(test, a->after.switch_number, sn + 1);
		KUNIT_EXPECT_FALSE(test, a->after.drop_request);
		KUNIT_EXPECT_EQ(test, a->after.eval_breaker, 0);
		KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
		gil_lt_read_stats(gil, &st);
		KUNIT_EXPECT_EQ(test, st.forced_switches, 1);
		KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
		return;
	}

	/* b holds the GIL: the releaser, taking again, must be waiting. */
	msleep(20);
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(a),
			       "the forced releaser took the GIL back while the waiter held it");
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 1);

	gil_lt_pass(test, b, a);
	KUNIT_EXPECT_EQ_MSG(test, a->after.switch_number, sn + 2,
			    "a -> b -> a is two changes of owner");
	if (mode->op == GIL_LT_DROP_TAKE) {
		KUNIT_EXPECT_EQ(test, a->ret_drop, 0);
		KUNIT_EXPECT_PTR_EQ_MSG(test, a->mid.holder, b->t,
					"the forced release returned before the waiter held the GIL");
		KUNIT_EXPECT_EQ(test, a->mid.switch_number, sn + 1);
	}
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

/* A release with no drop request pending returns at once. */
static void gil_test_voluntary_release(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	struct gil_stats st;

	/* An hour: no waiter here ever posts a request. */
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, GIL_INTERVAL_MAX_US), 0);
	a = gil_lt_start(test, "a");
	b = gil_lt_start(test, "b");

	/* No waiter. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);

	/* A waiter, but no request. */
	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_queue(test, b, 1);
	msleep(20);
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_TRUE(test, s.held);
	KUNIT_EXPECT_FALSE(test, s.drop_request);
	KUNIT_EXPECT_FALSE(test, gil_lt_idle(b));
	gil_lt_pass(test, a, b);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 2);
	KUNIT_EXPECT_EQ(test, st.forced_switches, 0);
	KUNIT_EXPECT_EQ(test, st.drop_requests, 0);
	KUNIT_EXPECT_EQ(test, st.contended, 1);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.voluntary_releases, 3);
}

/*
 * A drop request was posted, then its waiter left without the GIL (its
 * process shut the GIL down: ESHUTDOWN).  No one is left to take over, so
 * the release must not wait for one.
 */
static void gil_test_release_after_waiter_left(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *c;
	struct gil_stats st;

	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	a = gil_lt_start(test, "holder");
	c = gil_lt_start(test, "leaver");
	gil_lt_join_case_process(c);

	KUNIT_ASSERT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	gil_lt_post(c, GIL_LT_TAKE);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");

	KUNIT_EXPECT_EQ(test, gil_shutdown(gil), 0);
	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(c, GIL_LT_OP_MS),
			      "a waiter whose process shut the GIL down kept waiting");
	KUNIT_EXPECT_EQ(test, c->ret, -ESHUTDOWN);
	KUNIT_EXPECT_FALSE(test, c->after.held);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_EXPECT_FALSE(test, a->after.locked);
	KUNIT_EXPECT_FALSE_MSG(test, a->after.drop_request,
			       "a request outlived its waiter");
	KUNIT_EXPECT_EQ(test, a->after.eval_breaker, 0);
	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 1);
	KUNIT_EXPECT_EQ(test, st.forced_switches + st.voluntary_releases, 1);
	/* The GIL still works. */
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_TAKE), 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

struct gil_lt_death_mode {
	bool waiter_first;
	s64 interval_us;
	const char *name;
};

static const struct gil_lt_death_mode gil_lt_death_modes[] = {
	{ true, 2000, "waiter already waiting" },
	{ false, 2000, "holder gone before the take" },
	{ true, GIL_INTERVAL_MAX_US, "waiter waiting, an hour's interval" },
};

GIL_LT_NAME_DESC(gil_lt_death_mode);
KUNIT_ARRAY_PARAM(gil_lt_death_modes, gil_lt_death_modes,
		  gil_lt_death_mode_desc);

/*
 * A holder exits holding the GIL: the next acquirer gets it, with
 * EOWNERDEAD, within about an interval or, with a long interval, within
 * the owner check's period; and only that acquirer is told.
 */
static void gil_test_owner_death(struct kunit *test)
{
	const struct gil_lt_death_mode *mode = test->param_value;
	const s64 interval = mode->interval_us;
	const s64 bound_us = min_t(s64, interval, 10 * USEC_PER_MSEC) * 10 +
			     2 * USEC_PER_SEC;
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_stats st;
	ktime_t from;
	s64 took_us;

	gil_lt_start_pair(test, interval, "dying", "heir", &a, &b);

	if (mode->waiter_first && interval < USEC_PER_SEC) {
		gil_lt_post(b, GIL_LT_TAKE);
		/* b asks the (live) holder to drop: a request is pending. */
		KUNIT_ASSERT_TRUE(test, gil_lt_poll(gil_lt_requested(gil),
						    10000));
	} else if (mode->waiter_first) {
		gil_lt_queue(test, b, 1);
	}
	gil_lt_post(a, GIL_LT_EXIT_HOLDING);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait_exit(a, GIL_LT_OP_MS));
	if (!mode->waiter_first) {
		KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(a->task->exit_state),
						    GIL_LT_OP_MS));
		gil_lt_post(b, GIL_LT_TAKE);
	}

	KUNIT_ASSERT_TRUE_MSG(test, gil_lt_wait(b, bound_us / 1000 + 5000),
			      "the GIL was not recovered from a dead holder");
	KUNIT_EXPECT_EQ(test, b->ret, -EOWNERDEAD);
	from = ktime_after(b->start, a->exit_time) ? b->start : a->exit_time;
	took_us = ktime_us_delta(b->end, from);
	kunit_info(test, "recovered %lld us after the holder exited\n",
		   took_us);
	KUNIT_EXPECT_LE(test, took_us, bound_us);
	KUNIT_EXPECT_TRUE(test, b->after.held);
	KUNIT_EXPECT_PTR_EQ(test, b->after.holder, b->t);
	/* No one released: the acquirer itself cleared the request. */
	KUNIT_EXPECT_FALSE_MSG(test, b->after.drop_request,
			       "the acquirer did not clear the drop request");
	KUNIT_EXPECT_EQ(test, b->after.eval_breaker, 0);
	KUNIT_EXPECT_EQ(test, READ_ONCE(gil->shared->locked), 1);

	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_EXPECT_EQ_MSG(test, gil_lt_do(test, b, GIL_LT_TAKE), 0,
			    "the owner death was reported twice");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);

	gil_lt_read_stats(gil, &st);
	KUNIT_EXPECT_EQ(test, st.owner_deaths, 1);
	KUNIT_EXPECT_EQ(test, st.acquisitions, 3);
}

/*
 * Records of exited threads go as new threads attach, and no more than
 * gil_max_threads records of live threads exist: ENOSPC beyond.
 */
static void gil_test_records_reaped_and_bounded(struct kunit *test)
{
	unsigned long saved_max = gil_max_threads;
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *x;
	int full, reaped;

	x = gil_lt_start(test, "exits");
	gil_lt_start(test, "stays");
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
	gil_lt_post(x, GIL_LT_EXIT_HOLDING);	/* not holding: just exits */
	KUNIT_ASSERT_TRUE(test, gil_lt_wait_exit(x, GIL_LT_OP_MS));
	KUNIT_ASSERT_TRUE(test, gil_lt_poll(READ_ONCE(x->task->exit_state),
					    GIL_LT_OP_MS));
	/* Not noticed yet: nothing looked. */
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);

	/* The case attaches at the limit: x's record is reaped for it. */
	WRITE_ONCE(gil_max_threads, 2);
	reaped = gil_attach(gil);
	WRITE_ONCE(gil_max_threads, saved_max);
	KUNIT_EXPECT_EQ(test, reaped, 0);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
	KUNIT_EXPECT_EQ(test, gil_detach(gil), 0);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 1);

	/* y and z live: a third finds no room. */
	gil_lt_start(test, "third");
	WRITE_ONCE(gil_max_threads, 2);
	full = gil_attach(gil);
	WRITE_ONCE(gil_max_threads, saved_max);
	if (!full)
		gil_detach(gil);
	KUNIT_EXPECT_EQ(test, full, -ENOSPC);
	KUNIT_EXPECT_EQ(test, gil_nr_threads(gil), 2);
}

/* A wait already begun keeps its deadline; later waits use the new one. */
static void gil_test_interval_change_keeps_deadline(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;

	gil_lt_start_pair(test, GIL_INTERVAL_MAX_US, "a", "b", &a, &b);
	gil_lt_queue(test, b, 1);
	KUNIT_ASSERT_EQ(test, gil_set_interval(gil, 1000), 0);
	msleep(50);
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "a wait begun under a 1 h interval posted a request after 50 ms");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);

	/* A new wait uses the new interval. */
	gil_lt_post(a, GIL_LT_TAKE);
	KUNIT_EXPECT_TRUE_MSG(test, gil_lt_poll(gil_lt_requested(gil), 10000),
			      "no drop request within 10 s of a 1 ms interval");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(a, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, a->ret, 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
}

/*
 * Wake-ups are not tied to a wait queue (gil_thread_wake()), so one may
 * reach a thread late: a spurious wake-up of a waiter is neither the GIL
 * nor the end of its interval.  It sleeps on: no return without the GIL,
 * no drop request before its deadline.
 */
static void gil_test_spurious_wakeups_keep_waiting(struct kunit *test)
{
	struct gil *gil = gil_lt_gil(test);
	struct gil_lt_agent *a, *b;
	struct gil_lt_snap s;
	int i;

	gil_lt_start_pair(test, 2000000, "a", "b", &a, &b);
	gil_lt_queue(test, b, 1);
	for (i = 0; i < 50; i++) {
		gil_thread_wake(b->t);
		usleep_range(1000, 2000);
	}
	KUNIT_EXPECT_FALSE_MSG(test, gil_lt_idle(b),
			       "b's take returned after spurious wake-ups");
	gil_lt_snapshot(gil, a->t, &s);
	KUNIT_EXPECT_TRUE(test, s.held);
	KUNIT_EXPECT_FALSE_MSG(test, s.drop_request,
			       "spurious wake-ups posted a drop request before the 2 s deadline");
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, a, GIL_LT_DROP), 0);
	KUNIT_ASSERT_TRUE(test, gil_lt_wait(b, GIL_LT_OP_MS));
	KUNIT_EXPECT_EQ(test, b->ret, 0);
	KUNIT_EXPECT_EQ(test, gil_lt_do(test, b, GIL_LT_DROP), 0);
}

static struct kunit_case gil_lock_cases[] = {
	KUNIT_CASE(gil_test_errors),
	KUNIT_CASE(gil_test_detach),
	KUNIT_CASE(gil_test_single_thread_never_waits),
	KUNIT_CASE(gil_test_switch_number),
	KUNIT_CASE(gil_test_mutual_exclusion),
	KUNIT_CASE_PARAM(gil_test_drop_request_timing,
			 gil_lt_intervals_gen_params),
	KUNIT_CASE_PARAM(gil_test_forced_switch,
			 gil_lt_release_modes_gen_params),
	KUNIT_CASE(gil_test_voluntary_release),
	KUNIT_CASE(gil_test_release_after_waiter_left),
	KUNIT_CASE_PARAM(gil_test_owner_death, gil_lt_death_modes_gen_params),
	KUNIT_CASE(gil_test_interval_change_keeps_deadline),
	KUNIT_CASE(gil_test_spurious_wakeups_keep_waiting),
	KUNIT_CASE(gil_test_records_reaped_and_bounded),
	{}
};

GIL_LT_SUITE(gil_lock, gil_lock_cases);
