// SPDX-License-Identifier: GPL-2.0
/*
 * gilstat (userspace/tools/gilstat.c), run on two GILs of this process: a
 * held one with a waiter and a busy one, each sampled twice.  Every line
 * must show the right GIL, opener, holder, waiters, threads and name, and
 * acquisitions on the busy GIL only; so must every record of -j (each line
 * a JSON object with every key once, numbers as numbers) and -c (a header,
 * then rows of as many fields).  And run by an unprivileged user, it shows
 * that user's GILs, from fdinfo, without root.  Runs the gilstat in $PATH
 * (the guest's /bin).
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "uapi.h"

/* One GIL's line of gilstat, in any format; durations as printed, "-": none. */
struct row {
	double time;
	long long gil, pid;
	double acq, sw, drop, force, blk;
	char wait[16], p50[16], p99[16];
	long long holder, holder_blocked, holder_syscall;
	char wchan[48];
	long long waiters, threads;
	char policy[16], comm[32];
};

/* The keys of -j, the columns of -c (in this order), and where they go. */
enum kind { V_DOUBLE, V_INT, V_NS, V_STR };

static const struct {
	const char *key;
	enum kind kind;
	size_t off, len;
} fields[] = {
#define F(key, kind, m) \
	{ #key, kind, offsetof(struct row, m), sizeof(((struct row *)0)->m) }
	F(time, V_DOUBLE, time), F(gil, V_INT, gil), F(pid, V_INT, pid),
	F(acq_per_s, V_DOUBLE, acq), F(sw_per_s, V_DOUBLE, sw),
	F(drop_per_s, V_DOUBLE, drop), F(force_per_s, V_DOUBLE, force),
	F(blk_per_s, V_DOUBLE, blk),
	F(wait_ns, V_NS, wait), F(hoff_p50_ns, V_NS, p50),
	F(hoff_p99_ns, V_NS, p99), F(holder, V_INT, holder),
	F(holder_blocked, V_INT, holder_blocked),
	F(holder_syscall, V_INT, holder_syscall),
	F(holder_wchan, V_STR, wchan),
	F(waiters, V_INT, waiters), F(threads, V_INT, threads),
	F(policy, V_STR, policy), F(comm, V_STR, comm),
#undef F
};

#define NR_FIELDS ((int)T_ARRAY_SIZE(fields))

/* What a JSON value or CSV field was: its text unquoted, and its type. */
enum vtype { T_NUMBER, T_STRING, T_NULL };

/*
 * A number as JSON writes it: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * Returns its end, or NULL.
 */
static const char *skip_number(const char *p)
{
	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (isdigit((unsigned char)*p))
		while (isdigit((unsigned char)*p))
			p++;
	else
		return NULL;
	if (*p == '.') {
		if (!isdigit((unsigned char)*++p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return NULL;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return p;
}

/* Field @i of @r from a value of type @t and text @v.  0, or -1. */
static int set_field(struct row *r, int i, enum vtype t, const char *v)
{
	void *dst = (char *)r + fields[i].off;
	char *end;

	switch (fields[i].kind) {
	case V_DOUBLE:
		CHECK(t == T_NUMBER);
		*(double *)dst = strtod(v, NULL);
		return 0;
	case V_INT:
		CHECK(t == T_NUMBER);
		*(long long *)dst = strtoll(v, &end, 10);
		CHECK(!*end);		/* no fraction, no exponent */
		return 0;
	case V_NS:
		CHECK(t != T_STRING);
		if (t == T_NULL)
			v = "-";
		else
			CHECK(*v != '-' && strlen(v) < fields[i].len);
		snprintf(dst, fields[i].len, "%s", v);
		return 0;
	case V_STR:
		CHECK(t == T_STRING && strlen(v) < fields[i].len);
		snprintf(dst, fields[i].len, "%s", v);
		return 0;
	}
	return -1;
}

static int field_index(const char *key)
{
	for (int i = 0; i < NR_FIELDS; i++)
		if (!strcmp(fields[i].key, key))
			return i;
	return -1;
}

/* One line of gilstat -p, split into its columns. */
static int parse_table_row(char *line, struct row *r)
{
	CHECK(sscanf(line,
		     "%lf %lld %lld %lf %lf %lf %lf %lf %15s %15s %15s %lld %47s %lld %lld %15s %31s",
		     &r->time, &r->gil, &r->pid, &r->acq, &r->sw, &r->drop,
		     &r->force, &r->blk, r->wait, r->p50, r->p99, &r->holder,
		     r->wchan, &r->waiters, &r->threads, r->policy,
		     r->comm) == 17);
	/* The table shows where the holder sleeps, not whether. */
	r->holder_blocked = strcmp(r->wchan, "-") != 0;
	r->holder_syscall = -1;
	return 0;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * A JSON string at @p, unescaped into @buf (of @len); returns its end, or
 * NULL when it is not one or does not fit.
 */
static const char *json_string(const char *p, char *buf, size_t len)
{
	static const char esc[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
	size_t n = 0;
	unsigned int c;

	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		c = (unsigned char)*p++;
		if (c < 0x20)
			return NULL;	/* the end of the line, or a raw control */
		if (c == '\\') {
			const char *e = *p ? strchr(esc, *p) : NULL;

			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				sscanf(p + 1, "%4x", &c);
				p += 5;
			} else if (e && (e - esc) % 2 == 0) {
				c = (unsigned char)e[1];
				p++;
			} else {
				return NULL;
			}
		}
		if (n + 1 >= len)
			return NULL;
		buf[n++] = (char)c;
	}
	buf[n] = 0;
	return p + 1;
}

/*
 * One line of gilstat -j: a JSON object with every key of fields[] once,
 * each with a value of its kind, and nothing else.
 */
static int parse_json_row(char *line, struct row *r)
{
	bool seen[T_ARRAY_SIZE(fields)] = { false };
	char key[32], val[64];
	const char *p = skip_ws(line), *end;
	enum vtype t;
	int i;

	CHECK(*p++ == '{');
	do {
		p = json_string(skip_ws(p), key, sizeof(key));
		CHECK(p);
		p = skip_ws(p);
		CHECK(*p++ == ':');
		p = skip_ws(p);
		if (*p == '"') {
			t = T_STRING;
			end = json_string(p, val, sizeof(val));
		} else if (!strncmp(p, "null", 4)) {
			t = T_NULL;
			end = p + 4;
			val[0] = 0;
		} else {
			t = T_NUMBER;
			end = skip_number(p);
			if (end && end - p < (ptrdiff_t)sizeof(val))
				snprintf(val, sizeof(val), "%.*s", (int)(end - p), p);
			else
				end = NULL;
		}
		if (!end)
			printf("    not a JSON value after \"%s\": %s\n", key, p);
		CHECK(end);
		i = field_index(key);
		if (i < 0 || seen[i])
			printf("    key \"%s\": %s\n", key,
			       i < 0 ? "unknown" : "twice");
		CHECK(i >= 0 && !seen[i]);
		seen[i] = true;
		CHECK(set_field(r, i, t, val) == 0);
		p = skip_ws(end);
	} while (*p == ',' && p++);
	CHECK(*p++ == '}');
	CHECK(*skip_ws(p) == 0);
	for (i = 0; i < NR_FIELDS; i++) {
		if (!seen[i])
			printf("    no key \"%s\"\n", fields[i].key);
		CHECK(seen[i]);
	}
	return 0;
}

/*
 * The CSV field at @*p (RFC 4180: quoted when it starts with '"', "" for
 * a quote) into @buf; *p moves to the comma or the end after it.  Its
 * type: quoted, a string; empty, none; else it must be a number.
 */
static void csv_field(const char **p, char *buf, size_t len, enum vtype *t)
{
	const char *s = *p;
	size_t n = 0;

	if (*s == '"') {
		*t = T_STRING;
		for (s++; *s != '"' || s[1] == '"'; s++) {
			CHECK(*s && n + 1 < len);
			if (*s == '"')
				s++;
			buf[n++] = *s;
		}
		s++;
	} else {
		for (; *s && *s != ','; s++) {
			CHECK(n + 1 < len);
			buf[n++] = *s;
		}
		*t = n ? T_NUMBER : T_NULL;
	}
	buf[n] = 0;
	if (*t == T_NUMBER) {
		const char *end = skip_number(buf);

		CHECK(end && !*end);
	}
	CHECK(*s == ',' || !*s);
	*p = s;
}

/* One row of gilstat -c: as many fields as the header, each of its kind. */
static int parse_csv_row(char *line, struct row *r)
{
	const char *p = line;
	char val[64];
	enum vtype t;

	for (int i = 0; i < NR_FIELDS; i++) {
		if (i)
			CHECK(*p++ == ',');	/* too few fields */
		csv_field(&p, val, sizeof(val), &t);
		CHECK(set_field(r, i, t, val) == 0);
	}
	CHECK(*p == 0);				/* too many */
	return 0;
}

/* gilstat FORMAT -n 2 -i 0.3 on GILs @a and @b; its stdout in *out. */
static pid_t start_gilstat(const char *format, long long a, long long b,
			   int *out, uid_t uid)
{
	char ida[24], idb[24];
	int pfd[2];
	pid_t pid;

	snprintf(ida, sizeof(ida), "%lld", a);
	snprintf(idb, sizeof(idb), "%lld", b);
	if (pipe(pfd))
		return -1;
	pid = t_fork(30);
	if (pid == 0) {
		if (uid && setuid(uid))
			_exit(126);
		dup2(pfd[1], STDOUT_FILENO);
		close(pfd[0]);
		close(pfd[1]);
		execlp("gilstat", "gilstat", format, "-n", "2", "-i", "0.3",
		       ida, idb, (char *)NULL);
		fprintf(stderr, "    exec gilstat: %s\n", strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	*out = pfd[0];
	return pid;
}

/* The lines of @text (no header), each through @parse, then checked. */
static int check_rows(char *text, int (*parse)(char *line, struct row *r),
		      long long held, long long busy, const char *comm)
{
	int n_held = 0, n_busy = 0;
	struct row r;
	char *line, *p;

	for (line = text; *line; line = p) {
		p = strchr(line, '\n');
		CHECK(p);
		*p++ = 0;
		memset(&r, 0, sizeof(r));
		if (parse(line, &r))
			T_FAIL("in the line: %s", line);

		CHECK_CMP(r.pid, ==, getpid());
		CHECK(!strcmp(r.comm, comm));
		CHECK(r.time > 0);
		CHECK(r.acq >= 0 && r.sw >= 0 && r.drop >= 0 && r.force >= 0);
		/* No drop request, so none found a holder asleep. */
		CHECK(r.blk == 0);
		CHECK(r.holder_blocked == 0 || r.holder_blocked == 1);
		if (!r.holder_blocked)
			CHECK(!strcmp(r.wchan, "-") && r.holder_syscall == -1);
		if (r.gil == held) {
			n_held++;
			CHECK(!strcmp(r.policy, "io"));
			CHECK_CMP(r.holder, ==, t_gettid());
			CHECK_CMP(r.waiters, ==, 1);
			CHECK_CMP(r.threads, ==, 2);
			CHECK(r.acq == 0 && r.sw == 0 && r.drop == 0);
			CHECK(!strcmp(r.wait, "-") && !strcmp(r.p50, "-"));
		} else {
			CHECK_CMP(r.gil, ==, busy);
			CHECK(!strcmp(r.policy, "fifo"));
			n_busy++;
			CHECK_CMP(r.waiters, ==, 0);
			CHECK_CMP(r.threads, ==, 1);
			CHECK(r.acq > 0);
			/* The same thread again and again: no change of owner. */
			CHECK(r.sw == 0 && r.force == 0);
			/* Nobody waited, nothing was handed off. */
			CHECK(!strcmp(r.wait, "-") && !strcmp(r.p99, "-"));
		}
	}
	CHECK_CMP(n_held, ==, 2);
	CHECK_CMP(n_busy, ==, 2);
	return 0;
}

/* -p: the table's header once, then its lines. */
static int check_table(char *text, long long held, long long busy,
		       const char *comm)
{
	char *rows = strchr(text, '\n');

	CHECK(rows && !strncmp(text, "   TIME", 7));
	return check_rows(rows + 1, parse_table_row, held, busy, comm);
}

/* -j: JSON objects only. */
static int check_json(char *text, long long held, long long busy,
		      const char *comm)
{
	return check_rows(text, parse_json_row, held, busy, comm);
}

/* -c: the header, every key of fields[] in order, then the rows. */
static int check_csv(char *text, long long held, long long busy,
		     const char *comm)
{
	char header[512] = "";
	size_t len;

	for (int i = 0; i < NR_FIELDS; i++)
		snprintf(header + strlen(header), sizeof(header) - strlen(header),
			 "%s%s", i ? "," : "", fields[i].key);
	len = strlen(header);
	CHECK(!strncmp(text, header, len) && text[len] == '\n');
	return check_rows(text + len + 1, parse_csv_row, held, busy, comm);
}

/*
 * Run gilstat -FORMAT on a held GIL (a waiter behind it) and a busy one,
 * and @check what it printed.
 */
static void gilstat_run(uid_t uid, const char *comm, const char *format,
			int (*check)(char *text, long long held,
				     long long busy, const char *comm))
{
	const struct gil_page *pg;
	long long held, busy;
	struct t_waiter w;
	int fd, fd2, out, status = 0;
	char *text, *line, *p;
	pid_t pid;

	t_open_mapped(&fd, &pg);
	fd2 = t_open_dev();
	CHECK(fd2 >= 0);
	held = t_gil_id(fd);
	busy = t_gil_id(fd2);
	CHECK(held > 0 && busy > held);
	CHECK(t_set_interval(fd, 10000000) == 0);
	CHECK(ioctl(fd, GIL_IOC_SET_POLICY, &(__u32){ GIL_POLICY_IO }) == 0);
	CHECK(ioctl(fd2, GIL_IOC_SET_POLICY, &(__u32){ GIL_POLICY_FIFO }) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	CHECK(ioctl(fd2, GIL_IOC_ATTACH) == 0);

	pid = start_gilstat(format, held, busy, &out, uid);
	CHECK(pid > 0);
	/* Keep the busy GIL busy until gilstat is done. */
	while (waitpid(pid, &status, WNOHANG) == 0) {
		CHECK(ioctl(fd2, GIL_IOC_ACQUIRE) == 0);
		CHECK(ioctl(fd2, GIL_IOC_RELEASE) == 0);
		t_sleep_us(500);
	}
	text = t_read_all(out);
	close(out);
	CHECK(text);
	for (line = text; *line; line = p) {
		p = strchrnul(line, '\n');
		printf("    %.*s\n", (int)(p - line), line);
		if (*p)
			p++;
	}
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK(check(text, held, busy, comm) == 0);
	free(text);

	t_release_to_waiter(fd, &w);
	t_detach_close_gil(fd2, NULL);
	t_detach_close_gil(fd, pg);
}

/*
 * A holder asleep in the kernel (in wait4, for gilstat itself) while a
 * waiter asks, every 5 ms: gilstat -j shows the requests it cannot see,
 * that it is asleep, in which system call, and where.
 */
static void gilstat_shows_a_blocked_holder(void)
{
	const struct gil_page *pg;
	struct t_waiter w;
	int fd, out, status, rows = 0;
	char *text, *line, *p;
	long long id;
	struct row r;
	pid_t pid;

	t_open_mapped(&fd, &pg);
	id = t_gil_id(fd);
	CHECK(t_set_interval(fd, 5000) == 0);
	t_attach_acquire(fd);
	t_waiter_start_blocked(&w, fd, pg, 0);
	pid = start_gilstat("-j", id, id, &out, 0);
	CHECK(pid > 0);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	text = t_read_all(out);
	close(out);
	CHECK(text);
	for (line = text; *line; line = p) {
		p = strchr(line, '\n');
		CHECK(p);
		*p++ = 0;
		printf("    %s\n", line);
		memset(&r, 0, sizeof(r));
		if (parse_json_row(line, &r))
			T_FAIL("in the line: %s", line);
		CHECK_CMP(r.gil, ==, id);
		CHECK_CMP(r.holder, ==, t_gettid());
		CHECK(r.blk > 0);
		CHECK_CMP(r.holder_blocked, ==, 1);
		CHECK_CMP(r.holder_syscall, ==, SYS_wait4);
		CHECK(strcmp(r.wchan, "-") != 0);
		rows++;
	}
	CHECK_CMP(rows, ==, 2);
	free(text);
	t_release_to_waiter(fd, &w);
	t_detach_close_gil(fd, pg);
}

static void gilstat_shows_open_gils(void)
{
	gilstat_run(0, "test-gilstat", "-p", check_table);
}

static void gilstat_json_lines(void)
{
	gilstat_run(0, "test-gilstat", "-j", check_json);
}

static void gilstat_csv(void)
{
	gilstat_run(0, "test-gilstat", "-c", check_csv);
}

/*
 * A user who is not root sees the GILs of their own processes: fdinfo
 * needs no privilege.  Both this process and gilstat run as nobody.
 */
static void gilstat_needs_no_root(void)
{
	pid_t pid = t_fork(60);

	CHECK(pid >= 0);
	if (pid == 0) {
		/* Dumpable again after setuid, as a process started as nobody is. */
		if (prctl(PR_SET_NAME, "gilstat-nobody") || setgid(65534) ||
		    setuid(65534) || prctl(PR_SET_DUMPABLE, 1))
			_exit(2);
		gilstat_run(65534, "gilstat-nobody", "-p", check_table);
		_exit(0);
	}
	CHECK(t_child_ok(pid, 60000));
}

int main(void)
{
	T_RUN(gilstat_shows_open_gils);
	T_RUN(gilstat_json_lines);
	T_RUN(gilstat_csv);
	T_RUN(gilstat_shows_a_blocked_holder);
	T_RUN(gilstat_needs_no_root);
	return t_exit_status();
}
