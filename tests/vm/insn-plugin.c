// SPDX-License-Identifier: GPL-2.0
/*
 * A QEMU TCG plugin that counts the guest instructions executed between
 * two marks, by translation block, for tests/insn-profile.sh.
 *
 * Under TCG a guest's time is mostly the emulator running its
 * instructions, which no clock in the guest can split by function; this
 * counts them.  The mark is the first instruction of a kernel function the
 * guest's plan calls around the workload (the system call getppid(), which
 * no program of ours makes otherwise): every time a vCPU runs it, counting
 * starts or stops, and a stop writes "window N", then one line per
 * translation block that ran: its address, its length in instructions and
 * how often it ran.  A block a vCPU leaves early (an interrupt, a fault)
 * counts whole: the counts are a little high, the same for every workload.
 *
 * With gate=0xADDR (a second function), a window counts only between
 * two runs of that one: the start and the end of each measured span,
 * whichever vCPU they run on.  The window's line then also says how many
 * times the gate ran and how long, in host time, it was open; and, for
 * the spans that closed on the vCPU thread that opened them (one vCPU did
 * all the work), how many there were, their host time, that thread's CPU
 * time and its voluntary and involuntary context switches: whether the
 * emulator spent the span computing or waiting (for QEMU's big lock, a
 * halt, the host's scheduler).  Every window's line also says how many
 * blocks were translated while counting.
 *
 * With ops=1 the window also gets "op MNEMONIC COUNT" lines: how many of
 * each instruction ran (from QEMU's disassembly), to find those TCG runs
 * at a cost of their own.
 *
 * With mem=1 it also counts the memory accesses counted instructions make,
 * and those of them that reach a device (MMIO, which QEMU emulates
 * outside the translated code).
 *
 * usage: -plugin insn-plugin.so,mark=0xADDR,out=FILE[,gate=0xADDR][,mem=1][,ops=1]
 *
 * Built against the plugin API of Debian 12's QEMU (7.2, API version 1),
 * which ships no header for it: the declarations below are that API's.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/resource.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
struct qemu_plugin_hwaddr;
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_RW = 3 };
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu,
					  qemu_plugin_meminfo_t info,
					  uint64_t vaddr, void *udata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id,
					       struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu, void *udata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *udata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *udata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *udata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb,
						 size_t idx);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
				      qemu_plugin_vcpu_mem_cb_t cb,
				      enum qemu_plugin_cb_flags flags,
				      enum qemu_plugin_mem_rw rw, void *udata);
struct qemu_plugin_hwaddr *qemu_plugin_get_hwaddr(qemu_plugin_meminfo_t info,
						  uint64_t vaddr);
bool qemu_plugin_hwaddr_is_io(const struct qemu_plugin_hwaddr *haddr);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One translation of a block; a block translated anew gets another. */
struct block {
	uint64_t vaddr;
	uint64_t insns;
	uint64_t runs;
	uint16_t *ops;		/* with ops=1: each instruction's mnemonic */
};

/* Mnemonics seen, by number (ops=1). */
#define MAX_OPS 1024
static char *op_names[MAX_OPS];
static uint64_t op_runs[MAX_OPS];
static unsigned int nr_ops;
static bool ops;

/* vCPUs translate and run the mark concurrently: blocks is under lock. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct block **blocks;
static size_t nr_blocks, cap_blocks;
static uint64_t mark, gate;
static bool window_open, gate_open, counting;
static unsigned int window;
static uint64_t gate_runs, gate_ns, gate_t0;

/* A span's cost to the vCPU thread that ran it (gate_ran). */
struct thread_use {
	pid_t tid;
	uint64_t cpu_ns;
	uint64_t vcsw, ivcsw;
};
static struct thread_use gate_use0;
static uint64_t same_spans, same_ns, same_cpu_ns, same_vcsw, same_ivcsw;
static bool mem;
static uint64_t mem_accesses, mem_io;
/* Blocks translated while counting: code TCG had no translation of. */
static uint64_t translated;
static FILE *out;

