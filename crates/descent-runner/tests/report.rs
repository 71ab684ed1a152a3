//! Reports: the ranked table, report.md, the SVG plots, the baseline comparison, and
//! the `descent run / merge / report` commands end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

use descent_runner::experiment::Experiment;
use descent_runner::report::{self, Results, Stat};
use descent_runner::sweep::{self, ProgressMode, SweepOptions};

const TINY: &str = r#"
name = "tiny-report"
budget = { epochs = 4 }
target_loss = 0.9

[[problems]]
name = "iris"
dataset = "iris"
split = { validation = 0.3, seed = 1, stratified = true }
scale = "standard"
model = { hidden = [8] }
loss = { name = "cross_entropy" }

[[problems]]
name = "wine"
dataset = "wine"
scale = "standard"
loss = { name = "cross_entropy" }

[axes]
optimizers = [{ name = "sgd", momentum = 0.9 }, { name = "adam" }]
learning_rates = [0.003, 0.03, 1e12]
batch_modes = [{ mini_batch = 16 }]
seeds = [0, 1]
"#;

fn tmp(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("descent-report-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn sweep_into(dir: &Path) {
    let e = Experiment::parse(TINY, "tiny.toml", Path::new(".")).unwrap();
    let mut o = SweepOptions::new(dir);
    o.threads = Some(2);
    o.progress = ProgressMode::Quiet;
    sweep::run(&e, &o).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn statistics_by_hand() {
    let s = Stat::of(&[1.0, 2.0, 3.0, 6.0]);
    // mean 3, squared deviations 4 + 1 + 0 + 9 = 14, sample variance 14/3.
    assert_eq!(s.mean, 3.0);
    assert!((s.std - (14.0f64 / 3.0).sqrt()).abs() < 1e-15);
    assert_eq!(s.show(3), "3.00 ± 2.2");
    assert_eq!(Stat::of(&[0.5]).show(3), "0.500");
    assert_eq!(Stat::of(&[]).show(3), "—");
    assert_eq!(report::sig(1.23456e-7, 3), "1.23e-7");
}

#[test]
fn ranked_table_report_and_plots() {
    let dir = tmp("full");
    sweep_into(&dir);
    let results = Results::load(&dir).unwrap();
    assert_eq!(results.records.len(), 24);
    let summaries = report::summarize(&results);
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0].0, "iris");
    for (_, groups) in &summaries {
        assert_eq!(groups.len(), 6);
        // Clean configurations first, by mean final loss; lr 1e12 diverges and is last.
        let clean: Vec<_> = groups.iter().filter(|g| g.clean()).collect();
        for w in clean.windows(2) {
            assert!(w[0].final_loss.mean <= w[1].final_loss.mean);
        }
        let last = groups.last().unwrap();
        assert_eq!(last.label.lr, "1e12");
        assert!(last.diverged > 0);
        for (i, g) in groups.iter().enumerate() {
            assert_eq!(g.rank, i + 1);
            assert_eq!(g.runs, 2);
        }
    }
    let table = report::terminal_table(&results, &summaries);
    assert!(
        table.contains("iris: 6 configurations, 12 runs, ranked by mean final loss over seeds"),
        "{table}"
    );
    assert!(table.contains("final accuracy"), "{table}");
    assert!(table.contains("steps to target"), "{table}");
    assert!(table.contains("Winner: `"), "{table}");
    let files = report::write_report(&results).unwrap();
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    assert!(md.starts_with("# tiny-report\n"), "{md}");
    assert!(md.contains("## iris") && md.contains("## wine"));
    assert!(
        md.contains("| # | optimizer | lr | seeds | final loss |"),
        "{md}"
    );
    assert!(md.contains("diverged at step"), "{md}");
    for name in [
        "plots/loss-curves-iris.svg",
        "plots/loss-curves-wine.svg",
        "plots/lr-sensitivity-iris.svg",
        "plots/time-to-target-iris.svg",
        "plots/performance-profile.svg",
    ] {
        let path = dir.join(name);
        assert!(files.contains(&path), "{name} in {files:?}");
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{name}"
        );
        assert!(svg.trim_end().ends_with("</svg>"), "{name}");
        assert_eq!(
            svg.matches("<g ").count(),
            svg.matches("</g>").count(),
            "{name}"
        );
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{name}");
        assert!(md.contains(&format!("]({name})")), "{name}");
    }
    let curves = std::fs::read_to_string(dir.join("plots/loss-curves-iris.svg")).unwrap();
    assert!(curves.contains(">iris: loss per epoch<"));
    assert!(curves.contains(">sgd(momentum=0.9)<") && curves.contains(">adam<"));
    assert!(curves.contains(">epoch<") && curves.contains("loss (log scale)"));
    assert!(curves.contains("<polygon"), "bands over seeds");
    let lr = std::fs::read_to_string(dir.join("plots/lr-sensitivity-iris.svg")).unwrap();
    assert!(
        lr.contains("learning rate (log scale)") && lr.contains(">0.01<"),
        "{lr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_worse_configuration_fails_the_baseline_comparison() {
    let base = tmp("base");
    sweep_into(&base);
    let same = report::compare(
        &Results::load(&base).unwrap(),
        &Results::load(&base).unwrap(),
        0.05,
    );
    assert_eq!(same.len(), 12);
    assert!(same.iter().all(|c| !c.regression));
    // A copy where one configuration's runs end 10 % worse.
    let worse = tmp("worse");
    copy_dir(&base, &worse);
    let results = Results::load(&worse).unwrap();
    let victim = results
        .records
        .iter()
        .find(|r| r.final_eval.is_some())
        .unwrap()
        .group
        .clone();
    for r in results.records.iter().filter(|r| r.group == victim) {
        let path = worse.join("runs").join(format!("{}.json", r.id));
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let loss = json["final_eval"]["loss"].as_f64().unwrap();
        json["final_eval"]["loss"] = serde_json::json!(loss * 1.1);
        std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
    }
    let changes = report::compare(
        &Results::load(&worse).unwrap(),
        &Results::load(&base).unwrap(),
        0.05,
    );
    let bad: Vec<_> = changes.iter().filter(|c| c.regression).collect();
    assert_eq!(bad.len(), 1, "{changes:?}");
    assert!((bad[0].relative - 0.1).abs() < 1e-9);
    assert!(bad[0].note.contains("tolerance 5%"), "{}", bad[0].note);
    let loose = report::compare(
        &Results::load(&worse).unwrap(),
        &Results::load(&base).unwrap(),
        0.2,
    );
    assert!(loose.iter().all(|c| !c.regression));
    assert_eq!(report::parse_tolerance("5%"), Ok(0.05));
    assert_eq!(report::parse_tolerance("0.1"), Ok(0.1));
    assert!(report::parse_tolerance("five").is_err());

    // The command exits non-zero on the regression and zero without it.
    let bin = env!("CARGO_BIN_EXE_descent");
    let out = Command::new(bin)
        .args(["report"])
        .arg(&worse)
        .arg("--baseline")
        .arg(&base)
        .args(["--tolerance", "5%"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("1 of 12 configurations got worse than the baseline by more than 5%"),
        "{stderr}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("WORSE"));
    let ok = Command::new(bin)
        .args(["report"])
        .arg(&base)
        .arg("--baseline")
        .arg(&base)
        .output()
        .unwrap();
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let _ = (
        std::fs::remove_dir_all(&base),
        std::fs::remove_dir_all(&worse),
    );
}

#[test]
fn run_merge_and_report_commands() {
    let bin = env!("CARGO_BIN_EXE_descent");
    let dir = tmp("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tiny.toml");
    std::fs::write(&file, TINY).unwrap();
    let dry = Command::new(bin)
        .arg("run")
        .arg(&file)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(dry.status.code(), Some(0));
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        text.starts_with(&format!("{}: valid; 24 runs\n", file.display())),
        "{text}"
    );
    assert!(
        text.contains("iris  sgd(momentum=0.9) lr=0.003 constant mini-batch(16)  seed 0"),
        "{text}"
    );
    let mut shards = Vec::new();
    for i in 0..2 {
        let out = dir.join(format!("shard{i}"));
        let run = Command::new(bin)
            .arg("run")
            .arg(&file)
            .args(["--threads", "2", "--shard", &format!("{i}/2"), "--out"])
            .arg(&out)
            .output()
            .unwrap();
        assert_eq!(
            run.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let log = String::from_utf8_lossy(&run.stderr);
        // Not a terminal: one plain line per finished run.
        assert_eq!(
            log.lines().filter(|l| l.starts_with('[')).count(),
            12,
            "{log}"
        );
        shards.push(out);
    }
    let merged = dir.join("merged");
    let merge = Command::new(bin)
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        merge.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&merge.stderr)
    );
    assert!(String::from_utf8_lossy(&merge.stdout).starts_with("24 runs from 2 folders"));
    let report = Command::new(bin)
        .arg("report")
        .arg(&merged)
        .output()
        .unwrap();
    assert_eq!(
        report.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    assert!(merged.join("report.md").is_file());
    // A malformed file: the message with field and line, exit status 1, no panic.
    std::fs::write(&file, TINY.replace("name = \"adam\"", "name = \"adams\"")).unwrap();
    let bad = Command::new(bin)
        .arg("run")
        .arg(&file)
        .arg("--dry-run")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.starts_with(&format!(
            "error: {}:21:58: `axes.optimizers[1].name`: unknown variant `adams`",
            file.display()
        )),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
