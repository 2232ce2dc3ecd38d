#!/usr/bin/env python3
"""make bench, on the host: take gil-bench's results out of the guest's
output, write them as CSV and JSON, print the table with each figure's
ratio to its floor and to the cpython backend, the policies' summary
(convoy, re-acquire, fairness, throughput per variant), the spread of
every median (per-round medians, bootstrap) with each kernel variant's
verdict against cpython and futex, and plot the distributions with
gnuplot.

usage: bench-report.py OUTPUT.txt OUTDIR [HOST-ENV-FILE]
       bench-report.py --round-load HOSTDIR
       bench-report.py --steps SAMPLES.csv NSTEPS

OUTPUT.txt is build/vm/<stage>/output.txt; gil-bench printed its results
there between marker lines (see userspace/bench/gil-bench/output.c), with
the table of its figures, which names each one's floor, its plot and its
column in the policies' summary, and the patched CPython's workloads
(userspace/cpython/workloads.py) their raw samples, whose rows ("py-...")
this computes.  A row's "backend" is gil-bench's variant: cpython, futex,
or kernel-POLICY; for "py-" rows, the GIL the interpreter ran on,
"cpython" being stock CPython's own.
Writes, in OUTDIR: results.csv (gil-bench's own rows), results.json
(environment, rows, ratios, the GILs' counters), samples.csv (every raw
sample), stats.csv (the GILs' counters per figure and variant), table.txt
(the terminal tables), table.md (the same as ratios, for
docs/BENCHMARKS.md), and <figure>.svg plots when gnuplot is installed.

Beside HOST-ENV-FILE, tests/bench.sh leaves host-load.csv (the host's
runnable threads once a second) and rounds.csv (the host's time at the
start of each gil-bench round): with them, the report gives the host's
load per round and flags the rounds in which it had more runnable threads
than CPUs.  --round-load prints that per round, for host-env.txt.

--steps prints tests/bench-steps.sh's table: per figure, the median over
the passes of each of NSTEPS modules' p50, p90 and p99, and of the
cpython and futex backends', with their range over the passes; from the
guest's "step-N,pass,<gil-bench CSV row>" lines (step-user: the
userspace backends), which the script gathered in SAMPLES.csv.

The fairness figures' unit is J, Jain's index (dimensionless, 1 = fair):
they have no floor and no ratios; their absolute J is shown instead.  The
re-acquire figures' unit is iv, switch intervals: no floor, but ratios to
the cpython backend as for the times.

Results of a gil-bench older than the plot and summary columns of its
table of figures still get their tables, but no plots and no summary of
the policies (the report says so on stderr).
"""
import csv
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import zlib
from collections import defaultdict

# What one unit is in the raw samples: ns for times, millionths for J and
# for iv (switch intervals).
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "J": 1e6, "iv": 1e6}


def blocks(lines):
    """The marker-delimited blocks of gil-bench's output, by name."""
    out, name = {}, None
    for line in lines:
        line = line.rstrip("\r\n")
        if line.startswith("GIL-BENCH-") and line.endswith("-BEGIN"):
            name = line[len("GIL-BENCH-"):-len("-BEGIN")]
            out.setdefault(name, [])  # PYSAMPLES: a block per run
        elif name and line == "GIL-BENCH-%s-END" % name:
            name = None
        elif name:
            out[name].append(line)
    return out


def keyvals(lines):
    env = {}
    for line in lines:
        k, _, v = line.partition("=")
        if k:
            env[k.strip()] = v.strip()
    return env


def reference(name, backend, rows, floors):
    """The figure a row is compared with (its floor), as (label, row or
    value in the row's unit), or None.  gil-bench names each figure's
    floor (@floors, its GIL-BENCH-FIGURES table): a figure, the variant's
    own or else the machine's, or a constant "label N unit"."""
    if name.startswith("py-"):
        return py_reference(name, backend, rows)
    floor = floors.get(name)
    if not floor:
        return None
    const = floor.rsplit(" ", 2)
    if len(const) == 3 and const[2] in UNIT_NS:
        unit = rows[(name, backend)]["unit"]
        return (floor, float(const[1]) * UNIT_NS[const[2]] / UNIT_NS[unit])
    r = rows.get((floor, backend)) or rows.get((floor, "-"))
    return (floor, r) if r else None


