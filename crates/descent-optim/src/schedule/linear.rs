//! PyTorch's `LinearLR`: a linear ramp of the factor (warm-up or decay).

use super::{Memo, Schedule};

/// `lr(0) = base_lr·start_factor`; for `1 ≤ e ≤ total_iters`
/// `lr = lr_{e−1}·(1 + (end − start) / (total_iters·start + (e − 1)·(end − start)))`;
/// unchanged afterwards (`base_lr·end_factor`).
#[derive(Clone, Debug)]
pub struct Linear {
    base_lr: f64,
    start_factor: f64,
    end_factor: f64,
    total_iters: u64,
    memo: Memo,
}

impl Linear {
    /// PyTorch's `LinearLR(start_factor, end_factor, total_iters)` over `base_lr`.
    pub fn new(base_lr: f64, start_factor: f64, end_factor: f64, total_iters: u64) -> Self {
        Self {
            base_lr,
            start_factor,
            end_factor,
            total_iters,
            memo: Memo::default(),
        }
    }
}

impl Schedule for Linear {
    fn lr(&self, step: u64) -> f64 {
        let (start, end, total) = (self.start_factor, self.end_factor, self.total_iters);
        self.memo.eval(step, self.base_lr * start, |e, lr| {
            if e > total {
                return lr;
            }
            lr * (1.0 + (end - start) / (total as f64 * start + (e - 1) as f64 * (end - start)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_warm_up_sequence() {
        check_lr_sequence(
            &Linear::new(1.0, 0.25, 1.0, 3),
            &[0.25, 0.5, 0.75, 1.0, 1.0],
        );
        // decay from 1 to 0.5 over 2 steps
        check_lr_sequence(&Linear::new(2.0, 1.0, 0.5, 2), &[2.0, 1.5, 1.0, 1.0]);
    }
}
