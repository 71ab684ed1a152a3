//! One run of a sweep: the problem's data prepared once (loaded, split, scaled), then
//! the run's model, optimizer and schedule built and trained single-threaded.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use descent_autodiff::Float;
use descent_data::{
    CsvOptions, Dataset, MinMaxScaler, Shipped, StandardScaler, load_csv,
    train_validation_test_split,
};
use descent_nn::{Activation, Mlp, MlpConfig};
use descent_optim::StopReason;
use indicatif::ProgressBar;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::results::{Best, Curves, Final, RunRecord, Status, ToTarget};
use crate::FitError;
use crate::experiment::{Experiment, FieldPath, ProblemSpec, RunPlan, Scale, SpecError};
use crate::fit::{EpochRecord, FitConfig, Observer, StepRecord, Termination, Trainer};
use crate::metrics::Metrics;

/// A problem's data, ready for every run.
#[derive(Debug)]
pub struct Prepared<T> {
    /// The rows to train on (scaled).
    pub train: Dataset<T>,
    /// The validation rows (scaled with the training rows' scaler), if split.
    pub validation: Option<Dataset<T>>,
    /// The model's outputs: the number of classes for a loss on classes, else 1.
    pub outputs: usize,
    /// The metric the report ranks by.
    pub metric: String,
}

/// Metrics that fit each kind of target.
const CLASS_METRICS: &[&str] = &["accuracy", "log_loss"];
const REAL_METRICS: &[&str] = &["r2", "mse", "rmse", "mae"];

