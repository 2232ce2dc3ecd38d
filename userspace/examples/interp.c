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
 */
#include <poll.h>
#include <pthread.h>

#include "../demos/demo.h"

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

static void *thread_main(void *arg)
{
	struct thread *th = arg;

	th->err = run_holding_gil(th->vm->gil, run, th);
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

int main(int argc, char **argv)
{
	int nthreads = 2, ret;
	long loops = 2000000, io = 0;
	double interval = 0;
	enum gil_backend backend = GIL_BACKEND_DEFAULT;
	struct thread threads[64], io_thread = { 0 }, feeder = { 0 };
	struct gil_stats st;
	struct vm vm = { 0 };
	int64_t t0;

	for (int i = 1; i < argc - 1; i += 2) {
		if (!strcmp(argv[i], "-b")) {
			ret = gil_backend_from_name(argv[i + 1]);
			if (ret < 0) {
				fprintf(stderr, "interp: unknown backend %s\n", argv[i + 1]);
				return 2;
			}
			backend = (enum gil_backend)ret;
		} else if (!strcmp(argv[i], "-t")) {
			nthreads = atoi(argv[i + 1]);
		} else if (!strcmp(argv[i], "-n")) {
			loops = atol(argv[i + 1]);
		} else if (!strcmp(argv[i], "-i")) {
			interval = atof(argv[i + 1]);
		} else if (!strcmp(argv[i], "-io")) {
			io = atol(argv[i + 1]);
		}
	}
	if (nthreads < 1 || nthreads > 64 || loops < 1) {
		fprintf(stderr, "usage: interp [-b backend] [-t 1..64] [-n loops] [-i interval_s] [-io N]\n");
		return 2;
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

	t0 = now_ns();
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
	printf("backend %s: %d threads x %ld loops in %.3f s\n",
	       gil_backend_name(gil_backend(vm.gil)), nthreads, loops, (double)(now_ns() - t0) / 1e9);
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
	       (long)nthreads * loops);
	gil_close(vm.gil);
	ret = vm.shared == (long)nthreads * loops ? 0 : 1;
	for (int i = 0; i < nthreads; i++)
		ret |= threads[i].err != 0;
	return ret | (io_thread.err != 0);
}
