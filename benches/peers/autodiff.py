#!/usr/bin/env python3
"""Peers for W3 autodiff-rosenbrock and W3b autodiff-deep-chain
(shared/BENCHMARKS.md): reverse-mode value and gradient in PyTorch eager and
JAX (jit, and lax.scan for the chain), float64, plus hand-written NumPy
gradients as a reference point.

    benches/peers/.venv/bin/python benches/peers/autodiff.py [--quick] [--threads N] [--only deep-chain]

W3b data (BENCHMARKS.md leaves it open; chosen so that no value or gradient
underflows into denormals over 1,000 layers): seed 0,
x0 = 0.5 * N(0,1), w_i = 1 + 0.1 * N(0,1), b_i = 0.1 * N(0,1), each of length 16.
"""

import _common as C

args = C.parse_args()
C.setup_threads(args.threads)

import numpy as np  # noqa: E402

T = args.threads
D = 1_000 if args.quick else 10_000
EVALS = 100 if args.quick else 1_000
LAYERS, WIDTH = (100 if args.quick else 1_000), 16
CHAIN_EVALS = 10 if args.quick else 100
OPS = 3 * LAYERS


# ---------------------------------------------------------------- W3 Rosenbrock

def rosen_x0():
    x = np.empty(D)
    x[0::2], x[1::2] = -1.2, 1.0
    return x


def rosen_grad_closed(x):
    g = np.zeros_like(x)
    a = x[1:] - x[:-1] ** 2
    g[:-1] = -400 * x[:-1] * a - 2 * (1 - x[:-1])
    g[1:] += 200 * a
    return g


