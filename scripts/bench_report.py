#!/usr/bin/env python3
"""Turns scripts/bench.sh's raw runs into the table of medians, ratios and the plot.

    python3 scripts/bench_report.py --raw Benchmarks/results/raw.txt \
        --machine Benchmarks/results/machine.txt --out Benchmarks/results

raw.txt has one line per run: `round=R test=T server=S server_cpu_s=... [mallocs=...]` followed
by chatbench's own key=value line. Prints the table (markdown) and writes table.md, summary.json
and fanout.png (when matplotlib is available).
"""
import argparse
import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path

SERVERS = ("naive", "batched", "uvloop")
ECHO_AS = {"echo_c": ("naive", "batched"), "echo_uvloop": ("uvloop",)}
CONNS = {"fanout100": 100, "fanout1000": 1000, "fanout10000": 10000,
         "paced100": 100, "paced1000": 1000, "paced10000": 10000}


def parse(path):
    runs = []
    for line in Path(path).read_text().splitlines():
        fields = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
        if "test" in fields:
            runs.append(fields)
    return runs


def num(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


# Figures: (label, test, value-of-run, lower_is_better, goal) where goal is
# (kind, threshold): "ratio_min" (UVLoop/baseline >= t), "ratio_max" (<= t), "abs_max" (UVLoop <= t).
def per_million(key):
    def f(run):
        cpu, n = num(run.get("server_cpu_s")), num(run.get(key))
        return cpu / n * 1e6 if cpu is not None and n else None
    return f


def field(key, scale=1.0):
    def f(run):
        v = num(run.get(key))
        return v * scale if v is not None else None
    return f


def mallocs_per_delivery(run):
    m, n = num(run.get("mallocs")), num(run.get("received"))
    return m / n if m is not None and n else None


FIGURES = [
    ("hold 19,000 idle: KB per connection", "hold", field("kb_per_conn"), True, ("abs_max", 1.8)),
    ("hold: connections accepted", "hold", field("accepted"), False, None),
    ("fanout 100×10: deliveries/s", "fanout100", field("deliveries_per_s"), False, ("ratio_min", 0.9)),
    ("fanout 100×10: server CPU s per M deliveries", "fanout100", per_million("received"), True, ("ratio_max", 1.25)),
    ("fanout 100×10: p99 µs (closed loop)", "fanout100", field("p99_us"), True, None),
    ("fanout 1,000×2: deliveries/s", "fanout1000", field("deliveries_per_s"), False, ("ratio_min", 0.9)),
    ("fanout 1,000×2: server CPU s per M deliveries", "fanout1000", per_million("received"), True, None),
    ("fanout 1,000×2: p99 µs (closed loop)", "fanout1000", field("p99_us"), True, None),
    ("fanout 10,000×1: deliveries/s", "fanout10000", field("deliveries_per_s"), False, None),
    ("fanout 10,000×1: server CPU s per M deliveries", "fanout10000", per_million("received"), True, None),
    ("fanout 10,000×1: p99 µs (closed loop)", "fanout10000", field("p99_us"), True, None),
    ("paced 100×10 @ 99k/s: p50 µs", "paced100", field("p50_us"), True, None),
    ("paced 100×10 @ 99k/s: p99 µs", "paced100", field("p99_us"), True, ("ratio_max", 1.5)),
    ("paced 100×10 @ 99k/s: server CPU s per M", "paced100", per_million("received"), True, None),
    ("paced 1,000×2 @ 100k/s: p99 µs", "paced1000", field("p99_us"), True, None),
    ("paced 10,000×1 @ 100k/s: p99 µs", "paced10000", field("p99_us"), True, None),
    ("echo 100 conns: round trips/s", "echo100", field("round_trips_per_s"), False, ("ratio_min", 0.9)),
    ("echo 100 conns: p99 µs", "echo100", field("p99_us"), True, None),
    ("echo 100 conns: server CPU s per M round trips", "echo100", per_million("round_trips"), True, None),
    ("mallocs per delivery (fanout 100×10)", "allocs100", mallocs_per_delivery, True, ("ratio_max", 1.0)),
]


def collect(runs):
    """values[test][server] -> list of per-round values of every run (by figure later)."""
    by = defaultdict(lambda: defaultdict(list))
    for run in runs:
        targets = ECHO_AS.get(run["server"], (run["server"],))
        for server in targets:
            by[run["test"]][server].append(run)
    return by


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(v):
    if v is None:
        return "—"
    a = abs(v)
    if a >= 100000:
        return f"{v / 1e6:.2f} M"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}" if a < 1 else f"{v:.2f}"


def ratio(u, b):
    return u / b if u is not None and b else None


def meets(goal, u, b):
    if goal is None or u is None:
        return ""
    kind, t = goal
    if kind == "abs_max":
        return "yes" if u <= t else "**no**"
    r = ratio(u, b)
    if r is None:
        return ""
    ok = r >= t if kind == "ratio_min" else r <= t
    return "yes" if ok else "**no**"


def goal_text(goal):
    if goal is None:
        return ""
    kind, t = goal
    return {"ratio_min": f"≥ {t}×", "ratio_max": f"≤ {t}×", "abs_max": f"≤ {t}"}[kind]


