/* SPDX-License-Identifier: MIT */
/*
 * cli.h: the command lines of the demos, gil-bench and gilstat.
 *
 * A program lists its options in a table; cli_parse() reads them.  -h and
 * --help print the usage on stdout and exit 0.  Bad usage exits 2
 * (CLI_USAGE) with nothing on stdout: a line on stderr that names the
 * option and quotes its value, "PROG: -t: 'abc' is not a thread count
 * (1..64)", then "Try 'PROG --help'.".  cli_parse() exits so itself, as
 * argp_parse does; what main checks after it, main refuses with
 * cli_usage_error() or cli_bad_value() and returns CLI_USAGE.
 * tests/cli-check.sh holds them all to it.
 *
 * Then the backends a run covers, "-b backend|all", and the run on each.
 */
#ifndef KGIL_CLI_H
#define KGIL_CLI_H

#include <stdbool.h>

#include <gil.h>

/* The exit code of bad usage. */
#define CLI_USAGE 2

/* What an option takes, and where it goes without a parse(). */
enum cli_kind {
	CLI_FLAG,	/* no value: *(bool *)value = true */
	CLI_STRING,	/* a value: *(const char **)value = it, as it is */
	CLI_INT,	/* an int in [min, max] */
	/* A finite double > 0 and >= min; <= max unless max is 0. */
	CLI_DOUBLE,
};

struct cli_option {
	int key;		/* its letter */
	enum cli_kind kind;
	void *value;		/* where the value goes */
	/*
	 * A bad value "is not WHAT (RANGE)": RANGE from min and max, "1..64";
	 * for a double "> 0", "0 < s <= MAX" or "MIN..MAX".
	 */
	const char *what;
	double min, max;
	/*
	 * Instead of the kind's own: @arg (NULL for a flag) into @value.
	 * Returns 0, or CLI_USAGE after saying why.
	 */
	int (*parse)(int key, const char *arg, void *value);
};

/* The table's rows, by kind. */
#define CLI_OPT_FLAG(k, v)	{ .key = (k), .kind = CLI_FLAG, .value = (v) }
#define CLI_OPT_STRING(k, v)	{ .key = (k), .kind = CLI_STRING, .value = (v) }
#define CLI_OPT_INT(k, v, w, lo, hi) \
	{ .key = (k), .kind = CLI_INT, .value = (v), .what = (w), \
	  .min = (lo), .max = (hi) }
#define CLI_OPT_DOUBLE(k, v, w, lo, hi) \
	{ .key = (k), .kind = CLI_DOUBLE, .value = (v), .what = (w), \
	  .min = (lo), .max = (hi) }
/* A switch interval, as gil_set_switch_interval takes it. */
#define CLI_OPT_INTERVAL(k, v) \
	CLI_OPT_DOUBLE(k, v, "a switch interval in seconds", 0, \
		       GIL_INTERVAL_MAX_US / 1e6)
/* A flag (@kind CLI_FLAG) or a value (CLI_STRING) that @fn takes. */
#define CLI_OPT_PARSE(k, kind_, v, fn) \
	{ .key = (k), .kind = (kind_), .value = (v), .parse = (fn) }
#define CLI_OPT_END		{ .key = 0 }

struct cli {
	const char *prog;
	void (*usage)(void);		/* the text of -h and --help */
	const struct cli_option *opts;	/* ends with a key of 0 */
	bool operands;			/* argv[optind..] are the caller's */
};

/*
 * Reads the options of @argv into their values; a program without
 * operands takes none.  Returns when they are good; exits 0 after the
 * usage, CLI_USAGE after saying what is wrong.
 */
void cli_parse(const struct cli *cli, int argc, char **argv);

/* "PROG: MESSAGE", then "Try 'PROG --help'.".  Returns CLI_USAGE. */
int cli_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "PROG: -KEY: 'VAL' is not WHAT", WHAT from @fmt.  Returns CLI_USAGE. */
int cli_bad_value(const char *prog, int key, const char *val,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* No operands from optind on: 0, or CLI_USAGE after saying so. */
int cli_no_operands(const char *prog, int argc, char **argv);

/* The backends a run covers, in enum gil_backend's order: one, or all. */
struct cli_backends {
	int first, last;
};

/*
 * From -b's @arg, else $GIL_BACKEND, else @dflt: a backend's name or
 * "all".  Returns 0, or CLI_USAGE after saying which was wrong.
 */
int cli_backends(const char *prog, const char *arg, const char *dflt,
		 struct cli_backends *bs);
/* In "all", the kernel backend without gil.ko (no /dev/gil): passed over. */
bool cli_backend_absent(const struct cli_backends *bs, int backend);
/*
 * @run on each backend of @bs in turn, a blank line after each when there
 * are several; one that is absent is passed over, saying so.  Returns the
 * OR of @run's returns.
 */
int cli_for_each_backend(const struct cli_backends *bs,
			 int (*run)(enum gil_backend backend, void *arg),
			 void *arg);

/*
 * gil_open, then the switch interval when @interval > 0; says what failed.
 * Returns 0, or 1 (the error exit code) with nothing left open.
 */
int cli_open_gil(const char *prog, struct gil **gil,
		 enum gil_backend backend, double interval);

#endif /* KGIL_CLI_H */
