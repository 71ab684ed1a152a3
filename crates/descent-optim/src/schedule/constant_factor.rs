//! PyTorch's `ConstantLR`: the base rate scaled by a factor until a given step.

use super::{Memo, Schedule};

/// `lr = base_lr·factor` for `e < total_iters`, then `base_lr` (computed as PyTorch does,
/// by multiplying the previous value by `1/factor` at `e = total_iters`).
#[derive(Clone, Debug)]
pub struct ConstantFactor {
    base_lr: f64,
    factor: f64,
    total_iters: u64,
    memo: Memo,
}

impl ConstantFactor {
    /// PyTorch's `ConstantLR(factor, total_iters)` over `base_lr`.
    pub fn new(base_lr: f64, factor: f64, total_iters: u64) -> Self {
        Self {
            base_lr,
            factor,
            total_iters,
            memo: Memo::default(),
        }
    }
}

impl Schedule for ConstantFactor {
    fn lr(&self, step: u64) -> f64 {
        let (factor, total) = (self.factor, self.total_iters);
        self.memo.eval(step, self.base_lr * factor, |e, lr| {
            if e == total { lr * (1.0 / factor) } else { lr }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        check_lr_sequence(&ConstantFactor::new(0.5, 0.5, 2), &[0.25, 0.25, 0.5, 0.5]);
        // total_iters = 0: the factor is never undone (PyTorch's behaviour).
        check_lr_sequence(&ConstantFactor::new(1.0, 0.5, 0), &[0.5, 0.5]);
    }
}
