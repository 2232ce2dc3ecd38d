// SPDX-License-Identifier: GPL-2.0
/*
 * GILs are charged to the opener's memory cgroup: an unprivileged user can
 * create as many as its descriptor limit allows, so the memory behind them
 * (a page each, and the GIL object) must count against its cgroup.
 *
 * Needs cgroup2 at /sys/fs/cgroup with the memory controller; skipped
 * otherwise.  A child process moves itself into a fresh cgroup, opens
 * MEMCG_GILS GILs, and reports memory.current before, after, and once they
 * are closed again.
 */
#include <sys/resource.h>
#include <sys/stat.h>

#include "uapi.h"

#define CG_ROOT "/sys/fs/cgroup"
#define CG_DIR CG_ROOT "/gil-memcg-test"
#define MEMCG_GILS 2000

static int read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static long long memory_current(void)
{
	char buf[64];

	if (read_text(CG_DIR "/memory.current", buf, sizeof(buf)))
		return -1;
	return atoll(buf);
}

struct memcg_result {
	int stage;		/* how far the child got */
	int opened;
	long long before, after, closed;
};

static void memcg_child(void *arg)
{
	struct memcg_result *res = arg;
	static int fds[MEMCG_GILS];
	struct rlimit rl = { MEMCG_GILS + 256, MEMCG_GILS + 256 };
	long long target;
	char pid[32];
	int64_t deadline;
	int i;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	CHECK(t_write_text(CG_DIR "/cgroup.procs", pid) == 0);
	res->stage = 1;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	res->stage = 2;
	res->before = memory_current();
	for (i = 0; i < MEMCG_GILS; i++) {
		fds[i] = t_open_dev();
		if (fds[i] < 0)
			break;
		res->opened++;
	}
	res->after = memory_current();
	res->stage = 3;
	for (i = 0; i < res->opened; i++)
		close(fds[i]);
	/* Frees may lag a little (RCU, per-CPU charge caches): poll. */
	target = res->before + (res->after - res->before) / 2;
	deadline = t_now_ns() + 3000000000ll;
	do {
		res->closed = memory_current();
		if (res->closed <= target)
			break;
		t_sleep_ms(50);
	} while (t_now_ns() < deadline);
	res->stage = 4;
}

static void memcg_charges_gils_to_opener(void)
{
	char ctl[256], sub[256];
	struct memcg_result *res;
	long long rise, want;
	int enabled_here = 0, i;
	pid_t pid;

	if (read_text(CG_ROOT "/cgroup.controllers", ctl, sizeof(ctl)))
		SKIP("no cgroup2 hierarchy at " CG_ROOT);
	if (!strstr(ctl, "memory"))
		SKIP("cgroup2 has no memory controller here");
	CHECK(read_text(CG_ROOT "/cgroup.subtree_control", sub,
			sizeof(sub)) == 0);
	if (!strstr(sub, "memory")) {
		if (t_write_text(CG_ROOT "/cgroup.subtree_control", "+memory"))
			SKIP("cannot enable the memory controller");
		enabled_here = 1;
	}
	rmdir(CG_DIR);
	CHECK(mkdir(CG_DIR, 0755) == 0);
	res = t_shared_zalloc(sizeof(*res));
	CHECK(res);

	pid = t_fork_child(40, memcg_child, res);
	CHECK(t_child_ok(pid, 40000));

	/* Clean up first, so that a failed check leaves nothing behind. */
	for (i = 0; i < 100 && rmdir(CG_DIR) && errno == EBUSY; i++)
		t_sleep_ms(20);
	if (enabled_here)
		t_write_text(CG_ROOT "/cgroup.subtree_control", "-memory");

	rise = res->after - res->before;
	want = (long long)MEMCG_GILS * 4096 * 3 / 4;
	printf("    memory.current %lld -> %lld (+%lld for %d GILs), "
	       "%lld after close\n", res->before, res->after, rise,
	       res->opened, res->closed);
	CHECK_CMP(res->stage, ==, 4);
	CHECK_CMP(res->opened, ==, MEMCG_GILS);
	CHECK_CMP(res->before, >, 0);
	/* At least the pages: without accounting only small objects show. */
	CHECK_CMP(rise, >=, want);
	/* And they are uncharged when the GILs go. */
	CHECK_CMP(res->closed, <=, res->before + rise / 2);
	munmap(res, sizeof(*res));
}

int main(void)
{
	T_RUN(memcg_charges_gils_to_opener);
	return t_exit_status();
}
