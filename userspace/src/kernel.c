// SPDX-License-Identifier: MIT
/*
 * The kernel backend: /dev/gil, its ioctls, its read-only page and, from
 * ABI 2.1, its word page: a free GIL is taken, and one nobody waits for
 * released, by an exchange of the word, without a system call (struct
 * gil_word in <linux/gil.h>).  Against an ABI 2.0 module every take and
 * release is an ioctl.  From ABI 2.2 the eval breaker polled is the word
 * page's, where the process may set GIL_EVAL_BREAKER_PENDING.  From ABI
 * 2.3 a GIL has options (GIL_IOC_SET_OPTIONS), from 2.4
 * GIL_OPT_PRIO_INHERIT among them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

struct kernel_gil {
	int fd;
	const struct gil_page *page;
	struct gil_word *word;	/* NULL before ABI 2.1 */
	size_t page_size;
};

/* The thread's token in the word, 0 for none (ABI 2.0). */
struct kernel_tstate {
	uint32_t token;
};

static struct kernel_tstate *kts(struct gil_tstate *ts)
{
	return (struct kernel_tstate *)ts->backend;
}

static struct kernel_gil *kgil(struct gil *gil)
{
	return gil->backend_data;
}

static int kernel_ioctl(struct gil *gil, unsigned long cmd, void *arg)
{
	if (ioctl(kgil(gil)->fd, cmd, arg) == 0)
		return 0;
	/* After gil_close() the descriptor is /dev/null (see kernel_close). */
	return atomic_load(&gil->closed) ? -EBADF : -errno;
}

static int kernel_get_abi(struct gil *gil, unsigned int *major,
			  unsigned int *minor)
{
	struct gil_version v;
	int ret = kernel_ioctl(gil, GIL_IOC_GET_VERSION, &v);

	if (ret)
		return ret;
	*major = v.major;
	*minor = v.minor;
	return 0;
}

/* ABI 2.2 and later: the word page has an eval breaker. */
static bool kernel_has_pending(struct gil *gil)
{
	unsigned int major, minor;

	return !kernel_get_abi(gil, &major, &minor) &&
	       major == GIL_ABI_MAJOR && minor >= 2;
}

static int kernel_open(struct gil *gil)
{
	struct kernel_gil *k = calloc(1, sizeof(*k));
	void *page;
	int ret;

	if (!k)
		return -ENOMEM;
	k->page_size = (size_t)sysconf(_SC_PAGESIZE);
	k->fd = open("/dev/gil", O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		free(k);
		return ret;
	}
	page = mmap(NULL, k->page_size, PROT_READ, MAP_SHARED, k->fd, 0);
	if (page == MAP_FAILED) {
		ret = -errno;
		close(k->fd);
		free(k);
		return ret;
	}
	k->page = page;
	page = mmap(NULL, k->page_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		    k->fd, (off_t)k->page_size);
	k->word = page == MAP_FAILED ? NULL : page;
	gil->backend_data = k;
	gil->eval_breaker = &k->page->eval_breaker;
	if (k->word && kernel_has_pending(gil)) {
		gil->eval_breaker = &k->word->eval_breaker;
		gil->pending_word = &k->word->eval_breaker;
	}
	return 0;
}

/*
 * SHUTDOWN fails this process's waiters (ESHUTDOWN, which kernel_ioctl()
 * reports as EBADF once closed) and ends its threads' records.  Replacing
 * the descriptor with /dev/null then closes it without freeing the number,
 * so a racing call can never reach a file opened later under that number.
 */
static void kernel_close(struct gil *gil)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ioctl(kgil(gil)->fd, GIL_IOC_SHUTDOWN);
	if (null >= 0) {
		dup3(null, kgil(gil)->fd, O_CLOEXEC);
		close(null);
	}
}

/*
 * The page stays mapped until here: thread states point into it.  In a
 * fork's child this closes the child's descriptor of the parent's GIL,
 * which changes nothing in that GIL (ABI 2.0).
 */
static void kernel_free(struct gil *gil)
{
	struct kernel_gil *k = kgil(gil);

	munmap((void *)k->page, k->page_size);
	if (k->word)
		munmap(k->word, k->page_size);
	close(k->fd);
	free(k);
}

static int kernel_attach(struct gil_tstate *ts)
{
	int ret = kernel_ioctl(ts->gil, GIL_IOC_ATTACH, NULL);

	kts(ts)->token = 0;
	if (ret || !kgil(ts->gil)->word)
		return ret;
	/* A module without tokens has no word page either: not reached. */
	if (kernel_ioctl(ts->gil, GIL_IOC_GET_TOKEN, &kts(ts)->token))
		kts(ts)->token = 0;
	return 0;
}

static int kernel_detach(struct gil_tstate *ts)
{
	return kernel_ioctl(ts->gil, GIL_IOC_DETACH, NULL);
}

