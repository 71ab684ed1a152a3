#!/usr/bin/env python3
"""One torch.optim step (foreach=True) of each update rule on 1,000,000 float32
parameters: the peer of benches/optimizer_step.rs, with the same byte counts (every
array the update reads and writes, 4 bytes an entry), so that the GB/s compare.

Each figure is the median of --runs timed batches of steps after a warm-up; one JSON
line per rule. Threads default to 1, like descent's single-threaded step.

    benches/peers/.venv/bin/python benches/peers/optimizer_step.py [--threads N] [--runs N]
"""

import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1)
parser.add_argument("--runs", type=int, default=15)
parser.add_argument("--n", type=int, default=1_000_000)
args = parser.parse_args()
C.setup_threads(args.threads)

import torch  # noqa: E402

torch.set_num_threads(args.threads)
N = args.n

# name, constructor, arrays read + written per entry (as in benches/optimizer_step.rs)
RULES = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=1e-3, foreach=True), 3),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, foreach=True), 5),
    ("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=1e-3, momentum=0.9, nesterov=True, foreach=True), 5),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=1e-3, foreach=True), 5),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=1e-3, foreach=True), 5),
    ("rmsprop_centered_momentum",
     lambda p: torch.optim.RMSprop(p, lr=1e-3, centered=True, momentum=0.9, foreach=True), 9),
    ("adam", lambda p: torch.optim.Adam(p, lr=1e-3, foreach=True), 7),
    ("adam_amsgrad", lambda p: torch.optim.Adam(p, lr=1e-3, amsgrad=True, foreach=True), 9),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=1e-3, foreach=True), 7),
    ("adamax", lambda p: torch.optim.Adamax(p, lr=1e-3, foreach=True), 7),
    ("nadam", lambda p: torch.optim.NAdam(p, lr=1e-3, foreach=True), 7),
    ("radam", lambda p: torch.optim.RAdam(p, lr=1e-3, foreach=True), 7),
    ("adadelta", lambda p: torch.optim.Adadelta(p, lr=1e-3, foreach=True), 7),
]

idx = torch.arange(N)
for name, make, arrays in RULES:
    p = torch.nn.Parameter(((idx % 97).float() * 0.01).contiguous())
    p.grad = (((idx % 89).float() - 44.0) * 1e-3).contiguous()
    opt = make([p])
    with torch.no_grad():
        for _ in range(3):
            opt.step()
        times = []
        for _ in range(args.runs):
            reps = 10
            t0 = time.perf_counter()
            for _ in range(reps):
                opt.step()
            times.append((time.perf_counter() - t0) / reps)
    med = statistics.median(times)
    best = min(times)
    gbytes = arrays * N * 4 / 1e9
    print(json.dumps({
        "workload": f"optimizer-step-{name}", "impl": "torch.optim-foreach", "n": N,
        "threads": args.threads, "median_s": med, "best_s": best,
        "gb_per_s_median": gbytes / med, "gb_per_s_best": gbytes / best,
        "torch": torch.__version__,
    }), flush=True)
