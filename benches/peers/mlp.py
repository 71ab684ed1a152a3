#!/usr/bin/env python3
"""Peers for W2 mlp-classify and W2b mlp-small-batch (shared/BENCHMARKS.md):
a 784 -> 256 -> ReLU -> 10 classifier trained by mini-batch Adam in PyTorch,
JAX (a jit-compiled step, and a jit-compiled epoch scanned over the batches,
both with optax's Adam) and NumPy (hand-written backward and Adam).

    benches/peers/.venv/bin/python benches/peers/mlp.py [--quick] [--threads N] [--only mlp-small]
"""

import _common as C

args = C.parse_args()
C.setup_threads(args.threads)

import numpy as np  # noqa: E402

T = args.threads
N, D, H, K = (2_048, 784, 256, 10) if args.quick else (60_000, 784, 256, 10)
LR, B1, B2, EPS = 1e-3, 0.9, 0.999, 1e-8
SEED = 0
CONFIGS = {"mlp-classify": (128, 2), "mlp-small-batch": (16, 1)}  # batch, epochs
FLOP_PER_SAMPLE = 6 * (D * H + H * K)


def data():
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((N, D), dtype=np.float32)
    teacher = rng.standard_normal((D, K), dtype=np.float32)
    labels = np.argmax(X @ teacher, axis=1).astype(np.int64)
    return X, labels


def init_params():
    """nn.Linear's default: weight and bias uniform in +-1/sqrt(fan_in).
    Returned in (in, out) layout: W1 (D, H), b1 (H,), W2 (H, K), b2 (K,)."""
    rng = np.random.default_rng(SEED + 1)
    a1, a2 = 1 / np.sqrt(D), 1 / np.sqrt(H)
    u = lambda shape, a: rng.uniform(-a, a, shape).astype(np.float32)  # noqa: E731
    return {"W1": u((D, H), a1), "b1": u((H,), a1), "W2": u((H, K), a2), "b2": u((K,), a2)}


def accuracy(X, labels, p):
    h = np.maximum(X @ p["W1"] + p["b1"], 0)
    return float(np.mean(np.argmax(h @ p["W2"] + p["b2"], axis=1) == labels))


def report(workload, impl, X, labels, run_once):
    batch, epochs = CONFIGS[workload]
    sec, m, secs = C.measure(run_once, args.runs)
    samples = N * epochs
    C.emit(workload, impl, T, sec, samples_per_s=samples / sec,
           gflop_per_s=samples * FLOP_PER_SAMPLE / sec / 1e9,
           final_accuracy=accuracy(X, labels, m), all_seconds=secs)


# ---------------------------------------------------------------- PyTorch

def torch_eager(workload):
    def fn(args):
        torch = C.torch_threads(T)
        import torch.nn.functional as F
        batch, epochs = CONFIGS[workload]
        X, labels = data()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(labels)
        p0 = init_params()

        def run_once():
            torch.manual_seed(SEED)
            model = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.ReLU(), torch.nn.Linear(H, K))
            with torch.no_grad():
                model[0].weight.copy_(torch.from_numpy(p0["W1"].T))
                model[0].bias.copy_(torch.from_numpy(p0["b1"]))
                model[2].weight.copy_(torch.from_numpy(p0["W2"].T))
                model[2].bias.copy_(torch.from_numpy(p0["b2"]))
            opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(B1, B2), eps=EPS)
            with C.Timer() as t:
                for _ in range(epochs):
                    perm = torch.randperm(N)
                    for s in range(0, N, batch):
                        idx = perm[s:s + batch]
                        opt.zero_grad(set_to_none=True)
                        F.cross_entropy(model(Xt[idx]), yt[idx]).backward()
                        opt.step()
            return t.seconds, {"W1": model[0].weight.detach().numpy().T, "b1": model[0].bias.detach().numpy(),
                               "W2": model[2].weight.detach().numpy().T, "b2": model[2].bias.detach().numpy()}

        report(workload, "pytorch", X, labels, run_once)
    return fn


# ---------------------------------------------------------------- JAX

