// SPDX-License-Identifier: GPL-2.0
/*
 * The tracepoints in tracefs (events/gil/): they exist with their fields,
 * record nothing while disabled, and a forced switch, a voluntary handoff,
 * a holder asleep holding the GIL and an owner death leave the events they
 * should, for the right GIL and
 * tids, in order, and as many as GIL_IOC_GET_STATS counts.  Skipped when
 * tracefs is not mounted at /sys/kernel/tracing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "uapi.h"

#define TRACEFS "/sys/kernel/tracing"
#define NO_TRACEFS "tracefs is not mounted at " TRACEFS

enum ev_type {
	EV_ACQUIRE, EV_RELEASE, EV_DROP_REQUEST, EV_HANDOFF, EV_HOLDER_BLOCKED,
	EV_BOOST, EV_TYPES
};

static const char *const ev_names[EV_TYPES] = {
	"gil_acquire", "gil_release", "gil_drop_request", "gil_handoff",
	"gil_holder_blocked", "gil_boost",
};

/* One event.  In a pattern (see pattern()), -1 matches anything. */
struct event {
	long long type;
	long long gil, tid, waited, wait_ns, switch_number, owner_died;
	long long forced, requester, holder, from, to, latency_ns, prio, err;
};

static const struct {
	const char *name;
	size_t off;
} ev_fields[] = {
#define F(f) { #f, offsetof(struct event, f) }
	F(gil), F(tid), F(waited), F(wait_ns), F(switch_number),
	F(owner_died), F(forced), F(requester), F(holder), F(from), F(to),
	F(latency_ns), F(prio), F(err),
#undef F
};

static long long *ev_field(struct event *e, size_t i)
{
	return (long long *)((char *)e + ev_fields[i].off);
}

struct trace {
	struct event ev[512];
	int n;
};

static struct event any(enum ev_type type)
{
	struct event e;

	memset(&e, 0xff, sizeof(e));
	e.type = type;
	return e;
}

/*
 * "gil_acquire: gil=3 tid=120 ..." (the end of a line of the trace): -1
 * if it is no gil event, else how many of its keys are not fields of ours.
 */
static int parse_event(const char *s, struct event *e)
{
	size_t i, len;
	char key[32];
	long long v;
	int type, n, unknown = 0;

	for (type = 0; type < EV_TYPES; type++) {
		len = strlen(ev_names[type]);
		if (!strncmp(s, ev_names[type], len) && s[len] == ':')
			break;
	}
	if (type == EV_TYPES)
		return -1;
	*e = any(type);
	s += len + 1;
	while (sscanf(s, " %31[a-z_]=%lld%n", key, &v, &n) == 2) {
		for (i = 0; i < T_ARRAY_SIZE(ev_fields); i++)
			if (!strcmp(key, ev_fields[i].name))
				break;
		if (i < T_ARRAY_SIZE(ev_fields))
			*ev_field(e, i) = v;
		else
			unknown++;
		s += n;
	}
	return unknown;
}

static int tracefs_mounted(void)
{
	struct statfs sfs;

	return !statfs(TRACEFS, &sfs) && sfs.f_type == TRACEFS_MAGIC;
}

/*
 * The trace clock and record-cmd found on entry, restored by
 * trace_cleanup(); read before the first case, which runs in a process of
 * its own.
 */
static char saved_clock[32];
static char saved_record_cmd[4];

static void trace_save(void)
{
	char *clock, *opt, *b, *e;

	if (!tracefs_mounted())
		return;
	opt = t_read_file(TRACEFS "/options/record-cmd");
	if (opt)
		snprintf(saved_record_cmd, sizeof(saved_record_cmd), "%c",
			 opt[0]);
	free(opt);
	clock = t_read_file(TRACEFS "/trace_clock");
	b = clock ? strchr(clock, '[') : NULL;
	e = b ? strchr(b, ']') : NULL;
	if (e && e - b - 1 < (long)sizeof(saved_clock))
		snprintf(saved_clock, sizeof(saved_clock), "%.*s",
			 (int)(e - b - 1), b + 1);
	free(clock);
}

static void trace_clear(void)
{
	int fd = open(TRACEFS "/trace", O_WRONLY | O_TRUNC | O_CLOEXEC);

	CHECK(fd >= 0);
	close(fd);
}

/*
 * Record the gil events from here on, on the global clock: events of two
 * CPUs are then in the order the GIL's lock put them in.
 *
 * Without record-cmd: with it, enabling any event also hooks sched_switch
 * to record command names, which patches __schedule() while the other CPU
 * runs it.  Under QEMU's TCG that hung the guest once in about 100 runs
 * of this test: one CPU looped on the int3 in __schedule() with interrupts
 * off while the patcher waited for it in smp_call_function_many_cond().
 * Our events' own sites are in gil.ko, which no thread runs while we
 * patch them.
 */
