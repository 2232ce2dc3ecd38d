#!/usr/bin/env python3
"""make bench, on the host: take gil-bench's results out of the guest's
output, write them as CSV and JSON, print the table with each figure's
ratio to its floor and to the cpython backend, and plot the latency
distributions with gnuplot.

usage: bench-report.py OUTPUT.txt OUTDIR [HOST-ENV-FILE]

OUTPUT.txt is build/vm/<stage>/output.txt; gil-bench printed its results
there between marker lines (see userspace/bench/gil-bench.c).  Writes, in
OUTDIR: results.csv (gil-bench's own rows), results.json (environment,
rows, ratios), samples.csv (every raw sample), table.txt (the terminal
table), table.md (the same as ratios, for docs/BENCHMARKS.md), and
<figure>.svg plots when gnuplot is installed.
"""
import csv
import json
import math
import os
import shutil
import subprocess
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6}


def blocks(lines):
    """The marker-delimited blocks of gil-bench's output, by name."""
    out, name = {}, None
    for line in lines:
        line = line.rstrip("\r\n")
        if line.startswith("GIL-BENCH-") and line.endswith("-BEGIN"):
            name = line[len("GIL-BENCH-"):-len("-BEGIN")]
            out[name] = []
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


def reference(name, backend, rows):
    """The figure a row is compared with (its floor), as (label, row or
    value in the row's unit), or None."""
    def row(n, b="-"):
        return rows.get((n, b))

    if name.startswith("handoff-") or name in ("floor-pipe-same", "floor-pipe-cross"):
        pin = name.rsplit("-", 1)[1]
        r = row("floor-futex-" + pin)
        return ("floor-futex-" + pin, r) if r else None
    if name == "floor-futex-cross":
        r = row("floor-futex-same")
        return ("floor-futex-same", r) if r else None
    if name.startswith("slice-"):
        ms = float(name[len("slice-"):-len("ms")])
        return ("interval %g ms" % ms, ms)
    if name == "convoy-0":
        r = row("floor-pipe-cross")
        return ("floor-pipe-cross", r) if r else None
    if name.startswith("convoy-"):
        r = row("convoy-0", backend)
        return ("convoy-0", r) if r else None
    if name.startswith("throughput-") and name != "throughput-1":
        r = row("throughput-1", backend)
        return ("throughput-1", r) if r else None
    if name == "uncontended":
        r = row("floor-mutex")
        return ("floor-mutex", r) if r else None
    return None


def nearest_rank(sorted_vals, p):
    rank = math.ceil(p * len(sorted_vals))
    return sorted_vals[max(rank, 1) - 1]


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


def fmt_num(x):
    if x is None:
        return "-"
    if x == 0:
        return "0"
    digits = max(0, 2 - int(math.floor(math.log10(abs(x)))))
    return "%.*f" % (min(digits, 3), x)


def fmt_ratio(x):
    return "-" if x is None else fmt_num(x) + "x"