/// Loads, splits and scales every problem of the experiment.
///
/// # Errors
/// One [`SpecError`] per problem whose data cannot be read or do not fit its loss or
/// the experiment's metrics, with the field and line.
pub fn prepare<T: Float>(experiment: &Experiment) -> Result<Vec<Prepared<T>>, Vec<SpecError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for (i, p) in experiment.spec.problems.iter().enumerate() {
        let at = FieldPath::root("problems").index(i);
        match prepare_one::<T>(experiment, p, &at) {
            Ok(prepared) => out.push(prepared),
            Err((path, message)) => errors.push(experiment.error_at(&path, message)),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn prepare_one<T: Float>(
    experiment: &Experiment,
    p: &ProblemSpec,
    at: &FieldPath,
) -> Result<Prepared<T>, (FieldPath, String)> {
    let data: Dataset<T> = match (&p.dataset, &p.csv) {
        (Some(name), _) => name
            .parse::<Shipped>()
            .and_then(|s| s.load())
            .map_err(|e| (at.key("dataset"), e.to_string()))?,
        (None, Some(csv)) => {
            let options = CsvOptions {
                has_header: csv.has_header,
                delimiter: csv.delimiter.bytes().next().unwrap_or(b','),
                target: csv.target.clone(),
                target_kind: csv.target_kind,
                select: csv.select.clone(),
                drop: csv.drop.clone(),
                missing: csv.missing,
                missing_tokens: csv.missing_tokens.clone(),
                ..CsvOptions::default()
            };
            load_csv(experiment.csv_path(csv), &options)
                .map_err(|e| (at.key("csv").key("path"), e.to_string()))?
        }
        (None, None) => return Err((at.clone(), "no data".into())),
    };
    let classes = data.class_names().map(<[String]>::len);
    let (mut train, mut validation) = match &p.split {
        Some(s) => {
            let split = train_validation_test_split(&data, s.validation, 0.0, s.seed, s.stratified)
                .map_err(|e| (at.key("split"), e.to_string()))?;
            (split.train, Some(split.validation))
        }
        None => (data, None),
    };
    let scale_err = |e: descent_data::DataError| (at.key("scale"), e.to_string());
    match p.scale {
        Scale::None => {}
        Scale::Standard => {
            let s = StandardScaler::fit(train.features()).map_err(scale_err)?;
            s.transform(train.features_mut()).map_err(scale_err)?;
            if let Some(v) = &mut validation {
                s.transform(v.features_mut()).map_err(scale_err)?;
            }
        }
        Scale::MinMax => {
            let s = MinMaxScaler::fit(train.features()).map_err(scale_err)?;
            s.transform(train.features_mut()).map_err(scale_err)?;
            if let Some(v) = &mut validation {
                s.transform(v.features_mut()).map_err(scale_err)?;
            }
        }
    }
    let outputs = match (p.loss.takes_classes(), classes) {
        (true, Some(n)) => n,
        (true, None) => {
            return Err((
                at.key("loss"),
                format!(
                    "loss `{}` takes class targets, but the data set's targets are real values",
                    p.loss.name()
                ),
            ));
        }
        (false, _) => 1,
    };
    let valid = if classes.is_some() {
        CLASS_METRICS
    } else {
        REAL_METRICS
    };
    let metrics = &experiment.spec.metrics;
    for (i, m) in metrics.iter().enumerate() {
        if !valid.contains(&m.as_str()) {
            return Err((
                FieldPath::root("metrics").index(i),
                format!(
                    "metric `{m}` does not fit problem `{}` ({} targets); its metrics: {}",
                    p.name,
                    if classes.is_some() { "class" } else { "real" },
                    valid.join(", ")
                ),
            ));
        }
    }
    let metric = metrics.first().map_or(valid[0], String::as_str).to_string();
    Ok(Prepared {
        train,
        validation,
        outputs,
        metric,
    })
}

/// Whether a larger value of the metric is better.
pub fn higher_is_better(metric: &str) -> bool {
    matches!(metric, "accuracy" | "r2")
}

/// The metrics of an evaluation, by name.
pub fn metric_map(metrics: &Metrics) -> BTreeMap<String, f64> {
    match metrics {
        Metrics::Regression(r) => [
            ("mse", r.mse),
            ("rmse", r.rmse),
            ("mae", r.mae),
            ("r2", r.r2),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        Metrics::Classification(c) => [("accuracy", c.accuracy), ("log_loss", c.log_loss)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// Steps that use at least `evaluations` row gradients on `rows` rows in batches of
/// `batch` (the last batch of an epoch may be smaller).
pub fn steps_for_evaluations(evaluations: u64, rows: u64, batch: u64) -> u64 {
    let per_epoch = rows.div_ceil(batch);
    let epochs = evaluations / rows;
    let rest = evaluations % rows;
    epochs * per_epoch + rest.div_ceil(batch)
}

/// Row gradients used by `steps` steps.
pub fn evaluations_for_steps(steps: u64, rows: u64, batch: u64) -> u64 {
    let per_epoch = rows.div_ceil(batch);
    let epochs = steps / per_epoch;
    let rest = steps % per_epoch;
    epochs * rows + (rest * batch).min(rows)
}

/// A run stopped by Ctrl-C: the payload of the unwind that ends it.
#[derive(Debug)]
pub struct Interrupted;

/// Records a run's curves, moves its progress line and stops it on Ctrl-C.
struct Collector<'a> {
    curves: &'a mut Curves,
    record_steps: bool,
    stop: &'a AtomicBool,
    bar: Option<ProgressBar>,
    validation: bool,
}

impl Observer for Collector<'_> {
    fn step(&mut self, record: &StepRecord) {
        if self.stop.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Interrupted));
        }
        if self.record_steps {
            self.curves.steps.push(*record);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(record.step);
        }
    }

    fn epoch(&mut self, record: &EpochRecord) {
        self.curves.epochs.push(record.clone());
        if let Some(bar) = &self.bar {
            let loss = record.val_loss.unwrap_or(record.train_loss);
            bar.set_message(format!(
                "epoch {} loss {loss:.4}{}",
                record.epoch + 1,
                if self.validation { " (val)" } else { "" }
            ));
        }
    }
}

/// The model of a run: the problem's hidden layers between the data and the outputs.
fn model<T: Float>(plan: &RunPlan, data: &Prepared<T>) -> Result<Mlp<T>, FitError> {
    let spec = &plan.config.problem.model;
    let mut sizes = vec![data.train.n_features()];
    sizes.extend(&spec.hidden);
    sizes.push(data.outputs);
    let mut config = MlpConfig::new(&sizes, spec.activation, spec.init, plan.config.seed);
    config.bias = spec.bias;
    if let Some(last) = config.activations.last_mut() {
        *last = Activation::Identity;
    }
    Ok(Mlp::from_config(config)?)
}

/// Trains one run and says how it went; curves go to `curves`. An error is returned as
/// a failed record; a panic is left to the caller (which records it as failed).
pub fn train<T>(
    plan: &RunPlan,
    data: &Prepared<T>,
    curves: &mut Curves,
    stop: &AtomicBool,
    bar: Option<ProgressBar>,
) -> RunRecord
where
    T: Float + Serialize + DeserializeOwned,
{
    let config = &plan.config;
    let rows = data.train.rows() as u64;
    let batch = config.mode.batch_size(data.train.rows()) as u64;
    let per_epoch = config.mode.steps_per_epoch(data.train.rows()) as u64;
    let budget = &config.budget;
    let (epochs, max_steps) = match (budget.epochs, budget.steps, budget.gradient_evaluations) {
        (Some(e), _, _) => (e, None),
        (_, Some(s), _) => (s.div_ceil(per_epoch), Some(s)),
        (_, _, Some(g)) => {
            let s = steps_for_evaluations(g, rows, batch);
            (s.div_ceil(per_epoch), Some(s))
        }
        _ => (1, None),
    };
    let mut stopping = config.training.stopping.clone();
    stopping.max_steps = match (stopping.max_steps, max_steps) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    let fit = FitConfig {
        mode: config.mode,
        epochs,
        shuffle: config.training.shuffle.then_some(config.seed),
        clip: config.training.clip,
        stopping,
        early_stopping: config.training.early_stopping,
        checkpoint: None,
        record_steps: false,
        parallel: false,
    };
    if let Some(bar) = &bar {
        let planned = max_steps.unwrap_or(epochs * per_epoch);
        bar.set_length(planned.min(epochs * per_epoch));
    }
    let clock = Instant::now();
    let outcome = (|| -> Result<_, FitError> {
        let mut model = model(plan, data)?;
        let optimizer = config.optimizer.build::<T>()?.into_step().ok_or_else(|| {
            FitError::Data(format!(
                "`{}` cannot run in a sweep",
                config.optimizer.name()
            ))
        })?;
        let schedule = config.schedule.build(config.optimizer.lr())?;
        let collector = Collector {
            curves: &mut *curves,
            record_steps: config.training.record_steps,
            stop,
            bar,
            validation: data.validation.is_some(),
        };
        let report = Trainer::new(&mut model, config.problem.loss.clone(), optimizer)
            .schedule(schedule)
            .config(fit)
            .quiet()
            .observe(collector)
            .fit(&data.train, data.validation.as_ref())?;
        Ok(report)
    })();
    let wall_seconds = clock.elapsed().as_secs_f64();
    let mut record = RunRecord {
        index: plan.index,
        id: plan.id.clone(),
        group: plan.group.clone(),
        label: plan.label.clone(),
        status: Status::Completed,
        stopped_by: "budget".into(),
        message: None,
        diverged_at: None,
        steps: 0,
        gradient_evaluations: 0,
        epochs: curves.epochs.len() as u64,
        metric: data.metric.clone(),
        final_eval: None,
        best: None,
        target: None,
        wall_seconds,
        config: config.clone(),
    };
    let final_eval = match outcome {
        Ok(report) => {
            record.steps = report.steps;
            record.stopped_by = match report.termination {
                Termination::Completed { .. } => "budget",
                Termination::Stopped { reason } => match reason {
                    StopReason::MaxSteps { .. } => "budget",
                    StopReason::GradientSmall { .. } => "gradient_small",
                    StopReason::LossStalled { .. } => "loss_stalled",
                    StopReason::Diverged { .. } => "diverged",
                },
                Termination::EarlyStopped { .. } => "early_stopped",
                Termination::Diverged { .. } => "diverged",
            }
            .into();
            let eval = report.validation.as_ref().unwrap_or(&report.train);
            Some(Final {
                loss: eval.loss,
                train_loss: report.train.loss,
                val_loss: report.validation.as_ref().map(|v| v.loss),
                metrics: metric_map(&eval.metrics),
            })
        }
        Err(FitError::Diverged { step, loss, lr, .. }) => {
            record.status = Status::Diverged;
            record.stopped_by = "diverged".into();
            record.diverged_at = Some(step);
            record.steps = step;
            record.message = Some(format!(
                "loss {loss:e} at step {step} with learning rate {lr:e}"
            ));
            None
        }
        Err(e) => {
            record.status = Status::Failed;
            record.stopped_by = "failed".into();
            record.message = Some(e.to_string());
            record.steps = curves.steps.last().map_or(0, |s| s.step);
            None
        }
    };
    record.gradient_evaluations = evaluations_for_steps(record.steps, rows, batch);
    fill_best_and_target(&mut record, final_eval, curves, data, rows, batch);
    record
}

fn fill_best_and_target<T>(
    record: &mut RunRecord,
    final_eval: Option<Final>,
    curves: &mut Curves,
    data: &Prepared<T>,
    rows: u64,
    batch: u64,
) {
    let higher = higher_is_better(&data.metric);
    curves.val_metric = curves
        .epochs
        .iter()
        .map(|e| {
            e.val_metrics
                .as_ref()
                .and_then(|m| metric_map(m).get(&data.metric).copied())
        })
        .collect();
    let epoch_loss = |e: &EpochRecord| e.val_loss.unwrap_or(e.train_loss);
    let mut best: Option<Best> = None;
    for e in &curves.epochs {
        let loss = epoch_loss(e);
        if loss.is_finite() && best.as_ref().is_none_or(|b| loss < b.loss) {
            best = Some(Best {
                loss,
                epoch: Some(e.epoch),
                metric: None,
            });
        }
    }
    if let Some(f) = &final_eval
        && best.as_ref().is_none_or(|b| f.loss <= b.loss)
    {
        best = Some(Best {
            loss: f.loss,
            epoch: None,
            metric: None,
        });
    }
    let metric_values = curves.val_metric.iter().flatten().copied();
    let best_metric = metric_values
        .chain(
            final_eval
                .as_ref()
                .and_then(|f| f.metrics.get(&data.metric).copied()),
        )
        .filter(|v| v.is_finite())
        .reduce(|a, b| if (b > a) == higher && b != a { b } else { a });
    if let Some(b) = &mut best {
        b.metric = best_metric;
    }
    if let Some(target) = record.config.target_loss {
        let hit = curves.epochs.iter().find(|e| epoch_loss(e) <= target);
        record.target = Some(match (hit, &final_eval) {
            (Some(e), _) => ToTarget {
                loss: target,
                reached: true,
                steps: Some(e.step),
                gradient_evaluations: Some(evaluations_for_steps(e.step, rows, batch)),
                seconds: Some(e.seconds),
            },
            (None, Some(f)) if f.loss <= target => ToTarget {
                loss: target,
                reached: true,
                steps: Some(record.steps),
                gradient_evaluations: Some(record.gradient_evaluations),
                seconds: Some(record.wall_seconds),
            },
            _ => ToTarget {
                loss: target,
                reached: false,
                steps: None,
                gradient_evaluations: None,
                seconds: None,
            },
        });
    }
    record.best = best;
    record.final_eval = final_eval;
}
