// SPDX-License-Identifier: MIT
/* The test harness: see t.h. */
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "t.h"

/* A case that called SKIP() exits with this; its reason is in t_shared. */
#define T_SKIP_STATUS 77

unsigned int t_timeout_s = 60;

static int t_failures;

/* t_on_fail(), for the process that set it (not its children). */
static void (*t_fail_fn)(void *);
static void *t_fail_arg;
static pid_t t_fail_pid;

/* Shared by the runner and its case processes. */
static struct {
	char skip_reason[256];
} *t_shared;

/* UBSan: make a report fail the case (it only prints by default). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

int64_t t_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * T_NSEC_PER_SEC + ts.tv_nsec;
}

void t_sleep_us(int64_t us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void t_sleep_ms(int64_t ms)
{
	t_sleep_us(ms * 1000);
}

const char *t_errname(long long err)
{
	static const struct {
		int err;
		const char *name;
	} names[] = {
		{ EPERM, "EPERM" }, { ENOENT, "ENOENT" }, { EINTR, "EINTR" },
		{ EBADF, "EBADF" }, { EAGAIN, "EAGAIN" }, { ENOMEM, "ENOMEM" },
		{ EBUSY, "EBUSY" }, { EEXIST, "EEXIST" }, { EINVAL, "EINVAL" },
		{ ERANGE, "ERANGE" }, { EDEADLK, "EDEADLK" },
		{ EUNATCH, "EUNATCH" }, { ETIMEDOUT, "ETIMEDOUT" },
		{ EOWNERDEAD, "EOWNERDEAD" }, { ENOTTY, "ENOTTY" },
	};

	if (err == 0)
		return "0";
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < T_ARRAY_SIZE(names); i++)
		if (names[i].err == err)
			return names[i].name;
	return err < 4096 ? "errno" : "value";
}

static void t_vdiag(const char *prefix, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	printf("# %s%s\n", prefix, msg);
	fflush(stdout);
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
	char where[300];
	va_list ap;

	snprintf(where, sizeof(where), "%s:%d: ", file, line);
	va_start(ap, fmt);
	t_vdiag(where, fmt, ap);
	va_end(ap);
	if (t_fail_fn && t_fail_pid == getpid()) {
		t_fail_fn(t_fail_arg);
		fflush(stdout);
	}
	_exit(1);
}

void t_on_fail(void (*fn)(void *), void *arg)
{
	t_fail_fn = fn;
	t_fail_arg = arg;
	t_fail_pid = getpid();
}

void t_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	t_vdiag("", fmt, ap);
	va_end(ap);
}

void t_skip(const char *reason)
{
	if (t_shared)
		snprintf(t_shared->skip_reason, sizeof(t_shared->skip_reason),
			 "%s", reason);
	fflush(stdout);
	_exit(T_SKIP_STATUS);
}

/* ---- the runner ---------------------------------------------------------- */

static void t_case_main(void (*fn)(void))
{
	/* Its own group, for the watchdog to kill it with what it forked. */
	setpgid(0, 0);
	/* Children print too: nothing may be left in a buffer at a fork. */
	setvbuf(stdout, NULL, _IONBF, 0);
	fn();
	exit(0);
}

/*
 * Wait for the case to end, within the bound: its status, or -1 on a
 * timeout.  It stays a zombie, so that its process group stays ours to
 * kill.
 */
static int t_case_wait(pid_t pid, int64_t deadline)
{
	siginfo_t si;

	for (;;) {
		si.si_pid = 0;
		if (!waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pid)
			return 0;
		if (t_now_ns() > deadline)
			return -1;
		t_sleep_us(1000);
	}
}

int t_run(const char *name, void (*fn)(void))
{
	int status, timed_out, passed;
	int64_t start;
	pid_t pid;

	if (!t_shared) {
		t_shared = t_shared_zalloc(sizeof(*t_shared));
		if (!t_shared) {
			printf("Bail out! mmap: %s\n", strerror(errno));
			exit(2);
		}
	}
	t_shared->skip_reason[0] = 0;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		printf("Bail out! fork: %s\n", strerror(errno));
		exit(2);
	}
	if (pid == 0)
		t_case_main(fn);
	setpgid(pid, pid);	/* whichever of the two runs first */
	start = t_now_ns();
	timed_out = t_case_wait(pid, start + t_timeout_s * T_NSEC_PER_SEC);
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	passed = !timed_out && WIFEXITED(status) &&
		 (!WEXITSTATUS(status) || WEXITSTATUS(status) == T_SKIP_STATUS);
	if (timed_out)
		printf("# timed out after %u s (watchdog)\n", t_timeout_s);
	else if (WIFSIGNALED(status))
		printf("# killed by signal %d (%s)\n", WTERMSIG(status),
		       strsignal(WTERMSIG(status)));
	else if (WEXITSTATUS(status) == T_SKIP_STATUS)
		printf("ok - %s # SKIP %s\n", name, t_shared->skip_reason);
	else if (!WEXITSTATUS(status))
		printf("ok - %s\n", name);
	else if (WEXITSTATUS(status) != 1)	/* 1: a CHECK said why */
		printf("# exit status %d\n", WEXITSTATUS(status));
	if (!passed) {
		printf("not ok - %s\n", name);
		t_failures++;
	}
	if (getenv("GIL_TEST_VERBOSE"))
		printf("#   %.3f s\n", (double)(t_now_ns() - start) / 1e9);
	fflush(stdout);
	return passed;
}

