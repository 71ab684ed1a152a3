//! Train / validation / test splits (optionally stratified by class) and k-fold folds.

use descent_autodiff::Float;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::dataset::{Dataset, Targets, invalid};
use crate::error::Result;

/// A data set split in three.
#[derive(Debug, Clone, PartialEq)]
pub struct Split<T> {
    /// The rows to fit on (and to fit scalers on).
    pub train: Dataset<T>,
    /// The rows to choose hyperparameters and stop on.
    pub validation: Dataset<T>,
    /// The rows to report on, once.
    pub test: Dataset<T>,
}

/// One fold of k-fold cross-validation: row indices into the data set, each sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fold {
    /// The rows to fit on.
    pub train: Vec<usize>,
    /// The held-out rows.
    pub validation: Vec<usize>,
}

/// The row groups to split: one per class when stratified, else one of all rows.
fn groups<T: Float>(data: &Dataset<T>, stratified: bool) -> Result<Vec<Vec<usize>>> {
    if !stratified {
        return Ok(vec![(0..data.rows()).collect()]);
    }
    match data.targets() {
        Targets::Real(_) => Err(invalid(
            "stratified split",
            "a data set with real targets",
            "a data set with class targets",
        )),
        Targets::Classes { indices, names } => {
            let mut groups = vec![Vec::new(); names.len()];
            for (row, &class) in indices.iter().enumerate() {
                groups[class].push(row);
            }
            Ok(groups)
        }
    }
}

fn check_fraction(what: &str, f: f64) -> Result<()> {
    if (0.0..1.0).contains(&f) {
        Ok(())
    } else {
        Err(invalid(what, f, "a fraction in [0, 1)"))
    }
}

/// Splits off `test` of the rows as a test set; the rest is the training set.
///
/// Rows are shuffled with `seed` (within each class when `stratified`, so each class
/// keeps its share), then each part keeps the original row order.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] for a fraction outside [0, 1), a part that would
/// be empty, or a stratified split of real targets.
///
/// # Example
/// ```
/// use descent_data::{Shipped, train_test_split};
///
/// let iris = Shipped::Iris.load::<f64>()?;
/// let (train, test) = train_test_split(&iris, 0.2, 1, true)?;
/// assert_eq!((train.rows(), test.rows()), (120, 30));
/// assert_eq!(test.targets().class_counts().unwrap(), vec![10, 10, 10]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
pub fn train_test_split<T: Float>(
    data: &Dataset<T>,
    test: f64,
    seed: u64,
    stratified: bool,
) -> Result<(Dataset<T>, Dataset<T>)> {
    let split = train_validation_test_split(data, 0.0, test, seed, stratified)?;
    Ok((split.train, split.test))
}

/// Splits into training, validation (`validation` of the rows) and test (`test` of the
/// rows) sets, as [`train_test_split`] does.
///
/// # Errors
/// As [`train_test_split`]; also when the two fractions add up to 1 or more.
pub fn train_validation_test_split<T: Float>(
    data: &Dataset<T>,
    validation: f64,
    test: f64,
    seed: u64,
    stratified: bool,
) -> Result<Split<T>> {
    check_fraction("validation fraction", validation)?;
    check_fraction("test fraction", test)?;
    if validation + test >= 1.0 {
        return Err(invalid(
            "split fractions",
            format!("validation {validation} + test {test}"),
            "a sum below 1, leaving rows to train on",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut parts: [Vec<usize>; 3] = Default::default();
    for mut group in groups(data, stratified)? {
        group.shuffle(&mut rng);
        let n = group.len() as f64;
        let n_test = (test * n).round() as usize;
        let n_val = ((validation * n).round() as usize).min(group.len() - n_test);
        parts[2].extend_from_slice(&group[..n_test]);
        parts[1].extend_from_slice(&group[n_test..n_test + n_val]);
        parts[0].extend_from_slice(&group[n_test + n_val..]);
    }
    for (part, (name, fraction)) in parts.iter_mut().zip([
        ("training", 1.0),
        ("validation", validation),
        ("test", test),
    ]) {
        if part.is_empty() && fraction > 0.0 {
            return Err(invalid(
                &format!("{name} part"),
                format!("0 of {} rows", data.rows()),
                "at least one row: use more data or a larger fraction",
            ));
        }
        part.sort_unstable();
    }
    Ok(Split {
        train: data.select(&parts[0]),
        validation: data.select(&parts[1]),
        test: data.select(&parts[2]),
    })
}

/// The `k` folds of k-fold cross-validation: rows shuffled with `seed` (within each class
/// when `stratified`) and dealt round-robin into `k` held-out parts.
///
/// # Errors
/// [`crate::DataError::InvalidArgument`] when `k` is below 2 or above the number of rows,
/// or for a stratified split of real targets.
pub fn k_fold<T: Float>(
    data: &Dataset<T>,
    k: usize,
    seed: u64,
    stratified: bool,
) -> Result<Vec<Fold>> {
    if k < 2 || k > data.rows() {
        return Err(invalid(
            "k",
            k,
            format!("2 to the number of rows ({})", data.rows()),
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut fold_of = vec![0; data.rows()];
    let mut dealt = 0;
    for mut group in groups(data, stratified)? {
        group.shuffle(&mut rng);
        for row in group {
            fold_of[row] = dealt % k;
            dealt += 1;
        }
    }
    Ok((0..k)
        .map(|i| {
            let (validation, train) = (0..data.rows()).partition(|&r| fold_of[r] == i);
            Fold { train, validation }
        })
        .collect())
}
