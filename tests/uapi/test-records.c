// SPDX-License-Identifier: GPL-2.0
/*
 * The records of attached threads: a thread that exits without DETACH
 * leaves nothing pinned (100,000 of them leave the record count and the
 * memory cgroup's usage flat), the records of one GIL are bounded (the
 * module parameter max_threads, ENOSPC beyond it), and a thread that
 * execs ends its attachment: the new program starts unattached, and a
 * GIL the thread held before the exec is recovered (EOWNERDEAD).
 *
 * GIL_TEST_THREADS overrides the 100,000 (the debug kernel runs fewer).
 */
#include <sys/stat.h>

#include "uapi.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_DIR CG_ROOT "/gil-records-test"
#define WAVE 32			/* threads alive at once */
#define MAX_THREADS_PARAM "/sys/module/gil/parameters/max_threads"

static long long memory_current(void)
{
	char *text = t_read_file(CG_DIR "/memory.current");
	long long v = text ? atoll(text) : -1;

	free(text);
	return v;
}

/* Into a cgroup of its own with the memory controller, if there is one. */
static int enter_memcg(void)
{
	char pid[32], *sub = t_read_file(CG_ROOT "/cgroup.subtree_control");
	int ok = sub && strstr(sub, "memory");

	free(sub);
	if (!ok && t_write_text(CG_ROOT "/cgroup.subtree_control", "+memory"))
		return -1;
	rmdir(CG_DIR);
	if (mkdir(CG_DIR, 0755))
		return -1;
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return t_write_text(CG_DIR "/cgroup.procs", pid);
}

static void *attach_and_exit(void *arg)
{
	int fd = *(int *)arg;

	if (ioctl(fd, GIL_IOC_ATTACH))
		abort();
	return NULL;
}

struct pile_result {
	long n;			/* threads to pile up */
	int stage;
	long created;
	long long max_records, last_records;
	long long mem_before, mem_peak, mem_after;
	int acquired;
};

/* In a child, in a cgroup of its own: r->n threads attach and exit. */
static void pile_child(void *arg)
{
	struct pile_result *r = arg;
	long i, k, n = r->n;
	pthread_t th[WAVE];
	int fd;

	CHECK(enter_memcg() == 0);
	fd = t_open_dev();
	CHECK(fd >= 0);
	r->stage = 1;
	r->mem_before = memory_current();
	for (i = 0; i < n; i += WAVE) {
		for (k = 0; k < WAVE; k++)
			th[k] = t_start_thread(attach_and_exit, &fd);
		for (k = 0; k < WAVE; k++)
			pthread_join(th[k], NULL);
		r->created = i + WAVE;
		if ((i / WAVE) % 64 == 0 || i + WAVE >= n) {
			long long recs = t_fdinfo_value(fd, "threads");
			long long mem = memory_current();

			if (recs > r->max_records)
				r->max_records = recs;
			if (mem > r->mem_peak)
				r->mem_peak = mem;
			if ((i / WAVE) % 640 == 0)
				printf("    %7ld threads: %lld records, "
				       "memory.current %lld\n", i + WAVE, recs,
				       mem);
		}
	}
	r->last_records = t_fdinfo_value(fd, "threads");
	r->stage = 2;
	/* The GIL still works. */
	r->acquired = !ioctl(fd, GIL_IOC_ATTACH) &&
		      !ioctl(fd, GIL_IOC_ACQUIRE) &&
		      !ioctl(fd, GIL_IOC_RELEASE) && !ioctl(fd, GIL_IOC_DETACH);
	close(fd);
	r->mem_after = memory_current();
	r->stage = 3;
}

static void exited_threads_leave_nothing_pinned(void)
{
	const char *env = getenv("GIL_TEST_THREADS");
	long n = env ? atol(env) : 100000;
	struct pile_result *r;
	long long growth;
	pid_t pid;
	int i;

	if (access(CG_ROOT "/cgroup.controllers", F_OK))
		SKIP("no cgroup2 at " CG_ROOT);
	r = t_shared_zalloc(sizeof(*r));
	CHECK(r);
	r->max_records = -1;
	r->n = n;
	pid = t_fork_child(1800, pile_child, r);

	CHECK(t_child_ok(pid, 1800000));
	for (i = 0; i < 100 && rmdir(CG_DIR) && errno == EBUSY; i++)
		t_sleep_ms(20);
	growth = r->mem_peak - r->mem_before;
	printf("    %ld threads attached and exited: at most %lld records "
	       "(%lld at the end); memory.current %lld, at most %lld "
	       "(+%lld KiB), %lld after close\n", r->created, r->max_records,
	       r->last_records, r->mem_before, r->mem_peak, growth / 1024,
	       r->mem_after);
	CHECK_CMP(r->stage, ==, 3);
	CHECK_CMP(r->created, >=, n);
	CHECK(r->acquired);
	/* Records of exited threads are reaped as new threads attach. */
	CHECK_CMP(r->max_records, >=, 0);
	CHECK_CMP(r->max_records, <=, 8 * WAVE + 64);
	/* Flat: a pinned task_struct alone is several KiB a thread. */
	CHECK_CMP(r->mem_before, >, 0);
	CHECK_CMP(growth, <, 16ll << 20);
	munmap(r, sizeof(*r));
}

/* ---- the limit ------------------------------------------------------------ */

struct holder_thread {
	int fd;
	atomic_int go_on;
	atomic_int attached;
	int err;
	pthread_t th;
};

