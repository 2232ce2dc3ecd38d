// SPDX-License-Identifier: MIT
/*
 * gilstat: the GILs of /dev/gil live, from their descriptors' fdinfo.
 *
 * Every interval it finds the descriptors of /dev/gil in /proc/<pid>/fd/
 * of every process it may look at (its own user's, or all as root), reads
 * their /proc/<pid>/fdinfo/<fd> ("key:\tvalue" lines, see
 * module/fdinfo.c), one per GIL however many descriptors share it, and
 * prints one line per GIL:
 * rates over the interval (acquisitions, changes of owner, drop requests,
 * forced switches per second), the mean wait of the acquisitions that
 * waited, the handoff latency's p50 and p99 estimated from the histogram's
 * growth, and the GIL's state when sampled (holder, waiters, threads,
 * handoff policy).
 *
 * On a terminal the table is redrawn in place; with -p, or when the output
 * is not a terminal, the header is printed once and a line per GIL per
 * interval follows, for logs.  See gilstat(8).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/gil.h>

#define PROC "/proc"
#define NSEC_PER_SEC 1000000000LL
#define HIST_BUCKETS GIL_STATS_HIST_BUCKETS

/* What a GIL's file says, at one time. */
struct sample {
	unsigned long long id;
	long long opener_pid;
	char comm[32];
	char policy[16];
	long long holder, nr_waiters, threads;
	unsigned long long acquisitions, contended, drop_requests;
	unsigned long long forced_switches, switch_number, wait_ns;
	unsigned long long hist[HIST_BUCKETS];
};

/* All the GILs at one time, sorted by id. */
struct snapshot {
	struct sample *s;
	size_t n, cap;
	int64_t t_ns;
};

struct options {
	double interval;
	long count;		/* samples to print; 0: until interrupted */
	bool plain;
	unsigned long long *ids;	/* only these GILs, if any */
	size_t nr_ids;
};

static const char *prog = "gilstat";

static int64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * NSEC_PER_SEC + t.tv_nsec;
}

/* The numeric keys of a GIL's file, and where they go. */
static const struct {
	const char *key;
	size_t off;
	bool is_signed;
} sample_keys[] = {
#define U(k) { #k, offsetof(struct sample, k), false }
#define S(k) { #k, offsetof(struct sample, k), true }
	U(id), S(opener_pid), S(holder), S(nr_waiters), S(threads),
	U(acquisitions), U(contended), U(drop_requests), U(forced_switches),
	U(switch_number), U(wait_ns),
#undef U
#undef S
};

static void parse_line(struct sample *s, const char *key, const char *val)
{
	unsigned long bucket;
	size_t i;
	char *end;

	if (!strcmp(key, "opener_comm")) {
		snprintf(s->comm, sizeof(s->comm), "%s", val);
		return;
	}
	if (!strcmp(key, "policy")) {
		snprintf(s->policy, sizeof(s->policy), "%s", val);
		return;
	}
	if (!strncmp(key, "handoff_ns_hist_", 16)) {
		bucket = strtoul(key + 16, &end, 10);
		if (!*end && bucket < HIST_BUCKETS)
			s->hist[bucket] = strtoull(val, NULL, 10);
		return;
	}
	for (i = 0; i < sizeof(sample_keys) / sizeof(sample_keys[0]); i++) {
		void *field = (char *)s + sample_keys[i].off;

		if (strcmp(key, sample_keys[i].key))
			continue;
		if (sample_keys[i].is_signed)
			*(long long *)field = strtoll(val, NULL, 10);
		else
			*(unsigned long long *)field = strtoull(val, NULL, 10);
		return;
	}
	/* A key this gilstat does not know: from a newer module. */
}

/*
 * Read the GIL behind /proc/@pid/fdinfo/@fd.  Returns 0, or -1 when it is
 * not there any more (closed, or the process gone, since it was listed).
 */
static int read_sample(const char *pid, const char *fd, struct sample *s)
{
	char path[300], line[256], *val;
	FILE *f;

	snprintf(path, sizeof(path), PROC "/%s/fdinfo/%s", pid, fd);
	f = fopen(path, "re");
	if (!f)
		return -1;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		val = strchr(line, ':');
		if (!val)
			continue;
		*val++ = 0;
		val += strspn(val, "\t ");
		parse_line(s, line, val);
	}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return s->id ? 0 : -1;
}

