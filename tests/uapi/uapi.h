/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the tests of /dev/gil (tests/uapi/, tests/stress/), on the
 * harness of tests/harness/t.h: where a task sleeps, the mapped page, the
 * usual start and end of a test (t_open_mapped, t_attach_acquire,
 * t_close_gil, t_detach_close_gil), a "waiter" thread that attaches,
 * acquires and records what it saw, an "agent" thread driven call by call,
 * the bookkeeping of threads or processes that contend for one GIL, and
 * the reading of fdinfo.
 *
 * Helpers that return nothing CHECK, and so end the case (or the child)
 * on failure.  Those that return 0 or -1 (errno set) report instead, for
 * threads and children that report by their result.
 */
#ifndef KGIL_TEST_UAPI_H
#define KGIL_TEST_UAPI_H

/* What the tests of /dev/gil use, so that each need not list it again. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/gil.h>

#include "../harness/t.h"

/* Whether a task sleeps (state S or D) inside ioctl(fd, @cmd). */
int t_task_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd);
/* Wait until a task sleeps in ioctl(..., cmd): e.g. waits for the GIL. */
int t_wait_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd, long timeout_ms);

/* ---- /dev/gil ------------------------------------------------------------ */

long t_page_size(void);

/* The GIL's shared page, or NULL. */
const struct gil_page *t_map_page(int fd);
void t_unmap_page(const struct gil_page *pg);

#define T_PAGE_LOAD(field) __atomic_load_n(&(field), __ATOMIC_RELAXED)

int t_drop_requested(const struct gil_page *pg);

/*
 * Poll the eval breaker, as a holder does at its safe points, until the drop
 * request shows; returns 0, or -1 after timeout_ms.
 */
int t_wait_drop_request(const struct gil_page *pg, long timeout_ms);

/*
 * GET_STATS through @cmd (GIL_IOC_GET_STATS, or an encoding of the same
 * number with another size) into the @len bytes at @buf, filled with @fill
 * first and with its size field set to @size.
 */
int t_gil_stats_raw(int fd, unsigned long cmd, void *buf, size_t len,
		    int fill, __u32 size);
int t_gil_stats(int fd, struct gil_stats *st);

/* GET_STATS into *st; switch_number there and in the page is @want. */
void t_expect_switch(int fd, const struct gil_page *pg, struct gil_stats *st,
		     __u64 want);

__u64 t_hist_sum(const struct gil_stats *st);
int t_set_interval(int fd, __s64 us);
__s64 t_get_interval(int fd);

/* An address of a page the caller cannot access (PROT_NONE). */
void *t_inaccessible_page(void);
/* An address where nothing is mapped (mapped, then unmapped). */
void *t_unmapped_page(void);

/* Whether ioctl(fd, cmd) fails with exactly errno @err. */
int t_ioctl_fails(int fd, unsigned long cmd, int err);

/*
 * A GET/SET pair of __u32 ioctls (the policy, the options) on @fd: EFAULT
 * for a pointer to nothing, to a page that is gone, and, for GET, to the
 * GIL's own read-only page @pg.
 */
void t_u32_ioctls_refuse_bad_pointers(int fd, const struct gil_page *pg,
				      unsigned long get, unsigned long set);

/* ---- the start and end of a test ----------------------------------------- */

/*
 * A GIL, its page and a pipe for a word from one process to the other:
 * what a child (t_fork_child) is given to use.
 */
struct t_gil {
	int fd;
	const struct gil_page *pg;
	int pipe[2];
};

/* open("/dev/gil"): a new GIL. */

int t_open_dev(void);
/* Open a GIL and map its page. */
void t_open_mapped(int *fd, const struct gil_page **pg);
/* Attach the calling thread and take the GIL. */
void t_attach_acquire(int fd);
/* Unmap the page (if mapped) and close the GIL. */
void t_close_gil(int fd, const struct gil_page *pg);
/* Detach the calling thread, then t_close_gil(). */
void t_detach_close_gil(int fd, const struct gil_page *pg);
/* Open @n GILs into fds[]; close them. */
void t_open_gils(int *fds, int n);
void t_close_gils(const int *fds, int n);

/*
 * A child process attaches to @fd's GIL, takes it and exits holding it:
 * the GIL's next ACQUIRE reports EOWNERDEAD.  The child's pid.
 */
pid_t t_child_dies_holding(int fd);

/* ---- a waiter thread ----------------------------------------------------- */

enum {
	T_W_INIT,	/* created */
	T_W_ATTACHED,	/* attached (or attach failed and it ended) */
	T_W_ACQUIRING,	/* about to call ACQUIRE */
	T_W_HOLDING,	/* ACQUIRE returned (see acq_ret/acq_errno) */
	T_W_DONE,	/* released (if it held) and ended */
};

