//! The training loop: one loop for batch, stochastic and mini-batch gradient descent,
//! with schedules, clipping, stopping rules, early stopping, history, observers,
//! checkpoints and divergence diagnostics.
//!
//! The [`Trainer`] owns termination and calls its [`Observer`]s (argmin's executor /
//! observer split); the progress bar is one observer. A warm step allocates nothing:
//! the graph's buffers, the gradient buffers, the view lists handed to the optimizer
//! and the step history are all reused or reserved up front.

mod checkpoint;
mod history;
mod lr_find;
mod norm;
mod observer;
mod step;

use std::path::PathBuf;
use std::time::Instant;

use descent_autodiff::Float;
use descent_data::{BatchSize, DataLoader, Dataset};
use descent_loss::LossConfig;
use descent_nn::{Model, ParamSet};
use descent_optim::schedule::{Constant, Scheduler};
use descent_optim::{GdMode, Optimizer, StopReason, StoppingRules};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use checkpoint::Checkpoint;
pub use history::{EpochRecord, History, StepRecord, Termination};
pub use lr_find::{LrFind, lr_find};
pub use observer::{Observer, OnEpoch, Progress, RunInfo};
pub use step::{Evaluation, evaluate};

use crate::FitError;
use step::Stepper;

/// Gradient clipping before each update (PyTorch's `clip_grad_norm_` / `clip_grad_value_`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Clip {
    /// No clipping.
    #[default]
    None,
    /// Scale all gradients together so that their 2-norm is at most this.
    Norm(f64),
    /// Clamp every gradient element to ± this.
    Value(f64),
}

/// Early stopping on the validation loss.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EarlyStopping {
    /// Epochs without improvement before stopping.
    pub patience: u32,
    /// The smallest decrease that counts as an improvement.
    #[serde(default)]
    pub min_delta: f64,
    /// Whether to put back the weights of the best epoch at the end.
    #[serde(default = "yes")]
    pub restore_best: bool,
}

fn yes() -> bool {
    true
}

/// Where and how often a run writes its checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointConfig {
    /// The checkpoint file (written to `path.tmp`, then renamed).
    pub path: PathBuf,
    /// Write one every this many epochs (and always when the run ends).
    #[serde(default = "one")]
    pub every_epochs: u64,
    /// Continue from the file if it exists.
    #[serde(default = "yes")]
    pub resume: bool,
}

fn one() -> u64 {
    1
}

/// How a run trains: everything but the model, loss, optimizer and schedule.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FitConfig {
    /// Batch, stochastic or mini-batch gradient descent.
    pub mode: GdMode,
    /// Epochs (passes over the training rows).
    pub epochs: u64,
    /// Shuffle the rows every epoch with this seed; `None` keeps their order. Batch
    /// descent (a batch of all rows) is never shuffled: its gradient does not depend on
    /// the order, and its rows are then read in place.
    pub shuffle: Option<u64>,
    /// Gradient clipping.
    pub clip: Clip,
    /// Stopping rules (step budget, gradient and loss tolerances, divergence).
    pub stopping: StoppingRules,
    /// Early stopping on the validation loss (needs a validation set).
    pub early_stopping: Option<EarlyStopping>,
    /// Checkpoints.
    pub checkpoint: Option<CheckpointConfig>,
    /// Record every step in the history (each epoch is always recorded).
    pub record_steps: bool,
    /// Let large operations (products, gathering a shuffled batch) use several threads
    /// (results do not depend on it).
    pub parallel: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            mode: GdMode::MiniBatch { batch_size: 32 },
            epochs: 10,
            shuffle: Some(0),
            clip: Clip::None,
            stopping: StoppingRules::default(),
            early_stopping: None,
            checkpoint: None,
            record_steps: true,
            parallel: true,
        }
    }
}

/// What a finished run returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Why it ended.
    pub termination: Termination,
    /// Everything it recorded.
    pub history: History,
    /// Optimizer steps taken.
    pub steps: u64,
    /// The final model on the training rows.
    pub train: Evaluation,
    /// The final model on the validation rows, if any.
    pub validation: Option<Evaluation>,
}

/// One training run of a model.
pub struct Trainer<'m, T: Float, M: Model<T>> {
    model: &'m mut M,
    loss: LossConfig,
    optimizer: Box<dyn Optimizer<T> + Send + 'm>,
    schedule: Scheduler,
    config: FitConfig,
    observers: Vec<Box<dyn Observer + 'm>>,
    progress: bool,
}

