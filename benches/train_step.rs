//! One training step of W1 and of W2, as a user's loop (and `descent-runner`'s fit)
//! does it: parameters enter a cleared graph as leaves, forward, loss, backward,
//! gradients out, then the optimizer updates the parameters in place.
//!
//! - W1: linear 100 → 1, batch 64, mean squared error, SGD (lr 0.01).
//! - W2: 784 → 256 → ReLU → 10, batch 128, softmax cross-entropy, Adam (lr 1e-3),
//!   on one thread and with the graph's parallel kernels. Throughput counts W2's
//!   6·B·(784·256 + 256·10) FLOPs.
//!
//!     cargo bench --bench train_step

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use descent::autodiff::{Float, Graph, Var};
use descent::loss::{CrossEntropy, Mse, Reduction};
use descent::nn::{Activation, Init, Mlp, Model};
use descent::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use ndarray::{Array2, ArrayViewD};

/// A model, its optimizer and a reused graph: one step at a time.
struct Trainer<O> {
    model: Mlp<f32>,
    optimizer: O,
    graph: Graph<f32>,
    vars: Vec<Var>,
}

impl<O: Optimizer<f32>> Trainer<O> {
    fn new(model: Mlp<f32>, optimizer: O, parallel: bool) -> Self {
        let mut graph = Graph::new();
        graph.set_parallel(parallel);
        Trainer {
            model,
            optimizer,
            graph,
            vars: Vec::new(),
        }
    }

    /// One step on the batch `x`; `loss` adds the loss node to the graph.
    fn step(
        &mut self,
        x: ArrayViewD<'_, f32>,
        lr: f32,
        loss: impl FnOnce(&mut Graph<f32>, Var) -> Var,
    ) -> f32 {
        let graph = &mut self.graph;
        graph.clear();
        self.model.params().leaves(graph, &mut self.vars);
        let input = graph.constant_view(x);
        let output = self.model.forward_with(graph, &self.vars, input);
        let node = loss(graph, output);
        let value = graph.scalar(node);
        graph.backward(node);
        self.model
            .params_mut()
            .take_grads(graph, &self.vars)
            .expect("every parameter has a gradient");
        graph.clear();
        let optimizer = &mut self.optimizer;
        self.model
            .params_mut()
            .with_views(|p, g| optimizer.step(p, g, lr))
            .expect("gradients fit the parameters");
        value
    }
}

fn values(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 131 + j * 71 + seed) % 211) as f32 / 105.5 - 1.0
    })
}

fn w1_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step_w1");
    let (batch, features) = (64, 100);
    let x = values(batch, features, 1);
    let y: Array2<f32> = values(batch, 1, 2);
    let model = Mlp::<f32>::linear(features, 1, Init::Zeros, 0).expect("model");
    let mut trainer = Trainer::new(model, Sgd::new(SgdConfig::default()), false);
    let mse = Mse::new(Reduction::Mean);
    group.throughput(Throughput::Elements(batch as u64));
    group.bench_function(BenchmarkId::new("linear_sgd", "64x100"), |b| {
        b.iter(|| {
            black_box(trainer.step(x.view().into_dyn(), 0.01, |g, out| {
                mse.apply(g, out, y.view().into_dyn()).expect("shapes fit")
            }))
        })
    });
    group.finish();
}

fn w2_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step_w2");
    group.sample_size(20);
    let batch = 128;
    let x = values(batch, 784, 3);
    let classes: Vec<usize> = (0..batch).map(|i| (i * 7) % 10).collect();
    let ce = CrossEntropy::new(Reduction::Mean);
    let flops = 6 * batch * (784 * 256 + 256 * 10);
    group.throughput(Throughput::Elements(flops as u64));
    for parallel in [false, true] {
        let model = Mlp::<f32>::new(&[784, 256, 10], Activation::Relu, Init::PytorchDefault, 1)
            .expect("model");
        let mut trainer = Trainer::new(model, Adam::new(AdamConfig::default()), parallel);
        let name = if parallel { "parallel" } else { "1thread" };
        group.bench_function(BenchmarkId::new("mlp_adam", name), |b| {
            b.iter(|| {
                black_box(trainer.step(x.view().into_dyn(), 1e-3, |g, out| {
                    ce.apply(g, out, &classes).expect("classes fit")
                }))
            })
        });
        let loss = trainer.step(x.view().into_dyn(), 1e-3, |g, out| {
            ce.apply(g, out, &classes).expect("classes fit")
        });
        assert!(loss.is_finite() && loss.as_f64() < 10.0, "loss {loss}");
    }
    group.finish();
}

criterion_group!(benches, w1_step, w2_step);
criterion_main!(benches);
