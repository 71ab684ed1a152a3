//! Synthetic data sets drawn from a caller-seeded [`ChaCha8Rng`]: linear regression with
//! noise, Gaussian blobs, two moons, spirals and XOR.
//!
//! The same seed gives the same data on every machine.
//!
//! ```
//! use descent_data::synthetic;
//! use rand::SeedableRng;
//! use rand_chacha::ChaCha8Rng;
//!
//! let mut rng = ChaCha8Rng::seed_from_u64(0);
//! let moons = synthetic::moons::<f32>(200, 0.1, &mut rng)?;
//! assert_eq!(moons.targets().class_counts(), Some(vec![100, 100]));
//! # Ok::<(), descent_data::DataError>(())
//! ```

use std::f64::consts::PI;

use descent_autodiff::Float;
use ndarray::{Array1, Array2};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::dataset::{Dataset, Targets, invalid};
use crate::error::Result;

/// A linear-regression data set and the truth it was drawn from.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearData<T> {
    /// Features `x ~ N(0, 1)` and targets `y = x·w + b + noise·N(0, 1)`.
    pub data: Dataset<T>,
    /// The true weights `w ~ N(0, 1)`.
    pub weights: Array1<f64>,
    /// The true bias `b ~ N(0, 1)`.
    pub bias: f64,
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    rng.sample(StandardNormal)
}

fn check(rows: usize, noise: f64) -> Result<()> {
    if rows == 0 {
        return Err(invalid("rows", 0, "at least 1"));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(invalid("noise", noise, "a finite number ≥ 0"));
    }
    Ok(())
}

fn names(d: usize) -> Vec<String> {
    (1..=d).map(|i| format!("x{i}")).collect()
}

fn classified<T: Float>(x: Vec<f64>, d: usize, labels: Vec<usize>, k: usize) -> Result<Dataset<T>> {
    let rows = labels.len();
    let features = Array2::from_shape_vec((rows, d), x.into_iter().map(T::of).collect())
        .expect("rows × d values");
    let targets = Targets::Classes {
        indices: Array1::from(labels),
        names: (0..k).map(|c| c.to_string()).collect(),
    };
    Dataset::new(features, targets, names(d), "class".to_string())
}

/// `rows` rows of `features` standard-normal features with `y = x·w + b + noise·ε`.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for 0 rows or features, or a negative noise.
pub fn linear<T: Float>(
    rows: usize,
    features: usize,
    noise: f64,
    rng: &mut ChaCha8Rng,
) -> Result<LinearData<T>> {
    check(rows, noise)?;
    if features == 0 {
        return Err(invalid("features", 0, "at least 1"));
    }
    let weights: Array1<f64> = (0..features).map(|_| normal(rng)).collect();
    let bias = normal(rng);
    let mut x = Vec::with_capacity(rows * features);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let mut dot = bias;
        for w in &weights {
            let v = normal(rng);
            dot += v * w;
            x.push(T::of(v));
        }
        y.push(T::of(dot + noise * normal(rng)));
    }
    let x = Array2::from_shape_vec((rows, features), x).expect("rows × features values");
    let data = Dataset::new(
        x,
        Targets::Real(Array1::from(y)),
        names(features),
        "y".into(),
    )?;
    Ok(LinearData {
        data,
        weights,
        bias,
    })
}

/// Gaussian blobs: `centers` classes in `features` dimensions, centres uniform in
/// [−10, 10], spread `std`; row `i` belongs to class `i mod centers`.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for 0 rows, centres or features, or a negative std.
pub fn blobs<T: Float>(
    rows: usize,
    centers: usize,
    features: usize,
    std: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Dataset<T>> {
    check(rows, std)?;
    if centers == 0 || features == 0 {
        return Err(invalid(
            "centers and features",
            (centers, features).0,
            "at least 1 each",
        ));
    }
    let middles: Vec<f64> = (0..centers * features)
        .map(|_| rng.random_range(-10.0..10.0))
        .collect();
    let mut x = Vec::with_capacity(rows * features);
    let labels: Vec<usize> = (0..rows).map(|i| i % centers).collect();
    for &c in &labels {
        for j in 0..features {
            x.push(middles[c * features + j] + std * normal(rng));
        }
    }
    classified(x, features, labels, centers)
}

/// Two interleaving half circles (scikit-learn's `make_moons`): the first `⌈rows/2⌉`
/// rows are class 0, the rest class 1, with Gaussian `noise` added to both coordinates.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for 0 rows or a negative noise.
pub fn moons<T: Float>(rows: usize, noise: f64, rng: &mut ChaCha8Rng) -> Result<Dataset<T>> {
    check(rows, noise)?;
    let outer = rows.div_ceil(2);
    let inner = rows - outer;
    let step = |n: usize, i: usize| {
        if n > 1 {
            PI * i as f64 / (n - 1) as f64
        } else {
            0.0
        }
    };
    let mut x = Vec::with_capacity(rows * 2);
    let mut labels = Vec::with_capacity(rows);
    for i in 0..outer {
        let t = step(outer, i);
        x.extend([t.cos() + noise * normal(rng), t.sin() + noise * normal(rng)]);
        labels.push(0);
    }
    for i in 0..inner {
        let t = step(inner, i);
        x.extend([
            1.0 - t.cos() + noise * normal(rng),
            0.5 - t.sin() + noise * normal(rng),
        ]);
        labels.push(1);
    }
    classified(x, 2, labels, 2)
}

/// `classes` interleaved spiral arms in the plane (as in CS231n), `rows / classes` points
/// per arm (the first `rows mod classes` arms get one more), angle noise `noise`.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for 0 rows or classes, or a negative noise.
pub fn spirals<T: Float>(
    rows: usize,
    classes: usize,
    noise: f64,
    rng: &mut ChaCha8Rng,
) -> Result<Dataset<T>> {
    check(rows, noise)?;
    if classes == 0 {
        return Err(invalid("classes", 0, "at least 1"));
    }
    let mut x = Vec::with_capacity(rows * 2);
    let mut labels = Vec::with_capacity(rows);
    for c in 0..classes {
        let n = rows / classes + usize::from(c < rows % classes);
        for i in 0..n {
            let s = if n > 1 {
                i as f64 / (n - 1) as f64
            } else {
                0.0
            };
            let t = 4.0 * (c as f64 + s) + noise * normal(rng);
            x.extend([s * t.sin(), s * t.cos()]);
            labels.push(c);
        }
    }
    classified(x, 2, labels, classes)
}

/// XOR: points uniform in [−1, 1]², class 1 when exactly one coordinate is positive,
/// then Gaussian `noise` added to the coordinates.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for 0 rows or a negative noise.
pub fn xor<T: Float>(rows: usize, noise: f64, rng: &mut ChaCha8Rng) -> Result<Dataset<T>> {
    check(rows, noise)?;
    let mut x = Vec::with_capacity(rows * 2);
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let a: f64 = rng.random_range(-1.0..1.0);
        let b: f64 = rng.random_range(-1.0..1.0);
        labels.push(usize::from((a > 0.0) != (b > 0.0)));
        x.extend([a + noise * normal(rng), b + noise * normal(rng)]);
    }
    classified(x, 2, labels, 2)
}