/* /proc/@pid/fd/@fd is a descriptor of /dev/gil. */
static bool is_gil(const char *pid, const char *fd)
{
	char path[300], target[32];
	ssize_t n;

	snprintf(path, sizeof(path), PROC "/%s/fd/%s", pid, fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = 0;
	return !strcmp(target, "/dev/gil");
}

static bool wanted(const struct options *o, unsigned long long id)
{
	size_t i;

	if (!o->nr_ids)
		return true;
	for (i = 0; i < o->nr_ids; i++)
		if (o->ids[i] == id)
			return true;
	return false;
}

static int cmp_sample(const void *a, const void *b)
{
	unsigned long long x = ((const struct sample *)a)->id;
	unsigned long long y = ((const struct sample *)b)->id;

	return (x > y) - (x < y);
}

static struct sample *snapshot_slot(struct snapshot *snap)
{
	struct sample *s;
	size_t cap;

	if (snap->n < snap->cap)
		return &snap->s[snap->n];
	cap = snap->cap ? 2 * snap->cap : 16;
	s = realloc(snap->s, cap * sizeof(*s));
	if (!s)
		return NULL;
	snap->s = s;
	snap->cap = cap;
	return &snap->s[snap->n];
}

/* The GILs behind the descriptors of process @pid, into @snap. */
static int snapshot_process(const struct options *o, struct snapshot *snap,
			    const char *pid)
{
	char path[300];
	struct dirent *e;
	struct sample *s;
	DIR *d;

	snprintf(path, sizeof(path), PROC "/%s/fd", pid);
	d = opendir(path);
	if (!d)
		return 0;	/* gone, or not ours to look at */
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !is_gil(pid, e->d_name))
			continue;
		s = snapshot_slot(snap);
		if (!s) {
			closedir(d);
			return -1;
		}
		if (!read_sample(pid, e->d_name, s) && wanted(o, s->id))
			snap->n++;
	}
	closedir(d);
	return 0;
}

/* Every GIL in sight into @snap, once each.  0, or -1 (errno set). */
static int take_snapshot(const struct options *o, struct snapshot *snap)
{
	struct dirent *e;
	DIR *d = opendir(PROC);
	size_t i, n;

	if (!d)
		return -1;
	snap->n = 0;
	snap->t_ns = now_ns();
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (snapshot_process(o, snap, e->d_name)) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	qsort(snap->s, snap->n, sizeof(*snap->s), cmp_sample);
	/* Descriptors that share a GIL (dup, fork) show it once. */
	for (i = n = 0; i < snap->n; i++)
		if (!n || snap->s[n - 1].id != snap->s[i].id)
			snap->s[n++] = snap->s[i];
	snap->n = n;
	return 0;
}

static const struct sample *find_sample(const struct snapshot *snap,
					unsigned long long id)
{
	struct sample key = { .id = id };

	return bsearch(&key, snap->s, snap->n, sizeof(*snap->s), cmp_sample);
}

/*
 * The @p quantile (0 < p < 1) of the handoffs counted by histogram growth
 * @d (bucket i: [2^i, 2^(i+1)) ns, bucket 0 from 0), interpolated within
 * its bucket; -1 without handoffs.  The last bucket has no upper bound:
 * its lower bound stands for it.
 */
static double hist_quantile(const unsigned long long *d, double p)
{
	unsigned long long total = 0, cum = 0;
	double rank, lo, hi;
	int i;

	for (i = 0; i < HIST_BUCKETS; i++)
		total += d[i];
	if (!total)
		return -1;
	rank = p * (double)total;
	for (i = 0; i < HIST_BUCKETS; i++) {
		if (d[i] && (double)(cum + d[i]) >= rank)
			break;
		cum += d[i];
	}
	if (i == HIST_BUCKETS)
		i = HIST_BUCKETS - 1;
	lo = i ? (double)(1ULL << i) : 0;
	if (i == HIST_BUCKETS - 1)
		return lo;
	hi = (double)(1ULL << (i + 1));
	return lo + (hi - lo) * (rank - (double)cum) / (double)d[i];
}

/* "4.98ms", "52.1us", "-" for none: a duration in one word. */
static const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (ns < 0)
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0fns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1fus", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2fms", ns / 1e6);
	else
		snprintf(buf, len, "%.2fs", ns / 1e9);
	return buf;
}

static void print_header(void)
{
	printf("%7s %5s %7s %9s %8s %8s %8s %9s %9s %9s %7s %4s %4s %-7s %s\n",
	       "TIME", "GIL", "PID", "ACQ/s", "SW/s", "DROP/s", "FORCE/s",
	       "WAIT", "HOFF_P50", "HOFF_P99", "HOLDER", "WTRS", "THRS",
	       "POLICY", "COMM");
}

/*
 * One GIL's line: @cur against @prev, or against zero for a GIL opened
 * since (its counters started at zero within the interval).  Ids start
 * again from 1 when the module is reloaded: a GIL whose opener changed or
 * whose counters went back is a new one.
 */
