//! Observers: what a run tells the outside world as it goes (argmin's Observer split).
//! The progress bar is one of them.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

use super::history::{EpochRecord, StepRecord, Termination};

/// What a run is about to do.
#[derive(Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// Epochs planned.
    pub epochs: u64,
    /// Steps in each epoch.
    pub steps_per_epoch: u64,
    /// Rows per batch.
    pub batch_rows: usize,
    /// Steps already taken (a resumed run).
    pub start_step: u64,
}

/// Receives a run's progress. Every method has an empty default.
pub trait Observer {
    /// Before the first step.
    fn start(&mut self, _info: &RunInfo) {}
    /// After each step.
    fn step(&mut self, _record: &StepRecord) {}
    /// Whether [`Observer::step`] does anything (`true` unless overridden): when no
    /// observer wants steps and the history does not record them, a step skips
    /// making its record, which reads the clock (a few percent of a one-row step).
    fn wants_steps(&self) -> bool {
        true
    }
    /// After each epoch.
    fn epoch(&mut self, _record: &EpochRecord) {}
    /// When the run ends, for whatever reason.
    fn end(&mut self, _termination: &Termination) {}
}

/// A progress bar on standard error (epoch, loss, steps per second); it draws nothing
/// when standard error is not a terminal.
#[derive(Debug, Default)]
pub struct Progress {
    bar: Option<ProgressBar>,
    epochs: u64,
}

impl Progress {
    /// A bar that shows itself only on a terminal.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Observer for Progress {
    fn start(&mut self, info: &RunInfo) {
        if !std::io::stderr().is_terminal() {
            return;
        }
        let bar = ProgressBar::new(info.epochs * info.steps_per_epoch);
        let style =
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} steps, {per_sec} · {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(info.start_step);
        bar.set_message(format!("epoch 1/{}", info.epochs));
        self.epochs = info.epochs;
        self.bar = Some(bar);
    }

    fn step(&mut self, record: &StepRecord) {
        if let Some(bar) = &self.bar {
            bar.set_position(record.step);
        }
    }

    fn epoch(&mut self, record: &EpochRecord) {
        if let Some(bar) = &self.bar {
            let val = record
                .val_loss
                .map(|v| format!(", val {v:.5}"))
                .unwrap_or_default();
            bar.set_message(format!(
                "epoch {}/{}: loss {:.5}{val}, lr {:.2e}",
                record.epoch + 1,
                self.epochs,
                record.train_loss,
                record.lr
            ));
        }
    }

    fn end(&mut self, _termination: &Termination) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}

/// An observer made of closures, for examples and tests.
pub struct OnEpoch<F: FnMut(&EpochRecord)>(pub F);

impl<F: FnMut(&EpochRecord)> Observer for OnEpoch<F> {
    fn epoch(&mut self, record: &EpochRecord) {
        (self.0)(record)
    }
    fn wants_steps(&self) -> bool {
        false
    }
}
