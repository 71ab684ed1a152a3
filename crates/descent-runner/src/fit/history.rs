//! What a run records: one line per step and per epoch, and why it ended.

use descent_optim::StopReason;
use serde::{Deserialize, Serialize};

use crate::metrics::Metrics;

/// One optimizer step.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Steps taken, from 1.
    pub step: u64,
    /// The epoch the step belongs to, from 0.
    pub epoch: u64,
    /// The batch's loss before the update.
    pub loss: f64,
    /// The learning rate of the update.
    pub lr: f64,
    /// The norm of all gradients together, before clipping.
    pub grad_norm: f64,
    /// Wall time since the run started, in seconds.
    pub seconds: f64,
}

/// One epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, from 0.
    pub epoch: u64,
    /// Steps taken by its end.
    pub step: u64,
    /// The mean of its steps' losses.
    pub train_loss: f64,
    /// The learning rate of its last step.
    pub lr: f64,
    /// The mean over its steps of the gradient norm.
    pub grad_norm: f64,
    /// Per layer (in the order of [`History::layers`]), the mean over its steps of
    /// that layer's gradient norm: vanishing gradients show here as tiny early layers.
    pub layer_grad_norms: Vec<f64>,
    /// The loss on the validation set, if there is one.
    pub val_loss: Option<f64>,
    /// The metrics on the validation set, if there is one.
    pub val_metrics: Option<Metrics>,
    /// Wall time since the run started, in seconds.
    pub seconds: f64,
}

/// A run's whole record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// The layer names of [`EpochRecord::layer_grad_norms`].
    pub layers: Vec<String>,
    /// Every step (empty when step recording is off).
    pub steps: Vec<StepRecord>,
    /// Every epoch.
    pub epochs: Vec<EpochRecord>,
}

/// Why a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "termination")]
pub enum Termination {
    /// All epochs ran.
    Completed {
        /// Epochs run.
        epochs: u64,
    },
    /// A stopping rule fired (step budget, small gradient, stalled loss).
    Stopped {
        /// The rule and where.
        reason: StopReason,
    },
    /// The validation loss stopped improving.
    EarlyStopped {
        /// The epoch at which the run stopped.
        epoch: u64,
        /// The epoch with the best validation loss.
        best_epoch: u64,
        /// That loss.
        best_loss: f64,
        /// Whether the best weights were put back.
        restored: bool,
    },
    /// The loss diverged (the run returns an error too).
    Diverged {
        /// The step.
        step: u64,
        /// The loss.
        loss: f64,
    },
}