def max_rel_err(g, ref):
    g, ref = np.asarray(g, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    floor = 1e-30 * np.max(np.abs(ref))
    return float(np.max(np.abs(g - ref) / np.maximum(np.abs(ref), floor)))


def rosen_report(impl, time_value, time_grad, grad):
    vsec, _, vsecs = C.measure(lambda: (time_value(), {}), args.runs)
    gsec, _, gsecs = C.measure(lambda: (time_grad(), {}), args.runs)
    C.emit("autodiff-rosenbrock", impl, T, gsec, value_seconds=vsec, ratio=gsec / vsec,
           grad_max_rel_err=max_rel_err(grad(), rosen_grad_closed(rosen_x0())),
           per_eval_us=gsec / EVALS * 1e6, all_seconds=gsecs, all_value_seconds=vsecs)


def rosen_torch(args):
    torch = C.torch_threads(T)

    def f(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    x = torch.from_numpy(rosen_x0())
    xg = x.clone().requires_grad_(True)

    def time_value():
        with C.Timer() as t:
            for _ in range(EVALS):
                f(x)
        return t.seconds

    def grad():
        return torch.autograd.grad(f(xg), xg)[0]

    def time_grad():
        with C.Timer() as t:
            for _ in range(EVALS):
                grad()
        return t.seconds

    rosen_report("pytorch", time_value, time_grad, lambda: grad().numpy())


def rosen_jax(args):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x):
        return jnp.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    fv, fvg = jax.jit(f), jax.jit(jax.value_and_grad(f))
    x = jnp.asarray(rosen_x0())

    def time_value():
        with C.Timer() as t:
            for _ in range(EVALS):
                fv(x).block_until_ready()
        return t.seconds

    def time_grad():
        with C.Timer() as t:
            for _ in range(EVALS):
                jax.block_until_ready(fvg(x))
        return t.seconds

    rosen_report("jax-jit", time_value, time_grad, lambda: np.asarray(fvg(x)[1]))


def rosen_numpy(args):
    """Hand-derived gradient (not autodiff): what a closed form costs."""
    x = rosen_x0()

    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def vg(x):
        a = x[1:] - x[:-1] ** 2
        v = np.sum(100 * a ** 2 + (1 - x[:-1]) ** 2)
        g = np.zeros_like(x)
        g[:-1] = -400 * x[:-1] * a - 2 * (1 - x[:-1])
        g[1:] += 200 * a
        return v, g

    def time_value():
        with C.Timer() as t:
            for _ in range(EVALS):
                f(x)
        return t.seconds

    def time_grad():
        with C.Timer() as t:
            for _ in range(EVALS):
                vg(x)
        return t.seconds

    rosen_report("numpy-handwritten", time_value, time_grad, lambda: vg(x)[1])


# ---------------------------------------------------------------- W3b deep chain

def chain_data():
    rng = np.random.default_rng(0)
    x0 = 0.5 * rng.standard_normal(WIDTH)
    W = 1 + 0.1 * rng.standard_normal((LAYERS, WIDTH))
    Bs = 0.1 * rng.standard_normal((LAYERS, WIDTH))
    return x0, W, Bs


def chain_numpy_grad(x0, W, Bs):
    """Hand-written reverse pass in float64: the reference gradient."""
    xs = [x0]
    x = x0
    for i in range(LAYERS):
        x = np.tanh(x * W[i] + Bs[i])
        xs.append(x)
    gx = np.ones(WIDTH)
    gW, gB = np.empty_like(W), np.empty_like(Bs)
    for i in range(LAYERS - 1, -1, -1):
        gz = gx * (1 - xs[i + 1] ** 2)
        gW[i] = gz * xs[i]
        gB[i] = gz
        gx = gz * W[i]
    return float(xs[-1].sum()), gW, gB


def chain_loss_np(x0, W, Bs):
    x = x0
    for i in range(LAYERS):
        x = np.tanh(x * W[i] + Bs[i])
    return float(x.sum())


_REF = None


def chain_reference():
    """The NumPy reverse pass, itself checked once against central finite
    differences on 40 random parameters (float64)."""
    global _REF
    if _REF is None:
        x0, W, Bs = chain_data()
        _, gW, gB = chain_numpy_grad(x0, W, Bs)
        rng = np.random.default_rng(1)
        errs, abs_errs = [], []
        for _ in range(40):
            which, i, j = rng.integers(2), rng.integers(LAYERS), rng.integers(WIDTH)
            P = (W if which == 0 else Bs).copy()
            h = 1e-6
            P[i, j] += h
            fp = chain_loss_np(x0, P, Bs) if which == 0 else chain_loss_np(x0, W, P)
            P[i, j] -= 2 * h
            fm = chain_loss_np(x0, P, Bs) if which == 0 else chain_loss_np(x0, W, P)
            fd = (fp - fm) / (2 * h)
            an = (gW if which == 0 else gB)[i, j]
            abs_errs.append(abs(fd - an))
            if abs(an) > 1e-4:  # below that, the O(1e-10) differencing error dominates
                errs.append(abs(fd - an) / abs(an))
        C.log(f"#   reference reverse pass vs central differences (40 params, h=1e-6): max abs err "
              f"{max(abs_errs):.1e}, max rel err {max(errs, default=0):.1e} where |grad| > 1e-4")
        _REF = (gW, gB)
    return _REF


def chain_report(impl, time_evals, grads):
    sec, _, secs = C.measure(lambda: (time_evals(), {}), args.runs)
    gW, gB = grads()
    rW, rB = chain_reference()
    err = max(max_rel_err(gW, rW), max_rel_err(gB, rB))
    C.emit("autodiff-deep-chain", impl, T, sec, per_op_us=sec / CHAIN_EVALS / OPS * 1e6,
           grad_max_rel_err=err, all_seconds=secs)


def chain_torch(args):
    torch = C.torch_threads(T)
    x0, W, Bs = chain_data()
    x0t = torch.from_numpy(x0)
    ws = [torch.from_numpy(W[i].copy()).requires_grad_(True) for i in range(LAYERS)]
    bs = [torch.from_numpy(Bs[i].copy()).requires_grad_(True) for i in range(LAYERS)]
    params = ws + bs

    def evaluate():
        x = x0t
        for w, b in zip(ws, bs):
            x = torch.tanh(x * w + b)
        return torch.autograd.grad(x.sum(), params)

    def time_evals():
        with C.Timer() as t:
            for _ in range(CHAIN_EVALS):
                evaluate()
        return t.seconds

    def grads():
        g = evaluate()
        return np.stack([a.numpy() for a in g[:LAYERS]]), np.stack([a.numpy() for a in g[LAYERS:]])

    chain_report("pytorch", time_evals, grads)


def chain_jax(scanned):
    def fn(args):
        import jax
        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp
        from jax import lax
        x0, W, Bs = chain_data()
        x0j, Wj, Bj = jnp.asarray(x0), jnp.asarray(W), jnp.asarray(Bs)

        def loss_unrolled(ws, bs, x):
            # 2,000 separate parameter vectors (lists), unrolled into one XLA
            # program. (Slicing rows of stacked (1000, 16) arrays instead makes
            # the gradient a sum of 1,000 scatters, and XLA's compile of that
            # ran past 6 minutes and 12 GB.)
            for w, b in zip(ws, bs):
                x = jnp.tanh(x * w + b)
            return jnp.sum(x)

        def loss_scan(W, Bs, x):
            x, _ = lax.scan(lambda x, wb: (jnp.tanh(x * wb[0] + wb[1]), None), x, (W, Bs))
            return jnp.sum(x)

        if scanned:
            loss, pw, pb = loss_scan, Wj, Bj
        else:
            loss, pw, pb = loss_unrolled, list(Wj), list(Bj)
        vg = jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))
        with C.Timer() as tc:
            jax.block_until_ready(vg(pw, pb, x0j))
        C.log(f"#   first call (trace + compile): {tc.seconds:.2f}s")

        def time_evals():
            with C.Timer() as t:
                for _ in range(CHAIN_EVALS):
                    jax.block_until_ready(vg(pw, pb, x0j))
            return t.seconds

        def grads():
            _, (gW, gB) = vg(pw, pb, x0j)
            return np.stack([np.asarray(a) for a in gW]), np.stack([np.asarray(a) for a in gB])

        chain_report("jax-scan" if scanned else "jax-jit", time_evals, grads)
    return fn


def chain_numpy(args):
    """Hand-written reverse pass in NumPy (not autodiff)."""
    x0, W, Bs = chain_data()

    def time_evals():
        with C.Timer() as t:
            for _ in range(CHAIN_EVALS):
                chain_numpy_grad(x0, W, Bs)
        return t.seconds

    chain_report("numpy-handwritten", time_evals, lambda: chain_numpy_grad(x0, W, Bs)[1:])


E = C.Entry
entries = [
    E("autodiff-rosenbrock", "pytorch", rosen_torch),
    E("autodiff-rosenbrock", "jax-jit", rosen_jax),
    E("autodiff-rosenbrock", "numpy-handwritten", rosen_numpy),
    E("autodiff-deep-chain", "pytorch", chain_torch),
    E("autodiff-deep-chain", "jax-jit", chain_jax(scanned=False)),
    E("autodiff-deep-chain", "jax-scan", chain_jax(scanned=True)),
    E("autodiff-deep-chain", "numpy-handwritten", chain_numpy),
]

if __name__ == "__main__":
    C.main(__file__, entries, args)