def build(runs):
    by = collect(runs)
    rows, summary = [], {}
    hold_conns = {run.get("conns") for run in runs if run.get("test") == "hold" and run.get("conns")}
    for label, test, value, lower, goal in FIGURES:
        if test == "hold" and len(hold_conns) == 1:
            label = label.replace("19,000", f"{int(next(iter(hold_conns))):,}")
        meds = {}
        for s in SERVERS:
            vals = [value(r) for r in by[test][s]]
            meds[s] = median(vals)
            summary.setdefault(label, {})[s] = {"median": meds[s], "runs": vals}
        u = meds["uvloop"]
        rows.append([label, fmt(meds["naive"]), fmt(meds["batched"]), fmt(u),
                     fmt(ratio(u, meds["naive"])), fmt(ratio(u, meds["batched"])), goal_text(goal),
                     (meets(goal, u, meds["naive"]) + " / " + meets(goal, u, meds["batched"]))
                     if goal and goal[0] != "abs_max" else meets(goal, u, None)])
    # Losses and failures are summed, never medianed away.
    problems = []
    for run in runs:
        bad = [f"{k}={run[k]}" for k in ("lost", "duplicates", "gaps", "echoed", "closed", "error", "server_died")
               if k in run and run[k] not in ("0", "")]
        if run.get("exit", "0") not in ("0",):
            bad.append(f"exit={run['exit']}")
        if bad:
            problems.append(f"round {run['round']} {run['test']} {run['server']}: {' '.join(bad)}")
    return rows, summary, problems


def markdown(rows):
    head = ["figure (median of rounds)", "naive C", "batched C", "UVLoop", "UVLoop / naive",
            "UVLoop / batched", "goal", "met (naive / batched)"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def per_round_table(runs):
    keys = ("deliveries_per_s", "p50_us", "p99_us", "kb_per_conn", "round_trips_per_s", "server_cpu_s",
            "received", "lost", "mallocs")
    out = ["| round | test | server | " + " | ".join(keys) + " |", "|" + "---|" * (3 + len(keys))]
    for r in runs:
        out.append(f"| {r.get('round')} | {r.get('test')} | {r.get('server')} | "
                   + " | ".join(r.get(k, "") for k in keys) + " |")
    return "\n".join(out)


def plot(runs, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no plot)", file=sys.stderr)
        return False
    by = collect(runs)
    names = {"naive": "raw libuv, one write per line (naive C)",
             "batched": "raw libuv, one writev per loop pass (batched C)",
             "uvloop": "UVLoop ChatExample --plain"}
    styles = {"naive": ("tab:gray", "s", "--"), "batched": ("tab:blue", "o", "-"), "uvloop": ("tab:orange", "D", "-")}
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
    panels = [
        (axes[0], ("fanout100", "fanout1000", "fanout10000"), "deliveries_per_s", 1e-6,
         "throughput, closed loop (M deliveries/s)", "Fan-out throughput"),
        (axes[1], ("paced100", "paced1000", "paced10000"), "p99_us", 1e-3,
         "p99 delivery latency (ms)", "p99 latency at a paced ~100k deliveries/s"),
    ]
    for ax, tests, key, scale, ylabel, title in panels:
        for s in SERVERS:
            xs, ys, lo, hi = [], [], [], []
            for t in tests:
                vals = [num(r.get(key)) for r in by[t][s]]
                vals = [v * scale for v in vals if v is not None]
                if not vals:
                    continue
                m = statistics.median(vals)
                xs.append(CONNS[t])
                ys.append(m)
                lo.append(m - min(vals))
                hi.append(max(vals) - m)
            if xs:
                color, marker, ls = styles[s]
                ax.errorbar(xs, ys, yerr=[lo, hi], label=names[s], color=color, marker=marker, linestyle=ls,
                            capsize=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks([100, 1000, 10000])
        ax.set_xticklabels(["100", "1,000", "10,000"])
        ax.set_xlabel("connections in the room (senders: 10, 2, 1)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=9, frameon=False)
    fig.suptitle("chatbench on 127.0.0.1, 2 cores: median of rounds, bars = min–max", fontsize=10)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=110)
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--machine")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = Path(args.out)
    runs = parse(args.raw)
    rows, summary, problems = build(runs)
    machine = Path(args.machine).read_text() if args.machine else ""
    table = markdown(rows)
    text = [table, ""]
    if problems:
        text += ["Runs with losses or failures:", ""] + [f"- {p}" for p in problems] + [""]
    else:
        text += ["Every run: nothing lost, duplicated, reordered or echoed; no server died.", ""]
    print("\n".join(text))
    (out / "table.md").write_text("\n".join(text + ["Machine and run:", "", "```", machine.strip(), "```", "",
                                                   "Every run:", "", per_round_table(runs), ""]))
    (out / "summary.json").write_text(json.dumps({"machine": machine, "figures": summary, "problems": problems},
                                                 indent=1))
    if plot(runs, out / "fanout.png"):
        print(f"plot: {out / 'fanout.png'}")


if __name__ == "__main__":
    main()
