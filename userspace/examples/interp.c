// SPDX-License-Identifier: MIT
/*
 * interp: a tiny bytecode interpreter whose threads share one GIL, used the
 * way CPython uses its own: the eval loop holds the GIL, checks the eval
 * breaker at backward jumps (gil_check), and releases the GIL around
 * blocking I/O (GIL_BEGIN/END_ALLOW_THREADS).
 *
 * Each CPU thread runs a countdown loop that also increments a counter
 * shared by all threads without atomics: only the GIL keeps it exact.
 * An optional I/O thread sleeps in a blocking read between its bytecodes.
 *
 * usage: interp [-b backend] [-t threads] [-n loops] [-i interval_s] [-io N]
 * Exit: 0 when the counter is exact, 1 otherwise or on a libgil error,
 * 2 on usage.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* libgil's header alone: the example builds from an installed libgil. */
#include <gil.h>

enum op { OP_PUSH, OP_LOAD, OP_STORE, OP_SUB, OP_DUP, OP_JNZ, OP_INCR_SHARED,
	  OP_READ_PIPE, OP_HALT };

struct insn {
	enum op op;
	long arg;
};

/*
 * for (local0 = arg; local0; local0--) BODY;  where BODY is OP_INCR_SHARED
 * for a CPU thread and OP_READ_PIPE for the I/O thread.
 */
#define LOOP_BODY 1
static const struct insn loop_template[] = {
	{ OP_STORE, 0 },
	{ OP_HALT, 0 },			/* LOOP_BODY, the loop's target */
	{ OP_LOAD, 0 },
	{ OP_PUSH, 1 },
	{ OP_SUB, 0 },
	{ OP_DUP, 0 },
	{ OP_STORE, 0 },
	{ OP_JNZ, LOOP_BODY },
	{ OP_HALT, 0 },
};

#define LOOP_LEN (sizeof(loop_template) / sizeof(loop_template[0]))

#define MAX_THREADS 64
/* The shared counter, MAX_THREADS times the loops, fits in a long. */
#define MAX_LOOPS (LONG_MAX / MAX_THREADS)
#define MAX_IO 1000000L		/* bytes, a millisecond each */
#define OPT_IO 256		/* -io: no short option */

struct vm {
	struct gil *gil;
	long shared;			/* protected by the GIL only */
	int pipe[2];
};

struct thread {
	struct vm *vm;
	struct insn code[LOOP_LEN];
	long arg;
	long yields;
	int err;
	pthread_t tid;
};

static int run(struct gil_tstate *ts, void *arg)
{
	struct thread *th = arg;
	long stack[16], locals[4] = { 0 };
	int sp = 0, pc = 0, ret;
	char byte;

	stack[sp++] = th->arg;
	for (;;) {
		const struct insn *in = &th->code[pc++];

		switch (in->op) {
		case OP_PUSH:
			stack[sp++] = in->arg;
			break;
		case OP_LOAD:
			stack[sp++] = locals[in->arg];
			break;
		case OP_STORE:
			locals[in->arg] = stack[--sp];
			break;
		case OP_SUB:
			sp--;
			stack[sp - 1] -= stack[sp];
			break;
		case OP_DUP:
			stack[sp] = stack[sp - 1];
			sp++;
			break;
		case OP_JNZ:
			if (!stack[--sp])
				break;
			/* A backward jump: CPython's _CHECK_PERIODIC. */
			ret = gil_check(ts);
			if (ret < 0)
				return ret;
			th->yields += ret;
			pc = (int)in->arg;
			break;
		case OP_INCR_SHARED:
			th->vm->shared++;
			break;
		case OP_READ_PIPE:
			GIL_BEGIN_ALLOW_THREADS(ts)
			ret = read(th->vm->pipe[0], &byte, 1) == 1 ? 0 : -EIO;
			GIL_END_ALLOW_THREADS(ts)
			if (ret)
				return ret;
			break;
		case OP_HALT:
			return 0;
		}
	}
}

static void thread_init(struct thread *th, struct vm *vm, enum op body,
			long arg)
{
	*th = (struct thread){ .vm = vm, .arg = arg };
	memcpy(th->code, loop_template, sizeof(loop_template));
	th->code[LOOP_BODY].op = body;
}

/*
 * An interpreter thread's life: a thread state, attached to this thread;
 * the GIL, held while the bytecode runs; then all of it undone.
 */
static void *thread_main(void *arg)
{
	struct thread *th = arg;
	struct gil_tstate *ts;

	th->err = gil_tstate_new(th->vm->gil, &ts);
	if (th->err)
		return NULL;
	th->err = gil_tstate_attach(ts);
	if (!th->err) {
		th->err = gil_acquire(ts);
		if (!th->err) {
			th->err = run(ts, th);
			gil_release(ts);
		}
		gil_tstate_detach(ts);
	}
	gil_tstate_free(ts);
	return NULL;
}

/* Feeds the I/O thread one byte per millisecond, without any GIL. */
static void *feeder_main(void *arg)
{
	struct thread *th = arg;
	struct timespec ms = { 0, 1000000 };

	for (long i = 0; i < th->arg; i++) {
		nanosleep(&ms, NULL);
		if (write(th->vm->pipe[1], "x", 1) != 1)
			break;
	}
	return NULL;
}

static const char prog[] = "interp";

