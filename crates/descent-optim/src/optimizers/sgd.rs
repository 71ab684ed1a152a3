//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::{fused0, fused1};
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// SGD's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-3).
    pub lr: f64,
    /// Momentum factor (default 0: plain gradient descent).
    pub momentum: f64,
    /// Dampening of the gradient inside the momentum buffer (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum (default false); needs momentum > 0 and zero dampening.
    pub nesterov: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            maximize: false,
        }
    }
}

impl SgdConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("sgd", "lr", self.lr, self.lr >= 0.0, "must be >= 0")?;
        check_range(
            "sgd",
            "momentum",
            self.momentum,
            self.momentum >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "sgd",
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "sgd",
            "dampening",
            self.dampening,
            !self.nesterov || (self.momentum > 0.0 && self.dampening == 0.0),
            "Nesterov momentum needs momentum > 0 and zero dampening",
        )
    }
}

/// Stochastic gradient descent (Robbins & Monro, "A Stochastic Approximation Method",
/// 1951), with heavy-ball momentum (Polyak, 1964) and Nesterov momentum as formulated by
/// Sutskever et al., "On the importance of initialization and momentum in deep
/// learning", ICML 2013. The arithmetic is PyTorch's `torch.optim.SGD`:
///
/// ```text
/// g = g + weight_decay·p
/// buf = g on the first step, else momentum·buf + (1 − dampening)·g
/// g = nesterov ? g + momentum·buf : buf
/// p = p − lr·g
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T: Float> {
    config: SgdConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Sgd<T> {
    /// An SGD optimizer with these hyperparameters and no state yet.
    pub fn new(config: SgdConfig) -> Self {
        let buffers: &[&str] = if config.momentum != 0.0 {
            &["momentum_buffer"]
        } else {
            &[]
        };
        Self {
            state: OptimizerState::new("sgd", buffers),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Sgd<T> {
    fn name(&self) -> &'static str {
        "sgd"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("sgd", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let first = self.state.step == 1;
        let c = &self.config;
        let wd = T::of(c.weight_decay);
        let decay = c.weight_decay != 0.0;
        let neg_lr = -learning_rate;
        let sign = if c.maximize { -T::one() } else { T::one() };
        let momentum = T::of(c.momentum);
        let keep = T::of(1.0 - c.dampening);
        let nesterov = c.nesterov;
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let decayed = |p: T, g: T| {
                let g = sign * g;
                if decay { g + wd * p } else { g }
            };
            if c.momentum == 0.0 {
                fused0(p, g, |p, g| *p += neg_lr * decayed(*p, g));
                continue;
            }
            let buf = &mut self.state.params[i][0];
            fused1(p, g, buf, |p, g, buf| {
                let g = decayed(*p, g);
                *buf = if first { g } else { *buf * momentum + keep * g };
                let g = if nesterov { g + momentum * *buf } else { *buf };
                *p += neg_lr * g;
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("sgd", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