int t_exit_status(void)
{
	return t_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- processes ----------------------------------------------------------- */

void *t_shared_zalloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, 0, size);
	return p;
}

pid_t t_fork(unsigned int timeout_s)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == 0) {
		signal(SIGALRM, SIG_DFL);
		alarm(timeout_s);
	}
	return pid;
}

pid_t t_fork_child(unsigned int timeout_s, void (*fn)(void *), void *arg)
{
	pid_t pid = t_fork(timeout_s);

	CHECK(pid >= 0);
	if (pid == 0) {
		fn(arg);
		fflush(stdout);
		_exit(0);
	}

	return pid;
}

int t_reap_within(pid_t pid, long timeout_ms, long poll_us, int *status)
{
	int64_t deadline = t_now_ns() + timeout_ms * T_NSEC_PER_MSEC;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (t_now_ns() > deadline)
			break;
		t_sleep_us(poll_us);
	}
	errno = ETIMEDOUT;
	return -1;
}

int t_wait_child(pid_t pid, long timeout_ms, int *status)
{
	if (!t_reap_within(pid, timeout_ms, 2000, status))
		return 0;
	if (errno != ETIMEDOUT)
		return -1;
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	errno = ETIMEDOUT;
	return -1;
}

int t_child_ok(pid_t pid, long timeout_ms)
{
	int status = 0;

	if (t_wait_child(pid, timeout_ms, &status)) {
		t_diag("child %d did not end within %ld ms", (int)pid,
		       timeout_ms);
		return 0;
	}
	if (WIFSIGNALED(status)) {
		t_diag("child %d killed by signal %d", (int)pid,
		       WTERMSIG(status));
		return 0;
	}
	if (WEXITSTATUS(status)) {
		t_diag("child %d exited with %d", (int)pid,
		       WEXITSTATUS(status));
		return 0;
	}
	return 1;
}

void t_child_killed(pid_t pid, long timeout_ms, int sig)
{
	int status = 0;

	CHECK(t_wait_child(pid, timeout_ms, &status) == 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
}

void t_sigkill_child(pid_t pid)
{
	CHECK(kill(pid, SIGKILL) == 0);
	t_child_killed(pid, 5000, SIGKILL);
}

pid_t t_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

void t_pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	CHECK(sched_setaffinity(0, sizeof(set), &set) == 0);
}

char t_task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return '?';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] && p[2] ? p[2] : '?';
}

/* ---- threads ------------------------------------------------------------- */

pthread_t t_start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t thread;

	CHECK_OK(-pthread_create(&thread, NULL, fn, arg));
	return thread;
}

void t_join_thread(pthread_t thread)
{
	CHECK_OK(-pthread_join(thread, NULL));
}

static void *t_hog_main(void *arg)
{
	struct sched_param sp;
	struct t_hog *h = arg;
	int64_t start;
	char c;

	t_pin(h->cpu);
	sp.sched_priority = h->prio;
	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		T_FAIL("SCHED_FIFO %d: %s (the tests run as root)", h->prio,
		       strerror(errno));
	/* Asleep until told: spinning, it would be the hog already. */
	CHECK(read(h->go[0], &c, 1) == 1);
	atomic_store(&h->hogging, 1);
	start = t_now_ns();
	while (t_now_ns() - start < h->ms * T_NSEC_PER_MSEC)
		;
	h->end = t_now_ns();
	return NULL;
}

void t_hog_start(struct t_hog *h)
{
	CHECK(pipe(h->go) == 0);
	atomic_store(&h->hogging, 0);
	h->thread = t_start_thread(t_hog_main, h);
}

void t_hog_go(struct t_hog *h)
{
	CHECK(write(h->go[1], "", 1) == 1);
	WAIT_UNTIL(atomic_load(&h->hogging), 5000);
}

