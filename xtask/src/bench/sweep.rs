//! W4 `sweep`: the 32 runs of `experiments/w4-sweep.toml` (4 optimizers × 4 learning
//! rates × 2 seeds of a 64 → 64 → ReLU → 10 classifier on digits, 10 epochs of batches
//! of 32) on a pool of every core and on a pool of one; parallel efficiency is
//! `seconds(1 thread) / (threads × seconds(all threads))`.
//!
//! Each timed sweep writes into a fresh results folder (a sweep into a folder that has
//! the runs would skip them all), so the time includes writing every result and curve,
//! as `descent run` does. `--quick` runs 1 epoch instead of 10.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use descent_runner::experiment::Experiment;
use descent_runner::sweep::{self, ProgressMode, ResultsDir, Status, SweepOptions};
use serde_json::json;

use super::{Measurement, Settings, median_of};

fn experiment(quick: bool) -> Result<Experiment> {
    let path = crate::project_root().join("experiments/w4-sweep.toml");
    let mut text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    if quick {
        text = text.replace("budget = { epochs = 10 }", "budget = { epochs = 1 }");
    }
    let base = path.parent().unwrap_or(&path).to_path_buf();
    Experiment::parse(&text, &path.display().to_string(), &base).map_err(|e| anyhow!("{e}"))
}

/// Runs the whole sweep on `threads` threads into a fresh folder; returns the folder.
fn sweep_once(e: &Experiment, threads: usize, tag: &str, n: &mut usize) -> Result<PathBuf> {
    *n += 1;
    let out =
        std::env::temp_dir().join(format!("descent-bench-w4-{}-{tag}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let mut options = SweepOptions::new(&out);
    options.threads = Some(threads);
    options.progress = ProgressMode::Quiet;
    let summary = sweep::run(e, &options).map_err(|err| anyhow!("{err}"))?;
    anyhow::ensure!(
        summary.completed + summary.diverged == e.runs.len(),
        "W4: {summary:?}"
    );
    Ok(out)
}

/// W4: median wall time of the whole sweep on every core and on one.
pub fn sweep_workload(settings: &Settings) -> Result<Measurement> {
    let e = experiment(settings.quick)?;
    let cores = sweep::thread_count(None);
    let mut n = 0;
    let mut run = |threads: usize, tag: &str| -> Result<(f64, PathBuf)> {
        let mut dirs = Vec::new();
        let (seconds, last) = median_of(settings.repetitions, || {
            let dir = sweep_once(&e, threads, tag, &mut n);
            if let Ok(d) = &dir {
                dirs.push(d.clone());
            }
            dir
        });
        let last = last?;
        for d in dirs.iter().filter(|d| **d != last) {
            let _ = std::fs::remove_dir_all(d);
        }
        Ok((seconds, last))
    };
    let (all, dir) = run(cores, "all")?;
    let (one, dir1) = run(1, "one")?;
    let records = ResultsDir::new(&dir)
        .read_records()
        .map_err(|err| anyhow!("{err}"))?;
    eprintln!("# W4 per-run final loss (mean cross-entropy over all rows), {cores} threads");
    eprintln!(
        "{:<18} {:>6} {:>4} {:>12} {:>7}",
        "optimizer", "lr", "seed", "final_loss", "run_s"
    );
    for r in &records {
        let loss = match r.status {
            Status::Completed => r.final_eval.as_ref().map_or(f64::NAN, |f| f.loss),
            _ => f64::NAN,
        };
        eprintln!(
            "{:<18} {:>6} {:>4} {:>12.6} {:>7.3}",
            r.label.optimizer, r.label.lr, r.label.seed, loss, r.wall_seconds
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir1);
    let mut extra = serde_json::Map::new();
    extra.insert("runs".into(), json!(records.len()));
    extra.insert("one_thread_seconds".into(), json!(one));
    extra.insert(
        "parallel_efficiency".into(),
        json!(one / (cores as f64 * all)),
    );
    Ok(Measurement {
        seconds: all,
        threads: cores,
        extra,
    })
}
