//! A sweep against a baseline sweep of the same configurations: which got worse by more
//! than a tolerance (CI guards an optimizer's behaviour with it).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{GroupSummary, Results, sig, summarize};

/// One configuration, here and in the baseline.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// The problem.
    pub problem: String,
    /// The configuration.
    pub config: String,
    /// The baseline's mean final loss.
    pub baseline: f64,
    /// This sweep's mean final loss.
    pub current: f64,
    /// `(current − baseline) / |baseline|`.
    pub relative: f64,
    /// Whether it got worse by more than the tolerance (or diverged or failed more often).
    pub regression: bool,
    /// Why, in words.
    pub note: String,
}

/// Compares every configuration present in both sweeps (matched by their ids over
/// seeds): a regression is a mean final loss above `baseline + tolerance · |baseline|`,
/// or more diverged or failed runs than the baseline had.
pub fn compare(current: &Results, baseline: &Results, tolerance: f64) -> Vec<Change> {
    let index = |r: &Results| -> BTreeMap<(String, String), GroupSummary> {
        summarize(r)
            .into_iter()
            .flat_map(|(p, gs)| {
                gs.into_iter()
                    .map(move |g| ((p.clone(), g.group.clone()), g))
            })
            .collect()
    };
    let base = index(baseline);
    let mut changes = Vec::new();
    for (key, now) in index(current) {
        let Some(before) = base.get(&key) else {
            continue;
        };
        let (b, c) = (before.final_loss.mean, now.final_loss.mean);
        let relative = (c - b) / b.abs().max(f64::MIN_POSITIVE);
        let troubles = (now.diverged + now.failed, before.diverged + before.failed);
        let (regression, note) = if troubles.0 > troubles.1 {
            (
                true,
                format!(
                    "{} diverged or failed runs, baseline {}",
                    troubles.0, troubles.1
                ),
            )
        } else if c.is_nan() && !b.is_nan() {
            (true, "no finished run, baseline had some".to_string())
        } else if c > b + tolerance * b.abs() {
            (
                true,
                format!(
                    "final loss {} vs {} (+{:.2}%, tolerance {}%)",
                    sig(c, 4),
                    sig(b, 4),
                    relative * 100.0,
                    (tolerance * 1e6).round() / 1e4
                ),
            )
        } else {
            (
                false,
                format!(
                    "final loss {} vs {} ({:+.2}%)",
                    sig(c, 4),
                    sig(b, 4),
                    relative * 100.0
                ),
            )
        };
        changes.push(Change {
            problem: key.0.clone(),
            config: now.label.config(),
            baseline: b,
            current: c,
            relative,
            regression,
            note,
        });
    }
    changes
}

/// Parses a tolerance: `5%` or `0.05`.
pub fn parse_tolerance(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
        None => t.parse::<f64>(),
    }
    .map_err(|_| {
        format!("--tolerance `{s}`: expected a percentage such as 5% or a fraction such as 0.05")
    })?;
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(format!("--tolerance `{s}` must be at least 0"))
    }
}
