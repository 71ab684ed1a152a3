//! `cargo xtask bench [--quick] [--compare [--peers-from FILE]] [WORKLOAD...]`: the
//! workloads of BENCHMARKS.md; with `--compare`, also the Python peers and the
//! machine's limits, written to `BENCHMARKS-RESULTS.md` (see [`compare`]).
//!
//! Each workload lives in its own module and is registered in [`WORKLOADS`]. A
//! workload runs once as a warm-up, then at least three timed times; it prints one
//! JSON line (the BENCHMARKS.md output format) with the median of the timed runs.

mod autodiff;
mod compare;
mod csv_load;
pub mod guard;
mod limits;
mod linreg;
mod mlp;
mod sweep;

use anyhow::{Result, bail};
use serde_json::{Map, Value, json};

/// One benchmark workload: its BENCHMARKS.md name and how to run it.
pub struct Workload {
    /// The name BENCHMARKS.md gives it, e.g. `autodiff-rosenbrock`.
    pub name: &'static str,
    /// Prepares the data (untimed) and returns the timed measurement.
    pub run: fn(&Settings) -> Result<Measurement>,
}

/// How a bench invocation was asked to run.
pub struct Settings {
    /// Tiny sizes that finish in seconds (same code path).
    pub quick: bool,
    /// Timed repetitions after the warm-up (at least 3).
    pub repetitions: usize,
}

/// What one workload measured: the median seconds and its workload-specific keys.
pub struct Measurement {
    /// Median wall time of the timed part, as BENCHMARKS.md defines it.
    pub seconds: f64,
    /// Threads the workload ran on.
    pub threads: usize,
    /// Further keys (`samples_per_s`, `final_loss`, ...).
    pub extra: Map<String, Value>,
}

/// Every workload this build knows, in BENCHMARKS.md order.
const WORKLOADS: &[Workload] = &[
    Workload {
        name: "linreg-minibatch",
        run: linreg::minibatch_workload,
    },
    Workload {
        name: "linreg-sgd",
        run: linreg::sgd_workload,
    },
    Workload {
        name: "linreg-batch",
        run: linreg::batch_workload,
    },
    Workload {
        name: "mlp-classify",
        run: mlp::classify_workload,
    },
    Workload {
        name: "mlp-small-batch",
        run: mlp::small_batch_workload,
    },
    Workload {
        name: "autodiff-rosenbrock",
        run: autodiff::rosenbrock_workload,
    },
    Workload {
        name: "autodiff-deep-chain",
        run: autodiff::deep_chain_workload,
    },
    Workload {
        name: "sweep",
        run: sweep::sweep_workload,
    },
    Workload {
        name: "csv-load",
        run: csv_load::csv_load_workload,
    },
];

/// Runs the named workloads (all when none are named) and prints their JSON lines.
pub fn run(args: &[String]) -> Result<()> {
    let quick = args.iter().any(|a| a == "--quick");
    let compare = args.iter().any(|a| a == "--compare");
    let mut peers_from = Vec::new();
    let mut names: Vec<&String> = Vec::new();
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" | "--compare" => {}
            "--peers-from" => peers_from.extend(rest.next().cloned()),
            flag if flag.starts_with("--") => {
                bail!("unknown flag `{flag}`; known: --quick, --compare, --peers-from FILE")
            }
            _ => names.push(arg),
        }
    }
    let known: Vec<&str> = WORKLOADS.iter().map(|w| w.name).collect();
    for name in &names {
        if !known.contains(&name.as_str()) {
            bail!("unknown workload `{name}`; known: {}", known.join(", "));
        }
    }
    let settings = Settings {
        quick,
        repetitions: 3,
    };
    let mut measured = Vec::new();
    for workload in WORKLOADS {
        if !names.is_empty() && !names.iter().any(|n| *n == workload.name) {
            continue;
        }
        let measurement = (workload.run)(&settings)?;
        let mut line = Map::new();
        line.insert("workload".into(), json!(workload.name));
        line.insert("impl".into(), json!("descent"));
        line.insert("threads".into(), json!(measurement.threads));
        line.insert("seconds".into(), json!(measurement.seconds));
        line.extend(measurement.extra);
        println!("{}", Value::Object(line.clone()));
        measured.push(Value::Object(line));
    }
    if compare {
        let options = compare::Options {
            quick,
            peers_from,
            names: names.iter().map(|n| n.to_string()).collect(),
        };
        compare::run(&crate::project_root(), &options, measured)?;
    }
    Ok(())
}

/// Runs `timed` once to warm up and `repetitions` more times; returns the median
/// seconds and the last run's result.
pub fn median_of<R>(repetitions: usize, mut timed: impl FnMut() -> R) -> (f64, R) {
    let _ = timed();
    let mut times = Vec::with_capacity(repetitions);
    let mut last = None;
    for _ in 0..repetitions.max(3) {
        let start = std::time::Instant::now();
        let result = timed();
        times.push(start.elapsed().as_secs_f64());
        last = Some(result);
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], last.expect("at least three runs"))
}
