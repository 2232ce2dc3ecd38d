// SPDX-License-Identifier: MIT
/* cli.c: the programs' command lines (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* After a message on stderr, getopt's own included.  Returns CLI_USAGE. */
static int try_help(const char *prog)
{
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return CLI_USAGE;
}

int cli_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return try_help(prog);
}

int cli_bad_value(const char *prog, int key, const char *val,
		  const char *fmt, ...)
{
	char what[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return cli_usage_error(prog, "-%c: '%s' is not %s", key, val, what);
}

int cli_no_operands(const char *prog, int argc, char **argv)
{
	if (optind == argc)
		return 0;
	return cli_usage_error(prog, "'%s': unexpected argument", argv[optind]);
}

/* The whole of @s as an int in [@o->min, @o->max]. */
static bool parse_int(const struct cli_option *o, const char *s)
{
	char *endp;
	long x;

	errno = 0;
	x = strtol(s, &endp, 10);
	if (endp == s || *endp || errno || x < (long)o->min || x > (long)o->max)
		return false;
	*(int *)o->value = (int)x;
	return true;
}

/* The whole of @s as a double within @o's bounds. */
static bool parse_double(const struct cli_option *o, const char *s)
{
	char *endp;
	double x = strtod(s, &endp);

	if (endp == s || *endp || !(x > 0) || !isfinite(x) || x < o->min ||
	    (o->max > 0 && x > o->max))
		return false;
	*(double *)o->value = x;
	return true;
}

/* @o's value @arg where it goes; 0, or CLI_USAGE after saying why. */
static int take(const char *prog, const struct cli_option *o, const char *arg)
{
	if (o->parse)
		return o->parse(o->key, arg, o->value);
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)o->value = true;
		return 0;
	case CLI_STRING:
		*(const char **)o->value = arg;
		return 0;
	case CLI_INT:
		if (parse_int(o, arg))
			return 0;
		return cli_bad_value(prog, o->key, arg, "%s (%ld..%ld)", o->what,
				     (long)o->min, (long)o->max);
	case CLI_DOUBLE:
		if (parse_double(o, arg))
			return 0;
		if (o->min > 0)
			return cli_bad_value(prog, o->key, arg, "%s (%g..%g)",
					     o->what, o->min, o->max);
		if (o->max > 0)
			return cli_bad_value(prog, o->key, arg, "%s (0 < s <= %g)",
					     o->what, o->max);
		return cli_bad_value(prog, o->key, arg, "%s (> 0)", o->what);
	}
	return 0;
}

void cli_parse(const struct cli *cli, int argc, char **argv)
{
	static const struct option help[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_option *o;
	char optstring[256];	/* each key once, an ASCII character */
	size_t n = 0;
	int key, ret;

	for (o = cli->opts; o->key; o++) {
		optstring[n++] = (char)o->key;
		if (o->kind != CLI_FLAG)
			optstring[n++] = ':';
	}
	optstring[n++] = 'h';
	optstring[n] = 0;
	while ((key = getopt_long(argc, argv, optstring, help, NULL)) != -1) {
		if (key == 'h') {
			cli->usage();
			exit(0);
		}
		for (o = cli->opts; o->key && o->key != key; o++)
			;
		/* '?': getopt said what */
		ret = o->key ? take(cli->prog, o, optarg) : try_help(cli->prog);
		if (ret)
			exit(ret);
	}
	if (!cli->operands && cli_no_operands(cli->prog, argc, argv))
		exit(CLI_USAGE);
}

int cli_backends(const char *prog, const char *arg, const char *dflt,
		 struct cli_backends *bs)
{
	const char *name = arg ? arg : getenv("GIL_BACKEND");

	if (!name)
		name = dflt;
	if (!strcmp(name, "all")) {
		bs->first = GIL_BACKEND_KERNEL;
		bs->last = GIL_BACKEND_FUTEX;
		return 0;
	}
	bs->first = bs->last = gil_backend_from_name(name);
	if (bs->first < 0)
		return cli_usage_error(prog, "%s: '%s' is not a backend (kernel, cpython, futex, all)",
				       arg ? "-b" : "$GIL_BACKEND", name);
	return 0;
}

bool cli_backend_absent(const struct cli_backends *bs, int backend)
{
	return bs->first != bs->last && backend == GIL_BACKEND_KERNEL &&
	       access("/dev/gil", F_OK);
}

int cli_for_each_backend(const struct cli_backends *bs,
			 int (*run)(enum gil_backend backend, void *arg),
			 void *arg)
{
	int status = 0;

	for (int b = bs->first; b <= bs->last; b++) {
		if (cli_backend_absent(bs, b)) {
			printf("backend kernel: skipped, no /dev/gil (gil.ko not loaded)\n\n");
			continue;
		}
		status |= run((enum gil_backend)b, arg);
		if (bs->first != bs->last)
			putchar('\n');
	}
	return status;
}

int cli_open_gil(const char *prog, struct gil **gil, enum gil_backend backend,
		 double interval)
{
	int ret = gil_open(gil, backend);

	if (ret) {
		fprintf(stderr, "%s: gil_open(%s): %s%s\n", prog,
			gil_backend_name(backend), strerror(-ret),
			ret == -ENOENT ? " (is gil.ko loaded?)" : "");
		return 1;
	}
	if (interval > 0 && (ret = gil_set_switch_interval(*gil, interval))) {
		fprintf(stderr, "%s: switch interval: %s\n", prog, strerror(-ret));
		gil_close(*gil);
		return 1;
	}
	return 0;
}
