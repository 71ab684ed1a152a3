//! Adam: bias-corrected first and second moment estimates, with AMSGrad and both kinds of
//! weight decay.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};

use super::division::FixedDivisor;
use super::fused::{fused2, fused3};
use serde::{Deserialize, Serialize};

use crate::optimizer::{check_range, lerp, zeros};
use crate::{OptimError, Optimizer, OptimizerState};

/// Adam's hyperparameters, with PyTorch's names and defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// The base learning rate a runner feeds through its schedule (default 1e-3).
    pub lr: f64,
    /// Decay rates of the first and second moments (default [0.9, 0.999]).
    pub betas: [f64; 2],
    /// Added to the bias-corrected root of the second moment (default 1e-8).
    pub eps: f64,
    /// Weight decay (default 0): L2 on the gradient, or decoupled when
    /// `decoupled_weight_decay` is set.
    pub weight_decay: f64,
    /// Use the running maximum of the second moment (AMSGrad, default false).
    pub amsgrad: bool,
    /// Shrink the parameters directly, as AdamW does (default false).
    pub decoupled_weight_decay: bool,
    /// Ascend instead of descend (default false).
    pub maximize: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            betas: [0.9, 0.999],
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            decoupled_weight_decay: false,
            maximize: false,
        }
    }
}

impl AdamConfig {
    /// Checks every hyperparameter's range, as PyTorch's constructor does.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        validate_adam_like("adam", self.lr, self.betas, self.eps, self.weight_decay)
    }
}

/// The range checks shared by the Adam family.
pub(crate) fn validate_adam_like(
    item: &'static str,
    lr: f64,
    betas: [f64; 2],
    eps: f64,
    weight_decay: f64,
) -> Result<(), OptimError> {
    check_range(item, "lr", lr, lr >= 0.0, "must be >= 0")?;
    check_range(item, "eps", eps, eps >= 0.0, "must be >= 0")?;
    check_range(
        item,
        "betas[0]",
        betas[0],
        (0.0..1.0).contains(&betas[0]),
        "must be in [0, 1)",
    )?;
    check_range(
        item,
        "betas[1]",
        betas[1],
        (0.0..1.0).contains(&betas[1]),
        "must be in [0, 1)",
    )?;
    check_range(
        item,
        "weight_decay",
        weight_decay,
        weight_decay >= 0.0,
        "must be >= 0",
    )
}

/// Adam (Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015), with
/// AMSGrad (Reddi, Kale & Kumar, "On the Convergence of Adam and Beyond", ICLR 2018) and
/// decoupled weight decay (Loshchilov & Hutter, "Decoupled Weight Decay
/// Regularization", ICLR 2019), with PyTorch's `torch.optim.Adam` arithmetic:
///
/// ```text
/// decoupled ? p = p·(1 − lr·weight_decay) : g = g + weight_decay·p
/// m = lerp(m, g, 1 − b1);  v = b2·v + (1 − b2)·g·g
/// vv = amsgrad ? (vmax = max(vmax, v)) : v
/// p = p − (lr / (1 − b1^t))·m / (sqrt(vv) / sqrt(1 − b2^t) + eps)
/// ```
///
/// # Example
///
/// ```
/// use descent_optim::{Adam, AdamConfig, Optimizer};
/// use ndarray::{ArrayD, IxDyn};
///
/// let mut p = ArrayD::from_elem(IxDyn(&[2]), 1.0_f32);
/// let g = ArrayD::from_elem(IxDyn(&[2]), 0.5_f32);
/// let mut adam = Adam::new(AdamConfig { amsgrad: true, ..AdamConfig::default() });
/// adam.step(&mut [p.view_mut()], &[g.view()], 0.1).unwrap();
/// // The first Adam step moves every coordinate by about lr, whatever the gradient's scale.
/// assert!((p[0] - 0.9).abs() < 1e-6);
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T: Float> {
    name: &'static str,
    config: AdamConfig,
    state: OptimizerState<T>,
}

impl<T: Float> Adam<T> {
    /// An Adam optimizer with these hyperparameters and no state yet.
    pub fn new(config: AdamConfig) -> Self {
        Self::named("adam", config)
    }

