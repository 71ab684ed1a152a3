#!/usr/bin/env python3
"""Peers for W1 linreg-minibatch, W1b linreg-sgd and W1c linreg-batch
(shared/BENCHMARKS.md): linear regression by gradient descent in PyTorch, JAX,
scikit-learn and NumPy.

    benches/peers/.venv/bin/python benches/peers/linreg.py [--quick] [--threads N] [--only linreg-sgd]
"""

import _common as C

args = C.parse_args()
C.setup_threads(args.threads)

import numpy as np  # noqa: E402

T = args.threads
N, D = (2_000, 100) if args.quick else (100_000, 100)
B_MINI, LR_MINI, EPOCHS_MINI = 64, 0.01, (2 if args.quick else 5)
LR_SGD = 0.001
LR_BATCH, STEPS_BATCH = 0.1, (20 if args.quick else 200)
SEED = 0


def data():
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((N, D), dtype=np.float32)
    w = rng.standard_normal(D, dtype=np.float32)
    y = (X @ w + np.float32(0.5) + np.float32(0.01) * rng.standard_normal(N, dtype=np.float32)).astype(np.float32)
    return X, y


def final_mse(X, y, w, b):
    w = np.asarray(w, dtype=np.float64).reshape(-1)
    b = float(np.asarray(b, dtype=np.float64).reshape(-1)[0])
    r = X.astype(np.float64) @ w + b - y
    return float(np.mean(r * r))


def report(workload, impl, X, y, samples, run_once):
    sec, m, secs = C.measure(run_once, args.runs)
    C.emit(workload, impl, T, sec, samples_per_s=samples / sec,
           final_loss=final_mse(X, y, m["w"], m["b"]), all_seconds=secs)


# ---------------------------------------------------------------- PyTorch

def torch_linear(torch, X):
    model = torch.nn.Linear(X.shape[1], 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    return model


def torch_loop(workload, batch, lr, epochs=1, steps=None):
    torch = C.torch_threads(T)
    import torch.nn.functional as F
    X, y = data()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)

    def run_once():
        torch.manual_seed(SEED)
        model = torch_linear(torch, X)
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        with C.Timer() as t:
            if steps is not None:  # full batch
                for _ in range(steps):
                    opt.zero_grad(set_to_none=True)
                    F.mse_loss(model(Xt), yt).backward()
                    opt.step()
            elif batch == 1:
                for _ in range(epochs):
                    for i in torch.randperm(N).tolist():
                        opt.zero_grad(set_to_none=True)
                        F.mse_loss(model(Xt[i:i + 1]), yt[i:i + 1]).backward()
                        opt.step()
            else:
                for _ in range(epochs):
                    perm = torch.randperm(N)
                    for s in range(0, N, batch):
                        idx = perm[s:s + batch]
                        opt.zero_grad(set_to_none=True)
                        F.mse_loss(model(Xt[idx]), yt[idx]).backward()
                        opt.step()
        return t.seconds, {"w": model.weight.detach().numpy(), "b": model.bias.detach().numpy()}

    samples = N * (steps if steps is not None else epochs)
    report(workload, "pytorch", X, y, samples, run_once)


def torch_dataloader(args):
    torch = C.torch_threads(T)
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset
    X, y = data()
    ds = TensorDataset(torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1))

    def run_once():
        torch.manual_seed(SEED)
        model = torch_linear(torch, X)
        opt = torch.optim.SGD(model.parameters(), lr=LR_MINI)
        loader = DataLoader(ds, batch_size=B_MINI, shuffle=True, drop_last=False)
        with C.Timer() as t:
            for _ in range(EPOCHS_MINI):
                for xb, yb in loader:
                    opt.zero_grad(set_to_none=True)
                    F.mse_loss(model(xb), yb).backward()
                    opt.step()
        return t.seconds, {"w": model.weight.detach().numpy(), "b": model.bias.detach().numpy()}

    report("linreg-minibatch", "pytorch-dataloader", X, y, N * EPOCHS_MINI, run_once)


# ---------------------------------------------------------------- JAX

def jax_setup():
    import jax
    import jax.numpy as jnp
    from jax import lax

    def loss(p, xb, yb):
        r = xb @ p["w"] + p["b"] - yb
        return jnp.mean(r * r)

    def sgd(p, xb, yb, lr):
        g = jax.grad(loss)(p, xb, yb)
        return jax.tree_util.tree_map(lambda a, ga: a - lr * ga, p, g)

    def zeros():
        return {"w": jnp.zeros(D, jnp.float32), "b": jnp.zeros((), jnp.float32)}

    return jax, jnp, lax, sgd, zeros


