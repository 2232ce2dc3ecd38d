// SPDX-License-Identifier: MIT
/*
 * What gil-bench's benchmarks share: errors, pinning, the coordination of
 * their threads outside what is measured, GILs and thread states, and the
 * CPU-bound eval loops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gil-bench.h"

void die(const char *what, int err)
{
	fprintf(stderr, "gil-bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

void check(const char *what, int ret)
{
	if (ret < 0)
		die(what, ret);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		die("calloc", ENOMEM);
	return p;
}

pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

int ncpus;

/* Pin the calling thread to @cpu, or let it run anywhere (-1). */
void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (cpu >= 0) {
		CPU_SET(cpu, &set);
	} else {
		for (int i = 0; i < ncpus; i++)
			CPU_SET(i, &set);
	}
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity", errno);
}

/* xorshift64*, for the convoy's request gaps. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

/*
 * Coordination between the threads of a benchmark, outside what is
 * measured: a 32-bit counter others sleep on until it reaches a value.
 */
void futex_wait(uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void futex_wake(uint32_t *w, int n)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

uint32_t load(const uint32_t *w)
{
	return __atomic_load_n(w, __ATOMIC_ACQUIRE);
}

void wait_ge(uint32_t *w, uint32_t v)
{
	uint32_t c;

	while ((c = load(w)) < v)
		futex_wait(w, c);
}

void publish(uint32_t *w, uint32_t v)
{
	__atomic_store_n(w, v, __ATOMIC_RELEASE);
	futex_wake(w, INT_MAX);
}

void publish_add(uint32_t *w)
{
	__atomic_add_fetch(w, 1, __ATOMIC_RELEASE);
	futex_wake(w, INT_MAX);
}

void store64(int64_t *p, int64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

int64_t load64(const int64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* Is thread @tid of this process asleep (S, or D: the kernel GIL's wait)? */
static bool thread_sleeping(pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(path, errno);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		die(path, n < 0 ? errno : EIO);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'S' || p[2] == 'D');
}

/* Wait until thread @tid sleeps, giving it the CPU if it shares ours. */
/*
 * With GIL_BENCH_INSN_GATE set, a system call nothing else makes
 * (sched_rr_get_interval) at each end of a voluntary handoff's measured
 * span: tests/insn-profile.sh's plugin counts guest instructions only
 * between two of them.  Costs a system call at each end, so only there.
 */
void insn_gate(void)
{
	static int on = -1;
	struct timespec ts;

	if (on < 0)
		on = getenv("GIL_BENCH_INSN_GATE") != NULL;
	if (on)
		syscall(SYS_sched_rr_get_interval, 0, &ts);
}

void wait_sleeping(pid_t tid)
{
	while (!thread_sleeping(tid))
		sleep_ns(10000);
}

pthread_t spawn(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	int ret = pthread_create(&t, NULL, fn, arg);

	if (ret)
		die("pthread_create", ret);
	return t;
}

struct gil_tstate *tstate(struct gil *gil)
{
	struct gil_tstate *ts;

	check("gil_tstate_new", gil_tstate_new(gil, &ts));
	check("gil_tstate_attach", gil_tstate_attach(ts));
	return ts;
}

void tstate_done(struct gil_tstate *ts)
{
	check("gil_tstate_detach", gil_tstate_detach(ts));
	check("gil_tstate_free", gil_tstate_free(ts));
}

/* Where eval loops leave their result, so that the work is done. */
volatile uint64_t sink;

int rounds = 8;
double scale = 1.0;

int per_round(int total)
{
	int n = (int)lround(total * scale / rounds);

	return n < 2 ? 2 : n;
}

struct gil *gil_new(const struct variant *var, double interval)
{
	struct gil *gil;

	check("gil_open", gil_open(&gil, var->b));
	check("gil_set_switch_interval", gil_set_switch_interval(gil, interval));
	if (var->policy >= 0) {
		check("gil_set_policy", gil_set_policy(gil, (unsigned int)var->policy));
		if (gil_get_policy(gil) != var->policy)
			die("gil_get_policy: not the policy just set", EPROTO);
	}
	if (var->options)
		check("gil_set_options", gil_set_options(gil, var->options));
	return gil;
}

void stats(struct gil *gil, struct gil_stats *st)
{
	check("gil_get_stats", gil_get_stats(gil, st));
}

/* The end of a chunk: add its GIL's counters to @s, close the GIL. */
void gil_done(struct gil *gil, struct series *s)
{
	struct gil_stats st;

	stats(gil, &st);
	s->chunks++;
	s->st.acquisitions += st.acquisitions;
	s->st.contended += st.contended;
	s->st.drop_requests += st.drop_requests;
	s->st.forced_switches += st.forced_switches;
	s->st.voluntary_releases += st.voluntary_releases;
	s->st.switch_number += st.switch_number;
	s->st.wait_ns += st.wait_ns;
	s->st.direct_handoffs += st.direct_handoffs;
	s->st.io_preemptions += st.io_preemptions;
	check("gil_close", gil_close(gil));
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "gil-bench: warning: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* ------------------------------------------------ CPU-bound eval loops */

static void *evalloop_thread(void *arg)
{
	struct evalloops *e = arg;
	struct gil_tstate *ts = tstate(e->gil);
	uint64_t x = 7, i = 0;

	check("gil_acquire", gil_acquire(ts));
	publish_add(&e->started);
	for (;;) {
		x = work(x);
		check("gil_check", gil_check(ts));
		if (!(++i & 1023) && __atomic_load_n(&e->stop, __ATOMIC_RELAXED))
			break;
	}
	sink = x;
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

void evalloops_spawn(struct evalloops *e)
{
	for (int i = 0; i < e->n; i++)
		e->t[i] = spawn(evalloop_thread, e);
}

void evalloops_stop(struct evalloops *e)
{
	__atomic_store_n(&e->stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < e->n; i++)
		pthread_join(e->t[i], NULL);
}
