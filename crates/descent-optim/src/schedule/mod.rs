//! Learning-rate schedules: pure functions of the step (PyTorch's `lr_scheduler` and
//! scikit-learn's SGD rules), and the metric-driven reduce-on-plateau.
//!
//! Step `e` is PyTorch's `last_epoch`: `lr(0)` is the learning rate of the first
//! optimizer step. Where PyTorch computes a schedule recursively from the previous value,
//! so does `lr`, in the same operation order, so that the values agree bit for bit; the
//! last value is cached, so stepping through `0, 1, 2, ...` costs O(1) a step.

mod constant;
mod constant_factor;
mod cosine;
mod cosine_restarts;
mod cyclic;
mod exponential;
mod inverse_scaling;
mod linear;
mod multi_step;
mod one_cycle;
mod optimal;
mod plateau;
mod polynomial;
mod sequential;
mod step;

use std::fmt::Debug;
use std::sync::Mutex;

pub use constant::Constant;
pub use constant_factor::ConstantFactor;
pub use cosine::CosineAnnealing;
pub use cosine_restarts::CosineWarmRestarts;
pub use cyclic::{Cyclic, CyclicMode, ScaleMode};
pub use exponential::Exponential;
pub use inverse_scaling::InverseScaling;
pub use linear::Linear;
pub use multi_step::MultiStep;
pub use one_cycle::{AnnealStrategy, OneCycle};
pub use optimal::Optimal;
pub use plateau::{PlateauMode, ReduceOnPlateau, ThresholdMode};
pub use polynomial::Polynomial;
pub use sequential::Sequential;
pub use step::Step;

/// A learning rate as a pure function of the step.
///
/// # Example
///
/// ```
/// use descent_optim::schedule::{CosineAnnealing, Schedule};
///
/// let cosine = CosineAnnealing::new(0.1, 10, 0.0);
/// assert_eq!(cosine.lr(0), 0.1);
/// assert!(cosine.lr(10) < 1e-15); // eta_min at T_max
/// assert!((cosine.lr(5) - 0.05).abs() < 1e-15);
/// ```
pub trait Schedule: Debug + Send + Sync {
    /// The learning rate at step `step` (0 for the first optimizer step).
    fn lr(&self, step: u64) -> f64;

    /// The momentum (or Adam's β₁) the schedule sets at `step`, for the schedules that
    /// cycle it (one-cycle, cyclic); `None` for the others.
    fn momentum(&self, _step: u64) -> Option<f64> {
        None
    }
}

/// A built schedule: a pure one or the metric-driven reduce-on-plateau.
#[derive(Debug)]
pub enum Scheduler {
    /// A pure function of the step.
    Pure(Box<dyn Schedule>),
    /// Reduce-on-plateau, driven by the metrics it is told.
    Plateau(ReduceOnPlateau),
}

impl Scheduler {
    /// The learning rate at `step` (for plateau: the current one).
    pub fn lr(&self, step: u64) -> f64 {
        match self {
            Scheduler::Pure(s) => s.lr(step),
            Scheduler::Plateau(p) => p.lr(),
        }
    }

    /// The momentum at `step`, for the schedules that cycle it.
    pub fn momentum(&self, step: u64) -> Option<f64> {
        match self {
            Scheduler::Pure(s) => s.momentum(step),
            Scheduler::Plateau(_) => None,
        }
    }

    /// Tells the schedule a metric (the epoch's validation loss, say); only
    /// reduce-on-plateau listens.
    pub fn observe(&mut self, metric: f64) {
        if let Scheduler::Plateau(p) = self {
            p.step(metric);
        }
    }
}

/// The cache of a recursive schedule: the last step evaluated and its value.
#[derive(Debug, Default)]
pub(crate) struct Memo(Mutex<Option<(u64, f64)>>);

impl Clone for Memo {
    fn clone(&self) -> Self {
        Memo(Mutex::new(
            *self.0.lock().unwrap_or_else(|e| e.into_inner()),
        ))
    }
}

impl Memo {
    /// `lr(step)` of the recurrence `lr(0) = initial`, `lr(e) = next(e, lr(e − 1))`,
    /// resuming from the cached step when it lies at or before `step`.
    pub(crate) fn eval(&self, step: u64, initial: f64, next: impl Fn(u64, f64) -> f64) -> f64 {
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (mut e, mut lr) = match *cache {
            Some((e, lr)) if e <= step => (e, lr),
            _ => (0, initial),
        };
        while e < step {
            e += 1;
            lr = next(e, lr);
        }
        *cache = Some((e, lr));
        lr
    }
}

/// Asserts that `schedule` gives `expected` at steps 0, 1, 2, ... within 1e-12
/// relative (and, evaluated backwards, the same values: the cache must not leak).
#[cfg(test)]
pub(crate) fn check_lr_sequence(schedule: &dyn Schedule, expected: &[f64]) {
    for (step, &want) in expected.iter().enumerate() {
        let got = schedule.lr(step as u64);
        assert!(
            (got - want).abs() <= 1e-12 * want.abs().max(1e-300),
            "step {step}: got {got}, want {want}"
        );
    }
    for (step, &want) in expected.iter().enumerate().rev() {
        assert_eq!(schedule.lr(step as u64), schedule.lr(step as u64));
        assert!((schedule.lr(step as u64) - want).abs() <= 1e-12 * want.abs().max(1e-300));
    }
}
