//! AdamW: Adam with weight decay decoupled from the gradient.

use descent_autodiff::Float;
use serde::{Deserialize, Serialize};

use crate::{Adam, AdamConfig, OptimError};

/// AdamW's hyperparameters, with PyTorch's names and defaults (note `weight_decay` 1e-2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamWConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moments (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// Added to the bias-corrected root of the second moment (default 1e-8).
    pub eps: f64,
    /// Decoupled weight decay: `p = p·(1 − lr·weight_decay)` before each update (default 1e-2).
    pub weight_decay: f64,
    /// Use the running maximum of the second moment (AMSGrad, default false).
    pub amsgrad: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
            maximize: false,
        }
    }
}

impl AdamWConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        crate::optimizers::adam::validate_adam_like(
            "adamw",
            self.lr,
            self.betas,
            self.eps,
            self.weight_decay,
        )
    }

    /// The equivalent [`AdamConfig`], with `decoupled_weight_decay` set.
    pub fn to_adam(&self) -> AdamConfig {
        AdamConfig {
            lr: self.lr,
            betas: self.betas,
            eps: self.eps,
            weight_decay: self.weight_decay,
            amsgrad: self.amsgrad,
            decoupled_weight_decay: true,
            maximize: self.maximize,
        }
    }
}

/// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), as
/// PyTorch's `torch.optim.AdamW`: [`Adam`] whose weight decay shrinks the parameters
/// (`p = p·(1 − lr·weight_decay)`) before the update instead of entering the moments.
pub type AdamW<T> = Adam<T>;

impl<T: Float> Adam<T> {
    /// An AdamW optimizer (named `"adamw"`) with these hyperparameters and no state yet.
    pub fn adamw(config: AdamWConfig) -> Self {
        Adam::named("adamw", config.to_adam())
    }
}
