// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/<pid>/fdinfo/<fd> of a GIL: its id, opener, live state and
 * counters (equal to GIL_IOC_GET_STATS), shared by every descriptor of the
 * GIL, readable by the descriptor's owner without root and by no other
 * user, and safe to read while the GIL is closed under the reader.
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "uapi.h"

/* @key in @text must be @want. */
static void expect_kv(const char *text, const char *key, long long want)
{
	long long v;

	if (t_kv_get(text, key, &v))
		T_FAIL("no '%s' line in:\n%s", key, text);
	if (v != want)
		T_FAIL("%s is %lld, expected %lld", key, v, want);
}

/* A new GIL: its id, its opener, nothing held, nothing counted. */
static void fdinfo_of_a_new_gil(void)
{
	long long id, id2;
	char *text;
	int fd, fd2;

	fd = t_open_dev();
	fd2 = t_open_dev();
	CHECK(fd >= 0 && fd2 >= 0);
	id = t_gil_id(fd);
	id2 = t_gil_id(fd2);
	CHECK(id > 0);
	CHECK_CMP(id2, >, id);
	text = t_fdinfo_text(getpid(), fd);
	CHECK(text);
	/* The lines every file has come first. */
	CHECK(!strncmp(text, "pos:", 4));
	expect_kv(text, "opener_pid", getpid());
	CHECK(strstr(text, "\nopener_comm:\ttest-fdinfo\n"));
	expect_kv(text, "locked", 0);
	expect_kv(text, "holder", 0);
	expect_kv(text, "nr_waiters", 0);
	expect_kv(text, "threads", 0);
	expect_kv(text, "interval_us", t_get_interval(fd));
	CHECK(strstr(text, "\npolicy:\t"));
	expect_kv(text, "acquisitions", 0);
	expect_kv(text, "switch_number", 0);
	/* No handoff yet: no histogram line. */
	CHECK(!strstr(text, "handoff_ns_hist_"));
	free(text);
	CHECK(close(fd2) == 0);
	CHECK(close(fd) == 0);
}

/* Holder, waiters and threads while a waiter sleeps in ACQUIRE. */
static void fdinfo_live_state(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	char *text;
	int fd;

	t_open_mapped(&fd, &pg);
	CHECK(t_set_interval(fd, 10000000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);

	text = t_fdinfo_text(getpid(), fd);
	CHECK(text);
	expect_kv(text, "locked", 1);
	expect_kv(text, "holder", t_gettid());
	expect_kv(text, "nr_waiters", 1);
	expect_kv(text, "threads", 2);
	expect_kv(text, "interval_us", 10000000);
	free(text);

	t_release_to_waiter(fd, &w);
	text = t_fdinfo_text(getpid(), fd);
	CHECK(text);
	expect_kv(text, "locked", 0);
	expect_kv(text, "holder", 0);
	expect_kv(text, "nr_waiters", 0);
	/* The waiter detached. */
	expect_kv(text, "threads", 1);
	free(text);
	t_detach_close_gil(fd, pg);
}

/* The counters and histogram, against GET_STATS. */
static void expect_stats(const char *text, const struct gil_stats *st)
{
	char key[32];
	long long v;
	int i;

	expect_kv(text, "acquisitions", st->acquisitions);
	expect_kv(text, "contended", st->contended);
	expect_kv(text, "drop_requests", st->drop_requests);
	expect_kv(text, "forced_switches", st->forced_switches);
	expect_kv(text, "voluntary_releases",
			st->voluntary_releases);
	expect_kv(text, "switch_number", st->switch_number);
	expect_kv(text, "owner_deaths", st->owner_deaths);
	expect_kv(text, "wait_ns", st->wait_ns);
	expect_kv(text, "direct_handoffs", st->direct_handoffs);
	expect_kv(text, "io_preemptions", st->io_preemptions);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++) {
		snprintf(key, sizeof(key), "handoff_ns_hist_%d", i);
		if (st->handoff_ns_hist[i])
			expect_kv(text, key, st->handoff_ns_hist[i]);
		else
			CHECK(t_kv_get(text, key, &v) == -1);
	}
}