def py_reference(name, backend, rows):
    """The Python workloads' references: the same workload with no
    contention (1 thread, no CPU-bound thread), or the switch interval."""
    base, _, last = name.rpartition("-")
    if name.startswith("py-slice-"):
        ms = float(last[:-len("ms")])
        return ("interval %g ms" % ms, ms)
    first = {"py-countdown": "1", "py-convoy": "0", "py-convoy-rps": "0"}.get(base)
    if first is None or last == first:
        return None
    r = rows.get((base + "-" + first, backend))
    return (base + "-" + first, r) if r else None


def py_rows(lines, rows, order, samples, by_round):
    """Rows in gil-bench's form from workloads.py's raw samples, "name
    label unit v v ..." lines, a line per round (the guest runs each
    workload once per GIL and round); into @samples (ns) too, where the
    unit is a time, so that countdown pairs by round; into @by_round, in
    the row's unit."""
    series = {}
    for line in lines:
        parts = line.split()
        if len(parts) < 4:
            continue
        key = (parts[0], parts[1])
        series.setdefault(key, (parts[2], []))[1].append([float(v) for v in parts[3:]])
    for (name, backend), (unit, per_round) in series.items():
        vals = [x for r in per_round for x in r]
        by_round[(name, backend)] = per_round
        v = sorted(vals)
        rows[(name, backend)] = {
            "name": name, "backend": backend, "unit": unit,
            "p50": nearest_rank(v, .5), "p90": nearest_rank(v, .9),
            "p99": nearest_rank(v, .99), "max": v[-1], "mean": sum(v) / len(v),
            "n": len(v), "min": v[0]}
        order.append((name, backend))
        if unit in UNIT_NS:
            samples[(name, backend)] = (unit, [int(x * UNIT_NS[unit]) for x in vals])


def nearest_rank(sorted_vals, p):
    rank = math.ceil(p * len(sorted_vals))
    return sorted_vals[max(rank, 1) - 1]


def split_rounds(vals, counts):
    """@vals, in the order measured, as a list per round (@counts: how many
    each round took); one list when the counts do not fit."""
    if sum(counts) != len(vals):
        return [vals]
    out, at = [], 0
    for c in counts:
        if c:
            out.append(vals[at:at + c])
        at += c
    return out


BOOT_RESAMPLES = 2000


def boot95(vals, key):
    """The 95% percentile-bootstrap interval of the median (nearest rank)
    of @vals, over BOOT_RESAMPLES resamples, seeded by the series' name so
    that a report is reproducible.  A resample's median is drawn directly:
    the m-th smallest of n values drawn from the sorted v is
    v[floor(n * U)], U the m-th smallest of n uniforms, which is
    Beta(m, n + 1 - m); the same distribution as drawing and sorting n
    values, at the cost of one draw."""
    v = sorted(vals)
    n = len(v)
    m = max(math.ceil(n / 2), 1)
    rng = random.Random(zlib.crc32(" ".join(key).encode()))
    meds = sorted(v[min(int(n * rng.betavariate(m, n + 1 - m)), n - 1)]
                  for _ in range(BOOT_RESAMPLES))
    return [nearest_rank(meds, .025), nearest_rank(meds, .975)]


def spread(key, per_round):
    """How far the median can be trusted: each round's median, their range,
    and the bootstrap interval of the median over all samples."""
    meds = [nearest_rank(sorted(r), .5) for r in per_round if r]
    return {"round_p50": meds, "p50_rounds": [min(meds), max(meds)],
            "p50_boot95": boot95([x for r in per_round for x in r], key)}


# The backends every kernel variant gets a verdict against.
VERDICT_REFS = ["cpython", "futex"]


def verdict(r, other):
    """@r against @other, by their rounds' median ranges, or by their
    bootstrap intervals when either has a single round: "faster" or
    "slower" (J: "fairer", "less fair") when the two do not overlap, else
    "indistinguishable"; with the short form "<" (r's median is lower),
    ">" or "~", what decided, and over how many rounds."""
    rounds = min(len(r["round_p50"]), len(other["round_p50"]))
    by = "p50_rounds" if rounds > 1 else "p50_boot95"
    (lo, hi), (olo, ohi) = r[by], other[by]
    out = {"verdict": "indistinguishable", "sign": "~", "by": by, "rounds": rounds}
    if lo <= ohi and olo <= hi:
        return out
    lower = hi < olo
    out["sign"] = "<" if lower else ">"
    if r["unit"] == "J":
        out["verdict"] = "less fair" if lower else "fairer"
    else:  # a time, but for a rate, where higher is faster
        out["verdict"] = "faster" if lower != (r["unit"] == "req/s") else "slower"
    return out


