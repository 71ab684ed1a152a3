//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::{fused0, fused0_slices, fused1, fused1_slices};
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, zeros};
use crate::{Contiguous, OptimError, Optimizer, OptimizerState};

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
        let rule = self.rule(learning_rate);
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            if rule.momentum.is_none() {
                fused0(p, g, |p, g| rule.plain(p, g));
            } else {
                let buf = &mut self.state.params[i][0];
                fused1(p, g, buf, |p, g, buf| rule.with_momentum(p, g, buf));
            }
        }
        Ok(())
    }

    fn step_contiguous(
        &mut self,
        params: &mut [Contiguous<'_, T>],
        learning_rate: T,
    ) -> Option<Result<(), OptimError>> {
        if let Err(e) = self
            .state
            .prepare_contiguous("sgd", params, |_, shape| zeros(shape))
        {
            return Some(Err(e));
        }
        let rule = self.rule(learning_rate);
        for (i, p) in params.iter_mut().enumerate() {
            if rule.momentum.is_none() {
                fused0_slices(p.values, p.grad, |p, g| rule.plain(p, g));
            } else {
                let buf = self.state.params[i][0]
                    .as_slice_mut()
                    .expect("state buffers are contiguous");
                fused1_slices(p.values, p.grad, buf, |p, g, buf| {
                    rule.with_momentum(p, g, buf)
                });
            }
        }
        Some(Ok(()))
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

impl<T: Float> Sgd<T> {
    /// Counts the step and returns its numbers.
    fn rule(&mut self, learning_rate: T) -> Rule<T> {
        self.state.step += 1;
        let c = &self.config;
        Rule {
            neg_lr: -learning_rate,
            sign: if c.maximize { -T::one() } else { T::one() },
            weight_decay: (c.weight_decay != 0.0).then(|| T::of(c.weight_decay)),
            momentum: (c.momentum != 0.0).then(|| T::of(c.momentum)),
            keep: T::of(1.0 - c.dampening),
            nesterov: c.nesterov,
            first: self.state.step == 1,
        }
    }
}

/// The numbers of one SGD step, and its update of one entry.
#[derive(Clone, Copy)]
struct Rule<T> {
    neg_lr: T,
    sign: T,
    weight_decay: Option<T>,
    momentum: Option<T>,
    keep: T,
    nesterov: bool,
    first: bool,
}

impl<T: Float> Rule<T> {
    /// The gradient after the sign and weight decay.
    #[inline(always)]
    fn decayed(self, p: T, g: T) -> T {
        let g = self.sign * g;
        match self.weight_decay {
            Some(wd) => g + wd * p,
            None => g,
        }
    }

    /// `p ← p − lr·g` (no momentum).
    #[inline(always)]
    fn plain(self, p: &mut T, g: T) {
        *p += self.neg_lr * self.decayed(*p, g);
    }

    /// The update with a momentum buffer (PyTorch's `momentum_buffer`).
    #[inline(always)]
    fn with_momentum(self, p: &mut T, g: T, buf: &mut T) {
        let momentum = self.momentum.unwrap_or_else(T::zero);
        let g = self.decayed(*p, g);
        *buf = if self.first {
            g
        } else {
            *buf * momentum + self.keep * g
        };
        let g = if self.nesterov {
            g + momentum * *buf
        } else {
            *buf
        };
        *p += self.neg_lr * g;
    }
}