static void block_ran(unsigned int vcpu, void *udata)
{
	struct block *b = udata;

	(void)vcpu;
	if (__atomic_load_n(&counting, __ATOMIC_RELAXED))
		__atomic_fetch_add(&b->runs, 1, __ATOMIC_RELAXED);
}

/* Under lock.  The first word of the disassembly; MAX_OPS - 1: others. */
static uint16_t op_number(const char *disas)
{
	size_t len = strcspn(disas, " \t");
	unsigned int i;

	for (i = 0; i < nr_ops; i++)
		if (strlen(op_names[i]) == len && !strncmp(op_names[i], disas, len))
			return (uint16_t)i;
	if (nr_ops == MAX_OPS - 1)
		return MAX_OPS - 1;
	op_names[nr_ops] = strndup(disas, len);
	if (!op_names[nr_ops])
		abort();
	return (uint16_t)nr_ops++;
}

static void window_end(void)
{
	fprintf(out,
		"window %u gate_runs %llu gate_ns %llu same %llu same_ns %llu same_cpu_ns %llu same_vcsw %llu same_ivcsw %llu mem %llu io %llu translated %llu\n",
		++window, (unsigned long long)gate_runs,
		(unsigned long long)gate_ns,
		(unsigned long long)same_spans, (unsigned long long)same_ns,
		(unsigned long long)same_cpu_ns, (unsigned long long)same_vcsw,
		(unsigned long long)same_ivcsw,
		(unsigned long long)__atomic_exchange_n(&mem_accesses, 0,
							__ATOMIC_RELAXED),
		(unsigned long long)__atomic_exchange_n(&mem_io, 0,
							__ATOMIC_RELAXED),
		(unsigned long long)translated);
	gate_runs = gate_ns = translated = 0;
	same_spans = same_ns = same_cpu_ns = same_vcsw = same_ivcsw = 0;
	for (size_t i = 0; i < nr_blocks; i++) {
		struct block *b = blocks[i];
		uint64_t runs = __atomic_exchange_n(&b->runs, 0,
						    __ATOMIC_RELAXED);

		if (!runs)
			continue;
		fprintf(out, "%llx %llu %llu\n", (unsigned long long)b->vaddr,
			(unsigned long long)b->insns, (unsigned long long)runs);
		for (uint64_t k = 0; b->ops && k < b->insns; k++)
			op_runs[b->ops[k]] += runs;
	}
	for (unsigned int i = 0; i < MAX_OPS; i++) {
		if (op_runs[i])
			fprintf(out, "op %s %llu\n",
				i < nr_ops ? op_names[i] : "(other)",
				(unsigned long long)op_runs[i]);
		op_runs[i] = 0;
	}
	fflush(out);
}

static uint64_t host_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
}

static struct thread_use thread_use(void)
{
	struct thread_use u = { .tid = gettid() };
	struct timespec t;
	struct rusage r;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	getrusage(RUSAGE_THREAD, &r);
	u.cpu_ns = (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
	u.vcsw = (uint64_t)r.ru_nvcsw;
	u.ivcsw = (uint64_t)r.ru_nivcsw;
	return u;
}

/* Under lock: count in an open window, between gates if there are any. */
static void set_counting(void)
{
	__atomic_store_n(&counting, window_open && (!gate || gate_open),
			 __ATOMIC_RELAXED);
}

static void mark_ran(unsigned int vcpu, void *udata)
{
	(void)vcpu;
	(void)udata;
	pthread_mutex_lock(&lock);
	window_open = !window_open;
	gate_open = false;
	set_counting();
	if (!window_open)
		window_end();
	pthread_mutex_unlock(&lock);
}

static void gate_ran(unsigned int vcpu, void *udata)
{
	struct thread_use u;
	uint64_t now;

	(void)vcpu;
	(void)udata;
	pthread_mutex_lock(&lock);
	if (window_open) {
		u = thread_use();
		now = host_ns();
		gate_open = !gate_open;
		gate_runs++;
		if (gate_open) {
			gate_t0 = now;
			gate_use0 = u;
		} else {
			gate_ns += now - gate_t0;
			if (u.tid == gate_use0.tid) {
				same_spans++;
				same_ns += now - gate_t0;
				same_cpu_ns += u.cpu_ns - gate_use0.cpu_ns;
				same_vcsw += u.vcsw - gate_use0.vcsw;
				same_ivcsw += u.ivcsw - gate_use0.ivcsw;
			}
		}
		set_counting();
	}
	pthread_mutex_unlock(&lock);
}

static void mem_accessed(unsigned int vcpu, qemu_plugin_meminfo_t info,
			 uint64_t vaddr, void *udata)
{
	struct qemu_plugin_hwaddr *hw;

	(void)vcpu;
	(void)udata;
	if (!__atomic_load_n(&counting, __ATOMIC_RELAXED))
		return;
	__atomic_fetch_add(&mem_accesses, 1, __ATOMIC_RELAXED);
	hw = qemu_plugin_get_hwaddr(info, vaddr);
	if (hw && qemu_plugin_hwaddr_is_io(hw))
		__atomic_fetch_add(&mem_io, 1, __ATOMIC_RELAXED);
}

static void block_translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	struct block *b = calloc(1, sizeof(*b));

