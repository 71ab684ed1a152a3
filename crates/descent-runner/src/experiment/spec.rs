//! The experiment file as serde types: problems, budget, training settings, the axes to
//! vary and how to search them. Every part reuses the serde configs of the other crates
//! (`LossConfig`, `OptimizerConfig`, `ScheduleConfig`, `GdMode`, `StoppingRules`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use descent_data::{ColumnRef, MissingPolicy, TargetKind};
use descent_loss::LossConfig;
use descent_nn::{Activation, Init};
use descent_optim::{GdMode, OptimizerConfig, ScheduleConfig, StoppingRules};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

use crate::fit::{Clip, EarlyStopping};

/// A whole experiment file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// A short name (the default results folder is `results/NAME`).
    pub name: String,
    /// What the experiment asks.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// The floating-point type of data and parameters (`f32`, the default, or `f64`).
    #[serde(default)]
    pub precision: Precision,
    /// The problems every configuration is trained on.
    pub problems: Vec<ProblemSpec>,
    /// The budget every run gets, the same for all so that comparisons are fair.
    pub budget: Budget,
    /// The loss to reach for time-to-target (a problem may set its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,
    /// The metrics to report, the first one in the ranked table
    /// (default: `accuracy` for classes, `r2` for real targets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<String>,
    /// Settings shared by every run.
    #[serde(default)]
    pub training: TrainingSpec,
    /// What varies between runs.
    pub axes: Axes,
    /// Grid (the default) or random search over the axes.
    #[serde(default)]
    pub search: Search,
}

/// `f32` or `f64`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// 32-bit floats.
    #[default]
    F32,
    /// 64-bit floats.
    F64,
}

/// One problem: data, preprocessing, model and loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProblemSpec {
    /// The problem's name in tables and plots.
    pub name: String,
    /// A shipped data set by name (`digits`); give this or `csv`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// A CSV file and how to read it; give this or `dataset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csv: Option<CsvSpec>,
    /// A validation split (none: every row trains and the final loss is the training loss).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<SplitSpec>,
    /// Feature scaling, fitted on the training rows.
    #[serde(default)]
    pub scale: Scale,
    /// The model (inputs and outputs follow from the data and the loss).
    #[serde(default)]
    pub model: ModelSpec,
    /// The loss.
    pub loss: LossConfig,
    /// This problem's target loss (overrides the experiment's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_loss: Option<f64>,
}

/// How to read a CSV file (the options of `descent_data::CsvOptions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSpec {
    /// The file, relative to the experiment file's folder unless absolute.
    pub path: PathBuf,
    /// The target column by name or 0-based index (default: the last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<ColumnRef>,
    /// `auto` (default), `real` or `classes`.
    #[serde(default)]
    pub target_kind: TargetKind,
    /// Whether the first row names the columns (default true).
    #[serde(default = "yes")]
    pub has_header: bool,
    /// The field delimiter, one ASCII character (default `,`).
    #[serde(default = "comma")]
    pub delimiter: String,
    /// The feature columns, in order (default: all but the target).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select: Option<Vec<ColumnRef>>,
    /// Columns to leave out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub drop: Vec<ColumnRef>,
    /// `error` (default), `drop_row` or `fill_mean`.
    #[serde(default)]
    pub missing: MissingPolicy,
    /// Texts that mean "missing" besides the empty field (default `["NA"]`).
    #[serde(default = "na")]
    pub missing_tokens: Vec<String>,
}

fn yes() -> bool {
    true
}
fn comma() -> String {
    ",".to_string()
}
fn na() -> Vec<String> {
    vec!["NA".to_string()]
}

/// A validation split, the same for every run of the problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// The share of rows held out for validation, in (0, 1).
    pub validation: f64,
    /// The shuffle seed of the split (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Keep each class's share (default false).
    #[serde(default)]
    pub stratified: bool,
}

/// Feature scaling.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    /// The features as they are.
    #[default]
    None,
    /// Zero mean, unit variance.
    Standard,
    /// Into [0, 1].
    MinMax,
}

/// A multilayer perceptron between the data's features and the loss's outputs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// Hidden layer widths (`[]`, the default, is a linear model).
    #[serde(default)]
    pub hidden: Vec<usize>,
    /// The activation after each hidden layer (default `relu`).
    #[serde(default = "relu")]
    pub activation: Activation,
    /// Weight initialisation (default PyTorch's).
    #[serde(default)]
    pub init: Init,
    /// Whether the layers have biases (default true).
    #[serde(default = "yes")]
    pub bias: bool,
}

fn relu() -> Activation {
    Activation::Relu
}

