//! `cargo xtask guard [--update] [NAME...]`: the performance regression guard.
//!
//! Wall time on a shared machine moves by tens of percent from one run to the next;
//! instruction counts do not. The guard runs the small workloads of
//! `xtask/src/bin/guard_workloads.rs` under valgrind's callgrind, counts the
//! instructions executed inside their measured part (`--toggle-collect`), and
//! compares each count with `benches/guard-baseline.json`: a count more than 5 %
//! above its baseline fails. `--update` rewrites the baseline on purpose (after a
//! change that is meant to cost more, or that made things cheaper).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// A count may grow by this fraction before the guard fails.
const TOLERANCE: f64 = 0.05;

/// The committed baseline.
#[derive(Serialize, Deserialize)]
struct Baseline {
    /// What was counted, and with which tool.
    counted: String,
    /// The allowed growth, as a fraction.
    tolerance: f64,
    /// Instructions per workload.
    counts: BTreeMap<String, u64>,
}

fn baseline_path(root: &Path) -> PathBuf {
    root.join("benches/guard-baseline.json")
}

/// Runs the guard; returns whether every count is within its tolerance.
pub fn run(root: &Path, args: &[String]) -> Result<bool> {
    let update = args.iter().any(|a| a == "--update");
    if let Some(flag) = args
        .iter()
        .find(|a| a.starts_with("--") && *a != "--update")
    {
        bail!("unknown flag `{flag}`; usage: cargo xtask guard [--update] [NAME...]");
    }
    let names: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let valgrind = Command::new("valgrind").arg("--version").output();
    let version = match valgrind {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_string(),
        _ => bail!("valgrind is not installed (Debian/Ubuntu: apt-get install -y valgrind)"),
    };
    let binary = build_workloads()?;
    let listed = Command::new(&binary)
        .arg("--list")
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    let all: Vec<String> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(String::from)
        .collect();
    for name in &names {
        if !all.contains(name) {
            bail!("unknown guard workload `{name}`; known: {}", all.join(", "));
        }
    }
    let selected: Vec<&String> = all
        .iter()
        .filter(|n| names.is_empty() || names.contains(n))
        .collect();

    let path = baseline_path(root);
    let mut baseline = if path.exists() {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {path:?}"))?
    } else if update {
        Baseline {
            counted: String::new(),
            tolerance: TOLERANCE,
            counts: BTreeMap::new(),
        }
    } else {
        bail!("no baseline at {path:?}: run `cargo xtask guard --update` and commit it");
    };

    let mut ok = true;
    println!(
        "{:<22} {:>15} {:>15} {:>8}",
        "workload", "baseline", "instructions", "change"
    );
    for name in selected {
        let count = count_instructions(&binary, name)?;
        let old = baseline.counts.get(name.as_str()).copied();
        let change = old.map(|b| count as f64 / b as f64 - 1.0);
        let verdict = match change {
            None if update => "new".to_string(),
            None => {
                ok = false;
                "FAIL: no baseline (cargo xtask guard --update)".to_string()
            }
            Some(c) if c > baseline.tolerance && !update => {
                ok = false;
                format!("FAIL: more than {:.0} % above", baseline.tolerance * 100.0)
            }
            Some(c) if c < -baseline.tolerance && !update => {
                "cheaper: consider `cargo xtask guard --update`".to_string()
            }
            Some(_) => "ok".to_string(),
        };
        println!(
            "{name:<22} {:>15} {count:>15} {:>8}  {verdict}",
            old.map_or("–".into(), |b| b.to_string()),
            change.map_or("–".into(), |c| format!("{:+.2}%", c * 100.0)),
        );
        if update {
            baseline.counts.insert(name.clone(), count);
        }
    }
    if update {
        baseline.counted = format!(
            "instructions executed inside `measured` of xtask/src/bin/guard_workloads.rs \
             (release build), counted by {version} --tool=callgrind"
        );
        baseline.tolerance = TOLERANCE;
        let text = serde_json::to_string_pretty(&baseline)? + "\n";
        std::fs::write(&path, text).with_context(|| format!("writing {path:?}"))?;
        println!("baseline written to {}", path.display());
    } else if ok {
        println!(
            "guard: every count within +{:.0} % of its baseline",
            baseline.tolerance * 100.0
        );
    }
    Ok(ok)
}

/// Builds `guard_workloads` in release, beside the running xtask binary.
fn build_workloads() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "--release",
            "--package",
            "xtask",
            "--bin",
            "guard_workloads",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building guard_workloads failed");
    }
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let binary = exe
        .parent()
        .context("the xtask binary's directory")?
        .join("guard_workloads");
    if !binary.exists() {
        bail!(
            "{} was not built beside {}",
            binary.display(),
            exe.display()
        );
    }
    Ok(binary)
}

/// Instructions executed inside `measured` when `binary` runs workload `name`.
fn count_instructions(binary: &Path, name: &str) -> Result<u64> {
    let out_file = std::env::temp_dir().join(format!(
        "descent-guard-{}-{name}.callgrind",
        std::process::id()
    ));
    let output = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg(format!("--callgrind-out-file={}", out_file.display()))
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=guard_workloads::measured*")
        .arg(binary)
        .arg(name)
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .context("running valgrind")?;
    if !output.status.success() {
        bail!(
            "guard workload `{name}` failed under valgrind:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let text = std::fs::read_to_string(&out_file)
        .with_context(|| format!("reading {}", out_file.display()))?;
    let _ = std::fs::remove_file(&out_file);
    let count = summary_count(&text)
        .with_context(|| format!("no `summary:` line in callgrind's output for `{name}`"))?;
    if count == 0 {
        bail!("callgrind counted nothing inside `measured` for `{name}`: the toggle missed it");
    }
    Ok(count)
}

/// The instruction count of a callgrind output file (its `summary:` line).
fn summary_count(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("summary:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_summary_line() {
        let text = "version: 1\nevents: Ir\nfn=main\n3 5\nsummary: 123456\ntotals: 123456\n";
        assert_eq!(summary_count(text), Some(123_456));
        assert_eq!(summary_count("events: Ir\n"), None);
    }
}
