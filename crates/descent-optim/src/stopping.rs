//! Stopping rules: a step budget, a small gradient, a stalled loss, or divergence.

use serde::{Deserialize, Serialize};

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum StopReason {
    /// The step budget is spent.
    MaxSteps {
        /// The step that reached it.
        step: u64,
    },
    /// The gradient norm fell to the tolerance or below.
    GradientSmall {
        /// The step at which it did.
        step: u64,
        /// The gradient norm there.
        grad_norm: f64,
    },
    /// The loss changed by less than the tolerance for `patience` consecutive steps.
    LossStalled {
        /// The step at which the run stopped.
        step: u64,
        /// The last absolute loss change.
        change: f64,
    },
    /// The loss became non-finite or exceeded the divergence threshold.
    Diverged {
        /// The step at which it did.
        step: u64,
        /// The loss there (possibly NaN or infinite).
        loss: f64,
    },
}

impl StopReason {
    /// Whether the run diverged.
    pub fn diverged(&self) -> bool {
        matches!(self, StopReason::Diverged { .. })
    }
}

/// When to stop a run; every rule is optional. Checked after every step, divergence
/// first, then the gradient, the loss change and the budget.
///
/// In a configuration file:
/// `stopping = { max_steps = 1000, grad_tol = 1e-6, loss_tol = 1e-12, patience = 5 }`.
///
/// ```
/// use descent_optim::{StopReason, StoppingRules};
///
/// let mut rules = StoppingRules::default().with_max_steps(100).with_grad_tol(1e-3);
/// assert_eq!(rules.check(1, 10.0, 1.0), None);
/// assert_eq!(rules.check(2, 9.0, 1e-4), Some(StopReason::GradientSmall { step: 2, grad_norm: 1e-4 }));
/// assert!(rules.check(3, f64::NAN, 1.0).unwrap().diverged());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoppingRules {
    /// Stop after this many steps.
    pub max_steps: Option<u64>,
    /// Stop when the gradient norm is at most this.
    pub grad_tol: Option<f64>,
    /// Stop when `|loss − previous loss|` is below this for `patience` consecutive steps.
    pub loss_tol: Option<f64>,
    /// Consecutive small loss changes needed by `loss_tol` (default 1).
    pub patience: u32,
    /// Diverged when the loss exceeds `divergence_factor × the first loss seen`
    /// (default 1e6; a non-finite loss always counts as divergence).
    pub divergence_factor: Option<f64>,
    #[serde(skip)]
    previous_loss: Option<f64>,
    #[serde(skip)]
    first_loss: Option<f64>,
    #[serde(skip)]
    stalled: u32,
}

impl Default for StoppingRules {
    fn default() -> Self {
        Self {
            max_steps: None,
            grad_tol: None,
            loss_tol: None,
            patience: 1,
            divergence_factor: Some(1e6),
            previous_loss: None,
            first_loss: None,
            stalled: 0,
        }
    }
}

impl StoppingRules {
    /// Stops after `max_steps` steps.
    pub fn with_max_steps(mut self, max_steps: u64) -> Self {
        self.max_steps = Some(max_steps);
        self
    }

    /// Stops when the gradient norm is at most `tol`.
    pub fn with_grad_tol(mut self, tol: f64) -> Self {
        self.grad_tol = Some(tol);
        self
    }

    /// Stops when the loss changes by less than `tol` for `patience` consecutive steps.
    pub fn with_loss_tol(mut self, tol: f64, patience: u32) -> Self {
        self.loss_tol = Some(tol);
        self.patience = patience;
        self
    }

    /// Sets (or, with `None`, removes) the divergence factor.
    pub fn with_divergence_factor(mut self, factor: Option<f64>) -> Self {
        self.divergence_factor = factor;
        self
    }

    /// The budget in steps for `epochs` epochs of `steps_per_epoch` steps each.
    pub fn with_epochs(mut self, epochs: u64, steps_per_epoch: u64) -> Self {
        self.max_steps = Some(epochs * steps_per_epoch);
        self
    }