/*
 * Some of everything: uncontended takes, a handoff on a voluntary release,
 * a forced switch, an owner death; then fdinfo equals GET_STATS, through
 * every descriptor of the GIL, a forked child's among them.
 */
static void fdinfo_counters_equal_get_stats(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct t_waiter w;
	char *text;
	int fd, dupfd, i;
	pid_t child;

	t_open_mapped(&fd, &pg);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < 5; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	}

	/* A voluntary handoff. */
	CHECK(t_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_blocked(&w, fd, pg, 0);
	t_release_to_waiter(fd, &w);

	/* A forced switch. */
	CHECK(t_set_interval(fd, 2000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_requesting(&w, fd, pg, 0);
	t_release_to_waiter(fd, &w);

	/* A child that dies holding it; we recover it. */
	CHECK(t_child_dies_holding(fd) > 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);

	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.owner_deaths, ==, 1);
	CHECK_CMP(st.forced_switches, ==, 1);
	CHECK_CMP(t_hist_sum(&st), >=, 2);
	text = t_fdinfo_text(getpid(), fd);
	CHECK(text);
	expect_stats(text, &st);
	free(text);

	dupfd = dup(fd);
	CHECK(dupfd >= 0);
	text = t_fdinfo_text(getpid(), dupfd);
	CHECK(text);
	expect_stats(text, &st);
	free(text);
	/* A child's descriptor, read by us: the same GIL. */
	child = t_fork(10);
	CHECK(child >= 0);
	if (child == 0) {
		pause();
		_exit(0);
	}
	text = t_fdinfo_text(child, fd);
	t_sigkill_child(child);
	CHECK(text);
	expect_kv(text, "id", t_gil_id(fd));
	expect_stats(text, &st);
	free(text);
	CHECK(close(dupfd) == 0);
	t_detach_close_gil(fd, pg);
}

/*
 * Its owner reads it without root; another user cannot.  A child of
 * nobody opens a GIL and reads its fdinfo; a child of another uid may not.
 */
static void fdinfo_is_the_owners(void)
{
	int *shared = t_shared_zalloc(3 * sizeof(int));
	pid_t owner, other;
	char *text;
	int fd;

	CHECK(shared);
	owner = t_fork(20);
	CHECK(owner >= 0);
	if (owner == 0) {
		if (setgid(65534) || setuid(65534) ||
		    prctl(PR_SET_DUMPABLE, 1))
			_exit(2);
		fd = t_open_dev();
		if (fd < 0)
			_exit(3);
		text = t_fdinfo_text(getpid(), fd);
		shared[1] = text && strstr(text, "\nid:\t");
		free(text);
		shared[0] = fd;
		__atomic_store_n(&shared[2], 1, __ATOMIC_RELEASE);
		pause();
		_exit(0);
	}
	while (!__atomic_load_n(&shared[2], __ATOMIC_ACQUIRE))
		t_sleep_ms(1);
	other = t_fork(20);
	CHECK(other >= 0);
	if (other == 0) {
		if (setgid(65533) || setuid(65533))
			_exit(2);
		errno = 0;
		text = t_fdinfo_text(owner, shared[0]);
		_exit(!text && (errno == EACCES || errno == EPERM) ? 0 : 4);
	}
	CHECK(t_child_ok(other, 20000));
	t_sigkill_child(owner);
	CHECK(shared[1]);
	munmap(shared, 3 * sizeof(int));
}

/*
 * Pids are the reader's: a process that is pid 1 in a pid namespace of its
 * own holds a GIL; its own procfs shows it as 1, ours as its real pid.
 */
static void fdinfo_pids_in_the_readers_namespace(void)
{
	struct ns_result {
		int fd;
		pid_t pid;	/* the holder, in our namespace */
		long long own_holder, own_opener;
		int ready;
	} *r = t_shared_zalloc(sizeof(*r));
	long long holder, opener;
	pid_t child, gchild;
	int status;
	char *text;

	CHECK(r);
	child = t_fork(20);
	CHECK(child >= 0);
	if (child == 0) {
		if (unshare(CLONE_NEWPID))
			_exit(2);
		gchild = fork();
		if (gchild < 0)
			_exit(3);
		if (gchild) {
			int status;

			/* As our namespace numbers it. */
			__atomic_store_n(&r->pid, gchild, __ATOMIC_RELEASE);
			waitpid(gchild, &status, 0);
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 4);
		}
		/* pid 1 of the new namespace, with a procfs of its own. */
		if (unshare(CLONE_NEWNS) ||
		    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    (mkdir("/gil-proc", 0755) && errno != EEXIST) ||
		    mount("proc", "/gil-proc", "proc", 0, NULL))
			_exit(5);
		r->fd = t_open_dev();
		if (r->fd < 0)
			_exit(6);
		t_attach_acquire(r->fd);

		r->own_holder = r->own_opener = -2;
		{
			char path[64], *t;

			snprintf(path, sizeof(path), "/gil-proc/self/fdinfo/%d",
				 r->fd);
			t = t_read_file(path);
			if (!t || t_kv_get(t, "holder", &r->own_holder) ||
			    t_kv_get(t, "opener_pid", &r->own_opener))
				_exit(7);
			free(t);
		}
		__atomic_store_n(&r->ready, 1, __ATOMIC_RELEASE);
		pause();
		_exit(0);
	}
	while (!__atomic_load_n(&r->ready, __ATOMIC_ACQUIRE) ||
	       !__atomic_load_n(&r->pid, __ATOMIC_ACQUIRE)) {
		if (waitpid(child, NULL, WNOHANG) == child)
			CHECK(!"the child in its own pid namespace failed");
		t_sleep_ms(1);
	}
	gchild = r->pid;
	CHECK(gchild > 0);
	text = t_fdinfo_text(gchild, r->fd);
	CHECK(text);
	CHECK(!t_kv_get(text, "holder", &holder));
	CHECK(!t_kv_get(text, "opener_pid", &opener));
	free(text);
	kill(gchild, SIGKILL);
	CHECK(t_wait_child(child, 10000, &status) == 0);
	printf("    holder and opener: %lld and %lld in its namespace, "
	       "%lld and %lld in ours (pid %d)\n", r->own_holder,
	       r->own_opener, holder, opener, (int)gchild);
	CHECK_CMP(r->own_holder, ==, 1);
	CHECK_CMP(r->own_opener, ==, 1);
	CHECK_CMP(holder, ==, gchild);
	CHECK_CMP(opener, ==, gchild);
	munmap(r, sizeof(*r));
}