static void *attach_and_wait(void *arg)
{
	struct holder_thread *h = arg;

	h->err = ioctl(h->fd, GIL_IOC_ATTACH) ? errno : 0;
	atomic_store(&h->attached, 1);
	while (!atomic_load(&h->go_on))
		t_sleep_us(500);
	if (!h->err && atomic_load(&h->go_on) == 2)
		ioctl(h->fd, GIL_IOC_DETACH);
	return NULL;
}

static void attach_in_thread(struct holder_thread *h, int fd)
{
	memset(h, 0, sizeof(*h));
	h->fd = fd;
	CHECK(pthread_create(&h->th, NULL, attach_and_wait, h) == 0);
	while (!atomic_load(&h->attached))
		t_sleep_us(200);
}

#define LIMIT 16

/*
 * With max_threads=16, a 17th live thread cannot attach (ENOSPC); once one
 * detaches, or exits without detaching, another can.
 */
static void records_are_bounded(void)
{
	struct holder_thread h[LIMIT + 2];
	char *saved = t_read_file(MAX_THREADS_PARAM);
	char lim[16];
	int fd, i, full_err, after_detach, after_exit;

	CHECK(saved);
	snprintf(lim, sizeof(lim), "%d", LIMIT);
	CHECK(t_write_text(MAX_THREADS_PARAM, lim) == 0);
	fd = t_open_dev();
	CHECK(fd >= 0);
	for (i = 0; i < LIMIT; i++)
		attach_in_thread(&h[i], fd);
	attach_in_thread(&h[LIMIT], fd);
	full_err = h[LIMIT].err;
	atomic_store(&h[LIMIT].go_on, 1);
	CHECK(t_join_within(h[LIMIT].th, 5000) == 0);
	/* One detaches: room for one. */
	atomic_store(&h[0].go_on, 2);
	CHECK(t_join_within(h[0].th, 5000) == 0);
	attach_in_thread(&h[0], fd);
	after_detach = h[0].err;
	/* One exits attached: its record is reaped when room is needed. */
	atomic_store(&h[1].go_on, 1);
	CHECK(t_join_within(h[1].th, 5000) == 0);
	attach_in_thread(&h[LIMIT + 1], fd);
	after_exit = h[LIMIT + 1].err;
	for (i = 0; i < LIMIT + 2; i++) {
		if (i == 1 || i == LIMIT)
			continue;
		atomic_store(&h[i].go_on, 2);
		CHECK(t_join_within(h[i].th, 5000) == 0);
	}
	t_write_text(MAX_THREADS_PARAM, saved);
	free(saved);
	close(fd);
	printf("    17th attach: %s; after a detach: %s; after an exit: %s\n",
	       strerror(full_err), strerror(after_detach),
	       strerror(after_exit));
	CHECK_CMP(full_err, ==, ENOSPC);
	CHECK_CMP(after_detach, ==, 0);
	CHECK_CMP(after_exit, ==, 0);
}

/* ---- exec ------------------------------------------------------------------ */

/*
 * The program a thread exec'd into: its fd (argv[2]) is the GIL its old
 * image attached to.  It is not attached; it attaches; the GIL it held
 * before the exec comes back as an owner death.  Exit status: 0, or the
 * step that failed.
 */
static int exec_child_main(char **argv)
{
	int fd = atoi(argv[2]);
	int64_t t = t_now_ns();

	alarm(20);
	errno = 0;
	if (ioctl(fd, GIL_IOC_RELEASE) != -1 || errno != EUNATCH)
		return 10;
	if (ioctl(fd, GIL_IOC_ATTACH))
		return 11;
	errno = 0;
	if (ioctl(fd, GIL_IOC_ACQUIRE) != -1 || errno != EOWNERDEAD)
		return 12;
	if (t_now_ns() - t > 5000000000ll)
		return 13;
	if (ioctl(fd, GIL_IOC_RELEASE) || ioctl(fd, GIL_IOC_DETACH))
		return 14;
	return 0;
}

struct exec_args {
	int fd;
	char *self;
};

/* A thread that is not the leader attaches, takes the GIL and execs. */
static void *exec_holding(void *arg)
{
	struct exec_args *a = arg;
	char fd_s[16];
	char *argv[] = { a->self, "--exec-child", fd_s, NULL };

	snprintf(fd_s, sizeof(fd_s), "%d", a->fd);
	if (ioctl(a->fd, GIL_IOC_ATTACH) || ioctl(a->fd, GIL_IOC_ACQUIRE))
		_exit(3);
	execv("/proc/self/exe", argv);
	_exit(4);
}

static void exec_from_a_thread_ends_its_attachment(void)
{
	struct exec_args a;
	pthread_t th;
	pid_t pid;
	int fd;

	/* The descriptor must survive the exec. */
	fd = open("/dev/gil", O_RDWR);
	CHECK(fd >= 0);
	a.fd = fd;
	a.self = "test-records";
	pid = t_fork(30);
	CHECK(pid >= 0);
	if (pid == 0) {
		/* The leader is attached too: its tid is the new image's. */
		if (ioctl(fd, GIL_IOC_ATTACH))
			_exit(2);
		if (pthread_create(&th, NULL, exec_holding, &a))
			_exit(5);
		pause();
		_exit(6);
	}
	CHECK(t_child_ok(pid, 30000));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--exec-child"))
		return exec_child_main(argv);
	t_timeout_s = 1900;
	T_RUN(exited_threads_leave_nothing_pinned);
	t_timeout_s = 60;
	T_RUN(records_are_bounded);
	T_RUN(exec_from_a_thread_ends_its_attachment);
	return t_exit_status();
}
