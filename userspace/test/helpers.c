// SPDX-License-Identifier: MIT
/* Test helpers for libgil: see helpers.h. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

const char *test_backend = "?";

/* UBSan: make a report fail the case (it only prints by default). */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void sleep_us_(int64_t us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void sleep_ms(int64_t ms)
{
	sleep_us_(ms * 1000);
}

const char *test_errname(long long err)
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
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].err == err)
			return names[i].name;
	return err < 4096 ? "errno" : "value";
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s:%d: %s\n", file, line, msg);
	fflush(stdout);
	_exit(1);
}

void test_diag(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s\n", msg);
	fflush(stdout);
}

struct gil *open_gil(void)
{
	struct gil *gil = NULL;

	CHECK_OK(gil_open(&gil, GIL_BACKEND_DEFAULT));
	return gil;
}

struct gil_tstate *new_tstate(struct gil *gil)
{
	struct gil_tstate *ts = NULL;

	CHECK_OK(gil_tstate_new(gil, &ts));
	CHECK_OK(gil_tstate_attach(ts));
	return ts;
}

void free_tstate(struct gil_tstate *ts)
{
	int ret = gil_tstate_detach(ts);

	if (ret != -EBADF)
		CHECK_OK(ret);
	CHECK_OK(gil_tstate_free(ts));
}

void set_interval(struct gil *gil, double seconds)
{
	CHECK_OK(gil_set_switch_interval(gil, seconds));
}

void get_stats(struct gil *gil, struct gil_stats *stats)
{
	CHECK_OK(gil_get_stats(gil, stats));
}

uint64_t hist_sum(const struct gil_stats *stats)
{
	uint64_t sum = 0;

	for (int i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		sum += stats->handoff_ns_hist[i];
	return sum;
}

pthread_t start_thread(void *(*fn)(void *), void *arg)
{
	pthread_t thread;

	CHECK_OK(-pthread_create(&thread, NULL, fn, arg));
	return thread;
}

void join_thread(pthread_t thread)
{
	CHECK_OK(-pthread_join(thread, NULL));
}

/* The runner. */

static int case_timeout_s(void)
{
	const char *env = getenv("GIL_TEST_TIMEOUT");
	int t = env ? atoi(env) : 0;

	return t > 0 ? t : 10;
}

static void run_child(const struct test_case *tc, int timeout)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	alarm((unsigned int)timeout);	/* SIGALRM's default action ends us */
	tc->run();
	exit(0);
}

/* Wait for the child; kill it if even the alarm did not end it. */
static int wait_child(pid_t pid, int timeout)
{
	int64_t deadline = now_ns() + (int64_t)(timeout + 5) * NSEC_PER_SEC;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR) {
			perror("waitpid");
			return -1;
		}
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return status;
		}
		sleep_us_(1000);
	}
}

int test_main(int argc, char **argv, const struct test_case *cases,
	      size_t nr_cases)
{
	const char *filter = argc > 1 ? argv[1] : NULL;
	const char *env = getenv("GIL_BACKEND");
	int timeout = case_timeout_s();
	size_t planned = 0, passed = 0;
	struct gil *gil;
	int ret;

	ret = gil_backend_from_name(env ? env : "kernel");
	if (ret < 0) {
		printf("Bail out! unknown GIL_BACKEND \"%s\"\n", env);
		return 2;
	}
	test_backend = gil_backend_name((enum gil_backend)ret);
	ret = gil_open(&gil, GIL_BACKEND_DEFAULT);
	if (ret) {
		printf("Bail out! %s: gil_open: %s\n", test_backend,
		       strerror(-ret));
		return 2;
	}
	gil_close(gil);

	for (size_t i = 0; i < nr_cases; i++)
		if (!filter || strstr(cases[i].name, filter))
			planned++;
	printf("1..%zu\n", planned);

	for (size_t i = 0; i < nr_cases; i++) {
		const struct test_case *tc = &cases[i];
		int64_t start = now_ns();
		int status;
		pid_t pid;

		if (filter && !strstr(tc->name, filter))
			continue;
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 2;
		}
		if (pid == 0)
			run_child(tc, timeout);
		status = wait_child(pid, timeout);
		if (status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status)) {
			printf("ok - %s: %s\n", test_backend, tc->name);
			passed++;
		} else {
			if (status >= 0 && WIFSIGNALED(status) &&
			    WTERMSIG(status) == SIGALRM)
				printf("# timed out after %d s\n", timeout);
			else if (status >= 0 && WIFSIGNALED(status))
				printf("# killed by signal %d (%s)\n",
				       WTERMSIG(status),
				       strsignal(WTERMSIG(status)));
			else if (status >= 0 && WEXITSTATUS(status) != 1)
				printf("# exit status %d\n",
				       WEXITSTATUS(status));
			printf("not ok - %s: %s\n", test_backend, tc->name);
		}
		if (getenv("GIL_TEST_VERBOSE"))
			printf("#   %.3f s\n",
			       (double)(now_ns() - start) / NSEC_PER_SEC);
	}
	printf("# %s: %zu of %zu passed\n", test_backend, passed, planned);
	return passed == planned ? 0 : 1;
}
