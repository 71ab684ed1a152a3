//! `descent data ...`: inspecting CSV files with descent's loader.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use descent_data::{CsvOptions, Dataset, MissingPolicy, TargetKind, Targets, load_csv};

/// The `data` subcommands.
#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Load a CSV file and print its shape, columns, targets and per-column statistics.
    Inspect(InspectArgs),
}

/// Arguments of `descent data inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The CSV file.
    file: PathBuf,
    /// The target column, by name or 0-based index (default: the last column).
    #[arg(long)]
    target: Option<String>,
    /// Read the target as class labels (default: decided by the first row).
    #[arg(long, conflicts_with = "real")]
    classes: bool,
    /// Read the target as real values.
    #[arg(long)]
    real: bool,
    /// The file has no header row.
    #[arg(long)]
    no_header: bool,
    /// The field delimiter, one ASCII character.
    #[arg(long, default_value = ",")]
    delimiter: char,
    /// What to do with missing values: error, drop-row or fill-mean.
    #[arg(long, default_value = "error")]
    missing: String,
}

/// Runs a `data` subcommand.
pub fn run(command: DataCommand) -> Result<()> {
    match command {
        DataCommand::Inspect(args) => {
            print!("{}", inspect(&args)?);
            Ok(())
        }
    }
}

fn options(args: &InspectArgs) -> Result<CsvOptions> {
    anyhow::ensure!(
        args.delimiter.is_ascii(),
        "--delimiter must be one ASCII character"
    );
    let mut options = CsvOptions {
        has_header: !args.no_header,
        delimiter: args.delimiter as u8,
        ..CsvOptions::default()
    };
    if let Some(target) = &args.target {
        options = match (target.parse::<usize>(), args.no_header) {
            (Ok(index), _) if !target.is_empty() => options.with_target(index),
            _ => options.with_target(target.as_str()),
        };
    }
    options.target_kind = match (args.classes, args.real) {
        (true, _) => TargetKind::Classes,
        (_, true) => TargetKind::Real,
        _ => TargetKind::Auto,
    };
    options.missing = match args.missing.as_str() {
        "error" => MissingPolicy::Error,
        "drop-row" => MissingPolicy::DropRow,
        "fill-mean" => MissingPolicy::FillMean,
        other => {
            anyhow::bail!("unknown --missing `{other}`; expected error, drop-row or fill-mean")
        }
    };
    Ok(options)
}

fn inspect(args: &InspectArgs) -> Result<String> {
    // The loader's errors already name the file, line and column.
    let data: Dataset<f64> = load_csv(&args.file, &options(args)?)?;
    Ok(report(&args.file, &data))
}

fn is_integral(values: impl Iterator<Item = f64>) -> bool {
    values.into_iter().all(|v| v.fract() == 0.0)
}

/// A value in its shortest round-tripping form (`4.4`, `2`).
fn number(v: f64) -> String {
    format!("{v}")
}

/// A mean, to six decimals with trailing zeros removed.
fn mean(v: f64) -> String {
    let text = format!("{v:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

/// The printed report of a loaded file.
fn report(file: &std::path::Path, data: &Dataset<f64>) -> String {
    let x = data.features();
    let mut out = String::new();
    let _ = writeln!(out, "file: {}", file.display());
    let _ = writeln!(
        out,
        "shape: {} rows × {} columns ({} features + target `{}`)",
        data.rows(),
        data.n_features() + 1,
        data.n_features(),
        data.target_name()
    );
    let width = data
        .feature_names()
        .iter()
        .map(String::len)
        .max()
        .unwrap_or(4)
        .max(6);
    let _ = writeln!(
        out,
        "\n{:>4}  {:<width$}  {:<8}  {:>14}  {:>14}  {:>14}",
        "#", "column", "type", "mean", "min", "max"
    );
    for (j, name) in data.feature_names().iter().enumerate() {
        let col = x.column(j);
        let kind = if is_integral(col.iter().copied()) {
            "integer"
        } else {
            "float"
        };
        let average = col.mean().unwrap_or(f64::NAN);
        let min = col.iter().copied().fold(f64::INFINITY, f64::min);
        let max = col.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let _ = writeln!(
            out,
            "{:>4}  {name:<width$}  {kind:<8}  {:>14}  {:>14}  {:>14}",
            j + 1,
            mean(average),
            number(min),
            number(max)
        );
    }
    let name = data.target_name();
    match data.targets() {
        Targets::Real(y) => {
            let kind = if is_integral(y.iter().copied()) {
                "integer"
            } else {
                "float"
            };
            let average = y.mean().unwrap_or(f64::NAN);
            let min = y.iter().copied().fold(f64::INFINITY, f64::min);
            let max = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let _ = writeln!(
                out,
                "{:>4}  {name:<width$}  {kind:<8}  {:>14}  {:>14}  {:>14}  (target)",
                "T",
                mean(average),
                number(min),
                number(max)
            );
            let _ = writeln!(
                out,
                "\ntarget `{name}`: real values, range {} to {}",
                number(min),
                number(max)
            );
        }
        Targets::Classes { names, .. } => {
            let _ = writeln!(out, "{:>4}  {name:<width$}  {:<8}  (target)", "T", "class");
            let counts = data.targets().class_counts().unwrap_or_default();
            let _ = writeln!(out, "\ntarget `{name}`: {} classes", names.len());
            let label_width = names.iter().map(String::len).max().unwrap_or(1);
            for (i, (label, count)) in names.iter().zip(counts).enumerate() {
                let _ = writeln!(out, "{i:>4}  {label:<label_width$}  {count}");
            }
        }
    }
    out
}
