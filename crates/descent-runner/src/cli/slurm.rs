//! `descent slurm FILE --tasks N ...`: one sweep as a Slurm job array plus a merge job.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use clap::Args;
use descent_runner::experiment::Experiment;
use descent_runner::slurm::{self, SlurmJob};

/// Arguments of `descent slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// The experiment file (on a file system every node of the cluster can read).
    file: PathBuf,
    /// How many array tasks share the sweep (task I runs every N-th run from run I).
    #[arg(long)]
    tasks: usize,
    /// The partition (queue) to submit to (default: the cluster's default partition).
    #[arg(long)]
    partition: Option<String>,
    /// Time limit of each task and of the merge job: minutes, HH:MM:SS or D-HH:MM:SS.
    #[arg(long)]
    time: Option<String>,
    /// Cores of each task; descent runs that many runs at once (SLURM_CPUS_PER_TASK).
    #[arg(long)]
    cpus_per_task: Option<usize>,
    /// Memory of each task, such as 4G or 500M.
    #[arg(long)]
    mem: Option<String>,
    /// Where shards, merged results, scripts and logs go, on a shared file system
    /// (default: results/NAME, NAME from the experiment file).
    #[arg(long)]
    output_dir: Option<PathBuf>,
    /// The job name (default: descent-FILE_STEM).
    #[arg(long)]
    job_name: Option<String>,
    /// The descent program the jobs run (default: this one).
    #[arg(long)]
    descent: Option<PathBuf>,
    /// With --submit: submit only these tasks, such as 2 or 0,3-5 (to rerun tasks that failed
    /// or were cancelled; finished runs are skipped), and a new merge job after them.
    #[arg(long, requires = "submit")]
    only: Option<String>,
    /// Submit the array and the merge job with sbatch and print their job ids.
    #[arg(long)]
    submit: bool,
    /// The sbatch program used by --submit.
    #[arg(long, default_value = "sbatch")]
    sbatch: PathBuf,
}

/// Runs `descent slurm`.
pub fn run(args: SlurmArgs) -> Result<()> {
    // Check the experiment here, on the login node: a mistake found after the jobs waited
    // in the queue costs the wait.
    let experiment = Experiment::load(&args.file).map_err(|e| anyhow::anyhow!("{e}"))?;
    let total = experiment.runs.len();
    let output_dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&experiment.spec.name));
    std::fs::create_dir_all(&output_dir)
        .with_context(|| format!("cannot create the output folder {}", output_dir.display()))?;
    let descent = match &args.descent {
        Some(path) => absolute(path)?,
        None => std::env::current_exe().context("cannot find the descent program's path")?,
    };
    let mut job = SlurmJob::new(
        descent,
        absolute(&args.file)?,
        args.tasks,
        absolute(&output_dir)?,
    );
    job.workdir = Some(std::env::current_dir().context("cannot read the current folder")?);
    job.partition = args.partition;
    job.time = args.time;
    job.cpus_per_task = args.cpus_per_task;
    job.mem = args.mem;
    if let Some(name) = args.job_name {
        job.job_name = name;
    }
    job.validate()?;
    let only = args
        .only
        .as_deref()
        .map(|list| slurm::parse_task_list(list, args.tasks))
        .transpose()?;
    let scripts = job.write()?;

    let per_task = if args.tasks > 0 {
        total.div_ceil(args.tasks)
    } else {
        0
    };
    println!(
        "{total} runs of `{}` in {} tasks (at most {per_task} runs each)",
        experiment.spec.name, args.tasks
    );
    if args.tasks > total {
        println!("note: tasks {total}-{} have no run to do", args.tasks - 1);
    }
    println!("wrote {}", scripts.array.display());
    println!("wrote {}", scripts.merge.display());
    println!("wrote {}", scripts.submit.display());
    if !args.submit {
        println!("submit with: bash {}", scripts.submit.display());
        println!(
            "merged results and report will be in {}",
            job.merged_dir().display()
        );
        return Ok(());
    }
    let submitted = slurm::submit(&args.sbatch, &scripts, only.as_deref())?;
    let tasks = match &only {
        Some(only) => slurm::format_task_list(only),
        None => format!("0-{}", args.tasks - 1),
    };
    println!("array job {}: tasks {tasks}", submitted.array);
    println!(
        "merge job {}: after job {} succeeds, merges into {} and writes the report",
        submitted.merge,
        submitted.array,
        job.merged_dir().display()
    );
    Ok(())
}

/// `path` from the root, without requiring it to exist below its folder.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .with_context(|| format!("cannot make {} an absolute path", path.display()))
        .map(|p| p.canonicalize().unwrap_or(p))
}
