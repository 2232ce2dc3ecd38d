"""N Python threads counting down for S seconds, on the GIL PYTHONGIL
chose: something to watch with gilstat (make demo).

usage: PYTHONGIL=... python3 spin.py [THREADS] [SECONDS]
"""
import sys
import threading
import time


def spin(until):
    n = 0
    while time.monotonic() < until:
        n += 1


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
    until = time.monotonic() + seconds
    ts = [threading.Thread(target=spin, args=(until,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


if __name__ == "__main__":
    main()