def main():
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

    reader = csv.DictReader(b["CSV"])
    rows, order = {}, []
    for r in reader:
        for k in ("p50", "p90", "p99", "max", "mean"):
            r[k] = float(r[k])
        r["n"] = int(r["n"])
        rows[(r["name"], r["backend"])] = r
        order.append((r["name"], r["backend"]))
    with open(os.path.join(outdir, "results.csv"), "w") as f:
        f.write("\n".join(b["CSV"]) + "\n")

    # Raw samples, in ns: "name backend unit v v v ...", a series over lines.
    samples = {}
    for line in b.get("SAMPLES", []):
        parts = line.split()
        if len(parts) < 4:
            continue
        samples.setdefault((parts[0], parts[1]), (parts[2], []))[1].extend(
            int(v) for v in parts[3:])
    with open(os.path.join(outdir, "samples.csv"), "w") as f:
        f.write("name,backend,ns\n")
        for (name, backend), (_, vals) in samples.items():
            for v in vals:
                f.write("%s,%s,%d\n" % (name, backend, v))

    # Ratios: to the floor (reference) and to the cpython backend.
    figures = []
    for key in order:
        r = dict(rows[key])
        ref = reference(r["name"], r["backend"], rows)
        r["ref"] = ref[0] if ref else None
        pair = None
        if r["name"].startswith("throughput-") and ref:
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
        cp = rows.get((r["name"], "cpython")) if r["backend"] not in ("-", "cpython") else None
        r["p50_vs_cpython"] = ratio(r["p50"], cp["p50"]) if cp else None
        r["p99_vs_cpython"] = ratio(r["p99"], cp["p99"]) if cp else None
        figures.append(r)
    with open(os.path.join(outdir, "results.json"), "w") as f:
        json.dump({"environment": env, "figures": figures}, f, indent=1)

    # The terminal table.
    head = ["figure", "backend", "unit", "p50", "p90", "p99", "max", "n",
            "floor (ref)", "p50/ref", "p99/ref", "p50/cpy", "p99/cpy"]
    table = [head]
    for r in figures:
        table.append([r["name"], r["backend"], r["unit"], fmt_num(r["p50"]),
                      fmt_num(r["p90"]), fmt_num(r["p99"]), fmt_num(r["max"]),
                      str(r["n"]), r["ref"] or "-", fmt_ratio(r["p50_vs_ref"]),
                      fmt_ratio(r["p99_vs_ref"]), fmt_ratio(r["p50_vs_cpython"]),
                      fmt_ratio(r["p99_vs_cpython"])])
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    left = {0, 1, 2, 8}
    lines = []
    prev = None
    for i, row in enumerate(table):
        group = row[0].split("-")[0].replace("clock", "floor")
        if i > 1 and group != prev:
            lines.append("")
        prev = group if i else None
        lines.append("  ".join(c.ljust(w) if j in left else c.rjust(w)
                               for j, (c, w) in enumerate(zip(row, widths))).rstrip())
    g, be = env["guest"], env["bench"]
    note = ("kernel %s, %s CPUs (%s), clocksource %s, timer slack %s ns; %s rounds, scale %s"
            % (be.get("kernel", "?"), be.get("cpus", "?"), g.get("cpu_model", "?"),
               be.get("clocksource", "?"), be.get("timer_slack_ns", "?"),
               be.get("rounds", "?"), be.get("scale", "?")))
    text = "\n".join(lines) + "\n\n" + note + "\n"
    with open(os.path.join(outdir, "table.txt"), "w") as f:
        f.write(text)
    print(text, end="")

    # The same as ratios, for the documentation.
    md = ["| figure | backend | p50/ref | p99/ref | ref | p50/cpython | p99/cpython | n |",
          "|---|---|---:|---:|---|---:|---:|---:|"]
    for r in figures:
        md.append("| %s | %s | %s | %s | %s | %s | %s | %d |" % (
            r["name"], r["backend"], fmt_ratio(r["p50_vs_ref"]),
            fmt_ratio(r["p99_vs_ref"]), r["ref"] or "-",
            fmt_ratio(r["p50_vs_cpython"]), fmt_ratio(r["p99_vs_cpython"]), r["n"]))
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    plots = plot(samples, outdir)
    print("results: %s (results.csv, results.json, samples.csv, table.txt, table.md%s)"
          % (outdir, ", %d plots *.svg" % plots if plots else ", no plots: gnuplot missing"))


# One plot per latency figure: the CDF of each backend, with its floor.
PLOTS = [
    ("floors", ["floor-futex-same", "floor-futex-cross", "floor-pipe-same", "floor-pipe-cross"]),
    ("handoff-voluntary-same", ["handoff-voluntary-same", "floor-futex-same"]),
    ("handoff-voluntary-cross", ["handoff-voluntary-cross", "floor-futex-cross"]),
    ("handoff-forced-same", ["handoff-forced-same", "floor-futex-same"]),
    ("handoff-forced-cross", ["handoff-forced-cross", "floor-futex-cross"]),
    ("slice-1ms", ["slice-1ms"]),
    ("slice-5ms", ["slice-5ms"]),
    ("slice-20ms", ["slice-20ms"]),
    ("convoy-0", ["convoy-0", "floor-pipe-cross"]),
    ("convoy-1", ["convoy-1"]),
    ("convoy-2", ["convoy-2"]),
    ("convoy-4", ["convoy-4"]),
]


def plot(samples, outdir):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return 0
    datadir = os.path.join(outdir, "data")
    os.makedirs(datadir, exist_ok=True)
    made = 0
    for title, names in PLOTS:
        series = [(n, be) for n in names for (sn, be) in samples if sn == n]
        if not series:
            continue
        unit = samples[series[0]][0]
        cmds = []
        for n, be in series:
            vals = sorted(samples[(n, be)][1])
            path = os.path.join(datadir, "%s__%s.dat" % (n, be))
            with open(path, "w") as f:
                for i, v in enumerate(vals):
                    f.write("%.6g %.6g\n" % (max(v, 1) / UNIT_NS[unit], (i + 1) / len(vals)))
            label = be if be != "-" else n
            if be != "-" and n != title:
                label = "%s %s" % (n, be)
            style = "dashtype 2" if be == "-" and len(names) > 1 and n != title else ""
            cmds.append("'%s' using 1:2 with steps lw 2 %s title '%s'" % (path, style, label))
        svg = os.path.join(outdir, title + ".svg")
        script = "\n".join([
            "set terminal svg size 800,500 dynamic background rgb 'white'",
            "set output '%s'" % svg,
            "set title '%s (under QEMU TCG: compare the curves, not the times)'" % title,
            "set xlabel '%s (log scale)'" % unit,
            "set ylabel 'fraction of samples <= x'",
            "set logscale x",
            "set yrange [0:1]",
            "set grid",
            "set key bottom right",
        ] + (["set arrow from %s, graph 0 to %s, graph 1 nohead dashtype 3"
              % (title[6:-2], title[6:-2])] if title.startswith("slice-") else []) + [
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
