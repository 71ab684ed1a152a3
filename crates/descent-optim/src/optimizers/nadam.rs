//! NAdam: Adam with Nesterov momentum and a momentum schedule.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::fused2;
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, lerp, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// NAdam's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NadamConfig {
    /// The base learning rate a runner feeds through its schedule (default 2e-3).
    pub lr: f64,
    /// Decay rates of the first and second moments (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// Added to the bias-corrected root of the second moment (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): L2 on the gradient, or decoupled when
    /// `decoupled_weight_decay` is set.
    pub weight_decay: f64,
    /// ψ of the momentum schedule `mu_t = b1·(1 − 0.5·0.96^(t·ψ))` (default 4e-3).
    pub momentum_decay: f64,
    /// Shrink the parameters directly, as AdamW does (default false).
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for NadamConfig {
    fn default() -> Self {
        Self {
            lr: 2e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            momentum_decay: 4e-3,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl NadamConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        crate::optimizers::adam::validate_adam_like(
            "nadam",
            self.lr,
            self.betas,
            self.eps,
            self.weight_decay,
        )?;
        check_range(
            "nadam",
            "momentum_decay",
            self.momentum_decay,
            self.momentum_decay >= 0.0,
            "must be >= 0",
        )
    }
}

/// NAdam (Dozat, "Incorporating Nesterov Momentum into Adam", ICLR 2016 workshop), with
/// PyTorch's `torch.optim.NAdam` arithmetic:
///
/// ```text
/// decoupled ? p = p·(1 − lr·wd) : g = g + wd·p
/// mu = b1·(1 − 0.5·0.96^(t·ψ));  mu_next = b1·(1 − 0.5·0.96^((t+1)·ψ));  mu_prod = mu_prod·mu
/// m = lerp(m, g, 1 − b1);  v = b2·v + (1 − b2)·g·g;  denom = sqrt(v / (1 − b2^t)) + eps
/// p = p − lr·(1 − mu)/(1 − mu_prod)·g/denom − lr·mu_next/(1 − mu_prod·mu_next)·m/denom
/// ```
#[derive(Clone, Debug)]
pub struct Nadam<T: Float> {
    config: NadamConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Nadam<T> {
    /// A NAdam optimizer with these hyperparameters and no state yet.
    pub fn new(config: NadamConfig) -> Self {
        let mut state = OptimizerState::new("nadam", &["exp_avg", "exp_avg_sq"]);
        state.clear(&[("mu_product", 1.0)]);
        Self { state, config }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &NadamConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Nadam<T> {
    fn name(&self) -> &'static str {
        "nadam"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("nadam", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let t = self.state.step as f64;
        let lr = learning_rate.as_f64();
        let [b1, b2] = c.betas;
        let bc2 = T::of(1.0 - b2.powf(t));
        let mu = b1 * (1.0 - 0.5 * 0.96_f64.powf(t * c.momentum_decay));
        let mu_next = b1 * (1.0 - 0.5 * 0.96_f64.powf((t + 1.0) * c.momentum_decay));
        let mu_product = self
            .state
            .scalars
            .get_mut("mu_product")
            .expect("NAdam keeps mu_product");
        *mu_product *= mu;
        let mu_product_next = *mu_product * mu_next;
        let coef_g = T::of(-lr * (1.0 - mu) / (1.0 - *mu_product));
        let coef_m = T::of((-lr * mu_next) / (1.0 - mu_product_next));
        let (one_minus_b1, beta2, one_minus_b2) = (T::of(1.0 - b1), T::of(b2), T::of(1.0 - b2));
        let eps = T::of(c.eps);
        let sign = if c.maximize { -T::one() } else { T::one() };
        let decay = c.weight_decay != 0.0;
        let decoupled = decay && c.decoupled_weight_decay;
        let coupled = decay && !c.decoupled_weight_decay;
        let l2 = T::of(c.weight_decay);
        let shrink = T::of(1.0 - lr * c.weight_decay);
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let [m, v] = self.state.params[i].as_mut_slice() else {
                unreachable!("NAdam keeps two buffers per parameter")
            };
            fused2(p, g, m, v, |p, g, m, v| {
                let g = sign * g;
                if decoupled {
                    *p *= shrink;
                }
                let g = if coupled { g + l2 * *p } else { g };
                *m = lerp(*m, g, one_minus_b1);
                *v = *v * beta2 + one_minus_b2 * g * g;
                let denom = (*v / bc2).sqrt() + eps;
                *p += coef_g * g / denom;
                *p += coef_m * *m / denom;
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("nadam", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[("mu_product", 1.0)]);
    }
}
