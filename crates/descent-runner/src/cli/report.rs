//! `descent report DIR [--baseline DIR --tolerance 5%]`: the ranked table, report.md and
//! the plots; non-zero exit when a configuration got worse than the baseline.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use descent_runner::report::{self, Results};

/// Arguments of `descent report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The results folder.
    dir: PathBuf,
    /// A results folder of the same configurations to compare with.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// How much worse a mean final loss may be than the baseline's: 5% or 0.05.
    #[arg(long, default_value = "5%", requires = "baseline")]
    tolerance: String,
}

/// Runs `descent report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let results = Results::load(&args.dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let summaries = report::summarize(&results);
    print!("{}", report::terminal_table(&results, &summaries));
    let files = report::write_report(&results).map_err(|e| anyhow::anyhow!("{e}"))?;
    for f in &files {
        println!("wrote {}", f.display());
    }
    if let Some(base) = &args.baseline {
        let tolerance = report::parse_tolerance(&args.tolerance).map_err(anyhow::Error::msg)?;
        let baseline = Results::load(base).map_err(|e| anyhow::anyhow!("{e}"))?;
        let changes = report::compare(&results, &baseline, tolerance);
        println!(
            "\nagainst {} ({} configurations in both):",
            base.display(),
            changes.len()
        );
        for c in &changes {
            println!(
                "  {} {}: {}: {}",
                if c.regression { "WORSE" } else { "ok   " },
                c.problem,
                c.config,
                c.note
            );
        }
        let worse = changes.iter().filter(|c| c.regression).count();
        if changes.is_empty() {
            anyhow::bail!(
                "no configuration of {} is in the baseline {}",
                args.dir.display(),
                base.display()
            );
        }
        if worse > 0 {
            anyhow::bail!(
                "{worse} of {} configurations got worse than the baseline by more than {}",
                changes.len(),
                args.tolerance
            );
        }
    }
    Ok(())
}
