// SPDX-License-Identifier: GPL-2.0
/*
 * The word page (struct gil_word, ABI 2.1): takes and releases without a
 * system call, how the module sees them, and what it makes of a word that
 * userspace scribbled on; its eval breaker (ABI 2.2).
 */
#include "uapi.h"

static struct gil_word *map_word(int fd)
{
	void *p = mmap(NULL, t_page_size(), PROT_READ | PROT_WRITE, MAP_SHARED,
		       fd, t_page_size());

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The word page of a GIL under GIL_POLICY_CPYTHON, whatever the module's
 * default_policy (under GIL_POLICY_IO the word is always the module's).
 */
static struct gil_word *word_of(int fd)
{
	__u32 cpython = GIL_POLICY_CPYTHON;

	if (ioctl(fd, GIL_IOC_SET_POLICY, &cpython))
		return NULL;
	return map_word(fd);
}

#define WORD_LOAD(w) __atomic_load_n(&(w)->word, __ATOMIC_ACQUIRE)

static __u32 get_token(int fd)
{
	__u32 token = 0;

	return ioctl(fd, GIL_IOC_GET_TOKEN, &token) ? 0 : token;
}

/* A new GIL under cpython, its two pages, the caller attached: its token. */
static void open_attached(int *fd, const struct gil_page **pg,
		   struct gil_word **w, __u32 *token)
{
	t_open_mapped(fd, pg);
	*w = word_of(*fd);
	CHECK(*w != NULL);
	CHECK(ioctl(*fd, GIL_IOC_ATTACH) == 0);
	*token = get_token(*fd);
	CHECK(*token != 0);
}

/* libgil's take through the word (userspace/src/kernel.c), counters too. */
static int take_word(struct gil_word *w, __u32 token)
{
	__u32 free_word = 0;

	if (!__atomic_compare_exchange_n(&w->word, &free_word, token, 0,
					 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return 0;
	if (__atomic_load_n(&w->last_token, __ATOMIC_RELAXED) != token) {
		__atomic_store_n(&w->last_token, token, __ATOMIC_RELAXED);
		__atomic_fetch_add(&w->fast_switches, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&w->fast_acquisitions, 1, __ATOMIC_RELAXED);
	return 1;
}

static int drop_word(struct gil_word *w, __u32 token)
{
	if (!__atomic_compare_exchange_n(&w->word, &token, 0, 0,
					 __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		return 0;
	__atomic_fetch_add(&w->fast_releases, 1, __ATOMIC_RELAXED);
	return 1;
}

static void map_word_rules(void)
{
	long ps = t_page_size();
	struct gil_word *w;
	int fd = t_open_dev();
	void *p;

	CHECK(fd >= 0);
	w = map_word(fd);
	CHECK(w != NULL);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	CHECK_CMP(w->fast_acquisitions, ==, 0);
	CHECK(munmap(w, ps) == 0);
	CHECK_ERR(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, ps) ==
		  MAP_FAILED ? -1 : 0, EINVAL);
	CHECK_ERR(mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       ps) == MAP_FAILED ? -1 : 0, EINVAL);
	CHECK_ERR(mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       2 * ps) == MAP_FAILED ? -1 : 0, EINVAL);
	/* Read-only is fine too: an observer's mapping. */
	p = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, ps);
	CHECK(p != MAP_FAILED);
	munmap(p, ps);
	close(fd);
}

static void *token_of_thread(void *arg)
{
	int fd = *(int *)arg;
	__u32 token;

	if (ioctl(fd, GIL_IOC_ATTACH))
		return NULL;
	token = get_token(fd);
	ioctl(fd, GIL_IOC_DETACH);
	return (void *)(uintptr_t)token;
}

static void tokens_are_per_thread(void)
{
	int fd = t_open_dev();
	__u32 token, other;
	pthread_t th;
	void *ret;

	CHECK(fd >= 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_TOKEN, &token), EUNATCH);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_GET_TOKEN, NULL), EFAULT);
	token = get_token(fd);
	CHECK(token != 0 && !(token & ~GIL_WORD_TOKEN));
	CHECK_CMP(get_token(fd), ==, token);
	CHECK(pthread_create(&th, NULL, token_of_thread, &fd) == 0);
	CHECK(pthread_join(th, &ret) == 0);
	other = (__u32)(uintptr_t)ret;
	CHECK(other != 0 && other != token);
	close(fd);
}

