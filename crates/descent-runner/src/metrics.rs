//! Metrics of a model's predictions: MSE, RMSE, MAE and R² for regression; accuracy,
//! log-loss and the confusion matrix for classification.

use serde::{Deserialize, Serialize};

/// Regression metrics of predictions against targets.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Regression {
    /// Mean squared error.
    pub mse: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Mean absolute error.
    pub mae: f64,
    /// Coefficient of determination, 1 − SS_res / SS_tot.
    pub r2: f64,
}

/// Classification metrics of predicted class probabilities against true classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Classification {
    /// The share of rows whose most probable class is the true one.
    pub accuracy: f64,
    /// The mean negative log-probability of the true class.
    pub log_loss: f64,
    /// `confusion[true][predicted]` row counts.
    pub confusion: Vec<Vec<usize>>,
}

/// The metrics of one evaluation, by kind of task.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metrics {
    /// Real-valued targets.
    Regression(Regression),
    /// Class targets.
    Classification(Classification),
}

impl Metrics {
    /// A one-line summary (`mse 2859.7 rmse 53.5 mae 43.3 r² 0.518`).
    pub fn summary(&self) -> String {
        match self {
            Metrics::Regression(r) => format!(
                "mse {:.4} rmse {:.4} mae {:.4} r² {:.4}",
                r.mse, r.rmse, r.mae, r.r2
            ),
            Metrics::Classification(c) => {
                format!("accuracy {:.4} log-loss {:.4}", c.accuracy, c.log_loss)
            }
        }
    }
}

/// Regression metrics; `predictions` and `targets` have one value per row.
///
/// # Panics
/// If the lengths differ or are 0.
pub fn regression(predictions: &[f64], targets: &[f64]) -> Regression {
    assert!(
        predictions.len() == targets.len() && !targets.is_empty(),
        "regression metrics: {} predictions for {} targets",
        predictions.len(),
        targets.len()
    );
    let n = targets.len() as f64;
    let mse = predictions
        .iter()
        .zip(targets)
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / n;
    let mae = predictions
        .iter()
        .zip(targets)
        .map(|(p, y)| (p - y).abs())
        .sum::<f64>()
        / n;
    let mean = targets.iter().sum::<f64>() / n;
    let total = targets.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / n;
    let r2 = if total > 0.0 {
        1.0 - mse / total
    } else {
        f64::NAN
    };
    Regression {
        mse,
        rmse: mse.sqrt(),
        mae,
        r2,
    }
}

/// Classification metrics from per-row class probabilities (`rows × classes`,
/// row-major) and the true classes. Probabilities are clamped to `[1e-15, 1]` in the
/// log-loss, as scikit-learn does.
///
/// # Panics
/// If the shapes do not fit or a class is out of range.
pub fn classification(probabilities: &[f64], classes: usize, targets: &[usize]) -> Classification {
    assert_eq!(
        probabilities.len(),
        classes * targets.len(),
        "classification metrics: {} probabilities for {} rows of {classes} classes",
        probabilities.len(),
        targets.len()
    );
    let mut confusion = vec![vec![0; classes]; classes];
    let mut correct = 0;
    let mut log_loss = 0.0;
    for (row, &truth) in probabilities.chunks_exact(classes).zip(targets) {
        let predicted = argmax(row);
        confusion[truth][predicted] += 1;
        correct += usize::from(predicted == truth);
        log_loss -= row[truth].clamp(1e-15, 1.0).ln();
    }
    let n = targets.len().max(1) as f64;
    Classification {
        accuracy: correct as f64 / n,
        log_loss: log_loss / n,
        confusion,
    }
}

/// The index of the largest value (the first one on ties).
pub fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// The confusion matrix as aligned text, with class names.
pub fn confusion_table(confusion: &[Vec<usize>], names: &[String]) -> String {
    let width = names.iter().map(|n| n.len()).max().unwrap_or(1).max(6);
    let mut out = format!("{:>width$} | predicted\n", "true");
    out.push_str(&format!("{:>width$} |", ""));
    for name in names {
        out.push_str(&format!(" {name:>width$}"));
    }
    out.push('\n');
    for (name, row) in names.iter().zip(confusion) {
        out.push_str(&format!("{name:>width$} |"));
        for count in row {
            out.push_str(&format!(" {count:>width$}"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regression_by_hand() {
        // errors 1, −1, 2: mse = 6/3 = 2, mae = 4/3; targets 1,2,3 have variance 2/3.
        let r = regression(&[2.0, 1.0, 5.0], &[1.0, 2.0, 3.0]);
        assert_eq!(r.mse, 2.0);
        assert_eq!(r.rmse, 2f64.sqrt());
        assert!((r.mae - 4.0 / 3.0).abs() < 1e-15);
        assert!((r.r2 - (1.0 - 2.0 / (2.0 / 3.0))).abs() < 1e-12);
        assert_eq!(regression(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).r2, 1.0);
    }

    #[test]
    fn classification_by_hand() {
        let p = [0.7, 0.2, 0.1, 0.1, 0.3, 0.6, 0.5, 0.4, 0.1];
        let c = classification(&p, 3, &[0, 2, 1]);
        assert!((c.accuracy - 2.0 / 3.0).abs() < 1e-15);
        let want = -(0.7f64.ln() + 0.6f64.ln() + 0.4f64.ln()) / 3.0;
        assert!((c.log_loss - want).abs() < 1e-15);
        assert_eq!(
            c.confusion,
            vec![vec![1, 0, 0], vec![1, 0, 0], vec![0, 0, 1]]
        );
        let table = confusion_table(&c.confusion, &["a".into(), "b".into(), "c".into()]);
        assert!(table.contains("     b |      1      0      0"), "{table}");
    }
}
