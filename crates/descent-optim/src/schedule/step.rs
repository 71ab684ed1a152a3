//! PyTorch's `StepLR`: decay by `gamma` every `step_size` steps.

use super::{Memo, Schedule};

/// `lr = lr_{e−1}·gamma` when `e > 0` and `e % step_size == 0`, else unchanged.
#[derive(Clone, Debug)]
pub struct Step {
    base_lr: f64,
    step_size: u64,
    gamma: f64,
    memo: Memo,
}

impl Step {
    /// PyTorch's `StepLR(step_size, gamma)` over `base_lr`; `step_size` must be at least 1.
    pub fn new(base_lr: f64, step_size: u64, gamma: f64) -> Self {
        Self {
            base_lr,
            step_size: step_size.max(1),
            gamma,
            memo: Memo::default(),
        }
    }
}

impl Schedule for Step {
    fn lr(&self, step: u64) -> f64 {
        let (size, gamma) = (self.step_size, self.gamma);
        self.memo.eval(step, self.base_lr, |e, lr| {
            if e % size == 0 { lr * gamma } else { lr }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        check_lr_sequence(
            &Step::new(1.0, 2, 0.5),
            &[1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125],
        );
        // PyTorch's StepLR(step_size=30, gamma=0.1) from 0.1: repeated multiplication.
        let s = Step::new(0.1, 30, 0.1);
        assert_eq!(s.lr(29), 0.1);
        assert_eq!(s.lr(30), 0.1 * 0.1);
        assert_eq!(s.lr(60), 0.1 * 0.1 * 0.1);
    }
}
