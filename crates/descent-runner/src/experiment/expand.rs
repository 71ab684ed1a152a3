//! Expansion of an experiment into runs: the grid over all axes, or seeded random
//! draws; each run's resolved configuration and its stable id.

use std::collections::HashSet;

use descent_optim::{GdMode, OptimizerConfig, ScheduleConfig};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::label::Label;
use super::spec::{
    Budget, Distribution, ExperimentSpec, LrAxis, Precision, ProblemSpec, SearchMode, TrainingSpec,
};

/// Everything that decides a run's result: what its id is a hash of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The problem (data, preprocessing, model, loss).
    pub problem: ProblemSpec,
    /// The floating-point type.
    pub precision: Precision,
    /// The optimizer, with the run's learning rate as its `lr`.
    pub optimizer: OptimizerConfig,
    /// The schedule over that learning rate.
    pub schedule: ScheduleConfig,
    /// The batch mode.
    pub mode: GdMode,
    /// The seed of initialisation and shuffling.
    pub seed: u64,
    /// The budget.
    pub budget: Budget,
    /// Shared settings.
    pub training: TrainingSpec,
    /// The target loss for time-to-target, if any.
    pub target_loss: Option<f64>,
}

/// The configuration without its seed: what runs of one group share.
#[derive(Serialize)]
struct GroupConfig<'a> {
    problem: &'a ProblemSpec,
    precision: Precision,
    optimizer: &'a OptimizerConfig,
    schedule: &'a ScheduleConfig,
    mode: GdMode,
    budget: &'a Budget,
    training: &'a TrainingSpec,
    target_loss: Option<f64>,
}

/// One run of an experiment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunPlan {
    /// Its place in the expansion (shards take `index % n == i`).
    pub index: usize,
    /// The stable id: the first 16 hex digits of the SHA-256 of the configuration's JSON.
    pub id: String,
    /// The id of its configuration without the seed: runs that differ only in the seed
    /// share it, and the report averages over them.
    pub group: String,
    /// The index of its problem in the experiment.
    pub problem: usize,
    /// Short labels of the configuration.
    pub label: Label,
    /// The resolved configuration.
    pub config: RunConfig,
}

