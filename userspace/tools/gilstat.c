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
 * handoff policy).  Drop requests that found the holder asleep in the
 * kernel holding the GIL are counted apart (BLK/s); a holder asleep when
 * sampled is shown where it sleeps: the kernel function, from
 * /proc/TID/wchan, and (with -j and -c) the system call, from
 * /proc/TID/syscall, which is what should have released the GIL.
 *
 * On a terminal the table is redrawn in place; with -p, or when the output
 * is not a terminal, the header is printed once and a line per GIL per
 * interval follows, for logs.  -j prints the same fields as a JSON object
 * per GIL per interval (JSON lines), -c as CSV: a header line, then a line
 * per GIL per interval; both with numbers as numbers and durations in ns.
 * See gilstat(8).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The command line and the clock: gilstat opens no GIL, it reads fdinfo. */
#include "../common/cli.h"
#include "../common/run.h"

#define PROC "/proc"
#define HIST_BUCKETS GIL_STATS_HIST_BUCKETS

/* What a GIL's file says, at one time. */
struct sample {
	unsigned long long id;
	long long opener_pid;
	char comm[32];
	char policy[16];
	long long holder, holder_blocked, nr_waiters, threads;
	unsigned long long acquisitions, contended, drop_requests;
	unsigned long long blocked_requests;
	unsigned long long forced_switches, switch_number, wait_ns;
	unsigned long long hist[HIST_BUCKETS];
};

/* All the GILs at one time, sorted by id. */
struct snapshot {
	struct sample *s;
	size_t n, cap;
	int64_t t_ns;
};

enum format { TABLE, PLAIN, JSON, CSV };

struct options {
	double interval;
	int count;		/* samples to print; 0: until interrupted */
	enum format format;	/* TABLE (none asked for): redrawn on a tty */
	unsigned long long *ids;	/* only these GILs, if any */
	size_t nr_ids;
};

/* One GIL's line over an interval, whatever the format. */
struct line {
	double time;			/* seconds since gilstat started */
	long long gil, pid;
	double acq, sw, drop, force;	/* per second */
	double blk;			/* blocked holder's drop requests/s */
	double wait, p50, p99;		/* ns; < 0: nothing to measure */
	long long holder, waiters, threads;
	long long holder_blocked;	/* 1: asleep in the kernel */
	long long holder_syscall;	/* then its system call, or -1 */
	const char *holder_wchan;	/* and where it sleeps; "-": not */
	const char *policy, *comm;
};

/* The fields of -j and -c, in the table's order, and how to print them. */
enum kind { K_TIME, K_RATE, K_NS, K_INT, K_STR };

static const struct {
	const char *name;
	enum kind kind;
	size_t off;
} fields[] = {
#define F(name, kind, member) { #name, kind, offsetof(struct line, member) }
	F(time, K_TIME, time), F(gil, K_INT, gil), F(pid, K_INT, pid),
	F(acq_per_s, K_RATE, acq), F(sw_per_s, K_RATE, sw),
	F(drop_per_s, K_RATE, drop), F(force_per_s, K_RATE, force),
	F(blk_per_s, K_RATE, blk),
	F(wait_ns, K_NS, wait), F(hoff_p50_ns, K_NS, p50),
	F(hoff_p99_ns, K_NS, p99), F(holder, K_INT, holder),
	F(holder_blocked, K_INT, holder_blocked),
	F(holder_syscall, K_INT, holder_syscall),
	F(holder_wchan, K_STR, holder_wchan),
	F(waiters, K_INT, waiters), F(threads, K_INT, threads),
	F(policy, K_STR, policy), F(comm, K_STR, comm),
#undef F
};

static const char prog[] = "gilstat";

