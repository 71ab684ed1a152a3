//! Inverse scaling (scikit-learn's `invscaling`): `eta0 / t^power_t`.

use super::Schedule;

/// `lr(e) = eta0 / t^power_t` with `t = e + 1` (scikit-learn's sample counter, which
/// starts at 1), so `lr(0) = eta0`. `power_t = 1` is the classic inverse-time decay.
#[derive(Clone, Debug, PartialEq)]
pub struct InverseScaling {
    /// The initial learning rate.
    pub eta0: f64,
    /// The exponent (scikit-learn's default 0.25).
    pub power_t: f64,
}

impl InverseScaling {
    /// scikit-learn's `learning_rate="invscaling"`.
    pub fn new(eta0: f64, power_t: f64) -> Self {
        Self { eta0, power_t }
    }
}

impl Schedule for InverseScaling {
    fn lr(&self, step: u64) -> f64 {
        self.eta0 / ((step + 1) as f64).powf(self.power_t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        check_lr_sequence(&InverseScaling::new(1.0, 1.0), &[1.0, 0.5, 1.0 / 3.0, 0.25]);
        // scikit-learn: eta0 = 0.01, power_t = 0.25 gives 0.005 at t = 16.
        assert_eq!(InverseScaling::new(0.01, 0.25).lr(15), 0.005);
    }
}
