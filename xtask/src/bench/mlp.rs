//! W2 `mlp-classify` and W2b `mlp-small-batch`: a 784 → 256 → ReLU → 10 perceptron
//! trained with Adam and softmax cross-entropy through the runner's fit loop, exactly
//! as BENCHMARKS.md defines them. The training loop is timed as in
//! [`super::linreg`]; the final accuracy over all rows is reported, not timed.

use anyhow::{Result, bail};
use descent_data::{Dataset, Targets};
use descent_loss::{CrossEntropy, LossConfig, Reduction};
use descent_nn::{Activation, Init, Mlp};
use descent_optim::{Adam, AdamConfig, GdMode};
use descent_runner::fit::FitConfig;
use descent_runner::metrics::Metrics;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, json};

use super::linreg::{threads, timed_fit};
use super::{Measurement, Settings};

const INPUTS: usize = 784;
const HIDDEN: usize = 256;
const CLASSES: usize = 10;

/// The W2 data: `X ~ N(0,1)` of `rows × 784`, labels the argmax of `X T` for a
/// teacher `T ~ N(0,1)` of 784 × 10, float32, from ChaCha8 with seed 0.
fn data(rows: usize) -> Result<Dataset<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let teacher =
        Array2::<f32>::from_shape_simple_fn((INPUTS, CLASSES), || rng.sample(StandardNormal));
    let x = Array2::<f32>::from_shape_simple_fn((rows, INPUTS), || rng.sample(StandardNormal));
    let scores = x.dot(&teacher);
    let labels: Array1<usize> = scores
        .rows()
        .into_iter()
        .map(|row| {
            let mut best = 0;
            for (i, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = i;
                }
            }
            best
        })
        .collect();
    let targets = Targets::Classes {
        indices: labels,
        names: (0..CLASSES).map(|c| c.to_string()).collect(),
    };
    let names = (0..INPUTS).map(|i| format!("x{i}")).collect();
    Ok(Dataset::new(x, targets, names, "class".into())?)
}

fn mlp(settings: &Settings, batch_size: usize, epochs: u64) -> Result<Measurement> {
    let rows = if settings.quick { 2_048 } else { 60_000 };
    let data = data(rows)?;
    let config = FitConfig {
        mode: GdMode::MiniBatch { batch_size },
        epochs,
        shuffle: Some(1),
        record_steps: false,
        parallel: true,
        ..FitConfig::default()
    };
    let loss = LossConfig::CrossEntropy(CrossEntropy::new(Reduction::Mean));
    let (seconds, report, _) = timed_fit(
        settings.repetitions,
        &data,
        &loss,
        &config,
        1e-3,
        || {
            Ok(Mlp::<f32>::new(
                &[INPUTS, HIDDEN, CLASSES],
                Activation::Relu,
                Init::PytorchDefault,
                0,
            )?)
        },
        || Box::new(Adam::new(AdamConfig::default())),
    )?;
    let Metrics::Classification(c) = &report.train.metrics else {
        bail!("classification metrics expected");
    };
    // 6 · B · (784·256 + 256·10) FLOPs per step of B rows: every row of every epoch.
    let samples = (rows as u64 * epochs) as f64;
    let flops = 6.0 * samples * (INPUTS * HIDDEN + HIDDEN * CLASSES) as f64;
    let mut extra = Map::new();
    extra.insert("samples_per_s".into(), json!(samples / seconds));
    extra.insert("gflop_per_s".into(), json!(flops / seconds / 1e9));
    extra.insert("final_accuracy".into(), json!(c.accuracy));
    extra.insert("final_loss".into(), json!(report.train.loss));
    extra.insert("steps".into(), json!(report.steps));
    Ok(Measurement {
        seconds,
        threads: threads(),
        extra,
    })
}

/// W2: batches of 128, 2 epochs.
pub fn classify_workload(settings: &Settings) -> Result<Measurement> {
    mlp(settings, 128, 2)
}

/// W2b: batches of 16, 1 epoch.
pub fn small_batch_workload(settings: &Settings) -> Result<Measurement> {
    mlp(settings, 16, 1)
}
