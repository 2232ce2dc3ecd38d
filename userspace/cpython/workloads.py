"""kgil's Python workloads: real CPython threads on whichever GIL
PYTHONGIL chose, measured the way gil-bench measures its C loops.

usage: python3 workloads.py [-r ROUNDS] [-s SCALE] [-g NAME,...] LABEL

Runs each workload ROUNDS times and prints every sample, between
GIL-BENCH-PYSAMPLES-BEGIN and -END, a line per figure: "name LABEL unit
v v v ...".  tests/bench-report.py turns them into rows beside
gil-bench's, LABEL being the backend column (make bench runs one round of
each GIL in turn, LABEL cpython, kernel-POLICY or futex).  Every figure's
name starts "py-":

  py-loop                  one thread, no other: a pyperformance-style
                           loop of calls, arithmetic, and list and dict
                           work (ms): what the eval loop's extra check
                           and the GIL in use cost a single thread
  py-countdown-1, -2, -4   Beazley's countdown: wall time of a fixed count
                           down, on 1 thread or split over 2 and 4 (ms)
  py-convoy-0, -1, -2, -4  an I/O thread's socket round trip (send, then
                           recv of the peer's echo, the GIL released
                           around both) beside 0, 1, 2, 4 CPU-bound
                           threads: from the send until it holds the GIL
                           after the recv (us)
  py-convoy-rps-N          the same, requests per second (req/s)
  py-reacquire-0, -1, -2   a thread sleeps 200 us outside the GIL
                           (time.sleep) beside 0, 1, 2 spinning threads:
                           from the sleep's start until it holds the GIL
                           again, in switch intervals (5 ms) (intervals)
  py-slice-1ms, -5ms, -20ms  two spinning threads at that interval: how
                           long each holds the GIL at a time (ms)
  py-pool                  a concurrent.futures thread pool of 4 running a
                           mix of CPU-bound and I/O-bound (sleep) tasks:
                           wall time of the batch (ms)

Times come from time.perf_counter_ns(); a thread "holds the GIL" when it
runs Python code.
"""
import argparse
import concurrent.futures
import os
import socket
import sys
import threading
import time

NS = time.perf_counter_ns


def countdown(n):
    while n > 0:
        n -= 1


def run_countdown(total, nthreads):
    threads = [threading.Thread(target=countdown, args=(total // nthreads,))
               for _ in range(nthreads)]
    t0 = NS()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return (NS() - t0) / 1e6


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def run_loop(n):
    """pyperformance-style single-thread work: calls, float arithmetic,
    list and dict traffic.  Wall time in ms."""
    t0 = NS()
    for i in range(n):
        fib(12)
        x = 0.0
        for k in range(50):
            x += k * 1.5 / (k + 1)
        d = {j: j * j for j in range(20)}
        sum(sorted(d.values(), reverse=True))
    return (NS() - t0) / 1e6


class Spinners:
    """@n threads running Python code until stopped."""

    def __init__(self, n):
        self.stop = False
        self.threads = [threading.Thread(target=self.spin) for _ in range(n)]

    def spin(self):
        x = 0
        while not self.stop:
            x += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.stop = True
        for t in self.threads:
            t.join()


def run_convoy(ncpu, requests):
    """Round trips of an I/O thread; its peer echoes, outside the GIL."""
    a, b = socket.socketpair()

    def echo():
        while True:
            d = b.recv(1)
            if not d:
                return
            b.send(d)

    peer = threading.Thread(target=echo)
    peer.start()
    lat = []
    with Spinners(ncpu):
        t_start = NS()
        for _ in range(requests):
            t0 = NS()
            a.send(b"x")
            a.recv(1)
            lat.append((NS() - t0) / 1e3)
        elapsed = NS() - t_start
    a.close()
    peer.join()
    b.close()
    return lat, requests * 1e9 / elapsed


def run_reacquire(nspin, n):
    interval = sys.getswitchinterval()
    out = []
    with Spinners(nspin):
        for _ in range(n):
            t0 = NS()
            time.sleep(200e-6)
            out.append((NS() - t0) / (interval * 1e9))
    return out


def run_slices(interval, seconds):
    """Two spinners note the time at each step; a gap in a thread's steps is
    a slice of the other: hold times are the stretches between gaps."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(interval)
    slices = []
    lock = threading.Lock()
    stop = [False]

    def spin():
        mine = []
        start = last = NS()
        gap = interval * 1e9 / 4
        while not stop[0]:
            now = NS()
            if now - last > gap:
                # A stretch shorter than the gap is the CPU's, not the
                # GIL's: the thread was preempted right after taking it.
                if last - start >= gap:
                    mine.append((last - start) / 1e6)
                start = now
            last = now
        with lock:
            slices.extend(mine[1:])

    ts = [threading.Thread(target=spin) for _ in range(2)]
    for t in ts:
        t.start()
    time.sleep(seconds)
    stop[0] = True
    for t in ts:
        t.join()
    sys.setswitchinterval(old)
    return slices


def cpu_task(n):
    countdown(n)
    return n


def io_task(s):
    time.sleep(s)
    return s


def run_pool(tasks):
    t0 = NS()
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as ex:
        fs = []
        for i in range(tasks):
            fs.append(ex.submit(cpu_task, 20000) if i % 2
                      else ex.submit(io_task, 0.002))
        for f in fs:
            f.result()
    return (NS() - t0) / 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--rounds", type=int, default=4)
    ap.add_argument("-s", "--scale", type=float, default=1.0)
    ap.add_argument("-g", "--groups", default="")
    ap.add_argument("label")
    a = ap.parse_args()
    groups = [g for g in a.groups.split(",") if g]
    want = lambda name: not groups or any(g in name for g in groups)
    sc = a.scale
    res = {}

    def add(name, unit, v):
        res.setdefault((name, unit), []).extend(v if isinstance(v, list)
                                                else [v])

    for r in range(a.rounds):
        print("# %s: round %d of %d" % (a.label, r + 1, a.rounds),
              file=sys.stderr, flush=True)
        if want("py-loop"):
            for _ in range(5):
                add("py-loop", "ms", run_loop(max(20, int(400 * sc))))
        if want("py-countdown"):
            total = int(2_000_000 * sc)
            for n in (1, 2, 4):
                add("py-countdown-%d" % n, "ms", run_countdown(total, n))
        if want("py-convoy"):
            for n in (0, 1, 2, 4):
                lat, rps = run_convoy(n, max(10, int(100 * sc)))
                add("py-convoy-%d" % n, "us", lat)
                add("py-convoy-rps-%d" % n, "req/s", rps)
        if want("py-reacquire"):
            for n in (0, 1, 2):
                add("py-reacquire-%d" % n, "intervals",
                    run_reacquire(n, max(5, int(40 * sc))))
        if want("py-slice"):
            for ms in (1, 5, 20):
                add("py-slice-%dms" % ms, "ms",
                    run_slices(ms / 1000, max(0.1, 0.5 * sc)))
        if want("py-pool"):
            add("py-pool", "ms", run_pool(max(8, int(64 * sc))))

    print("GIL-BENCH-PYSAMPLES-BEGIN")
    for (name, unit), v in res.items():
        print(name, a.label, unit, " ".join("%.6g" % x for x in v))
    print("GIL-BENCH-PYSAMPLES-END")


if __name__ == "__main__":
    main()