def jax_minibatch_jit(args):
    """A jit-compiled step called from Python; the batch is gathered on the
    device from the resident X by a dynamic slice of the epoch's permutation."""
    jax, jnp, lax, sgd, zeros = jax_setup()
    X, y = data()
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    nfull, tail = divmod(N, B_MINI)

    @jax.jit
    def step(p, X, y, perm, start):
        idx = lax.dynamic_slice(perm, (start,), (B_MINI,))
        return sgd(p, X[idx], y[idx], LR_MINI)

    @jax.jit
    def step_tail(p, X, y, idx):
        return sgd(p, X[idx], y[idx], LR_MINI)

    rng = np.random.default_rng(SEED)

    def run_once():
        p = zeros()
        with C.Timer() as t:
            for _ in range(EPOCHS_MINI):
                perm = rng.permutation(N).astype(np.int32)
                permj = jnp.asarray(perm)
                for k in range(nfull):
                    p = step(p, Xj, yj, permj, np.int32(k * B_MINI))
                if tail:
                    p = step_tail(p, Xj, yj, jnp.asarray(perm[nfull * B_MINI:]))
            jax.block_until_ready(p)
        return t.seconds, {"w": np.asarray(p["w"]), "b": np.asarray(p["b"])}

    report("linreg-minibatch", "jax-jit", X, y, N * EPOCHS_MINI, run_once)


def jax_minibatch_scan(args):
    """One jit-compiled epoch: lax.scan over the full batches, then the tail."""
    jax, jnp, lax, sgd, zeros = jax_setup()
    X, y = data()
    Xj, yj = jnp.asarray(X), jnp.asarray(y)
    nfull, tail = divmod(N, B_MINI)

    @jax.jit
    def epoch(p, X, y, perm_full, perm_tail):
        def body(p, idx):
            return sgd(p, X[idx], y[idx], LR_MINI), None
        p, _ = lax.scan(body, p, perm_full)
        if perm_tail.shape[0]:
            p = sgd(p, X[perm_tail], y[perm_tail], LR_MINI)
        return p

    rng = np.random.default_rng(SEED)

    def run_once():
        p = zeros()
        with C.Timer() as t:
            for _ in range(EPOCHS_MINI):
                perm = rng.permutation(N).astype(np.int32)
                p = epoch(p, Xj, yj, jnp.asarray(perm[:nfull * B_MINI].reshape(nfull, B_MINI)),
                          jnp.asarray(perm[nfull * B_MINI:]))
            jax.block_until_ready(p)
        return t.seconds, {"w": np.asarray(p["w"]), "b": np.asarray(p["b"])}

    report("linreg-minibatch", "jax-scan", X, y, N * EPOCHS_MINI, run_once)


def jax_sgd_scan(args):
    """W1b: lax.scan over the shuffled samples, one jax.grad step each."""
    jax, jnp, lax, sgd, zeros = jax_setup()
    X, y = data()
    Xj, yj = jnp.asarray(X), jnp.asarray(y)

    @jax.jit
    def epoch(p, X, y, perm):
        def body(p, i):
            return sgd(p, X[i][None, :], y[i][None], LR_SGD), None
        return lax.scan(body, p, perm)[0]

    rng = np.random.default_rng(SEED)

    def run_once():
        p = zeros()
        with C.Timer() as t:
            p = epoch(p, Xj, yj, jnp.asarray(rng.permutation(N).astype(np.int32)))
            jax.block_until_ready(p)
        return t.seconds, {"w": np.asarray(p["w"]), "b": np.asarray(p["b"])}

    report("linreg-sgd", "jax-scan", X, y, N, run_once)


def jax_batch(impl):
    def fn(args):
        jax, jnp, lax, sgd, zeros = jax_setup()
        X, y = data()
        Xj, yj = jnp.asarray(X), jnp.asarray(y)

        step = jax.jit(lambda p, X, y: sgd(p, X, y, LR_BATCH))

        @jax.jit
        def all_steps(p, X, y):
            return lax.fori_loop(0, STEPS_BATCH, lambda _, p: sgd(p, X, y, LR_BATCH), p)

        def run_once():
            p = zeros()
            with C.Timer() as t:
                if impl == "jax-jit":
                    for _ in range(STEPS_BATCH):
                        p = step(p, Xj, yj)
                else:
                    p = all_steps(p, Xj, yj)
                jax.block_until_ready(p)
            return t.seconds, {"w": np.asarray(p["w"]), "b": np.asarray(p["b"])}

        report("linreg-batch", impl, X, y, N * STEPS_BATCH, run_once)
    return fn


