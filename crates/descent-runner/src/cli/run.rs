//! `descent run FILE`: validate an experiment, list its runs, or run them in parallel.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::{Context, Result};
use clap::Args;
use descent_runner::experiment::Experiment;
use descent_runner::slurm::{self, TaskShare};
use descent_runner::sweep::{self, ProgressMode, Shard, SweepOptions};

/// Arguments of `descent run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The experiment file (TOML).
    file: PathBuf,
    /// Validate the file, load its data and list the runs without running them.
    #[arg(long)]
    dry_run: bool,
    /// Threads, one run on each (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Run only the I-th of N shares of the runs (from 0), such as 0/4.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
    /// Run the share of job-array task I of --tasks N, like --shard I/N
    /// (default: I from SLURM_ARRAY_TASK_ID, as in a Slurm job array).
    #[arg(long, value_name = "I", requires = "tasks")]
    task_index: Option<usize>,
    /// The number of job-array tasks sharing the runs (see --task-index).
    #[arg(long, value_name = "N", conflicts_with = "shard")]
    tasks: Option<usize>,
    /// The results folder (default: results/NAME).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Plain log lines instead of progress bars.
    #[arg(long)]
    plain: bool,
}

/// Runs `descent run`.
pub fn run(args: RunArgs) -> Result<()> {
    let experiment = Experiment::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let shard = args.shard.as_deref().map(str::parse::<Shard>).transpose()?;
    let shard = match args.tasks {
        Some(tasks) => {
            let task = TaskShare::resolve(args.task_index, tasks, slurm::process_env)?;
            Some(Shard {
                index: task.index,
                count: task.count,
            })
        }
        None => shard,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("results").join(&experiment.spec.name));
    let mine: Vec<_> = experiment
        .runs
        .iter()
        .filter(|p| shard.is_none_or(|s| s.contains(p)))
        .collect();
    if args.dry_run {
        match experiment.spec.precision {
            descent_runner::experiment::Precision::F32 => {
                sweep::prepare::<f32>(&experiment).map(drop)
            }
            descent_runner::experiment::Precision::F64 => {
                sweep::prepare::<f64>(&experiment).map(drop)
            }
        }
        .map_err(|e| anyhow::anyhow!("{}", descent_runner::experiment::SpecErrors(e)))?;
        println!(
            "{}: valid; {} runs{}",
            args.file.display(),
            mine.len(),
            shard.map_or(String::new(), |s| format!(
                " in shard {}/{} of {}",
                s.index,
                s.count,
                experiment.runs.len()
            ))
        );
        for p in mine {
            let done = if out.join("runs").join(format!("{}.json", p.id)).is_file() {
                "  (finished)"
            } else {
                ""
            };
            println!(
                "{:>4}  {}  {}  {}  seed {}{done}",
                p.index,
                p.id,
                p.label.problem,
                p.label.config(),
                p.label.seed
            );
        }
        return Ok(());
    }
    let mut options = SweepOptions::new(&out);
    // Under Slurm, the cores granted to this job (SLURM_CPUS_PER_TASK), not the node's.
    options.threads = args
        .threads
        .or_else(|| slurm::granted_cpus(slurm::process_env));
    options.shard = shard;
    if args.plain {
        options.progress = ProgressMode::Plain;
    }
    let stop = options.stop.clone();
    ctrlc::set_handler(move || {
        if stop.swap(true, Ordering::SeqCst) {
            eprintln!("\nstopping now; finished runs are kept");
            std::process::exit(130);
        }
        eprintln!("\nstopping after the current step of each run (Ctrl-C again to quit at once)");
    })
    .context("cannot catch Ctrl-C")?;
    let summary = sweep::run(&experiment, &options).map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "{} runs in {:.1} s on {} threads: {} completed, {} diverged, {} failed{}{}",
        summary.planned,
        summary.seconds,
        summary.threads,
        summary.completed,
        summary.diverged,
        summary.failed,
        if summary.skipped > 0 {
            format!(", {} finished before", summary.skipped)
        } else {
            String::new()
        },
        if summary.interrupted > 0 {
            format!(", {} not finished", summary.interrupted)
        } else {
            String::new()
        }
    );
    println!("results in {}", out.display());
    if summary.interrupted > 0 {
        anyhow::bail!(
            "stopped with {} runs unfinished; run the same command again to resume",
            summary.interrupted
        );
    }
    Ok(())
}