fn hex16(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// A run's stable id: SHA-256 of the configuration's JSON (fields in declaration order,
/// numbers in their shortest round-trip form), the same on every platform and build.
pub fn run_id(config: &RunConfig) -> String {
    hex16(
        serde_json::to_string(config)
            .expect("configurations serialise")
            .as_bytes(),
    )
}

/// The id of a configuration over its seeds.
pub fn group_id(config: &RunConfig) -> String {
    let group = GroupConfig {
        problem: &config.problem,
        precision: config.precision,
        optimizer: &config.optimizer,
        schedule: &config.schedule,
        mode: config.mode,
        budget: &config.budget,
        training: &config.training,
        target_loss: config.target_loss,
    };
    hex16(
        serde_json::to_string(&group)
            .expect("configurations serialise")
            .as_bytes(),
    )
}

/// The optimizer with its learning rate set to `lr`.
pub(crate) fn with_lr(optimizer: &OptimizerConfig, lr: f64) -> OptimizerConfig {
    set_field(optimizer, "lr", serde_json::json!(lr)).unwrap_or_else(|| optimizer.clone())
}

/// The optimizer with one hyperparameter set, if it has that hyperparameter.
pub(crate) fn set_field(
    optimizer: &OptimizerConfig,
    field: &str,
    value: serde_json::Value,
) -> Option<OptimizerConfig> {
    let mut v = serde_json::to_value(optimizer).ok()?;
    let map = v.as_object_mut()?;
    if !map.contains_key(field) {
        return None;
    }
    map.insert(field.to_string(), value);
    serde_json::from_value(v).ok()
}

/// One point of the axes, before it is crossed with problems and seeds.
struct Point {
    optimizer: OptimizerConfig,
    schedule: ScheduleConfig,
    mode: GdMode,
}

/// The runs of a (validated) experiment: problems, then the points of the axes (the
/// grid in the order optimizer, learning rate, schedule, batch mode; or the random
/// draws in order), then seeds. A run equal to an earlier one is left out.
pub fn expand(spec: &ExperimentSpec) -> Vec<RunPlan> {
    let points = match spec.search.mode {
        SearchMode::Grid => grid(spec),
        SearchMode::Random => random(spec),
    };
    let mut runs = Vec::new();
    let mut seen = HashSet::new();
    for (p, problem) in spec.problems.iter().enumerate() {
        for point in &points {
            for &seed in &spec.axes.seeds {
                let config = RunConfig {
                    problem: problem.clone(),
                    precision: spec.precision,
                    optimizer: point.optimizer.clone(),
                    schedule: point.schedule.clone(),
                    mode: point.mode,
                    seed,
                    budget: spec.budget.clone(),
                    training: spec.training.clone(),
                    target_loss: problem.target_loss.or(spec.target_loss),
                };
                let id = run_id(&config);
                if !seen.insert(id.clone()) {
                    continue;
                }
                runs.push(RunPlan {
                    index: runs.len(),
                    id,
                    group: group_id(&config),
                    problem: p,
                    label: Label::new(
                        &problem.name,
                        &config.optimizer,
                        &config.schedule,
                        config.mode,
                        seed,
                    ),
                    config,
                });
            }
        }
    }
    runs
}

fn grid(spec: &ExperimentSpec) -> Vec<Point> {
    let axes = &spec.axes;
    let mut points = Vec::new();
    for optimizer in &axes.optimizers {
        let rates = match &axes.learning_rates {
            Some(LrAxis::List(rates)) => rates.clone(),
            _ => vec![optimizer.lr()],
        };
        for &lr in &rates {
            for schedule in &axes.schedules {
                for &mode in &axes.batch_modes {
                    points.push(Point {
                        optimizer: with_lr(optimizer, lr),
                        schedule: schedule.clone(),
                        mode,
                    });
                }
            }
        }
    }
    points
}

/// Draws a value: uniform, log-uniform or one of a list.
pub(crate) fn draw(dist: &Distribution, rng: &mut ChaCha8Rng) -> serde_json::Value {
    match dist {
        Distribution::Uniform([low, high]) => {
            serde_json::json!(low + (high - low) * rng.random::<f64>())
        }
        Distribution::LogUniform([low, high]) => {
            let (a, b) = (low.ln(), high.ln());
            serde_json::json!((a + (b - a) * rng.random::<f64>()).exp())
        }
        Distribution::Choice(values) => values[rng.random_range(0..values.len())].clone(),
    }
}

fn random(spec: &ExperimentSpec) -> Vec<Point> {
    let axes = &spec.axes;
    let mut rng = ChaCha8Rng::seed_from_u64(spec.search.seed);
    let samples = spec.search.samples.unwrap_or(1);
    (0..samples)
        .map(|_| {
            let base = &axes.optimizers[rng.random_range(0..axes.optimizers.len())];
            let lr = match &axes.learning_rates {
                None => base.lr(),
                Some(LrAxis::List(rates)) => rates[rng.random_range(0..rates.len())],
                Some(LrAxis::Draw(dist)) => draw(dist, &mut rng).as_f64().unwrap_or(base.lr()),
            };
            let schedule = axes.schedules[rng.random_range(0..axes.schedules.len())].clone();
            let mode = axes.batch_modes[rng.random_range(0..axes.batch_modes.len())];
            let mut optimizer = with_lr(base, lr);
            // Every distribution is drawn from on every sample, so that adding an
            // optimizer does not shift the draws of the others.
            for (field, dist) in &spec.search.hyperparameters {
                let value = draw(dist, &mut rng);
                if let Some(changed) = set_field(&optimizer, field, value) {
                    optimizer = changed;
                }
            }
            Point {
                optimizer,
                schedule,
                mode,
            }
        })
        .collect()
}
