//! PyTorch's `SequentialLR`: one schedule after another, switching at milestones.

use super::Schedule;

/// Runs `schedules[0]` until `milestones[0]`, then `schedules[1]` from its own step 0,
/// and so on: `lr(e) = schedules[i].lr(e − milestones[i − 1])`.
#[derive(Debug)]
pub struct Sequential {
    schedules: Vec<Box<dyn Schedule>>,
    milestones: Vec<u64>,
}

impl Sequential {
    /// `schedules` switched at `milestones` (one fewer than the schedules, increasing).
    /// Returns `None` when the counts or the order do not fit.
    pub fn new(schedules: Vec<Box<dyn Schedule>>, milestones: Vec<u64>) -> Option<Self> {
        let fits = !schedules.is_empty()
            && milestones.len() + 1 == schedules.len()
            && milestones.windows(2).all(|w| w[0] <= w[1]);
        fits.then_some(Self {
            schedules,
            milestones,
        })
    }
}

impl Schedule for Sequential {
    fn lr(&self, step: u64) -> f64 {
        let i = self.milestones.partition_point(|&m| m <= step);
        let start = if i == 0 { 0 } else { self.milestones[i - 1] };
        self.schedules[i].lr(step - start)
    }

    fn momentum(&self, step: u64) -> Option<f64> {
        let i = self.milestones.partition_point(|&m| m <= step);
        let start = if i == 0 { 0 } else { self.milestones[i - 1] };
        self.schedules[i].momentum(step - start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{CosineAnnealing, Linear, check_lr_sequence};

    #[test]
    fn literal_warm_up_then_cosine() {
        let s = Sequential::new(
            vec![
                Box::new(Linear::new(1.0, 0.5, 1.0, 2)),
                Box::new(CosineAnnealing::new(1.0, 2, 0.0)),
            ],
            vec![2],
        )
        .unwrap();
        check_lr_sequence(&s, &[0.5, 0.75, 1.0, 0.5, 0.0, 0.5]);
        assert!(Sequential::new(vec![Box::new(Linear::new(1.0, 0.5, 1.0, 2))], vec![2]).is_none());
    }
}