def jax_impl(workload, scanned):
    def fn(args):
        import jax
        import jax.numpy as jnp
        import optax
        from jax import lax
        batch, epochs = CONFIGS[workload]
        X, labels = data()
        Xj, yj = jnp.asarray(X), jnp.asarray(labels.astype(np.int32))
        nfull, tail = divmod(N, batch)
        opt = optax.adam(LR, b1=B1, b2=B2, eps=EPS)

        def loss(p, xb, yb):
            h = jax.nn.relu(xb @ p["W1"] + p["b1"])
            logits = h @ p["W2"] + p["b2"]
            return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

        def step(p, s, xb, yb):
            g = jax.grad(loss)(p, xb, yb)
            upd, s = opt.update(g, s, p)
            return optax.apply_updates(p, upd), s

        @jax.jit
        def step_at(p, s, X, y, perm, start):
            idx = lax.dynamic_slice(perm, (start,), (batch,))
            return step(p, s, X[idx], y[idx])

        @jax.jit
        def step_idx(p, s, X, y, idx):
            return step(p, s, X[idx], y[idx])

        @jax.jit
        def epoch(p, s, X, y, perm_full, perm_tail):
            def body(carry, idx):
                return step(*carry, X[idx], y[idx]), None
            (p, s), _ = lax.scan(body, (p, s), perm_full)
            if perm_tail.shape[0]:
                p, s = step(p, s, X[perm_tail], y[perm_tail])
            return p, s

        rng = np.random.default_rng(SEED)

        def run_once():
            p = jax.tree_util.tree_map(jnp.asarray, init_params())
            s = opt.init(p)
            with C.Timer() as t:
                for _ in range(epochs):
                    perm = rng.permutation(N).astype(np.int32)
                    if scanned:
                        p, s = epoch(p, s, Xj, yj, jnp.asarray(perm[:nfull * batch].reshape(nfull, batch)),
                                     jnp.asarray(perm[nfull * batch:]))
                    else:
                        permj = jnp.asarray(perm)
                        for k in range(nfull):
                            p, s = step_at(p, s, Xj, yj, permj, np.int32(k * batch))
                        if tail:
                            p, s = step_idx(p, s, Xj, yj, jnp.asarray(perm[nfull * batch:]))
                jax.block_until_ready(p)
            return t.seconds, {k: np.asarray(v) for k, v in p.items()}

        report(workload, "jax-scan" if scanned else "jax-jit", X, labels, run_once)
    return fn


# ---------------------------------------------------------------- NumPy

def numpy_impl(workload):
    def fn(args):
        batch, epochs = CONFIGS[workload]
        X, labels = data()
        rng = np.random.default_rng(SEED)
        f32 = np.float32

        def run_once():
            p = init_params()
            m = {k: np.zeros_like(v) for k, v in p.items()}
            v = {k: np.zeros_like(a) for k, a in p.items()}
            t_step = 0
            with C.Timer() as t:
                for _ in range(epochs):
                    perm = rng.permutation(N)
                    for s in range(0, N, batch):
                        idx = perm[s:s + batch]
                        xb, yb = X[idx], labels[idx]
                        n = len(idx)
                        z = xb @ p["W1"] + p["b1"]
                        h = np.maximum(z, 0)
                        logits = h @ p["W2"] + p["b2"]
                        logits -= logits.max(axis=1, keepdims=True)
                        e = np.exp(logits)
                        dlog = e / e.sum(axis=1, keepdims=True)
                        dlog[np.arange(n), yb] -= 1
                        dlog *= f32(1.0 / n)
                        dh = dlog @ p["W2"].T
                        dh[z <= 0] = 0
                        g = {"W2": h.T @ dlog, "b2": dlog.sum(0), "W1": xb.T @ dh, "b1": dh.sum(0)}
                        t_step += 1
                        c1 = f32(LR / (1 - B1 ** t_step))
                        c2 = f32(1 / np.sqrt(1 - B2 ** t_step))
                        for k in p:
                            m[k] *= f32(B1)
                            m[k] += f32(1 - B1) * g[k]
                            v[k] *= f32(B2)
                            v[k] += f32(1 - B2) * (g[k] * g[k])
                            p[k] -= c1 * m[k] / (np.sqrt(v[k]) * c2 + f32(EPS))
            return t.seconds, p

        report(workload, "numpy", X, labels, run_once)
    return fn


E = C.Entry
entries = []
for w in CONFIGS:
    entries += [
        E(w, "pytorch", torch_eager(w)),
        E(w, "jax-jit", jax_impl(w, scanned=False)),
        E(w, "jax-scan", jax_impl(w, scanned=True)),
        E(w, "numpy", numpy_impl(w)),
    ]

if __name__ == "__main__":
    C.main(__file__, entries, args)