/*
 * A thread that attaches to @fd, calls ACQUIRE once, records the result
 * and the page as it saw it on return, then releases at once or, with
 * @hold, when the test sets @release_now.  Fill the inputs, zero the rest
 * (t_waiter_init), then t_waiter_start().
 */
struct t_waiter {
	/* in */
	int fd;
	const struct gil_page *page;
	int hold;		/* keep the GIL until release_now */
	int no_detach;		/* do not detach at the end */
	/* control */
	atomic_int release_now;
	/* out */
	atomic_int state;
	pid_t tid;
	int attach_ret, attach_errno;
	int acq_ret, acq_errno;
	int rel_ret, rel_errno;
	int64_t t_before_acquire, t_after_acquire;
	__u64 sn_after_acquire;
	__u32 eb_after_acquire, locked_after_acquire;
	pthread_t th;
};

void t_waiter_init(struct t_waiter *w, int fd, const struct gil_page *pg,
		   int hold);
int t_waiter_start(struct t_waiter *w);
/* Wait until the waiter reached @state (or a later one). */
int t_waiter_reach(struct t_waiter *w, int state, long timeout_ms);
/* Wait until the waiter sleeps inside ACQUIRE. */
int t_waiter_blocked(struct t_waiter *w, long timeout_ms);
/* Start a waiter (as t_waiter_init) and wait until it sleeps in ACQUIRE. */
void t_waiter_start_blocked(struct t_waiter *w, int fd,
			    const struct gil_page *pg, int hold);
/* Start a waiter and poll the page until its drop request shows. */
void t_waiter_start_requesting(struct t_waiter *w, int fd,
			       const struct gil_page *pg, int hold);
/*
 * Release the GIL to a waiter that does not hold on to it, and join the
 * waiter: its ACQUIRE succeeded.
 */
void t_release_to_waiter(int fd, struct t_waiter *w);
/* Let a waiter that holds on to the GIL release it, and join it. */
void t_waiter_let_go(struct t_waiter *w);

/* ---- an agent thread ----------------------------------------------------- */

/*
 * A thread that runs argument-less /dev/gil ioctls on request, so that a
 * test can drive a second attached thread step by step.  T_AGENT_EXIT
 * ends the thread wherever it stands (holding the GIL or not).
 */
#define T_AGENT_EXIT 1ul

struct t_agent {
	int fd;
	unsigned long req;
	atomic_int posted, done;
	int ret, err;
	pid_t tid;
	pthread_t th;
};

int t_agent_start(struct t_agent *a, int fd);
/* Ask the agent to run ioctl(fd, req) and return at once. */
void t_agent_post(struct t_agent *a, unsigned long req);
/* Wait for the posted call; its result, errno set (ETIMEDOUT: no result). */
int t_agent_result(struct t_agent *a, long timeout_ms);
int t_agent_finished(struct t_agent *a);
/* Run one call in the agent and wait for it (5 s at most). */
int t_agent_call(struct t_agent *a, unsigned long req);
/* End the agent thread (without touching the GIL) and join it. */
int t_agent_stop(struct t_agent *a);
/* Start an agent and have it attach and take the GIL. */
void t_agent_start_holding(struct t_agent *a, int fd);

/* ---- many holders -------------------------------------------------------- */

/*
 * For the tests where threads or processes contend for one GIL: a start
 * line, so that they all begin together, and the log its holders keep.
 */
struct t_start_line {
	atomic_int ready, go;
};

/* A runner: report ready, then wait for the start. */
void t_start_line_wait(struct t_start_line *s);
/* Wait until @n runners are ready, then start them. */
void t_start_line_go(struct t_start_line *s, int n);

/*
 * Kept by the holders under the GIL (zero it, last = -1): t_holder_enter()
 * right after taking it, t_holder_leave() right before giving it up.  Were
 * two inside at once, overlaps counts it.
 */
struct t_holder_log {
	atomic_int inside;
	atomic_long overlaps;
	int last;		/* id of the last holder */
	long changes;		/* of the holder's id */
	long acquisitions;
};

void t_holder_enter(struct t_holder_log *l, int id);
void t_holder_leave(struct t_holder_log *l);

/* ---- fdinfo -------------------------------------------------------------- */

/* /proc/<pid>/fdinfo/<fd>, from malloc(); NULL on error, errno set. */
char *t_fdinfo_text(pid_t pid, int fd);
/*
 * The value of @key in "key:\tvalue" lines (a GIL's fdinfo): 0 and *v set,
 * or -1 when the key is missing.
 */
int t_kv_get(const char *text, const char *key, long long *v);
/* A value of the fdinfo of our descriptor @fd, or -1. */
long long t_fdinfo_value(int fd, const char *key);
/* The id of the GIL behind @fd, as its trace events name it; or -1. */
long long t_gil_id(int fd);

#endif /* KGIL_TEST_UAPI_H */
