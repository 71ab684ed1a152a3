//! PyTorch's `MultiStepLR`: decay by `gamma` at each milestone.

use super::{Memo, Schedule};

/// `lr = lr_{e−1}·gamma^k` where `k` is how often `e` appears among the milestones
/// (a milestone listed twice decays twice).
#[derive(Clone, Debug)]
pub struct MultiStep {
    base_lr: f64,
    milestones: Vec<u64>,
    gamma: f64,
    memo: Memo,
}

impl MultiStep {
    /// PyTorch's `MultiStepLR(milestones, gamma)` over `base_lr`.
    pub fn new(base_lr: f64, milestones: &[u64], gamma: f64) -> Self {
        let mut milestones = milestones.to_vec();
        milestones.sort_unstable();
        Self {
            base_lr,
            milestones,
            gamma,
            memo: Memo::default(),
        }
    }
}

impl Schedule for MultiStep {
    fn lr(&self, step: u64) -> f64 {
        let gamma = self.gamma;
        self.memo.eval(step, self.base_lr, |e, lr| {
            let k = self.milestones.iter().filter(|&&m| m == e).count();
            if k == 0 {
                lr
            } else {
                lr * gamma.powf(k as f64)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence_with_a_repeated_milestone() {
        check_lr_sequence(
            &MultiStep::new(1.0, &[3, 1, 3], 0.5),
            &[1.0, 0.5, 0.5, 0.125, 0.125],
        );
        assert_eq!(MultiStep::new(1.0, &[], 0.5).lr(100), 1.0);
    }
}