static void trace_begin(void)
{
	/* trace_save() read them: trace_cleanup() can put them back. */
	CHECK(saved_record_cmd[0]);
	CHECK(saved_clock[0]);
	CHECK(t_write_text(TRACEFS "/options/record-cmd", "0") == 0);
	CHECK(t_write_text(TRACEFS "/trace_clock", "global") == 0);
	trace_clear();
	CHECK(t_write_text(TRACEFS "/events/gil/enable", "1") == 0);
	CHECK(t_write_text(TRACEFS "/tracing_on", "1") == 0);
}

/* Stop recording; the gil events of the trace, in its order, into *t. */
static void trace_end(struct trace *t)
{
	char *text, *line, *p;

	CHECK(t_write_text(TRACEFS "/events/gil/enable", "0") == 0);
	text = t_read_file(TRACEFS "/trace");
	CHECK(text);
	t->n = 0;
	for (line = text; line && *line; line = p) {
		p = strchr(line, '\n');
		if (p)
			*p++ = 0;
		if (line[0] == '#')
			continue;
		line = strstr(line, ": gil_");
		if (!line || t->n == (int)T_ARRAY_SIZE(t->ev))
			continue;
		if (parse_event(line + 2, &t->ev[t->n]) >= 0)
			t->n++;
	}
	free(text);
}

static void trace_cleanup(void)
{
	t_write_text(TRACEFS "/events/gil/enable", "0");
	if (saved_clock[0])
		t_write_text(TRACEFS "/trace_clock", saved_clock);
	if (saved_record_cmd[0])
		t_write_text(TRACEFS "/options/record-cmd", saved_record_cmd);
}

static void print_event(int i, struct event *e)
{
	size_t f;

	printf("    %3d %s:", i, ev_names[e->type]);
	for (f = 0; f < T_ARRAY_SIZE(ev_fields); f++)
		if (*ev_field(e, f) != -1)
			printf(" %s=%lld", ev_fields[f].name, *ev_field(e, f));
	printf("\n");
}

static void print_trace(void *arg)
{
	struct trace *t = arg;
	int i;

	printf("    the trace's %d gil events:\n", t->n);
	for (i = 0; i < t->n; i++)
		print_event(i, &t->ev[i]);
}

static int matches(struct event *e, struct event *pat)
{
	size_t f;

	if (e->type != pat->type)
		return 0;
	for (f = 0; f < T_ARRAY_SIZE(ev_fields); f++)
		if (*ev_field(pat, f) != -1 &&
		    *ev_field(pat, f) != *ev_field(e, f))
			return 0;
	return 1;
}

/*
 * A pattern in the trace's own words, "gil_release: tid=%d forced=1", for
 * the events of GIL @id (of any GIL: -1); a field left out matches
 * anything.  One that does not parse is a bug of the test: it aborts,
 * lest a misspelt field match everything or a count of nothing pass.
 */
static struct event pattern(long long id, const char *fmt, va_list ap)
{
	struct event pat;
	char buf[160];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	if (parse_event(buf, &pat)) {
		printf("    bad pattern '%s'\n", buf);
		fflush(stdout);
		abort();
	}
	if (id != -1)
		pat.gil = id;
	return pat;
}

