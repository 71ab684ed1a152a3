//! The errors of a training run, each saying where and what.

use thiserror::Error;

/// What can stop a training run other than its own stopping rules.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FitError {
    /// The loss became non-finite or exploded.
    #[error(
        "training diverged at step {step} (epoch {epoch}): loss = {loss:e} with learning rate {lr:e}; \
         try a smaller learning rate, such as {suggestion:e}"
    )]
    Diverged {
        /// The step (from 1) whose loss diverged.
        step: u64,
        /// Its epoch (from 0).
        epoch: u64,
        /// The loss at that step.
        loss: f64,
        /// The learning rate in use.
        lr: f64,
        /// A smaller learning rate to try (a tenth of `lr`).
        suggestion: f64,
    },
    /// The data do not fit the model or the loss.
    #[error("{0}")]
    Data(String),
    /// A loss refused its input or target.
    #[error(transparent)]
    Loss(#[from] descent_loss::LossError),
    /// The optimizer refused its parameters or state.
    #[error(transparent)]
    Optim(#[from] descent_optim::OptimError),
    /// The model refused saved parameters.
    #[error(transparent)]
    Nn(#[from] descent_nn::NnError),
    /// The data loader refused its arguments or a saved position.
    #[error(transparent)]
    Loader(#[from] descent_data::DataError),
    /// A parameter the loss does not depend on (it would never be trained).
    #[error("parameter `{name}` got no gradient: the loss does not depend on it")]
    UnusedParameter {
        /// The parameter's name.
        name: String,
    },
    /// A checkpoint that cannot be written or read.
    #[error("checkpoint {path}: {reason}")]
    Checkpoint {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
}
