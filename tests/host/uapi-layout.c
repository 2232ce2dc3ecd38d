// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi structures must have one layout for 32- and 64-bit callers, so
 * that compat_ptr_ioctl is all the compat code the module needs.  Compiled
 * with -m64 and -m32 (and as C++) by tests/check.sh; it only has to build.
 */
#include <stddef.h>
#include <linux/gil.h>

#define LAYOUT(type, size) \
	_Static_assert(sizeof(type) == (size), #type " has a fixed size")
#define FIELD(type, field, off) \
	_Static_assert(offsetof(type, field) == (off), #type "." #field)

LAYOUT(struct gil_version, 8);
FIELD(struct gil_version, major, 0);
FIELD(struct gil_version, minor, 4);

LAYOUT(struct gil_page, 128);
FIELD(struct gil_page, size, 0);
FIELD(struct gil_page, locked, 4);
FIELD(struct gil_page, switch_number, 8);
FIELD(struct gil_page, interval_us, 16);
FIELD(struct gil_page, policy, 24);
/* The word the holder polls has a cache line of its own. */
FIELD(struct gil_page, eval_breaker, 64);

LAYOUT(struct gil_stats, GIL_STATS_SIZE_VER3);
FIELD(struct gil_stats, size, 0);
FIELD(struct gil_stats, hist_buckets, 4);
FIELD(struct gil_stats, acquisitions, 8);
FIELD(struct gil_stats, contended, 16);
FIELD(struct gil_stats, drop_requests, 24);
FIELD(struct gil_stats, forced_switches, 32);
FIELD(struct gil_stats, voluntary_releases, 40);
FIELD(struct gil_stats, switch_number, 48);
FIELD(struct gil_stats, owner_deaths, 56);
FIELD(struct gil_stats, wait_ns, 64);
FIELD(struct gil_stats, handoff_ns_hist, 72);
/* ABI 1.1 added fields at the end only. */
FIELD(struct gil_stats, direct_handoffs, GIL_STATS_SIZE_VER0);
FIELD(struct gil_stats, io_preemptions, GIL_STATS_SIZE_VER0 + 8);
/* And ABI 2.3. */
FIELD(struct gil_stats, preempt_extensions, GIL_STATS_SIZE_VER1);
/* And ABI 2.4. */
FIELD(struct gil_stats, priority_boosts, GIL_STATS_SIZE_VER2);
FIELD(struct gil_stats, blocked_requests, GIL_STATS_SIZE_VER2 + 8);
FIELD(struct gil_stats, blocked_wait_ns, GIL_STATS_SIZE_VER2 + 16);

/* ABI 2.1: the word page, the same for 32- and 64-bit callers. */
LAYOUT(struct gil_word, 128);
FIELD(struct gil_word, word, 0);
FIELD(struct gil_word, last_token, 4);
FIELD(struct gil_word, fast_acquisitions, 8);
FIELD(struct gil_word, fast_switches, 16);
FIELD(struct gil_word, fast_releases, 24);
FIELD(struct gil_word, eval_breaker, 64);
_Static_assert((GIL_WORD_TOKEN & GIL_WORD_KERNEL) == 0,
	       "the kernel bit is not a token bit");

/* Commands encode their argument's size: it must not differ either. */
_Static_assert(GIL_IOC_GET_STATS ==
	       _IOWR(GIL_IOC_MAGIC, 0x08, char[GIL_STATS_SIZE_VER3]),
	       "GIL_IOC_GET_STATS");
_Static_assert(GIL_IOC_SET_INTERVAL == _IOW(GIL_IOC_MAGIC, 0x07, char[8]),
	       "GIL_IOC_SET_INTERVAL");
_Static_assert(GIL_IOC_SET_POLICY == _IOW(GIL_IOC_MAGIC, 0x0a, char[4]),
	       "GIL_IOC_SET_POLICY");
_Static_assert(GIL_IOC_GET_TOKEN == _IOR(GIL_IOC_MAGIC, 0x0c, char[4]),
	       "GIL_IOC_GET_TOKEN");
_Static_assert(GIL_IOC_GET_OPTIONS == _IOR(GIL_IOC_MAGIC, 0x0d, char[4]),
	       "GIL_IOC_GET_OPTIONS");
_Static_assert(GIL_IOC_SET_OPTIONS == _IOW(GIL_IOC_MAGIC, 0x0e, char[4]),
	       "GIL_IOC_SET_OPTIONS");