def verdict_caption(figures, short):
    """What the verdicts say (@short: as "<", ">", "~") and rest on: the
    chance that two variants which do not differ get disjoint ranges of R
    round medians is 2/C(2R, R) (all R of one below all R of the other);
    one round leaves the bootstrap."""
    counts = sorted({v["rounds"] for r in figures for v in r.get("verdicts", {}).values()})
    parts = ["%d rounds: %.2g%%" % (n, 200.0 / math.comb(2 * n, n)) for n in counts if n > 1]
    lines = [
        "Spread of the median: the range of the per-round medians, and the 95%",
        "bootstrap interval of the median over all samples.  Verdicts, each kernel",
        "variant against cpython and futex: " + (
            "< its median is lower (a time: faster),\n> higher, ~ not told apart"
            if short else "faster, slower (J: fairer, less fair)\nor indistinguishable")
        + "; by the rounds' ranges, which must not overlap,",
        "or with a single round by the bootstrap intervals."]
    if parts:
        lines.append("Two variants that do not differ have disjoint ranges by chance at "
                     + ", ".join(parts) + ".")
    if 1 in counts:
        lines.append("One round: the bootstrap sees no round-to-round drift; a hint only.")
    return "\n".join(lines)


def round_load(hostdir, cpus):
    """Per gil-bench round, the host's runnable threads besides the load
    sampler (procs_running - 1: it reads /proc/stat running), from
    tests/bench.sh's host-load.csv and rounds.csv in @hostdir: a list of
    {round, start (host epoch), seconds, samples, max, mean, over (the
    share of samples above @cpus), busy (any)}; empty without the files."""
    def rows(name):
        try:
            with open(os.path.join(hostdir, name)) as f:
                return list(csv.reader(f))[1:]
        except OSError:
            return []
    load, marks = [], []
    for r in rows("host-load.csv"):
        try:  # the last line may be cut short by the sampler's end
            load.append((float(r[0]), int(r[1]) - 1))
        except (IndexError, ValueError):
            pass
    for r in rows("rounds.csv"):
        if len(r) == 3:
            marks.append((r[0], r[1], float(r[2])))
    starts = [(int(n), t) for ev, n, t in marks if ev == "round"]
    ends = [t for ev, _, t in marks if ev == "end"] + [load[-1][0] if load else 0]
    out = []
    for i, (n, t0) in enumerate(starts):
        t1 = starts[i + 1][1] if i + 1 < len(starts) else ends[0]
        v = [x for t, x in load if t0 <= t < t1]
        out.append({"round": n, "start": t0, "seconds": t1 - t0, "samples": len(v),
                    "max": max(v, default=None),
                    "mean": sum(v) / len(v) if v else None,
                    "over": sum(x > cpus for x in v) / len(v) if v else None,
                    "busy": any(x > cpus for x in v)})
    return out


def load_cells(r):
    """A round's seconds, samples, runnable max and mean, share over."""
    if not r["samples"]:
        return ["%.0f" % r["seconds"], "0", "-", "-", "-"]
    return ["%.0f" % r["seconds"], str(r["samples"]), str(r["max"]),
            "%.2f" % r["mean"], "%.0f%%" % (100 * r["over"])]


def load_lines(rounds, cpus):
    """The host's load per round as a table, and a warning naming the
    busy rounds."""
    t = [["round", "start", "seconds", "samples", "runnable max", "mean",
          "over %d" % cpus, ""]]
    t += [[str(r["round"]), "%.0f s" % (r["start"] - rounds[0]["start"])]
          + load_cells(r) + ["BUSY" if r["busy"] else ""] for r in rounds]
    lines = ["The host during gil-bench's rounds: runnable threads besides the load",
             "sampler, once a second (QEMU's two vCPU threads among them)", ""]
    lines += render(t, {7}, groups=False)
    busy = [str(r["round"]) for r in rounds if r["busy"]]
    if busy:
        lines += ["", "warning: the host had more runnable threads than its %d CPUs in "
                  "round%s %s:\ntheir figures are the host's as much as the GILs'"
                  % (cpus, "s" if len(busy) > 1 else "", ", ".join(busy))]
    return lines


