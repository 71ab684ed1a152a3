//! Reports of a sweep: configurations ranked per problem by mean final loss over seeds
//! (with standard deviations, best values, time and steps to target, divergences),
//! `report.md`, SVG plots, and the comparison with a baseline sweep that CI uses.

mod compare;
mod plots;
mod svg;
mod table;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use compare::{Change, compare, parse_tolerance};
pub use plots::write_plots;
pub use table::{markdown, terminal_table, verdicts};

use crate::experiment::{ExperimentSpec, Label};
use crate::sweep::{ResultsDir, RunRecord, Status, SweepError};

/// A results folder, read.
#[derive(Clone, Debug)]
pub struct Results {
    /// The folder.
    pub dir: ResultsDir,
    /// The resolved experiment.
    pub spec: ExperimentSpec,
    /// Every finished run, in index order.
    pub records: Vec<RunRecord>,
}

impl Results {
    /// Reads a results folder (`experiment.toml` and the run records).
    ///
    /// # Errors
    /// [`SweepError::Io`] or [`SweepError::Json`] naming the file.
    pub fn load(dir: &Path) -> Result<Results, SweepError> {
        let dir = ResultsDir::new(dir);
        let path = dir.experiment();
        let text = std::fs::read_to_string(&path).map_err(|e| SweepError::Io {
            path: path.clone(),
            source: e,
        })?;
        let spec = toml::from_str(&text).map_err(|e: toml::de::Error| SweepError::Json {
            path: path.clone(),
            message: e.message().to_string(),
        })?;
        let records = dir.read_records()?;
        Ok(Results { dir, spec, records })
    }
}

/// Mean and sample standard deviation of some values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Stat {
    /// How many values.
    pub n: usize,
    /// Their mean (NaN when none).
    pub mean: f64,
    /// Their sample standard deviation (0 for one value, NaN for none).
    pub std: f64,
}

impl Stat {
    /// The statistics of `values`.
    pub fn of(values: &[f64]) -> Stat {
        let n = values.len();
        if n == 0 {
            return Stat {
                n,
                mean: f64::NAN,
                std: f64::NAN,
            };
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stat { n, mean, std }
    }

    /// `mean ± std` with `digits` significant digits.
    pub fn show(&self, digits: usize) -> String {
        if self.n == 0 {
            return "—".to_string();
        }
        if self.n == 1 {
            return sig(self.mean, digits);
        }
        format!("{} ± {}", sig(self.mean, digits), sig(self.std, 2))
    }
}

/// A number with `digits` significant digits.
pub fn sig(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), x);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{x:.decimals$}")
}

/// One configuration on one problem, over its seeds.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    /// Its rank on its problem (from 1).
    pub rank: usize,
    /// The configuration's id over seeds.
    pub group: String,
    /// Labels (the seed is the first run's).
    pub label: Label,
    /// Runs (seeds) recorded.
    pub runs: usize,
    /// Runs that diverged.
    pub diverged: usize,
    /// Runs that failed.
    pub failed: usize,
    /// The final loss of completed runs.
    pub final_loss: Stat,
    /// The best loss of completed runs.
    pub best_loss: Stat,
    /// The metric ranked by.
    pub metric: String,
    /// Its final value.
    pub final_metric: Stat,
    /// Its best value.
    pub best_metric: Stat,
    /// Runs that reached the target.
    pub reached: usize,
    /// Steps to target over the runs that reached it.
    pub steps_to_target: Stat,
    /// Seconds to target over the runs that reached it.
    pub seconds_to_target: Stat,
    /// Mean wall seconds per run.
    pub wall_seconds: Stat,
    /// The learning rate.
    pub lr: f64,
    /// The step a run diverged at, per diverged run.
    pub diverged_at: Vec<u64>,
    /// The failure messages.
    pub failures: Vec<String>,
    /// The ids of the runs.
    pub ids: Vec<String>,
}

impl GroupSummary {
    /// Whether every run finished without diverging or failing.
    pub fn clean(&self) -> bool {
        self.diverged == 0 && self.failed == 0
    }
}

