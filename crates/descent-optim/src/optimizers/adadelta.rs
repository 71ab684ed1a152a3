//! Adadelta: step sizes from running averages of squared gradients and squared updates.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::fused2;
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// Adadelta's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdadeltaConfig {
    /// The base learning rate a runner feeds through its schedule (default 1.0).
    pub lr: f64,
    /// Decay rate of both running averages (default 0.9).
    pub rho: f64,
    /// Added inside both square roots (default 1e-6).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdadeltaConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            rho: 0.9,
            eps: 1e-6,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl AdadeltaConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("adadelta", "lr", self.lr, self.lr >= 0.0, "must be >= 0")?;
        check_range(
            "adadelta",
            "rho",
            self.rho,
            (0.0..=1.0).contains(&self.rho),
            "must be in [0, 1]",
        )?;
        check_range("adadelta", "eps", self.eps, self.eps >= 0.0, "must be >= 0")?;
        check_range(
            "adadelta",
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )
    }
}

/// Adadelta (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", arXiv:1212.5701, 2012),
/// with PyTorch's `torch.optim.Adadelta` arithmetic:
///
/// ```text
/// g = g + weight_decay·p
/// v = rho·v + (1 − rho)·g·g
/// delta = sqrt(acc + eps) / sqrt(v + eps)·g
/// acc = rho·acc + (1 − rho)·delta·delta
/// p = p − lr·delta
/// ```
#[derive(Clone, Debug)]
pub struct Adadelta<T: Float> {
    config: AdadeltaConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Adadelta<T> {
    /// An Adadelta optimizer with these hyperparameters and no state yet.
    pub fn new(config: AdadeltaConfig) -> Self {
        Self {
            state: OptimizerState::new("adadelta", &["square_avg", "acc_delta"]),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdadeltaConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adadelta<T> {
    fn name(&self) -> &'static str {
        "adadelta"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("adadelta", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let (rho, one_minus_rho, eps) = (T::of(c.rho), T::of(1.0 - c.rho), T::of(c.eps));
        let (wd, decay) = (T::of(c.weight_decay), c.weight_decay != 0.0);
        let sign = if c.maximize { -T::one() } else { T::one() };
        let neg_lr = -learning_rate;
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let [v, acc] = self.state.params[i].as_mut_slice() else {
                unreachable!("Adadelta keeps two buffers per parameter")
            };
            fused2(p, g, v, acc, |p, g, v, acc| {
                let g = sign * g;
                let g = if decay { g + wd * *p } else { g };
                *v = *v * rho + one_minus_rho * g * g;
                let std = (*v + eps).sqrt();
                let delta = (*acc + eps).sqrt() / std * g;
                *acc = *acc * rho + one_minus_rho * delta * delta;
                *p += neg_lr * delta;
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("adadelta", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
