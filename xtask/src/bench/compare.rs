//! `cargo xtask bench --compare`: descent's workloads, the Python peers of
//! `benches/peers/` and the machine's physical limits, measured back to back in one
//! run, written to `BENCHMARKS-RESULTS.md` with every ratio and every target of
//! issues 2–6 judged plainly.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result};
use serde_json::Value;

use super::limits::{self, Limit};

/// The workloads of BENCHMARKS.md in order, with their label and report columns.
const SECTIONS: &[(&str, &str, &[&str])] = &[
    ("linreg-minibatch", "W1", &["samples_per_s", "final_loss"]),
    ("linreg-sgd", "W1b", &["samples_per_s", "final_loss"]),
    ("linreg-batch", "W1c", &["samples_per_s", "final_loss"]),
    (
        "mlp-classify",
        "W2",
        &["samples_per_s", "gflop_per_s", "final_accuracy"],
    ),
    (
        "mlp-small-batch",
        "W2b",
        &["samples_per_s", "gflop_per_s", "final_accuracy"],
    ),
    (
        "autodiff-rosenbrock",
        "W3",
        &["value_seconds", "ratio", "grad_max_rel_err"],
    ),
    (
        "autodiff-deep-chain",
        "W3b",
        &["per_op_us", "grad_max_rel_err"],
    ),
    ("sweep", "W4", &["runs", "parallel_efficiency"]),
    ("csv-load", "W5", &["rows", "mb_per_s"]),
];

/// How a target of issues 2–6 is judged.
enum Rule {
    /// The peer's seconds over descent's must be at least this.
    FasterThan(f64),
    /// Descent's seconds over the peer's must be at most this.
    Within(f64),
    /// Descent's key must be at most this.
    KeyAtMost(&'static str, f64),
    /// Descent's key must be at least this.
    KeyAtLeast(&'static str, f64),
    /// Descent's seconds over the workload's physical limit must be at most this.
    WithinLimit(f64),
}

/// A target: the workload, the issue that set it, the peers it is measured against
/// (the first implementation name that is present), and the rule.
struct Target {
    workload: &'static str,
    issue: u32,
    peers: &'static [&'static str],
    rule: Rule,
}

const TARGETS: &[Target] = &[
    Target {
        workload: "linreg-minibatch",
        issue: 5,
        peers: &["pytorch"],
        rule: Rule::FasterThan(10.0),
    },
    Target {
        workload: "linreg-minibatch",
        issue: 5,
        peers: &["numpy"],
        rule: Rule::FasterThan(1.0),
    },
    Target {
        workload: "linreg-sgd",
        issue: 5,
        peers: &["sklearn-sgdregressor"],
        rule: Rule::Within(2.0),
    },
    Target {
        workload: "linreg-sgd",
        issue: 5,
        peers: &["jax-scan"],
        rule: Rule::FasterThan(1.0),
    },
    Target {
        workload: "linreg-batch",
        issue: 5,
        peers: &[],
        rule: Rule::WithinLimit(1.2),
    },
    Target {
        workload: "mlp-classify",
        issue: 5,
        peers: &["pytorch"],
        rule: Rule::FasterThan(2.0),
    },
    Target {
        workload: "mlp-classify",
        issue: 5,
        peers: &["jax-scan"],
        rule: Rule::Within(1.2),
    },
    Target {
        workload: "mlp-small-batch",
        issue: 5,
        peers: &["pytorch"],
        rule: Rule::FasterThan(5.0),
    },
    Target {
        workload: "autodiff-rosenbrock",
        issue: 2,
        peers: &["pytorch"],
        rule: Rule::FasterThan(5.0),
    },
    Target {
        workload: "autodiff-rosenbrock",
        issue: 2,
        peers: &["jax-jit"],
        rule: Rule::Within(2.0),
    },
    Target {
        workload: "autodiff-rosenbrock",
        issue: 2,
        peers: &[],
        rule: Rule::KeyAtMost("ratio", 3.0),
    },
    Target {
        workload: "autodiff-deep-chain",
        issue: 2,
        peers: &["pytorch"],
        rule: Rule::FasterThan(20.0),
    },
    Target {
        workload: "sweep",
        issue: 6,
        peers: &["pytorch-pool"],
        rule: Rule::FasterThan(5.0),
    },
    Target {
        workload: "sweep",
        issue: 6,
        peers: &[],
        rule: Rule::KeyAtLeast("parallel_efficiency", 0.9),
    },
    Target {
        workload: "csv-load",
        issue: 4,
        peers: &["pandas-c"],
        rule: Rule::FasterThan(2.0),
    },
    Target {
        workload: "csv-load",
        issue: 4,
        peers: &["pandas-pyarrow"],
        rule: Rule::FasterThan(1.0),
    },
];

/// Options of a comparison run.
pub struct Options {
    /// Tiny sizes (a smoke test of the whole pipeline; limits are not applied).
    pub quick: bool,
    /// Read the peers' JSON lines from these files instead of running them.
    pub peers_from: Vec<String>,
    /// The workloads asked for (all when empty).
    pub names: Vec<String>,
}

/// Runs the peers, measures the limits, and writes `BENCHMARKS-RESULTS.md`, given
/// descent's lines (already measured by the caller).
pub fn run(root: &Path, options: &Options, descent: Vec<Value>) -> Result<()> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let load_start = load_average();
    eprintln!("== limits: triad, read bandwidth, sgemm on 1 and {threads} threads");
    let limits = limits::measure(options.quick, threads);
    for limit in &limits {
        println!("{}", limit.to_json());
    }
    let (peers, peer_source, peer_failed) = match options.peers_from.as_slice() {
        [] => {
            let (lines, failed) = run_peers(root, options, threads)?;
            (lines, "run by this command".to_string(), failed)
        }
        files => {
            let mut peers = Vec::new();
            for file in files {
                let text =
                    std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
                // A saved `--compare` output also holds descent's and the limits' lines.
                peers.extend(
                    parse_lines(&text)
                        .into_iter()
                        .filter(|l| !["descent", "rust"].contains(&str_of(l, "impl"))),
                );
            }
            let names: Vec<String> = files.iter().map(|f| format!("`{f}`")).collect();
            let source = format!(
                "not run by this command: read from {}, recorded earlier on this machine",
                names.join(" and ")
            );
            (peers, source, false)
        }
    };

