// SPDX-License-Identifier: GPL-2.0
/* Helpers for the tests of /dev/gil: see uapi.h. */
#include "uapi.h"

/*
 * From /proc/<pid>/task/<tid>/syscall, which shows "nr arg0 arg1 ..." for
 * a task blocked in a system call and "running" otherwise.
 */
int t_task_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd)
{
	char path[64], buf[256];
	unsigned long nr, a0, a1;
	ssize_t n;
	char s;
	int fd;

	s = t_task_state(pid, tid);
	if (s != 'S' && s != 'D')
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid,
		 (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (sscanf(buf, "%lu %lx %lx", &nr, &a0, &a1) != 3)
		return 0;
	return nr == SYS_ioctl && a1 == (unsigned int)cmd;
}

int t_wait_in_ioctl(pid_t pid, pid_t tid, unsigned long cmd, long timeout_ms)
{
	int64_t deadline = t_now_ns() + timeout_ms * T_NSEC_PER_MSEC;

	while (!t_task_in_ioctl(pid, tid, cmd)) {
		if (t_now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		t_sleep_us(1000);
	}
	return 0;
}

/* ---- /dev/gil ------------------------------------------------------------ */

long t_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

const struct gil_page *t_map_page(int fd)
{
	void *p = mmap(NULL, t_page_size(), PROT_READ, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

void t_unmap_page(const struct gil_page *pg)
{
	if (pg)
		munmap((void *)pg, t_page_size());
}

int t_drop_requested(const struct gil_page *pg)
{
	return !!(T_PAGE_LOAD(pg->eval_breaker) &
		  GIL_EVAL_BREAKER_DROP_REQUEST);
}

int t_wait_drop_request(const struct gil_page *pg, long timeout_ms)
{
	int64_t deadline = t_now_ns() + timeout_ms * T_NSEC_PER_MSEC;

	while (!t_drop_requested(pg)) {
		if (t_now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		t_sleep_us(100);
	}
	return 0;
}

int t_gil_stats_raw(int fd, unsigned long cmd, void *buf, size_t len,
		    int fill, __u32 size)
{
	memset(buf, fill, len);
	((struct gil_stats *)buf)->size = size;
	return ioctl(fd, cmd, buf);
}

int t_gil_stats(int fd, struct gil_stats *st)
{
	return t_gil_stats_raw(fd, GIL_IOC_GET_STATS, st, sizeof(*st), 0,
			       sizeof(*st));
}

void t_expect_switch(int fd, const struct gil_page *pg, struct gil_stats *st,
		     __u64 want)
{
	CHECK(t_gil_stats(fd, st) == 0);
	CHECK_CMP(st->switch_number, ==, want);
	CHECK_CMP(T_PAGE_LOAD(pg->switch_number), ==, want);
}

__u64 t_hist_sum(const struct gil_stats *st)
{
	__u64 sum = 0;
	int i;

	for (i = 0; i < GIL_STATS_HIST_BUCKETS; i++)
		sum += st->handoff_ns_hist[i];
	return sum;
}

int t_set_interval(int fd, __s64 us)
{
	return ioctl(fd, GIL_IOC_SET_INTERVAL, &us);
}

__s64 t_get_interval(int fd)
{
	__s64 us = -1;

	if (ioctl(fd, GIL_IOC_GET_INTERVAL, &us))
		return -1;
	return us;
}

void *t_inaccessible_page(void)
{
	void *p = mmap(NULL, t_page_size(), PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

void *t_unmapped_page(void)
{
	void *p = mmap(NULL, t_page_size(), PROT_READ,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, t_page_size());
	return p;
}

int t_ioctl_fails(int fd, unsigned long cmd, int err)
{
	errno = 0;
	return ioctl(fd, cmd) == -1 && errno == err;
}

void t_u32_ioctls_refuse_bad_pointers(int fd, const struct gil_page *pg,
				      unsigned long get, unsigned long set)
{
	void *none = t_inaccessible_page(), *gone = t_unmapped_page();

	CHECK(none && gone);
	CHECK_ERR(ioctl(fd, set, none), EFAULT);
	CHECK_ERR(ioctl(fd, set, gone), EFAULT);
	CHECK_ERR(ioctl(fd, get, none), EFAULT);
	CHECK_ERR(ioctl(fd, get, NULL), EFAULT);
	CHECK_ERR(ioctl(fd, get, &pg->policy), EFAULT);
	munmap(none, t_page_size());
}

/* ---- the start and end of a test ----------------------------------------- */

int t_open_dev(void)
{
	return open("/dev/gil", O_RDWR | O_CLOEXEC);
}

void t_open_mapped(int *fd, const struct gil_page **pg)
{
	*fd = t_open_dev();
	CHECK(*fd >= 0);
	*pg = t_map_page(*fd);
	CHECK(*pg);
}

void t_attach_acquire(int fd)
{
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
}

void t_close_gil(int fd, const struct gil_page *pg)
{
	t_unmap_page(pg);
	close(fd);
}

void t_detach_close_gil(int fd, const struct gil_page *pg)
{
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	t_close_gil(fd, pg);
}

void t_open_gils(int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		fds[i] = t_open_dev();
		CHECK(fds[i] >= 0);
	}
}

void t_close_gils(const int *fds, int n)
{
	int i;

	for (i = 0; i < n; i++)
		CHECK(close(fds[i]) == 0);
}

static void dies_holding(void *arg)
{
	int fd = *(int *)arg;

	t_attach_acquire(fd);
}

pid_t t_child_dies_holding(int fd)
{
	pid_t pid = t_fork_child(10, dies_holding, &fd);

	CHECK(t_child_ok(pid, 10000));
	return pid;
}

/* ---- a waiter thread ----------------------------------------------------- */

void t_waiter_init(struct t_waiter *w, int fd, const struct gil_page *pg,
		   int hold)
{
	memset(w, 0, sizeof(*w));
	w->fd = fd;
	w->page = pg;
	w->hold = hold;
	atomic_init(&w->release_now, 0);
	atomic_init(&w->state, T_W_INIT);
	w->rel_ret = -2;
}

static void *waiter_main(void *arg)
{
	struct t_waiter *w = arg;
	int holds;

	w->tid = t_gettid();
	errno = 0;
	w->attach_ret = ioctl(w->fd, GIL_IOC_ATTACH);
	w->attach_errno = errno;
	if (w->attach_ret) {
		w->acq_ret = -2;
		atomic_store(&w->state, T_W_DONE);
		return NULL;
	}
	atomic_store(&w->state, T_W_ATTACHED);
	w->t_before_acquire = t_now_ns();
	atomic_store(&w->state, T_W_ACQUIRING);
	errno = 0;
	w->acq_ret = ioctl(w->fd, GIL_IOC_ACQUIRE);
	w->acq_errno = errno;
	w->t_after_acquire = t_now_ns();
	if (w->page) {
		w->sn_after_acquire = T_PAGE_LOAD(w->page->switch_number);
		w->eb_after_acquire = T_PAGE_LOAD(w->page->eval_breaker);
		w->locked_after_acquire = T_PAGE_LOAD(w->page->locked);
	}
	holds = w->acq_ret == 0 || w->acq_errno == EOWNERDEAD;
	atomic_store(&w->state, T_W_HOLDING);
	if (holds) {
		while (w->hold && !atomic_load(&w->release_now))
			t_sleep_us(200);
		errno = 0;
		w->rel_ret = ioctl(w->fd, GIL_IOC_RELEASE);
		w->rel_errno = errno;
		if (!w->no_detach)
			ioctl(w->fd, GIL_IOC_DETACH);
	}
	atomic_store(&w->state, T_W_DONE);
	return NULL;
}

int t_waiter_start(struct t_waiter *w)
{
	int r = pthread_create(&w->th, NULL, waiter_main, w);

	if (r) {
		errno = r;
		return -1;
	}
	return 0;
}

int t_waiter_reach(struct t_waiter *w, int state, long timeout_ms)
{
	int64_t deadline = t_now_ns() + timeout_ms * T_NSEC_PER_MSEC;

	while (atomic_load(&w->state) < state) {
		if (t_now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -1;
		}
		t_sleep_us(200);
	}
	return 0;
}

int t_waiter_blocked(struct t_waiter *w, long timeout_ms)
{
	if (t_waiter_reach(w, T_W_ACQUIRING, timeout_ms))
		return -1;
	if (t_wait_in_ioctl(getpid(), w->tid, GIL_IOC_ACQUIRE, timeout_ms))
		return -1;
	if (atomic_load(&w->state) != T_W_ACQUIRING) {
		errno = EALREADY;	/* ACQUIRE returned: it did not wait */
		return -1;
	}
	return 0;
}

void t_waiter_start_blocked(struct t_waiter *w, int fd,
			    const struct gil_page *pg, int hold)
{
	t_waiter_init(w, fd, pg, hold);
	CHECK(t_waiter_start(w) == 0);
	CHECK(t_waiter_blocked(w, 5000) == 0);
}

void t_waiter_start_requesting(struct t_waiter *w, int fd,
			       const struct gil_page *pg, int hold)
{
	t_waiter_init(w, fd, pg, hold);
	CHECK(t_waiter_start(w) == 0);
	CHECK(t_wait_drop_request(pg, 10000) == 0);
}

void t_release_to_waiter(int fd, struct t_waiter *w)
{
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_join_within(w->th, 5000) == 0);
	CHECK_CMP(w->acq_ret, ==, 0);
}

void t_waiter_let_go(struct t_waiter *w)
{
	atomic_store(&w->release_now, 1);
	CHECK(t_join_within(w->th, 5000) == 0);
}

/* ---- an agent thread ----------------------------------------------------- */

static void *agent_main(void *arg)
{
	struct t_agent *a = arg;
	int seen = 0;

	a->tid = t_gettid();
	atomic_store(&a->done, 0);
	for (;;) {
		while (atomic_load(&a->posted) == seen)
			t_sleep_us(100);
		seen++;
		if (a->req == T_AGENT_EXIT) {
			atomic_store(&a->done, seen);
			return NULL;
		}
		errno = 0;
		a->ret = ioctl(a->fd, a->req);
		a->err = errno;
		atomic_store(&a->done, seen);
	}
}

int t_agent_start(struct t_agent *a, int fd)
{
	int r;

	memset(a, 0, sizeof(*a));
	a->fd = fd;
	a->tid = 0;
	atomic_init(&a->posted, 0);
	atomic_init(&a->done, -1);
	r = pthread_create(&a->th, NULL, agent_main, a);
	if (r) {
		errno = r;
		return -1;
	}
	while (atomic_load(&a->done) < 0)
		t_sleep_us(100);
	return 0;
}

void t_agent_post(struct t_agent *a, unsigned long req)
{
	a->req = req;
	atomic_fetch_add(&a->posted, 1);
}

int t_agent_result(struct t_agent *a, long timeout_ms)
{
	int64_t deadline = t_now_ns() + timeout_ms * T_NSEC_PER_MSEC;

	while (atomic_load(&a->done) != atomic_load(&a->posted)) {
		if (t_now_ns() > deadline) {
			errno = ETIMEDOUT;
			return -3;
		}
		t_sleep_us(100);
	}
	errno = a->err;
	return a->ret;
}

int t_agent_finished(struct t_agent *a)
{
	return atomic_load(&a->done) == atomic_load(&a->posted);
}

int t_agent_call(struct t_agent *a, unsigned long req)
{
	t_agent_post(a, req);
	return t_agent_result(a, 5000);
}

int t_agent_stop(struct t_agent *a)
{
	t_agent_post(a, T_AGENT_EXIT);
	return t_join_within(a->th, 5000);
}

void t_agent_start_holding(struct t_agent *a, int fd)
{
	CHECK(t_agent_start(a, fd) == 0);
	CHECK(t_agent_call(a, GIL_IOC_ATTACH) == 0);
	CHECK(t_agent_call(a, GIL_IOC_ACQUIRE) == 0);
}

/* ---- many holders -------------------------------------------------------- */

void t_start_line_wait(struct t_start_line *s)
{
	atomic_fetch_add(&s->ready, 1);
	while (!atomic_load(&s->go))
		sched_yield();
}

void t_start_line_go(struct t_start_line *s, int n)
{
	while (atomic_load(&s->ready) < n)
		t_sleep_us(100);
	atomic_store(&s->go, 1);
}

void t_holder_enter(struct t_holder_log *l, int id)
{
	if (atomic_exchange(&l->inside, 1))
		atomic_fetch_add(&l->overlaps, 1);
	l->acquisitions++;
	if (l->last != id) {
		l->last = id;
		l->changes++;
	}
}

void t_holder_leave(struct t_holder_log *l)
{
	atomic_store(&l->inside, 0);
}

/* ---- fdinfo -------------------------------------------------------------- */

char *t_fdinfo_text(pid_t pid, int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	return t_read_file(path);
}

int t_kv_get(const char *text, const char *key, long long *v)
{
	size_t klen = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, klen) && p[klen] == ':') {
			*v = strtoll(p + klen + 1, NULL, 10);
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

long long t_fdinfo_value(int fd, const char *key)
{
	char *text = t_fdinfo_text(getpid(), fd);
	long long v;

	if (!text || t_kv_get(text, key, &v))
		v = -1;
	free(text);
	return v;
}

long long t_gil_id(int fd)
{
	return t_fdinfo_value(fd, "id");
}
