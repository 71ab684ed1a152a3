//! Sweeps: every run of an experiment on an explicit rayon pool, one run per thread,
//! each single-threaded inside, each returning its own record (a diverged or failed run
//! is recorded and the others go on); results written atomically and resumed by run id;
//! shards and their merge.
//!
//! A run's result depends only on its configuration: not on the number of threads, on
//! the order runs finish in, or on the shard it ran in.

mod progress;
mod results;
mod train;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use descent_autodiff::Float;
use rayon::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use thiserror::Error;

pub use progress::{ProgressMode, summary};
pub use results::{
    Best, Curves, Final, ResultsDir, RunRecord, Status, ToTarget, epochs_csv, steps_csv,
    write_atomic,
};
pub use train::{
    Interrupted, Prepared, evaluations_for_steps, higher_is_better, metric_map, prepare,
    steps_for_evaluations, train,
};

use crate::experiment::{Experiment, Precision, RunPlan, SpecErrors};

/// What can stop a sweep as a whole (a single run's trouble is recorded, not raised).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The experiment file or its data.
    #[error("{0}")]
    Spec(#[from] SpecErrors),
    /// A file that cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A results file that does not parse.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A bad argument (`--shard`, `--threads`, folders to merge).
    #[error("{0}")]
    Invalid(String),
}

impl SweepError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        SweepError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// The `i`-th of `n` shares of the runs (from 0): the runs whose index is `i` modulo `n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This share, from 0.
    pub index: usize,
    /// The number of shares.
    pub count: usize,
}

