//! The one error type of descent-data: every way input can be wrong, with where and what.

use std::path::PathBuf;

/// Everything that can go wrong while loading, splitting, scaling or batching data.
///
/// Errors about a file name the file, the 1-based line and, where it applies,
/// the 1-based column (field number) and column name, and say what was expected.
/// A function that returns an error has produced nothing partial.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// The file could not be opened or read.
    // The reason is part of the message rather than `source()`, so that a caller that
    // prints the whole chain (`{:#}`) does not say it twice.
    #[error("{}: cannot read the file: {reason}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// The file has no content at all (or only a byte-order mark and blank lines).
    #[error("{}:1: the file is empty; expected {expected}", file.display())]
    Empty {
        /// The file.
        file: PathBuf,
        /// What a valid file starts with.
        expected: String,
    },
    /// The file has a header row and no data row.
    #[error("{}:{line}: the file has only a header; expected at least one data row after it", file.display())]
    HeaderOnly {
        /// The file.
        file: PathBuf,
        /// The line after the header, where a data row was expected.
        line: u64,
    },
    /// The bytes are not valid UTF-8.
    #[error("{}:{line}:{column}: invalid UTF-8 at byte offset {byte_offset}; expected UTF-8 text", file.display())]
    InvalidUtf8 {
        /// The file.
        file: PathBuf,
        /// Line of the first invalid byte.
        line: u64,
        /// Character column of the first invalid byte on its line (1-based).
        column: u64,
        /// Byte offset of the first invalid byte from the start of the file.
        byte_offset: u64,
    },
    /// A row has a different number of fields than the header (or the first row).
    #[error("{}:{line}: the row has {found} fields; expected {expected} fields, as in the header", file.display())]
    FieldCount {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The number of fields of the header.
        expected: usize,
        /// The number of fields found on this row.
        found: usize,
    },
    /// A field that must hold a number holds something else.
    #[error("{}:{line}:{column}: `{value}` in column `{field}` is not a number; expected {expected}", file.display())]
    NotANumber {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The field's column (1-based).
        column: usize,
        /// The column's name.
        field: String,
        /// The text found.
        value: String,
        /// What was expected there.
        expected: String,
    },
    /// A NaN or infinite value where finite numbers are required.
    #[error("{}:{line}:{column}: `{value}` in column `{field}` is not finite; expected a finite number (allow_non_finite is off)", file.display())]
    NonFinite {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The field's column (1-based).
        column: usize,
        /// The column's name.
        field: String,
        /// The text found.
        value: String,
    },
    /// A missing value (an empty field or a missing-value token) under the `Error` policy.
    #[error("{}:{line}:{column}: the value in column `{field}` is missing (`{value}`); expected {expected}", file.display())]
    Missing {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The field's column (1-based).
        column: usize,
        /// The column's name.
        field: String,
        /// The text found (empty or a missing-value token).
        value: String,
        /// What was expected, and how to allow missing values.
        expected: String,
    },
    /// A column asked for by name is not in the header.
    #[error("{}:{line}: no column named `{name}`; expected one of: {}", file.display(), available.join(", "))]
    NoSuchColumn {
        /// The file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The name asked for.
        name: String,
        /// The columns there are.
        available: Vec<String>,
    },
    /// A column asked for by index is past the last column.
    #[error("{}:{line}: column index {index} is out of range; expected an index below {count}", file.display())]
    ColumnOutOfRange {
        /// The file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The index asked for (0-based).
        index: usize,
        /// How many columns there are.
        count: usize,
    },
    /// Two header fields have the same name.
    #[error("{}:{line}:{column}: duplicate column name `{name}` (first at column {first_column}); expected unique names", file.display())]
    DuplicateColumn {
        /// The file.
        file: PathBuf,
        /// The header's line.
        line: u64,
        /// The second occurrence's column (1-based).
        column: usize,
        /// The first occurrence's column (1-based).
        first_column: usize,
        /// The repeated name.
        name: String,
    },
    /// A class label that the given class list (say, from the training data) lacks.
    #[error("{}:{line}:{column}: class label `{label}` in column `{field}` was not in the training data; expected one of: {}", file.display(), known.join(", "))]
    UnknownClass {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The field's column (1-based).
        column: usize,
        /// The target column's name.
        field: String,
        /// The unknown label.
        label: String,
        /// The known labels.
        known: Vec<String>,
    },
    /// A row could not be read into the caller's record type, or the CSV was malformed.
    #[error("{}:{line}{}: {message}", file.display(), column.map(|c| format!(":{c}")).unwrap_or_default())]
    Record {
        /// The file.
        file: PathBuf,
        /// The row's line.
        line: u64,
        /// The field's column (1-based), when known.
        column: Option<usize>,
        /// What went wrong and what was expected.
        message: String,
    },
    /// A shipped data set's file does not have its recorded SHA-256.
    #[error("{}: SHA-256 is {actual}; expected {expected} (the file was changed or damaged)", file.display())]
    Checksum {
        /// The file.
        file: PathBuf,
        /// The recorded checksum.
        expected: String,
        /// The checksum of the file found.
        actual: String,
    },
    /// No shipped data set has this name.
    #[error("no shipped data set named `{name}`; expected one of: {}", known.join(", "))]
    UnknownDataset {
        /// The name asked for.
        name: String,
        /// The names there are.
        known: Vec<String>,
    },
    /// An argument outside its valid range (a batch size of 0, split fractions over 1, ...).
    #[error("invalid {what}: {found}; expected {expected}")]
    InvalidArgument {
        /// Which argument.
        what: String,
        /// The value given.
        found: String,
        /// What is valid.
        expected: String,
    },
}

/// The result type of descent-data.
pub type Result<T, E = DataError> = std::result::Result<T, E>;
