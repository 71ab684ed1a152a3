//! CSV parsing with descent-data: a W5-shaped file (10 float columns written with 6
//! decimals and an integer class label) of about 4 MB, generated once in a temporary
//! directory, loaded from disk on one thread and on the rayon pool, and parsed from
//! memory. Throughput is the file's bytes.
//!
//!     cargo bench --bench csv_parse

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::PathBuf;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use descent::data::{CsvOptions, TargetKind, load_csv, load_csv_bytes};

const ROWS: usize = 50_000;

/// Writes the file (fixed xorshift stream) and returns its path.
fn generate() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("descent-bench-csv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let path = dir.join("w5-small.csv");
    let mut text = String::from("f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,label\n");
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    for row in 0..ROWS {
        for _ in 0..10 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = (state >> 11) as f64 / (1u64 << 53) as f64 * 6.0 - 3.0;
            let _ = write!(text, "{v:.6},");
        }
        let _ = writeln!(text, "{}", row % 10);
    }
    std::fs::write(&path, text).expect("writing the CSV file");
    path
}

fn csv_parse(c: &mut Criterion) {
    let path = generate();
    let bytes = std::fs::read(&path).expect("reading back");
    let mut group = c.benchmark_group("csv_parse");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    let mb = format!("{:.1}MB", bytes.len() as f64 / 1e6);
    for parallel in [false, true] {
        let options = CsvOptions {
            parallel,
            ..CsvOptions::default().with_target_kind(TargetKind::Classes)
        };
        let threads = if parallel { "parallel" } else { "1thread" };
        group.bench_function(BenchmarkId::new(format!("file_{threads}"), &mb), |b| {
            b.iter(|| {
                let data = load_csv::<f32>(&path, &options).expect("valid file");
                assert_eq!(data.rows(), ROWS);
                black_box(data)
            })
        });
        group.bench_function(BenchmarkId::new(format!("memory_{threads}"), &mb), |b| {
            b.iter(|| black_box(load_csv_bytes::<f32>(&bytes, &path, &options).expect("valid")))
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(path.parent().expect("temporary directory"));
}

criterion_group!(benches, csv_parse);
criterion_main!(benches);