    let report = Report {
        quick: options.quick,
        threads,
        descent,
        peers,
        limits,
        peer_source,
        peer_failed,
        load: (load_start, load_average()),
        names: options.names.clone(),
    };
    let path = root.join("BENCHMARKS-RESULTS.md");
    std::fs::write(&path, report.render()).with_context(|| format!("writing {path:?}"))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// Runs `benches/peers/run_all.sh` (which creates the venv on first use) and returns
/// its JSON lines and whether any script failed.
fn run_peers(root: &Path, options: &Options, threads: usize) -> Result<(Vec<Value>, bool)> {
    let script = root.join("benches/peers/run_all.sh");
    let mut command = Command::new("bash");
    command
        .arg(&script)
        .args(["--threads", &threads.to_string(), "--runs", "3"]);
    if options.quick {
        command.arg("--quick");
    }
    if !options.names.is_empty() {
        let mut only = options.names.clone();
        only.extend(["triad", "read-bandwidth", "matmul-f32"].map(String::from));
        command.args(["--only", &only.join(",")]);
    }
    eprintln!("== peers: {command:?}");
    let output = command
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    let failed = !output.status.success();
    if failed {
        eprintln!("warning: some peer scripts failed (see above); reporting the rest");
    }
    let text = String::from_utf8_lossy(&output.stdout);
    for line in text.lines() {
        println!("{line}");
    }
    Ok((parse_lines(&text), failed))
}

/// The JSON objects among `text`'s lines (other lines are ignored).
fn parse_lines(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l.trim()).ok())
        .filter(Value::is_object)
        .collect()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn command_output(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn str_of<'a>(line: &'a Value, key: &str) -> &'a str {
    line.get(key).and_then(Value::as_str).unwrap_or("")
}

fn num_of(line: &Value, key: &str) -> Option<f64> {
    line.get(key).and_then(Value::as_f64)
}

/// `x` with four significant digits, in plain or scientific notation as fits.
fn sig(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let magnitude = x.abs().log10().floor() as i32;
    if !(-3..6).contains(&magnitude) {
        format!("{x:.3e}")
    } else {
        let decimals = (3 - magnitude).max(0) as usize;
        format!("{x:.decimals$}")
    }
}

/// A value of a JSON line, formatted for a table cell.
fn cell(line: &Value, key: &str) -> String {
    match line.get(key) {
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(Value::Number(n)) => n.as_f64().map_or_else(|| n.to_string(), sig),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => "–".into(),
    }
}

struct Report {
    quick: bool,
    threads: usize,
    descent: Vec<Value>,
    peers: Vec<Value>,
    limits: Vec<Limit>,
    peer_source: String,
    peer_failed: bool,
    load: (String, String),
    names: Vec<String>,
}

