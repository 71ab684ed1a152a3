//! A sweep's results folder: the resolved experiment, one JSON file per finished run
//! (`runs/ID.json`, the record resume reads), `runs.jsonl` (every finished run, in
//! expansion order) and the curves (`curves/ID.steps.csv`, `curves/ID.epochs.csv`).
//! Every file is written to a temporary name and renamed, so a reader never sees half.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::SweepError;
use crate::experiment::{Label, RunConfig};
use crate::fit::{EpochRecord, StepRecord};

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It used its budget or a stopping rule ended it.
    Completed,
    /// The loss became non-finite or exploded.
    Diverged,
    /// It returned an error or panicked.
    Failed,
}

/// The model at the end of a run, on the evaluation rows (the validation split when
/// there is one, else the training rows).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Final {
    /// The loss on the evaluation rows.
    pub loss: f64,
    /// The loss on the training rows.
    pub train_loss: f64,
    /// The loss on the validation rows, if split.
    pub val_loss: Option<f64>,
    /// Every metric of the task, by name.
    pub metrics: BTreeMap<String, f64>,
}

/// The best the run got at an epoch's end (or at its end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Best {
    /// The lowest loss: the validation loss at an epoch's end when split, else the
    /// mean training loss of an epoch's batches, or the final loss if lower.
    pub loss: f64,
    /// The epoch (from 0) it was reached at; `None` for the final evaluation.
    pub epoch: Option<u64>,
    /// The best value of the reported metric (on validation rows at epoch ends when
    /// split, else the final value).
    pub metric: Option<f64>,
}

/// When the run first reached the target loss (measured as [`Best::loss`] is).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToTarget {
    /// The target.
    pub loss: f64,
    /// Whether it was reached.
    pub reached: bool,
    /// Steps taken by then.
    pub steps: Option<u64>,
    /// Per-row gradient evaluations by then.
    pub gradient_evaluations: Option<u64>,
    /// Wall seconds by then.
    pub seconds: Option<f64>,
}

/// One line of `runs.jsonl`: a finished run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// Its place in the experiment's expansion.
    pub index: usize,
    /// Its stable id.
    pub id: String,
    /// The id of its configuration over seeds.
    pub group: String,
    /// Short labels.
    pub label: Label,
    /// How it ended.
    pub status: Status,
    /// What stopped it: `budget`, `gradient_small`, `loss_stalled`, `early_stopped`,
    /// `diverged` or `failed`.
    pub stopped_by: String,
    /// The error or panic message of a failed run, or the divergence of a diverged one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The step at which it diverged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diverged_at: Option<u64>,
    /// Optimizer steps taken.
    pub steps: u64,
    /// Per-row gradient evaluations (a step on k rows counts k).
    pub gradient_evaluations: u64,
    /// Epochs begun.
    pub epochs: u64,
    /// The metric the report ranks by (`accuracy`, `r2`, ...).
    pub metric: String,
    /// The model at the end (not for diverged or failed runs).
    pub final_eval: Option<Final>,
    /// The best seen.
    pub best: Option<Best>,
    /// Time and steps to the target loss, if one is set.
    pub target: Option<ToTarget>,
    /// Wall seconds of training (data preparation aside).
    pub wall_seconds: f64,
    /// The resolved configuration.
    pub config: RunConfig,
}

/// A run's recorded curves.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Curves {
    /// Every step (when recorded).
    pub steps: Vec<StepRecord>,
    /// Every epoch.
    pub epochs: Vec<EpochRecord>,
    /// The reported metric on the validation rows at each epoch's end, when split.
    pub val_metric: Vec<Option<f64>>,
}

static TMP: AtomicU64 = AtomicU64::new(0);

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
///
/// # Errors
/// [`SweepError::Io`] naming the file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SweepError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TMP.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            SweepError::io(path, e)
        })
}

/// The files of a results folder.
#[derive(Clone, Debug)]
pub struct ResultsDir {
    /// The folder.
    pub root: PathBuf,
}

