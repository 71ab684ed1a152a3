//! Running one sweep as a Slurm job array: which share an array task runs, how many cores it
//! may use, and the `sbatch` scripts that spread a sweep over a cluster and merge the shards.
//!
//! descent does not schedule anything itself. A sweep is a list of runs with stable ids;
//! task `i` of an `n`-task array runs the `i`-th share into its own shard directory (resuming,
//! so a re-queued task skips what it finished), and a follow-up job that Slurm starts only when
//! every task succeeded (`--dependency=afterok`) merges the shards and writes the report.
//!
//! ```
//! use descent_runner::slurm::SlurmJob;
//!
//! let job = SlurmJob::new("/usr/local/bin/descent", "/home/me/exp.toml", 4, "/scratch/exp");
//! job.validate()?;
//! let script = job.array_script();
//! assert!(script.contains("#SBATCH --array=0-3\n"));
//! assert!(job.merge_script().contains("#SBATCH --kill-on-invalid-dep=yes\n"));
//! # Ok::<(), descent_runner::slurm::SlurmError>(())
//! ```

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use thiserror::Error;

/// The environment variable Slurm sets to an array task's index.
pub const ARRAY_TASK_ID: &str = "SLURM_ARRAY_TASK_ID";
/// The environment variable Slurm sets to the number of array tasks.
pub const ARRAY_TASK_COUNT: &str = "SLURM_ARRAY_TASK_COUNT";
/// The environment variable Slurm sets to the cores granted to each task (`--cpus-per-task`).
pub const CPUS_PER_TASK: &str = "SLURM_CPUS_PER_TASK";
/// The environment variable Slurm sets to the cores a job holds on each of its nodes
/// (`4`, or `4(x2),2` for several nodes).
pub const JOB_CPUS_PER_NODE: &str = "SLURM_JOB_CPUS_PER_NODE";

/// What can go wrong when preparing, reading or submitting a Slurm job.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SlurmError {
    /// An option has a value Slurm or descent would refuse.
    #[error("{option} `{value}` is not valid: {reason}")]
    Invalid {
        /// The option, as written on the command line (`--time`).
        option: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        reason: String,
    },
    /// No task index was given and `SLURM_ARRAY_TASK_ID` is not set.
    #[error(
        "no task index: pass --task-index I, or run inside a Slurm job array, which sets {ARRAY_TASK_ID}"
    )]
    NoTaskIndex,
    /// A file could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The system's error.
        source: std::io::Error,
    },
    /// `sbatch` could not be started, or refused the job.
    #[error("sbatch {what}: {message}")]
    Sbatch {
        /// Which job was being submitted.
        what: String,
        /// What went wrong, with sbatch's own message.
        message: String,
    },
}

