//! One optimizer step of each update rule on 1,000,000 f32 parameters, against the
//! machine's memory bandwidth measured with a STREAM-style triad.
//!
//! Throughput is counted as the bytes the update must move: every array it reads
//! (parameter, gradient, state) and every array it writes, 4 bytes an entry, as the
//! triad counts `a = b + s·c` as 12 bytes an entry (the write-allocate read not counted).
//! `benches/peers/optimizer_step.py` times the same steps in `torch.optim`
//! (`foreach=True`) with the same byte counts.
//!
//!     cargo bench --bench optimizer_step

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use descent::optim::{
    Adadelta, AdadeltaConfig, Adagrad, AdagradConfig, Adam, AdamConfig, AdamWConfig, Adamax,
    AdamaxConfig, Nadam, NadamConfig, Optimizer, Radam, RadamConfig, Rmsprop, RmspropConfig, Sgd,
    SgdConfig,
};
use ndarray::{ArrayD, IxDyn};

const N: usize = 1_000_000;

/// Each rule with the arrays it reads and writes per entry (p and g read, p written,
/// plus every state buffer read and written).
fn rules() -> Vec<(&'static str, Box<dyn Optimizer<f32>>, usize)> {
    vec![
        ("sgd", Box::new(Sgd::new(SgdConfig::default())), 3),
        (
            "sgd_momentum",
            Box::new(Sgd::new(SgdConfig {
                momentum: 0.9,
                ..Default::default()
            })),
            5,
        ),
        (
            "sgd_nesterov",
            Box::new(Sgd::new(SgdConfig {
                momentum: 0.9,
                nesterov: true,
                ..Default::default()
            })),
            5,
        ),
        (
            "adagrad",
            Box::new(Adagrad::new(AdagradConfig::default())),
            5,
        ),
        (
            "rmsprop",
            Box::new(Rmsprop::new(RmspropConfig::default())),
            5,
        ),
        (
            "rmsprop_centered_momentum",
            Box::new(Rmsprop::new(RmspropConfig {
                centered: true,
                momentum: 0.9,
                ..Default::default()
            })),
            9,
        ),
        ("adam", Box::new(Adam::new(AdamConfig::default())), 7),
        (
            "adam_amsgrad",
            Box::new(Adam::new(AdamConfig {
                amsgrad: true,
                ..Default::default()
            })),
            9,
        ),
        ("adamw", Box::new(Adam::adamw(AdamWConfig::default())), 7),
        ("adamax", Box::new(Adamax::new(AdamaxConfig::default())), 7),
        ("nadam", Box::new(Nadam::new(NadamConfig::default())), 7),
        ("radam", Box::new(Radam::new(RadamConfig::default())), 7),
        (
            "adadelta",
            Box::new(Adadelta::new(AdadeltaConfig::default())),
            7,
        ),
    ]
}

fn optimizer_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("optimizer_step");
    group.sample_size(30);
    for (name, mut optimizer, arrays) in rules() {
        let mut p = ArrayD::from_shape_fn(IxDyn(&[N]), |i| (i[0] % 97) as f32 * 0.01);
        let g = ArrayD::from_shape_fn(IxDyn(&[N]), |i| ((i[0] % 89) as f32 - 44.0) * 1e-3);
        // Warm: the state is created on the first step, outside the timing.
        optimizer
            .step(&mut [p.view_mut()], &[g.view()], 1e-3)
            .unwrap();
        group.throughput(Throughput::Bytes((arrays * N * 4) as u64));
        group.bench_function(BenchmarkId::new(name, N), |b| {
            b.iter(|| optimizer.step(&mut [p.view_mut()], &[black_box(g.view())], black_box(1e-3)))
        });
    }
    group.finish();
}

/// `a[i] = b[i] + s·c[i]` over f32 arrays of `n` entries, counted as 12 bytes an entry.
fn triad(c: &mut Criterion) {
    let mut group = c.benchmark_group("triad");
    group.sample_size(30);
    // 1M entries: the optimizer's working set (12 MB, inside a 32 MB L3);
    // 32M entries: 384 MB, main memory.
    for n in [N, 32 * N] {
        let mut a = vec![0.0_f32; n];
        let b = vec![1.0_f32; n];
        let cc = vec![2.0_f32; n];
        group.throughput(Throughput::Bytes((3 * n * 4) as u64));
        group.bench_function(BenchmarkId::new("f32", n), |bench| {
            bench.iter(|| {
                let s = black_box(3.0_f32);
                for ((a, &b), &c) in a.iter_mut().zip(&b).zip(&cc) {
                    *a = b + s * c;
                }
                black_box(&mut a);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, triad, optimizer_step);
criterion_main!(benches);