def paired(samples, key, ref_key):
    """Percentiles p50, p99 of the ratios of samples measured together
    (the k-th sample of each), or None."""
    a, b = samples.get(key), samples.get(ref_key)
    if not a or not b or len(a[1]) != len(b[1]) or not a[1]:
        return None
    r = sorted(x / y for x, y in zip(a[1], b[1]) if y)
    return nearest_rank(r, 0.50), nearest_rank(r, 0.99)


def ratio(a, b):
    if b is None or a is None or b == 0:
        return None
    return a / b


def fmt_num(x, most=3):
    """About 3 significant digits, at most @most decimals."""
    if x is None:
        return "-"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return "%.*f" % (min(digits, most), x)


def fmt_ratio(x):
    return "-" if x is None else fmt_num(x) + "x"


def fmt_val(x, unit):
    """A value in its unit: J, which lives near 1, with 4 decimals; iv,
    from a few millionths (nobody to wait for) up, with up to 6."""
    if x is None:
        return "-"
    if unit == "J":
        return "%.4f" % x
    return fmt_num(x, 6 if unit == "iv" else 3)


def fmt_range(lo_hi, unit):
    return "%s..%s" % (fmt_val(lo_hi[0], unit), fmt_val(lo_hi[1], unit))


def render(table, left, groups=True):
    """Rows of cells as aligned text lines; with @groups a blank line
    between groups (the figure name up to its first dash)."""
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    lines, prev = [], None
    for i, row in enumerate(table):
        group = row[0].split("-")[0].replace("clock", "floor")
        if group == "py":
            group = "-".join(row[0].split("-")[:2])
        if groups and i > 1 and group != prev:
            lines.append("")
        prev = group if i else None
        lines.append("  ".join(c.ljust(w) if j in left else c.rjust(w)
                               for j, (c, w) in enumerate(zip(row, widths))).rstrip())
    return lines


def variants_of(env, rows):
    """The variants in gil-bench's order (its env, else the rows')."""
    listed = [v for v in env.get("variants", "").split(",") if v]
    seen = [b for (_, b) in rows if b != "-"]
    return listed or list(dict.fromkeys(seen))


SUMMARY_CAPTION = (
    "Per variant: convoy-N, p50 against convoy-0, and p50; reacquire-N-5ms,\n"
    "p50 in switch intervals; fairness-N, Jain's index J of the CPU-bound\n"
    "threads' GIL hold times (1 = equal shares), p50 and (min) over the runs;\n"
    "throughput-N, p50 of T_N/T_1 (paired).")


def summary(figures, env, rows, figtable):
    """The policies at a glance: per variant, the convoy's p50 against
    convoy-0, the fairness figures' p50 and min J, throughput's paired
    p50 against one thread; the figures and their columns are those of
    gil-bench's @figtable.  (header, rows of cells), or None."""
    by = {(r["name"], r["backend"]): r for r in figures}
    cols = sorted((int(f.get("summary") or 0), f["name"]) for f in figtable)
    names = [n for col, n in cols if col and any(k[0] == n for k in by)]
    if not names:
        return None
    head = ["variant"]
    for n in names:
        head += [n, "(min)"] if n.startswith("fairness-") else [n]
    out = []
    for v in variants_of(env, rows):
        cells = [v]
        for n in names:
            r = by.get((n, v))
            if n.startswith("fairness-"):
                cells += [fmt_val(r["p50"], "J") if r else "-",
                          fmt_val(r.get("min"), "J") if r else "-"]
            elif n.startswith("convoy-") and r:
                ms = r["p50"] * UNIT_NS[r["unit"]] / 1e6
                cells.append("%s %sms" % (fmt_ratio(r["p50_vs_ref"]), fmt_num(ms)))
            elif n.startswith("reacquire-"):
                cells.append(fmt_val(r["p50"], "iv") if r else "-")
            else:
                cells.append(fmt_ratio(r["p50_vs_ref"]) if r else "-")
        out.append(cells)
    return head, out


