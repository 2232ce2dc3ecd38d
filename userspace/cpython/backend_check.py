"""Check that PYTHONGIL chose the GIL CPython runs on, from the outside:
with "kernel[:POLICY]" the process has /dev/gil open, its fdinfo names the
policy, follows sys.setswitchinterval() and counts the handoffs of two
threads; with "cpython" or "futex" no /dev/gil is open.

usage: PYTHONGIL=... python3 backend_check.py     (exit 0: as expected)
"""
import os
import sys
import threading


def gil_fdinfo():
    """/proc/self/fdinfo of the process's /dev/gil descriptor, or None."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + fd) == "/dev/gil":
                with open("/proc/self/fdinfo/" + fd) as f:
                    return dict(line.rstrip("\n").split(":\t", 1)
                                for line in f if ":\t" in line)
        except OSError:
            pass
    return None


def spin(n):
    while n:
        n -= 1


def main():
    spec = os.environ.get("PYTHONGIL", "cpython") or "cpython"
    backend, _, policy = spec.partition(":")
    info = gil_fdinfo()
    if backend != "kernel":
        if info is not None:
            sys.exit("PYTHONGIL=%s, yet /dev/gil is open" % spec)
        print("PYTHONGIL=%s: no /dev/gil open" % spec)
        return
    if info is None:
        sys.exit("PYTHONGIL=%s, yet no /dev/gil is open" % spec)
    want = policy or "cpython"
    if info["policy"] != want:
        sys.exit("policy %s, expected %s" % (info["policy"], want))
    sys.setswitchinterval(0.002)
    info = gil_fdinfo()
    if info["interval_us"] != "2000":
        sys.exit("interval_us %s after setswitchinterval(0.002)"
                 % info["interval_us"])
    # Reading fdinfo is I/O, done with the GIL released: the GIL is free
    # then, and was taken again after every read.
    if info["holder"] != "0" or int(info["voluntary_releases"]) < 2:
        sys.exit("holder %s, %s voluntary releases while reading fdinfo"
                 % (info["holder"], info["voluntary_releases"]))
    ts = [threading.Thread(target=spin, args=(1_000_000,)) for _ in range(2)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    info = gil_fdinfo()
    if int(info["drop_requests"]) == 0 or int(info["contended"]) == 0:
        sys.exit("two spinning threads, yet drop_requests %s, contended %s"
                 % (info["drop_requests"], info["contended"]))
    print("PYTHONGIL=%s: /dev/gil, policy %s, %s drop requests, "
          "%s forced switches" % (spec, info["policy"], info["drop_requests"],
                                  info["forced_switches"]))


if __name__ == "__main__":
    main()
