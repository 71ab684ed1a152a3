"""Shared harness for the peer benchmark scripts of benches/peers/.

Each peer script declares a list of entries (workload, impl, function) and calls
`main(__file__, entries)`.  By default every entry runs in its own Python
subprocess (`--impl workload/impl`), so that one framework's thread pools never
spin beside another's and a failure of one implementation does not stop the
rest.  Each entry prints one JSON line in the format of shared/BENCHMARKS.md.

`setup_threads()` must run before numpy, torch or jax is imported: it pins the
process to the first N CPUs and sets the OpenMP/BLAS/XLA environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Callable


def parse_args(extra: Callable[[argparse.ArgumentParser], None] | None = None):
    doc = sys.modules["__main__"].__doc__ or __doc__
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="tiny sizes, for a smoke test in seconds")
    p.add_argument("--threads", type=int, default=0, help="threads per implementation (default: all cores)")
    p.add_argument("--runs", type=int, default=3, help="timed runs after the warm-up; the median is reported")
    p.add_argument("--only", default="", help="comma-separated substrings of 'workload/impl' to run")
    p.add_argument("--impl", default="", help=argparse.SUPPRESS)  # internal: run one entry in-process
    p.add_argument("--list", action="store_true", help="list the entries and exit")
    p.add_argument("--table", action="store_true", help="sweep.py: print the per-run final loss table to stderr")
    if extra:
        extra(p)
    args = p.parse_args()
    avail = sorted(os.sched_getaffinity(0))
    if args.threads <= 0:
        args.threads = len(avail)
    if args.threads > len(avail):
        sys.exit(f"--threads {args.threads}: only {len(avail)} CPUs available")
    if args.runs < 3:
        sys.exit("--runs must be at least 3 (median of at least three runs)")
    return args


def setup_threads(n: int) -> None:
    """Limit every library to n threads. Call before importing numpy/torch/jax."""
    avail = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, avail[:n])
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    flags = os.environ.get("XLA_FLAGS", "")
    if n == 1 and "intra_op_parallelism_threads" not in flags:
        flags += " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    os.environ["XLA_FLAGS"] = flags.strip()


def torch_threads(n: int):
    import torch
    torch.set_num_threads(n)
    return torch


def measure(run_once: Callable[[], tuple[float, dict]], runs: int):
    """One warm-up, then `runs` timed runs. Returns (median seconds, metrics of
    the median run, all timed seconds)."""
    run_once()
    results = [run_once() for _ in range(runs)]
    secs = [r[0] for r in results]
    order = sorted(range(len(secs)), key=secs.__getitem__)
    mid = order[len(order) // 2]
    return secs[mid], results[mid][1], secs


def median(xs):
    s = sorted(xs)
    return s[len(s) // 2]


class Timer:
    def __enter__(self):
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.t0


def emit(workload: str, impl: str, threads: int, seconds: float, **keys) -> None:
    line = {"workload": workload, "impl": impl, "threads": threads, "seconds": round(seconds, 6)}
    for k, v in keys.items():
        if isinstance(v, float):
            v = float(f"{v:.6g}")
        elif isinstance(v, list):
            v = [float(f"{x:.6g}") if isinstance(x, float) else x for x in v]
        line[k] = v
    # The 1-minute load average when the line is written: on a shared machine,
    # a figure taken with the load above the core count is contended.
    line["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(line), flush=True)


def log(*a) -> None:
    print(*a, file=sys.stderr, flush=True)


@dataclass
class Entry:
    workload: str
    impl: str
    fn: Callable  # fn(args) -> None, prints its JSON line(s) via emit
    threads: Callable[[int], bool] = lambda n: True  # which thread counts it applies to

    @property
    def key(self) -> str:
        return f"{self.workload}/{self.impl}"


def selected(args, key: str) -> bool:
    pats = [p for p in args.only.split(",") if p]
    return not pats or any(p in key for p in pats)


def main(script: str, entries: list[Entry], args) -> None:
    if args.list:
        for e in entries:
            print(e.key)
        return
    if args.impl:
        (entry,) = [e for e in entries if e.key == args.impl]
        entry.fn(args)
        return
    failed = []
    for e in entries:
        if not selected(args, e.key):
            continue
        if not e.threads(args.threads):
            continue
        cmd = [sys.executable, script, "--impl", e.key, "--threads", str(args.threads),
               "--runs", str(args.runs)]
        if args.quick:
            cmd.append("--quick")
        cmd += passthrough(args)
        log(f"# {e.key} threads={args.threads}{' (quick)' if args.quick else ''}")
        t0 = time.perf_counter()
        r = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        sys.stdout.write(r.stdout)
        sys.stdout.flush()
        log(f"#   done in {time.perf_counter() - t0:.1f}s, exit {r.returncode}")
        if r.returncode != 0:
            failed.append(e.key)
    if failed:
        log("# FAILED: " + ", ".join(failed))
        sys.exit(1)


def passthrough(args) -> list[str]:
    """Extra script-specific flags to pass to the per-entry subprocess."""
    out = []
    if getattr(args, "table", False):
        out.append("--table")
    return out
