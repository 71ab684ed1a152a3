#!/usr/bin/env python3
"""W5 `csv-load` peers: loading the 1,000,000 x 11 CSV of shared/BENCHMARKS.md
(10 float columns with 6 decimals, then an integer label 0-9; about 100 MB)
into a float32 feature matrix and a label vector, timed from opening the file
to having both in memory.

Implementations: pandas read_csv with the C engine, pandas read_csv with the
pyarrow engine (multi-threaded), numpy loadtxt.

The file is the one `cargo xtask bench csv-load` writes, outside the
repository: $TMPDIR/descent-bench/w5.csv (w5-quick.csv with --quick). Run that
first so that both sides read the very same bytes; if the file is missing this
script writes one of the same shape itself (numpy's generator, so other digits).

    benches/peers/.venv/bin/python benches/peers/csv_load.py [--quick] [--threads N] [--runs N]
"""

import _common as C

args = C.parse_args()
C.setup_threads(args.threads)

import os  # noqa: E402
import tempfile  # noqa: E402

import numpy as np  # noqa: E402

ROWS = 50_000 if args.quick else 1_000_000
FEATURES = 10
PATH = os.path.join(tempfile.gettempdir(), "descent-bench", "w5-quick.csv" if args.quick else "w5.csv")
HEADER = ",".join(f"f{i}" for i in range(1, FEATURES + 1)) + ",label"


def ensure_file() -> str:
    if os.path.exists(PATH):
        with open(PATH, "rb") as f:
            if f.readline().decode().strip() == HEADER:
                return PATH
    C.log(f"# {PATH} missing: writing one (run `cargo xtask bench csv-load` first to share its file)")
    os.makedirs(os.path.dirname(PATH), exist_ok=True)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((ROWS, FEATURES))
    y = rng.integers(0, 10, ROWS)
    tmp = PATH + ".partial"
    with open(tmp, "w") as f:
        f.write(HEADER + "\n")
        for row, label in zip(x, y):
            f.write(",".join(f"{v:.6f}" for v in row) + f",{label}\n")
    os.replace(tmp, PATH)
    return PATH


def pandas_load(engine: str):
    import pandas as pd

    def once():
        with C.Timer() as t:
            frame = pd.read_csv(PATH, engine=engine, dtype={**{f"f{i}": np.float32 for i in range(1, FEATURES + 1)}, "label": np.int64})
            x = frame.iloc[:, :FEATURES].to_numpy(dtype=np.float32)
            y = frame["label"].to_numpy()
        assert x.shape == (ROWS, FEATURES) and y.shape == (ROWS,)
        return t.seconds, {}
    return once


def numpy_load():
    def once():
        with C.Timer() as t:
            data = np.loadtxt(PATH, delimiter=",", skiprows=1, dtype=np.float32)
            x = np.ascontiguousarray(data[:, :FEATURES])
            y = data[:, FEATURES].astype(np.int64)
        assert x.shape == (ROWS, FEATURES) and y.shape == (ROWS,)
        return t.seconds, {}
    return once


def run(impl: str, make):
    def fn(a):
        path = ensure_file()
        size_mb = os.path.getsize(path) / 1e6
        seconds, _, secs = C.measure(make(), a.runs)
        C.emit("csv-load", impl, a.threads, seconds, rows=ROWS, mb_per_s=size_mb / seconds, all_seconds=secs)
    return fn


entries = [
    C.Entry("csv-load", "pandas-c", run("pandas-c", lambda: pandas_load("c"))),
    C.Entry("csv-load", "pandas-pyarrow", run("pandas-pyarrow", lambda: pandas_load("pyarrow"))),
    C.Entry("csv-load", "numpy-loadtxt", run("numpy-loadtxt", numpy_load)),
]

if __name__ == "__main__":
    C.main(__file__, entries, args)
