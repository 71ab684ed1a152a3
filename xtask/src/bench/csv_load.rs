//! W5 `csv-load`: loading a 1,000,000 × 11 CSV (about 100 MB) into an f32 feature
//! matrix and a label vector, timed from opening the file to having both in memory.
//!
//! The file is written once, outside the repository, to
//! `$TMPDIR/descent-bench/w5.csv` (`w5-quick.csv` with `--quick`), deterministically
//! from a seed; `benches/peers/csv_load.py` reads the same file.

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use descent_data::{CsvOptions, Dataset, TargetKind, load_csv};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde_json::{Map, json};

use super::{Measurement, Settings, median_of};

/// Rows of the full and the quick file.
const ROWS: usize = 1_000_000;
const QUICK_ROWS: usize = 50_000;
/// Float feature columns; an integer class label 0–9 follows them.
const FEATURES: usize = 10;
const SEED: u64 = 5;

/// Where the W5 file lives (outside the repository).
pub fn file_path(quick: bool) -> PathBuf {
    let name = if quick { "w5-quick.csv" } else { "w5.csv" };
    std::env::temp_dir().join("descent-bench").join(name)
}

/// Writes the W5 file unless a complete one is already there: a header, then rows of
/// ten N(0,1) values with 6 decimals and a label 0–9, from ChaCha8 seeded with 5.
fn ensure_file(rows: usize, quick: bool) -> Result<PathBuf> {
    let path = file_path(quick);
    let header = (1..=FEATURES)
        .map(|i| format!("f{i}"))
        .collect::<Vec<_>>()
        .join(",")
        + ",label";
    if let Ok(text) = std::fs::read(&path) {
        let lines = text.iter().filter(|&&b| b == b'\n').count();
        if text.starts_with(header.as_bytes()) && lines == rows + 1 {
            return Ok(path);
        }
    }
    let dir = path.parent().expect("a file in a folder");
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let partial = path.with_extension("csv.partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("creating {}", partial.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    writeln!(out, "{header}")?;
    for _ in 0..rows {
        for _ in 0..FEATURES {
            let v: f64 = rng.sample(StandardNormal);
            write!(out, "{v:.6},")?;
        }
        writeln!(out, "{}", rng.random_range(0..10u32))?;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&partial, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn threads() -> usize {
    std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// W5: the median time to load the file with descent's loader, on all threads (and,
/// as `one_thread_seconds`, on one).
pub fn csv_load_workload(settings: &Settings) -> Result<Measurement> {
    let rows = if settings.quick { QUICK_ROWS } else { ROWS };
    let path = ensure_file(rows, settings.quick)?;
    let bytes = std::fs::metadata(&path)?.len() as f64;
    let options = CsvOptions::default().with_target_kind(TargetKind::Classes);
    let load =
        |options: &CsvOptions| -> Result<Dataset<f32>> { Ok(load_csv::<f32>(&path, options)?) };
    let (seconds, data) = median_of(settings.repetitions, || load(&options));
    let data = data?;
    ensure!(
        data.features().shape() == [rows, FEATURES]
            && data.class_names().map(<[_]>::len) == Some(10),
        "W5 loaded {:?} with {:?} classes",
        data.features().shape(),
        data.class_names().map(<[_]>::len)
    );
    let sequential = CsvOptions {
        parallel: false,
        ..options.clone()
    };
    let (one_thread_seconds, one) = median_of(settings.repetitions, || load(&sequential));
    ensure!(
        one? == data,
        "the one-threaded load differs from the parallel one"
    );
    let mut extra = Map::new();
    extra.insert("rows".into(), json!(rows));
    extra.insert("mb_per_s".into(), json!(bytes / 1e6 / seconds));
    extra.insert("file_mb".into(), json!(bytes / 1e6));
    extra.insert("one_thread_seconds".into(), json!(one_thread_seconds));
    extra.insert(
        "one_thread_mb_per_s".into(),
        json!(bytes / 1e6 / one_thread_seconds),
    );
    Ok(Measurement {
        seconds,
        threads: threads(),
        extra,
    })
}
