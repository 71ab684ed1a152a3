//! The machine's physical limits, measured by the same command that runs the
//! workloads: memory bandwidth (a STREAM triad and a read-only sum) and the peak
//! float32 matrix-multiply rate (a large sgemm), each on 1 thread and on all cores.
//!
//! Method (also written into `BENCHMARKS-RESULTS.md`):
//! - **triad**: `a[i] = b[i] + s·c[i]` over three `f64` arrays of 2²⁵ elements
//!   (256 MiB each, far beyond the caches), split into one contiguous chunk per
//!   thread, counted as STREAM counts it: 24 bytes per element.
//! - **read**: the sum of one such array with eight independent accumulators (so
//!   the adds vectorise and the add latency does not bind), 8 bytes per element:
//!   the pattern of W1c, which reads X twice per step.
//! - **sgemm**: ndarray's `general_mat_mul` (the `matrixmultiply` kernels descent
//!   uses) on 2048 × 2048 × 2048 `f32`, 2·n³ FLOPs; with T threads, T independent
//!   multiplications run at once and their FLOPs are added.
//!
//! Each figure is the best of five runs after a warm-up: a capability, taken at its
//! best, because the machine is shared.

use std::time::Instant;

use ndarray::Array2;
use ndarray::linalg::general_mat_mul;
use serde_json::{Value, json};

/// One measured limit.
#[derive(Clone, Debug)]
pub struct Limit {
    /// `triad`, `read-bandwidth` or `matmul-f32`.
    pub kind: &'static str,
    /// Threads it ran on.
    pub threads: usize,
    /// GB/s (bandwidth) or GFLOP/s (matmul).
    pub rate: f64,
}

impl Limit {
    /// The limit as a JSON line in the format of the peers' `triad.py`.
    pub fn to_json(&self) -> Value {
        let key = if self.kind == "matmul-f32" {
            "gflop_per_s"
        } else {
            "gb_per_s"
        };
        json!({"workload": self.kind, "impl": "rust", "threads": self.threads, key: self.rate})
    }
}

const REPETITIONS: usize = 5;

/// Best seconds of `REPETITIONS` runs after a warm-up.
fn best_of(mut f: impl FnMut()) -> f64 {
    f();
    (0..REPETITIONS)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// Splits `len` into `threads` contiguous ranges.
fn chunks(len: usize, threads: usize) -> Vec<std::ops::Range<usize>> {
    let per = len.div_ceil(threads);
    (0..threads)
        .map(|t| (t * per).min(len)..((t + 1) * per).min(len))
        .collect()
}

fn triad(a: &mut [f64], b: &[f64], c: &[f64], threads: usize) {
    let s = 3.0;
    let ranges = chunks(a.len(), threads);
    std::thread::scope(|scope| {
        let mut rest = a;
        for range in ranges {
            let (mine, tail) = rest.split_at_mut(range.len());
            rest = tail;
            let (b, c) = (&b[range.clone()], &c[range]);
            scope.spawn(move || {
                for ((a, b), c) in mine.iter_mut().zip(b).zip(c) {
                    *a = b + s * c;
                }
            });
        }
    });
}

fn read_sum(a: &[f64], threads: usize) -> f64 {
    let ranges = chunks(a.len(), threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .into_iter()
            .map(|range| {
                let part = &a[range];
                scope.spawn(move || {
                    let mut acc = [0.0; 8];
                    let mut blocks = part.chunks_exact(8);
                    for block in &mut blocks {
                        for (s, v) in acc.iter_mut().zip(block) {
                            *s += v;
                        }
                    }
                    acc.iter().sum::<f64>() + blocks.remainder().iter().sum::<f64>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("read thread"))
            .sum()
    })
}

/// Triad and read bandwidth (GB/s, 10⁹ bytes) on `threads` threads.
fn bandwidth(quick: bool, threads: usize) -> [Limit; 2] {
    let n = 1usize << if quick { 22 } else { 25 };
    // Written by the threads that will read them (first touch), before timing.
    let mut a = vec![0.0f64; n];
    let mut b = vec![0.0f64; n];
    let mut c = vec![0.0f64; n];
    triad(&mut b, &a, &a, threads);
    triad(&mut c, &a, &a, threads);
    for (i, v) in b.iter_mut().enumerate() {
        *v = (i % 7) as f64;
    }
    let triad_s = best_of(|| triad(&mut a, &b, &c, threads));
    let mut sink = 0.0;
    let read_s = best_of(|| sink += read_sum(&b, threads));
    assert!(sink.is_finite());
    [
        Limit {
            kind: "triad",
            threads,
            rate: 24.0 * n as f64 / triad_s / 1e9,
        },
        Limit {
            kind: "read-bandwidth",
            threads,
            rate: 8.0 * n as f64 / read_s / 1e9,
        },
    ]
}

/// Float32 matmul rate (GFLOP/s) with `threads` concurrent 2048³ multiplications.
fn matmul(quick: bool, threads: usize) -> Limit {
    let n = if quick { 512 } else { 2048 };
    let a = Array2::from_shape_fn((n, n), |(i, j)| ((i * 7 + j * 3) % 11) as f32 * 0.1);
    let b = Array2::from_shape_fn((n, n), |(i, j)| ((i * 5 + j) % 13) as f32 * 0.1);
    let mut outputs: Vec<Array2<f32>> = (0..threads).map(|_| Array2::zeros((n, n))).collect();
    let seconds = best_of(|| {
        std::thread::scope(|scope| {
            for c in outputs.iter_mut() {
                let (a, b) = (&a, &b);
                scope.spawn(move || general_mat_mul(1.0, a, b, 0.0, c));
            }
        });
    });
    Limit {
        kind: "matmul-f32",
        threads,
        rate: 2.0 * (n as f64).powi(3) * threads as f64 / seconds / 1e9,
    }
}

/// Every limit on 1 thread and on `threads` (when more than 1).
pub fn measure(quick: bool, threads: usize) -> Vec<Limit> {
    let mut counts = vec![1];
    if threads > 1 {
        counts.push(threads);
    }
    let mut limits = Vec::new();
    for &t in &counts {
        limits.extend(bandwidth(quick, t));
        limits.push(matmul(quick, t));
    }
    limits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_range_once() {
        let ranges = chunks(10, 3);
        assert_eq!(ranges, vec![0..4, 4..8, 8..10]);
        assert_eq!(chunks(2, 4).iter().map(|r| r.len()).sum::<usize>(), 2);
    }

    #[test]
    fn kernels_compute_what_they_count() {
        let (b, c) = (vec![1.0; 9], vec![2.0; 9]);
        let mut a = vec![0.0; 9];
        triad(&mut a, &b, &c, 2);
        assert!(a.iter().all(|&v| v == 7.0));
        let v: Vec<f64> = (0..19).map(f64::from).collect();
        assert_eq!(read_sum(&v, 3), 171.0);
    }
}
