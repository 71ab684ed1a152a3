//! PyTorch's `CosineAnnealingWarmRestarts`: cosine annealing restarted every `T_i` steps.

use std::f64::consts::PI;

use super::Schedule;

/// SGDR (Loshchilov & Hutter, "SGDR: Stochastic Gradient Descent with Warm Restarts",
/// ICLR 2017): `lr = eta_min + (base_lr − eta_min)·(1 + cos(π·T_cur/T_i))/2`, where the
/// first cycle lasts `T_0` steps and each next one `T_mult` times longer.
#[derive(Clone, Debug, PartialEq)]
pub struct CosineWarmRestarts {
    base_lr: f64,
    t_0: u64,
    t_mult: u64,
    eta_min: f64,
}

impl CosineWarmRestarts {
    /// PyTorch's `CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)` over `base_lr`;
    /// `t_0` and `t_mult` at least 1.
    pub fn new(base_lr: f64, t_0: u64, t_mult: u64, eta_min: f64) -> Self {
        Self {
            base_lr,
            t_0: t_0.max(1),
            t_mult: t_mult.max(1),
            eta_min,
        }
    }

    /// `(T_cur, T_i)` at step `step`: the position within the current cycle and its length.
    pub fn cycle_position(&self, step: u64) -> (u64, u64) {
        let (mut t_cur, mut t_i) = (step, self.t_0);
        if self.t_mult == 1 {
            return (step % t_i, t_i);
        }
        while t_cur >= t_i {
            t_cur -= t_i;
            t_i *= self.t_mult;
        }
        (t_cur, t_i)
    }
}

impl Schedule for CosineWarmRestarts {
    fn lr(&self, step: u64) -> f64 {
        let (t_cur, t_i) = self.cycle_position(step);
        self.eta_min
            + (self.base_lr - self.eta_min) * (1.0 + (PI * t_cur as f64 / t_i as f64).cos()) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence_with_restarts() {
        // T_0 = 2, T_mult = 2: cycles of 2 and 4 steps; restarts at 2 and 6.
        let s = CosineWarmRestarts::new(1.0, 2, 2, 0.0);
        check_lr_sequence(
            &s,
            &[
                1.0,
                0.5,
                1.0,
                0.5 + 0.5 * (PI / 4.0).cos(),
                0.5,
                0.5 - 0.5 * (PI / 4.0).cos(),
                1.0,
            ],
        );
        assert_eq!(s.cycle_position(6), (0, 8));
        let constant_cycles = CosineWarmRestarts::new(1.0, 3, 1, 0.25);
        assert_eq!(constant_cycles.lr(3), 1.0);
        assert_eq!(constant_cycles.lr(300), 1.0);
    }
}