impl Shard {
    /// Whether a run belongs to this shard.
    pub fn contains(&self, plan: &RunPlan) -> bool {
        plan.index % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = SweepError;

    /// `I/N` with `0 <= I < N`.
    fn from_str(s: &str) -> Result<Self, SweepError> {
        let bad = || {
            SweepError::Invalid(format!(
                "--shard `{s}`: expected I/N with 0 <= I < N, such as 0/4"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

/// Called at the start of every run, inside its panic guard.
pub type BeforeRun = Arc<dyn Fn(&RunPlan) + Send + Sync>;

/// How to run a sweep.
#[derive(Clone)]
pub struct SweepOptions {
    /// The results folder.
    pub out: PathBuf,
    /// Threads of the pool (each runs one run at a time); `None`: all cores.
    pub threads: Option<usize>,
    /// Run only this share of the runs.
    pub shard: Option<Shard>,
    /// How to show progress.
    pub progress: ProgressMode,
    /// Set it to stop: running runs end at their next step and are not recorded,
    /// finished ones are kept (the CLI sets it on Ctrl-C).
    pub stop: Arc<AtomicBool>,
    /// A hook at the start of each run (tests use it to make a run panic).
    pub before_run: Option<BeforeRun>,
}

impl SweepOptions {
    /// Defaults: all cores, every run, progress on standard error.
    pub fn new(out: impl Into<PathBuf>) -> Self {
        SweepOptions {
            out: out.into(),
            threads: None,
            shard: None,
            progress: ProgressMode::Auto,
            stop: Arc::new(AtomicBool::new(false)),
            before_run: None,
        }
    }
}

/// What a sweep did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SweepSummary {
    /// Runs in this shard.
    pub planned: usize,
    /// Runs skipped because they had finished before.
    pub skipped: usize,
    /// Runs that completed now.
    pub completed: usize,
    /// Runs that diverged now.
    pub diverged: usize,
    /// Runs that failed now.
    pub failed: usize,
    /// Runs left unfinished because the sweep was stopped.
    pub interrupted: usize,
    /// Threads used.
    pub threads: usize,
    /// Wall seconds.
    pub seconds: f64,
}

/// The pool's size: `threads`, or every core.
pub fn thread_count(threads: Option<usize>) -> usize {
    threads
        .filter(|&t| t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs (the unfinished runs of the shard of) an experiment.
///
/// # Errors
/// A problem whose data cannot be loaded or do not fit (with field and line); a results
/// folder that cannot be written; a pool that cannot start.
pub fn run(experiment: &Experiment, options: &SweepOptions) -> Result<SweepSummary, SweepError> {
    match experiment.spec.precision {
        Precision::F32 => run_typed::<f32>(experiment, options),
        Precision::F64 => run_typed::<f64>(experiment, options),
    }
}

fn run_typed<T>(experiment: &Experiment, options: &SweepOptions) -> Result<SweepSummary, SweepError>
where
    T: Float + Serialize + DeserializeOwned,
{
    let clock = Instant::now();
    let data = prepare::<T>(experiment).map_err(SpecErrors)?;
    let dir = ResultsDir::new(&options.out);
    dir.create()?;
    write_atomic(&dir.experiment(), experiment.resolved_toml().as_bytes())?;
    let mine: Vec<&RunPlan> = experiment
        .runs
        .iter()
        .filter(|p| options.shard.is_none_or(|s| s.contains(p)))
        .collect();
    let todo: Vec<&RunPlan> = mine
        .iter()
        .copied()
        .filter(|p| !dir.is_finished(&p.id))
        .collect();
    let threads = thread_count(options.threads);
    let mut summary = SweepSummary {
        planned: mine.len(),
        skipped: mine.len() - todo.len(),
        threads,
        ..SweepSummary::default()
    };
    let display = progress::Display::new(options.progress, todo.len(), summary.skipped);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("descent-sweep-{i}"))
        .build()
        .map_err(|e| SweepError::Invalid(format!("cannot start {threads} threads: {e}")))?;
    let outcomes: Mutex<Vec<Result<Status, SweepError>>> = Mutex::new(Vec::new());
    let stop = &*options.stop;
    pool.install(|| {
        todo.par_iter().with_max_len(1).for_each(|plan| {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let bar = display.start(plan);
            let mut curves = Curves::default();
            let guarded = catch_unwind(AssertUnwindSafe(|| {
                if let Some(hook) = &options.before_run {
                    hook(plan);
                }
                train(plan, &data[plan.problem], &mut curves, stop, bar.clone())
            }));
            let record = match guarded {
                Ok(record) => record,
                Err(payload) if payload.is::<Interrupted>() => {
                    if let Some(bar) = bar {
                        bar.finish_and_clear();
                    }
                    return;
                }
                Err(payload) => failed(plan, &data[plan.problem].metric, panic_message(&*payload)),
            };
            let written = dir.write_run(&record, &curves).map(|()| record.status);
            display.finish(bar, &record);
            outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(written);
        });
    });
    display.close();
    for outcome in outcomes.into_inner().unwrap_or_else(|e| e.into_inner()) {
        match outcome? {
            Status::Completed => summary.completed += 1,
            Status::Diverged => summary.diverged += 1,
            Status::Failed => summary.failed += 1,
        }
    }
    summary.interrupted = todo.len() - summary.completed - summary.diverged - summary.failed;
    write_jsonl_for(experiment, &dir)?;
    summary.seconds = clock.elapsed().as_secs_f64();
    Ok(summary)
}

/// Rewrites `runs.jsonl` from the records in `runs/` that belong to the experiment
/// (any shard's).
fn write_jsonl_for(experiment: &Experiment, dir: &ResultsDir) -> Result<(), SweepError> {
    let ids: BTreeMap<&str, usize> = experiment
        .runs
        .iter()
        .map(|p| (p.id.as_str(), p.index))
        .collect();
    let records: Vec<RunRecord> = dir
        .read_records()?
        .into_iter()
        .filter(|r| ids.get(r.id.as_str()) == Some(&r.index))
        .collect();
    dir.write_jsonl(&records)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        format!("panicked: {s}")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("panicked: {s}")
    } else {
        "panicked".to_string()
    }
}

/// The record of a run that panicked.
fn failed(plan: &RunPlan, metric: &str, message: String) -> RunRecord {
    RunRecord {
        index: plan.index,
        id: plan.id.clone(),
        group: plan.group.clone(),
        label: plan.label.clone(),
        status: Status::Failed,
        stopped_by: "failed".into(),
        message: Some(message),
        diverged_at: None,
        steps: 0,
        gradient_evaluations: 0,
        epochs: 0,
        metric: metric.to_string(),
        final_eval: None,
        best: None,
        target: None,
        wall_seconds: 0.0,
        config: plan.config.clone(),
    }
}

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MergeSummary {
    /// Runs in the merged folder.
    pub runs: usize,
    /// Runs found in more than one folder (kept once).
    pub duplicates: usize,
}

/// Joins the results of shards (or of any sweeps of the same experiment) into `out`:
/// every run once, with its curves, and one `runs.jsonl`.
///
/// # Errors
/// Folders of different experiments (their `experiment.toml` differ), unreadable
/// records, an unwritable `out`.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<MergeSummary, SweepError> {
    if dirs.is_empty() {
        return Err(SweepError::Invalid(
            "nothing to merge: name at least one folder".into(),
        ));
    }
    let target = ResultsDir::new(out);
    let mut experiment: Option<(PathBuf, String)> = None;
    let mut records: BTreeMap<String, RunRecord> = BTreeMap::new();
    let mut summary = MergeSummary::default();
    let mut sources: Vec<(ResultsDir, RunRecord)> = Vec::new();
    for d in dirs {
        let source = ResultsDir::new(d);
        let path = source.experiment();
        let text = std::fs::read_to_string(&path).map_err(|e| SweepError::io(&path, e))?;
        match &experiment {
            None => experiment = Some((path.clone(), text)),
            Some((first, t)) if *t != text => {
                return Err(SweepError::Invalid(format!(
                    "{} and {} describe different experiments; merge only shards of one experiment",
                    first.display(),
                    path.display()
                )));
            }
            Some(_) => {}
        }
        for r in source.read_records()? {
            if records.contains_key(&r.id) {
                summary.duplicates += 1;
                continue;
            }
            records.insert(r.id.clone(), r.clone());
            sources.push((source.clone(), r));
        }
    }
    target.create()?;
    let (_, text) = experiment.expect("at least one folder");
    write_atomic(&target.experiment(), text.as_bytes())?;
    for (source, r) in &sources {
        if source.root == target.root {
            continue;
        }
        for (from, to) in [
            (source.steps_csv(&r.id), target.steps_csv(&r.id)),
            (source.epochs_csv(&r.id), target.epochs_csv(&r.id)),
        ] {
            if from.is_file() {
                let bytes = std::fs::read(&from).map_err(|e| SweepError::io(&from, e))?;
                write_atomic(&to, &bytes)?;
            }
        }
        let json = serde_json::to_string_pretty(r).map_err(|e| SweepError::Json {
            path: target.record(&r.id),
            message: e.to_string(),
        })?;
        write_atomic(&target.record(&r.id), json.as_bytes())?;
    }
    let all: Vec<RunRecord> = records.into_values().collect();
    summary.runs = all.len();
    target.write_jsonl(&all)?;
    Ok(summary)
}
