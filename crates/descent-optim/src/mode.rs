//! The three modes of gradient descent — batch, stochastic, mini-batch — as one batch size.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How many rows each step of gradient descent sees.
///
/// In TOML and JSON a mode is written `"batch"`, `"stochastic"` or
/// `{ mini_batch = 32 }` (`{"mini_batch": 32}`):
///
/// ```
/// use descent_optim::GdMode;
///
/// #[derive(serde::Deserialize)]
/// struct Run { mode: GdMode }
///
/// let run: Run = toml::from_str("mode = { mini_batch = 32 }").unwrap();
/// assert_eq!(run.mode, GdMode::MiniBatch { batch_size: 32 });
/// assert_eq!(run.mode.batch_size(100), 32);
/// let run: Run = toml::from_str("mode = \"batch\"").unwrap();
/// assert_eq!(run.mode.batch_size(100), 100);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GdMode {
    /// All rows every step (full-batch gradient descent).
    Batch,
    /// One row every step (stochastic gradient descent).
    Stochastic,
    /// `batch_size` rows every step (the last batch of an epoch may be smaller).
    MiniBatch {
        /// Rows per step, at least 1.
        batch_size: usize,
    },
}

impl GdMode {
    /// The rows per step for a data set of `n_rows` rows: `n_rows`, 1 or
    /// `min(batch_size, n_rows)`, never less than 1.
    pub fn batch_size(&self, n_rows: usize) -> usize {
        match *self {
            GdMode::Batch => n_rows.max(1),
            GdMode::Stochastic => 1,
            GdMode::MiniBatch { batch_size } => batch_size.min(n_rows).max(1),
        }
    }

    /// Steps per epoch over `n_rows` rows (the last batch may be partial).
    pub fn steps_per_epoch(&self, n_rows: usize) -> usize {
        n_rows.div_ceil(self.batch_size(n_rows))
    }
}

impl fmt::Display for GdMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GdMode::Batch => f.write_str("batch"),
            GdMode::Stochastic => f.write_str("stochastic"),
            GdMode::MiniBatch { batch_size } => write!(f, "mini-batch({batch_size})"),
        }
    }
}

/// The serde form: a bare name or a one-key table.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Repr {
    Batch,
    Stochastic,
    MiniBatch(usize),
}

impl Serialize for GdMode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            GdMode::Batch => Repr::Batch,
            GdMode::Stochastic => Repr::Stochastic,
            GdMode::MiniBatch { batch_size } => Repr::MiniBatch(batch_size),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for GdMode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Repr::deserialize(deserializer)? {
            Repr::Batch => Ok(GdMode::Batch),
            Repr::Stochastic => Ok(GdMode::Stochastic),
            Repr::MiniBatch(0) => Err(serde::de::Error::custom(
                "mini_batch needs a batch size of at least 1",
            )),
            Repr::MiniBatch(batch_size) => Ok(GdMode::MiniBatch { batch_size }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_sizes() {
        assert_eq!(GdMode::Batch.batch_size(506), 506);
        assert_eq!(GdMode::Stochastic.batch_size(506), 1);
        assert_eq!(GdMode::MiniBatch { batch_size: 32 }.batch_size(506), 32);
        assert_eq!(GdMode::MiniBatch { batch_size: 32 }.batch_size(10), 10);
        assert_eq!(GdMode::Batch.batch_size(0), 1);
        assert_eq!(GdMode::MiniBatch { batch_size: 32 }.steps_per_epoch(100), 4);
        assert_eq!(GdMode::Stochastic.steps_per_epoch(7), 7);
    }

    #[test]
    fn serde_forms_round_trip() {
        for (mode, json) in [
            (GdMode::Batch, r#""batch""#),
            (GdMode::Stochastic, r#""stochastic""#),
            (GdMode::MiniBatch { batch_size: 32 }, r#"{"mini_batch":32}"#),
        ] {
            assert_eq!(serde_json::to_string(&mode).unwrap(), json);
            assert_eq!(serde_json::from_str::<GdMode>(json).unwrap(), mode);
        }
    }

    #[test]
    fn bad_forms_are_errors_that_name_the_valid_ones() {
        let err = serde_json::from_str::<GdMode>(r#""minibatch""#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "unknown variant `minibatch`, expected one of `batch`, `stochastic`, `mini_batch` at line 1 column 11"
        );
        let err = serde_json::from_str::<GdMode>(r#"{"mini_batch":0}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("mini_batch needs a batch size of at least 1"),
            "{err}"
        );
    }
}