impl ResultsDir {
    /// The folder `root` (not created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ResultsDir { root: root.into() }
    }

    /// Creates the folder and its `runs/` and `curves/` folders.
    ///
    /// # Errors
    /// [`SweepError::Io`].
    pub fn create(&self) -> Result<(), SweepError> {
        for dir in [self.runs_dir(), self.curves_dir()] {
            std::fs::create_dir_all(&dir).map_err(|e| SweepError::io(&dir, e))?;
        }
        Ok(())
    }

    /// `experiment.toml`: the resolved experiment.
    pub fn experiment(&self) -> PathBuf {
        self.root.join("experiment.toml")
    }

    /// `runs.jsonl`.
    pub fn jsonl(&self) -> PathBuf {
        self.root.join("runs.jsonl")
    }

    /// `runs/`.
    pub fn runs_dir(&self) -> PathBuf {
        self.root.join("runs")
    }

    /// `curves/`.
    pub fn curves_dir(&self) -> PathBuf {
        self.root.join("curves")
    }

    /// `runs/ID.json`.
    pub fn record(&self, id: &str) -> PathBuf {
        self.runs_dir().join(format!("{id}.json"))
    }

    /// `curves/ID.steps.csv`.
    pub fn steps_csv(&self, id: &str) -> PathBuf {
        self.curves_dir().join(format!("{id}.steps.csv"))
    }

    /// `curves/ID.epochs.csv`.
    pub fn epochs_csv(&self, id: &str) -> PathBuf {
        self.curves_dir().join(format!("{id}.epochs.csv"))
    }

    /// Whether run `id` has finished here.
    pub fn is_finished(&self, id: &str) -> bool {
        self.record(id).is_file()
    }

    /// Writes a finished run: its curves, then its record (the record last, so that a
    /// record always has its curves).
    ///
    /// # Errors
    /// [`SweepError::Io`].
    pub fn write_run(&self, record: &RunRecord, curves: &Curves) -> Result<(), SweepError> {
        if !curves.steps.is_empty() {
            write_atomic(
                &self.steps_csv(&record.id),
                steps_csv(&curves.steps).as_bytes(),
            )?;
        }
        write_atomic(&self.epochs_csv(&record.id), epochs_csv(curves).as_bytes())?;
        let json = serde_json::to_string_pretty(record).map_err(|e| SweepError::Json {
            path: self.record(&record.id),
            message: e.to_string(),
        })?;
        write_atomic(&self.record(&record.id), json.as_bytes())
    }

    /// Every finished run: from `runs/` when it exists, else from `runs.jsonl`; sorted
    /// by index.
    ///
    /// # Errors
    /// [`SweepError::Io`] or [`SweepError::Json`] naming the file (and line).
    pub fn read_records(&self) -> Result<Vec<RunRecord>, SweepError> {
        let mut records = Vec::new();
        let dir = self.runs_dir();
        if dir.is_dir() {
            let entries = std::fs::read_dir(&dir).map_err(|e| SweepError::io(&dir, e))?;
            for entry in entries {
                let path = entry.map_err(|e| SweepError::io(&dir, e))?.path();
                if path.extension().is_some_and(|e| e == "json")
                    && !path
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| SweepError::io(&path, e))?;
                    records.push(serde_json::from_str(&text).map_err(|e| SweepError::Json {
                        path: path.clone(),
                        message: e.to_string(),
                    })?);
                }
            }
        } else {
            let path = self.jsonl();
            let text = std::fs::read_to_string(&path).map_err(|e| SweepError::io(&path, e))?;
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                records.push(serde_json::from_str(line).map_err(|e| SweepError::Json {
                    path: path.clone(),
                    message: format!("line {}: {e}", i + 1),
                })?);
            }
        }
        records.sort_by(|a: &RunRecord, b| a.index.cmp(&b.index).then(a.id.cmp(&b.id)));
        Ok(records)
    }

    /// Writes `runs.jsonl`: these records, one per line, in index order.
    ///
    /// # Errors
    /// [`SweepError::Io`].
    pub fn write_jsonl(&self, records: &[RunRecord]) -> Result<(), SweepError> {
        let mut sorted: Vec<&RunRecord> = records.iter().collect();
        sorted.sort_by(|a, b| a.index.cmp(&b.index).then(a.id.cmp(&b.id)));
        let mut text = String::new();
        for r in sorted {
            let line = serde_json::to_string(r).map_err(|e| SweepError::Json {
                path: self.jsonl(),
                message: e.to_string(),
            })?;
            text.push_str(&line);
            text.push('\n');
        }
        write_atomic(&self.jsonl(), text.as_bytes())
    }

    /// Reads a run's per-epoch curve: (epoch, step, epoch loss) rows, where the epoch
    /// loss is the validation loss when split, else the mean training loss.
    ///
    /// # Errors
    /// [`SweepError::Io`] or [`SweepError::Json`] for an unreadable file.
    pub fn read_epoch_losses(&self, id: &str) -> Result<Vec<(u64, u64, f64)>, SweepError> {
        let path = self.epochs_csv(id);
        let text = std::fs::read_to_string(&path).map_err(|e| SweepError::io(&path, e))?;
        let mut rows = Vec::new();
        for (i, line) in text.lines().enumerate().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            let bad = || SweepError::Json {
                path: path.clone(),
                message: format!(
                    "line {}: expected epoch,step,train_loss,val_loss,...",
                    i + 1
                ),
            };
            if f.len() < 4 {
                return Err(bad());
            }
            let epoch = f[0].parse().map_err(|_| bad())?;
            let step = f[1].parse().map_err(|_| bad())?;
            let loss = if f[3].is_empty() { f[2] } else { f[3] };
            rows.push((epoch, step, loss.parse().map_err(|_| bad())?));
        }
        Ok(rows)
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// The step curve as CSV.
pub fn steps_csv(steps: &[StepRecord]) -> String {
    let mut out = String::from("step,epoch,loss,lr,grad_norm,seconds\n");
    for s in steps {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}",
            s.step, s.epoch, s.loss, s.lr, s.grad_norm, s.seconds
        );
    }
    out
}

/// The epoch curve as CSV.
pub fn epochs_csv(curves: &Curves) -> String {
    let mut out = String::from("epoch,step,train_loss,val_loss,val_metric,lr,grad_norm,seconds\n");
    for (i, e) in curves.epochs.iter().enumerate() {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            e.epoch,
            e.step,
            e.train_loss,
            opt(e.val_loss),
            opt(curves.val_metric.get(i).copied().flatten()),
            e.lr,
            e.grad_norm,
            e.seconds
        );
    }
    out
}