static void usage(void)
{
	printf("usage: interp [-b backend] [-t threads] [-n loops] [-i interval_s] [-io N]\n"
	       "  CPU threads count loops down under one GIL, each incrementing a counter\n"
	       "  that only the GIL keeps exact; an optional I/O thread reads N bytes\n"
	       "  from a pipe, fed one a millisecond, releasing the GIL around each read.\n"
	       "  -b   kernel, cpython or futex (default: $GIL_BACKEND, else kernel)\n"
	       "  -t   CPU threads, 1..%d (default 2)\n"
	       "  -n   loops per CPU thread, 1..%ld (default 2000000)\n"
	       "  -i   switch interval in seconds, up to 3600 (default: the GIL's)\n"
	       "  -io  bytes for the I/O thread to read, 0..%ld (default 0: no I/O thread)\n"
	       "  -h, --help  this help\n"
	       "Exit: 0 when the counter is exact, 1 otherwise or on a libgil error,\n"
	       "2 on usage.\n", MAX_THREADS, MAX_LOOPS, MAX_IO);
}

static double seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/*
 * Bad usage, after a line on stderr that says what (getopt's, or ours):
 * where to look, and 2, the exit code of bad usage.
 */
static int try_help(void)
{
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return 2;
}

/* The whole of @val as a number in [@lo, @hi]: 0, or bad usage of @opt. */
static int number(const char *opt, const char *val, long lo, long hi,
		  const char *what, long *v)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(val, &end, 10);
	if (end == val || *end || errno || x < lo || x > hi) {
		fprintf(stderr, "%s: %s: '%s' is not %s (%ld..%ld)\n", prog, opt,
			val, what, lo, hi);
		return try_help();
	}
	*v = x;
	return 0;
}

int main(int argc, char **argv)
{
	/*
	 * -io has a single dash: getopt_long_only takes it for the long
	 * option, and -i (a short option) for -i.
	 */
	static const struct option long_opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "io", required_argument, NULL, OPT_IO },
		{ NULL, 0, NULL, 0 },
	};
	long nthreads = 2, loops = 2000000, io = 0;
	double interval = 0, t0;
	enum gil_backend backend = GIL_BACKEND_DEFAULT;
	struct thread threads[MAX_THREADS], io_thread = { 0 }, feeder = { 0 };
	struct gil_stats st;
	struct vm vm = { 0 };
	int opt, b, ret = 0;
	char *end;

	while ((opt = getopt_long_only(argc, argv, "b:t:n:i:h", long_opts,
				       NULL)) != -1) {
		switch (opt) {
		case 'b':
			b = gil_backend_from_name(optarg);
			if (b < 0) {
				fprintf(stderr, "%s: -b: '%s' is not a backend (kernel, cpython, futex)\n",
					prog, optarg);
				return try_help();
			}
			backend = (enum gil_backend)b;
			break;
		case 't':
			ret = number("-t", optarg, 1, MAX_THREADS,
				     "a thread count", &nthreads);
			break;
		case 'n':
			ret = number("-n", optarg, 1, MAX_LOOPS, "a loop count",
				     &loops);
			break;
		case OPT_IO:
			ret = number("-io", optarg, 0, MAX_IO, "a byte count", &io);
			break;
		case 'i':
			/* As gil_set_switch_interval takes it. */
			interval = strtod(optarg, &end);
			if (end == optarg || *end || !(interval > 0) ||
			    interval * 1e6 > (double)GIL_INTERVAL_MAX_US) {
				fprintf(stderr, "%s: -i: '%s' is not a switch interval in seconds (0 < s <= 3600)\n",
					prog, optarg);
				return try_help();
			}
			break;
		case 'h':
			usage();
			return 0;
		default:
			return try_help();
		}
		if (ret)
			return ret;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: '%s': unexpected argument\n", prog,
			argv[optind]);
		return try_help();
	}

	ret = gil_open(&vm.gil, backend);
	if (ret) {
		fprintf(stderr, "interp: gil_open: %s\n", strerror(-ret));
		return 1;
	}
	if (interval > 0 && (ret = gil_set_switch_interval(vm.gil, interval))) {
		fprintf(stderr, "interp: switch interval: %s\n", strerror(-ret));
		return 1;
	}
	if (pipe(vm.pipe))
		return 1;

	t0 = seconds();
	for (int i = 0; i < nthreads; i++) {
		thread_init(&threads[i], &vm, OP_INCR_SHARED, loops);
		pthread_create(&threads[i].tid, NULL, thread_main, &threads[i]);
	}
	if (io) {
		thread_init(&io_thread, &vm, OP_READ_PIPE, io);
		thread_init(&feeder, &vm, OP_HALT, io);
		pthread_create(&io_thread.tid, NULL, thread_main, &io_thread);
		pthread_create(&feeder.tid, NULL, feeder_main, &feeder);
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(threads[i].tid, NULL);
	if (io) {
		pthread_join(io_thread.tid, NULL);
		pthread_join(feeder.tid, NULL);
	}

	gil_get_stats(vm.gil, &st);
	printf("backend %s: %ld threads x %ld loops in %.3f s\n",
	       gil_backend_name(gil_backend(vm.gil)), nthreads, loops,
	       seconds() - t0);
	for (int i = 0; i < nthreads; i++)
		printf("  thread %d: %ld yields%s%s\n", i, threads[i].yields,
		       threads[i].err ? ", error: " : "",
		       threads[i].err ? strerror(-threads[i].err) : "");
	printf("  switches %llu, drop requests %llu, forced %llu, voluntary %llu\n",
	       (unsigned long long)st.switch_number,
	       (unsigned long long)st.drop_requests,
	       (unsigned long long)st.forced_switches,
	       (unsigned long long)st.voluntary_releases);
	printf("  shared counter %ld (expected %ld)\n", vm.shared,
	       nthreads * loops);
	gil_close(vm.gil);
	ret = vm.shared == nthreads * loops ? 0 : 1;
	for (int i = 0; i < nthreads; i++)
		ret |= threads[i].err != 0;
	return ret | (io_thread.err != 0);
}