static void print_gil(double t, double dt, const struct sample *cur,
		      const struct sample *prev)
{
	static const struct sample zero;
	unsigned long long d[HIST_BUCKETS];
	char wait[16], p50[16], p99[16];
	unsigned long long contended;
	int i;

	if (!prev || prev->opener_pid != cur->opener_pid ||
	    prev->acquisitions > cur->acquisitions)
		prev = &zero;
	for (i = 0; i < HIST_BUCKETS; i++)
		d[i] = cur->hist[i] - prev->hist[i];
	contended = cur->contended - prev->contended;
	fmt_ns(wait, sizeof(wait), contended ?
	       (double)(cur->wait_ns - prev->wait_ns) / (double)contended : -1);
	fmt_ns(p50, sizeof(p50), hist_quantile(d, 0.50));
	fmt_ns(p99, sizeof(p99), hist_quantile(d, 0.99));
	printf("%7.1f %5llu %7lld %9.1f %8.1f %8.1f %8.1f %9s %9s %9s %7lld %4lld %4lld %-7s %s\n",
	       t, cur->id, cur->opener_pid,
	       (double)(cur->acquisitions - prev->acquisitions) / dt,
	       (double)(cur->switch_number - prev->switch_number) / dt,
	       (double)(cur->drop_requests - prev->drop_requests) / dt,
	       (double)(cur->forced_switches - prev->forced_switches) / dt,
	       wait, p50, p99, cur->holder, cur->nr_waiters, cur->threads,
	       cur->policy[0] ? cur->policy : "-", cur->comm);
}

static void sleep_until(int64_t t_ns)
{
	struct timespec t = { t_ns / NSEC_PER_SEC, t_ns % NSEC_PER_SEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) ==
	       EINTR)
		;
}

static int run(const struct options *o)
{
	struct snapshot snaps[2] = { { 0 } }, *prev = &snaps[0], *cur;
	bool redraw = !o->plain && isatty(STDOUT_FILENO);
	int64_t start, next, step = (int64_t)(o->interval * NSEC_PER_SEC);
	long printed = 0;
	int ret = 0;
	size_t i;

	if (take_snapshot(o, prev)) {
		fprintf(stderr, "%s: %s: %s\n", prog, PROC, strerror(errno));
		ret = 1;
		goto out;
	}
	start = next = prev->t_ns;
	if (!redraw)
		print_header();
	while (!o->count || printed < o->count) {
		next += step;
		sleep_until(next);
		cur = prev == &snaps[0] ? &snaps[1] : &snaps[0];
		if (take_snapshot(o, cur)) {
			fprintf(stderr, "%s: %s: %s\n", prog, PROC,
				strerror(errno));
			ret = 1;
			goto out;
		}
		if (redraw) {
			printf("\033[H\033[J");
			print_header();
		}
		for (i = 0; i < cur->n; i++)
			print_gil((double)(cur->t_ns - start) / NSEC_PER_SEC,
				  (double)(cur->t_ns - prev->t_ns) / NSEC_PER_SEC,
				  &cur->s[i], find_sample(prev, cur->s[i].id));
		if (!cur->n)
			printf("%7.1f (no GIL open)\n",
			       (double)(cur->t_ns - start) / NSEC_PER_SEC);
		fflush(stdout);
		prev = cur;
		printed++;
	}
out:
	free(snaps[0].s);
	free(snaps[1].s);
	return ret;
}

static int usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: %s [-i seconds] [-n count] [-p] [id...]\n"
		"  -i SECONDS  sampling interval (default 1)\n"
		"  -n COUNT    print COUNT samples, then exit (default: until interrupted)\n"
		"  -p          plain output for logs: no redrawing, header once\n"
		"  id...       only these GILs\n"
		"GILs of processes it may not look at are not shown: run as root to see all.\n",
		prog);
	return status;
}

int main(int argc, char **argv)
{
	struct options o = { .interval = 1.0 };
	char *end;
	int opt, i, ret;

	while ((opt = getopt(argc, argv, "i:n:ph")) != -1) {
		switch (opt) {
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || !(o.interval >= 0.01 && o.interval <= 3600))
				return usage(2);
			break;
		case 'n':
			o.count = strtol(optarg, &end, 10);
			if (*end || o.count <= 0)
				return usage(2);
			break;
		case 'p':
			o.plain = true;
			break;
		case 'h':
			return usage(0);
		default:
			return usage(2);
		}
	}
	if (optind < argc) {
		o.nr_ids = (size_t)(argc - optind);
		o.ids = calloc(o.nr_ids, sizeof(*o.ids));
		if (!o.ids)
			return 1;
		for (i = optind; i < argc; i++) {
			o.ids[i - optind] = strtoull(argv[i], &end, 10);
			if (*end || end == argv[i])
				return usage(2);
		}
	}
	ret = run(&o);
	free(o.ids);
	return ret;
}
