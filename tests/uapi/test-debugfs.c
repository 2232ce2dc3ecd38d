// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/debug/gil/<id>: a file per GIL from its open to its close,
 * its live state, counters equal to GIL_IOC_GET_STATS, and reads that race
 * the GIL's end.  Skipped when debugfs is not mounted.
 */
#include <sys/stat.h>

#include "harness.h"

#define NO_DEBUGFS "debugfs is not mounted at /sys/kernel/debug"

/* The text of GIL @id's file, from malloc(), or NULL (errno set). */
static char *gil_file(long long id)
{
	char path[64];

	snprintf(path, sizeof(path), GIL_DEBUGFS "/%lld", id);
	return read_file(path);
}

/* @key in GIL @id's file must be @want. */
static int expect_kv(const char *text, const char *key, long long want)
{
	long long v;

	if (kv_get(text, key, &v)) {
		printf("    no '%s' line in:\n%s", key, text);
		return -1;
	}
	if (v != want) {
		printf("    %s is %lld, expected %lld\n", key, v, want);
		return -1;
	}
	return 0;
}

static int debugfs_dir_exists(void)
{
	struct stat sb;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	CHECK(stat(GIL_DEBUGFS, &sb) == 0);
	CHECK(S_ISDIR(sb.st_mode));
	return 0;
}

/* Opening a GIL adds exactly one file; closing it removes that file. */
static int debugfs_file_follows_open_and_close(void)
{
	long long before[256], after[256], id = -1;
	int nb, na, i, j, fd;
	char *text;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	nb = debugfs_gil_ids(before, ARRAY_SIZE(before));
	CHECK(nb >= 0 && nb < (int)ARRAY_SIZE(before));
	fd = open_gil();
	CHECK(fd >= 0);
	na = debugfs_gil_ids(after, ARRAY_SIZE(after));
	CHECK_CMP(na, ==, nb + 1);
	for (i = 0; i < na; i++) {
		for (j = 0; j < nb && before[j] != after[i]; j++)
			;
		if (j == nb)
			id = after[i];
	}
	CHECK(id > 0);
	CHECK_CMP(debugfs_my_gil(), ==, id);

	text = gil_file(id);
	CHECK(text);
	CHECK(expect_kv(text, "id", id) == 0);
	CHECK(expect_kv(text, "opener_pid", getpid()) == 0);
	CHECK(strstr(text, "\nopener_comm test-debugfs\n"));
	CHECK(expect_kv(text, "locked", 0) == 0);
	CHECK(expect_kv(text, "holder", 0) == 0);
	CHECK(expect_kv(text, "nr_waiters", 0) == 0);
	CHECK(expect_kv(text, "threads", 0) == 0);
	CHECK(expect_kv(text, "interval_us", gil_get_interval(fd)) == 0);
	CHECK(expect_kv(text, "acquisitions", 0) == 0);
	CHECK(expect_kv(text, "switch_number", 0) == 0);
	/* No handoff yet: no histogram line. */
	CHECK(!strstr(text, "handoff_ns_hist_"));
	free(text);

	CHECK(close(fd) == 0);
	errno = 0;
	CHECK(!gil_file(id) && errno == ENOENT);
	CHECK_CMP(debugfs_gil_ids(after, ARRAY_SIZE(after)), ==, nb);
	return 0;
}

/* Holder, waiters and threads while a waiter sleeps in ACQUIRE. */
static int debugfs_live_state(void)
{
	const struct gil_page *pg;
	struct waiter w;
	long long id;
	char *text;
	int fd;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	CHECK(open_mapped(&fd, &pg) == 0);
	CHECK(gil_set_interval(fd, 10000000) == 0);
	id = debugfs_my_gil();
	CHECK(id > 0);
	CHECK(attach_acquire(fd) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 0) == 0);

	text = gil_file(id);
	CHECK(text);
	CHECK(expect_kv(text, "locked", 1) == 0);
	CHECK(expect_kv(text, "holder", gettid_()) == 0);
	CHECK(expect_kv(text, "nr_waiters", 1) == 0);
	CHECK(expect_kv(text, "threads", 2) == 0);
	CHECK(expect_kv(text, "interval_us", 10000000) == 0);
	free(text);

	CHECK(release_to_waiter(fd, &w) == 0);
	text = gil_file(id);
	CHECK(text);
	CHECK(expect_kv(text, "locked", 0) == 0);
	CHECK(expect_kv(text, "holder", 0) == 0);
	CHECK(expect_kv(text, "nr_waiters", 0) == 0);
	/* The waiter detached. */
	CHECK(expect_kv(text, "threads", 1) == 0);
	free(text);
	return detach_close_gil(fd, pg);
}

