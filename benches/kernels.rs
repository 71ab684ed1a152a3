//! The graph's hot kernels at the sizes of W2 (784 → 256 → 10, batches of 128):
//! matrix products forward and backward, beside the bare ndarray products they call,
//! and elementwise operations (unary, and binary with broadcasting) forward and
//! forward + backward.
//!
//! "forward" builds the node on a cleared graph (values are computed as nodes are
//! made); "forward_backward" adds a `sum` root and runs `backward`, which for a
//! matmul computes both gradient products (`dX = dY Wᵀ`, `dW = Xᵀ dY`).
//! Throughput is FLOPs for the products and elements for the elementwise ops.
//!
//!     cargo bench --bench kernels

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use descent::autodiff::{Graph, Var};
use ndarray::linalg::general_mat_mul;
use ndarray::{ArcArray, Array2, IxDyn};

/// A unary graph operation.
type UnaryOp = fn(&mut Graph<f32>, Var) -> Var;
/// A binary graph operation.
type BinaryOp = fn(&mut Graph<f32>, Var, Var) -> Var;

const BATCH: usize = 128;
const INPUTS: usize = 784;
const HIDDEN: usize = 256;
const CLASSES: usize = 10;

fn filled(rows: usize, cols: usize, seed: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        ((i * 31 + j * 17 + seed) % 101) as f32 * 0.02 - 1.0
    })
}

fn shared(rows: usize, cols: usize, seed: usize) -> ArcArray<f32, IxDyn> {
    filled(rows, cols, seed).into_dyn().into_shared()
}

/// The products of one W2 step, bare: ndarray's `general_mat_mul` (matrixmultiply).
fn ndarray_products(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_ndarray");
    let products = [
        ("x_w1_128x784x256", (BATCH, INPUTS, HIDDEN)),
        ("dx_128x256x784", (BATCH, HIDDEN, INPUTS)),
        ("dw1_784x128x256", (INPUTS, BATCH, HIDDEN)),
        ("h_w2_128x256x10", (BATCH, HIDDEN, CLASSES)),
    ];
    for (name, (m, k, n)) in products {
        let (a, b) = (filled(m, k, 1), filled(k, n, 2));
        let mut out = Array2::<f32>::zeros((m, n));
        group.throughput(Throughput::Elements((2 * m * k * n) as u64));
        group.bench_function(name, |bench| {
            bench.iter(|| general_mat_mul(1.0, black_box(&a), black_box(&b), 0.0, &mut out))
        });
    }
    group.finish();
}

/// The same products through the graph, on one thread and with the graph's
/// parallel kernels.
fn graph_matmul(c: &mut Criterion) {
    let mut group = c.benchmark_group("matmul_graph");
    let layers = [
        ("layer1_128x784x256", (BATCH, INPUTS, HIDDEN)),
        ("layer2_128x256x10", (BATCH, HIDDEN, CLASSES)),
    ];
    for (name, (m, k, n)) in layers {
        let (x, w) = (shared(m, k, 3), shared(k, n, 4));
        let flops = (2 * m * k * n) as u64;
        for parallel in [false, true] {
            let threads = if parallel { "parallel" } else { "1thread" };
            let mut graph = Graph::<f32>::new();
            graph.set_parallel(parallel);
            group.throughput(Throughput::Elements(flops));
            group.bench_function(BenchmarkId::new(format!("forward_{threads}"), name), |b| {
                b.iter(|| {
                    graph.clear();
                    let (xv, wv) = (graph.input(&x), graph.param(&w));
                    black_box(graph.matmul(xv, wv));
                })
            });
            group.throughput(Throughput::Elements(3 * flops));
            group.bench_function(
                BenchmarkId::new(format!("forward_backward_{threads}"), name),
                |b| {
                    b.iter(|| {
                        graph.clear();
                        let (xv, wv) = (graph.param(&x), graph.param(&w));
                        let y = graph.matmul(xv, wv);
                        let root = graph.sum(y);
                        graph.backward(root);
                    })
                },
            );
        }
    }
    group.finish();
}

/// Unary activations on the hidden layer's `[128, 256]`.
fn unary(c: &mut Criterion) {
    let mut group = c.benchmark_group("unary_128x256");
    group.throughput(Throughput::Elements((BATCH * HIDDEN) as u64));
    let x = shared(BATCH, HIDDEN, 5);
    let mut graph = Graph::<f32>::new();
    let ops: [(&str, UnaryOp); 4] = [
        ("relu", |g, x| g.relu(x)),
        ("tanh", |g, x| g.tanh(x)),
        ("exp", |g, x| g.exp(x)),
        ("sigmoid", |g, x| g.sigmoid(x)),
    ];
    for (name, op) in ops {
        group.bench_function(BenchmarkId::new("forward", name), |b| {
            b.iter(|| {
                graph.clear();
                let xv = graph.input(&x);
                black_box(op(&mut graph, xv));
            })
        });
        group.bench_function(BenchmarkId::new("forward_backward", name), |b| {
            b.iter(|| {
                graph.clear();
                let xv = graph.param(&x);
                let y = op(&mut graph, xv);
                let root = graph.sum(y);
                graph.backward(root);
            })
        });
    }
    group.finish();
}

/// Binary operations on `[128, 256]`: same shapes, and a `[256]` bias broadcast over
/// the rows (whose gradient is reduced back over the batch).
fn binary(c: &mut Criterion) {
    let mut group = c.benchmark_group("binary_128x256");
    group.throughput(Throughput::Elements((BATCH * HIDDEN) as u64));
    let a = shared(BATCH, HIDDEN, 6);
    let same = shared(BATCH, HIDDEN, 7);
    let bias = filled(1, HIDDEN, 8)
        .into_shape_with_order(HIDDEN)
        .expect("256 values")
        .into_dyn()
        .into_shared();
    let mut graph = Graph::<f32>::new();
    let cases: [(&str, &ArcArray<f32, IxDyn>, BinaryOp); 3] = [
        ("add_same", &same, |g, a, b| g.add(a, b)),
        ("mul_same", &same, |g, a, b| g.mul(a, b)),
        ("add_bias_broadcast", &bias, |g, a, b| g.add(a, b)),
    ];
    for (name, rhs, op) in cases {
        group.bench_function(BenchmarkId::new("forward", name), |b| {
            b.iter(|| {
                graph.clear();
                let (av, bv) = (graph.input(&a), graph.input(rhs));
                black_box(op(&mut graph, av, bv));
            })
        });
        group.bench_function(BenchmarkId::new("forward_backward", name), |b| {
            b.iter(|| {
                graph.clear();
                let (av, bv) = (graph.param(&a), graph.param(rhs));
                let y = op(&mut graph, av, bv);
                let root = graph.sum(y);
                graph.backward(root);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, ndarray_products, graph_matmul, unary, binary);
criterion_main!(benches);
