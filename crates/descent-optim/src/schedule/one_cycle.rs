//! PyTorch's `OneCycleLR`: warm up to `max_lr`, then anneal far below the start, with
//! momentum cycled the other way.

use std::f64::consts::PI;

use serde::{Deserialize, Serialize};

use super::Schedule;

/// How one-cycle interpolates within a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnnealStrategy {
    /// `end + (start − end)/2·(cos(π·pct) + 1)`.
    Cos,
    /// `(end − start)·pct + start`.
    Linear,
}

/// One phase: its last step (a float, as PyTorch keeps it) and the values it goes between.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Phase {
    end_step: f64,
    lr: (f64, f64),
    momentum: (f64, f64),
}

/// The 1cycle policy (Smith & Topin, "Super-Convergence: Very Fast Training of Neural
/// Networks Using Large Learning Rates", 2018), exactly as PyTorch's `OneCycleLR`
/// computes it. It ignores the optimizer's base rate: it starts at `max_lr/div_factor`,
/// peaks at `max_lr` and ends at `max_lr/div_factor/final_div_factor`. Past
/// `total_steps − 1` it holds its last value (PyTorch raises an error there).
#[derive(Clone, Debug, PartialEq)]
pub struct OneCycle {
    total_steps: u64,
    strategy: AnnealStrategy,
    cycle_momentum: bool,
    phases: Vec<Phase>,
}

impl OneCycle {
    /// PyTorch's `OneCycleLR` with its arguments, in its order.
    pub fn new(
        max_lr: f64,
        total_steps: u64,
        pct_start: f64,
        anneal_strategy: AnnealStrategy,
        cycle_momentum: bool,
        base_momentum: f64,
        max_momentum: f64,
        div_factor: f64,
        final_div_factor: f64,
        three_phase: bool,
    ) -> Self {
        let initial = max_lr / div_factor;
        let min_lr = initial / final_div_factor;
        let t = total_steps as f64;
        let phases = if three_phase {
            vec![
                Phase {
                    end_step: pct_start * t - 1.0,
                    lr: (initial, max_lr),
                    momentum: (max_momentum, base_momentum),
                },
                Phase {
                    end_step: 2.0 * pct_start * t - 2.0,
                    lr: (max_lr, initial),
                    momentum: (base_momentum, max_momentum),
                },
                Phase {
                    end_step: t - 1.0,
                    lr: (initial, min_lr),
                    momentum: (max_momentum, max_momentum),
                },
            ]
        } else {
            vec![
                Phase {
                    end_step: pct_start * t - 1.0,
                    lr: (initial, max_lr),
                    momentum: (max_momentum, base_momentum),
                },
                Phase {
                    end_step: t - 1.0,
                    lr: (max_lr, min_lr),
                    momentum: (base_momentum, max_momentum),
                },
            ]
        };
        Self {
            total_steps,
            strategy: anneal_strategy,
            cycle_momentum,
            phases,
        }
    }

    fn anneal(&self, (start, end): (f64, f64), pct: f64) -> f64 {
        match self.strategy {
            AnnealStrategy::Cos => end + (start - end) / 2.0 * ((PI * pct).cos() + 1.0),
            AnnealStrategy::Linear => (end - start) * pct + start,
        }
    }

    /// The phase of `step` and the fraction of it done.
    fn locate(&self, step: u64) -> (&Phase, f64) {
        let step = step.min(self.total_steps.saturating_sub(1)) as f64;
        let mut start_step = 0.0;
        let last = self.phases.len() - 1;
        for (i, phase) in self.phases.iter().enumerate() {
            if step <= phase.end_step || i == last {
                return (phase, (step - start_step) / (phase.end_step - start_step));
            }
            start_step = phase.end_step;
        }
        unreachable!("the last phase always matches")
    }
}

impl Schedule for OneCycle {
    fn lr(&self, step: u64) -> f64 {
        let (phase, pct) = self.locate(step);
        self.anneal(phase.lr, pct)
    }

    fn momentum(&self, step: u64) -> Option<f64> {
        if !self.cycle_momentum {
            return None;
        }
        let (phase, pct) = self.locate(step);
        Some(self.anneal(phase.momentum, pct))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::check_lr_sequence;

    #[test]
    fn literal_linear_sequence() {
        // max_lr 1, 10 steps, pct_start 0.3 → phases end at 2 and 9; start 1/4, end 1/4/10.
        let s = OneCycle::new(
            1.0,
            10,
            0.3,
            AnnealStrategy::Linear,
            true,
            0.8,
            0.9,
            4.0,
            10.0,
            false,
        );
        let down = |k: f64| (0.025 - 1.0) * (k / 7.0) + 1.0;
        check_lr_sequence(&s, &[0.25, 0.625, 1.0, down(1.0), down(2.0), down(3.0)]);
        assert!((s.lr(9) - 0.025).abs() < 1e-16); // (end − start)·1 + start, not exactly end
        assert_eq!(s.lr(1000), s.lr(9));
        assert_eq!(s.momentum(0), Some(0.9));
        assert!((s.momentum(2).unwrap() - 0.8).abs() < 1e-15);
        assert_eq!(s.momentum(9), Some(0.9));
    }

    #[test]
    fn cos_starts_a_hair_above_the_initial_rate_as_pytorch() {
        // The first value of PyTorch's public OneCycleLR_cos case.
        let s = OneCycle::new(
            0.5,
            100,
            0.3,
            AnnealStrategy::Cos,
            true,
            0.85,
            0.95,
            25.0,
            1e4,
            false,
        );
        assert_eq!(s.lr(0), 0.020000000000000018);
        let three = OneCycle::new(
            0.3,
            100,
            0.25,
            AnnealStrategy::Cos,
            true,
            0.85,
            0.95,
            25.0,
            1e4,
            true,
        );
        assert_eq!(three.lr(0), 0.01200000000000001);
        assert!((three.lr(99) - 1.2e-6).abs() < 1e-18);
    }
}
