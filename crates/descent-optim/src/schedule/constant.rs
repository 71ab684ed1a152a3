//! The constant schedule: the base learning rate at every step.

use super::Schedule;

/// `lr(e) = base_lr` for every step.
#[derive(Clone, Debug, PartialEq)]
pub struct Constant {
    /// The learning rate.
    pub base_lr: f64,
}

impl Constant {
    /// A constant learning rate.
    pub fn new(base_lr: f64) -> Self {
        Self { base_lr }
    }
}

impl Schedule for Constant {
    fn lr(&self, _step: u64) -> f64 {
        self.base_lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_sequence() {
        check_lr_sequence(&Constant::new(0.1), &[0.1, 0.1, 0.1]);
        assert_eq!(Constant::new(0.1).lr(u64::MAX), 0.1);
    }
}
