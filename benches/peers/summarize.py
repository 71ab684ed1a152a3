#!/usr/bin/env python3
"""Prints a compact Markdown table of peer JSON lines (any Python 3, no deps).

    python3 benches/peers/summarize.py benches/peers/results/peers-2026-11-26.jsonl
"""

import json
import sys

KEYS = ["samples_per_s", "gflop_per_s", "final_loss", "final_accuracy", "value_seconds", "ratio",
        "per_op_us", "grad_max_rel_err", "cold_seconds", "parallel_efficiency", "gb_per_s", "runs"]


def fmt(v):
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def main(paths):
    rows = []
    for p in paths or ["-"]:
        f = sys.stdin if p == "-" else open(p)
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                rows.append(json.loads(line))
    print("| workload | impl | threads | seconds | spread (min–max) | figures | load |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        secs = r.get("all_seconds") or [r["seconds"]]
        spread = f"{min(secs):.4g}–{max(secs):.4g}"
        figs = ", ".join(f"{k} {fmt(r[k])}" for k in KEYS if k in r)
        if r["workload"] == "matmul-f32":
            figs = f"{r['m']}x{r['k']}x{r['n']}, " + figs
        print(f"| {r['workload']} | {r['impl']} | {r['threads']} | {r['seconds']:.4g} | {spread} | {figs} "
              f"| {r.get('load_avg_1m', '')} |")


if __name__ == "__main__":
    main(sys.argv[1:])
