#!/usr/bin/env python3
"""make check: bench-report.py on a short host run of gil-bench (userspace
backends only), as it is and with kernel variants made up from the
cpython backend's samples, whose verdicts are known:

  kernel-same  the cpython samples themselves: indistinguishable from cpython
  kernel-up    the cpython samples plus 1000 s: every round's median above
               all of cpython's, so "slower" (J: "fairer")

and with a made-up record of the host's load (tests/bench.sh's
host-env.txt, host-load.csv, rounds.csv) of a busy-host run (hogs=1) in
which only round 2 had more runnable threads than the host's 2 CPUs.
The policies' summary has the columns gil-bench's table of figures gives
it; the output of a gil-bench older than those columns still gets its
table and floors, no summary, and a note saying why.

usage: bench-report-check.py GIL-BENCH-OUTPUT WORKDIR
"""
import csv
import json
import os
import subprocess
import sys

REPORT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench-report.py")
SHIFT = 10**12  # 1000 s in ns, J and iv in millionths: above any sample


def report(output, outdir):
    subprocess.run([sys.executable, REPORT, output, outdir], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(outdir, "table.txt")) as f:
        table = f.read()
    with open(os.path.join(outdir, "results.json")) as f:
        return table, json.load(f)["figures"]


def made_up(lines):
    """gil-bench's output with every cpython row, sample line and round
    line again as kernel-same and kernel-up."""
    out, block = [], None
    for line in lines:
        out.append(line)
        if line.startswith("GIL-BENCH-"):
            block = line[len("GIL-BENCH-"):].rsplit("-", 1)[0] if line.endswith("-BEGIN") else None
            continue
        sep = "," if block == "CSV" else " "
        f = line.split(sep)
        if block not in ("CSV", "SAMPLES", "ROUNDS") or len(f) < 3 or f[1] != "cpython":
            continue
        out.append(sep.join([f[0], "kernel-same"] + f[2:]))
        if block == "SAMPLES":
            f[3:] = [str(int(v) + SHIFT) for v in f[3:]]
        out.append(sep.join([f[0], "kernel-up"] + f[2:]))
    return out


def figure_table(lines):
    """gil-bench's table of figures: where it starts and ends in @lines
    (a slice), and its rows."""
    at = slice(lines.index("GIL-BENCH-FIGURES-BEGIN") + 1,
               lines.index("GIL-BENCH-FIGURES-END"))
    return at, list(csv.DictReader(lines[at]))


def summary_fails(lines, table, work):
    """The summary's columns against the table of figures', and the report
    of an older gil-bench's output (its table of figures cut to name, unit,
    floor, group)."""
    fails = []
    at, figs = figure_table(lines)
    want = [f["name"] for f in sorted(figs, key=lambda f: int(f["summary"]))
            if int(f["summary"])]
    head = [ln.split() for ln in table.splitlines() if ln.startswith("variant ")]
    got = [c for c in head[0][1:] if c != "(min)"] if head else []
    if got != want:
        fails.append("summary: columns %s, not the table of figures' %s" % (got, want))
    old = list(lines)
    old[at] = [",".join(ln.split(",")[:4]) for ln in lines[at]]
    older = os.path.join(work, "older.txt")
    with open(older, "w") as f:
        f.write("\n".join(old) + "\n")
    note = subprocess.run([sys.executable, REPORT, older, os.path.join(work, "older")],
                          check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True).stderr
    with open(os.path.join(work, "older", "table.txt")) as f:
        old_table = f.read()
    if "older gil-bench" not in note or "Per variant:" in old_table or \
            "floor-futex-same" not in old_table:
        fails.append("older gil-bench: no note (%r), or a summary, or no floors" % note)
    return fails


