//! descent-optim: update rules, learning-rate schedules, gradient clipping, the batch /
//! stochastic / mini-batch modes of gradient descent and stopping rules, numerically
//! identical to PyTorch's (and scikit-learn's) where those define them.
//!
//! An [`Optimizer`] steps an ordered list of parameter arrays from their gradients at a
//! learning rate it is given; a [`schedule::Schedule`] says what that rate is at each
//! step; [`OptimizerConfig`] and [`ScheduleConfig`] let a TOML file name both.
#![warn(missing_docs)]

mod clip;
mod config;
mod contiguous;
mod error;
mod mode;
mod optimizer;
mod optimizers;
pub mod schedule;
mod stopping;

pub use clip::{clip_grad_norm, clip_grad_value, global_norm};
pub use config::{BuiltOptimizer, OptimizerConfig, ScheduleConfig};
pub use contiguous::Contiguous;
pub use error::OptimError;
pub use mode::GdMode;
pub use optimizer::{Optimizer, OptimizerState, lerp};
pub use optimizers::adadelta::{Adadelta, AdadeltaConfig};
pub use optimizers::adagrad::{Adagrad, AdagradConfig};
pub use optimizers::adam::{Adam, AdamConfig};
pub use optimizers::adamax::{Adamax, AdamaxConfig};
pub use optimizers::adamw::{AdamW, AdamWConfig};
pub use optimizers::backtracking::{Backtracking, BacktrackingConfig, BacktrackingStep};
pub use optimizers::lbfgs::{Lbfgs, LbfgsConfig, LbfgsState, LineSearchFn};
pub use optimizers::nadam::{Nadam, NadamConfig};
pub use optimizers::radam::{Radam, RadamConfig};
pub use optimizers::rmsprop::{Rmsprop, RmspropConfig};
pub use optimizers::sgd::{Sgd, SgdConfig};
pub use stopping::{StopReason, StoppingRules};
