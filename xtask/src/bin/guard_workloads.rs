//! The small, fixed workloads whose instruction counts `cargo xtask guard` keeps
//! under callgrind: `guard_workloads NAME` runs one of them.
//!
//! Each workload prepares its data outside [`measured`] and does the counted work
//! inside it; the guard counts only the instructions executed within `measured`
//! (callgrind's `--toggle-collect`). Everything is single-threaded and seeded, so a
//! count changes only when the code does.

use std::hint::black_box;
use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use descent_autodiff::Graph;
use descent_data::{BatchSize, BatchTargets, CsvOptions, DataLoader, load_csv_bytes, synthetic};
use descent_loss::{CrossEntropy, Mse, Reduction};
use descent_nn::{Activation, Init, Mlp, Model};
use descent_optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use ndarray::{ArcArray, Array1, ArrayD, IxDyn};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

/// A workload: prepares its data, runs its measured part, checks the result.
type Workload = fn() -> Result<()>;

/// The workloads, by name.
const WORKLOADS: &[(&str, Workload)] = &[
    ("linreg-100-steps", linreg),
    ("mlp-20-steps", mlp),
    ("deep-chain-10-evals", deep_chain),
    ("csv-load-5k-rows", csv_load),
    ("adam-20-steps-10k", adam),
];

fn main() -> Result<()> {
    let name = std::env::args().nth(1).unwrap_or_default();
    if name == "--list" {
        for (name, _) in WORKLOADS {
            println!("{name}");
        }
        return Ok(());
    }
    let Some((_, run)) = WORKLOADS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<_> = WORKLOADS.iter().map(|(n, _)| *n).collect();
        bail!(
            "usage: guard_workloads NAME | --list; names: {}",
            names.join(", ")
        );
    };
    run()
}

/// The counted part: callgrind collects only while this function runs.
#[inline(never)]
fn measured<R>(work: impl FnOnce() -> R) -> R {
    black_box(work())
}

/// W1 in small: 100 mini-batch SGD steps (batch 64, D = 100, lr 0.01) on 6,400 rows,
/// shuffled by the data loader.
fn linreg() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let data = synthetic::linear::<f32>(6_400, 100, 0.01, &mut rng)?.data;
    let mut model = Mlp::<f32>::linear(100, 1, Init::Zeros, 0)?;
    let mut optimizer = Sgd::new(SgdConfig::default());
    let mut loader = DataLoader::new(&data, BatchSize::Rows(64))?.shuffled(7);
    let mut graph = Graph::<f32>::new();
    graph.set_parallel(false);
    let mut vars = Vec::new();
    let loss = measured(|| -> Result<f32> {
        let mut last = 0.0;
        while let Some(batch) = loader.next_batch() {
            let BatchTargets::Real(y) = batch.targets else {
                bail!("linear data have real targets");
            };
            graph.clear();
            model.params().leaves(&mut graph, &mut vars);
            let x = graph.constant_view(batch.features.into_dyn());
            let out = model.forward_with(&mut graph, &vars, x);
            let rows = y.len();
            let y = y.into_shape_with_order((rows, 1))?.into_dyn();
            let node = Mse::new(Reduction::Mean).apply(&mut graph, out, y)?;
            last = graph.scalar(node);
            graph.backward(node);
            model
                .params_mut()
                .take_grads(&graph, &vars)
                .map_err(|i| anyhow::anyhow!("parameter {i} got no gradient"))?;
            graph.clear();
            model
                .params_mut()
                .with_views(|p, g| optimizer.step(p, g, 0.01))?;
        }
        Ok(last)
    })?;
    ensure!(loss.is_finite(), "linreg loss {loss}");
    Ok(())
}

