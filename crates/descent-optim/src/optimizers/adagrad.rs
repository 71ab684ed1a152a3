//! Adagrad: per-coordinate learning rates from the sum of squared gradients.

use descent_autodiff::Float;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

use super::fused::fused1;
use serde::{Deserialize, Serialize};

use crate::optimizer::check_range;
use crate::{OptimError, Optimizer, OptimizerState};

/// Adagrad's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdagradConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-2).
    pub lr: f64,
    /// Learning-rate decay: the step size is `lr / (1 + (t − 1)·lr_decay)` (default 0).
    pub lr_decay: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// The value the sum of squares starts at (default 0).
    pub initial_accumulator_value: f64,
    /// Added to the square root of the sum, for stability (default 1e-10).
    pub eps: f64,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdagradConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            lr_decay: 0.0,
            weight_decay: 0.0,
            initial_accumulator_value: 0.0,
            eps: 1e-10,
            maximize: false,
        }
    }
}

impl AdagradConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("adagrad", "lr", self.lr, self.lr >= 0.0, "must be >= 0")?;
        check_range(
            "adagrad",
            "lr_decay",
            self.lr_decay,
            self.lr_decay >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "adagrad",
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "adagrad",
            "initial_accumulator_value",
            self.initial_accumulator_value,
            self.initial_accumulator_value >= 0.0,
            "must be >= 0",
        )?;
        check_range("adagrad", "eps", self.eps, self.eps >= 0.0, "must be >= 0")
    }
}

/// Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient Methods for Online Learning and
/// Stochastic Optimization", JMLR 12, 2011), with PyTorch's `torch.optim.Adagrad`
/// arithmetic:
///
/// ```text
/// g = g + weight_decay·p
/// clr = lr / (1 + (t − 1)·lr_decay)
/// sum = sum + g·g                      (sum starts at initial_accumulator_value)
/// p = p − clr·g / (sqrt(sum) + eps)
/// ```
#[derive(Clone, Debug)]
pub struct Adagrad<T: Float> {
    config: AdagradConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Adagrad<T> {
    /// An Adagrad optimizer with these hyperparameters and no state yet.
    pub fn new(config: AdagradConfig) -> Self {
        Self {
            state: OptimizerState::new("adagrad", &["sum"]),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdagradConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adagrad<T> {
    fn name(&self) -> &'static str {
        "adagrad"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        let init = T::of(self.config.initial_accumulator_value);
        self.state.prepare("adagrad", params, grads, |_, shape| {
            ArrayD::from_elem(IxDyn(shape), init)
        })?;
        self.state.step += 1;
        let c = &self.config;
        let clr = learning_rate.as_f64() / (1.0 + (self.state.step - 1) as f64 * c.lr_decay);
        let neg_clr = T::of(-clr);
        let (wd, decay) = (T::of(c.weight_decay), c.weight_decay != 0.0);
        let eps = T::of(c.eps);
        let sign = if c.maximize { -T::one() } else { T::one() };
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let sum = &mut self.state.params[i][0];
            fused1(p, g, sum, |p, g, sum| {
                let g = sign * g;
                let g = if decay { g + wd * *p } else { g };
                *sum += g * g;
                *p += neg_clr * g / (sum.sqrt() + eps);
            });
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("adagrad", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
