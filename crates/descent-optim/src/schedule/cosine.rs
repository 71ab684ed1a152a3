//! PyTorch's `CosineAnnealingLR`: cosine annealing from the base rate to `eta_min`.

use std::f64::consts::PI;

use super::{Memo, Schedule};

/// Cosine annealing (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm
/// Restarts", ICLR 2017) in PyTorch's recursive form:
///
/// ```text
/// e = 0:                             base_lr
/// (e − 1 − T_max) % (2·T_max) == 0:  lr + (base_lr − eta_min)·(1 − cos(π/T_max))/2
/// otherwise:                         (1 + cos(π·e/T_max)) / (1 + cos(π·(e−1)/T_max))·(lr − eta_min) + eta_min
/// ```
///
/// Past `T_max` it rises again (period `2·T_max`), as PyTorch's does.
#[derive(Clone, Debug)]
pub struct CosineAnnealing {
    base_lr: f64,
    t_max: u64,
    eta_min: f64,
    memo: Memo,
}

impl CosineAnnealing {
    /// PyTorch's `CosineAnnealingLR(T_max, eta_min)` over `base_lr`; `t_max` at least 1.
    pub fn new(base_lr: f64, t_max: u64, eta_min: f64) -> Self {
        Self {
            base_lr,
            t_max: t_max.max(1),
            eta_min,
            memo: Memo::default(),
        }
    }
}

impl Schedule for CosineAnnealing {
    fn lr(&self, step: u64) -> f64 {
        let (base, eta_min) = (self.base_lr, self.eta_min);
        let t_max = self.t_max as f64;
        let period = 2 * self.t_max as i128;
        self.memo.eval(step, base, |e, lr| {
            if (e as i128 - 1 - self.t_max as i128).rem_euclid(period) == 0 {
                lr + (base - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
            } else {
                (1.0 + (PI * e as f64 / t_max).cos()) / (1.0 + (PI * (e - 1) as f64 / t_max).cos())
                    * (lr - eta_min)
                    + eta_min
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence_with_the_rise_after_t_max() {
        // T_max = 2 from 1 to 0: 1, (1 + cos(π/2))/2 = 0.5, 0, then back up 0.5, 1.
        check_lr_sequence(
            &CosineAnnealing::new(1.0, 2, 0.0),
            &[1.0, 0.5, 0.0, 0.5, 1.0, 0.5],
        );
    }

    #[test]
    fn first_values_of_the_public_case() {
        // PyTorch, CosineAnnealingLR(T_max=30, eta_min=0.001) from 0.1.
        let s = CosineAnnealing::new(0.1, 30, 0.001);
        check_lr_sequence(&s, &[0.1, 0.09972883382072953, 0.09891830623632338]);
        assert!((s.lr(30) - 0.001).abs() < 1e-15);
    }
}