def steps(path, nsteps):
    """--steps: the table of tests/bench-steps.sh's passes in @path."""
    d, unit = defaultdict(list), {}
    with open(path) as f:
        for r in csv.reader(f):
            if r[2] == "name":  # the CSV's header, once a run
                continue
            step, name, backend = r[0], r[2], r[3]
            who = step if step != "step-user" else backend
            unit[name] = r[4]
            d[(name, who)].append([float(x) for x in r[5:8]])
    cols = [f"step-{i}" for i in range(nsteps)] + ["cpython", "futex"]
    names = sorted({k[0] for k in d})

    def fmt(x):
        return f"{x:.0f}" if abs(x) >= 100 else f"{x:.3g}"

    for q, label in enumerate(("p50", "p90", "p99")):
        print(f"\n{label}, median over passes [min..max]")
        print(f"{'figure':24}{'unit':>5}" + "".join(f"{c:>18}" for c in cols))
        for n in names:
            cells = []
            for c in cols:
                v = [x[q] for x in d[(n, c)]]
                cells.append(f"{fmt(statistics.median(v))} [{fmt(min(v))}..{fmt(max(v))}]"
                             if v else "-")
            print(f"{n:24}{unit[n]:>5}" + "".join(f"{x:>18}" for x in cells))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--steps":
        steps(sys.argv[2], int(sys.argv[3]))
        return
    if len(sys.argv) == 3 and sys.argv[1] == "--round-load":
        with open(os.path.join(sys.argv[2], "host-env.txt")) as f:
            cpus = int(keyvals(f).get("cpus", os.cpu_count()))
        for r in round_load(sys.argv[2], cpus):
            _, n, most, mean, over = load_cells(r)
            print("round_load_%d=runnable max %s mean %s, over %d CPUs %s of %s samples%s"
                  % (r["round"], most, mean, cpus, over, n, ", busy" if r["busy"] else ""))
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    output, outdir = sys.argv[1], sys.argv[2]
    with open(output, errors="replace") as f:
        b = blocks(f)
    if "CSV" not in b:
        sys.exit("bench-report: no GIL-BENCH-CSV block in %s" % output)
    os.makedirs(outdir, exist_ok=True)

    env = {"guest": keyvals(b.get("GUEST", [])), "bench": keyvals(b.get("ENV", []))}
    if len(sys.argv) > 3 and os.path.exists(sys.argv[3]):
        with open(sys.argv[3]) as f:
            env["host"] = keyvals(f)
        cpus = int(env["host"].get("cpus", os.cpu_count()))
        env["host_rounds"] = round_load(os.path.dirname(sys.argv[3]) or ".", cpus)

    reader = csv.DictReader(b["CSV"])
    rows, order = {}, []
    for r in reader:
        for k in ("p50", "p90", "p99", "max", "mean"):
            r[k] = float(r[k])
        # min: since gil-bench knew policies; absent from older outputs.
        r["min"] = float(r["min"]) if r.get("min") not in (None, "") else None
        r["n"] = int(r["n"])
        rows[(r["name"], r["backend"])] = r
        order.append((r["name"], r["backend"]))
    with open(os.path.join(outdir, "results.csv"), "w") as f:
        f.write("\n".join(b["CSV"]) + "\n")

    # Raw samples, in ns: "name backend unit v v v ...", a series over lines;
    # split by round (in the row's unit), by "name backend n1 n2 ..." lines.
    samples = {}
    for line in b.get("SAMPLES", []):
        parts = line.split()
        if len(parts) < 4:
            continue
        samples.setdefault((parts[0], parts[1]), (parts[2], []))[1].extend(
            int(v) for v in parts[3:])
    counts = {tuple(line.split()[:2]): [int(c) for c in line.split()[2:]]
              for line in b.get("ROUNDS", [])}
    by_round = {key: split_rounds([v / UNIT_NS[unit] for v in vals],
                                  counts.get(key, [len(vals)]))
                for key, (unit, vals) in samples.items()}
    # Real CPython's figures (userspace/cpython/workloads.py).
    py_order = []
    py_rows(b.get("PYSAMPLES", []), rows, py_order, samples, by_round)
    order += py_order
    with open(os.path.join(outdir, "results.csv"), "a") as f:
        for key in py_order:
            r = rows[key]
            f.write("%s,%s,%s,%.6g,%.6g,%.6g,%.6g,%.6g,%d,%.6g\n" % tuple(
                r[k] for k in ("name", "backend", "unit", "p50", "p90", "p99",
                               "max", "mean", "n", "min")))
    with open(os.path.join(outdir, "samples.csv"), "w") as f:
        f.write("name,backend,ns\n")  # J: in millionths
        for (name, backend), (_, vals) in samples.items():
            for v in vals:
                f.write("%s,%s,%d\n" % (name, backend, v))

    # The GILs' counters (struct gil_stats) per figure and variant.
    counters = {}
    if b.get("STATS"):
        for c in csv.DictReader(b["STATS"]):
            counters[(c["name"], c["backend"])] = {
                k: int(v) for k, v in c.items() if k not in ("name", "backend")}
        with open(os.path.join(outdir, "stats.csv"), "w") as f:
            f.write("\n".join(b["STATS"]) + "\n")

    # Ratios: to the floor (reference) and to the cpython backend.
    figtable = list(csv.DictReader(b.get("FIGURES", [])))
    if not figtable or "plot" not in figtable[0]:
        print("bench-report: %s: no plot and summary columns in gil-bench's table of "
              "figures (an older gil-bench): no plots, no summary of the policies"
              % output, file=sys.stderr)
    floors = {f["name"]: f["floor"] for f in figtable}
    figures = []
    for key in order:
        r = dict(rows[key])
        ref = reference(r["name"], r["backend"], rows, floors)
        r["ref"] = ref[0] if ref else None
        pair = None
        if r["name"].startswith(("throughput-", "py-countdown-")) and ref:
            # Measured back to back in each round: divide pairwise.
            pair = paired(samples, key, (ref[0], r["backend"]))
        if pair:
            r["p50_vs_ref"], r["p99_vs_ref"] = pair
            r["ref"] += " (paired)"
        elif ref:
            rv = ref[1]
            p50 = rv["p50"] if isinstance(rv, dict) else rv
            p99 = rv["p99"] if isinstance(rv, dict) else rv
            r["p50_vs_ref"] = ratio(r["p50"], p50)
            r["p99_vs_ref"] = ratio(r["p99"], p99)
        else:
            r["p50_vs_ref"] = r["p99_vs_ref"] = None
        # J is absolute: no ratio to another backend's J.
        cp = (rows.get((r["name"], "cpython"))
              if r["backend"] not in ("-", "cpython") and r["unit"] != "J" else None)
        r["p50_vs_cpython"] = ratio(r["p50"], cp["p50"]) if cp else None
        r["p99_vs_cpython"] = ratio(r["p99"], cp["p99"]) if cp else None
        r["counters"] = counters.get(key)
        if key in by_round:
            r.update(spread(key, by_round[key]))
        figures.append(r)
    # Verdicts: each kernel variant against the userspace GILs.
    by_key = {(r["name"], r["backend"]): r for r in figures}
    for r in figures:
        if not r["backend"].startswith("kernel-") or "round_p50" not in r:
            continue
        others = {ref: by_key.get((r["name"], ref)) for ref in VERDICT_REFS}
        r["verdicts"] = {ref: verdict(r, o) for ref, o in others.items()
                         if o and "round_p50" in o}
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"environment": env, "figures": figures}, f, indent=1)

    # The terminal tables: every figure; the policies' summary; counters.
    head = ["figure", "backend", "unit", "min", "p50", "p90", "p99", "max", "n",
            "floor (ref)", "p50/ref", "p99/ref", "p50/cpy", "p99/cpy"]
    table = [head]
    for r in figures:
        u = r["unit"]
        table.append([r["name"], r["backend"], u, fmt_val(r["min"], u),
                      fmt_val(r["p50"], u), fmt_val(r["p90"], u),
                      fmt_val(r["p99"], u), fmt_val(r["max"], u),
                      str(r["n"]), r["ref"] or "-", fmt_ratio(r["p50_vs_ref"]),
                      fmt_ratio(r["p99_vs_ref"]), fmt_ratio(r["p50_vs_cpython"]),
                      fmt_ratio(r["p99_vs_cpython"])])
    lines = render(table, {0, 1, 2, 9})
    summ = summary(figures, env["bench"], rows, figtable)
    if summ:
        lines += ["", SUMMARY_CAPTION, ""]
        lines += render([summ[0]] + summ[1], {0}, groups=False)
    crows = [r for r in figures if r["counters"] and r["backend"] != "-"
             and r["name"].split("-")[0] in ("convoy", "reacquire", "fairness")]
    if crows:
        ck = ["chunks", "acquisitions", "contended", "drop_requests",
              "forced_switches", "direct_handoffs", "io_preemptions"]
        ct = [["figure", "backend"] + ck]
        ct += [[r["name"], r["backend"]] + [str(r["counters"].get(k, "-")) for k in ck]
               for r in crows]
        lines += ["", "The GILs' counters (sums over the chunks; all figures in stats.csv)", ""]
        lines += render(ct, {0, 1})
    spread_rows = [r for r in figures if "round_p50" in r and r["backend"] != "-"]
    if spread_rows:
        st = [["figure", "backend", "unit", "p50", "rounds' p50", "boot95 p50",
               "vs cpy", "vs futex"]]
        st += [[r["name"], r["backend"], r["unit"], fmt_val(r["p50"], r["unit"]),
                fmt_range(r["p50_rounds"], r["unit"]), fmt_range(r["p50_boot95"], r["unit"])]
               + [r.get("verdicts", {}).get(ref, {}).get("sign", "") for ref in VERDICT_REFS]
               for r in spread_rows]
        lines += ["", verdict_caption(figures, True), ""]
        lines += render(st, {0, 1, 2})
    g, be = env["guest"], env["bench"]
    note = ("kernel %s, %s CPUs (%s), clocksource %s, timer slack %s ns; %s rounds, scale %s"
            % (be.get("kernel", "?"), be.get("cpus", "?"), g.get("cpu_model", "?"),
               be.get("clocksource", "?"), be.get("timer_slack_ns", "?"),
               be.get("rounds", "?"), be.get("scale", "?")))
    if env.get("host_rounds"):
        lines += [""] + load_lines(env["host_rounds"], cpus)
    hogs = int(env.get("host", {}).get("hogs", 0))
    if hogs:
        lines = ["BUSY HOST: %d CPU-bound processes ran on the host's %d CPUs beside the VM "
                 "(GIL_BENCH_HOST_HOGS)" % (hogs, cpus), ""] + lines
    text = "\n".join(lines) + "\n\n" + note + "\n"
    with open(os.path.join(outdir, "table.txt"), "w") as f:
        f.write(text)
    print(text, end="")

    # The same as ratios, for the documentation; J absolute, apart.
    md = ["| figure | backend | p50/ref | p99/ref | ref | p50/cpython | p99/cpython | n |",
          "|---|---|---:|---:|---|---:|---:|---:|"]
    for r in figures:
        if r["unit"] == "J":
            continue
        md.append("| %s | %s | %s | %s | %s | %s | %s | %d |" % (
            r["name"], r["backend"], fmt_ratio(r["p50_vs_ref"]),
            fmt_ratio(r["p99_vs_ref"]), r["ref"] or "-",
            fmt_ratio(r["p50_vs_cpython"]), fmt_ratio(r["p99_vs_cpython"]), r["n"]))
    fair = [r for r in figures if r["unit"] == "J"]
    if fair:
        md += ["", "| figure | backend | J p50 | J min | J mean | n |",
               "|---|---|---:|---:|---:|---:|"]
        md += ["| %s | %s | %s | %s | %s | %d |" % (
            r["name"], r["backend"], fmt_val(r["p50"], "J"), fmt_val(r["min"], "J"),
            fmt_val(r["mean"], "J"), r["n"]) for r in fair]
    if spread_rows:
        md += ["", verdict_caption(figures, False).replace("\n", " "), "",
               "| figure | backend | p50 | rounds' p50 | 95% bootstrap | vs cpython | vs futex |",
               "|---|---|---:|---:|---:|---|---|"]
        md += ["| %s | %s | %s %s | %s | %s | %s |" % (
            r["name"], r["backend"], fmt_val(r["p50"], r["unit"]), r["unit"],
            fmt_range(r["p50_rounds"], r["unit"]), fmt_range(r["p50_boot95"], r["unit"]),
            " | ".join(r.get("verdicts", {}).get(ref, {}).get("verdict", "")
                       for ref in VERDICT_REFS)) for r in spread_rows]
    if summ:
        md += ["", SUMMARY_CAPTION.replace("\n", " "),
               "", "| " + " | ".join(summ[0]) + " |",
               "|---" + "|---:" * (len(summ[0]) - 1) + "|"]
        md += ["| " + " | ".join(c) + " |" for c in summ[1]]
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    plots = plot(samples, outdir, plot_list(figtable, samples))
    print("results: %s (results.csv, results.json, samples.csv%s, table.txt, table.md%s)"
          % (outdir, ", stats.csv" if counters else "",
             ", %d plots *.svg" % plots if plots
             else ", no plots: gnuplot missing" if not shutil.which("gnuplot")
             else ", no plots"))