/// The early-stopping state carried through a run (and its checkpoints).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EarlyState {
    pub(crate) best_loss: Option<f64>,
    pub(crate) best_epoch: u64,
    pub(crate) bad_epochs: u32,
}

impl<'m, T, M> Trainer<'m, T, M>
where
    T: Float + Serialize + DeserializeOwned,
    M: Model<T>,
{
    /// A run of `model` under `loss` with `optimizer`, at a constant learning rate of
    /// 0.01 until [`Trainer::schedule`] or [`Trainer::lr`] says otherwise, with a
    /// progress bar until [`Trainer::quiet`].
    pub fn new(
        model: &'m mut M,
        loss: LossConfig,
        optimizer: Box<dyn Optimizer<T> + Send + 'm>,
    ) -> Self {
        Trainer {
            model,
            loss,
            optimizer,
            schedule: Scheduler::Pure(Box::new(Constant::new(0.01))),
            config: FitConfig::default(),
            observers: Vec::new(),
            progress: true,
        }
    }

    /// A constant learning rate.
    pub fn lr(mut self, lr: f64) -> Self {
        self.schedule = Scheduler::Pure(Box::new(Constant::new(lr)));
        self
    }

    /// The learning-rate schedule (step 0 is the first update).
    pub fn schedule(mut self, schedule: Scheduler) -> Self {
        self.schedule = schedule;
        self
    }

    /// How to train.
    pub fn config(mut self, config: FitConfig) -> Self {
        self.config = config;
        self
    }

    /// Adds an observer.
    pub fn observe(mut self, observer: impl Observer + 'm) -> Self {
        self.observers.push(Box::new(observer));
        self
    }

    /// No progress bar.
    pub fn quiet(mut self) -> Self {
        self.progress = false;
        self
    }

    /// Trains on `train`, validating on `validation` after every epoch.
    ///
    /// # Errors
    /// [`FitError::Diverged`] when the loss diverges (with a smaller learning rate to
    /// try); data that do not fit the model or loss; an unreadable or unwritable
    /// checkpoint; an optimizer that refuses the parameters.
    pub fn fit(
        mut self,
        train: &Dataset<T>,
        validation: Option<&Dataset<T>>,
    ) -> Result<FitReport, FitError> {
        if self.progress {
            self.observers.insert(0, Box::new(Progress::new()));
        }
        let config = self.config.clone();
        if config.early_stopping.is_some() && validation.is_none() {
            return Err(FitError::Data(
                "early stopping needs a validation set".to_string(),
            ));
        }
        let batch = config.mode.batch_size(train.rows());
        let full_batch = batch >= train.rows();
        let mut loader = DataLoader::new(train, BatchSize::Rows(batch))?.parallel(config.parallel);
        // A batch of all rows gives the same gradient in any row order: no shuffle, so
        // that every step can read the rows in place.
        if let Some(seed) = config.shuffle.filter(|_| !full_batch) {
            loader = loader.shuffled(seed);
        }
        let steps_per_epoch = loader.batches_per_epoch() as u64;
        let mut stopping = config.stopping.clone();
        let mut stepper = Stepper::new(config.parallel);
        if full_batch {
            stepper.share_whole(train.features_shared());
        }
        let mut eval_stepper = Stepper::new(config.parallel);

        let layers = layer_groups(self.model.params(), |i| self.model.layer_of(i).to_string());
        let mut history = History {
            layers: layers.iter().map(|(name, _)| name.clone()).collect(),
            ..History::default()
        };
        let mut step: u64 = 0;
        let mut sums = EpochSums::new(layers.len());
        let mut norms = vec![0.0; self.model.params().len()];
        let mut early = EarlyState {
            best_loss: None,
            best_epoch: 0,
            bad_epochs: 0,
        };
        let mut best: Option<ParamSet<T>> = None;
        let mut time_offset = 0.0;

        if let Some(ck) = config
            .checkpoint
            .as_ref()
            .filter(|c| c.resume && c.path.exists())
        {
            let saved = Checkpoint::<T>::read(&ck.path)?;
            self.model.params_mut().restore(&saved.params)?;
            self.optimizer.load_state(saved.optimizer)?;
            loader.restore(&saved.loader)?;
            history = saved.history;
            step = saved.step;
            sums = saved.sums;
            early = saved.early;
            if let Some(b) = saved.best {
                let mut set = self.model.params().clone();
                set.restore(&b)?;
                best = Some(set);
            }
            time_offset = saved.seconds;
        }

        let info = RunInfo {
            epochs: config.epochs,
            steps_per_epoch,
            batch_rows: loader.batch_rows(),
            start_step: step,
        };
        for o in &mut self.observers {
            o.start(&info);
        }
        if config.record_steps {
            let planned = config.epochs * steps_per_epoch;
            let budget = stopping.max_steps.map_or(planned, |m| m.min(planned));
            history.steps.reserve(budget.saturating_sub(step) as usize);
        }
        let step_records = config.record_steps || self.observers.iter().any(|o| o.wants_steps());
        let clock = Instant::now();
        let seconds = |clock: &Instant| time_offset + clock.elapsed().as_secs_f64();
        let mut lr = self.schedule.lr(step);
        let mut termination = None;

        'epochs: while loader.epoch() < config.epochs {
            let epoch = loader.epoch();
            while let Some(batch) = loader.next_batch() {
                lr = self.schedule.lr(step);
                let loss = stepper.loss_and_grads(
                    self.model,
                    &self.loss,
                    batch.features,
                    batch.targets,
                )?;
                stepper.squared_norms(&mut norms);
                let grad_norm = norms.iter().sum::<f64>().sqrt();
                let verdict = stopping.check(step + 1, loss, grad_norm);
                if let Some(StopReason::Diverged { step: at, loss }) = verdict {
                    let end = Termination::Diverged { step: at, loss };
                    for o in &mut self.observers {
                        o.end(&end);
                    }
                    return Err(FitError::Diverged {
                        step: at,
                        epoch,
                        loss,
                        lr,
                        suggestion: lr / 10.0,
                    });
                }
                for ((_, members), sum) in layers.iter().zip(&mut sums.layer_norms) {
                    *sum += members.iter().map(|&i| norms[i]).sum::<f64>().sqrt();
                }
                let rate = T::of(lr);
                let optimizer = &mut self.optimizer;
                let params = self.model.params_mut();
                let contiguous = (config.clip == Clip::None)
                    .then(|| stepper.update_contiguous(&mut *params, &mut **optimizer, rate))
                    .flatten();
                if let Some(result) = contiguous {
                    // Updated from the graph's gradient buffers, without views.
                    result?;
                } else if config.clip == Clip::None {
                    // The update reads the graph's gradients in place: no copy.
                    params
                        .with_graph_grads(&stepper.graph, stepper.vars(), |p, g| {
                            optimizer.step(p, g, rate)
                        })
                        .map_err(|i| FitError::UnusedParameter {
                            name: params_name(&*self.model, i),
                        })??;
                } else {
                    // Clipping changes the gradients, which the graph hands out read-only:
                    // copy them into the parameter set's buffers first.
                    if let Err(i) = params.take_grads(&stepper.graph, stepper.vars()) {
                        return Err(FitError::UnusedParameter {
                            name: params_name(&*self.model, i),
                        });
                    }
                    clip(params, config.clip, grad_norm);
                    params.with_views(|p, g| optimizer.step(p, g, rate))?;
                }
                step += 1;
                sums.loss += loss;
                sums.grad_norm += grad_norm;
                sums.steps += 1;
                if step_records {
                    let record = StepRecord {
                        step,
                        epoch,
                        loss,
                        lr,
                        grad_norm,
                        seconds: seconds(&clock),
                    };
                    if config.record_steps {
                        history.steps.push(record);
                    }
                    for o in &mut self.observers {
                        o.step(&record);
                    }
                }
                if let Some(reason) = verdict {
                    termination = Some(Termination::Stopped { reason });
                    break 'epochs;
                }
            }

            // The epoch is over.
            let (val_loss, val_metrics) = match validation {
                Some(v) => {
                    let e = eval_stepper.evaluate(self.model, &self.loss, v)?;
                    (Some(e.loss), Some(e.metrics))
                }
                None => (None, None),
            };
            let n = sums.steps.max(1) as f64;
            let record = EpochRecord {
                epoch,
                step,
                train_loss: sums.loss / n,
                lr,
                grad_norm: sums.grad_norm / n,
                layer_grad_norms: sums.layer_norms.iter().map(|s| s / n).collect(),
                val_loss,
                val_metrics,
                seconds: seconds(&clock),
            };
            self.schedule.observe(val_loss.unwrap_or(record.train_loss));
            sums = EpochSums::new(layers.len());
            for o in &mut self.observers {
                o.epoch(&record);
            }
            history.epochs.push(record);
            if let (Some(rule), Some(v)) = (config.early_stopping, val_loss) {
                if early.best_loss.is_none_or(|b| v < b - rule.min_delta) {
                    early = EarlyState {
                        best_loss: Some(v),
                        best_epoch: epoch,
                        bad_epochs: 0,
                    };
                    if rule.restore_best {
                        match &mut best {
                            Some(set) => set.copy_from(self.model.params())?,
                            None => best = Some(self.model.params().clone()),
                        }
                    }
                } else {
                    early.bad_epochs += 1;
                    if early.bad_epochs >= rule.patience.max(1) {
                        let restored = rule.restore_best && best.is_some();
                        if let Some(set) = &best {
                            self.model.params_mut().copy_from(set)?;
                        }
                        termination = Some(Termination::EarlyStopped {
                            epoch,
                            best_epoch: early.best_epoch,
                            best_loss: early.best_loss.unwrap_or(f64::NAN),
                            restored,
                        });
                        break 'epochs;
                    }
                }
            }
            if let Some(ck) = &config.checkpoint
                && (epoch + 1) % ck.every_epochs.max(1) == 0
                && loader.epoch() < config.epochs
            {
                let saved = self.checkpoint(
                    step,
                    &loader,
                    &history,
                    &sums,
                    &early,
                    &best,
                    seconds(&clock),
                );
                saved.write(&ck.path)?;
            }
        }
        let termination = termination.unwrap_or(Termination::Completed {
            epochs: loader.epoch(),
        });
        if let Some(ck) = &config.checkpoint {
            let saved = self.checkpoint(
                step,
                &loader,
                &history,
                &sums,
                &early,
                &best,
                seconds(&clock),
            );
            saved.write(&ck.path)?;
        }
        for o in &mut self.observers {
            o.end(&termination);
        }
        let train_eval = eval_stepper.evaluate(self.model, &self.loss, train)?;
        let validation = validation
            .map(|v| eval_stepper.evaluate(self.model, &self.loss, v))
            .transpose()?;
        Ok(FitReport {
            termination,
            history,
            steps: step,
            train: train_eval,
            validation,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn checkpoint(
        &self,
        step: u64,
        loader: &DataLoader<'_, T>,
        history: &History,
        sums: &EpochSums,
        early: &EarlyState,
        best: &Option<ParamSet<T>>,
        seconds: f64,
    ) -> Checkpoint<T> {
        Checkpoint {
            step,
            params: self.model.params().snapshot(),
            optimizer: self.optimizer.state().clone(),
            loader: loader.state(),
            history: history.clone(),
            sums: sums.clone(),
            early: early.clone(),
            best: best.as_ref().map(|b| b.snapshot()),
            seconds,
        }
    }
}

/// Running sums over the steps of the current epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct EpochSums {
    loss: f64,
    grad_norm: f64,
    layer_norms: Vec<f64>,
    steps: u64,
}

impl EpochSums {
    fn new(layers: usize) -> Self {
        EpochSums {
            loss: 0.0,
            grad_norm: 0.0,
            layer_norms: vec![0.0; layers],
            steps: 0,
        }
    }
}

/// Groups parameter indices by layer name, in order of first appearance.
fn layer_groups<T: Float>(
    params: &ParamSet<T>,
    layer_of: impl Fn(usize) -> String,
) -> Vec<(String, Vec<usize>)> {
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for i in 0..params.len() {
        let name = layer_of(i);
        match groups.iter_mut().find(|(n, _)| *n == name) {
            Some((_, members)) => members.push(i),
            None => groups.push((name, vec![i])),
        }
    }
    groups
}

fn params_name<T: Float, M: Model<T>>(model: &M, index: usize) -> String {
    model.params().names()[index].clone()
}

/// Clips the gradients in place, as PyTorch's `clip_grad_norm_` (coefficient
/// `max / (norm + 1e-6)`, applied only when below 1) and `clip_grad_value_` do;
/// `norm` is the 2-norm of all gradients together.
pub(crate) fn clip<T: Float>(params: &mut ParamSet<T>, clip: Clip, norm: f64) {
    match clip {
        Clip::None => {}
        Clip::Norm(max) => {
            let coef = max / (norm + 1e-6);
            if coef < 1.0 {
                let coef = T::of(coef);
                for g in params.grads_mut() {
                    g.mapv_inplace(|v| v * coef);
                }
            }
        }
        Clip::Value(max) => {
            let (lo, hi) = (T::of(-max), T::of(max));
            for g in params.grads_mut() {
                g.mapv_inplace(|v| {
                    if v < lo {
                        lo
                    } else if v > hi {
                        hi
                    } else {
                        v
                    }
                });
            }
        }
    }
}