/* A free GIL nobody waits for: take it through the word. */
static bool kernel_take_word(struct gil_tstate *ts)
{
	struct gil_word *w = kgil(ts->gil)->word;
	uint32_t token = kts(ts)->token, free_word = 0;

	if (!token || !__atomic_compare_exchange_n(&w->word, &free_word, token,
						   false, __ATOMIC_ACQUIRE,
						   __ATOMIC_RELAXED))
		return false;
	/* Held: only the holder writes last_token now. */
	if (__atomic_load_n(&w->last_token, __ATOMIC_RELAXED) != token) {
		__atomic_store_n(&w->last_token, token, __ATOMIC_RELAXED);
		__atomic_fetch_add(&w->fast_switches, 1, __ATOMIC_RELAXED);
	}
	__atomic_fetch_add(&w->fast_acquisitions, 1, __ATOMIC_RELAXED);
	return true;
}

/* Held and nothing for the module to see: release through the word. */
static bool kernel_drop_word(struct gil_tstate *ts)
{
	struct gil_word *w = kgil(ts->gil)->word;
	uint32_t token = kts(ts)->token;

	if (!token || !__atomic_compare_exchange_n(&w->word, &token, 0, false,
						   __ATOMIC_RELEASE,
						   __ATOMIC_RELAXED))
		return false;
	__atomic_fetch_add(&w->fast_releases, 1, __ATOMIC_RELAXED);
	return true;
}

static int kernel_acquire(struct gil_tstate *ts)
{
	if (kernel_take_word(ts))
		return 0;
	return kernel_ioctl(ts->gil, GIL_IOC_ACQUIRE, NULL);
}

static int kernel_release(struct gil_tstate *ts)
{
	if (kernel_drop_word(ts))
		return 0;
	return kernel_ioctl(ts->gil, GIL_IOC_RELEASE, NULL);
}

static int kernel_yield(struct gil_tstate *ts)
{
	return kernel_ioctl(ts->gil, GIL_IOC_YIELD, NULL);
}

static int kernel_set_interval(struct gil *gil, int64_t interval_us)
{
	return kernel_ioctl(gil, GIL_IOC_SET_INTERVAL, &interval_us);
}

static int64_t kernel_get_interval(struct gil *gil)
{
	return (int64_t)__atomic_load_n(&kgil(gil)->page->interval_us,
					__ATOMIC_RELAXED);
}

/* A module of ABI 1.0 has no policies but GIL_POLICY_CPYTHON. */
static int kernel_set_policy(struct gil *gil, unsigned int policy)
{
	uint32_t p = policy;
	int ret = kernel_ioctl(gil, GIL_IOC_SET_POLICY, &p);

	if (ret == -ENOTTY)
		return policy == GIL_POLICY_CPYTHON ? 0 : -EOPNOTSUPP;
	return ret;
}

/* ABI 1.0 leaves the field 0, which is GIL_POLICY_CPYTHON. */
static int kernel_get_policy(struct gil *gil)
{
	return (int)__atomic_load_n(&kgil(gil)->page->policy, __ATOMIC_RELAXED);
}

/*
 * A module before ABI 2.3 has no options: ENOTTY, and they are 0.  One
 * older than this header refuses the options it does not know with EINVAL
 * (gil_set_options() has refused bits outside GIL_OPTS_ALL already).
 */
static int kernel_set_options(struct gil *gil, unsigned int options)
{
	uint32_t o = options;
	int ret = kernel_ioctl(gil, GIL_IOC_SET_OPTIONS, &o);

	if (ret == -ENOTTY)
		return options ? -EOPNOTSUPP : 0;
	return ret == -EINVAL ? -EOPNOTSUPP : ret;
}

static int kernel_get_options(struct gil *gil, unsigned int *options)
{
	uint32_t o = 0;
	int ret = kernel_ioctl(gil, GIL_IOC_GET_OPTIONS, &o);

	if (ret && ret != -ENOTTY)
		return ret;
	*options = ret ? 0 : o;
	return 0;
}

static int kernel_get_stats(struct gil *gil, struct gil_stats *stats)
{
	stats->size = sizeof(*stats);
	return kernel_ioctl(gil, GIL_IOC_GET_STATS, stats);
}

const struct gil_ops gil_kernel_ops = {
	.name = "kernel",
	.tstate_size = sizeof(struct kernel_tstate),
	.open = kernel_open,
	.close = kernel_close,
	.free = kernel_free,
	.fork_child = kernel_free,
	.attach = kernel_attach,
	.detach = kernel_detach,
	.acquire = kernel_acquire,
	.release = kernel_release,
	.yield = kernel_yield,
	.set_interval = kernel_set_interval,
	.get_interval = kernel_get_interval,
	.set_policy = kernel_set_policy,
	.get_policy = kernel_get_policy,
	.set_options = kernel_set_options,
	.get_options = kernel_get_options,
	.get_stats = kernel_get_stats,
	.get_abi = kernel_get_abi,
};
