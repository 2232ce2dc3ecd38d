// SPDX-License-Identifier: GPL-2.0
/*
 * gilstat (userspace/tools/gilstat.c), run on two GILs of this process: a
 * held one with a waiter and a busy one, each sampled twice.  Every line
 * must show the right GIL, opener, holder, waiters, threads and name, and
 * acquisitions on the busy GIL only.  And run by an unprivileged user, it
 * shows that user's GILs, from fdinfo, without root.  Runs the gilstat in
 * $PATH (the guest's /bin).
 */
#include "harness.h"

/* One line of gilstat -p, split into its columns. */
struct row {
	double time;
	long long gil, pid;
	double acq, sw, drop, force;
	char wait[16], p50[16], p99[16];
	long long holder, waiters, threads;
	char policy[16], comm[32];
};

static int parse_row(const char *line, struct row *r)
{
	return sscanf(line,
		      "%lf %lld %lld %lf %lf %lf %lf %15s %15s %15s %lld %lld %lld %15s %31s",
		      &r->time, &r->gil, &r->pid, &r->acq, &r->sw, &r->drop,
		      &r->force, r->wait, r->p50, r->p99, &r->holder,
		      &r->waiters, &r->threads, r->policy,
		      r->comm) == 15 ? 0 : -1;
}

/* gilstat -p -n 2 -i 0.3 on GILs @a and @b; its stdout in *out. */
static pid_t start_gilstat(long long a, long long b, int *out, uid_t uid)
{
	char ida[24], idb[24];
	int pfd[2];
	pid_t pid;

	snprintf(ida, sizeof(ida), "%lld", a);
	snprintf(idb, sizeof(idb), "%lld", b);
	if (pipe(pfd))
		return -1;
	pid = test_fork(30);
	if (pid == 0) {
		if (uid && setuid(uid))
			_exit(126);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execlp("gilstat", "gilstat", "-p", "-n", "2", "-i", "0.3", ida,
		       idb, (char *)NULL);
		fprintf(stderr, "    exec gilstat: %s\n", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	*out = pfd[0];
	return pid;
}

static int check_rows(char *text, long long held, long long busy,
		      const char *comm)
{
	int n_held = 0, n_busy = 0;
	char *line, *p;
	struct row r;

	line = strchr(text, '\n');	/* past the header */
	CHECK(line && !strncmp(text, "   TIME", 7));
	for (line++; *line; line = p) {
		p = strchr(line, '\n');
		CHECK(p);
		*p++ = 0;
		CHECK(parse_row(line, &r) == 0);
		CHECK_CMP(r.pid, ==, getpid());
		CHECK(!strcmp(r.comm, comm));
		if (r.gil == held) {
			n_held++;
			CHECK(!strcmp(r.policy, "io"));
			CHECK_CMP(r.holder, ==, gettid_());
			CHECK_CMP(r.waiters, ==, 1);
			CHECK_CMP(r.threads, ==, 2);
			CHECK(r.acq == 0 && r.sw == 0 && r.drop == 0);
			CHECK(!strcmp(r.wait, "-") && !strcmp(r.p50, "-"));
		} else {
			CHECK_CMP(r.gil, ==, busy);
			CHECK(!strcmp(r.policy, "fifo"));
			n_busy++;
			CHECK_CMP(r.waiters, ==, 0);
			CHECK_CMP(r.threads, ==, 1);
			CHECK(r.acq > 0);
			/* The same thread again and again: no change of owner. */
			CHECK(r.sw == 0 && r.force == 0);
		}
	}
	CHECK_CMP(n_held, ==, 2);
	CHECK_CMP(n_busy, ==, 2);
	return 0;
}

/* Run gilstat on a held GIL (a waiter behind it) and a busy one. */
static int gilstat_run(uid_t uid, const char *comm)
{
	const struct gil_page *pg;
	long long held, busy;
	struct waiter w;
	int fd, fd2, out, status = 0;
	char *text, *line, *p;
	pid_t pid;

	CHECK(open_mapped(&fd, &pg) == 0);
	fd2 = open_gil();
	CHECK(fd2 >= 0);
	held = gil_id(fd);
	busy = gil_id(fd2);
	CHECK(held > 0 && busy > held);
	CHECK(gil_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &(__u32){ GIL_POLICY_IO }) == 0);
	CHECK(ioctl(fd2, GIL_IOC_SET_POLICY, &(__u32){ GIL_POLICY_FIFO }) == 0);
	CHECK(attach_acquire(fd) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 0) == 0);
	CHECK(ioctl(fd2, GIL_IOC_ATTACH) == 0);

	pid = start_gilstat(held, busy, &out, uid);
	CHECK(pid > 0);
	/* Keep the busy GIL busy until gilstat is done. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		CHECK(ioctl(fd2, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd2, GIL_IOC_RELEASE) == 0);
		sleep_us(500);
	}
	text = read_all(out);
	close(out);
	CHECK(text);
	for (line = text; *line; line = p) {
		p = strchrnul(line, '\n');
		printf("    %.*s\n", (int)(p - line), line);
		if (*p)
			p++;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(check_rows(text, held, busy, comm) == 0);
	free(text);

	CHECK(release_to_waiter(fd, &w) == 0);
	CHECK(detach_close_gil(fd2, NULL) == 0);
	return detach_close_gil(fd, pg);
}

static int gilstat_shows_open_gils(void)
{
	return gilstat_run(0, "test-gilstat");
}

/*
 * A user who is not root sees the GILs of their own processes: fdinfo
 * needs no privilege.  Both this process and gilstat run as nobody.
 */
static int gilstat_needs_no_root(void)
{
	pid_t pid = test_fork(60);

	CHECK(pid >= 0);
	if (pid == 0) {
		/* Dumpable again after setuid, as a process started as nobody is. */
		if (prctl(PR_SET_NAME, "gilstat-nobody") || setgid(65534) ||
		    setuid(65534) || prctl(PR_SET_DUMPABLE, 1))
			_exit(2);
		_exit(gilstat_run(65534, "gilstat-nobody") ? 3 : 0);
	}
	CHECK(child_ok(pid, 60000));
	return 0;
}

int main(void)
{
	RUN(gilstat_shows_open_gils);
	RUN(gilstat_needs_no_root);
	return harness_exit();
}
