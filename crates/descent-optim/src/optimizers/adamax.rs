//! Adamax: Adam with the infinity norm in place of the second moment.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::fused2;
use serde::{Deserialize, Serialize};

use crate::optimizer::{lerp, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// Adamax's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamaxConfig {
    /// The base learning rate a runner feeds through its schedule (default 2e-3).
    pub lr: f64,
    /// Decay rates of the first moment and of the infinity norm (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// Added to |g| inside the maximum (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdamaxConfig {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            maximize: false,
        }
    }
}

impl AdamaxConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        crate::optimizers::adam::validate_adam_like(
            "adamax",
            self.lr,
            self.betas,
            self.eps,
            self.weight_decay,
        )
    }
}

/// Adamax (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
/// section 7.1), with PyTorch's `torch.optim.Adamax` arithmetic:
///
/// ```text
/// g = g + weight_decay·p
/// m = lerp(m, g, 1 − b1)
/// u = max(b2·u, |g| + eps)
/// p = p − (lr / (1 − b1^t))·m / u
/// ```
#[derive(Clone, Debug)]
pub struct Adamax<T: Float> {
    config: AdamaxConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Adamax<T> {
    /// An Adamax optimizer with these hyperparameters and no state yet.
    pub fn new(config: AdamaxConfig) -> Self {
        Self {
            state: OptimizerState::new("adamax", &["exp_avg", "exp_inf"]),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamaxConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adamax<T> {
    fn name(&self) -> &'static str {
        "adamax"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("adamax", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let [b1, b2] = c.betas;
        let clr = learning_rate.as_f64() / (1.0 - b1.powf(self.state.step as f64));
        let neg_clr = T::of(-clr);
        let (one_minus_b1, beta2, eps) = (T::of(1.0 - b1), T::of(b2), T::of(c.eps));
        let (wd, decay) = (T::of(c.weight_decay), c.weight_decay != 0.0);
        let sign = if c.maximize { -T::one() } else { T::one() };
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let [m, u] = self.state.params[i].as_mut_slice() else {
                unreachable!("Adamax keeps two buffers per parameter")
            };
            fused2(p, g, m, u, |p, g, m, u| {
                let g = sign * g;
                let g = if decay { g + wd * *p } else { g };
                *m = lerp(*m, g, one_minus_b1);
                *u = (*u * beta2).max(g.abs() + eps);
                *p += neg_clr * *m / *u;
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("adamax", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