/* A GIL taken through the word is held, as far as every ioctl goes. */
static void word_take_is_a_hold(void)
{
	const struct gil_page *pg;
	struct gil_stats st;
	struct gil_word *w;
	__u32 token;
	int fd;

	open_attached(&fd, &pg, &w, &token);
	CHECK(take_word(w, token));
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK_ERR(ioctl(fd, GIL_IOC_DETACH), EBUSY);
	/* The module looked, and had nothing to say: the word is as it was. */
	CHECK_CMP(WORD_LOAD(w), ==, token);
	CHECK(drop_word(w, token));
	CHECK(take_word(w, token));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_RELEASE), EPERM);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK_CMP(WORD_LOAD(w), ==, token);
	CHECK(drop_word(w, token));
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.acquisitions, ==, 3);
	CHECK_CMP(st.voluntary_releases, ==, 3);
	CHECK_CMP(st.switch_number, ==, 1);
	CHECK(ioctl(fd, GIL_IOC_DETACH) == 0);
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

/*
 * A waiter makes the module keep the word: the holder's exchange fails and
 * it releases through RELEASE, which hands the word to the waiter.
 */
static void waiter_sets_kernel_bit(void)
{
	const struct gil_page *pg;
	struct gil_word *w;
	struct t_waiter wt;
	__u32 token;
	int fd;

	t_open_mapped(&fd, &pg);
	w = word_of(fd);
	CHECK(w != NULL);
	CHECK(t_set_interval(fd, 60000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	token = get_token(fd);
	CHECK(take_word(w, token));
	t_waiter_start_blocked(&wt, fd, pg, 1);
	CHECK_CMP(WORD_LOAD(w), ==, token | GIL_WORD_KERNEL);
	CHECK(!drop_word(w, token));
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&wt, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(wt.acq_ret, ==, 0);
	/* Nobody waits: the waiter's hold is its own word again. */
	CHECK_CMP(WORD_LOAD(w) & GIL_WORD_KERNEL, ==, 0);
	CHECK(WORD_LOAD(w) != 0 && WORD_LOAD(w) != token);
	CHECK(!take_word(w, token));
	t_waiter_let_go(&wt);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

/*
 * The caller (attached, not holding) takes the GIL through the module and
 * answers a waiter's drop request with RELEASE: a forced release, which
 * makes it CPU-bound as GIL_POLICY_IO counts it.  The waiter takes the
 * GIL and lets it go; the interval is an hour again.
 */
static void release_forced(int fd, const struct gil_page *pg)
{
	struct t_waiter wt;

	CHECK(t_set_interval(fd, 1000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_requesting(&wt, fd, pg, 0);
	CHECK(t_set_interval(fd, GIL_INTERVAL_MAX_US) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_join_within(wt.th, 5000) == 0);
	CHECK_CMP(wt.acq_ret, ==, 0);
}

/*
 * GIL_POLICY_IO must see a CPU-bound thread's next release (it makes the
 * thread I/O-bound again): while one is CPU-bound the word is the
 * module's; with none, takes and releases go through the word.
 */
static void io_policy_sees_cpu_bound_releases(void)
{
	__u32 io = GIL_POLICY_IO, token;
	const struct gil_page *pg;
	struct gil_word *w;
	int fd;

	t_open_mapped(&fd, &pg);
	w = word_of(fd);
	CHECK(w != NULL);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &io) == 0);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	token = get_token(fd);
	CHECK(take_word(w, token));
	CHECK(drop_word(w, token));
	release_forced(fd, pg);
	CHECK_CMP(WORD_LOAD(w), ==, GIL_WORD_KERNEL);
	CHECK(!take_word(w, token));
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(!drop_word(w, token));
	/* A release with no request pending: I/O-bound again. */
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	CHECK(take_word(w, token));
	CHECK(drop_word(w, token));
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

/*
 * A release through the word is a voluntary one: a thread CPU-bound under
 * cpython that takes through the module and releases through the word is
 * I/O-bound when the policy becomes io, and the word stays userspace's.
 */
static void word_release_makes_io_bound(void)
{
	__u32 io = GIL_POLICY_IO, token;
	const struct gil_page *pg;
	struct gil_word *w;
	int fd;

	open_attached(&fd, &pg, &w, &token);
	release_forced(fd, pg);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(drop_word(w, token));
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &io) == 0);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	CHECK(take_word(w, token));
	CHECK(drop_word(w, token));
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

struct word_thread {
	int fd;
	struct gil_word *w;
	int exit_holding;
};

static void *take_and_exit(void *arg)
{
	struct word_thread *a = arg;

	if (ioctl(a->fd, GIL_IOC_ATTACH))
		return NULL;
	a->exit_holding = take_word(a->w, get_token(a->fd));
	return NULL;
}

/* A thread that exits holding through the word is an owner death. */
static void word_holder_exit_is_owner_death(void)
{
	const struct gil_page *pg;
	struct word_thread a;
	struct gil_stats st;
	pthread_t th;
	int fd;

	t_open_mapped(&fd, &pg);
	a.fd = fd;
	a.w = word_of(fd);
	CHECK(a.w != NULL);
	CHECK(pthread_create(&th, NULL, take_and_exit, &a) == 0);
	CHECK(pthread_join(th, NULL) == 0);
	CHECK(a.exit_holding);
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_gil_stats(fd, &st) == 0);
	CHECK_CMP(st.owner_deaths, ==, 1);
	munmap(a.w, t_page_size());
	t_close_gil(fd, pg);
}

/* A word naming no attached thread is a dead holder, not a crash. */
static void unknown_token_is_owner_death(void)
{
	const struct gil_page *pg;
	struct gil_word *w;
	__u32 token;
	int fd;

	open_attached(&fd, &pg, &w, &token);
	__atomic_store_n(&w->word, GIL_WORD_TOKEN, __ATOMIC_RELAXED);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EOWNERDEAD);
	CHECK_CMP(WORD_LOAD(w), ==, token);
	/* Bits outside the token and the kernel bit are ignored. */
	__atomic_store_n(&w->word, token | 0x40000000U, __ATOMIC_RELAXED);
	CHECK_ERR(ioctl(fd, GIL_IOC_ACQUIRE), EDEADLK);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK_CMP(WORD_LOAD(w), ==, 0);
	/* A free word whose last taker names nobody: a plain take. */
	__atomic_store_n(&w->last_token, 0xdeadbeef, __ATOMIC_RELAXED);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	CHECK_CMP(__atomic_load_n(&w->last_token, __ATOMIC_RELAXED), ==, token);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

/*
 * An ATTACH racing SHUTDOWNs of the same process: the record can end as
 * soon as it is attached, before it has its token.  No token may outlive
 * its record.  Once RCU grace periods have passed, a word naming any token
 * the GIL gave before is an unknown holder's (an owner death), and the
 * debug kernel's KASAN reports any lookup that reaches a freed record.
 */
#define RACE_GILS	200

struct attach_race {
	int fd;
	atomic_int attached;
	pthread_barrier_t go;
};

static void *race_attach(void *arg)
{
	struct attach_race *r = arg;

	pthread_barrier_wait(&r->go);
	ioctl(r->fd, GIL_IOC_ATTACH);
	atomic_store(&r->attached, 1);
	return NULL;
}

static void *race_shutdown(void *arg)
{
	struct attach_race *r = arg;

	pthread_barrier_wait(&r->go);
	while (!atomic_load(&r->attached))
		ioctl(r->fd, GIL_IOC_SHUTDOWN);
	ioctl(r->fd, GIL_IOC_SHUTDOWN);
	return NULL;
}

static void attach_racing_shutdown_leaves_no_token(void)
{
	pthread_t attacher, shutter;
	int fds[RACE_GILS], i;
	struct attach_race r;
	struct gil_word *w;
	__u32 mine, token;

	for (i = 0; i < RACE_GILS; i++) {
		fds[i] = t_open_dev();
		CHECK(fds[i] >= 0);
		r.fd = fds[i];
		atomic_init(&r.attached, 0);
		CHECK(pthread_barrier_init(&r.go, NULL, 2) == 0);
		CHECK(pthread_create(&attacher, NULL, race_attach, &r) == 0);
		CHECK(pthread_create(&shutter, NULL, race_shutdown, &r) == 0);
		CHECK(pthread_join(attacher, NULL) == 0);
		CHECK(pthread_join(shutter, NULL) == 0);
		pthread_barrier_destroy(&r.go);
	}
	t_sleep_ms(200);		/* records freed after a grace period are */
	for (i = 0; i < RACE_GILS; i++) {
		w = word_of(fds[i]);
		CHECK(w != NULL);
		CHECK(ioctl(fds[i], GIL_IOC_ATTACH) == 0);
		mine = get_token(fds[i]);
		CHECK(mine != 0);
		for (token = 1; token < mine; token++) {
			__atomic_store_n(&w->word, token, __ATOMIC_RELAXED);
			CHECK_ERR(ioctl(fds[i], GIL_IOC_ACQUIRE), EOWNERDEAD);
			CHECK(ioctl(fds[i], GIL_IOC_RELEASE) == 0);
		}
		munmap(w, t_page_size());
		CHECK(close(fds[i]) == 0);
	}
}

/*
 * Threads take and release, through the word and through the ioctls,
 * while another writes garbage to the whole page, users' tokens among it.
 * Every call ends with a result it documents; after the garbage stops the
 * GIL works; another GIL is untouched throughout.
 */
struct scribble {
	int fd;
	struct gil_word *w;
	atomic_int stop;
	atomic_int bad;
	atomic_long calls;
};

static void *scribble_user(void *arg)
{
	struct scribble *s = arg;
	__u32 token;
	int r;

	if (ioctl(s->fd, GIL_IOC_ATTACH))
		return NULL;
	token = get_token(s->fd);
	while (!atomic_load(&s->stop)) {
		if (!take_word(s->w, token)) {
			r = ioctl(s->fd, GIL_IOC_ACQUIRE);
			if (r && errno != EOWNERDEAD && errno != EDEADLK)
				atomic_fetch_add(&s->bad, 1);
		}
		if (!drop_word(s->w, token)) {
			r = ioctl(s->fd, GIL_IOC_RELEASE);
			if (r && errno != EPERM)
				atomic_fetch_add(&s->bad, 1);
		}
		atomic_fetch_add(&s->calls, 1);
	}
	/* Whatever the garbage left, this thread holds nothing now. */
	ioctl(s->fd, GIL_IOC_RELEASE);
	ioctl(s->fd, GIL_IOC_DETACH);
	return NULL;
}

static void scribbles_hurt_only_that_gil(void)
{
	enum { USERS = 3 };
	const struct gil_page *pg;
	struct scribble s = { 0 };
	pthread_t th[USERS];
	int fd, other, i;
	__u32 *raw, x = 12345;
	struct gil_word *ow;
	int64_t end;

	t_open_mapped(&fd, &pg);
	other = t_open_dev();
	CHECK(other >= 0);
	ow = word_of(other);
	CHECK(ow != NULL);
	CHECK(ioctl(other, GIL_IOC_ATTACH) == 0);
	s.fd = fd;
	s.w = word_of(fd);
	CHECK(s.w != NULL);
	CHECK(t_set_interval(fd, 1000) == 0);
	for (i = 0; i < USERS; i++)
		CHECK(pthread_create(&th[i], NULL, scribble_user, &s) == 0);
	raw = (__u32 *)s.w;
	end = t_now_ns() + 500 * 1000000LL;
	while (t_now_ns() < end) {
		x = x * 1103515245U + 12345U;
		/*
		 * Mostly garbage (tokens here are small: 0x1000 and above names
		 * nobody); at times a user's token, kernel bit or not.
		 */
		if ((x & 0x3000) == 0x3000)
			__atomic_store_n(&raw[0], (x & GIL_WORD_KERNEL) |
					 (1 + (x >> 16) % USERS), __ATOMIC_RELAXED);
		else
			__atomic_store_n(&raw[(x >> 8) % 8], x | 0x1000,
					 __ATOMIC_RELAXED);
		if (!(x & 0x700))
			t_sleep_us(50);
	}
	__atomic_store_n(&s.w->word, 0, __ATOMIC_RELAXED);
	atomic_store(&s.stop, 1);
	for (i = 0; i < USERS; i++)
		CHECK(t_join_within(th[i], 10000) == 0);
	CHECK_CMP(atomic_load(&s.bad), ==, 0);
	CHECK(atomic_load(&s.calls) > 0);
	/* The GIL works again. */
	CHECK(ioctl(fd, GIL_IOC_ATTACH) == 0);
	if (ioctl(fd, GIL_IOC_ACQUIRE))
		CHECK_CMP(errno, ==, EOWNERDEAD);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	/* The other GIL saw none of it. */
	CHECK_CMP(WORD_LOAD(ow), ==, 0);
	CHECK(ioctl(other, GIL_IOC_ACQUIRE) == 0);
	CHECK(ioctl(other, GIL_IOC_RELEASE) == 0);
	munmap(ow, t_page_size());
	munmap(s.w, t_page_size());
	close(other);
	t_close_gil(fd, pg);
}

#define EB_LOAD(w) __atomic_load_n(&(w)->eval_breaker, __ATOMIC_RELAXED)

/*
 * The word page's eval breaker carries the drop request as the read-only
 * page's does, and keeps whatever bits the process put there: the module
 * sets and clears its own bit alone.
 */
static void eval_breaker_keeps_user_bits(void)
{
	const __u32 mine = GIL_EVAL_BREAKER_PENDING | 0x80000000U;
	const struct gil_page *pg;
	struct gil_word *w;
	struct t_waiter wt;
	__u32 token;
	int fd;

	open_attached(&fd, &pg, &w, &token);
	CHECK_CMP(EB_LOAD(w), ==, 0);
	__atomic_fetch_or(&w->eval_breaker, mine, __ATOMIC_RELAXED);
	CHECK(t_set_interval(fd, 1000) == 0);
	CHECK(ioctl(fd, GIL_IOC_ACQUIRE) == 0);
	t_waiter_start_requesting(&wt, fd, pg, 1);
	CHECK(t_set_interval(fd, 10000000) == 0);
	CHECK_CMP(EB_LOAD(w), ==, mine | GIL_EVAL_BREAKER_DROP_REQUEST);
	CHECK(ioctl(fd, GIL_IOC_RELEASE) == 0);
	CHECK(t_waiter_reach(&wt, T_W_HOLDING, 5000) == 0);
	CHECK_CMP(wt.acq_ret, ==, 0);
	CHECK(!t_drop_requested(pg));
	CHECK_CMP(EB_LOAD(w), ==, mine);
	t_waiter_let_go(&wt);
	/* And the process clears its own. */
	__atomic_fetch_and(&w->eval_breaker, ~mine, __ATOMIC_RELAXED);
	CHECK_CMP(EB_LOAD(w), ==, 0);
	munmap(w, t_page_size());
	t_close_gil(fd, pg);
}

int main(void)
{
	T_RUN(map_word_rules);
	T_RUN(tokens_are_per_thread);
	T_RUN(word_take_is_a_hold);
	T_RUN(waiter_sets_kernel_bit);
	T_RUN(io_policy_sees_cpu_bound_releases);
	T_RUN(word_release_makes_io_bound);
	T_RUN(word_holder_exit_is_owner_death);
	T_RUN(unknown_token_is_owner_death);
	T_RUN(attach_racing_shutdown_leaves_no_token);
	T_RUN(scribbles_hurt_only_that_gil);
	T_RUN(eval_breaker_keeps_user_bits);
	return t_exit_status();
}
