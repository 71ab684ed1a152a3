//! RMSprop: gradients scaled by a running root mean square, optionally centred and with momentum.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::fused::{fused1, fused2, fused3};
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, lerp, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// RMSprop's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RmspropConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-2).
    pub lr: f64,
    /// Smoothing constant of the mean square (default 0.99).
    pub alpha: f64,
    /// Added to the root mean square, outside the square root (default 1e-8).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Normalise by the variance (mean square minus squared mean) instead (default false).
    pub centered: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for RmspropConfig {
    fn default() -> Self {
        Self {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
            maximize: false,
        }
    }
}

impl RmspropConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("rmsprop", "lr", self.lr, self.lr >= 0.0, "must be >= 0")?;
        check_range("rmsprop", "eps", self.eps, self.eps >= 0.0, "must be >= 0")?;
        check_range(
            "rmsprop",
            "momentum",
            self.momentum,
            self.momentum >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "rmsprop",
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "must be >= 0",
        )?;
        check_range(
            "rmsprop",
            "alpha",
            self.alpha,
            self.alpha >= 0.0,
            "must be >= 0",
        )
    }

    fn buffers(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["square_avg"],
            (true, false) => &["square_avg", "momentum_buffer"],
            (false, true) => &["square_avg", "grad_avg"],
            (true, true) => &["square_avg", "momentum_buffer", "grad_avg"],
        }
    }
}

/// RMSprop (Tieleman & Hinton, "Lecture 6.5 — RMSProp", COURSERA: Neural Networks for
/// Machine Learning, 2012; centred form from Graves, "Generating Sequences With Recurrent
/// Neural Networks", arXiv:1308.0850, 2013), with PyTorch's `torch.optim.RMSprop`
/// arithmetic:
///
/// ```text
/// g = g + weight_decay·p
/// v = alpha·v + (1 − alpha)·g·g
/// avg = centered ? sqrt(v − ga·ga) + eps, ga = lerp(ga, g, 1 − alpha) : sqrt(v) + eps
/// momentum > 0 ? (buf = momentum·buf + g/avg; p = p − lr·buf) : p = p − lr·g/avg
/// ```
#[derive(Clone, Debug)]
pub struct Rmsprop<T: Float> {
    config: RmspropConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Rmsprop<T> {
    /// An RMSprop optimizer with these hyperparameters and no state yet.
    pub fn new(config: RmspropConfig) -> Self {
        Self {
            state: OptimizerState::new("rmsprop", config.buffers()),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &RmspropConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Rmsprop<T> {
    fn name(&self) -> &'static str {
        "rmsprop"
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare("rmsprop", params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let (wd, decay) = (T::of(c.weight_decay), c.weight_decay != 0.0);
        let sign = if c.maximize { -T::one() } else { T::one() };
        let alpha = T::of(c.alpha);
        let one_minus_alpha = T::of(1.0 - c.alpha);
        let eps = T::of(c.eps);
        let momentum = T::of(c.momentum);
        let neg_lr = -learning_rate;
        let prep = move |p: T, g: T| {
            let g = sign * g;
            if decay { g + wd * p } else { g }
        };
        for (i, (p, g)) in params.iter_mut().zip(grads).enumerate() {
            let bufs = self.state.params[i].as_mut_slice();
            match (c.momentum > 0.0, c.centered, bufs) {
                (false, false, [v]) => fused1(p, g, v, |p, g, v| {
                    let g = prep(*p, g);
                    *v = *v * alpha + one_minus_alpha * g * g;
                    let avg = v.sqrt() + eps;
                    *p += neg_lr * g / avg;
                }),
                (true, false, [v, buf]) => fused2(p, g, v, buf, |p, g, v, buf| {
                    let g = prep(*p, g);
                    *v = *v * alpha + one_minus_alpha * g * g;
                    let avg = v.sqrt() + eps;
                    *buf = *buf * momentum + g / avg;
                    *p += neg_lr * *buf;
                }),
                (false, true, [v, ga]) => fused2(p, g, v, ga, |p, g, v, ga| {
                    let g = prep(*p, g);
                    *v = *v * alpha + one_minus_alpha * g * g;
                    *ga = lerp(*ga, g, one_minus_alpha);
                    let avg = (*v - *ga * *ga).sqrt() + eps;
                    *p += neg_lr * g / avg;
                }),
                (true, true, [v, buf, ga]) => fused3(p, g, v, buf, ga, |p, g, v, buf, ga| {
                    let g = prep(*p, g);
                    *v = *v * alpha + one_minus_alpha * g * g;
                    *ga = lerp(*ga, g, one_minus_alpha);
                    let avg = (*v - *ga * *ga).sqrt() + eps;
                    *buf = *buf * momentum + g / avg;
                    *p += neg_lr * *buf;
                }),
                _ => unreachable!("the buffers are created from the same configuration"),
            }
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace("rmsprop", state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}
