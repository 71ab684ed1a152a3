//! Gradient descent with a backtracking (Armijo) line search.

use descent_autodiff::Float;
use ndarray::{ArrayViewD, ArrayViewMutD};
use serde::{Deserialize, Serialize};

use super::flat::{FlatObjective, dot, gather, scatter};
use crate::OptimError;
use crate::optimizer::check_range;

/// The backtracking line search's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BacktrackingConfig {
    /// The first step length tried at every step (default 1).
    pub lr: f64,
    /// The factor a rejected step length is multiplied by, in (0, 1) (default 0.5).
    pub shrink: f64,
    /// The sufficient-decrease constant of the Armijo condition, in (0, 1) (default 1e-4).
    pub c1: f64,
    /// The most step lengths tried per step (default 50).
    pub max_evals: usize,
}

impl Default for BacktrackingConfig {
    fn default() -> Self {
        Self {
            lr: 1.0,
            shrink: 0.5,
            c1: 1e-4,
            max_evals: 50,
        }
    }
}

impl BacktrackingConfig {
    /// Checks every parameter's range.
    ///
    /// # Errors
    ///
    /// [`OptimError::InvalidHyperparameter`] naming the first one out of range.
    pub fn validate(&self) -> Result<(), OptimError> {
        check_range("backtracking", "lr", self.lr, self.lr > 0.0, "must be > 0")?;
        check_range(
            "backtracking",
            "shrink",
            self.shrink,
            self.shrink > 0.0 && self.shrink < 1.0,
            "must be in (0, 1)",
        )?;
        check_range(
            "backtracking",
            "c1",
            self.c1,
            self.c1 > 0.0 && self.c1 < 1.0,
            "must be in (0, 1)",
        )?;
        check_range(
            "backtracking",
            "max_evals",
            self.max_evals as f64,
            self.max_evals > 0,
            "must be > 0",
        )
    }
}

/// What one backtracking step did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BacktrackingStep<T> {
    /// The loss before the step.
    pub loss: T,
    /// The loss after the step (equal to `loss` when no step length was accepted).
    pub new_loss: T,
    /// The accepted step length (0 when none satisfied the Armijo condition).
    pub step_length: T,
    /// Objective evaluations made, the first one included.
    pub evaluations: usize,
}

/// Gradient descent with a backtracking line search (Armijo, "Minimization of functions
/// having Lipschitz continuous first partial derivatives", Pacific J. Math. 16, 1966;
/// Nocedal & Wright, "Numerical Optimization", algorithm 3.1): from `x` with gradient `g`,
/// try `t = lr, lr·shrink, lr·shrink², ...` until
/// `f(x − t·g) <= f(x) − c1·t·g·g`, then move there.
#[derive(Clone, Debug)]
pub struct Backtracking<T: Float> {
    config: BacktrackingConfig,
    x: Vec<T>,
    trial: Vec<T>,
    grad: Vec<T>,
    trial_grad: Vec<T>,
}

impl<T: Float> Backtracking<T> {
    /// A backtracking gradient descent with these parameters.
    pub fn new(config: BacktrackingConfig) -> Self {
        Self {
            config,
            x: Vec::new(),
            trial: Vec::new(),
            grad: Vec::new(),
            trial_grad: Vec::new(),
        }
    }

    /// The parameters.
    pub fn config(&self) -> &BacktrackingConfig {
        &self.config
    }

    /// One step on parameter arrays; `objective(params, grads)` returns the loss and writes
    /// its gradient into `grads`. The parameters are left unchanged when no step length
    /// satisfied the Armijo condition.
    pub fn step<F>(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        objective: F,
    ) -> BacktrackingStep<T>
    where
        F: FnMut(&[ArrayViewD<'_, T>], &mut [ArrayViewMutD<'_, T>]) -> T,
    {
        let mut x = std::mem::take(&mut self.x);
        gather(params, &mut x);
        let mut flat = FlatObjective::new(params, objective);
        let result = self.step_flat(&mut x, |x, g| flat.eval(x, g));
        scatter(&x, flat.params);
        self.x = x;
        result
    }

    /// One step on a flat vector; `objective(x, grad)` returns f(x) and writes ∇f(x).
    pub fn step_flat<F>(&mut self, x: &mut [T], mut objective: F) -> BacktrackingStep<T>
    where
        F: FnMut(&[T], &mut [T]) -> T,
    {
        let n = x.len();
        self.grad.resize(n, T::zero());
        self.trial.resize(n, T::zero());
        self.trial_grad.resize(n, T::zero());
        let loss = objective(x, &mut self.grad);
        let slope = dot(&self.grad, &self.grad);
        let (c1, shrink) = (T::of(self.config.c1), T::of(self.config.shrink));
        let mut t = T::of(self.config.lr);
        for evaluations in 2..=self.config.max_evals + 1 {
            for ((trial, &x), &g) in self.trial.iter_mut().zip(x.iter()).zip(&self.grad) {
                *trial = x - t * g;
            }
            let new_loss = objective(&self.trial, &mut self.trial_grad);
            if new_loss <= loss - c1 * t * slope {
                x.copy_from_slice(&self.trial);
                return BacktrackingStep {
                    loss,
                    new_loss,
                    step_length: t,
                    evaluations,
                };
            }
            t *= shrink;
        }
        BacktrackingStep {
            loss,
            new_loss: loss,
            step_length: T::zero(),
            evaluations: self.config.max_evals + 1,
        }
    }
}
