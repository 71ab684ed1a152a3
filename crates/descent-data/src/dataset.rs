//! The in-memory data set: a feature matrix, its targets and the column names.

use descent_autodiff::Float;
use ndarray::{ArcArray2, Array1, Array2, ArrayView2, Axis};

use crate::error::{DataError, Result};

/// What a data set predicts: real values (regression) or class indices (classification).
#[derive(Debug, Clone, PartialEq)]
pub enum Targets<T> {
    /// One real target per row.
    Real(Array1<T>),
    /// One class index per row, into `names`.
    Classes {
        /// The class index of each row, each below `names.len()`.
        indices: Array1<usize>,
        /// The class names, in class-index order.
        names: Vec<String>,
    },
}

impl<T: Float> Targets<T> {
    /// The number of rows.
    pub fn len(&self) -> usize {
        match self {
            Targets::Real(values) => values.len(),
            Targets::Classes { indices, .. } => indices.len(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The targets of the given rows, in that order.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn select(&self, rows: &[usize]) -> Targets<T> {
        match self {
            Targets::Real(values) => Targets::Real(rows.iter().map(|&r| values[r]).collect()),
            Targets::Classes { indices, names } => Targets::Classes {
                indices: rows.iter().map(|&r| indices[r]).collect(),
                names: names.clone(),
            },
        }
    }

    /// The class names, or `None` for real targets.
    pub fn class_names(&self) -> Option<&[String]> {
        match self {
            Targets::Real(_) => None,
            Targets::Classes { names, .. } => Some(names),
        }
    }

    /// How many rows each class has, in class-index order (`None` for real targets).
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        match self {
            Targets::Real(_) => None,
            Targets::Classes { indices, names } => {
                let mut counts = vec![0; names.len()];
                for &i in indices {
                    counts[i] += 1;
                }
                Some(counts)
            }
        }
    }
}

/// A data set in memory: `rows × features` features, one target per row, and names.
///
/// # Example
/// ```
/// use descent_data::{Dataset, Targets};
/// use ndarray::array;
///
/// let data = Dataset::new(
///     array![[1.0f32, 2.0], [3.0, 4.0]],
///     Targets::Real(array![0.5, 1.5]),
///     vec!["a".into(), "b".into()],
///     "y".into(),
/// )?;
/// assert_eq!(data.rows(), 2);
/// # Ok::<(), descent_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset<T> {
    /// Shared, so that a training loop can hand the whole matrix to a graph without a
    /// copy.
    features: ArcArray2<T>,
    targets: Targets<T>,
    feature_names: Vec<String>,
    target_name: String,
}

impl<T: Float> Dataset<T> {
    /// Builds a data set, checking that the parts fit together.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] when the targets' length differs from the number of
    /// rows, the names from the number of feature columns, or a class index is out of range.
    pub fn new(
        features: Array2<T>,
        targets: Targets<T>,
        feature_names: Vec<String>,
        target_name: String,
    ) -> Result<Self> {
        if targets.len() != features.nrows() {
            return Err(invalid(
                "targets",
                format!("{} targets", targets.len()),
                format!("one per row ({} rows)", features.nrows()),
            ));
        }
        if feature_names.len() != features.ncols() {
            return Err(invalid(
                "feature names",
                format!("{} names", feature_names.len()),
                format!("one per feature column ({})", features.ncols()),
            ));
        }
        let bad = match &targets {
            Targets::Classes { indices, names } => indices
                .iter()
                .find(|&&i| i >= names.len())
                .map(|&i| (i, names.len())),
            Targets::Real(_) => None,
        };
        if let Some((bad, classes)) = bad {
            return Err(invalid(
                "class index",
                bad.to_string(),
                format!("an index below the number of classes ({classes})"),
            ));
        }
        if let Some(values) = features.as_slice() {
            crate::huge_pages::collapse(values);
        }
        Ok(Self {
            features: features.into_shared(),
            targets,
            feature_names,
            target_name,
        })
    }

    /// The feature matrix, one row per example.
    pub fn features(&self) -> ArrayView2<'_, T> {
        self.features.view()
    }

    /// The feature matrix, shared with this data set (a reference count, not a copy).
    pub fn features_shared(&self) -> ArcArray2<T> {
        self.features.clone()
    }

    /// The feature matrix, mutable (for scaling in place; a data set that shares it
    /// with a clone first takes its own copy).
    pub fn features_mut(&mut self) -> ndarray::ArrayViewMut2<'_, T> {
        self.features.view_mut()
    }

    /// The targets.
    pub fn targets(&self) -> &Targets<T> {
        &self.targets
    }

    /// The feature columns' names.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The target column's name.
    pub fn target_name(&self) -> &str {
        &self.target_name
    }

    /// The number of rows (examples).
    pub fn rows(&self) -> usize {
        self.features.nrows()
    }

    /// The number of feature columns.
    pub fn n_features(&self) -> usize {
        self.features.ncols()
    }

    /// The class names, or `None` for a regression data set.
    pub fn class_names(&self) -> Option<&[String]> {
        self.targets.class_names()
    }

    /// The given rows, in that order, as a new data set.
    ///
    /// # Panics
    /// If a row index is out of range.
    pub fn select(&self, rows: &[usize]) -> Dataset<T> {
        let features = self.features.select(Axis(0), rows);
        if let Some(values) = features.as_slice() {
            crate::huge_pages::collapse(values);
        }
        Dataset {
            features: features.into_shared(),
            targets: self.targets.select(rows),
            feature_names: self.feature_names.clone(),
            target_name: self.target_name.clone(),
        }
    }

    /// Takes the data set apart into features, targets, feature names and target name.
    pub fn into_parts(self) -> (Array2<T>, Targets<T>, Vec<String>, String) {
        (
            self.features.into_owned(),
            self.targets,
            self.feature_names,
            self.target_name,
        )
    }
}

pub(crate) fn invalid(what: &str, found: impl ToString, expected: impl ToString) -> DataError {
    DataError::InvalidArgument {
        what: what.to_string(),
        found: found.to_string(),
        expected: expected.to_string(),
    }
}
