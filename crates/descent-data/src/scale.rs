//! Feature scalers fitted on training rows only, and one-hot encoding of class indices.

use descent_autodiff::Float;
use ndarray::{Array2, ArrayView2, ArrayViewMut2, Axis};
use serde::{Deserialize, Serialize};

use crate::dataset::invalid;
use crate::error::Result;

fn check_columns(expected: usize, found: usize) -> Result<()> {
    if expected == found {
        Ok(())
    } else {
        Err(invalid(
            "feature columns",
            found,
            format!("{expected}, as when the scaler was fitted"),
        ))
    }
}

fn column_stats<T: Float>(x: ArrayView2<'_, T>) -> Result<Vec<(f64, f64, f64, f64)>> {
    if x.nrows() == 0 {
        return Err(invalid("rows to fit on", 0, "at least one row"));
    }
    Ok(x.axis_iter(Axis(1))
        .map(|col| {
            let n = col.len() as f64;
            let mean = col.iter().map(|v| v.as_f64()).sum::<f64>() / n;
            let var = col.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n;
            let min = col.iter().map(|v| v.as_f64()).fold(f64::INFINITY, f64::min);
            let max = col
                .iter()
                .map(|v| v.as_f64())
                .fold(f64::NEG_INFINITY, f64::max);
            (mean, var.sqrt(), min, max)
        })
        .collect())
}

/// Standardises each feature to mean 0 and standard deviation 1 (population deviation,
/// as scikit-learn's `StandardScaler`); a constant column is only centred.
///
/// Fit it on the training rows, then apply it to training, validation and test rows alike.
///
/// # Example
/// ```
/// use descent_data::{Shipped, StandardScaler, train_test_split};
///
/// let wine = Shipped::Wine.load::<f64>()?;
/// let (mut train, mut test) = train_test_split(&wine, 0.25, 3, true)?;
/// let scaler = StandardScaler::fit(train.features())?;
/// scaler.transform(train.features_mut())?;
/// scaler.transform(test.features_mut())?;
/// let mean0 = train.features().column(0).mean().unwrap();
/// assert!(mean0.abs() < 1e-12);
/// # Ok::<(), descent_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandardScaler {
    /// Each column's mean over the rows fitted on.
    pub mean: Vec<f64>,
    /// Each column's standard deviation (1 for a constant column).
    pub scale: Vec<f64>,
}

impl StandardScaler {
    /// Fits on these (training) rows.
    ///
    /// # Errors
    /// [`crate::DataError::InvalidArgument`] when there are no rows.
    pub fn fit<T: Float>(x: ArrayView2<'_, T>) -> Result<Self> {
        let stats = column_stats(x)?;
        Ok(Self {
            mean: stats.iter().map(|s| s.0).collect(),
            scale: stats
                .iter()
                .map(|s| if s.1 > 0.0 { s.1 } else { 1.0 })
                .collect(),
        })
    }

    /// Scales rows in place: `(x - mean) / scale`.
    ///
    /// # Errors
    /// [`crate::DataError::InvalidArgument`] when the number of columns differs from the fit.
    pub fn transform<T: Float>(&self, mut x: ArrayViewMut2<'_, T>) -> Result<()> {
        check_columns(self.mean.len(), x.ncols())?;
        for mut row in x.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = T::of((v.as_f64() - m) / s);
            }
        }
        Ok(())
    }

    /// Undoes [`StandardScaler::transform`] in place.
    ///
    /// # Errors
    /// As [`StandardScaler::transform`].
    pub fn inverse_transform<T: Float>(&self, mut x: ArrayViewMut2<'_, T>) -> Result<()> {
        check_columns(self.mean.len(), x.ncols())?;
        for mut row in x.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *v = T::of(v.as_f64() * s + m);
            }
        }
        Ok(())
    }
}

/// Scales each feature to [0, 1] over the rows fitted on (a constant column becomes 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    /// Each column's minimum over the rows fitted on.
    pub min: Vec<f64>,
    /// Each column's max − min (1 for a constant column).
    pub range: Vec<f64>,
}

impl MinMaxScaler {
    /// Fits on these (training) rows.
    ///
    /// # Errors
    /// [`crate::DataError::InvalidArgument`] when there are no rows.
    pub fn fit<T: Float>(x: ArrayView2<'_, T>) -> Result<Self> {
        let stats = column_stats(x)?;
        Ok(Self {
            min: stats.iter().map(|s| s.2).collect(),
            range: stats
                .iter()
                .map(|s| if s.3 > s.2 { s.3 - s.2 } else { 1.0 })
                .collect(),
        })
    }

    /// Scales rows in place: `(x - min) / range`. Rows outside the fitted range map
    /// outside [0, 1].
    ///
    /// # Errors
    /// [`crate::DataError::InvalidArgument`] when the number of columns differs from the fit.
    pub fn transform<T: Float>(&self, mut x: ArrayViewMut2<'_, T>) -> Result<()> {
        check_columns(self.min.len(), x.ncols())?;
        for mut row in x.rows_mut() {
            for ((v, lo), r) in row.iter_mut().zip(&self.min).zip(&self.range) {
                *v = T::of((v.as_f64() - lo) / r);
            }
        }
        Ok(())
    }

    /// Undoes [`MinMaxScaler::transform`] in place.
    ///
    /// # Errors
    /// As [`MinMaxScaler::transform`].
    pub fn inverse_transform<T: Float>(&self, mut x: ArrayViewMut2<'_, T>) -> Result<()> {
        check_columns(self.min.len(), x.ncols())?;
        for mut row in x.rows_mut() {
            for ((v, lo), r) in row.iter_mut().zip(&self.min).zip(&self.range) {
                *v = T::of(v.as_f64() * r + lo);
            }
        }
        Ok(())
    }
}

/// One row per index with a 1 in the index's column: `n × classes`.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] when an index is not below `classes`.
///
/// # Example
/// ```
/// let y = descent_data::one_hot::<f32>(&[2, 0], 3)?;
/// assert_eq!(y, ndarray::array![[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
pub fn one_hot<T: Float>(indices: &[usize], classes: usize) -> Result<Array2<T>> {
    let mut out = Array2::zeros((indices.len(), classes));
    for (row, &class) in indices.iter().enumerate() {
        if class >= classes {
            return Err(invalid(
                "class index",
                class,
                format!("an index below {classes}"),
            ));
        }
        out[[row, class]] = T::one();
    }
    Ok(out)
}