# workloads.py's figures, which have no table of figures: those plotted,
# each alone.
PY_PLOTS = ["py-convoy-0", "py-convoy-1", "py-convoy-2", "py-convoy-4", "py-slice-5ms"]


def plot_list(figtable, samples):
    """The plots, as (title, figure names): gil-bench's, as its @figtable
    groups the figures, each with the machine's floors (measured once:
    variant "-") that its figures are compared with; then workloads.py's."""
    plots = {}
    for f in figtable:
        if f.get("plot"):
            plots.setdefault(f["plot"], []).append(f["name"])
    floor = {f["name"]: f["floor"] for f in figtable}
    for names in plots.values():
        names += [fl for fl in dict.fromkeys(floor[n] for n in names)
                  if fl not in names and (fl, "-") in samples]
    return list(plots.items()) + [(n, [n]) for n in PY_PLOTS]


def plot(samples, outdir, plots):
    """One plot per (title, figure names) of @plots: the CDF of each
    variant's samples; the number of plots made."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return 0
    datadir = os.path.join(outdir, "data")
    os.makedirs(datadir, exist_ok=True)
    made = 0
    for title, names in plots:
        series = [(n, be) for n in names for (sn, be) in samples if sn == n]
        if not series:
            continue
        unit = samples[series[0]][0]
        cmds = []
        for n, be in series:
            vals = sorted(samples[(n, be)][1])
            path = os.path.join(datadir, "%s__%s.dat" % (n, be))
            with open(path, "w") as f:
                if unit == "J":
                    # Few runs: start the steps at 0, from the lowest J.
                    f.write("%.6g 0\n" % (vals[0] / UNIT_NS[unit]))
                for i, v in enumerate(vals):
                    f.write("%.6g %.6g\n" % (max(v, 1) / UNIT_NS[unit], (i + 1) / len(vals)))
            label = be if be != "-" else n
            if be != "-" and n != title:
                label = "%s %s" % (n, be)
            style = "dashtype 2" if be == "-" and len(names) > 1 and n != title else ""
            cmds.append("'%s' using 1:2 with steps lw 2 %s title '%s'" % (path, style, label))
        svg = os.path.join(outdir, title + ".svg")
        if unit == "J":
            axis = ["set title '%s: Jain''s index of the GIL hold times, per run (1 = fair)'"
                    % title, "set xlabel 'J'"]
        else:
            axis = ["set title '%s (under QEMU TCG: compare the curves, not the times)'"
                    % title, "set xlabel '%s (log scale)'"
                    % ("switch intervals" if unit == "iv" else unit), "set logscale x"]
        script = "\n".join([
            "set terminal svg size 800,500 dynamic background rgb 'white'",
            "set output '%s'" % svg,
        ] + axis + [
            "set ylabel 'fraction of samples <= x'",
            "set yrange [0:1]",
            "set grid",
            "set key %s" % ("top left" if unit == "J" else "bottom right"),
        ] + (["set arrow from %s, graph 0 to %s, graph 1 nohead dashtype 3"
              % ((title.split("-")[-1][:-2],) * 2)] if "slice-" in title else []) + [
            "plot " + ", \\\n     ".join(cmds),
        ]) + "\n"
        gp = os.path.join(datadir, title + ".gp")
        with open(gp, "w") as f:
            f.write(script)
        if subprocess.run([gnuplot, gp]).returncode == 0:
            made += 1
    return made


if __name__ == "__main__":
    main()