/* The index of the first event from @start on that matches, or -1. */
static int find_event(struct trace *t, int start, long long id,
		      const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int find_event(struct trace *t, int start, long long id,
		      const char *fmt, ...)
{
	struct event pat;
	va_list ap;
	int i;

	va_start(ap, fmt);
	pat = pattern(id, fmt, ap);
	va_end(ap);
	for (i = start < 0 ? 0 : start; i < t->n; i++)
		if (matches(&t->ev[i], &pat))
			return i;
	return -1;
}

/* The number of events that match. */
static int count_events(struct trace *t, long long id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int count_events(struct trace *t, long long id, const char *fmt, ...)
{
	struct event pat;
	va_list ap;
	int i, n = 0;

	va_start(ap, fmt);
	pat = pattern(id, fmt, ap);
	va_end(ap);
	for (i = 0; i < t->n; i++)
		n += matches(&t->ev[i], &pat);
	return n;
}

/*
 * The id of our GIL: that of the first acquisition by thread @tid.  The
 * fdinfo of the GIL, which was still open, bears the same id.
 */
static long long trace_gil_id(struct trace *t, pid_t tid, long long fd_id)
{
	int i = find_event(t, 0, -1, "gil_acquire: tid=%d", tid);

	if (i < 0 || fd_id != t->ev[i].gil)
		return -1;
	return t->ev[i].gil;
}

/* The events of GIL @id, and the counters of GET_STATS, agree. */
static void expect_counts(struct trace *t, long long id,
			  const struct gil_stats *st)
{
	CHECK_CMP(count_events(t, id, "gil_acquire:"), ==, st->acquisitions);
	CHECK_CMP(count_events(t, id, "gil_acquire: waited=1"), ==,
		  st->contended);
	CHECK_CMP(count_events(t, id, "gil_release: forced=1"), ==,
		  st->forced_switches);
	CHECK_CMP(count_events(t, id, "gil_release: forced=0"), ==,
		  st->voluntary_releases);
	CHECK_CMP(count_events(t, id, "gil_drop_request:"), ==,
		  st->drop_requests);
	CHECK_CMP(count_events(t, id, "gil_handoff:"), ==, t_hist_sum(st));
	CHECK_CMP(count_events(t, id, "gil_holder_blocked:"), ==,
		  st->blocked_requests);
	CHECK_CMP(count_events(t, id, "gil_boost:"), ==, 0);
}

static void trace_events_exist(void)
{
	char path[128], *fmt;
	int i;

	if (!tracefs_mounted())
		SKIP(NO_TRACEFS);
	CHECK(access(TRACEFS "/events/gil/enable", W_OK) == 0);
	for (i = 0; i < EV_TYPES; i++) {
		snprintf(path, sizeof(path), TRACEFS "/events/gil/%s/format",
			 ev_names[i]);
		fmt = t_read_file(path);
		CHECK(fmt);
		CHECK(strstr(fmt, "field:u64 gil;"));
		free(fmt);
	}
}

static void trace_nothing_while_disabled(void)
{
	struct trace *t = calloc(1, sizeof(*t));
	int fd;

	if (!tracefs_mounted())
		SKIP(NO_TRACEFS);
	CHECK(t);
	trace_begin();
	CHECK(t_write_text(TRACEFS "/events/gil/enable", "0") == 0);
	fd = t_open_dev();
	CHECK(fd >= 0);
	t_attach_acquire(fd);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	t_detach_close_gil(fd, NULL);
	trace_end(t);
	if (t->n)
		print_trace(t);
	CHECK_CMP(t->n, ==, 0);
	free(t);
}

/*
 * The waiter's drop request, the holder's forced release, the waiter's
 * acquisition and the handoff to it, in this order.
 */
static void expect_forced_switch(struct trace *t, pid_t me, pid_t waiter,
				long long id, const struct gil_stats *st)
{
	int acq, req, rel, wacq, hoff, wrel;

	acq = find_event(t, 0, id, "gil_acquire: tid=%d waited=0 "
			 "switch_number=1 owner_died=0", me);
	CHECK(acq >= 0);
	req = find_event(t, acq, id, "gil_drop_request: requester=%d "
			 "holder=%d switch_number=1", waiter, me);
	CHECK(req > acq);
	rel = find_event(t, req, id, "gil_release: tid=%d forced=1", me);
	CHECK(rel > req);
	wacq = find_event(t, rel, id, "gil_acquire: tid=%d waited=1 "
			  "switch_number=2 owner_died=0", waiter);
	CHECK(wacq > rel);
	/* It waited at least the interval, for its drop request. */
	CHECK_CMP(t->ev[wacq].wait_ns, >=, 2000000);
	hoff = find_event(t, rel, id, "gil_handoff: from=%d to=%d", me, waiter);
	CHECK(hoff > rel);
	CHECK_CMP(t->ev[hoff].latency_ns, >, 0);
	CHECK_CMP(t->ev[hoff].latency_ns, <=, t->ev[wacq].wait_ns);
	wrel = find_event(t, wacq, id, "gil_release: tid=%d forced=0", waiter);
	CHECK(wrel > wacq);

	expect_counts(t, id, st);
}

/* A release to a sleeping waiter: a voluntary release, then a handoff. */
static void expect_voluntary_handoff(struct trace *t, pid_t me, pid_t waiter,
				     long long id, const struct gil_stats *st)
{
	int rel, wacq, hoff;

	CHECK_CMP(count_events(t, id, "gil_drop_request:"), ==, 0);
	rel = find_event(t, 0, id, "gil_release: tid=%d forced=0", me);
	CHECK(rel >= 0);
	wacq = find_event(t, rel, id, "gil_acquire: tid=%d waited=1 "
			  "switch_number=2", waiter);
	CHECK(wacq > rel);
	hoff = find_event(t, rel, id, "gil_handoff: from=%d to=%d", me, waiter);
	CHECK(hoff > rel);
	CHECK_CMP(t->ev[hoff].latency_ns, <=, t->ev[wacq].wait_ns);
	expect_counts(t, id, st);
}

/* How the waiter gets the GIL from us in trace_handoff(). */
enum handoff {
	FORCED,		/* a 2 ms interval: the waiter's drop request */
	VOLUNTARY,	/* a long interval: we release while it sleeps */
	ASLEEP,		/* a 2 ms interval, and we sleep 50 ms holding it */
};

/* Its requests found us blocked, and say so after the request, each. */
static void expect_holder_blocked(struct trace *t, pid_t me, pid_t waiter,
				  long long id, const struct gil_stats *st)
{
	int req, blk;

	CHECK_CMP(st->blocked_requests, >=, 1);
	expect_counts(t, id, st);
	blk = find_event(t, 0, id, "gil_holder_blocked: requester=%d holder=%d",
			 (int)waiter, (int)me);
	req = find_event(t, 0, id, "gil_drop_request: requester=%d holder=%d",
			 (int)waiter, (int)me);
	CHECK(req >= 0 && blk > req);
}

/*
 * We take the GIL and a waiter thread gets it from us, as @how says; then
 * the trace, which names the GIL as fdinfo does.
 */
static void trace_handoff(enum handoff how)
{
	struct trace *t = calloc(1, sizeof(*t));
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	long long fd_id, id;
	pid_t me = t_gettid();
	int fd;

	if (!tracefs_mounted())
		SKIP(NO_TRACEFS);
	CHECK(t);
	trace_begin();
	t_open_mapped(&fd, &pg);
	fd_id = t_gil_id(fd);
	CHECK(fd_id > 0);
	CHECK(t_set_interval(fd, how == VOLUNTARY ? 10000000 : 2000) == 0);
	t_attach_acquire(fd);
	if (how == FORCED)
		t_waiter_start_requesting(&w, fd, pg, 0);
	else
		t_waiter_start_blocked(&w, fd, pg, 0);
	if (how == ASLEEP)
		t_sleep_ms(50);
	t_release_to_waiter(fd, &w);
	CHECK(t_gil_stats(fd, &st) == 0);
	t_detach_close_gil(fd, pg);
	trace_end(t);

	id = trace_gil_id(t, me, fd_id);
	printf("    gil id %lld (fdinfo: %lld), tids %d and %d\n", id, fd_id,
	       (int)me, (int)w.tid);
	t_on_fail(print_trace, t);
	CHECK(id >= 0);
	if (how == FORCED)
		expect_forced_switch(t, me, w.tid, id, &st);
	else if (how == VOLUNTARY)
		expect_voluntary_handoff(t, me, w.tid, id, &st);
	else
		expect_holder_blocked(t, me, w.tid, id, &st);
	free(t);
}

static void trace_forced_switch(void)
{
	trace_handoff(FORCED);
}

static void trace_voluntary_handoff(void)
{
	trace_handoff(VOLUNTARY);
}

/* We sleep holding the GIL while a waiter asks. */
static void trace_holder_blocked(void)
{
	trace_handoff(ASLEEP);
}

/*
 * A child takes the GIL and exits holding it: no release is traced; our
 * acquisition says owner_died=1.
 */
static void trace_owner_death(void)
{
	struct trace *t = calloc(1, sizeof(*t));
	long long id;
	pid_t me = t_gettid(), pid;
	int fd, acq;

	if (!tracefs_mounted())
		SKIP(NO_TRACEFS);
	CHECK(t);
	trace_begin();
	fd = t_open_dev();
	CHECK(fd >= 0);
	pid = t_child_dies_holding(fd);
	CHECK(pid > 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	t_detach_close_gil(fd, NULL);
	trace_end(t);

	printf("    child %d, us %d\n", (int)pid, (int)me);
	t_on_fail(print_trace, t);
	acq = find_event(t, 0, -1, "gil_acquire: tid=%d owner_died=0", pid);
	CHECK(acq >= 0);
	id = t->ev[acq].gil;
	CHECK_CMP(count_events(t, -1, "gil_release: tid=%d", pid), ==, 0);
	CHECK(find_event(t, acq, id, "gil_acquire: tid=%d owner_died=1 "
			 "switch_number=2", me) > acq);
	free(t);
}

int main(void)
{
	trace_save();
	T_RUN(trace_events_exist);
	T_RUN(trace_nothing_while_disabled);
	T_RUN(trace_forced_switch);
	T_RUN(trace_voluntary_handoff);
	T_RUN(trace_holder_blocked);
	T_RUN(trace_owner_death);
	trace_cleanup();
	return t_exit_status();
}
