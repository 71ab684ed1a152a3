#!/usr/bin/env python3
"""Physical limits of this machine, for the benchmark report:

* memory bandwidth: a STREAM-style triad a[i] = b[i] + s*c[i] in C (compiled
  here with gcc -O3 -march=native -fopenmp, called through ctypes) over three
  float64 arrays of 2^25 elements (256 MiB each, far beyond any cache), counted
  the STREAM way as 24 bytes per element (the write-allocate read of `a` is not
  counted); also a read-only kernel (sum of one array, 8 bytes per element),
  which is the limit that matters for W1c (two reads of X per step), and the
  NumPy triad (np.multiply then np.add, out=, counted as 24 bytes per element
  although it moves 40) for when gcc is absent.
* peak float32 matmul rate: NumPy (OpenBLAS) and PyTorch (MKL) sgemm of
  4096 x 4096 x 4096, and the W2 step's shapes, 2*m*n*k FLOPs each.

Each figure is the best of 5 repetitions after a warm-up (best, not median:
this is a capability, and the machine is shared). One JSON line per figure,
with `threads` = 1 and the requested thread count.

    benches/peers/.venv/bin/python benches/peers/triad.py [--quick] [--threads N]
"""

import _common as C

args = C.parse_args()
C.setup_threads(args.threads)

import ctypes  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

N = 1 << (22 if args.quick else 25)
REPS = 5
THREADS = sorted({1, args.threads})

C_SRC = r"""
#include <omp.h>
#include <stddef.h>
void triad(double *restrict a, const double *restrict b, const double *restrict c,
           double s, size_t n, int threads) {
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = b[i] + s * c[i];
}
double readsum(const double *restrict a, size_t n, int threads) {
    double t = 0.0;
    /* simd: lets the sum use vector accumulators; a single scalar chain
       would be bound by the add latency, not by memory. */
    #pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+:t)
    for (size_t i = 0; i < n; i++) t += a[i];
    return t;
}
void init(double *restrict a, double v, size_t n, int threads) {
    #pragma omp parallel for num_threads(threads) schedule(static)
    for (size_t i = 0; i < n; i++) a[i] = v;
}
"""


def best(fn):
    fn()
    ts = []
    for _ in range(REPS):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return min(ts), ts


def build_c():
    cc = shutil.which("gcc") or shutil.which("cc")
    if not cc:
        C.log("# no C compiler: C triad skipped")
        return None
    d = tempfile.mkdtemp(prefix="peers-triad-")
    src, lib = os.path.join(d, "triad.c"), os.path.join(d, "triad.so")
    with open(src, "w") as f:
        f.write(C_SRC)
    cmd = [cc, "-O3", "-march=native", "-ffp-contract=fast", "-fopenmp", "-fPIC", "-shared", src, "-o", lib]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        C.log("# C triad did not compile, skipped:\n" + r.stderr)
        return None
    so = ctypes.CDLL(lib)
    dp = ctypes.POINTER(ctypes.c_double)
    so.triad.argtypes = [dp, dp, dp, ctypes.c_double, ctypes.c_size_t, ctypes.c_int]
    so.readsum.argtypes = [dp, ctypes.c_size_t, ctypes.c_int]
    so.readsum.restype = ctypes.c_double
    so.init.argtypes = [dp, ctypes.c_double, ctypes.c_size_t, ctypes.c_int]
    return so, dp


def bandwidth():
    built = build_c()
    a, b, c = (np.empty(N) for _ in range(3))
    if built:
        so, dp = built
        pa, pb, pc = (x.ctypes.data_as(dp) for x in (a, b, c))
        for p, v in ((pa, 0.0), (pb, 1.0), (pc, 2.0)):
            so.init(p, v, N, max(THREADS))  # first touch by the worker threads
        for t in THREADS:
            sec, ts = best(lambda: so.triad(pa, pb, pc, 3.0, N, t))
            C.emit("triad", "c-openmp", t, sec, gb_per_s=24 * N / sec / 1e9, bytes=24 * N, all_seconds=ts)
            sec, ts = best(lambda: so.readsum(pb, N, t))
            C.emit("read-bandwidth", "c-openmp", t, sec, gb_per_s=8 * N / sec / 1e9, bytes=8 * N, all_seconds=ts)
        assert a[123] == 7.0
    b[:], c[:] = 1.0, 2.0

    def np_triad():
        np.multiply(c, 3.0, out=a)
        np.add(a, b, out=a)

    sec, ts = best(np_triad)
    C.emit("triad", "numpy", 1, sec, gb_per_s=24 * N / sec / 1e9, bytes=24 * N, all_seconds=ts)


def matmul():
    import torch
    sizes = [(4096, 4096, 4096)] if not args.quick else [(1024, 1024, 1024)]
    sizes += [(128, 784, 256), (128, 256, 784), (784, 128, 256)]  # W2 forward, dX-like, dW1
    rng = np.random.default_rng(0)
    for t in THREADS:
        torch.set_num_threads(t)
        for m, k, n in sizes:
            A = rng.standard_normal((m, k), dtype=np.float32)
            B = rng.standard_normal((k, n), dtype=np.float32)
            out = np.empty((m, n), np.float32)
            reps = 1 if m * n * k > 1e9 else max(1, int(2e9 / (2 * m * n * k)))
            flops = 2.0 * m * n * k * reps

            def np_mm():
                for _ in range(reps):
                    np.matmul(A, B, out=out)

            with threadpool_limits(limits=t, user_api="blas"):
                sec, _ = best(np_mm)
            C.emit("matmul-f32", "numpy-openblas", t, sec, gflop_per_s=flops / sec / 1e9, m=m, k=k, n=n, reps=reps)
            At, Bt, Ot = torch.from_numpy(A), torch.from_numpy(B), torch.from_numpy(out)

            def torch_mm():
                for _ in range(reps):
                    torch.matmul(At, Bt, out=Ot)

            sec, _ = best(torch_mm)
            C.emit("matmul-f32", "pytorch-mkl", t, sec, gflop_per_s=flops / sec / 1e9, m=m, k=k, n=n, reps=reps)


if __name__ == "__main__":
    if args.list:
        print("triad/c-openmp\nread-bandwidth/c-openmp\ntriad/numpy\nmatmul-f32/numpy-openblas\nmatmul-f32/pytorch-mkl")
    else:
        if C.selected(args, "triad/c-openmp") or C.selected(args, "read-bandwidth"):
            bandwidth()
        if C.selected(args, "matmul-f32"):
            matmul()