/// W4's model in small: 20 Adam steps of 64 → 64 → ReLU → 10 with cross-entropy on
/// batches of 32 drawn from seeded blobs.
fn mlp() -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let data = synthetic::blobs::<f32>(640, 10, 64, 1.0, &mut rng)?;
    let mut model = Mlp::<f32>::new(&[64, 64, 10], Activation::Relu, Init::PytorchDefault, 3)?;
    let mut optimizer = Adam::new(AdamConfig::default());
    let mut loader = DataLoader::new(&data, BatchSize::Rows(32))?.shuffled(5);
    let mut graph = Graph::<f32>::new();
    graph.set_parallel(false);
    let mut vars = Vec::new();
    let loss = measured(|| -> Result<f32> {
        let mut last = 0.0;
        while let Some(batch) = loader.next_batch() {
            let BatchTargets::Classes(y) = batch.targets else {
                bail!("blobs have class targets");
            };
            graph.clear();
            model.params().leaves(&mut graph, &mut vars);
            let x = graph.constant_view(batch.features.into_dyn());
            let out = model.forward_with(&mut graph, &vars, x);
            let classes = y.to_slice().context("contiguous classes")?;
            let node = CrossEntropy::new(Reduction::Mean).apply(&mut graph, out, classes)?;
            last = graph.scalar(node);
            graph.backward(node);
            model
                .params_mut()
                .take_grads(&graph, &vars)
                .map_err(|i| anyhow::anyhow!("parameter {i} got no gradient"))?;
            graph.clear();
            model
                .params_mut()
                .with_views(|p, g| optimizer.step(p, g, 1e-3))?;
        }
        Ok(last)
    })?;
    ensure!(loss.is_finite(), "mlp loss {loss}");
    Ok(())
}

/// W3b in small: 10 forward-and-backward evaluations of the 1,000-layer chain
/// `x = tanh(x ⊙ w + b)` over vectors of 16 (float64).
fn deep_chain() -> Result<()> {
    const WIDTH: usize = 16;
    let vector = |seed: usize, offset: f64| -> ArcArray<f64, IxDyn> {
        Array1::from_shape_fn(WIDTH, |j| {
            ((seed * WIDTH + j) as f64 * 0.37).sin() * 0.5 + offset
        })
        .into_dyn()
        .into_shared()
    };
    let weights: Vec<_> = (0..1_000).map(|l| vector(l, 1.0)).collect();
    let biases: Vec<_> = (0..1_000).map(|l| vector(l + 1_000, 0.0)).collect();
    let x0 = vector(5_000, 0.0);
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    let value = measured(|| {
        let mut value = 0.0;
        for _ in 0..10 {
            graph.clear();
            let mut x = graph.input(&x0);
            for (w, b) in weights.iter().zip(&biases) {
                let (w, b) = (graph.param(w), graph.param(b));
                let scaled = graph.mul(x, w);
                let shifted = graph.add(scaled, b);
                x = graph.tanh(shifted);
            }
            let loss = graph.sum(x);
            graph.backward(loss);
            value = graph.scalar(loss);
        }
        value
    });
    ensure!(value.is_finite(), "deep chain value {value}");
    Ok(())
}

/// W5 in small: 5,000 rows of 10 six-decimal floats and a class label, parsed from
/// memory on one thread.
fn csv_load() -> Result<()> {
    let mut text = String::from("f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,label\n");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for row in 0..5_000 {
        for _ in 0..10 {
            // xorshift64: a fixed stream of values in (-100, 100).
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 200.0 - 100.0;
            text.push_str(&format!("{v:.6},"));
        }
        text.push_str(&format!("{}\n", row % 10));
    }
    let options = CsvOptions {
        parallel: false,
        ..CsvOptions::default()
    };
    let data =
        measured(|| load_csv_bytes::<f32>(text.as_bytes(), Path::new("guard.csv"), &options))?;
    ensure!(
        data.features().dim() == (5_000, 10),
        "shape {:?}",
        data.features().dim()
    );
    Ok(())
}

/// One optimizer's hot loop: 20 Adam steps on 10,000 float32 parameters in two arrays.
fn adam() -> Result<()> {
    let mut params: Vec<ArrayD<f32>> = [vec![100, 90], vec![1_000]]
        .into_iter()
        .map(|shape| {
            let len = shape.iter().product::<usize>();
            let values = (0..len).map(|i| (i % 97) as f32 * 1e-3).collect();
            ArrayD::from_shape_vec(IxDyn(&shape), values).expect("len values")
        })
        .collect();
    let grads: Vec<ArrayD<f32>> = params.iter().map(|p| p.mapv(|v| (v * 7.0).sin())).collect();
    let mut optimizer = Adam::new(AdamConfig::default());
    measured(|| -> Result<()> {
        for _ in 0..20 {
            let mut views: Vec<_> = params.iter_mut().map(|p| p.view_mut()).collect();
            let grad_views: Vec<_> = grads.iter().map(|g| g.view()).collect();
            optimizer.step(&mut views, &grad_views, 1e-3)?;
        }
        Ok(())
    })?;
    ensure!(
        params.iter().flatten().all(|v| v.is_finite()),
        "Adam diverged"
    );
    Ok(())
}
