//! PyTorch's `PolynomialLR`: polynomial decay to zero over `total_iters` steps.

use super::{Memo, Schedule};

/// For `1 ≤ e ≤ total_iters`:
/// `lr = lr_{e−1}·((1 − e/total_iters) / (1 − (e−1)/total_iters))^power`; 0 from
/// `total_iters` on.
#[derive(Clone, Debug)]
pub struct Polynomial {
    base_lr: f64,
    total_iters: u64,
    power: f64,
    memo: Memo,
}

impl Polynomial {
    /// PyTorch's `PolynomialLR(total_iters, power)` over `base_lr`.
    pub fn new(base_lr: f64, total_iters: u64, power: f64) -> Self {
        Self {
            base_lr,
            total_iters,
            power,
            memo: Memo::default(),
        }
    }
}

impl Schedule for Polynomial {
    fn lr(&self, step: u64) -> f64 {
        let (total, power) = (self.total_iters, self.power);
        self.memo.eval(step, self.base_lr, |e, lr| {
            if e > total {
                return lr;
            }
            let n = total as f64;
            let decay = ((1.0 - e as f64 / n) / (1.0 - (e - 1) as f64 / n)).powf(power);
            lr * decay
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence_reaches_zero_and_stays() {
        check_lr_sequence(
            &Polynomial::new(1.0, 4, 1.0),
            &[1.0, 0.75, 0.5, 0.25, 0.0, 0.0],
        );
        let quadratic = Polynomial::new(1.0, 2, 2.0);
        assert_eq!(quadratic.lr(1), 0.25);
        assert_eq!(quadratic.lr(2), 0.0);
    }
}