    /// Records the loss and gradient norm seen at `step` (1-based: the step just taken)
    /// and says whether to stop.
    pub fn check(&mut self, step: u64, loss: f64, grad_norm: f64) -> Option<StopReason> {
        let first = *self.first_loss.get_or_insert(loss.abs());
        let exploded = self
            .divergence_factor
            .is_some_and(|f| loss.abs() > f * first.max(1.0));
        if !loss.is_finite() || !grad_norm.is_finite() || exploded {
            return Some(StopReason::Diverged { step, loss });
        }
        if self.grad_tol.is_some_and(|tol| grad_norm <= tol) {
            return Some(StopReason::GradientSmall { step, grad_norm });
        }
        if let (Some(tol), Some(previous)) = (self.loss_tol, self.previous_loss) {
            let change = (loss - previous).abs();
            self.stalled = if change < tol { self.stalled + 1 } else { 0 };
            if self.stalled >= self.patience.max(1) {
                self.previous_loss = Some(loss);
                return Some(StopReason::LossStalled { step, change });
            }
        }
        self.previous_loss = Some(loss);
        if self.max_steps.is_some_and(|max| step >= max) {
            return Some(StopReason::MaxSteps { step });
        }
        None
    }

    /// Forgets the losses seen, for a new run with the same rules.
    pub fn reset(&mut self) {
        self.previous_loss = None;
        self.first_loss = None;
        self.stalled = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_steps_stops_at_the_budget() {
        let mut rules = StoppingRules::default().with_epochs(2, 3);
        for step in 1..6 {
            assert_eq!(rules.check(step, 1.0 / step as f64, 1.0), None);
        }
        assert_eq!(
            rules.check(6, 0.1, 1.0),
            Some(StopReason::MaxSteps { step: 6 })
        );
    }

    #[test]
    fn loss_change_needs_patience_consecutive_small_changes() {
        let mut rules = StoppingRules {
            loss_tol: Some(1e-3),
            patience: 2,
            ..Default::default()
        };
        assert_eq!(rules.check(1, 1.0, 1.0), None);
        assert_eq!(rules.check(2, 0.9995, 1.0), None); // one small change
        assert_eq!(rules.check(3, 0.5, 1.0), None); // a big one resets the count
        assert_eq!(rules.check(4, 0.4999, 1.0), None);
        let stop = rules.check(5, 0.4998, 1.0).unwrap();
        assert!(matches!(stop, StopReason::LossStalled { step: 5, .. }));
    }

    #[test]
    fn divergence_on_non_finite_or_exploding_loss() {
        let mut rules = StoppingRules::default();
        assert_eq!(rules.check(1, 2.0, 1.0), None);
        assert_eq!(
            rules.check(2, 3e6, 1.0),
            Some(StopReason::Diverged { step: 2, loss: 3e6 })
        );
        let mut rules = StoppingRules::default();
        assert!(rules.check(1, f64::INFINITY, 1.0).unwrap().diverged());
        let mut rules = StoppingRules {
            divergence_factor: None,
            ..Default::default()
        };
        assert_eq!(rules.check(1, 1.0, 1.0), None);
        assert_eq!(rules.check(2, 1e300, 1.0), None);
        assert!(rules.check(3, f64::NAN, 1.0).unwrap().diverged());
    }

    #[test]
    fn gradient_tolerance() {
        let mut rules = StoppingRules {
            grad_tol: Some(1e-6),
            ..Default::default()
        };
        assert_eq!(rules.check(1, 1.0, 1e-5), None);
        assert_eq!(
            rules.check(2, 1.0, 1e-6),
            Some(StopReason::GradientSmall {
                step: 2,
                grad_norm: 1e-6
            })
        );
    }

    #[test]
    fn rules_read_from_toml_and_reject_unknown_fields() {
        let rules: StoppingRules = toml::from_str("max_steps = 10\ngrad_tol = 1e-6").unwrap();
        assert_eq!(rules.max_steps, Some(10));
        assert_eq!(rules.patience, 1);
        let err = toml::from_str::<StoppingRules>("max_step = 10").unwrap_err();
        assert!(
            err.message()
                .starts_with("unknown field `max_step`, expected one of `max_steps`"),
            "{err}"
        );
    }
}
