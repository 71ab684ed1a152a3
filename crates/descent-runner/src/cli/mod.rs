//! The `descent` command line: the top-level parser and one subcommand per module.

mod calc;
mod data;
mod merge;
mod report;
mod run;
mod slurm;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Gradient-based learning made exact, visible and comparable.
#[derive(Debug, Parser)]
#[command(name = "descent", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Look at data sets and CSV files.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Derivatives four ways, gradients, Hessians and minimisation of expressions.
    #[command(subcommand)]
    Calc(calc::CalcCommand),
    /// Validate an experiment file and train all its runs in parallel.
    Run(run::RunArgs),
    /// Join the results folders of shards into one.
    Merge(merge::MergeArgs),
    /// Rank a sweep's configurations, write report.md and plots, compare with a baseline.
    Report(report::ReportArgs),
    /// Write (and with --submit, submit) a Slurm job array for a sweep and a job that merges it.
    Slurm(slurm::SlurmArgs),
}

/// Runs the parsed command.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Data(command) => data::run(command),
        Command::Calc(command) => calc::run(command),
        Command::Run(args) => run::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Report(args) => report::run(args),
        Command::Slurm(args) => slurm::run(args),
    }
}