def host_files(hostdir):
    """Two rounds of 3 s on a 2-CPU host: 2 runnable threads besides the
    sampler throughout round 1, 3 for a second of round 2."""
    os.makedirs(hostdir, exist_ok=True)
    with open(os.path.join(hostdir, "host-env.txt"), "w") as f:
        f.write("cpus=2\nhogs=1\n")
    with open(os.path.join(hostdir, "host-load.csv"), "w") as f:
        f.write("epoch,procs_running,procs_blocked,load1,load5,load15\n")
        for t, running in enumerate([3, 3, 3, 3, 4, 3, 3]):
            f.write("%d.5,%d,0,2.00,2.00,2.00\n" % (1000 + t, running))
        f.write("1007.5,3")  # cut short by the sampler's end
    with open(os.path.join(hostdir, "rounds.csv"), "w") as f:
        f.write("event,round,host_epoch\nround,1,1000.0\nround,2,1003.0\nend,,1006.0\n")


def main():
    output, work = sys.argv[1], sys.argv[2]
    fails = []

    table, figures = report(output, os.path.join(work, "as-is"))
    head = [ln for ln in table.splitlines() if ln.startswith("figure") and "rounds' p50" in ln]
    if not head or not all(c in head[0] for c in ("boot95 p50", "vs cpy", "vs futex")):
        fails.append("table.txt: no spread table with rounds' p50, boot95 p50, vs cpy, vs futex")
    for r in figures:
        if r["backend"] == "-":
            continue
        # The median of all samples lies within its rounds' medians (the
        # CSV's p50 is rounded to its last decimal).
        lo, hi = r.get("p50_rounds", (0, -1))
        blo, bhi = r.get("p50_boot95", (0, -1))
        if (len(r.get("round_p50", [])) != 2 or blo > bhi
                or not lo * 0.999 - 1e-6 <= r["p50"] <= hi * 1.001 + 1e-6):
            fails.append("%s %s: no spread over 2 rounds (%s)" % (
                r["name"], r["backend"], {k: r.get(k) for k in
                                          ("round_p50", "p50_rounds", "p50_boot95")}))

    with open(output) as f:
        lines = f.read().splitlines()
    fails += summary_fails(lines, table, work)
    fake = os.path.join(work, "made-up.txt")
    with open(fake, "w") as f:
        f.write("\n".join(made_up(lines)) + "\n")
    table, figures = report(fake, os.path.join(work, "made-up"))
    want = {"kernel-same": "indistinguishable", "kernel-up": "slower"}
    checked = 0
    for r in figures:
        if r["backend"] not in want:
            continue
        v = r.get("verdicts", {})
        expect = want[r["backend"]]
        if r["unit"] == "J" and expect == "slower":
            expect = "fairer"
        got = v.get("cpython", {}).get("verdict")
        if got != expect or "futex" not in v:
            fails.append("%s %s: verdict against cpython %s, not %s (or none against futex)"
                         % (r["name"], r["backend"], got, expect))
        checked += 1
    if not checked:
        fails.append("made-up kernel variants: no verdict at all")
    hostdir = os.path.join(work, "host")
    host_files(hostdir)
    subprocess.run([sys.executable, REPORT, output, hostdir,
                    os.path.join(hostdir, "host-env.txt")], check=True,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(hostdir, "results.json")) as f:
        busy = [r["busy"] for r in json.load(f)["environment"].get("host_rounds", [])]
    with open(os.path.join(hostdir, "table.txt")) as f:
        table = f.read()
    env_lines = subprocess.run([sys.executable, REPORT, "--round-load", hostdir], check=True,
                               stdout=subprocess.PIPE, text=True).stdout.splitlines()
    if (busy != [False, True] or "CPUs in round 2:" not in table
            or [ln.endswith("busy") for ln in env_lines] != [False, True]):
        fails.append("host load: busy rounds %s, not [False, True], or no warning "
                     "naming round 2, or --round-load says %s" % (busy, env_lines))
    if not table.startswith("BUSY HOST: 1 CPU-bound processes"):
        fails.append("host load: hogs=1, but table.txt does not start with BUSY HOST")

    for line in fails:
        print("bench-report-check: " + line)
    print("bench-report-check: %d verdicts checked, %d failures" % (checked, len(fails)))
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