impl Default for ModelSpec {
    fn default() -> Self {
        ModelSpec {
            hidden: Vec::new(),
            activation: Activation::Relu,
            init: Init::default(),
            bias: true,
        }
    }
}

/// The budget of every run: exactly one of epochs, steps or gradient evaluations
/// (one row's gradient is one evaluation, so a step on a batch of k rows costs k:
/// batch, stochastic and mini-batch descent then see the same amount of data).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Passes over the training rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<u64>,
    /// Optimizer steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<u64>,
    /// Per-row gradient evaluations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gradient_evaluations: Option<u64>,
}

/// Settings shared by every run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingSpec {
    /// Shuffle the rows every epoch, seeded by the run's seed (default true).
    #[serde(default = "yes")]
    pub shuffle: bool,
    /// Gradient clipping (default none).
    #[serde(default)]
    pub clip: Clip,
    /// Stopping rules (step budget, gradient and loss tolerances, divergence).
    #[serde(default)]
    pub stopping: StoppingRules,
    /// Early stopping on the validation loss (needs a split).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub early_stopping: Option<EarlyStopping>,
    /// Write every step's loss to `curves/ID.steps.csv` (default true).
    #[serde(default = "yes")]
    pub record_steps: bool,
}

impl Default for TrainingSpec {
    fn default() -> Self {
        TrainingSpec {
            shuffle: true,
            clip: Clip::None,
            stopping: StoppingRules::default(),
            early_stopping: None,
            record_steps: true,
        }
    }
}

/// What varies between runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axes {
    /// Optimizers with their hyperparameters (`{ name = "sgd", momentum = 0.9 }`).
    pub optimizers: Vec<OptimizerConfig>,
    /// Learning rates: a list, or a distribution for random search
    /// (default: each optimizer's own `lr`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rates: Option<LrAxis>,
    /// Schedules (default: constant).
    #[serde(default = "constant")]
    pub schedules: Vec<ScheduleConfig>,
    /// Batch modes: `"batch"`, `"stochastic"`, `{ mini_batch = 32 }` (default mini-batch 32).
    #[serde(default = "mini_batch")]
    pub batch_modes: Vec<GdMode>,
    /// Seeds of initialisation and shuffling (default `[0]`).
    #[serde(default = "seed0")]
    pub seeds: Vec<u64>,
}

fn constant() -> Vec<ScheduleConfig> {
    vec![ScheduleConfig::Constant {}]
}
fn mini_batch() -> Vec<GdMode> {
    vec![GdMode::MiniBatch { batch_size: 32 }]
}
fn seed0() -> Vec<u64> {
    vec![0]
}

/// The learning-rate axis: values to try, or a distribution to draw from.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LrAxis {
    /// These rates (a grid axis, or a choice in random search).
    List(Vec<f64>),
    /// Drawn in random search.
    Draw(Distribution),
}

impl<'de> Deserialize<'de> for LrAxis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(deserializer)?;
        match value {
            toml::Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    toml::Value::Float(f) => Ok(f),
                    toml::Value::Integer(i) => Ok(i as f64),
                    other => Err(D::Error::custom(format!(
                        "a learning rate must be a number, found {}",
                        other.type_str()
                    ))),
                })
                .collect::<Result<_, _>>()
                .map(LrAxis::List),
            toml::Value::Table(table) => Distribution::deserialize(toml::Value::Table(table))
                .map(LrAxis::Draw)
                .map_err(|e| D::Error::custom(e.message())),
            other => Err(D::Error::custom(format!(
                "expected a list of learning rates or a distribution \
                 ({{ log_uniform = [1e-4, 1e-1] }}), found {}",
                other.type_str()
            ))),
        }
    }
}

/// A distribution for random search.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Distribution {
    /// Uniform in `[low, high)`.
    Uniform([f64; 2]),
    /// Log-uniform in `[low, high)`: uniform in the logarithm, both bounds > 0.
    LogUniform([f64; 2]),
    /// One of these values, each equally likely.
    Choice(Vec<serde_json::Value>),
}

/// How to search the axes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Search {
    /// `grid` (default: every combination) or `random` (`samples` draws).
    #[serde(default)]
    pub mode: SearchMode,
    /// Draws in random search; each draw runs on every problem and seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<usize>,
    /// The seed of the draws (default 0).
    #[serde(default)]
    pub seed: u64,
    /// Optimizer hyperparameters drawn in random search (`momentum = { uniform = [0, 0.99] }`),
    /// set on each drawn optimizer that has them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hyperparameters: BTreeMap<String, Distribution>,
}

/// Grid or random search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SearchMode {
    /// Every combination of the axes.
    #[default]
    Grid,
    /// `samples` random draws from the axes.
    Random,
}