	(void)id;
	if (!b)
		abort();
	b->vaddr = qemu_plugin_tb_vaddr(tb);
	b->insns = qemu_plugin_tb_n_insns(tb);
	pthread_mutex_lock(&lock);
	if (ops) {
		b->ops = calloc(b->insns, sizeof(*b->ops));
		if (!b->ops)
			abort();
		for (size_t i = 0; i < b->insns; i++) {
			char *d = qemu_plugin_insn_disas(qemu_plugin_tb_get_insn(tb, i));

			b->ops[i] = op_number(d ? d : "?");
			free(d);
		}
	}
	if (nr_blocks == cap_blocks) {
		cap_blocks = cap_blocks ? 2 * cap_blocks : 65536;
		blocks = realloc(blocks, cap_blocks * sizeof(*blocks));
		if (!blocks)
			abort();
	}
	blocks[nr_blocks++] = b;
	if (counting)
		translated++;
	pthread_mutex_unlock(&lock);
	if (b->vaddr == mark)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, mark_ran,
						     QEMU_PLUGIN_CB_NO_REGS,
						     NULL);
	if (gate && b->vaddr == gate)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, gate_ran,
						     QEMU_PLUGIN_CB_NO_REGS,
						     NULL);
	qemu_plugin_register_vcpu_tb_exec_cb(tb, block_ran,
					     QEMU_PLUGIN_CB_NO_REGS, b);
	for (size_t i = 0; mem && i < b->insns; i++)
		qemu_plugin_register_vcpu_mem_cb(qemu_plugin_tb_get_insn(tb, i),
						 mem_accessed,
						 QEMU_PLUGIN_CB_NO_REGS,
						 QEMU_PLUGIN_MEM_RW, NULL);
}

static void plugin_exit(qemu_plugin_id_t id, void *udata)
{
	(void)id;
	(void)udata;
	fclose(out);
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info,
			int argc, char **argv)
{
	const char *path = NULL;

	(void)info;
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "mark=", 5))
			mark = strtoull(argv[i] + 5, NULL, 16);
		else if (!strncmp(argv[i], "out=", 4))
			path = argv[i] + 4;
		else if (!strncmp(argv[i], "gate=", 5))
			gate = strtoull(argv[i] + 5, NULL, 16);
		else if (!strcmp(argv[i], "mem=1"))
			mem = true;
		else if (!strcmp(argv[i], "ops=1"))
			ops = true;
	}
	if (!mark || !path) {
		fprintf(stderr, "insn-plugin: needs mark=0xADDR,out=FILE\n");
		return -1;
	}
	out = fopen(path, "w");
	if (!out) {
		perror(path);
		return -1;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, block_translated);
	qemu_plugin_register_atexit_cb(id, plugin_exit, NULL);
	return 0;
}
