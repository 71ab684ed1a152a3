//! Conformance against recorded reference results (the format of
//! `shared/reference/README.md`): one line per case and a summary line.
//!
//! Each group of cases (ops, losses, optimizers, schedulers, seed) lives in its own
//! module with a `run(&Value, &mut Report) -> Result<()>` entry point. A case that
//! cannot be run is recorded as a failure with the reason, never skipped.

mod json;
mod losses;
mod ops;
mod optimizers;
mod schedulers;
mod second_order;
mod seed;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use serde_json::Value;

pub use json::*;
pub use second_order::rosenbrock;

/// The outcome of every case run so far.
#[derive(Default)]
pub struct Report {
    passed: usize,
    failed: usize,
}

impl Report {
    /// Records one case: passes when `max_error` (relative, as the group defines it)
    /// is within `tolerance`.
    pub fn check(&mut self, name: &str, max_error: f64, tolerance: f64) {
        let pass = max_error.is_finite() && max_error <= tolerance;
        self.record(
            name,
            pass,
            &format!("max error {max_error:.3e} (tolerance {tolerance:.0e})"),
        );
    }

    /// Records one case with a free-form detail.
    pub fn record(&mut self, name: &str, pass: bool, detail: &str) {
        let verdict = if pass { "pass" } else { "FAIL" };
        println!("{name:<48} {verdict}  {detail}");
        if pass {
            self.passed += 1;
        } else {
            self.failed += 1;
        }
    }

    /// Records a case that could not be run at all.
    pub fn unrunnable(&mut self, name: &str, why: &str) {
        self.record(name, false, &format!("could not run: {why}"));
    }
}

/// Runs every file and prints `N passed, M failed`; fails if any case failed.
pub fn run(files: &[PathBuf]) -> Result<ExitCode> {
    let mut report = Report::default();
    for file in files {
        run_file(file, &mut report).with_context(|| format!("in {}", file.display()))?;
    }
    println!("{} passed, {} failed", report.passed, report.failed);
    Ok(if report.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn run_file(path: &Path, report: &mut Report) -> Result<()> {
    let text = std::fs::read_to_string(path).context("cannot read the reference file")?;
    let file: Value = serde_json::from_str(&text).context("not valid JSON")?;
    let first = file
        .get("cases")
        .and_then(Value::as_array)
        .and_then(|cases| cases.first())
        .context("the file has no `cases` array")?;
    let has = |key: &str| first.get(key).is_some();
    println!("# {}", path.display());
    if has("op") {
        ops::run(&file, report)
    } else if has("scheduler") {
        schedulers::run(&file, report)
    } else if has("optimizer") {
        optimizers::run(&file, report)
    } else if has("loss") {
        losses::run(&file, report)
    } else if has("variables") {
        seed::run(&file, report)
    } else {
        anyhow::bail!(
            "no conformance group of this build reads this file (cases with keys {:?})",
            first
                .as_object()
                .map(|o| o.keys().collect::<Vec<_>>())
                .unwrap_or_default()
        )
    }
}

/// `|got - want| / max(|want|, floor)`, the relative error with a floor that keeps
/// values near zero from dominating; non-finite values must match exactly.
pub fn relative_error(got: f64, want: f64, floor: f64) -> f64 {
    if want.is_nan() {
        return if got.is_nan() { 0.0 } else { f64::INFINITY };
    }
    if want.is_infinite() {
        return if got == want { 0.0 } else { f64::INFINITY };
    }
    if !got.is_finite() {
        return f64::INFINITY;
    }
    (got - want).abs() / want.abs().max(floor)
}

/// The largest [`relative_error`] over two equally long sequences
/// (infinite when their lengths differ).
pub fn max_relative_error(got: &[f64], want: &[f64], floor: f64) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    got.iter()
        .zip(want)
        .map(|(&g, &w)| relative_error(g, w, floor))
        .fold(0.0, f64::max)
}
