//! PyTorch's `CyclicLR`: the learning rate cycles between two bounds.

use serde::{Deserialize, Serialize};

use super::Schedule;

/// The amplitude policy of a cyclic schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CyclicMode {
    /// Constant amplitude.
    Triangular,
    /// The amplitude halves every cycle.
    Triangular2,
    /// The amplitude scales by `gamma^iteration`.
    ExpRange,
}

/// What the amplitude scale is a function of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMode {
    /// The cycle number (default for triangular and triangular2).
    Cycle,
    /// The step (default for exp_range).
    Iterations,
}

/// Cyclical learning rates (Smith, "Cyclical Learning Rates for Training Neural Networks",
/// WACV 2017), as PyTorch's `CyclicLR`:
///
/// ```text
/// total = up + down;  cycle = floor(1 + e/total);  x = 1 + e/total − cycle
/// sf = x <= up/total ? x/(up/total) : (x − 1)/(up/total − 1)
/// lr = base_lr + (max_lr − base_lr)·sf·scale;  momentum = max_m − (max_m − base_m)·sf·scale
/// ```
///
/// It ignores the optimizer's base rate.
#[derive(Clone, Debug, PartialEq)]
pub struct Cyclic {
    base_lr: f64,
    max_lr: f64,
    total_size: f64,
    step_ratio: f64,
    mode: CyclicMode,
    gamma: f64,
    scale_mode: ScaleMode,
    momentum: Option<(f64, f64)>,
}

impl Cyclic {
    /// PyTorch's `CyclicLR`; `step_size_down` defaults to `step_size_up`, `scale_mode` to
    /// the mode's own, and `momentum` is `Some((base_momentum, max_momentum))` when
    /// `cycle_momentum`.
    pub fn new(
        base_lr: f64,
        max_lr: f64,
        step_size_up: u64,
        step_size_down: Option<u64>,
        mode: CyclicMode,
        gamma: f64,
        scale_mode: Option<ScaleMode>,
        momentum: Option<(f64, f64)>,
    ) -> Self {
        let up = step_size_up as f64;
        let down = step_size_down.map_or(up, |d| d as f64);
        let total_size = up + down;
        let scale_mode = scale_mode.unwrap_or(match mode {
            CyclicMode::ExpRange => ScaleMode::Iterations,
            _ => ScaleMode::Cycle,
        });
        Self {
            base_lr,
            max_lr,
            total_size,
            step_ratio: up / total_size,
            mode,
            gamma,
            scale_mode,
            momentum,
        }
    }

    /// `(sf, scale)` at step `e`.
    fn factors(&self, e: u64) -> (f64, f64) {
        let e = e as f64;
        let cycle = (1.0 + e / self.total_size).floor();
        let x = 1.0 + e / self.total_size - cycle;
        let sf = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        let arg = match self.scale_mode {
            ScaleMode::Cycle => cycle,
            ScaleMode::Iterations => e,
        };
        let scale = match self.mode {
            CyclicMode::Triangular => 1.0,
            CyclicMode::Triangular2 => 1.0 / 2.0_f64.powf(arg - 1.0),
            CyclicMode::ExpRange => self.gamma.powf(arg),
        };
        (sf, scale)
    }
}

impl Schedule for Cyclic {
    fn lr(&self, step: u64) -> f64 {
        let (sf, scale) = self.factors(step);
        self.base_lr + (self.max_lr - self.base_lr) * sf * scale
    }

    fn momentum(&self, step: u64) -> Option<f64> {
        let (base, max) = self.momentum?;
        let (sf, scale) = self.factors(step);
        Some(max - (max - base) * sf * scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_triangular2_sequence() {
        // up 2, down 2 between 0 and 1: 0, .5, 1, .5, 0, then half the height.
        let s = Cyclic::new(
            0.0,
            1.0,
            2,
            None,
            CyclicMode::Triangular2,
            1.0,
            None,
            Some((0.8, 0.9)),
        );
        check_lr_sequence(&s, &[0.0, 0.5, 1.0, 0.5, 0.0, 0.25, 0.5, 0.25, 0.0]);
        assert_eq!(s.momentum(0), Some(0.9));
        assert!((s.momentum(2).unwrap() - 0.8).abs() < 1e-15);
    }

    #[test]
    fn public_case_first_values() {
        // PyTorch, CyclicLR(0.01, 0.1, step_size_up=10, step_size_down=15).
        let s = Cyclic::new(
            0.01,
            0.1,
            10,
            Some(15),
            CyclicMode::Triangular,
            1.0,
            None,
            None,
        );
        assert_eq!(s.lr(1), 0.01900000000000001);
        assert!((s.lr(10) - 0.1).abs() < 1e-16);
        assert_eq!(s.momentum(3), None);
    }
}
