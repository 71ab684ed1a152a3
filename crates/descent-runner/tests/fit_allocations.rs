//! A warm step of the fit loop allocates nothing: with a counting global allocator, the
//! count read by an observer after each step stays the same from one step to the next
//! within an epoch, once the first steps have sized every buffer.
//!
//! This file holds one test so that no other test's allocations run beside it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use descent_data::synthetic;
use descent_data::{Dataset, Targets};
use descent_loss::{BceWithLogits, CrossEntropy, LossConfig, Mse, Reduction};
use descent_nn::{Activation, Init, Mlp};
use descent_optim::{Adam, AdamConfig, GdMode, Optimizer, Sgd, SgdConfig};
use descent_runner::fit::{Clip, FitConfig, Observer, StepRecord, Trainer};
use ndarray::Array1;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

struct Counting;

thread_local! {
    /// Allocations made by this thread. Only the training thread's are counted: the
    /// test harness's own threads allocate now and then while the test runs. (A
    /// `const` thread-local of a `Cell` needs no allocation or destructor, so the
    /// allocator may touch it.)
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCATIONS.with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `alloc`'s contract, which we pass on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as for `alloc` and `dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MAX_STEPS: usize = 256;

/// Records the allocation count after every step, into a fixed array (so that the
/// observer itself allocates nothing).
struct Counter<'a> {
    counts: &'a mut [(u64, usize); MAX_STEPS],
    seen: &'a mut usize,
}

impl Observer for Counter<'_> {
    fn step(&mut self, record: &StepRecord) {
        if *self.seen < MAX_STEPS {
            self.counts[*self.seen] = (record.epoch, allocations());
            *self.seen += 1;
        }
    }
}

/// Trains and returns, for every pair of consecutive steps in the same epoch after
/// the first `warm` steps, the allocations made between them (all should be 0).
fn allocations_per_warm_step(
    what: &str,
    model: &mut Mlp<f32>,
    loss: LossConfig,
    optimizer: Box<dyn Optimizer<f32> + Send>,
    data: &Dataset<f32>,
    config: FitConfig,
) -> Vec<(String, usize, usize)> {
    let mut counts = [(0u64, 0usize); MAX_STEPS];
    let mut seen = 0;
    let warm = 3;
    Trainer::new(model, loss, optimizer)
        .lr(1e-3)
        .config(config)
        .quiet()
        .observe(Counter {
            counts: &mut counts,
            seen: &mut seen,
        })
        .fit(data, None)
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(seen > warm + 10, "{what}: only {seen} steps ran");
    let mut found = Vec::new();
    for i in warm + 1..seen {
        let (previous, now) = (counts[i - 1], counts[i]);
        if previous.0 == now.0 && now.1 != previous.1 {
            found.push((what.to_string(), i + 1, now.1 - previous.1));
        }
    }
    found
}

fn config(mode: GdMode, clip: Clip) -> FitConfig {
    FitConfig {
        mode,
        epochs: 2,
        shuffle: Some(1),
        clip,
        parallel: false,
        ..FitConfig::default()
    }
}

#[test]
fn a_warm_training_step_allocates_nothing() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let regression = synthetic::linear::<f32>(600, 7, 0.1, &mut rng)
        .unwrap()
        .data;
    let classes = synthetic::blobs::<f32>(640, 3, 5, 1.0, &mut rng).unwrap();
    let Targets::Classes { indices, .. } = classes.targets() else {
        unreachable!("blobs have classes")
    };
    let binary = Dataset::new(
        classes.features().to_owned(),
        Targets::Classes {
            indices: Array1::from_iter(indices.iter().map(|&c| usize::from(c == 0))),
            names: vec!["other".into(), "first".into()],
        },
        classes.feature_names().to_vec(),
        "first".into(),
    )
    .unwrap();

    let mut found = Vec::new();
    // Linear regression, mini-batches of 16 (the last one partial), plain SGD.
    let mut linear = Mlp::<f32>::linear(7, 1, Init::Zeros, 0).unwrap();
    found.extend(allocations_per_warm_step(
        "linear, mini-batch SGD",
        &mut linear,
        LossConfig::Mse(Mse::default()),
        Box::new(Sgd::new(SgdConfig::default())),
        &regression,
        config(GdMode::MiniBatch { batch_size: 16 }, Clip::None),
    ));
    // One row per step.
    let mut linear = Mlp::<f32>::linear(7, 1, Init::Zeros, 0).unwrap();
    found.extend(allocations_per_warm_step(
        "linear, stochastic SGD",
        &mut linear,
        LossConfig::Mse(Mse::default()),
        Box::new(Sgd::new(SgdConfig::default())),
        &regression,
        config(GdMode::Stochastic, Clip::None),
    ));
    // An MLP with softmax cross-entropy and Adam, gradients clipped by norm (the path
    // that copies the gradients into the parameter set's buffers).
    let mut mlp = Mlp::<f32>::new(&[5, 16, 3], Activation::Relu, Init::PytorchDefault, 2).unwrap();
    found.extend(allocations_per_warm_step(
        "MLP, Adam, clipped",
        &mut mlp,
        LossConfig::CrossEntropy(CrossEntropy::new(Reduction::Mean)),
        Box::new(Adam::new(AdamConfig::default())),
        &classes,
        config(GdMode::MiniBatch { batch_size: 32 }, Clip::Norm(1.0)),
    ));
    // The same without clipping: Adam reads the graph's gradients in place.
    let mut mlp = Mlp::<f32>::new(&[5, 16, 3], Activation::Tanh, Init::XavierUniform, 2).unwrap();
    found.extend(allocations_per_warm_step(
        "MLP, Adam",
        &mut mlp,
        LossConfig::CrossEntropy(CrossEntropy::new(Reduction::Mean)),
        Box::new(Adam::new(AdamConfig::default())),
        &classes,
        config(GdMode::MiniBatch { batch_size: 32 }, Clip::None),
    ));
    // Logistic regression on two classes (class indices turned into 0/1 targets).
    let mut logistic = Mlp::<f32>::linear(5, 1, Init::Zeros, 0).unwrap();
    found.extend(allocations_per_warm_step(
        "logistic, momentum SGD",
        &mut logistic,
        LossConfig::BceWithLogits(BceWithLogits::new(Reduction::Mean)),
        Box::new(Sgd::new(SgdConfig {
            momentum: 0.9,
            ..SgdConfig::default()
        })),
        &binary,
        config(GdMode::MiniBatch { batch_size: 20 }, Clip::Value(0.5)),
    ));
    assert!(
        found.is_empty(),
        "allocations in warm steps (run, step, count): {found:?}"
    );
}
