"""Beazley's convoy on real CPython, for make demo: an I/O thread's socket
round trips beside 0, 1, 2 and 4 CPU-bound threads, on the GIL PYTHONGIL
chose.  Under CPython's GIL (PYTHONGIL=cpython or kernel) each round trip
beside a CPU-bound thread waits for it to be forced off, about a switch
interval; under /dev/gil's io policy (PYTHONGIL=kernel:io) the I/O thread
takes the GIL back at once.

usage: PYTHONGIL=... python3 convoy.py [REQUESTS]
"""
import os
import statistics
import sys

from workloads import run_convoy


def main():
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    gil = os.environ.get("PYTHONGIL") or "cpython"
    print("PYTHONGIL=%s, switch interval %g ms, %d round trips each"
          % (gil, sys.getswitchinterval() * 1e3, requests))
    # Warm up: under QEMU's TCG, code runs slowly the first time.
    run_convoy(0, requests)
    print("%12s %14s %14s" % ("CPU threads", "median (us)", "requests/s"))
    for ncpu in (0, 1, 2, 4):
        lat, rps = run_convoy(ncpu, requests)
        print("%12d %14.0f %14.0f" % (ncpu, statistics.median(lat), rps))


if __name__ == "__main__":
    main()
