//! `descent slurm` and `descent run --tasks/--task-index` through the real program: the scripts
//! it writes, its errors, `--submit` against a stand-in `sbatch`, and the written array and merge
//! scripts executed by bash as Slurm would (one task per `SLURM_ARRAY_TASK_ID`), merged to the
//! same runs as one local sweep. ci/slurm-test.sh does the same on a real Slurm.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TINY: &str = r#"
name = "tiny-slurm"
budget = { epochs = 2 }
[[problems]]
name = "iris"
dataset = "iris"
scale = "standard"
loss = { name = "cross_entropy" }
[axes]
optimizers = [{ name = "sgd", momentum = 0.9 }, { name = "adam" }]
learning_rates = [0.01, 0.1]
batch_modes = [{ mini_batch = 16 }]
seeds = [0, 1, 2]
"#;

fn tmp(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("slurm-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn experiment_file(dir: &Path) -> PathBuf {
    let path = dir.join("tiny.toml");
    std::fs::write(&path, TINY).unwrap();
    path
}

/// Runs descent with `args`, without any Slurm variables of the environment it runs in.
fn descent(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_descent"));
    command.args(args);
    for (name, _) in std::env::vars() {
        if name.starts_with("SLURM_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied()).output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// The run lines of `descent run --dry-run`.
fn listed_runs(output: &Output) -> Vec<String> {
    assert!(output.status.success(), "{}", stderr(output));
    stdout(output).lines().skip(1).map(str::to_owned).collect()
}

#[test]
fn task_index_comes_from_slurm_array_task_id_and_matches_shard() {
    let dir = tmp("index");
    let file = experiment_file(&dir);
    let all = listed_runs(&descent(
        &["run", s(&file), "--dry-run", "--out", s(&dir.join("o"))],
        &[],
    ));
    assert_eq!(all.len(), 12);
    let mut seen = Vec::new();
    for i in 0..4 {
        let index = i.to_string();
        let shard = format!("{i}/4");
        let from_env = listed_runs(&descent(
            &[
                "run",
                s(&file),
                "--tasks",
                "4",
                "--dry-run",
                "--out",
                s(&dir.join("o")),
            ],
            &[("SLURM_ARRAY_TASK_ID", &index)],
        ));
        let from_flag = listed_runs(&descent(
            &[
                "run",
                s(&file),
                "--tasks",
                "4",
                "--task-index",
                &index,
                "--dry-run",
            ],
            &[("SLURM_ARRAY_TASK_ID", "0")],
        ));
        let by_shard = listed_runs(&descent(
            &["run", s(&file), "--shard", &shard, "--dry-run"],
            &[],
        ));
        assert_eq!(from_env, by_shard, "task {i}");
        assert_eq!(from_flag, by_shard, "task {i}");
        assert_eq!(from_env.len(), 3);
        seen.extend(from_env);
    }
    seen.sort();
    let mut all = all;
    all.sort();
    assert_eq!(seen, all, "the four tasks together hold every run once");
}

#[test]
fn task_index_errors() {
    let dir = tmp("index-errors");
    let file = experiment_file(&dir);
    let no_index = descent(&["run", s(&file), "--tasks", "4", "--dry-run"], &[]);
    assert_eq!(no_index.status.code(), Some(1));
    assert_eq!(
        stderr(&no_index),
        "error: no task index: pass --task-index I, or run inside a Slurm job array, which sets SLURM_ARRAY_TASK_ID\n"
    );
    let too_high = descent(
        &["run", s(&file), "--tasks", "4", "--dry-run"],
        &[("SLURM_ARRAY_TASK_ID", "4")],
    );
    assert_eq!(
        stderr(&too_high),
        "error: --task-index `4` is not valid: with --tasks 4 the index runs from 0 to 3; submit the array as --array=0-3\n"
    );
    let both = descent(
        &[
            "run",
            s(&file),
            "--tasks",
            "4",
            "--shard",
            "0/4",
            "--dry-run",
        ],
        &[],
    );
    assert_eq!(both.status.code(), Some(2), "{}", stderr(&both));
    assert!(
        stderr(&both).contains("cannot be used with"),
        "{}",
        stderr(&both)
    );
    let index_alone = descent(&["run", s(&file), "--task-index", "1", "--dry-run"], &[]);
    assert_eq!(index_alone.status.code(), Some(2));
    assert!(
        stderr(&index_alone).contains("--tasks <N>"),
        "{}",
        stderr(&index_alone)
    );
}

#[test]
fn slurm_writes_the_scripts_with_absolute_paths() {
    let dir = tmp("write");
    let file = experiment_file(&dir);
    let out = dir.join("results");
    let output = descent(
        &[
            "slurm",
            s(&file),
            "--tasks",
            "3",
            "--partition",
            "short",
            "--time",
            "0:30:00",
            "--cpus-per-task",
            "2",
            "--mem",
            "2G",
            "--output-dir",
            s(&out),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("12 runs of `tiny-slurm` in 3 tasks (at most 4 runs each)\n"),
        "{text}"
    );
    let out = out.canonicalize().unwrap();
    let scripts = out.join("slurm");
    assert!(text.contains(&format!(
        "submit with: bash {}",
        scripts.join("submit.sh").display()
    )));
    let array = std::fs::read_to_string(scripts.join("array.sbatch")).unwrap();
    for line in [
        "#SBATCH --job-name=descent-tiny",
        "#SBATCH --partition=short",
        "#SBATCH --time=0:30:00",
        "#SBATCH --array=0-2",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --mem=2G",
    ] {
        assert!(
            array.lines().any(|l| l == line),
            "{line} missing from\n{array}"
        );
    }
    let program = Path::new(env!("CARGO_BIN_EXE_descent"))
        .canonicalize()
        .unwrap();
    let run_line = format!(
        "exec {} run {} --tasks 3 \\",
        program.display(),
        file.canonicalize().unwrap().display()
    );
    assert!(
        array.contains(&run_line),
        "{run_line} missing from\n{array}"
    );
    let merge = std::fs::read_to_string(scripts.join("merge.sbatch")).unwrap();
    assert!(
        merge.contains(&format!("merge --out {}", out.join("merged").display())),
        "{merge}"
    );
    assert!(out.join("slurm/logs").is_dir());
}

#[test]
fn slurm_refuses_bad_options_and_files() {
    let dir = tmp("refuse");
    let file = experiment_file(&dir);
    let out = dir.join("o");
    let cases: [(&[&str], &str); 4] = [
        (
            &["--tasks", "2", "--time", "2h"],
            "error: --time `2h` is not valid: use minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS (such as 30, 2:00:00 or 1-12:00)\n",
        ),
        (
            &["--tasks", "2", "--mem", "4GB"],
            "error: --mem `4GB` is not valid: a size such as 4000, 500M, 4G or 1T (no unit: megabytes)\n",
        ),
        (
            &["--tasks", "0"],
            "error: --tasks `0` is not valid: a sweep needs at least one task\n",
        ),
        (
            &[
                "--tasks",
                "4",
                "--only",
                "4",
                "--submit",
                "--sbatch",
                "/nonexistent/sbatch",
            ],
            "error: --only `4` is not valid: task 4 does not exist; with --tasks 4 the tasks are 0-3\n",
        ),
    ];
    for (extra, message) in cases {
        let mut args = vec!["slurm", s(&file), "--output-dir", s(&out)];
        args.extend_from_slice(extra);
        let output = descent(&args, &[]);
        assert_eq!(output.status.code(), Some(1), "{extra:?}");
        assert_eq!(stderr(&output), message, "{extra:?}");
    }
    let bad_file = dir.join("bad.toml");
    std::fs::write(&bad_file, TINY.replace("\"adam\"", "\"adamm\"")).unwrap();
    let output = descent(
        &[
            "slurm",
            s(&bad_file),
            "--tasks",
            "2",
            "--output-dir",
            s(&out),
        ],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("adamm"), "{}", stderr(&output));
    assert!(
        !out.join("slurm/array.sbatch").exists(),
        "scripts written for a bad file"
    );
    let no_submit = descent(&["slurm", s(&file), "--tasks", "2", "--only", "1"], &[]);
    assert_eq!(no_submit.status.code(), Some(2), "--only needs --submit");
}

#[test]
fn submit_calls_sbatch_and_prints_the_job_ids() {
    let dir = tmp("submit");
    let file = experiment_file(&dir);
    let calls = dir.join("calls");
    let fake = dir.join("sbatch");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{calls}'\nn=$(wc -l < '{calls}')\necho \"$((700 + n))\"\n",
            calls = calls.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = dir.join("o");
    let output = descent(
        &[
            "slurm",
            s(&file),
            "--tasks",
            "4",
            "--output-dir",
            s(&out),
            "--submit",
            "--sbatch",
            s(&fake),
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let out = out.canonicalize().unwrap();
    let text = stdout(&output);
    assert!(text.contains("\narray job 701: tasks 0-3\n"), "{text}");
    assert!(
        text.contains(&format!(
            "\nmerge job 702: after job 701 succeeds, merges into {} and writes the report\n",
            out.join("merged").display()
        )),
        "{text}"
    );
    let again = descent(
        &[
            "slurm",
            s(&file),
            "--tasks",
            "4",
            "--output-dir",
            s(&out),
            "--submit",
            "--sbatch",
            s(&fake),
            "--only",
            "1,3",
        ],
        &[],
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("\narray job 703: tasks 1,3\n"),
        "{}",
        stdout(&again)
    );
    let scripts = out.join("slurm");
    assert_eq!(
        std::fs::read_to_string(&calls).unwrap(),
        format!(
            "--parsable {a}\n--parsable --dependency=afterok:701 {m}\n\
             --parsable --array=1,3 {a}\n--parsable --dependency=afterok:703 {m}\n",
            a = scripts.join("array.sbatch").display(),
            m = scripts.join("merge.sbatch").display()
        )
    );
}

/// The runs of a results folder, times taken out, in run order.
fn runs_without_times(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("runs.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["wall_seconds"] = serde_json::Value::Null;
            if let Some(t) = v.get_mut("target").and_then(|t| t.as_object_mut()) {
                t.insert("seconds".into(), serde_json::Value::Null);
            }
            v
        })
        .collect()
}

#[test]
fn the_written_scripts_run_the_sweep_and_merge_it_like_a_local_run() {
    if Command::new("bash").arg("-c").arg("true").status().is_err() {
        return; // the scripts are bash scripts; there is no bash to run them here
    }
    let dir = tmp("scripts");
    let file = experiment_file(&dir);
    let out = dir.join("cluster");
    let written = descent(
        &["slurm", s(&file), "--tasks", "4", "--output-dir", s(&out)],
        &[],
    );
    assert!(written.status.success(), "{}", stderr(&written));
    let scripts = out.join("slurm");
    // What Slurm does: run the array script once per task with the task's variables, each
    // granted one core, task 2 twice (a re-queued task), then the merge script.
    for task in ["0", "1", "2", "3", "2"] {
        let output = Command::new("bash")
            .arg(scripts.join("array.sbatch"))
            .env("SLURM_ARRAY_TASK_ID", task)
            .env("SLURM_ARRAY_JOB_ID", "77")
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "task {task}: {}", stderr(&output));
        let log = format!("{}{}", stdout(&output), stderr(&output));
        assert!(
            log.contains(&format!("descent: task {task} of 4 (job 77)")),
            "{log}"
        );
        assert!(log.contains("3 runs in"), "{log}");
        assert!(
            log.contains("on 1 threads"),
            "task {task} did not use its one core: {log}"
        );
    }
    let merge = Command::new("bash")
        .arg(scripts.join("merge.sbatch"))
        .output()
        .unwrap();
    assert!(merge.status.success(), "{}", stderr(&merge));
    assert!(
        stdout(&merge).contains("12 runs from 4 folders"),
        "{}",
        stdout(&merge)
    );
    let out = out.canonicalize().unwrap();
    assert!(out.join("merged/report.md").is_file());

    let local = dir.join("local");
    let run = descent(&["run", s(&file), "--out", s(&local), "--plain"], &[]);
    assert!(run.status.success(), "{}", stderr(&run));
    let merged = runs_without_times(&out.join("merged"));
    assert_eq!(merged.len(), 12, "each run once");
    assert_eq!(merged, runs_without_times(&local));
}
