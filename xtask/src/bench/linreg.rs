//! W1 `linreg-minibatch`, W1b `linreg-sgd` and W1c `linreg-batch`: linear regression
//! by mini-batch, stochastic and full-batch gradient descent through the runner's fit
//! loop (descent-data's loader, descent-nn's linear model, descent-loss's MSE,
//! descent-optim's SGD), exactly as BENCHMARKS.md defines them.
//!
//! The timed part is the training loop: from the fit loop's first observer call
//! (`start`, before the first step) to its last (`end`, after the last update and
//! before the final evaluation over all rows, which is reported but not timed, as the
//! peers do).

use std::cell::Cell;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use descent_data::{Dataset, Targets};
use descent_loss::{LossConfig, Mse};
use descent_nn::{Init, Mlp, Model};
use descent_optim::{GdMode, Optimizer, Sgd, SgdConfig};
use descent_runner::fit::{FitConfig, FitReport, Observer, RunInfo, Termination, Trainer};
use descent_runner::metrics::Metrics;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, json};

use super::{Measurement, Settings};

/// Marks the start and the end of the training loop.
struct Stopwatch<'a> {
    start: &'a Cell<Option<Instant>>,
    seconds: &'a Cell<f64>,
}

impl Observer for Stopwatch<'_> {
    fn start(&mut self, _info: &RunInfo) {
        self.start.set(Some(Instant::now()));
    }
    fn end(&mut self, _termination: &Termination) {
        if let Some(start) = self.start.get() {
            self.seconds.set(start.elapsed().as_secs_f64());
        }
    }
    fn wants_steps(&self) -> bool {
        false
    }
}

/// Trains a fresh model made by `model` once as a warm-up, then `repetitions` more
/// times; returns the median training seconds, the last run's report and model.
pub(super) fn timed_fit<M: Model<f32>>(
    repetitions: usize,
    data: &Dataset<f32>,
    loss: &LossConfig,
    config: &FitConfig,
    lr: f64,
    mut model: impl FnMut() -> Result<M>,
    mut optimizer: impl FnMut() -> Box<dyn Optimizer<f32> + Send>,
) -> Result<(f64, FitReport, M)> {
    let mut times = Vec::new();
    let mut last = None;
    for run in 0..=repetitions.max(3) {
        let mut m = model()?;
        let (start, seconds) = (Cell::new(None), Cell::new(f64::NAN));
        let report = Trainer::new(&mut m, loss.clone(), optimizer())
            .lr(lr)
            .config(config.clone())
            .quiet()
            .observe(Stopwatch {
                start: &start,
                seconds: &seconds,
            })
            .fit(data, None)
            .context("training")?;
        ensure!(
            matches!(report.termination, Termination::Completed { .. }),
            "the run ended early: {:?}",
            report.termination
        );
        if run > 0 {
            times.push(seconds.get());
        }
        last = Some((report, m));
    }
    times.sort_by(f64::total_cmp);
    let (report, m) = last.expect("at least one run");
    Ok((times[times.len() / 2], report, m))
}

/// The W1 data: `X ~ N(0,1)` of `rows × features`, `w* ~ N(0,1)`, `b* = 0.5`,
/// `y = X w* + b* + 0.01·N(0,1)`, float32, from ChaCha8 with seed 0.
fn data(rows: usize, features: usize) -> Result<Dataset<f32>> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let w: Vec<f32> = (0..features).map(|_| rng.sample(StandardNormal)).collect();
    let x = Array2::<f32>::from_shape_simple_fn((rows, features), || rng.sample(StandardNormal));
    let y: Array1<f32> = x
        .rows()
        .into_iter()
        .map(|row| {
            let dot: f32 = row.iter().zip(&w).map(|(a, b)| a * b).sum();
            let noise: f32 = rng.sample(StandardNormal);
            dot + 0.5 + 0.01 * noise
        })
        .collect();
    let names = (1..=features).map(|i| format!("x{i}")).collect();
    Ok(Dataset::new(x, Targets::Real(y), names, "y".into())?)
}

/// One linear-regression workload: a mode, a learning rate and a number of epochs.
fn linreg(settings: &Settings, mode: GdMode, lr: f64, epochs: u64) -> Result<Measurement> {
    let (rows, features) = if settings.quick {
        (2_000, 100)
    } else {
        (100_000, 100)
    };
    let data = data(rows, features)?;
    let config = FitConfig {
        mode,
        epochs,
        // Every epoch a fresh shuffle; a full batch is the same whatever the order.
        shuffle: (mode != GdMode::Batch).then_some(1),
        record_steps: false,
        parallel: true,
        ..FitConfig::default()
    };
    let loss = LossConfig::Mse(Mse::default());
    let (seconds, report, _) = timed_fit(
        settings.repetitions,
        &data,
        &loss,
        &config,
        lr,
        || Ok(Mlp::<f32>::linear(features, 1, Init::Zeros, 0)?),
        || Box::new(Sgd::new(SgdConfig::default())),
    )?;
    let Metrics::Regression(r) = report.train.metrics else {
        anyhow::bail!("regression metrics expected");
    };
    ensure!(r.mse.is_finite(), "final MSE is {}", r.mse);
    let samples = (report.steps as usize * mode.batch_size(rows)).min(epochs as usize * rows);
    let mut extra = Map::new();
    extra.insert("samples_per_s".into(), json!(samples as f64 / seconds));
    extra.insert("final_loss".into(), json!(r.mse));
    extra.insert("steps".into(), json!(report.steps));
    Ok(Measurement {
        seconds,
        threads: threads(),
        extra,
    })
}

/// The threads the graph may use for large operations (rayon's pool: all cores, or
/// `RAYON_NUM_THREADS`).
pub(super) fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|n| n.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// W1: batches of 64, lr 0.01, 5 epochs (7,815 steps).
pub fn minibatch_workload(settings: &Settings) -> Result<Measurement> {
    let epochs = if settings.quick { 2 } else { 5 };
    linreg(settings, GdMode::MiniBatch { batch_size: 64 }, 0.01, epochs)
}

/// W1b: one row per step, lr 0.001, 1 epoch (100,000 steps).
pub fn sgd_workload(settings: &Settings) -> Result<Measurement> {
    linreg(settings, GdMode::Stochastic, 0.001, 1)
}

/// W1c: all rows every step, lr 0.1, 200 steps.
pub fn batch_workload(settings: &Settings) -> Result<Measurement> {
    let steps = if settings.quick { 20 } else { 200 };
    linreg(settings, GdMode::Batch, 0.1, steps)
}
