#!/usr/bin/env python3
"""Guest instructions per sample of a gil-bench figure, by function.

usage: insn-profile.py [-t N] KALLSYMS OUTPUT BLOCKS

KALLSYMS: the guest kernel's text symbols (/proc/kallsyms, nokaslr);
OUTPUT: the guest's output of tests/vm/plans/insn-profile.sh, which names
each window and holds the module's symbols; BLOCKS: the plugin's counts
(tests/vm/insn-plugin.c).  Each figure ran at two scales on each backend:
the difference of the two windows over the difference of their samples
is what one sample costs, without the program's start and end.
"""
import argparse
import bisect
import collections
import sys

USER_TOP = 0x0000800000000000


def read_symbols(lines):
    syms = []
    for line in lines:
        f = line.split()
        if len(f) < 3 or f[1] not in "tT":
            continue
        name = f[2] if len(f) == 3 else f"{f[3].strip('[]')}:{f[2]}"
        syms.append((int(f[0], 16), name))
    return syms


def read_output(path):
    """The module's symbols and the windows: (group, backend, scale, n, p50)."""
    mod, windows, in_syms = [], [], False
    for line in open(path, errors="replace"):
        line = line.rstrip("\n")
        if line == "GIL-INSN-SYMBOLS-BEGIN":
            in_syms = True
        elif line == "GIL-INSN-SYMBOLS-END":
            in_syms = False
        elif in_syms:
            mod.append(line)
        elif line.startswith("GIL-INSN-WINDOW "):
            g, b, s, rc = line.split()[1:]
            windows.append({"group": g, "backend": b, "scale": float(s),
                            "rc": int(rc), "n": None, "p50": None})
        elif line.startswith("GIL-INSN-CSV ") and windows:
            f = line.split(" ", 1)[1].split(",")
            w = windows[-1]
            if f[0] == w["group"] and w["n"] is None:
                w["n"], w["p50"], w["unit"] = int(f[8]), float(f[3]), f[2]
    return read_symbols(mod), windows


def read_blocks(path):
    """Per window: instructions by block address ("insns"), blocks run,
    instructions by mnemonic ("ops"), and the plugin's own figures (the
    header's name-value pairs: gate_runs, gate_ns, same, same_ns,
    same_cpu_ns, same_vcsw, same_ivcsw, mem, io, translated)."""
    wins = []
    for line in open(path):
        f = line.split()
        if f[0] == "window":
            win = {k: int(v) for k, v in zip(f[2::2], f[3::2])}
            win.update(insns=collections.Counter(), blocks=0,
                       ops=collections.Counter())
            wins.append(win)
        elif f[0] == "op":
            wins[-1]["ops"][f[1]] += int(f[2])
        else:
            wins[-1]["insns"][int(f[0], 16)] += int(f[1]) * int(f[2])
            wins[-1]["blocks"] += int(f[2])
    return wins


def by_function(blocks, syms):
    addrs = [a for a, _ in syms]
    out = collections.Counter()
    for vaddr, insns in blocks.items():
        if vaddr < USER_TOP:
            out["(user)"] += insns
            continue
        i = bisect.bisect_right(addrs, vaddr) - 1
        out[syms[i][1] if i >= 0 else "(kernel ?)"] += insns
    return out