fn invalid(option: &'static str, value: &str, reason: impl Into<String>) -> SlurmError {
    SlurmError::Invalid {
        option,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// The share of a sweep one array task runs: task `index` of `count`, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskShare {
    /// This task's index, `0..count`.
    pub index: usize,
    /// How many tasks share the sweep.
    pub count: usize,
}

impl TaskShare {
    /// The share of task `index` (or, when `None`, of the task named by `SLURM_ARRAY_TASK_ID`
    /// in `env`) among `count` tasks. `env` looks a variable up, as [`std::env::var`] does.
    pub fn resolve(
        index: Option<usize>,
        count: usize,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, SlurmError> {
        if count == 0 {
            return Err(invalid("--tasks", "0", "a sweep needs at least one task"));
        }
        let index = match index {
            Some(index) => index,
            None => {
                let raw = env(ARRAY_TASK_ID).ok_or(SlurmError::NoTaskIndex)?;
                raw.trim().parse::<usize>().map_err(|_| {
                    invalid(
                        "--task-index",
                        &raw,
                        format!("{ARRAY_TASK_ID} must be a whole number from 0"),
                    )
                })?
            }
        };
        if index >= count {
            return Err(invalid(
                "--task-index",
                &index.to_string(),
                format!(
                    "with --tasks {count} the index runs from 0 to {}; submit the array as --array=0-{}",
                    count - 1,
                    count - 1
                ),
            ));
        }
        Ok(Self { index, count })
    }

    /// Which of `total` runs, in sweep order, belong to this share: run `r` goes to task
    /// `r % count`, so shares differ in size by at most one and every run has exactly one task.
    pub fn runs(&self, total: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
        (self.index..total).step_by(self.count)
    }
}

/// The number of cores this process may use under Slurm: `SLURM_CPUS_PER_TASK` (set when the
/// job asked for `--cpus-per-task`), else `SLURM_JOB_CPUS_PER_NODE` when it is one number (the
/// cores of a one-node job, one core by default); `None` outside Slurm (use the machine's).
/// `env` looks a variable up, as [`process_env`] does.
pub fn granted_cpus(env: impl Fn(&str) -> Option<String>) -> Option<usize> {
    let positive = |raw: String| raw.trim().parse::<usize>().ok().filter(|&n| n > 0);
    env(CPUS_PER_TASK)
        .and_then(positive)
        .or_else(|| env(JOB_CPUS_PER_NODE).and_then(positive))
}

/// Looks an environment variable up in this process's environment.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// One sweep as a Slurm job array plus a merge job: what `descent slurm` writes and submits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlurmJob {
    /// The `descent` program the jobs run (a path every node can reach).
    pub descent: PathBuf,
    /// The experiment file (a path every node can reach).
    pub experiment: PathBuf,
    /// How many array tasks share the sweep.
    pub tasks: usize,
    /// Where shards, merged results, scripts and logs go (on a shared file system).
    pub output_dir: PathBuf,
    /// The directory the jobs run in (relative paths inside the experiment resolve from it).
    pub workdir: Option<PathBuf>,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--time`, per array task and for the merge job.
    pub time: Option<String>,
    /// `--cpus-per-task` of each array task.
    pub cpus_per_task: Option<usize>,
    /// `--mem` of each array task.
    pub mem: Option<String>,
    /// `--job-name` of the array; the merge job adds `-merge`.
    pub job_name: String,
}

impl SlurmJob {
    /// A job for `experiment` in `tasks` tasks writing under `output_dir`, with no partition,
    /// time, core or memory request (the cluster's defaults) and a job name from the file's name.
    pub fn new(
        descent: impl Into<PathBuf>,
        experiment: impl Into<PathBuf>,
        tasks: usize,
        output_dir: impl Into<PathBuf>,
    ) -> Self {
        let experiment = experiment.into();
        let stem = experiment
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned());
        let stem: String = stem
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Self {
            descent: descent.into(),
            experiment,
            tasks,
            output_dir: output_dir.into(),
            workdir: None,
            partition: None,
            time: None,
            cpus_per_task: None,
            mem: None,
            job_name: if stem.is_empty() {
                "descent".into()
            } else {
                format!("descent-{stem}")
            },
        }
    }

    /// Checks every option against what Slurm accepts, so that a mistake is reported here and
    /// not by `sbatch` on the cluster.
    pub fn validate(&self) -> Result<(), SlurmError> {
        if self.tasks == 0 {
            return Err(invalid("--tasks", "0", "a sweep needs at least one task"));
        }
        if let Some(partition) = &self.partition {
            check_partition(partition)?;
        }
        if let Some(time) = &self.time {
            check_time(time)?;
        }
        if self.cpus_per_task == Some(0) {
            return Err(invalid(
                "--cpus-per-task",
                "0",
                "a task needs at least one core",
            ));
        }
        if let Some(mem) = &self.mem {
            check_mem(mem)?;
        }
        if self.job_name.is_empty()
            || !self
                .job_name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(invalid(
                "--job-name",
                &self.job_name,
                "use letters, digits, `-`, `_` and `.`",
            ));
        }
        for (option, path) in [
            ("--descent", &self.descent),
            ("FILE", &self.experiment),
            ("--output-dir", &self.output_dir),
        ] {
            if path.to_str().is_none() {
                return Err(invalid(
                    option,
                    &path.to_string_lossy(),
                    "the path must be UTF-8",
                ));
            }
        }
        Ok(())
    }

    /// The shard directory array task `index` writes into.
    pub fn shard_dir(&self, index: usize) -> PathBuf {
        self.output_dir.join("shards").join(format!("task-{index}"))
    }

    /// Where the merge job writes the merged results and the report.
    pub fn merged_dir(&self) -> PathBuf {
        self.output_dir.join("merged")
    }

    /// Where the scripts are written.
    pub fn script_dir(&self) -> PathBuf {
        self.output_dir.join("slurm")
    }

    /// Where Slurm writes the jobs' standard output and error.
    pub fn log_dir(&self) -> PathBuf {
        self.script_dir().join("logs")
    }

    fn common_header(&self, out: &mut String, name: &str) {
        out.push_str("#!/bin/bash\n");
        let _ = writeln!(out, "#SBATCH --job-name={name}");
        if let Some(partition) = &self.partition {
            let _ = writeln!(out, "#SBATCH --partition={partition}");
        }
        if let Some(time) = &self.time {
            let _ = writeln!(out, "#SBATCH --time={time}");
        }
        if let Some(workdir) = &self.workdir {
            let _ = writeln!(out, "#SBATCH --chdir={}", workdir.display());
        }
        out.push_str("#SBATCH --ntasks=1\n#SBATCH --nodes=1\n");
    }

    /// The array script: task `$SLURM_ARRAY_TASK_ID` runs its share of the sweep into its shard
    /// directory, on the cores Slurm granted it. Re-running a task resumes it.
    pub fn array_script(&self) -> String {
        let mut s = String::new();
        self.common_header(&mut s, &self.job_name);
        let _ = writeln!(s, "#SBATCH --array=0-{}", self.tasks.saturating_sub(1));
        if let Some(cpus) = self.cpus_per_task {
            let _ = writeln!(s, "#SBATCH --cpus-per-task={cpus}");
        }
        if let Some(mem) = &self.mem {
            let _ = writeln!(s, "#SBATCH --mem={mem}");
        }
        let _ = writeln!(
            s,
            "#SBATCH --output={}",
            self.log_dir().join("%x-%A_%a.out").display()
        );
        s.push_str("#SBATCH --open-mode=append\n");
        let _ = write!(
            s,
            "\n# Task $SLURM_ARRAY_TASK_ID of {tasks} runs every {tasks}th run of the sweep into its own\n\
             # shard directory; descent reads the index from SLURM_ARRAY_TASK_ID and uses the\n\
             # SLURM_CPUS_PER_TASK cores it was granted. Finished runs are skipped, so a task that is\n\
             # re-queued or submitted again (sbatch --array=I this-script) resumes where it stopped.\n\
             set -euo pipefail\n\
             echo \"descent: task $SLURM_ARRAY_TASK_ID of {tasks} (job $SLURM_ARRAY_JOB_ID) on $(hostname) with ${{SLURM_CPUS_PER_TASK:-all}} cores\"\n\
             exec {descent} run {experiment} --tasks {tasks} \\\n    --out {shards}/task-\"$SLURM_ARRAY_TASK_ID\"\n",
            tasks = self.tasks,
            descent = shell_quote(&self.descent),
            experiment = shell_quote(&self.experiment),
            shards = shell_quote(&self.output_dir.join("shards")),
        );
        s
    }

    /// The merge script: joins every task's shard into the merged directory and writes the
    /// report. Submitted with `--dependency=afterok:<array job>`, it starts only when every task
    /// succeeded, and Slurm cancels it (`--kill-on-invalid-dep`) when one failed or was cancelled.
    pub fn merge_script(&self) -> String {
        let mut s = String::new();
        self.common_header(&mut s, &format!("{}-merge", self.job_name));
        s.push_str("#SBATCH --cpus-per-task=1\n#SBATCH --kill-on-invalid-dep=yes\n");
        let _ = writeln!(
            s,
            "#SBATCH --output={}",
            self.log_dir().join("%x-%j.out").display()
        );
        let _ = write!(
            s,
            "\nset -euo pipefail\n\
             shards=()\n\
             for ((i = 0; i < {tasks}; i++)); do shards+=({shards}/task-\"$i\"); done\n\
             {descent} merge --out {merged} \"${{shards[@]}}\"\n\
             {descent} report {merged}\n",
            tasks = self.tasks,
            descent = shell_quote(&self.descent),
            shards = shell_quote(&self.output_dir.join("shards")),
            merged = shell_quote(&self.merged_dir()),
        );
        s
    }

    /// A shell script that submits the array and then the merge job after it, as `--submit` does.
    pub fn submit_script(&self) -> String {
        let dir = self.script_dir();
        format!(
            "#!/bin/bash\n\
             # Submits the sweep: the array, then the merge job that runs when every task succeeded.\n\
             # To rerun some tasks only (say 2 and 5 after a node failure): ARRAY=2,5 {me}\n\
             set -euo pipefail\n\
             array=$(sbatch --parsable ${{ARRAY:+--array=$ARRAY}} {array})\n\
             array=${{array%%;*}}\n\
             merge=$(sbatch --parsable --dependency=afterok:\"$array\" {merge})\n\
             merge=${{merge%%;*}}\n\
             echo \"array job $array\"\n\
             echo \"merge job $merge (after job $array succeeds)\"\n",
            me = shell_quote(&dir.join("submit.sh")),
            array = shell_quote(&dir.join("array.sbatch")),
            merge = shell_quote(&dir.join("merge.sbatch")),
        )
    }

    /// Writes `array.sbatch`, `merge.sbatch` and `submit.sh` into [`script_dir`](Self::script_dir)
    /// (each atomically) and creates the log directory Slurm writes into.
    pub fn write(&self) -> Result<Scripts, SlurmError> {
        self.validate()?;
        let dir = self.script_dir();
        let logs = self.log_dir();
        fs::create_dir_all(&logs).map_err(|source| SlurmError::Io { path: logs, source })?;
        let scripts = Scripts {
            array: dir.join("array.sbatch"),
            merge: dir.join("merge.sbatch"),
            submit: dir.join("submit.sh"),
        };
        write_atomic(&scripts.array, &self.array_script())?;
        write_atomic(&scripts.merge, &self.merge_script())?;
        write_atomic(&scripts.submit, &self.submit_script())?;
        Ok(scripts)
    }
}

/// The paths of the written scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scripts {
    /// The job-array script.
    pub array: PathBuf,
    /// The merge-and-report script.
    pub merge: PathBuf,
    /// The script that submits both.
    pub submit: PathBuf,
}

/// The ids Slurm gave a submitted sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// The array job.
    pub array: String,
    /// The merge job, which depends on the array.
    pub merge: String,
}

/// Submits the array (only the tasks in `only`, when given, as `--array=...`) with `sbatch`,
/// then the merge job with `--dependency=afterok:<array>`.
pub fn submit(
    sbatch: &Path,
    scripts: &Scripts,
    only: Option<&[usize]>,
) -> Result<Submitted, SlurmError> {
    let mut args = vec!["--parsable".to_owned()];
    if let Some(only) = only {
        args.push(format!("--array={}", format_task_list(only)));
    }
    args.push(scripts.array.display().to_string());
    let array = run_sbatch(sbatch, "of the job array", &args)?;
    let args = vec![
        "--parsable".to_owned(),
        format!("--dependency=afterok:{array}"),
        scripts.merge.display().to_string(),
    ];
    let merge = run_sbatch(sbatch, "of the merge job", &args)?;
    Ok(Submitted { array, merge })
}

fn run_sbatch(sbatch: &Path, what: &str, args: &[String]) -> Result<String, SlurmError> {
    let error = |message: String| SlurmError::Sbatch {
        what: what.to_owned(),
        message,
    };
    let output = Command::new(sbatch).args(args).output().map_err(|e| {
        error(format!(
            "could not run `{}`: {e}; is Slurm installed here (run this on a login node)?",
            sbatch.display()
        ))
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(error(format!("{} ({})", stderr.trim(), output.status)));
    }
    parse_job_id(&String::from_utf8_lossy(&output.stdout)).map_err(error)
}

/// The job id in what `sbatch --parsable` printed: `ID` or `ID;CLUSTER`.
pub fn parse_job_id(stdout: &str) -> Result<String, String> {
    let line = stdout
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("");
    let id = line.split(';').next().unwrap_or("");
    if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(id.to_owned())
    } else {
        Err(format!(
            "expected a job id from --parsable, got `{}`",
            stdout.trim()
        ))
    }
}

/// Parses a list of task indices in Slurm's `--array` syntax (`3`, `0,2`, `1-4,7`) and checks
/// each against `tasks`. The result is sorted and without repeats.
pub fn parse_task_list(list: &str, tasks: usize) -> Result<Vec<usize>, SlurmError> {
    let bad = |reason: String| invalid("--only", list, reason);
    let mut set = BTreeSet::new();
    for part in list.split(',') {
        let number = |s: &str| {
            s.trim().parse::<usize>().map_err(|_| {
                bad(format!(
                    "`{s}` is not a task index; write indices and ranges like 0,2-3"
                ))
            })
        };
        let (lo, hi) = match part.split_once('-') {
            Some((lo, hi)) => (number(lo)?, number(hi)?),
            None => {
                let n = number(part)?;
                (n, n)
            }
        };
        if lo > hi {
            return Err(bad(format!("the range `{part}` is empty")));
        }
        if hi >= tasks {
            return Err(bad(format!(
                "task {hi} does not exist; with --tasks {tasks} the tasks are 0-{}",
                tasks.saturating_sub(1)
            )));
        }
        set.extend(lo..=hi);
    }
    Ok(set.into_iter().collect())
}

/// Writes a sorted list of task indices in `--array` syntax, runs collapsed: `[0,1,2,5]` → `0-2,5`.
pub fn format_task_list(tasks: &[usize]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < tasks.len() {
        let start = tasks[i];
        let mut end = start;
        while i + 1 < tasks.len() && tasks[i + 1] == end + 1 {
            end += 1;
            i += 1;
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            let _ = write!(out, "{start}");
        } else {
            let _ = write!(out, "{start}-{end}");
        }
        i += 1;
    }
    out
}

/// Quotes `path` for a POSIX shell: as is when it holds only safe characters, else in single
/// quotes with any single quote written as `'\''`.
pub fn shell_quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

fn check_partition(partition: &str) -> Result<(), SlurmError> {
    let ok = !partition.is_empty()
        && partition.split(',').all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        });
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "--partition",
            partition,
            "a partition name (letters, digits, `-`, `_`, `.`), or several separated by commas",
        ))
    }
}

/// Slurm's time formats: `M`, `M:S`, `H:M:S`, `D-H`, `D-H:M`, `D-H:M:S`, or `UNLIMITED`.
fn check_time(time: &str) -> Result<(), SlurmError> {
    let bad = || {
        invalid(
            "--time",
            time,
            "use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (such as 30, 2:00:00 or 1-12:00)",
        )
    };
    if time.eq_ignore_ascii_case("unlimited") || time.eq_ignore_ascii_case("infinite") {
        return Ok(());
    }
    let number = |s: &str| !s.is_empty() && s.len() <= 6 && s.bytes().all(|b| b.is_ascii_digit());
    let (days, rest) = match time.split_once('-') {
        Some((d, rest)) => (Some(d), rest),
        None => (None, time),
    };
    let fields: Vec<&str> = rest.split(':').collect();
    let fits = days.is_none_or(number)
        && fields.iter().all(|f| number(f))
        && (1..=3).contains(&fields.len())
        // Minutes and seconds past the leading field are below 60.
        && fields.iter().skip(1).all(|f| f.parse::<u32>().is_ok_and(|v| v < 60));
    let all_zero = days.is_none_or(|d| d.bytes().all(|b| b == b'0'))
        && fields.iter().all(|f| f.bytes().all(|b| b == b'0'));
    if fits && !all_zero {
        Ok(())
    } else {
        Err(bad())
    }
}

/// Slurm's memory sizes: a positive whole number with an optional unit K, M, G or T (default M).
fn check_mem(mem: &str) -> Result<(), SlurmError> {
    let digits = mem
        .strip_suffix(['K', 'M', 'G', 'T', 'k', 'm', 'g', 't'])
        .unwrap_or(mem);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
    {
        Ok(())
    } else {
        Err(invalid(
            "--mem",
            mem,
            "a size such as 4000, 500M, 4G or 1T (no unit: megabytes)",
        ))
    }
}

fn write_atomic(path: &Path, contents: &str) -> Result<(), SlurmError> {
    let io = |source| SlurmError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            file.set_permissions(fs::Permissions::from_mode(0o755))?;
        }
        drop(file);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    fn job() -> SlurmJob {
        SlurmJob::new(
            "/opt/descent/bin/descent",
            "/home/ana/w4 sweep.toml",
            4,
            "/scratch/ana/w4",
        )
    }

    #[test]
    fn task_index_comes_from_the_flag_before_the_environment() {
        let vars = [(ARRAY_TASK_ID, "3")];
        assert_eq!(
            TaskShare::resolve(Some(1), 4, env(&vars)).unwrap(),
            TaskShare { index: 1, count: 4 }
        );
        assert_eq!(
            TaskShare::resolve(None, 4, env(&vars)).unwrap(),
            TaskShare { index: 3, count: 4 }
        );
    }

    #[test]
    fn task_index_errors_say_what_to_do() {
        let none = TaskShare::resolve(None, 4, env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            none,
            "no task index: pass --task-index I, or run inside a Slurm job array, which sets SLURM_ARRAY_TASK_ID"
        );
        let garbage = TaskShare::resolve(None, 4, env(&[(ARRAY_TASK_ID, "x1")]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            garbage,
            "--task-index `x1` is not valid: SLURM_ARRAY_TASK_ID must be a whole number from 0"
        );
        let high = TaskShare::resolve(None, 4, env(&[(ARRAY_TASK_ID, "4")])).unwrap_err();
        assert_eq!(
            high.to_string(),
            "--task-index `4` is not valid: with --tasks 4 the index runs from 0 to 3; submit the array as --array=0-3"
        );
        let zero = TaskShare::resolve(Some(0), 0, env(&[]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            zero,
            "--tasks `0` is not valid: a sweep needs at least one task"
        );
    }

    #[test]
    fn shares_cover_every_run_exactly_once() {
        for count in 1..=7 {
            for total in [0, 1, 5, 16, 17] {
                let mut seen = vec![0; total];
                let mut sizes = Vec::new();
                for index in 0..count {
                    let share = TaskShare { index, count };
                    let runs: Vec<_> = share.runs(total).collect();
                    sizes.push(runs.len());
                    for r in runs {
                        seen[r] += 1;
                    }
                }
                assert!(seen.iter().all(|&n| n == 1), "count {count} total {total}");
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "uneven shares {sizes:?}");
            }
        }
    }

    #[test]
    fn granted_cpus_reads_slurm_cpus_per_task() {
        assert_eq!(granted_cpus(env(&[(CPUS_PER_TASK, "3")])), Some(3));
        assert_eq!(granted_cpus(env(&[])), None);
        assert_eq!(granted_cpus(env(&[(CPUS_PER_TASK, "0")])), None);
        assert_eq!(granted_cpus(env(&[(CPUS_PER_TASK, "many")])), None);
        assert_eq!(granted_cpus(env(&[(JOB_CPUS_PER_NODE, "2")])), Some(2));
        assert_eq!(granted_cpus(env(&[(JOB_CPUS_PER_NODE, "4(x2),2")])), None);
        assert_eq!(
            granted_cpus(env(&[(CPUS_PER_TASK, "3"), (JOB_CPUS_PER_NODE, "8")])),
            Some(3)
        );
    }

    #[test]
    fn array_script_is_complete() {
        let mut job = job();
        job.partition = Some("cpu".into());
        job.time = Some("2:00:00".into());
        job.cpus_per_task = Some(8);
        job.mem = Some("16G".into());
        job.workdir = Some("/home/ana".into());
        job.validate().unwrap();
        let expected = "#!/bin/bash
#SBATCH --job-name=descent-w4_sweep
#SBATCH --partition=cpu
#SBATCH --time=2:00:00
#SBATCH --chdir=/home/ana
#SBATCH --ntasks=1
#SBATCH --nodes=1
#SBATCH --array=0-3
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --output=/scratch/ana/w4/slurm/logs/%x-%A_%a.out
#SBATCH --open-mode=append

# Task $SLURM_ARRAY_TASK_ID of 4 runs every 4th run of the sweep into its own
# shard directory; descent reads the index from SLURM_ARRAY_TASK_ID and uses the
# SLURM_CPUS_PER_TASK cores it was granted. Finished runs are skipped, so a task that is
# re-queued or submitted again (sbatch --array=I this-script) resumes where it stopped.
set -euo pipefail
echo \"descent: task $SLURM_ARRAY_TASK_ID of 4 (job $SLURM_ARRAY_JOB_ID) on $(hostname) with ${SLURM_CPUS_PER_TASK:-all} cores\"
exec /opt/descent/bin/descent run '/home/ana/w4 sweep.toml' --tasks 4 \\
    --out /scratch/ana/w4/shards/task-\"$SLURM_ARRAY_TASK_ID\"
";
        assert_eq!(job.array_script(), expected);
    }

    #[test]
    fn scripts_leave_out_what_was_not_asked_for() {
        let job = job();
        let array = job.array_script();
        for absent in [
            "--partition",
            "--time",
            "--mem",
            "--chdir",
            "--cpus-per-task",
        ] {
            assert!(!array.contains(absent), "{absent} in\n{array}");
        }
        assert!(array.contains("#SBATCH --array=0-3\n"));
        let one = SlurmJob { tasks: 1, ..job };
        assert!(one.array_script().contains("#SBATCH --array=0-0\n"));
    }

    #[test]
    fn merge_script_merges_every_shard_then_reports() {
        let mut job = job();
        job.time = Some("30".into());
        let expected = "#!/bin/bash
#SBATCH --job-name=descent-w4_sweep-merge
#SBATCH --time=30
#SBATCH --ntasks=1
#SBATCH --nodes=1
#SBATCH --cpus-per-task=1
#SBATCH --kill-on-invalid-dep=yes
#SBATCH --output=/scratch/ana/w4/slurm/logs/%x-%j.out

set -euo pipefail
shards=()
for ((i = 0; i < 4; i++)); do shards+=(/scratch/ana/w4/shards/task-\"$i\"); done
/opt/descent/bin/descent merge --out /scratch/ana/w4/merged \"${shards[@]}\"
/opt/descent/bin/descent report /scratch/ana/w4/merged
";
        assert_eq!(job.merge_script(), expected);
    }

    #[test]
    fn merge_script_lists_the_shards_in_bash() {
        // The loop in the merge script, run by bash, names every shard directory once.
        let Ok(output) = Command::new("bash")
            .arg("-c")
            .arg("shards=(); for ((i = 0; i < 3; i++)); do shards+=(/o/shards/task-\"$i\"); done; printf '%s\\n' \"${shards[@]}\"")
            .output()
        else {
            return; // no bash on this machine: the exact-text test above still holds
        };
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "/o/shards/task-0\n/o/shards/task-1\n/o/shards/task-2\n"
        );
    }

    #[test]
    fn options_are_checked() {
        let check = |f: &dyn Fn(&mut SlurmJob)| {
            let mut job = job();
            f(&mut job);
            job.validate().map_err(|e| e.to_string())
        };
        for ok in [
            "30",
            "45:00",
            "2:00:00",
            "1-0",
            "1-12:00",
            "2-00:00:00",
            "UNLIMITED",
        ] {
            assert_eq!(check(&|j| j.time = Some(ok.into())), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "0",
            "0:00",
            "1h",
            "2:60:00",
            "1-2:3:4:5",
            "-3",
            "1:2:3:4",
            "a-1",
        ] {
            assert!(check(&|j| j.time = Some(bad.into())).is_err(), "{bad}");
        }
        assert_eq!(
            check(&|j| j.time = Some("2h".into())).unwrap_err(),
            "--time `2h` is not valid: use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (such as 30, 2:00:00 or 1-12:00)"
        );
        for ok in ["4000", "500M", "4G", "1T", "64k"] {
            assert_eq!(check(&|j| j.mem = Some(ok.into())), Ok(()), "{ok}");
        }
        for bad in ["", "0", "0G", "4GB", "G", "-1G", "1.5G"] {
            assert!(check(&|j| j.mem = Some(bad.into())).is_err(), "{bad}");
        }
        for ok in ["cpu", "short,long", "gpu_a100", "p-1.2"] {
            assert_eq!(check(&|j| j.partition = Some(ok.into())), Ok(()), "{ok}");
        }
        for bad in ["", "a b", "a,", "x;rm -rf /", "'q'"] {
            assert!(check(&|j| j.partition = Some(bad.into())).is_err(), "{bad}");
        }
        assert_eq!(
            check(&|j| j.cpus_per_task = Some(0)).unwrap_err(),
            "--cpus-per-task `0` is not valid: a task needs at least one core"
        );
        assert!(check(&|j| j.tasks = 0).is_err());
        assert!(check(&|j| j.job_name = "a b".into()).is_err());
    }

    #[test]
    fn task_lists_round_trip() {
        assert_eq!(parse_task_list("2", 4).unwrap(), vec![2]);
        assert_eq!(parse_task_list("3,0-1,1", 4).unwrap(), vec![0, 1, 3]);
        assert_eq!(format_task_list(&[0, 1, 2, 5, 7, 8]), "0-2,5,7-8");
        assert_eq!(format_task_list(&[4]), "4");
        assert_eq!(
            parse_task_list("4", 4).unwrap_err().to_string(),
            "--only `4` is not valid: task 4 does not exist; with --tasks 4 the tasks are 0-3"
        );
        assert!(parse_task_list("3-1", 4).is_err());
        assert!(parse_task_list("", 4).is_err());
        assert!(parse_task_list("a", 4).is_err());
        for list in ["0", "0-3", "1,3", "0-1,3"] {
            let parsed = parse_task_list(list, 4).unwrap();
            assert_eq!(format_task_list(&parsed), list);
        }
    }

    #[test]
    fn job_ids_from_sbatch_parsable() {
        assert_eq!(parse_job_id("1234\n"), Ok("1234".into()));
        assert_eq!(parse_job_id("1234;cluster\n"), Ok("1234".into()));
        assert!(parse_job_id("").is_err());
        assert!(parse_job_id("Submitted batch job 12\n").is_err());
    }

    #[test]
    fn shell_quoting() {
        assert_eq!(shell_quote(Path::new("/a/b-c_d.toml")), "/a/b-c_d.toml");
        assert_eq!(shell_quote(Path::new("/a b/c")), "'/a b/c'");
        assert_eq!(shell_quote(Path::new("it's")), r"'it'\''s'");
        assert_eq!(shell_quote(Path::new("$HOME")), "'$HOME'");
    }

    #[test]
    fn write_puts_executable_scripts_and_the_log_directory_in_place() {
        let dir = std::env::temp_dir().join(format!("descent-slurm-unit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let job = SlurmJob::new("/bin/descent", "/e.toml", 2, &dir);
        let scripts = job.write().unwrap();
        assert_eq!(
            fs::read_to_string(&scripts.array).unwrap(),
            job.array_script()
        );
        assert_eq!(
            fs::read_to_string(&scripts.merge).unwrap(),
            job.merge_script()
        );
        assert_eq!(
            fs::read_to_string(&scripts.submit).unwrap(),
            job.submit_script()
        );
        assert!(job.log_dir().is_dir());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = fs::metadata(&scripts.submit).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o755);
        }
        let leftovers: Vec<_> = fs::read_dir(job.script_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn submit_uses_sbatch_parsable_and_afterok() {
        // A stand-in sbatch that records its arguments and answers like `sbatch --parsable`.
        let dir = std::env::temp_dir().join(format!("descent-slurm-submit-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let fake = dir.join("sbatch");
        let calls = dir.join("calls");
        write_atomic(
            &fake,
            &format!(
                "#!/bin/sh\necho \"$*\" >> {calls}\nn=$(wc -l < {calls})\necho \"$((100 + n));localhost\"\n",
                calls = calls.display()
            ),
        )
        .unwrap();
        let job = SlurmJob::new("/bin/descent", "/e.toml", 4, &dir);
        let scripts = job.write().unwrap();
        let submitted = submit(&fake, &scripts, Some(&[1, 2])).unwrap();
        assert_eq!(
            submitted,
            Submitted {
                array: "101".into(),
                merge: "102".into()
            }
        );
        let log = fs::read_to_string(&calls).unwrap();
        assert_eq!(
            log,
            format!(
                "--parsable --array=1-2 {}\n--parsable --dependency=afterok:101 {}\n",
                scripts.array.display(),
                scripts.merge.display()
            )
        );
        let missing = submit(&dir.join("no-sbatch"), &scripts, None)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("sbatch of the job array: could not run"),
            "{missing}"
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
