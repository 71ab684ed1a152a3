//! PyTorch's `ExponentialLR`: decay by `gamma` every step.

use super::{Memo, Schedule};

/// `lr = lr_{e−1}·gamma` for `e ≥ 1`: repeated multiplication, as PyTorch, not `gamma^e`.
#[derive(Clone, Debug)]
pub struct Exponential {
    base_lr: f64,
    gamma: f64,
    memo: Memo,
}

impl Exponential {
    /// PyTorch's `ExponentialLR(gamma)` over `base_lr`.
    pub fn new(base_lr: f64, gamma: f64) -> Self {
        Self {
            base_lr,
            gamma,
            memo: Memo::default(),
        }
    }
}

impl Schedule for Exponential {
    fn lr(&self, step: u64) -> f64 {
        let gamma = self.gamma;
        self.memo.eval(step, self.base_lr, |_, lr| lr * gamma)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        check_lr_sequence(&Exponential::new(2.0, 0.5), &[2.0, 1.0, 0.5, 0.25]);
        // The public PyTorch case: 0.1·0.95·0.95 by repeated multiplication.
        assert_eq!(Exponential::new(0.1, 0.95).lr(2), 0.1 * 0.95 * 0.95);
    }
}
