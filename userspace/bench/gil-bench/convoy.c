// SPDX-License-Identifier: MIT
/*
 * The convoy: how long an I/O thread, woken by a request, waits for the
 * GIL while N CPU-bound eval loops hold it (CPython's convoy effect,
 * bpo-7946).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gil-bench.h"

#define CONVOY0_SAMPLES		800
#define CONVOY_SAMPLES		240
#define CONVOY_CHUNK_NS		(5 * NSEC_PER_SEC)
#define CONVOY_INTERVAL		0.005

/*
 * An I/O thread answers requests: it blocks in read() with the GIL
 * released, as Py_BEGIN_ALLOW_THREADS does, then takes the GIL back.  A
 * feeder thread (no GIL: another process, the network) sends each request
 * at a random gap after the previous answer.  N eval loops compete for the
 * GIL meanwhile.
 */
struct convoy {
	struct evalloops cpu;
	int pipe[2];
	uint32_t done;		/* requests answered */
	int64_t t0;
	int64_t *lat;
	int nlat;
	int64_t interval_ns;
};

static void *convoy_io_thread(void *arg)
{
	struct convoy *c = arg;
	struct gil_tstate *ts;
	char byte;

	pin(0);
	ts = tstate(c->cpu.gil);
	check("gil_acquire", gil_acquire(ts));
	for (;;) {
		ssize_t n;

		GIL_BEGIN_ALLOW_THREADS(ts)
		n = read(c->pipe[0], &byte, 1);
		GIL_END_ALLOW_THREADS(ts)
		if (n != 1)
			die("read", n < 0 ? errno : EIO);
		if (byte == 'q')
			break;
		c->lat[c->nlat++] = now_ns() - load64(&c->t0);
		publish(&c->done, (uint32_t)c->nlat);
	}
	check("gil_release", gil_release(ts));
	tstate_done(ts);
	return NULL;
}

void run_convoy(const struct variant *var, int ncpu)
{
	struct convoy c = { .cpu.n = ncpu };
	int n = per_round(ncpu ? CONVOY_SAMPLES : CONVOY0_SAMPLES);
	pthread_t io;
	char name[32];
	int64_t end;
	int sent;

	c.cpu.gil = gil_new(var, CONVOY_INTERVAL);
	c.interval_ns = (int64_t)(CONVOY_INTERVAL * 1e9);
	c.lat = xcalloc((size_t)n, sizeof(*c.lat));
	if (pipe2(c.pipe, O_CLOEXEC))
		die("pipe", errno);
	evalloops_spawn(&c.cpu);
	io = spawn(convoy_io_thread, &c);
	/* The feeder (this thread) on the other CPU than the I/O thread. */
	pin(ncpus > 1 ? 1 : 0);
	/* Every CPU thread has run, and the I/O thread waits in read(). */
	wait_ge(&c.cpu.started, (uint32_t)ncpu);
	sleep_ns(2 * c.interval_ns);

	end = now_ns() + CONVOY_CHUNK_NS;
	for (sent = 0; sent < n && now_ns() < end; sent++) {
		wait_ge(&c.done, (uint32_t)sent);
		/* A gap of 0.5-2.5 ms, unrelated to the switch interval. */
		sleep_ns(500000 + (int64_t)(rnd() % 2000000));
		store64(&c.t0, now_ns());
		if (write(c.pipe[1], "r", 1) != 1)
			die("write", errno);
	}
	wait_ge(&c.done, (uint32_t)sent);
	if (write(c.pipe[1], "q", 1) != 1)
		die("write", errno);
	pthread_join(io, NULL);
	evalloops_stop(&c.cpu);
	pin(-1);
	if (c.nlat < n)
		warn("convoy-%d on %s: %d of %d requests in %llds", ncpu,
		     var->label, c.nlat, n,
		     CONVOY_CHUNK_NS / NSEC_PER_SEC);
	snprintf(name, sizeof(name), "convoy-%d", ncpu);
	add(series(name, var->label), c.lat, (size_t)c.nlat);
	close(c.pipe[0]);
	close(c.pipe[1]);
	gil_done(c.cpu.gil, series(name, var->label));
	free(c.lat);
}
