//! descent: gradient-based learning made exact, visible and comparable.
//!
//! This facade re-exports the workspace's crates under short names.
#![warn(missing_docs)]

pub use descent_autodiff as autodiff;
pub use descent_data as data;
pub use descent_loss as loss;
pub use descent_nn as nn;
pub use descent_optim as optim;
pub use descent_runner as runner;

/// The names most programs need, in one import.
pub mod prelude {
    pub use crate::autodiff::Float;
    pub use crate::nn::{Activation, Init, Mlp, Model};
    pub use crate::runner::fit::{FitConfig, Trainer};
}