void t_hog_join(struct t_hog *h)
{
	t_join_thread(h->thread);
	close(h->go[0]);
	close(h->go[1]);
}

int t_join_within(pthread_t th, long timeout_ms)
{
	struct timespec ts;
	int r;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (timeout_ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	r = pthread_timedjoin_np(th, NULL, &ts);
	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

/* ---- files --------------------------------------------------------------- */

char *t_read_all(int fd)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *p;
	ssize_t n;

	if (!buf)
		return NULL;
	while ((n = read(fd, buf + len, cap - len - 1)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = errno;
			free(buf);
			errno = n;
			return NULL;
		}
		len += n;
		if (cap - len < 1024) {
			p = realloc(buf, cap * 2);
			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	buf[len] = 0;
	return buf;
}

char *t_read_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;
	char *text;

	if (fd < 0)
		return NULL;
	text = t_read_all(fd);
	err = errno;
	close(fd);
	errno = err;
	return text;
}

int t_write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		ret = -1;
	close(fd);
	return ret;
}

int t_fail_nth_setup(void)
{
	static const char *const knobs[][2] = {
		{ "/sys/kernel/debug/failslab/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/failslab/verbose", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/ignore-gfp-wait", "N" },
		{ "/sys/kernel/debug/fail_page_alloc/min-order", "0" },
		{ "/sys/kernel/debug/fail_page_alloc/verbose", "0" },
	};

	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (t_write_text(knobs[i][0], knobs[i][1]))
			return -1;
	return 0;
}

int t_fail_nth_open(void)
{
	return open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
}

void t_fail_nth_arm(int fd, unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	if (pwrite(fd, buf, len, 0) != len)
		t_fail(__FILE__, __LINE__, "arm fail-nth: %s", strerror(errno));
}

int t_fail_nth_fired(int fd)
{
	char buf[16] = "";

	if (pread(fd, buf, sizeof(buf) - 1, 0) <= 0)
		t_fail(__FILE__, __LINE__, "read fail-nth: %s", strerror(errno));
	if (atoi(buf) == 0)
		return 1;
	t_fail_nth_arm(fd, 0);
	return 0;
}

#define FAILSLAB	"/sys/kernel/debug/failslab/"
#define FAIL_PAGE	"/sys/kernel/debug/fail_page_alloc/"
#define FAIL_TIMES	1000000000L	/* counted down by each failure */

/* failslab's and fail_page_alloc's knob @name: @slab, @page. */
static void fail_knobs(const char *name, long slab, long page)
{
	char path[128], val[24];

	snprintf(path, sizeof(path), FAILSLAB "%s", name);
	snprintf(val, sizeof(val), "%ld", slab);
	if (t_write_text(path, val))
		t_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), FAIL_PAGE "%s", name);
	snprintf(val, sizeof(val), "%ld", page);
	if (t_write_text(path, val))
		t_fail(__FILE__, __LINE__, "%s: %s", path, strerror(errno));
}

static long fail_knob(const char *path)
{
	char *text = t_read_file(path);
	long v = text ? atol(text) : -1;

	free(text);
	return v;
}

/* The thread's make-it-fail: written while armed, so opened before. */
static void make_it_fail(struct t_fail_from *ff, int on)
{
	if (write(ff->make_it_fail, on ? "1" : "0", 1) != 1)
		t_fail(__FILE__, __LINE__, "make-it-fail: %s", strerror(errno));
}

int t_fail_from_open(struct t_fail_from *ff)
{
	if (t_fail_nth_setup())
		return -1;
	ff->make_it_fail = open("/proc/thread-self/make-it-fail",
				O_WRONLY | O_CLOEXEC);
	if (ff->make_it_fail < 0)
		return -1;
	fail_knobs("task-filter", 1, 1);
	fail_knobs("probability", 100, 100);
	return 0;
}

void t_fail_from_arm(struct t_fail_from *ff, long slab, long page)
{
	fail_knobs("times", FAIL_TIMES, FAIL_TIMES);
	fail_knobs("space", slab, page);
	make_it_fail(ff, 1);
}

int t_fail_from_fired(struct t_fail_from *ff)
{
	make_it_fail(ff, 0);
	return fail_knob(FAILSLAB "times") != FAIL_TIMES ||
	       fail_knob(FAIL_PAGE "times") != FAIL_TIMES;
}

void t_fail_from_close(struct t_fail_from *ff)
{
	fail_knobs("probability", 0, 0);
	fail_knobs("task-filter", 0, 0);
	fail_knobs("times", 1, 1);
	fail_knobs("space", 0, 0);
	close(ff->make_it_fail);
}