/* The file's counters and histogram, against GET_STATS. */
static int expect_stats(const char *text, const struct gil_stats *st)
{
	char key[32];
	long long v;
	int i;

	CHECK(expect_kv(text, "acquisitions", st->acquisitions) == 0);
	CHECK(expect_kv(text, "contended", st->contended) == 0);
	CHECK(expect_kv(text, "drop_requests", st->drop_requests) == 0);
	CHECK(expect_kv(text, "forced_switches", st->forced_switches) == 0);
	CHECK(expect_kv(text, "voluntary_releases",
			st->voluntary_releases) == 0);
	CHECK(expect_kv(text, "switch_number", st->switch_number) == 0);
	CHECK(expect_kv(text, "owner_deaths", st->owner_deaths) == 0);
	CHECK(expect_kv(text, "wait_ns", st->wait_ns) == 0);
	CHECK(expect_kv(text, "direct_handoffs", st->direct_handoffs) == 0);
	CHECK(expect_kv(text, "io_preemptions", st->io_preemptions) == 0);
	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++) {
		snprintf(key, sizeof(key), "handoff_ns_hist_%d", i);
		if (st->handoff_ns_hist[i])
			CHECK(expect_kv(text, key, st->handoff_ns_hist[i]) == 0);
		else
			CHECK(kv_get(text, key, &v) == -1);
	}
	return 0;
}

/*
 * Some of everything: uncontended takes, a handoff on a voluntary release,
 * a forced switch, an owner death; then the file equals GET_STATS.
 */
static int debugfs_counters_equal_get_stats(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct waiter w;
	long long id;
	char *text;
	int fd, i;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	CHECK(open_mapped(&fd, &pg) == 0);
	id = debugfs_my_gil();
	CHECK(id > 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	for (i = 0; i < 5; i++) {
		CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	}

	/* A voluntary handoff. */
	CHECK(gil_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(waiter_start_blocked(&w, fd, pg, 0) == 0);
	CHECK(release_to_waiter(fd, &w) == 0);

	/* A forced switch. */
	CHECK(gil_set_interval(fd, 2000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(waiter_start_requesting(&w, fd, pg, 0) == 0);
	CHECK(release_to_waiter(fd, &w) == 0);

	/* A child that dies holding it; we recover it. */
	CHECK(child_dies_holding(fd) > 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);

	CHECK(gil_stats(fd, &st) == 0);
	CHECK_CMP(st.owner_deaths, ==, 1);
	CHECK_CMP(st.forced_switches, ==, 1);
	CHECK_CMP(hist_sum(&st), >=, 2);
	text = gil_file(id);
	CHECK(text);
	CHECK(expect_stats(text, &st) == 0);
	free(text);
	return detach_close_gil(fd, pg);
}

/*
 * A descriptor of the file kept open past the GIL's close: the next read
 * fails with EIO (debugfs cut it off), never reads a freed GIL.
 */
static int debugfs_read_after_close_fails(void)
{
	char buf[4096];
	long long id;
	int fd, dfd;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	fd = open_gil();
	CHECK(fd >= 0);
	id = debugfs_my_gil();
	CHECK(id > 0);
	snprintf(buf, sizeof(buf), GIL_DEBUGFS "/%lld", id);
	dfd = open(buf, O_RDONLY | O_CLOEXEC);
	CHECK(dfd >= 0);
	CHECK(read(dfd, buf, sizeof(buf)) > 0);
	CHECK(close(fd) == 0);
	CHECK_ERR(read(dfd, buf, sizeof(buf)), EIO);
	CHECK(close(dfd) == 0);
	return 0;
}

struct reader {
	atomic_int stop;
	atomic_long reads, gone;
};

/* Read every GIL's file, over and over, as gilstat does. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;
	long long ids[64];
	char path[64], *text;
	int i, n;

	while (!atomic_load(&r->stop)) {
		n = debugfs_gil_ids(ids, ARRAY_SIZE(ids));
		for (i = 0; i < n && i < (int)ARRAY_SIZE(ids); i++) {
			snprintf(path, sizeof(path), GIL_DEBUGFS "/%lld",
				 ids[i]);
			text = read_file(path);
			if (text)
				atomic_fetch_add(&r->reads, 1);
			else
				atomic_fetch_add(&r->gone, 1);
			free(text);
		}
	}
	return NULL;
}

/* GILs opened, used and closed while two threads read their files. */
static int debugfs_reads_race_closes(void)
{
	struct reader r = { 0 };
	pthread_t th[2];
	int i, fd;

	if (!debugfs_mounted())
		SKIP(NO_DEBUGFS);
	for (i = 0; i < 2; i++)
		CHECK(pthread_create(&th[i], NULL, reader_main, &r) == 0);
	for (i = 0; i < 300; i++) {
		fd = open_gil();
		CHECK(fd >= 0);
		CHECK(attach_acquire(fd) == 0);
		CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
		CHECK(close(fd) == 0);
	}
	atomic_store(&r.stop, 1);
	for (i = 0; i < 2; i++)
		CHECK(join_within(th[i], 10000) == 0);
	printf("    %ld reads, %ld of a file already gone\n",
	       atomic_load(&r.reads), atomic_load(&r.gone));
	CHECK_CMP(atomic_load(&r.reads), >, 0);
	return 0;
}

int main(void)
{
	RUN(debugfs_dir_exists);
	RUN(debugfs_file_follows_open_and_close);
	RUN(debugfs_live_state);
	RUN(debugfs_counters_equal_get_stats);
	RUN(debugfs_read_after_close_fails);
	RUN(debugfs_reads_race_closes);
	return harness_exit();
}