# ---------------------------------------------------------------- scikit-learn

def sklearn_sgd(args):
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDRegressor
    X, y = data()
    # sklearn works in float64: convert outside the timed part (its best case).
    X64, y64 = np.ascontiguousarray(X, np.float64), y.astype(np.float64)

    def run_once():
        # Note: sklearn's squared_error is 0.5*(p-y)^2, so eta0=0.001 is half
        # the step of MSE with lr=0.001; the work per step is the same.
        reg = SGDRegressor(loss="squared_error", penalty=None, learning_rate="constant", eta0=LR_SGD,
                           max_iter=1, shuffle=True, tol=None, random_state=SEED)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            with C.Timer() as t:
                reg.fit(X64, y64)
        return t.seconds, {"w": reg.coef_, "b": reg.intercept_}

    report("linreg-sgd", "sklearn-sgdregressor", X, y, N, run_once)


# ---------------------------------------------------------------- NumPy

def numpy_minibatch(args):
    X, y = data()
    rng = np.random.default_rng(SEED)

    def run_once():
        w = np.zeros(D, np.float32)
        b = np.float32(0)
        with C.Timer() as t:
            for _ in range(EPOCHS_MINI):
                perm = rng.permutation(N)
                for s in range(0, N, B_MINI):
                    idx = perm[s:s + B_MINI]
                    xb = X[idx]
                    g = (xb @ w + b - y[idx]) * np.float32(2.0 / len(idx))
                    w -= np.float32(LR_MINI) * (g @ xb)
                    b -= np.float32(LR_MINI) * g.sum()
        return t.seconds, {"w": w, "b": np.array([b])}

    report("linreg-minibatch", "numpy", X, y, N * EPOCHS_MINI, run_once)


def numpy_sgd(args):
    X, y = data()
    rng = np.random.default_rng(SEED)
    lr2 = np.float32(2 * LR_SGD)

    def run_once():
        w = np.zeros(D, np.float32)
        b = np.float32(0)
        with C.Timer() as t:
            for i in rng.permutation(N).tolist():
                x = X[i]
                g = lr2 * (x @ w + b - y[i])
                w -= g * x
                b -= g
        return t.seconds, {"w": w, "b": np.array([b])}

    report("linreg-sgd", "numpy", X, y, N, run_once)


def numpy_batch(args):
    X, y = data()

    def run_once():
        w = np.zeros(D, np.float32)
        b = np.float32(0)
        with C.Timer() as t:
            for _ in range(STEPS_BATCH):
                g = (X @ w + b - y) * np.float32(2.0 / N)  # first read of X
                w -= np.float32(LR_BATCH) * (g @ X)      # second read of X
                b -= np.float32(LR_BATCH) * g.sum()
        return t.seconds, {"w": w, "b": np.array([b])}

    report("linreg-batch", "numpy", X, y, N * STEPS_BATCH, run_once)


E = C.Entry
entries = [
    E("linreg-minibatch", "pytorch", lambda a: torch_loop("linreg-minibatch", B_MINI, LR_MINI, EPOCHS_MINI)),
    E("linreg-minibatch", "pytorch-dataloader", torch_dataloader),
    E("linreg-minibatch", "jax-jit", jax_minibatch_jit),
    E("linreg-minibatch", "jax-scan", jax_minibatch_scan),
    E("linreg-minibatch", "numpy", numpy_minibatch),
    E("linreg-sgd", "sklearn-sgdregressor", sklearn_sgd),
    E("linreg-sgd", "pytorch", lambda a: torch_loop("linreg-sgd", 1, LR_SGD, 1)),
    E("linreg-sgd", "jax-scan", jax_sgd_scan),
    E("linreg-sgd", "numpy", numpy_sgd),
    E("linreg-batch", "pytorch", lambda a: torch_loop("linreg-batch", N, LR_BATCH, steps=STEPS_BATCH)),
    E("linreg-batch", "jax-jit", jax_batch("jax-jit")),
    E("linreg-batch", "jax-fori", jax_batch("jax-fori")),
    E("linreg-batch", "numpy", numpy_batch),
]

if __name__ == "__main__":
    C.main(__file__, entries, args)
