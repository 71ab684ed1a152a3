//! Sweeps: the same bits on 1 and 2 threads, resume, Ctrl-C, shards and their merge,
//! and runs that diverge or fail while the others go on.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use descent_runner::experiment::Experiment;
use descent_runner::sweep::{
    self, ProgressMode, ResultsDir, RunRecord, Shard, Status, SweepOptions,
};

const TINY: &str = r#"
name = "tiny"
budget = { epochs = 3 }
target_loss = 0.5

[[problems]]
name = "iris"
dataset = "iris"
split = { validation = 0.3, seed = 1, stratified = true }
scale = "standard"
model = { hidden = [8] }
loss = { name = "cross_entropy" }

[axes]
optimizers = [{ name = "sgd", momentum = 0.9 }, { name = "adam" }]
learning_rates = [0.01, 0.1]
batch_modes = [{ mini_batch = 16 }]
seeds = [0, 1]
"#;

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("descent-sweep-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn experiment(text: &str) -> Experiment {
    Experiment::parse(text, "tiny.toml", Path::new(".")).unwrap()
}

fn options(out: &Path, threads: usize) -> SweepOptions {
    let mut o = SweepOptions::new(out);
    o.threads = Some(threads);
    o.progress = ProgressMode::Quiet;
    o
}

/// `runs.jsonl` with the wall times taken out (everything else must be bit-identical).
fn without_times(dir: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    text.lines()
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

/// A curve CSV without its `seconds` column.
fn curve_without_times(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect()
}

#[test]
fn one_and_two_threads_give_the_same_bits() {
    let e = experiment(TINY);
    let (a, b) = (tmp("threads1"), tmp("threads2"));
    let s1 = sweep::run(&e, &options(&a, 1)).unwrap();
    let s2 = sweep::run(&e, &options(&b, 2)).unwrap();
    assert_eq!((s1.completed, s2.completed), (8, 8));
    assert_eq!((s1.threads, s2.threads), (1, 2));
    let (ra, rb) = (without_times(&a), without_times(&b));
    assert_eq!(ra.len(), 8);
    assert_eq!(ra, rb);
    for (i, r) in ra.iter().enumerate() {
        assert_eq!(r["index"], i);
        assert_eq!(r["status"], "completed");
        assert!(r["final_eval"]["loss"].as_f64().unwrap().is_finite());
        assert!(
            r["final_eval"]["val_loss"].as_f64().is_some(),
            "split: validation loss"
        );
        let id = r["id"].as_str().unwrap();
        for name in [format!("{id}.steps.csv"), format!("{id}.epochs.csv")] {
            assert_eq!(
                curve_without_times(&a.join("curves").join(&name)),
                curve_without_times(&b.join("curves").join(&name))
            );
        }
    }
    // 105 training rows in batches of 16: 7 steps an epoch, 3 epochs.
    assert_eq!(ra[0]["steps"], 21);
    assert_eq!(ra[0]["gradient_evaluations"], 3 * 105);
    let steps = std::fs::read_to_string(
        a.join("curves")
            .join(format!("{}.steps.csv", ra[0]["id"].as_str().unwrap())),
    )
    .unwrap();
    assert_eq!(steps.lines().count(), 1 + 21);
    assert!(a.join("experiment.toml").is_file());
    let _ = (std::fs::remove_dir_all(&a), std::fs::remove_dir_all(&b));
}

#[test]
fn rerunning_skips_finished_runs() {
    let e = experiment(TINY);
    let dir = tmp("resume");
    let first = sweep::run(&e, &options(&dir, 2)).unwrap();
    assert_eq!(first.completed, 8);
    let before = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    let again = sweep::run(&e, &options(&dir, 2)).unwrap();
    assert_eq!((again.skipped, again.completed), (8, 0));
    // Not run again: even the wall times are those of the first sweep.
    assert_eq!(
        std::fs::read_to_string(dir.join("runs.jsonl")).unwrap(),
        before
    );
    // A changed experiment reuses the runs it shares (same ids) and runs only the new.
    let wider = experiment(&TINY.replace("seeds = [0, 1]", "seeds = [0, 1, 2]"));
    let third = sweep::run(&wider, &options(&dir, 2)).unwrap();
    assert_eq!((third.skipped, third.completed), (8, 4));
    assert_eq!(ResultsDir::new(&dir).read_records().unwrap().len(), 12);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stopping_keeps_finished_runs_and_resume_finishes_the_rest() {
    let e = experiment(TINY);
    let dir = tmp("stop");
    let mut o = options(&dir, 1);
    let stop = o.stop.clone();
    // As Ctrl-C would: raised while run 3 is about to train.
    o.before_run = Some(Arc::new(move |plan| {
        if plan.index == 3 {
            stop.store(true, Ordering::SeqCst);
        }
    }));
    let first = sweep::run(&e, &o).unwrap();
    assert_eq!(first.completed, 3);
    assert_eq!(first.interrupted, 5);
    let kept = ResultsDir::new(&dir).read_records().unwrap();
    assert_eq!(
        kept.iter().map(|r| r.index).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
    assert_eq!(without_times(&dir).len(), 3);
    // No temporary or partial file is left behind.
    for sub in ["runs", "curves"] {
        for f in std::fs::read_dir(dir.join(sub)).unwrap() {
            let name = f.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!name.ends_with(".tmp"), "{name}");
        }
    }
    let rest = sweep::run(&e, &options(&dir, 1)).unwrap();
    assert_eq!((rest.skipped, rest.completed, rest.interrupted), (3, 5, 0));
    let whole = tmp("stop-whole");
    sweep::run(&e, &options(&whole, 2)).unwrap();
    assert_eq!(without_times(&dir), without_times(&whole));
    let _ = (
        std::fs::remove_dir_all(&dir),
        std::fs::remove_dir_all(&whole),
    );
}

#[test]
fn shards_merge_to_the_result_of_one_sweep() {
    let e = experiment(TINY);
    let whole = tmp("whole");
    sweep::run(&e, &options(&whole, 2)).unwrap();
    let mut dirs = Vec::new();
    let mut total = 0;
    for i in 0..3 {
        let d = tmp(&format!("shard{i}"));
        let mut o = options(&d, 1);
        o.shard = Some(format!("{i}/3").parse::<Shard>().unwrap());
        let s = sweep::run(&e, &o).unwrap();
        assert_eq!(s.planned, [3, 3, 2][i]);
        total += s.completed;
        let records = ResultsDir::new(&d).read_records().unwrap();
        assert!(records.iter().all(|r| r.index % 3 == i));
        dirs.push(d);
    }
    assert_eq!(total, 8);
    let merged = tmp("merged");
    let m = sweep::merge(&dirs, &merged).unwrap();
    assert_eq!((m.runs, m.duplicates), (8, 0));
    assert_eq!(without_times(&merged), without_times(&whole));
    for r in ResultsDir::new(&merged).read_records().unwrap() {
        assert!(
            merged
                .join("curves")
                .join(format!("{}.epochs.csv", r.id))
                .is_file()
        );
    }
    // Merging a shard twice keeps each run once.
    let again = tmp("merged-again");
    let m = sweep::merge(&[dirs[0].clone(), dirs[0].clone(), dirs[1].clone()], &again).unwrap();
    assert_eq!((m.runs, m.duplicates), (6, 3));
    // Shards of another experiment are refused.
    let other = tmp("other");
    sweep::run(&experiment(&TINY.replace("epochs = 3", "epochs = 2")), &{
        let mut o = options(&other, 2);
        o.shard = Some(Shard { index: 0, count: 4 });
        o
    })
    .unwrap();
    let err = sweep::merge(&[dirs[0].clone(), other.clone()], &tmp("refused")).unwrap_err();
    assert!(
        err.to_string().contains("describe different experiments"),
        "{err}"
    );
    for d in dirs.iter().chain([&whole, &merged, &again, &other]) {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn bad_shards_are_refused() {
    for bad in ["3/3", "1", "a/2", "0/0", "-1/2"] {
        let err = bad.parse::<Shard>().unwrap_err().to_string();
        assert_eq!(
            err,
            format!("--shard `{bad}`: expected I/N with 0 <= I < N, such as 0/4")
        );
    }
    assert_eq!(
        "2/5".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 5 }
    );
}

const TROUBLE: &str = r#"
name = "trouble"
budget = { epochs = 2 }

[[problems]]
name = "diabetes"
dataset = "diabetes"
loss = { name = "mse" }

[[problems]]
name = "cancer"
dataset = "breast_cancer"
loss = { name = "bce" }

[axes]
optimizers = [{ name = "sgd" }]
learning_rates = [1e-6, 10.0]
batch_modes = [{ mini_batch = 64 }]
"#;

#[test]
fn diverged_and_failed_runs_are_recorded_and_the_others_go_on() {
    let e = experiment(TROUBLE);
    assert_eq!(e.runs.len(), 4);
    let dir = tmp("trouble");
    let mut o = options(&dir, 2);
    // Run 0 panics inside its run.
    o.before_run = Some(Arc::new(|plan| {
        if plan.index == 0 {
            panic!("injected failure in run {}", plan.index);
        }
    }));
    let s = sweep::run(&e, &o).unwrap();
    assert_eq!((s.completed, s.diverged, s.failed), (0, 1, 3), "{s:?}");
    let records: Vec<RunRecord> = ResultsDir::new(&dir).read_records().unwrap();
    assert_eq!(records.len(), 4);
    let r = &records[0];
    assert_eq!(r.status, Status::Failed);
    assert_eq!(
        r.message.as_deref(),
        Some("panicked: injected failure in run 0")
    );
    // Unscaled diabetes at learning rate 10 explodes.
    let r = &records[1];
    assert_eq!(r.status, Status::Diverged);
    assert_eq!(r.stopped_by, "diverged");
    let at = r.diverged_at.unwrap();
    assert!((1..=14).contains(&at), "{at}");
    assert_eq!(r.steps, at);
    assert!(r.final_eval.is_none());
    // bce on a linear model's raw outputs: the loss refuses them at the first step.
    for r in &records[2..] {
        assert_eq!(r.status, Status::Failed);
        let m = r.message.as_deref().unwrap();
        assert!(m.starts_with("bce: input"), "{m}");
        assert!(m.contains("is outside [0, 1]"), "{m}");
    }
    let lines = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 4);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_that_completes_beside_failures_is_untouched() {
    // The same good run alone and beside a panicking one: the same bits.
    let good = TINY.replace(
        "optimizers = [{ name = \"sgd\", momentum = 0.9 }, { name = \"adam\" }]",
        "optimizers = [{ name = \"adam\" }]",
    );
    let e = experiment(&good);
    let (alone, beside) = (tmp("alone"), tmp("beside"));
    sweep::run(&e, &options(&alone, 2)).unwrap();
    let mut o = options(&beside, 2);
    o.before_run = Some(Arc::new(|plan| {
        if plan.index % 2 == 1 {
            panic!("odd runs fail");
        }
    }));
    let s = sweep::run(&e, &o).unwrap();
    assert_eq!((s.completed, s.failed), (2, 2));
    let (a, b) = (without_times(&alone), without_times(&beside));
    assert_eq!(a[0], b[0]);
    assert_eq!(a[2], b[2]);
    assert_eq!(b[1]["status"], "failed");
    let _ = (
        std::fs::remove_dir_all(&alone),
        std::fs::remove_dir_all(&beside),
    );
}

#[test]
fn budgets_in_steps_and_gradient_evaluations() {
    // 2 whole epochs of 4 batches, then 50 rows in 2 batches.
    assert_eq!(sweep::steps_for_evaluations(250, 100, 32), 2 * 4 + 2);
    assert_eq!(sweep::evaluations_for_steps(6, 100, 32), 100 + 64);
    assert_eq!(sweep::evaluations_for_steps(8, 100, 32), 200);
    assert_eq!(sweep::steps_for_evaluations(100, 100, 100), 1);
    let text = TINY
        .replace(
            "budget = { epochs = 3 }",
            "budget = { gradient_evaluations = 300 }",
        )
        .replace("seeds = [0, 1]", "seeds = [0]")
        .replace(
            "batch_modes = [{ mini_batch = 16 }]",
            "batch_modes = [\"batch\", \"stochastic\", { mini_batch = 16 }]",
        );
    let e = experiment(&text);
    let dir = tmp("budget");
    sweep::run(&e, &options(&dir, 2)).unwrap();
    let records = ResultsDir::new(&dir).read_records().unwrap();
    for r in &records {
        let expected = match r.label.mode.as_str() {
            "batch" => 3,
            "stochastic" => 300,
            _ => 7 * 2 + 6,
        };
        assert_eq!(r.steps, expected, "{}", r.label.mode);
        assert!(r.gradient_evaluations >= 300 && r.gradient_evaluations < 300 + 16);
    }
    let steps = experiment(&text.replace("gradient_evaluations = 300", "steps = 10"));
    let dir2 = tmp("budget-steps");
    sweep::run(&steps, &options(&dir2, 2)).unwrap();
    for r in ResultsDir::new(&dir2).read_records().unwrap() {
        assert_eq!(r.steps, 10, "{}", r.label.mode);
    }
    let _ = (
        std::fs::remove_dir_all(&dir),
        std::fs::remove_dir_all(&dir2),
    );
}