def region(name):
    if name == "(user)":
        return "user"
    return "gil.ko" if name.startswith("gil:") else "kernel"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-t", type=int, default=25)
    ap.add_argument("kallsyms")
    ap.add_argument("output")
    ap.add_argument("blocks")
    a = ap.parse_args()
    mod, windows = read_output(a.output)
    syms = sorted(read_symbols(open(a.kallsyms)) + mod)
    blocks = read_blocks(a.blocks)
    if len(blocks) != len(windows):
        sys.exit(f"insn-profile: {len(blocks)} windows counted, "
                 f"{len(windows)} named")
    per = collections.OrderedDict()
    for w, counted in zip(windows, blocks):
        if w["rc"] or w["n"] is None:
            sys.exit(f"insn-profile: {w['group']} on {w['backend']} failed")
        w.update(counted)
        per.setdefault(w["group"], collections.OrderedDict()) \
            .setdefault(w["backend"], []).append(
                (w, by_function(w["insns"], syms)))
    for group, backends in per.items():
        cost = collections.OrderedDict()
        print(f"== {group}: guest instructions per sample "
              "(two scales' difference)")
        for backend, runs in backends.items():
            (w0, f0), (w1, f1) = sorted(runs, key=lambda r: r[0]["n"])
            dn = w1["n"] - w0["n"]
            cost[backend] = {k: (f1[k] - f0[k]) / dn for k in f0 | f1}
            regions = collections.Counter()
            for k, v in cost[backend].items():
                regions[region(k)] += v
            print(f"{backend:>8}: {sum(regions.values()):9.0f} in all "
                  f"(user {regions['user']:.0f}, kernel "
                  f"{regions['kernel']:.0f}, gil.ko {regions['gil.ko']:.0f}); "
                  f"samples {w0['n']} and {w1['n']}, p50 {w0['p50']} and "
                  f"{w1['p50']} {w0['unit']}")
            print(f"{'':>8}  translation blocks run a sample: "
                  f"{(w1['blocks'] - w0['blocks']) / dn:.0f}; translated "
                  f"while counting: {w0['translated']} and "
                  f"{w1['translated']} in the two runs")
            if w1["gate_runs"]:
                spans = (w1["gate_runs"] + w0["gate_runs"]) / 2
                print(f"{'':>8}  measured spans: {w0['gate_runs'] // 2} and "
                      f"{w1['gate_runs'] // 2}, host time "
                      f"{(w0['gate_ns'] + w1['gate_ns']) / spans / 1e3:.1f} "
                      "us a span (the plugin's own cost included)")
            same = w0.get("same", 0) + w1.get("same", 0)
            if same:
                print(f"{'':>8}  spans one vCPU thread ran whole: {same}, "
                      f"host time {(w0['same_ns'] + w1['same_ns']) / same / 1e3:.1f}"
                      f" us a span, that thread's CPU time "
                      f"{(w0['same_cpu_ns'] + w1['same_cpu_ns']) / same / 1e3:.1f}"
                      f" us, context switches a span: voluntary "
                      f"{(w0['same_vcsw'] + w1['same_vcsw']) / same:.2f}, "
                      f"involuntary "
                      f"{(w0['same_ivcsw'] + w1['same_ivcsw']) / same:.2f}")
            if w1["mem"]:
                print(f"{'':>8}  memory accesses a sample: "
                      f"{(w1['mem'] - w0['mem']) / dn:.0f}, of them to "
                      f"devices (MMIO): {(w1['io'] - w0['io']) / dn:.1f}")
        names = sorted({k for c in cost.values() for k in c},
                       key=lambda k: -max(abs(c.get(k, 0))
                                          for c in cost.values()))
        opcost = collections.OrderedDict()
        for backend, runs in backends.items():
            (w0, _), (w1, _) = sorted(runs, key=lambda r: r[0]["n"])
            dn = w1["n"] - w0["n"]
            opcost[backend] = {k: (w1["ops"][k] - w0["ops"][k]) / dn
                               for k in w0["ops"] | w1["ops"]}
        if any(opcost.values()):
            ops = sorted({k for c in opcost.values() for k in c},
                         key=lambda k: -(max(c.get(k, 0) for c in opcost.values())
                                         - min(c.get(k, 0) for c in opcost.values())))
            print(f"{'instruction (most different first)':<40}" +
                  "".join(f"{b:>10}" for b in opcost))
            for k in ops[:a.t]:
                print(f"{k[:40]:<40}" +
                      "".join(f"{c.get(k, 0):10.1f}" for c in opcost.values()))
        print(f"{'function':<40}" + "".join(f"{b:>10}" for b in cost))
        for k in names[:a.t]:
            print(f"{k[:40]:<40}" +
                  "".join(f"{c.get(k, 0):10.0f}" for c in cost.values()))
        print()


if __name__ == "__main__":
    main()