/* The numeric keys of a GIL's file, and where they go. */
static const struct {
	const char *key;
	size_t off;
	bool is_signed;
} sample_keys[] = {
#define U(k) { #k, offsetof(struct sample, k), false }
#define S(k) { #k, offsetof(struct sample, k), true }
	U(id), S(opener_pid), S(holder), S(holder_blocked), S(nr_waiters),
	S(threads), U(acquisitions), U(contended), U(drop_requests),
	U(forced_switches), U(switch_number), U(wait_ns), U(blocked_requests),
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

/* "4.98ms", "52.1us", "-" for none: fmt_ns()'s duration in one word. */
static const char *fmt_word(char *buf, size_t len, double ns)
{
	char *space;

	if (ns < 0) {
		snprintf(buf, len, "-");
		return buf;
	}
	space = strchr(fmt_ns(buf, len, ns), ' ');
	if (space)
		memmove(space, space + 1, strlen(space));
	return buf;
}

static void print_header(enum format format)
{
	size_t i;

	if (format == JSON)
		return;
	if (format == CSV) {
		for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
			printf("%s%s", i ? "," : "", fields[i].name);
		putchar('\n');
		return;
	}
	printf("%7s %5s %7s %9s %8s %8s %8s %7s %9s %9s %9s %7s %-18s %4s %4s %-7s %s\n",
	       "TIME", "GIL", "PID", "ACQ/s", "SW/s", "DROP/s", "FORCE/s",
	       "BLK/s", "WAIT", "HOFF_P50", "HOFF_P99", "HOLDER", "BLOCKED_IN",
	       "WTRS", "THRS", "POLICY", "COMM");
}

static void print_table_line(const struct line *l)
{
	char wait[16], p50[16], p99[16];

	printf("%7.1f %5lld %7lld %9.1f %8.1f %8.1f %8.1f %7.1f %9s %9s %9s %7lld %-18.18s %4lld %4lld %-7s %s\n",
	       l->time, l->gil, l->pid, l->acq, l->sw, l->drop, l->force,
	       l->blk, fmt_word(wait, sizeof(wait), l->wait),
	       fmt_word(p50, sizeof(p50), l->p50),
	       fmt_word(p99, sizeof(p99), l->p99),
	       l->holder, l->holder_wchan, l->waiters, l->threads, l->policy,
	       l->comm);
}

/*
 * A string field, in double quotes: JSON escapes quotes, backslashes and
 * control characters; CSV doubles quotes (RFC 4180).
 */
static void print_string(const char *s, enum format format)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (format == CSV && c == '"')
			fputs("\"\"", stdout);
		else if (format == JSON && (c == '"' || c == '\\'))
			printf("\\%c", c);
		else if (format == JSON && c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* -j: {"time":1.003,"gil":3,...}; -c: 1.003,3,...  None: null, or empty. */
static void print_record(const struct line *l, enum format format)
{
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		const void *v = (const char *)l + fields[i].off;

		if (format == JSON)
			printf("%s\"%s\":", i ? "," : "{", fields[i].name);
		else if (i)
			putchar(',');
		switch (fields[i].kind) {
		case K_TIME:
			printf("%.3f", *(const double *)v);
			break;
		case K_RATE:
			printf("%.1f", *(const double *)v);
			break;
		case K_NS:
			if (*(const double *)v >= 0)
				printf("%.0f", *(const double *)v);
			else if (format == JSON)
				fputs("null", stdout);
			break;
		case K_INT:
			printf("%lld", *(const long long *)v);
			break;
		case K_STR:
			print_string(*(const char *const *)v, format);
			break;
		}
	}
	puts(format == JSON ? "}" : "");
}

/*
 * Where thread @tid sleeps in the kernel: its wchan into @wchan ("-" if
 * not known or not asleep), and the return value, the system call
 * /proc/TID/syscall names (-1: none, running, or not ours to read).
 */
static long long blocked_in(long long tid, char *wchan, size_t len)
{
	char path[64], buf[64];
	long long nr = -1;
	FILE *f;

	snprintf(wchan, len, "-");
	snprintf(path, sizeof(path), PROC "/%lld/wchan", tid);
	f = fopen(path, "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && buf[0] && strcmp(buf, "0"))
			snprintf(wchan, len, "%s", buf);
		fclose(f);
	}
	snprintf(path, sizeof(path), PROC "/%lld/syscall", tid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%lld", &nr) != 1)
			nr = -1;	/* "running" */
		fclose(f);
	}
	return nr;
}

/*
 * One GIL's line: @cur against @prev, or against zero for a GIL opened
 * since (its counters started at zero within the interval).  Ids start
 * again from 1 when the module is reloaded: a GIL whose opener changed or
 * whose counters went back is a new one.
 */
static void print_gil(enum format format, double t, double dt,
		      const struct sample *cur, const struct sample *prev)
{
	static const struct sample zero;
	unsigned long long d[HIST_BUCKETS];
	char wchan[64] = "-";
	long long syscall_nr = -1;
	unsigned long long contended;
	struct line l;
	int i;

	if (!prev || prev->opener_pid != cur->opener_pid ||
	    prev->acquisitions > cur->acquisitions)
		prev = &zero;
	for (i = 0; i < HIST_BUCKETS; i++)
		d[i] = cur->hist[i] - prev->hist[i];
	contended = cur->contended - prev->contended;
	if (cur->holder_blocked && cur->holder > 0)
		syscall_nr = blocked_in(cur->holder, wchan, sizeof(wchan));
	l = (struct line){
		.time = t,
		.gil = (long long)cur->id,
		.pid = cur->opener_pid,
		.acq = (double)(cur->acquisitions - prev->acquisitions) / dt,
		.sw = (double)(cur->switch_number - prev->switch_number) / dt,
		.drop = (double)(cur->drop_requests - prev->drop_requests) / dt,
		.force = (double)(cur->forced_switches -
				  prev->forced_switches) / dt,
		.blk = (double)(cur->blocked_requests -
				prev->blocked_requests) / dt,
		.wait = contended ? (double)(cur->wait_ns - prev->wait_ns) /
				    (double)contended : -1,
		.p50 = hist_quantile(d, 0.50),
		.p99 = hist_quantile(d, 0.99),
		.holder = cur->holder,
		.holder_blocked = cur->holder_blocked,
		.holder_syscall = syscall_nr,
		.holder_wchan = wchan,
		.waiters = cur->nr_waiters,
		.threads = cur->threads,
		.policy = cur->policy[0] ? cur->policy : "-",
		.comm = cur->comm,
	};
	if (format == JSON || format == CSV)
		print_record(&l, format);
	else
		print_table_line(&l);
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
	bool redraw = o->format == TABLE && isatty(STDOUT_FILENO);
	bool records = o->format == JSON || o->format == CSV;
	int64_t start, next, step = (int64_t)(o->interval * NSEC_PER_SEC);
	double t;
	int printed = 0, ret = 0;
	size_t i;

	if (take_snapshot(o, prev)) {
		fprintf(stderr, "%s: %s: %s\n", prog, PROC, strerror(errno));
		ret = 1;
		goto out;
	}
	start = next = prev->t_ns;
	if (!redraw)
		print_header(o->format);
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
			print_header(o->format);
		}
		t = (double)(cur->t_ns - start) / NSEC_PER_SEC;
		for (i = 0; i < cur->n; i++)
			print_gil(o->format, t,
				  (double)(cur->t_ns - prev->t_ns) /
					  NSEC_PER_SEC,
				  &cur->s[i], find_sample(prev, cur->s[i].id));
		/* JSON and CSV have records of GILs only. */
		if (!cur->n && !records)
			printf("%7.1f (no GIL open)\n", t);
		fflush(stdout);
		prev = cur;
		printed++;
	}