impl Report {
    fn descent_line(&self, workload: &str) -> Option<&Value> {
        self.descent
            .iter()
            .find(|l| str_of(l, "workload") == workload)
    }

    fn peer_lines(&self, workload: &str) -> Vec<&Value> {
        self.peers
            .iter()
            .filter(|l| str_of(l, "workload") == workload)
            .collect()
    }

    /// The best rate of the given limit kinds, measured by any method: at `threads`
    /// when such a figure exists, otherwise at any thread count. Returns the rate and
    /// where it came from.
    fn best_rate(&self, kinds: &[&str], threads: usize) -> Option<(f64, String)> {
        let mut all: Vec<(f64, String, usize)> = self
            .limits
            .iter()
            .filter(|l| kinds.contains(&l.kind))
            .map(|l| (l.rate, format!("{} (rust)", l.kind), l.threads))
            .collect();
        for line in &self.peers {
            let kind = str_of(line, "workload");
            if !kinds.contains(&kind) {
                continue;
            }
            // The peers' matmul lines at the workloads' small shapes are not peaks.
            if kind == "matmul-f32" && num_of(line, "m").is_some_and(|m| m < 1024.0) {
                continue;
            }
            let rate = num_of(line, "gb_per_s").or_else(|| num_of(line, "gflop_per_s"));
            let t = num_of(line, "threads").unwrap_or(0.0) as usize;
            if let Some(rate) = rate {
                all.push((rate, format!("{kind} ({})", str_of(line, "impl")), t));
            }
        }
        let at_threads: Vec<_> = all.iter().filter(|(_, _, t)| *t == threads).collect();
        let pool: Vec<_> = if at_threads.is_empty() {
            all.iter().collect()
        } else {
            at_threads
        };
        pool.into_iter()
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(rate, from, t)| (*rate, format!("{from}, {t} thread(s)")))
    }

    /// The physical limit of a workload in seconds, with how it was computed.
    fn limit(&self, workload: &str, line: &Value) -> Option<(f64, String)> {
        if self.quick {
            return None;
        }
        let threads = num_of(line, "threads").unwrap_or(1.0) as usize;
        let bandwidth = ["triad", "read-bandwidth"];
        match workload {
            "linreg-batch" => {
                let bytes = 200.0 * 2.0 * 100_000.0 * 100.0 * 4.0;
                let (rate, from) = self.best_rate(&bandwidth, threads)?;
                Some((
                    bytes / (rate * 1e9),
                    format!(
                        "200 steps × 2 reads × 40 MB = 16 GB at {} GB/s, {from} (descent's \
                         fused step, `Graph::affine_loss`, streams X from memory once and \
                         reuses each row from cache, so it can beat this limit)",
                        sig(rate)
                    ),
                ))
            }
            "mlp-classify" | "mlp-small-batch" => {
                let epochs = if workload == "mlp-classify" { 2.0 } else { 1.0 };
                let flops = 6.0 * 60_000.0 * epochs * (784.0 * 256.0 + 256.0 * 10.0);
                let (rate, from) = self.best_rate(&["matmul-f32"], threads)?;
                Some((
                    flops / (rate * 1e9),
                    format!(
                        "6·(784·256+256·10) FLOP × 60,000 rows × {epochs} epoch(s) = {} GFLOP at {} GFLOP/s, {from}",
                        sig(flops / 1e9),
                        sig(rate)
                    ),
                ))
            }
            "csv-load" => {
                let seconds = num_of(line, "seconds")?;
                let mb = num_of(line, "mb_per_s").map_or(100.0, |r| r * seconds);
                let (rate, from) = self.best_rate(&bandwidth, threads)?;
                Some((
                    mb * 1e6 / (rate * 1e9),
                    format!(
                        "one read of the {} MB file at {} GB/s, {from}",
                        sig(mb),
                        sig(rate)
                    ),
                ))
            }
            _ => None,
        }
    }

    /// One verdict line per target whose workload was asked for.
    fn verdicts(&self) -> Vec<(String, bool)> {
        let mut out = Vec::new();
        for target in TARGETS {
            if !self.names.is_empty() && !self.names.iter().any(|n| n == target.workload) {
                continue;
            }
            let label = SECTIONS
                .iter()
                .find(|s| s.0 == target.workload)
                .map_or("", |s| s.1);
            let head = format!("{label} `{}` (issue {})", target.workload, target.issue);
            let Some(ours) = self.descent_line(target.workload) else {
                out.push((
                    format!("{head}: **NOT MEASURED** — the workload is not in this build"),
                    false,
                ));
                continue;
            };
            let our_s = num_of(ours, "seconds").unwrap_or(f64::NAN);
            // The peer at descent's thread count when it ran at several, else its
            // fastest line.
            let our_threads = num_of(ours, "threads");
            let peer = target.peers.iter().find_map(|name| {
                let lines: Vec<&Value> = self
                    .peer_lines(target.workload)
                    .into_iter()
                    .filter(|l| str_of(l, "impl") == *name)
                    .collect();
                let fastest = |a: &&Value, b: &&Value| {
                    let s = |l: &Value| num_of(l, "seconds").unwrap_or(f64::INFINITY);
                    s(a).total_cmp(&s(b))
                };
                lines
                    .iter()
                    .copied()
                    .filter(|l| num_of(l, "threads") == our_threads)
                    .min_by(fastest)
                    .or_else(|| lines.iter().copied().min_by(fastest))
            });
            let verdict = match &target.rule {
                Rule::FasterThan(k) | Rule::Within(k) => match peer {
                    None => Err(format!(
                        "no peer line `{}` in this run",
                        target.peers.join("` or `")
                    )),
                    Some(peer) => {
                        let name = str_of(peer, "impl");
                        let peer_s = num_of(peer, "seconds").unwrap_or(f64::NAN);
                        let (t_ours, t_peer) = (cell(ours, "threads"), cell(peer, "threads"));
                        let threads = format!("descent {t_ours} thread(s), {name} {t_peer}");
                        if let Rule::FasterThan(k) = target.rule {
                            let r = peer_s / our_s;
                            Ok((
                                r >= k,
                                format!(
                                    "at least {k}× faster than {name}: measured {}× ({threads})",
                                    sig(r)
                                ),
                            ))
                        } else {
                            let r = our_s / peer_s;
                            Ok((
                                r <= *k,
                                format!(
                                    "within {k}× of {name}: descent takes {}× its time ({threads})",
                                    sig(r)
                                ),
                            ))
                        }
                    }
                },
                Rule::KeyAtMost(key, k) | Rule::KeyAtLeast(key, k) => match num_of(ours, key) {
                    None => Err(format!("descent's line has no `{key}`")),
                    Some(v) => {
                        let at_most = matches!(target.rule, Rule::KeyAtMost(..));
                        let word = if at_most { "at most" } else { "at least" };
                        Ok((
                            if at_most { v <= *k } else { v >= *k },
                            format!("`{key}` {word} {k}: measured {}", sig(v)),
                        ))
                    }
                },
                Rule::WithinLimit(k) => match self.limit(target.workload, ours) {
                    None if self.quick => Err("limits are not applied at quick sizes".into()),
                    None => Err("no bandwidth or FLOP figure was measured".into()),
                    Some((limit, _)) => {
                        let r = our_s / limit;
                        Ok((
                            r <= *k,
                            format!(
                                "within {k}× of the physical limit ({} s): descent takes {}× it",
                                sig(limit),
                                sig(r)
                            ),
                        ))
                    }
                },
            };
            out.push(match verdict {
                Ok((true, text)) => (format!("{head}: met — {text}"), true),
                Ok((false, text)) => (format!("{head}: **MISSED** — {text}"), false),
                Err(why) => (format!("{head}: **NOT JUDGED** — {why}"), false),
            });
        }
        out
    }

    fn render(&self) -> String {
        let mut md = String::new();
        let date = command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
        let cpu = command_output("sh", &["-c", "lscpu | sed -n 's/^Model name: *//p'"]);
        let rustc = command_output("rustc", &["--version"]);
        let _ = writeln!(md, "# Benchmark results\n");
        let _ = writeln!(
            md,
            "Written by `cargo xtask bench --compare{}` on {date}; regenerate with the same \
             command. Workloads as defined in `shared/BENCHMARKS.md`; peers are the scripts of \
             `benches/peers/` ({}).\n",
            if self.quick { " --quick" } else { "" },
            self.peer_source
        );
        if self.quick {
            let _ = writeln!(
                md,
                "**Quick sizes**: a smoke test of the pipeline; the figures say nothing about \
                 speed and no physical limit is applied.\n"
            );
        }
        let _ = writeln!(
            md,
            "- Machine: {cpu}, {} logical CPU(s); {rustc}.\n- Load average (1, 5, 15 min) at \
             the start: {}, at the end: {}. The machine is shared, so every figure is \
             contended; only ratios measured in this same run mean anything.\n- `seconds` is \
             the median of at least 3 timed runs after a warm-up. **vs descent** = the \
             implementation's seconds ÷ descent's seconds: above 1 descent is faster, below 1 \
             slower.",
            self.threads, self.load.0, self.load.1
        );
        if self.peer_source.starts_with("not run") {
            let _ = writeln!(
                md,
                "- **The peers' figures were not measured in this run**: each ratio also carries \
                 the difference in load between the two runs (`load_avg_1m` on every peer line \
                 below). Run `cargo xtask bench --compare` without `--peers-from` for ratios \
                 measured back to back."
            );
        }
        if self.peer_failed {
            let _ = writeln!(
                md,
                "- Some peer scripts failed in this run (see the command's stderr); their lines \
                 are missing below."
            );
        }
        let verdicts = self.verdicts();
        let missed = verdicts.iter().filter(|v| !v.1).count();
        let _ = writeln!(
            md,
            "\n## Targets of issues 2–6\n\n{} of {} met.\n",
            verdicts.len() - missed,
            verdicts.len()
        );
        for (text, _) in &verdicts {
            let _ = writeln!(md, "- {text}");
        }
        self.render_limits(&mut md);
        for (workload, label, keys) in SECTIONS {
            if !self.names.is_empty() && !self.names.iter().any(|n| n == workload) {
                continue;
            }
            self.render_section(&mut md, workload, label, keys);
        }
        let _ = writeln!(
            md,
            "\n## Raw lines\n\n<details><summary>Every JSON line of this run</summary>\n\n```"
        );
        for line in &self.descent {
            let _ = writeln!(md, "{line}");
        }
        for limit in &self.limits {
            let _ = writeln!(md, "{}", limit.to_json());
        }
        for line in &self.peers {
            let _ = writeln!(md, "{line}");
        }
        let _ = writeln!(md, "```\n\n</details>");
        md
    }

    fn render_limits(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "\n## Physical limits of this machine\n\n\
             Measured by this command (`xtask/src/bench/limits.rs`, impl `rust`) and by \
             `benches/peers/triad.py` (C with OpenMP, NumPy/OpenBLAS, PyTorch/MKL) with the \
             peers; each is the best of 5 after a warm-up.\n\n\
             - **triad**: `a[i] = b[i] + s·c[i]` over three float64 arrays of 2²⁵ elements \
             (256 MiB each), one contiguous chunk per thread, 24 bytes per element (STREAM's \
             count).\n\
             - **read-bandwidth**: the sum of one such array with vector accumulators, 8 bytes \
             per element: W1c's access pattern.\n\
             - **matmul-f32**: sgemm of 2048³ (rust: ndarray/matrixmultiply, T independent \
             products on T threads) and 4096³ (peers: OpenBLAS, MKL), 2·n³ FLOPs.\n\
             - A workload's limit uses the best figure of its kind at the workload's thread \
             count, whichever method gave it.\n\n\
             | limit | impl | threads | rate |\n|---|---|---|---|"
        );
        for l in &self.limits {
            let unit = if l.kind == "matmul-f32" {
                "GFLOP/s"
            } else {
                "GB/s"
            };
            let _ = writeln!(
                md,
                "| {} | rust | {} | {} {unit} |",
                l.kind,
                l.threads,
                sig(l.rate)
            );
        }
        for line in &self.peers {
            let kind = str_of(line, "workload");
            if !["triad", "read-bandwidth", "matmul-f32"].contains(&kind) {
                continue;
            }
            let (rate, unit) = match num_of(line, "gb_per_s") {
                Some(r) => (r, "GB/s"),
                None => (num_of(line, "gflop_per_s").unwrap_or(f64::NAN), "GFLOP/s"),
            };
            let shape = match (num_of(line, "m"), num_of(line, "k"), num_of(line, "n")) {
                (Some(m), Some(k), Some(n)) => format!(" ({m}×{k} @ {k}×{n})"),
                _ => String::new(),
            };
            let _ = writeln!(
                md,
                "| {kind}{shape} | {} | {} | {} {unit} |",
                str_of(line, "impl"),
                cell(line, "threads"),
                sig(rate)
            );
        }
    }

    fn render_section(&self, md: &mut String, workload: &str, label: &str, keys: &[&str]) {
        let _ = writeln!(md, "\n## {label} `{workload}`\n");
        let ours = self.descent_line(workload);
        let peers = self.peer_lines(workload);
        if ours.is_none() && peers.is_empty() {
            let _ = writeln!(
                md,
                "Not measured: neither descent nor a peer has this workload in this build."
            );
            return;
        }
        if ours.is_none() {
            let _ = writeln!(
                md,
                "**descent: not measured** — the workload is not registered in this build's \
                 harness.\n"
            );
        }
        let our_s = ours.and_then(|l| num_of(l, "seconds"));
        let _ = write!(md, "| impl | threads | seconds | vs descent |");
        for key in keys {
            let _ = write!(md, " {key} |");
        }
        let _ = writeln!(md, "\n|---|---|---|---|{}", "---|".repeat(keys.len()));
        let mut rows: Vec<&Value> = ours.into_iter().collect();
        let mut sorted = peers;
        sorted.sort_by(|a, b| {
            let key = |l: &Value| num_of(l, "seconds").unwrap_or(f64::INFINITY);
            key(a).total_cmp(&key(b))
        });
        rows.extend(sorted);
        for line in rows {
            let ratio = match (num_of(line, "seconds"), our_s) {
                (Some(s), Some(o)) => sig(s / o),
                _ => "–".into(),
            };
            let name = str_of(line, "impl");
            let name = if name == "descent" {
                "**descent**"
            } else {
                name
            };
            let _ = write!(
                md,
                "| {name} | {} | {} | {ratio} |",
                cell(line, "threads"),
                cell(line, "seconds")
            );
            for key in keys {
                let _ = write!(md, " {} |", cell(line, key));
            }
            let _ = writeln!(md);
        }
        if let Some(line) = ours
            && let Some((limit, how)) = self.limit(workload, line)
        {
            let s = our_s.unwrap_or(f64::NAN);
            let _ = writeln!(
                md,
                "\nPhysical limit: {} s ({how}); descent takes {}× the limit.",
                sig(limit),
                sig(s / limit)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn report(descent: Vec<Value>, peers: Vec<Value>) -> Report {
        Report {
            quick: false,
            threads: 2,
            descent,
            peers,
            limits: vec![
                Limit {
                    kind: "read-bandwidth",
                    threads: 1,
                    rate: 8.0,
                },
                Limit {
                    kind: "matmul-f32",
                    threads: 1,
                    rate: 100.0,
                },
            ],
            peer_source: "test".into(),
            peer_failed: false,
            load: ("0".into(), "0".into()),
            names: vec!["linreg-minibatch".into(), "linreg-batch".into()],
        }
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(0.123456), "0.1235");
        assert_eq!(sig(1234.5), "1234");
        assert_eq!(sig(12.0), "12.00");
        assert_eq!(sig(1.5e-7), "1.500e-7");
    }

    #[test]
    fn verdicts_state_met_missed_and_limits() {
        let descent = vec![
            json!({"workload": "linreg-minibatch", "impl": "descent", "threads": 1, "seconds": 0.5}),
            json!({"workload": "linreg-batch", "impl": "descent", "threads": 1, "seconds": 4.0}),
        ];
        let peers = vec![
            json!({"workload": "linreg-minibatch", "impl": "pytorch", "threads": 2, "seconds": 40.0}),
            json!({"workload": "linreg-minibatch", "impl": "numpy", "threads": 2, "seconds": 0.25}),
            json!({"workload": "read-bandwidth", "impl": "c-openmp", "threads": 1, "seconds": 0.1, "gb_per_s": 10.0}),
        ];
        let r = report(descent, peers);
        let v = r.verdicts();
        assert_eq!(v.len(), 3);
        assert!(v[0].1 && v[0].0.contains("measured 80.00×"), "{}", v[0].0);
        assert!(!v[1].1 && v[1].0.contains("**MISSED**") && v[1].0.contains("0.5000×"));
        // 16 GB at the best 1-thread figure, 10 GB/s: 1.6 s; 4 s is 2.5× that.
        assert!(!v[2].1 && v[2].0.contains("1.600 s") && v[2].0.contains("2.500×"));
        let md = r.render();
        assert!(md.contains("1 of 3 met."));
        assert!(md.contains("| **descent** | 1 | 0.5000 | 1.000 |"));
        assert!(md.contains("| pytorch | 2 | 40.00 | 80.00 |"));
    }

    #[test]
    fn a_missing_workload_is_said_so() {
        let r = report(vec![], vec![]);
        let v = r.verdicts();
        assert!(
            v.iter()
                .all(|(text, ok)| !ok && text.contains("NOT MEASURED"))
        );
    }
}
