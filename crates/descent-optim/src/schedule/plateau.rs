//! PyTorch's `ReduceLROnPlateau`: cut the learning rate when a metric stops improving.

use serde::{Deserialize, Serialize};

/// Whether the metric should fall or rise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateauMode {
    /// Lower is better (a loss).
    Min,
    /// Higher is better (an accuracy).
    Max,
}

/// How `threshold` measures a significant improvement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ThresholdMode {
    /// Relative: better than `best·(1 ∓ threshold)`.
    Rel,
    /// Absolute: better than `best ∓ threshold`.
    Abs,
}

/// Reduce-on-plateau, PyTorch's `ReduceLROnPlateau`: after more than `patience` epochs
/// without a significant improvement, `lr = max(lr·factor, min_lr)` (when that changes it
/// by more than `eps`), then `cooldown` epochs during which bad epochs are not counted.
///
/// Its state (current rate, best metric, counters) is serde, so a resumed run continues.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReduceOnPlateau {
    /// Whether lower or higher is better.
    pub mode: PlateauMode,
    /// The factor the rate is multiplied by.
    pub factor: f64,
    /// Bad epochs tolerated before a cut.
    pub patience: u64,
    /// The significance threshold.
    pub threshold: f64,
    /// How the threshold applies.
    pub threshold_mode: ThresholdMode,
    /// Epochs to wait after a cut.
    pub cooldown: u64,
    /// The floor of the rate.
    pub min_lr: f64,
    /// The smallest change applied.
    pub eps: f64,
    /// The current learning rate.
    pub lr: f64,
    /// The best metric so far (`None` before the first).
    pub best: Option<f64>,
    /// Consecutive epochs without improvement.
    pub num_bad_epochs: u64,
    /// Cooldown epochs left.
    pub cooldown_counter: u64,
    /// Metrics observed so far.
    pub last_epoch: u64,
}

impl ReduceOnPlateau {
    /// PyTorch's `ReduceLROnPlateau` with its arguments, starting at `base_lr`.
    pub fn new(
        base_lr: f64,
        mode: PlateauMode,
        factor: f64,
        patience: u64,
        threshold: f64,
        threshold_mode: ThresholdMode,
        cooldown: u64,
        min_lr: f64,
        eps: f64,
    ) -> Self {
        Self {
            mode,
            factor,
            patience,
            threshold,
            threshold_mode,
            cooldown,
            min_lr,
            eps,
            lr: base_lr,
            best: None,
            num_bad_epochs: 0,
            cooldown_counter: 0,
            last_epoch: 0,
        }
    }

    /// The current learning rate.
    pub fn lr(&self) -> f64 {
        self.lr
    }

    fn is_better(&self, a: f64) -> bool {
        let best = self.best.unwrap_or(match self.mode {
            PlateauMode::Min => f64::INFINITY,
            PlateauMode::Max => f64::NEG_INFINITY,
        });
        match (self.mode, self.threshold_mode) {
            (PlateauMode::Min, ThresholdMode::Rel) => a < best * (1.0 - self.threshold),
            (PlateauMode::Min, ThresholdMode::Abs) => a < best - self.threshold,
            (PlateauMode::Max, ThresholdMode::Rel) => a > best * (self.threshold + 1.0),
            (PlateauMode::Max, ThresholdMode::Abs) => a > best + self.threshold,
        }
    }

    /// Takes one epoch's metric and returns the learning rate for the next.
    pub fn step(&mut self, metric: f64) -> f64 {
        self.last_epoch += 1;
        if self.is_better(metric) {
            self.best = Some(metric);
            self.num_bad_epochs = 0;
        } else {
            self.num_bad_epochs += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.num_bad_epochs = 0;
        }
        if self.num_bad_epochs > self.patience {
            let new_lr = (self.lr * self.factor).max(self.min_lr);
            if self.lr - new_lr > self.eps {
                self.lr = new_lr;
            }
            self.cooldown_counter = self.cooldown;
            self.num_bad_epochs = 0;
        }
        self.lr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plateau(mode: PlateauMode, patience: u64, cooldown: u64) -> ReduceOnPlateau {
        ReduceOnPlateau::new(
            1.0,
            mode,
            0.5,
            patience,
            0.0,
            ThresholdMode::Abs,
            cooldown,
            0.2,
            1e-8,
        )
    }

    #[test]
    fn literal_sequence_with_patience_cooldown_and_floor() {
        let mut s = plateau(PlateauMode::Min, 1, 1);
        let metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0];
        let lrs: Vec<f64> = metrics.iter().map(|&m| s.step(m)).collect();
        // two bad epochs cut; one cooldown epoch ignores badness; the floor holds at 0.2.
        assert_eq!(lrs, [1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.2]);
    }

    #[test]
    fn max_mode_and_serde_resume() {
        let mut s = plateau(PlateauMode::Max, 0, 0);
        s.step(1.0);
        assert_eq!(s.step(0.5), 0.5);
        let saved = serde_json::to_string(&s).unwrap();
        let mut resumed: ReduceOnPlateau = serde_json::from_str(&saved).unwrap();
        assert_eq!(resumed, s);
        assert_eq!(resumed.step(0.4), s.step(0.4));
        assert_eq!(resumed.best, Some(1.0));
    }
}
