//! `cargo xtask`: the project's automation, run the same way by developers and CI.
//!
//! - `cargo xtask conformance FILE...` checks descent against recorded reference results.
//! - `cargo xtask bench [WORKLOAD...]` runs the workloads of BENCHMARKS.md
//!   (`--compare` adds the Python peers and writes `BENCHMARKS-RESULTS.md`).
//! - `cargo xtask guard [--update]` checks instruction counts against their baseline.

mod bench;
mod conformance;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};

fn main() -> ExitCode {
    // The benchmarks train from this thread: let it work instead of sleeping while
    // rayon's workers run each large operation (see `join_thread_pool`).
    descent_runner::join_thread_pool();
    match run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<ExitCode> {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        bail!(
            "usage: cargo xtask <conformance FILE... | bench [--quick] [--compare] [WORKLOAD...] \
             | guard [--update] [NAME...]>"
        );
    };
    let rest: Vec<String> = args.collect();
    match command.as_str() {
        "conformance" => {
            if rest.is_empty() {
                bail!("usage: cargo xtask conformance FILE... (reference JSON files)");
            }
            let files: Vec<PathBuf> = rest.iter().map(PathBuf::from).collect();
            conformance::run(&files)
        }
        "bench" => bench::run(&rest).map(|()| ExitCode::SUCCESS),
        "guard" => bench::guard::run(&project_root(), &rest).map(|ok| {
            if ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }),
        other => bail!("unknown xtask command `{other}`; known: conformance, bench, guard"),
    }
}

/// The repository root, found from this crate's manifest directory.
pub fn project_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the root")
        .to_path_buf()
}
