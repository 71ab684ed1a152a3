#!/usr/bin/env python3
"""Peer for W4 sweep (shared/BENCHMARKS.md): 32 training runs of a
64 -> 64 -> ReLU -> 10 classifier on the digits data set, the way researchers do
it in Python: a multiprocessing pool of one worker per core, each worker
running PyTorch with one thread.

Grid: SGD, SGD with momentum 0.9, RMSprop, Adam (PyTorch's defaults otherwise)
x learning rates 1e-3, 3e-3, 1e-2, 3e-2 x seeds 0, 1; batches of 32, 10 epochs,
mean softmax cross-entropy. Features standardised over the whole data set
(a constant column is left at zero). The final loss of a run is the mean
cross-entropy over all 1,797 rows after training.

`seconds` is the median wall time of the whole sweep on a pool that has already
started and run one warm-up sweep; `cold_seconds` is the median time from
creating the pool (workers start, import torch, load the data) to the sweep's
end. With --threads N > 1 it also runs the one-worker pool and adds
`parallel_efficiency` = seconds(1 worker) / (N * seconds(N workers)).

    benches/peers/.venv/bin/python benches/peers/sweep.py [--quick] [--threads N] [--table]
"""

import _common as C


def extra(p):
    p.add_argument("--data", default="", help="digits CSV (default: datasets/digits.csv of the repository)")


OPTIMIZERS = ["sgd", "momentum", "rmsprop", "adam"]
LRS = [1e-3, 3e-3, 1e-2, 3e-2]
SEEDS = [0, 1]
GRID = [(o, lr, s) for o in OPTIMIZERS for lr in LRS for s in SEEDS]
BATCH = 32

_DATA = None


def _init(csv_path, epochs):
    """Pool initializer: one thread per worker, data loaded once per worker."""
    global _DATA
    import numpy as np
    import torch
    torch.set_num_threads(1)
    raw = np.loadtxt(csv_path, delimiter=",", skiprows=1, dtype=np.float64)
    X, y = raw[:, :-1], raw[:, -1].astype(np.int64)
    sd = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    _DATA = (torch.from_numpy(X.astype(np.float32)), torch.from_numpy(y), epochs)


def train(cfg):
    import time
    import torch
    import torch.nn.functional as F
    opt_name, lr, seed = cfg
    X, y, epochs = _DATA
    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10))
    params = model.parameters()
    opt = {
        "sgd": lambda: torch.optim.SGD(params, lr=lr),
        "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
        "rmsprop": lambda: torch.optim.RMSprop(params, lr=lr),
        "adam": lambda: torch.optim.Adam(params, lr=lr),
    }[opt_name]()
    gen = torch.Generator().manual_seed(seed)
    n = X.shape[0]
    for _ in range(epochs):
        perm = torch.randperm(n, generator=gen)
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad(set_to_none=True)
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            opt.step()
    with torch.no_grad():
        final = F.cross_entropy(model(X), y).item()
    return opt_name, lr, seed, final, time.perf_counter() - t0


def main():
    args = C.parse_args(extra)
    if args.list:
        print("sweep/pytorch-pool")
        return
    if not C.selected(args, "sweep/pytorch-pool"):
        return
    C.setup_threads(args.threads)  # the pool's workers inherit the CPU affinity
    import multiprocessing as mp
    import os
    import time
    here = os.path.dirname(os.path.abspath(__file__))
    csv_path = args.data or os.path.join(here, "..", "..", "datasets", "digits.csv")
    epochs = 1 if args.quick else 10
    grid = GRID[::4] if args.quick else GRID
    ctx = mp.get_context("spawn")

    def sweep(pool):
        t0 = time.perf_counter()
        out = pool.map(train, grid, chunksize=1)
        return time.perf_counter() - t0, out

    def measure(workers):
        C.log(f"# sweep: {len(grid)} runs on a pool of {workers} worker(s), torch.set_num_threads(1) each")
        cold = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            with ctx.Pool(workers, initializer=_init, initargs=(csv_path, epochs)) as pool:
                pool.map(train, grid, chunksize=1)
            cold.append(time.perf_counter() - t0)
        with ctx.Pool(workers, initializer=_init, initargs=(csv_path, epochs)) as pool:
            sweep(pool)  # warm-up sweep: every worker has started, imported and trained
            warm = [sweep(pool) for _ in range(args.runs)]
        secs = [w[0] for w in warm]
        return C.median(secs), secs, C.median(cold), cold, warm[0][1]

    results = {}
    for workers in sorted({args.threads, 1}, reverse=True):
        results[workers] = measure(workers)
    for workers, (sec, secs, cold, colds, table) in results.items():
        keys = dict(cold_seconds=cold, runs=len(grid), all_seconds=secs, all_cold_seconds=colds)
        if workers > 1:
            keys["parallel_efficiency"] = results[1][0] / (workers * sec)
        C.emit("sweep", "pytorch-pool", workers, sec, **keys)
        if args.table and workers == max(results):
            C.log(f"# per-run final loss (mean cross-entropy over all rows), {workers} worker(s)")
            C.log(f"{'optimizer':<9} {'lr':>6} {'seed':>4} {'final_loss':>12} {'run_s':>7}")
            for o, lr, s, final, rs in table:
                C.log(f"{o:<9} {lr:>6g} {s:>4} {final:>12.6g} {rs:>7.3f}")


if __name__ == "__main__":
    main()
