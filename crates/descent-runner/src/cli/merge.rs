//! `descent merge DIR... --out DIR`: join the results of shards into one folder.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;
use descent_runner::sweep;

/// Arguments of `descent merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The results folders of the shards.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged folder.
    #[arg(long)]
    out: PathBuf,
}

/// Runs `descent merge`.
pub fn run(args: MergeArgs) -> Result<()> {
    let summary = sweep::merge(&args.dirs, &args.out).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "{} runs from {} folders into {}{}",
        summary.runs,
        args.dirs.len(),
        args.out.display(),
        if summary.duplicates > 0 {
            format!(" ({} found twice, kept once)", summary.duplicates)
        } else {
            String::new()
        }
    );
    Ok(())
}