/// Per problem (in experiment order), its configurations ranked: clean ones by mean
/// final loss, then those with diverged or failed runs.
pub fn summarize(results: &Results) -> Vec<(String, Vec<GroupSummary>)> {
    let mut by_problem: BTreeMap<(usize, String), BTreeMap<String, Vec<&RunRecord>>> =
        BTreeMap::new();
    let order: BTreeMap<&str, usize> = results
        .spec
        .problems
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    for r in &results.records {
        let p = order
            .get(r.label.problem.as_str())
            .copied()
            .unwrap_or(usize::MAX);
        by_problem
            .entry((p, r.label.problem.clone()))
            .or_default()
            .entry(r.group.clone())
            .or_default()
            .push(r);
    }
    by_problem
        .into_iter()
        .map(|((_, problem), groups)| {
            let mut list: Vec<GroupSummary> = groups.into_values().map(|rs| group(&rs)).collect();
            list.sort_by(|a, b| {
                (a.diverged + a.failed)
                    .cmp(&(b.diverged + b.failed))
                    .then(nan_last(a.final_loss.mean, b.final_loss.mean))
                    .then(a.label.config().cmp(&b.label.config()))
            });
            for (i, g) in list.iter_mut().enumerate() {
                g.rank = i + 1;
            }
            (problem, list)
        })
        .collect()
}

fn nan_last(a: f64, b: f64) -> std::cmp::Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ => a.total_cmp(&b),
    }
}

fn group(runs: &[&RunRecord]) -> GroupSummary {
    let first = runs[0];
    let done: Vec<&&RunRecord> = runs
        .iter()
        .filter(|r| r.status == Status::Completed)
        .collect();
    let finals: Vec<f64> = done
        .iter()
        .filter_map(|r| r.final_eval.as_ref().map(|f| f.loss))
        .collect();
    let bests: Vec<f64> = done
        .iter()
        .filter_map(|r| r.best.as_ref().map(|b| b.loss))
        .collect();
    let metric = first.metric.clone();
    let final_metrics: Vec<f64> = done
        .iter()
        .filter_map(|r| {
            r.final_eval
                .as_ref()
                .and_then(|f| f.metrics.get(&metric).copied())
        })
        .collect();
    let best_metrics: Vec<f64> = done
        .iter()
        .filter_map(|r| r.best.as_ref().and_then(|b| b.metric))
        .collect();
    let reached: Vec<_> = runs
        .iter()
        .filter_map(|r| r.target.as_ref().filter(|t| t.reached))
        .collect();
    GroupSummary {
        rank: 0,
        group: first.group.clone(),
        label: first.label.clone(),
        runs: runs.len(),
        diverged: runs.iter().filter(|r| r.status == Status::Diverged).count(),
        failed: runs.iter().filter(|r| r.status == Status::Failed).count(),
        final_loss: Stat::of(&finals),
        best_loss: Stat::of(&bests),
        metric,
        final_metric: Stat::of(&final_metrics),
        best_metric: Stat::of(&best_metrics),
        reached: reached.len(),
        steps_to_target: Stat::of(
            &reached
                .iter()
                .filter_map(|t| t.steps.map(|s| s as f64))
                .collect::<Vec<_>>(),
        ),
        seconds_to_target: Stat::of(&reached.iter().filter_map(|t| t.seconds).collect::<Vec<_>>()),
        wall_seconds: Stat::of(&runs.iter().map(|r| r.wall_seconds).collect::<Vec<_>>()),
        lr: first.config.optimizer.lr(),
        diverged_at: runs.iter().filter_map(|r| r.diverged_at).collect(),
        failures: runs
            .iter()
            .filter_map(|r| r.message.clone().filter(|_| r.status == Status::Failed))
            .collect(),
        ids: runs.iter().map(|r| r.id.clone()).collect(),
    }
}

/// Writes `report.md` and the plots into the results folder; returns the files written.
///
/// # Errors
/// [`SweepError::Io`] for a file that cannot be written or a curve that cannot be read.
pub fn write_report(results: &Results) -> Result<Vec<PathBuf>, SweepError> {
    let summaries = summarize(results);
    let plots = write_plots(results, &summaries)?;
    let md = markdown(results, &summaries, &plots);
    let path = results.dir.root.join("report.md");
    crate::sweep::write_atomic(&path, md.as_bytes())?;
    let mut files = vec![path];
    files.extend(plots);
    Ok(files)
}
