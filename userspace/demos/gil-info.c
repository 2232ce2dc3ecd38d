// SPDX-License-Identifier: MIT
/*
 * gil-info: what the loaded gil.ko reports about a new GIL, through libgil's
 * kernel backend: the module's ABI version, the switch interval and handoff
 * policy a new GIL starts with (the module's default_interval_us and
 * default_policy), its eval breaker (the word its holders poll, in a page
 * shared with userspace) and its statistics, all zero.
 *
 * usage: gil-info [/dev/gil]
 * Exit: 0 on success, 1 on a libgil error (gil.ko not loaded), 2 on usage.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/cli.h"

static const char prog[] = "gil-info";

static void usage(void)
{
	printf("usage: gil-info [/dev/gil]\n"
	       "  The ABI version of the loaded gil.ko, and the switch interval,\n"
	       "  handoff policy, eval breaker and statistics of a new GIL.\n"
	       "  The device can only be /dev/gil, the one libgil opens.\n"
	       "  -h, --help  this help\n"
	       "Exit: 0 on success, 1 on a libgil error, 2 on usage.\n");
}

/* Says what failed; returns 1, the error exit code. */
static int fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(-err));
	return 1;
}

int main(int argc, char **argv)
{
	unsigned int major, minor;
	struct gil_stats st;
	struct gil *gil;
	double interval;
	const struct cli_option opts[] = { CLI_OPT_END };
	const struct cli cli = { prog, usage, opts, true };
	int policy, ret;

	cli_parse(&cli, argc, argv);
	/* Its argument was once any device; libgil opens /dev/gil only. */
	if (optind < argc && strcmp(argv[optind], "/dev/gil"))
		return cli_usage_error(prog, "'%s': no longer supported, only /dev/gil (libgil opens it)",
				       argv[optind]);
	if (optind < argc)
		optind++;
	if (cli_no_operands(prog, argc, argv))
		return CLI_USAGE;
	if (cli_open_gil(prog, &gil, GIL_BACKEND_KERNEL, 0))
		return 1;
	ret = gil_kernel_abi(gil, &major, &minor);
	if (ret)
		return fail("gil_kernel_abi", ret);
	ret = gil_get_switch_interval(gil, &interval);
	if (ret)
		return fail("gil_get_switch_interval", ret);
	policy = gil_get_policy(gil);
	if (policy < 0)
		return fail("gil_get_policy", policy);
	ret = gil_get_stats(gil, &st);
	if (ret)
		return fail("gil_get_stats", ret);

	printf("/dev/gil: kgil ABI version %u.%u (this program was built for %u.%u)\n",
	       major, minor, GIL_ABI_MAJOR, GIL_ABI_MINOR);
	printf("switch interval of a new GIL: %lld us\n", llround(interval * 1e6));
	printf("handoff policy of a new GIL: %s\n",
	       gil_policy_name((unsigned int)policy));
	printf("eval breaker: %#x\n",
	       __atomic_load_n(gil_eval_breaker(gil), __ATOMIC_RELAXED));
	printf("statistics: acquisitions %llu, switch_number %llu, drop requests %llu\n",
	       (unsigned long long)st.acquisitions,
	       (unsigned long long)st.switch_number,
	       (unsigned long long)st.drop_requests);
	ret = gil_close(gil);
	return ret ? fail("gil_close", ret) : 0;
}
