//! scikit-learn's `optimal` learning rate: `1 / (alpha·(t0 + t − 1))` with Bottou's `t0`.

use super::Schedule;

/// scikit-learn's `learning_rate="optimal"` (Bottou's heuristic, from
/// `sklearn/linear_model/_sgd_fast.pyx.tp`): `typw = sqrt(1/sqrt(alpha))`,
/// `eta0 = typw` (the value for every built-in loss), `t0 = 1/(eta0·alpha)` and
/// `lr = 1/(alpha·(t0 + t − 1))` with `t = e + 1`, so `lr(0) = eta0`.
#[derive(Clone, Debug, PartialEq)]
pub struct Optimal {
    /// The regularisation strength.
    pub alpha: f64,
    /// The offset t0 derived from `alpha`.
    pub t0: f64,
}

impl Optimal {
    /// The `optimal` schedule for regularisation strength `alpha` (> 0).
    pub fn new(alpha: f64) -> Self {
        let typw = (1.0 / alpha.sqrt()).sqrt();
        // typw / max(1, dloss(1, -typw)): the derivative is <= 1 for every built-in loss.
        let initial_eta0 = typw;
        Self {
            alpha,
            t0: 1.0 / (initial_eta0 * alpha),
        }
    }
}

impl Schedule for Optimal {
    fn lr(&self, step: u64) -> f64 {
        let t = (step + 1) as f64;
        1.0 / (self.alpha * (self.t0 + t - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        // alpha = 1e-4: typw = 10, t0 = 1000 (scikit-learn's values).
        let s = Optimal::new(1e-4);
        assert_eq!(s.t0, 1000.0);
        check_lr_sequence(&s, &[10.0, 9.99000999000999, 9.98003992015968]);
    }
}
