/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP harness for the userspace tests that run in the guest.
 * Each test prints "ok - name" or "not ok - name"; CHECK() failures print
 * the failing expression, errno and location first.
 */
#ifndef GIL_TEST_HARNESS_H
#define GIL_TEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int harness_failures;

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond)) {                                             \
			printf("    %s:%d: check failed: %s (errno %d: %s)\n", \
			       __FILE__, __LINE__, #cond, errno,           \
			       strerror(errno));                           \
			return -1;                                         \
		}                                                          \
	} while (0)

/* An ioctl or syscall that must fail with exactly this errno. */
#define CHECK_ERR(call, err)                                               \
	do {                                                               \
		errno = 0;                                                 \
		CHECK((call) == -1 && errno == (err));                     \
	} while (0)

static inline void run_case(const char *name, int (*fn)(void))
{
	int rc;

	fflush(stdout);
	rc = fn();
	printf("%s - %s\n", rc == 0 ? "ok" : "not ok", name);
	fflush(stdout);
	if (rc)
		harness_failures++;
}

#define RUN(fn) run_case(#fn, fn)

static inline int harness_exit(void)
{
	return harness_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}

static inline int open_gil(void)
{
	return open("/dev/gil", O_RDWR | O_CLOEXEC);
}

#endif
