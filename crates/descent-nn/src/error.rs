//! The errors of descent-nn: bad model shapes, and saved parameters that do not fit.

use thiserror::Error;

/// What can go wrong building, saving or loading a model.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum NnError {
    /// A model description that cannot be built.
    #[error("invalid model: {reason}")]
    InvalidModel {
        /// What is wrong.
        reason: String,
    },
    /// Saved parameters with another name list than the model's.
    #[error("saved parameters {found:?} do not match the model's {expected:?}")]
    NameMismatch {
        /// The model's parameter names.
        expected: Vec<String>,
        /// The saved names.
        found: Vec<String>,
    },
    /// A saved parameter of another shape than the model's.
    #[error("saved parameter `{name}` has shape {found:?}, but the model's has shape {expected:?}")]
    ShapeMismatch {
        /// The parameter's name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The saved shape.
        found: Vec<usize>,
    },
    /// Reading or writing a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A saved model that is not valid JSON of the expected form.
    #[error("{path}: {source}")]
    Format {
        /// The file.
        path: String,
        /// The underlying error.
        source: serde_json::Error,
    },
}