struct reader {
	int fd;
	atomic_int stop;
	atomic_long reads, gone;
};

/* Read a descriptor's fdinfo over and over, as gilstat does. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	char *text;

	while (!atomic_load(&r->stop)) {
		text = t_fdinfo_text(getpid(), r->fd);
		if (text && strstr(text, "\nid:\t"))
			atomic_fetch_add(&r->reads, 1);
		else
			atomic_fetch_add(&r->gone, 1);
		free(text);
	}
	return NULL;
}

/*
 * GILs used and replaced at one number (each replacement closes the last
 * descriptor of a GIL) while two threads read its fdinfo.
 */
static void fdinfo_reads_race_closes(void)
{
	struct reader r = { .fd = -1 };
	pthread_t th[2];
	int i, fd, nfd;

	fd = t_open_dev();
	CHECK(fd >= 0);
	r.fd = fd;
	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, reader_main, &r) == 0);
	for (i = 0; i < 300; i++) {
		t_attach_acquire(fd);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		nfd = t_open_dev();
		CHECK(nfd >= 0);
		CHECK(dup2(nfd, fd) == fd);
		CHECK(close(nfd) == 0);
	}
	atomic_store(&r.stop, 1);
	for (i = 0; i < 2; i++)
		CHECK(t_join_within(th[i], 10000) == 0);
	printf("    %ld reads, %ld of a descriptor closed meanwhile\n",
	       atomic_load(&r.reads), atomic_load(&r.gone));
	CHECK_CMP(atomic_load(&r.reads), >, 0);
	CHECK(close(fd) == 0);
}

int main(void)
{
	T_RUN(fdinfo_of_a_new_gil);
	T_RUN(fdinfo_live_state);
	T_RUN(fdinfo_counters_equal_get_stats);
	T_RUN(fdinfo_is_the_owners);
	T_RUN(fdinfo_pids_in_the_readers_namespace);
	T_RUN(fdinfo_reads_race_closes);
	return t_exit_status();
}
