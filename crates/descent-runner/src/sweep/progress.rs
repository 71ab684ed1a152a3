//! What a sweep shows while it runs: on a terminal an overall bar (runs done, elapsed,
//! estimate) and a line per active run; otherwise one plain log line per finished run.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::results::{RunRecord, Status};
use crate::experiment::RunPlan;

/// How to show progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ProgressMode {
    /// Bars on a terminal, plain lines otherwise (on standard error).
    #[default]
    Auto,
    /// Plain lines on standard error.
    Plain,
    /// Nothing.
    Quiet,
}

pub(crate) struct Display {
    bars: Option<(MultiProgress, ProgressBar)>,
    plain: bool,
    total: usize,
    done: AtomicUsize,
}

impl Display {
    pub(crate) fn new(mode: ProgressMode, total: usize, skipped: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bars = (mode == ProgressMode::Auto && terminal).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let overall = multi.add(ProgressBar::new(total as u64));
            overall.set_style(
                ProgressStyle::with_template(
                    "{bar:30.green/white} {pos}/{len} runs · {elapsed_precise} elapsed · eta {eta} · {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            overall.set_message(if skipped > 0 {
                format!("{skipped} already done")
            } else {
                String::new()
            });
            (multi, overall)
        });
        let plain = mode == ProgressMode::Plain || (mode == ProgressMode::Auto && !terminal);
        if plain && skipped > 0 {
            eprintln!("{skipped} runs already finished; {total} to run");
        }
        Display {
            bars,
            plain,
            total,
            done: AtomicUsize::new(0),
        }
    }

    /// A line for a run that starts.
    pub(crate) fn start(&self, plan: &RunPlan) -> Option<ProgressBar> {
        let (multi, _) = self.bars.as_ref()?;
        let bar = multi.add(ProgressBar::new(1));
        bar.set_style(
            ProgressStyle::with_template("  {prefix} {bar:20.cyan/blue} {pos}/{len} steps · {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_prefix(format!(
            "{} {} seed {}",
            plan.label.problem,
            plan.label.config(),
            plan.label.seed
        ));
        Some(bar)
    }

    /// A run has ended.
    pub(crate) fn finish(&self, bar: Option<ProgressBar>, record: &RunRecord) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(bar) = bar {
            bar.finish_and_clear();
            if let Some((multi, _)) = &self.bars {
                multi.remove(&bar);
            }
        }
        if let Some((_, overall)) = &self.bars {
            overall.inc(1);
        }
        if self.plain {
            eprintln!(
                "[{done:>width$}/{}] {}",
                self.total,
                summary(record),
                width = self.total.to_string().len()
            );
        }
    }

    pub(crate) fn close(&self) {
        if let Some((_, overall)) = &self.bars {
            overall.finish();
        }
    }
}

/// One line about a finished run.
pub fn summary(r: &RunRecord) -> String {
    let what = format!(
        "{} {} {} seed {}",
        r.id,
        r.label.problem,
        r.label.config(),
        r.label.seed
    );
    match r.status {
        Status::Completed => {
            let f = r.final_eval.as_ref();
            format!(
                "{what}: loss {:.6}, {} {:.4} ({:.2} s)",
                f.map_or(f64::NAN, |f| f.loss),
                r.metric,
                f.and_then(|f| f.metrics.get(&r.metric).copied())
                    .unwrap_or(f64::NAN),
                r.wall_seconds
            )
        }
        Status::Diverged => format!(
            "{what}: diverged at step {}",
            r.diverged_at.unwrap_or(r.steps)
        ),
        Status::Failed => format!(
            "{what}: failed: {}",
            r.message.as_deref().unwrap_or("no message")
        ),
    }
}