out:
	free(snaps[0].s);
	free(snaps[1].s);
	return ret;
}

static void usage(void)
{
	printf("usage: %s [-i seconds] [-n count] [-p | -j | -c] [id...]\n"
	       "  -i SECONDS  sampling interval, 0.01..3600 (default 1)\n"
	       "  -n COUNT    print COUNT samples, then exit (default: until interrupted)\n"
	       "  -p          plain output for logs: no redrawing, header once\n"
	       "  -j          JSON lines: an object per GIL per interval\n"
	       "  -c          CSV: a header line, then a line per GIL per interval\n"
	       "  -h, --help  this help\n"
	       "  id...       only these GILs\n"
	       "GILs of processes it may not look at are not shown: run as root to see all.\n"
	       "Exit: 0 after COUNT samples, 1 when /proc cannot be read, 2 on usage.\n",
	       prog);
}

/* An id operand: a GIL's id, a positive integer. */
static bool parse_id(const char *s, unsigned long long *id)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;		/* strtoull takes "-1" and " 1" */
	errno = 0;
	*id = strtoull(s, &end, 10);
	return !*end && !errno && *id;
}

/* -p, -j, -c: one output format at a time. */
static int parse_format(int key, const char *arg, void *value)
{
	enum format *f = value;
	enum format format = key == 'p' ? PLAIN : key == 'j' ? JSON : CSV;

	(void)arg;
	if (*f && *f != format)
		return cli_usage_error(prog, "-p, -j and -c: one output format at a time");
	*f = format;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o = { .interval = 1.0 };
	const struct cli_option opts[] = {
		CLI_OPT_DOUBLE('i', &o.interval, "an interval in seconds", 0.01,
			       3600),
		CLI_OPT_INT('n', &o.count, "a count of samples", 1, INT_MAX),
		CLI_OPT_PARSE('p', CLI_FLAG, &o.format, parse_format),
		CLI_OPT_PARSE('j', CLI_FLAG, &o.format, parse_format),
		CLI_OPT_PARSE('c', CLI_FLAG, &o.format, parse_format),
		CLI_OPT_END,
	};
	const struct cli cli = { prog, usage, opts, true };
	int i, ret;

	cli_parse(&cli, argc, argv);
	if (optind < argc) {
		o.nr_ids = (size_t)(argc - optind);
		o.ids = calloc(o.nr_ids, sizeof(*o.ids));
		if (!o.ids)
			return 1;
		for (i = optind; i < argc; i++) {
			if (!parse_id(argv[i], &o.ids[i - optind])) {
				free(o.ids);
				return cli_usage_error(prog, "'%s' is not a GIL id (a positive integer)",
						       argv[i]);
			}
		}
	}
	ret = run(&o);
	free(o.ids);
	return ret;
}