    pub(crate) fn named(name: &'static str, config: AdamConfig) -> Self {
        let buffers: &[&str] = if config.amsgrad {
            &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        } else {
            &["exp_avg", "exp_avg_sq"]
        };
        Self {
            name,
            state: OptimizerState::new(name, buffers),
            config,
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }
}

impl<T: Float> Optimizer<T> for Adam<T> {
    fn name(&self) -> &'static str {
        self.name
    }

    fn step(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        learning_rate: T,
    ) -> Result<(), OptimError> {
        self.state
            .prepare(self.name, params, grads, |_, shape| zeros(shape))?;
        self.state.step += 1;
        let c = &self.config;
        let t = self.state.step as f64;
        let lr = learning_rate.as_f64();
        let [b1, b2] = c.betas;
        let decay = c.weight_decay != 0.0;
        let rule = Rule {
            neg_step: T::of(-lr / (1.0 - b1.powf(t))),
            one_minus_b1: T::of(1.0 - b1),
            beta2: T::of(b2),
            one_minus_b2: T::of(1.0 - b2),
            eps: T::of(c.eps),
            sign: if c.maximize { -T::one() } else { T::one() },
            decoupled: decay && c.decoupled_weight_decay,
            coupled: decay && !c.decoupled_weight_decay,
            l2: T::of(c.weight_decay),
            wd: T::of(1.0 - lr * c.weight_decay),
        };
        let bc2_sqrt = T::of((1.0 - b2.powf(t)).sqrt());
        let state = &mut self.state.params;
        match FixedDivisor::new(bc2_sqrt) {
            Some(by) => rule.apply(params, grads, state, move |x| by.divide(x)),
            None => rule.apply(params, grads, state, move |x| x / bc2_sqrt),
        }
        Ok(())
    }

    fn state(&self) -> &OptimizerState<T> {
        &self.state
    }

    fn load_state(&mut self, state: OptimizerState<T>) -> Result<(), OptimError> {
        self.state.replace(self.name, state)
    }

    fn reset(&mut self) {
        self.state.clear(&[]);
    }
}

/// The numbers of one Adam step.
#[derive(Clone, Copy)]
struct Rule<T> {
    neg_step: T,
    one_minus_b1: T,
    beta2: T,
    one_minus_b2: T,
    eps: T,
    sign: T,
    decoupled: bool,
    coupled: bool,
    l2: T,
    wd: T,
}

impl<T: Float> Rule<T> {
    /// The gradient after the sign and coupled weight decay; decoupled decay shrinks
    /// `p` itself.
    #[inline(always)]
    fn prep(self, p: &mut T, g: T) -> T {
        let g = self.sign * g;
        if self.decoupled {
            *p *= self.wd;
        }
        if self.coupled { g + self.l2 * *p } else { g }
    }

    /// Updates every parameter and its moments, with `divide(x) = x / sqrt(1 − β₂ᵗ)`
    /// (a closure, so that each way of dividing gets a loop of its own).
    fn apply(
        self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
        state: &mut [Vec<ndarray::ArrayD<T>>],
        divide: impl Fn(T) -> T + Copy + Sync,
    ) {
        for ((p, g), buffers) in params.iter_mut().zip(grads).zip(state) {
            match buffers.as_mut_slice() {
                [m, v] => fused2(p, g, m, v, |p, g, m, v| {
                    let g = self.prep(p, g);
                    *m = lerp(*m, g, self.one_minus_b1);
                    *v = *v * self.beta2 + self.one_minus_b2 * g * g;
                    let denom = divide(v.sqrt()) + self.eps;
                    *p += self.neg_step * *m / denom;
                }),
                [m, v, vmax] => fused3(p, g, m, v, vmax, |p, g, m, v, vmax| {
                    let g = self.prep(p, g);
                    *m = lerp(*m, g, self.one_minus_b1);
                    *v = *v * self.beta2 + self.one_minus_b2 * g * g;
                    *vmax = vmax.max(*v);
                    let denom = divide(vmax.sqrt()) + self.eps;
                    *p += self.neg_step * *m / denom;
                }),
                _ => unreachable!("the buffers are created from the same configuration"),
            }
        }
    }
}
