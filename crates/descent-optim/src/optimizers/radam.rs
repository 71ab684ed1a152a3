//! RAdam: Adam with the variance of the adaptive learning rate rectified.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::fused2;
use serde::{Deserialize, Serialize};

use crate::optimizer::{lerp, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// RAdam's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RadamConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moments (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// Added to the un-corrected root of the second moment (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): L2 on the gradient, or decoupled when
    /// `decoupled_weight_decay` is set.
    pub weight_decay: f64,
    /// Shrink the parameters directly, as AdamW does (default false).
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for RadamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl RadamConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        crate::optimizers::adam::validate_adam_like(
            "radam",
            self.lr,
            self.betas,
            self.eps,
            self.weight_decay,
        )
    }
}

/// RAdam (Liu et al., "On the Variance of the Adaptive Learning Rate and Beyond", ICLR
/// 2020), with PyTorch's `torch.optim.RAdam` arithmetic:
///
/// ```text
/// m = lerp(m, g, 1 − b1);  v = b2·v + (1 − b2)·g·g;  m_hat = m / (1 − b1^t)
/// rho_inf = 2/(1 − b2) − 1;  rho_t = rho_inf − 2·t·b2^t / (1 − b2^t)
/// rho_t > 5 ? p = p − m_hat·lr·sqrt(1 − b2^t)/(sqrt(v) + eps)·rect : p = p − m_hat·lr
/// ```
#[derive(Clone, Debug)]
pub struct Radam<T: Float> {
    config: RadamConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Radam<T> {
    /// A RAdam optimizer with these hyperparameters and no state yet.
    pub fn new(config: RadamConfig) -> Self {
        Self {
            state: OptimizerState::new("radam", &["exp_avg", "exp_avg_sq"]),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &RadamConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Radam<T> {
    fn name(&self) -> &'static str {
        "radam"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("radam", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let t = self.state.step as f64;
        let lr_f = learning_rate.as_f64();
        let [b1, b2] = c.betas;
        let bc1 = T::of(1.0 - b1.powf(t));
        let bc2 = 1.0 - b2.powf(t);
        let rho_inf = 2.0 / (1.0 - b2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * b2.powf(t) / bc2;
        let rectified = rho_t > 5.0;
        let rect = T::of(
            ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
                .sqrt(),
        );
        let bc2_sqrt = T::of(bc2.sqrt());
        let (one_minus_b1, beta2, one_minus_b2) = (T::of(1.0 - b1), T::of(b2), T::of(1.0 - b2));
        let (eps, lr) = (T::of(c.eps), learning_rate);
        let sign = if c.maximize { -T::one() } else { T::one() };
        let decay = c.weight_decay != 0.0;
        let decoupled = decay && c.decoupled_weight_decay;
        let coupled = decay && !c.decoupled_weight_decay;
        let l2 = T::of(c.weight_decay);
        let shrink = T::of(1.0 - lr_f * c.weight_decay);
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let [m, v] = self.state.params[i].as_mut_slice() else {
                unreachable!("RAdam keeps two buffers per parameter")
            };
            fused2(p, g, m, v, |p, g, m, v| {
                let g = sign * g;
                if decoupled {
                    *p *= shrink;
                }
                let g = if coupled { g + l2 * *p } else { g };
                *m = lerp(*m, g, one_minus_b1);
                *v = *v * beta2 + one_minus_b2 * g * g;
                let m_hat = *m / bc1;
                *p = if rectified {
                    let adaptive = bc2_sqrt / (v.sqrt() + eps);
                    *p - m_hat * lr * adaptive * rect
                } else {
                    *p - m_hat * lr
                };
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("radam", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
