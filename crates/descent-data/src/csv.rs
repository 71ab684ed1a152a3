//! CSV loading: the options, the loader into a [`Dataset`], and rows into your own record type.
//!
//! The loader reads the whole file, checks that it is UTF-8, reads the header, then parses
//! the data rows — in parallel chunks split at line boundaries when the file is large and
//! has no quoted fields, one-threaded otherwise. Either way the result is the same, bit for
//! bit, and the first error in file order is the one reported.

use std::path::Path;

use descent_autodiff::Float;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::dataset::Dataset;
use crate::error::{DataError, Result};
use crate::parse;

/// A column, by header name or by 0-based index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ColumnRef {
    /// The column with this header name.
    Name(String),
    /// The column at this 0-based position.
    Index(usize),
}

impl From<&str> for ColumnRef {
    fn from(name: &str) -> Self {
        ColumnRef::Name(name.to_string())
    }
}

impl From<String> for ColumnRef {
    fn from(name: String) -> Self {
        ColumnRef::Name(name)
    }
}

impl From<usize> for ColumnRef {
    fn from(index: usize) -> Self {
        ColumnRef::Index(index)
    }
}

/// How to read the target column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// Decided by the first data row with a target value: a number makes it
    /// [`TargetKind::Real`], anything else [`TargetKind::Classes`].
    #[default]
    Auto,
    /// Real values (regression); every target must be a number.
    Real,
    /// Class labels (classification), given as text or as integers.
    ///
    /// Class indices follow a stable order that does not depend on the row order: when
    /// every label is a number, ascending numeric order (`2 < 10`); otherwise the byte
    /// order of the label text (`setosa < versicolor < virginica`). Give
    /// [`CsvOptions::classes`] to fix the list instead (say, to the training set's).
    Classes,
}

/// What to do with a missing value: an empty field or one of [`CsvOptions::missing_tokens`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingPolicy {
    /// Fail, naming the file, line and column.
    #[default]
    Error,
    /// Leave out every row that has a missing value.
    DropRow,
    /// Replace a missing feature with the mean of its column's present values
    /// (a missing target is still an error).
    FillMean,
}

/// How to read a CSV file into a [`Dataset`].
///
/// The default reads a comma-separated file with a header, takes the last column as the
/// target and every other column as a feature, and fails on any missing or non-finite value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CsvOptions {
    /// Whether the first row is a header of column names (default `true`). Without one,
    /// the columns are named `column_1`, `column_2`, ...
    pub has_header: bool,
    /// The field delimiter (default `b','`).
    pub delimiter: u8,
    /// The target column (default: the last column).
    pub target: Option<ColumnRef>,
    /// How to read the target column.
    pub target_kind: TargetKind,
    /// The feature columns, in this order (default: every column but the target).
    pub select: Option<Vec<ColumnRef>>,
    /// Columns to leave out of the features.
    pub drop: Vec<ColumnRef>,
    /// What to do with missing values.
    pub missing: MissingPolicy,
    /// Field texts (after trimming spaces) that mean "missing", besides the empty field
    /// (default `["NA"]`).
    pub missing_tokens: Vec<String>,
    /// Accept `NaN` and infinite values in feature and real target columns (default `false`).
    pub allow_non_finite: bool,
    /// A fixed list of class names; a label outside it is an error. Pass the training
    /// set's class names when loading its validation or test file.
    pub classes: Option<Vec<String>>,
    /// Parse large files in parallel on the rayon pool (default `true`); the result does
    /// not depend on it.
    pub parallel: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_header: true,
            delimiter: b',',
            target: None,
            target_kind: TargetKind::Auto,
            select: None,
            drop: Vec::new(),
            missing: MissingPolicy::Error,
            missing_tokens: vec!["NA".to_string()],
            allow_non_finite: false,
            classes: None,
            parallel: true,
        }
    }
}

impl CsvOptions {
    /// These options with the given target column.
    pub fn with_target(mut self, column: impl Into<ColumnRef>) -> Self {
        self.target = Some(column.into());
        self
    }

    /// These options with the given target kind.
    pub fn with_target_kind(mut self, kind: TargetKind) -> Self {
        self.target_kind = kind;
        self
    }

    /// These options with a fixed class list (implies [`TargetKind::Classes`]).
    pub fn with_classes(mut self, names: &[String]) -> Self {
        self.classes = Some(names.to_vec());
        self.target_kind = TargetKind::Classes;
        self
    }
}

/// Loads a CSV file into a data set of `T` (`f32` or `f64`).
///
/// # Errors
/// Any [`DataError`] about the file: unreadable, empty, header only, invalid UTF-8, a row
/// with too few or too many fields, a non-numeric, missing or non-finite value, a duplicate
/// or missing column, a class label outside [`CsvOptions::classes`]. Nothing partial is
/// returned.
///
/// # Example
/// ```
/// use descent_data::{CsvOptions, load_csv};
///
/// let dir = std::env::temp_dir().join("descent-data-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("tiny.csv");
/// std::fs::write(&path, "x1,x2,label\n1.5,2,cat\n0.5,-1,dog\n3,4,cat\n").unwrap();
///
/// let data = load_csv::<f32>(&path, &CsvOptions::default().with_target("label"))?;
/// assert_eq!(data.features().shape(), &[3, 2]);
/// assert_eq!(data.class_names().unwrap(), ["cat", "dog"]);
/// # Ok::<(), descent_data::DataError>(())
/// ```
pub fn load_csv<T: Float>(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset<T>> {
    let path = path.as_ref();
    let bytes = read_large(path)?;
    load_csv_bytes(&bytes, path, options)
}

/// Parses CSV bytes already in memory; `name` is the file name used in error messages.
///
/// # Errors
/// As [`load_csv`].
pub fn load_csv_bytes<T: Float>(
    bytes: &[u8],
    name: &Path,
    options: &CsvOptions,
) -> Result<Dataset<T>> {
    let text = prepare(bytes, name, options.parallel)?;
    parse::parse_dataset(text.body, text.bom_len, name, options)
}

/// Loads the rows of a CSV file into your own `#[derive(Deserialize)]` record type.
///
/// Uses [`CsvOptions::has_header`] and [`CsvOptions::delimiter`]; with a header, fields
/// are matched to struct fields by name.
///
/// # Errors
/// As [`load_csv`], with [`DataError::Record`] when a field does not fit the record type.
///
/// # Example
/// ```
/// use descent_data::{CsvOptions, load_records};
///
/// #[derive(serde::Deserialize)]
/// struct Flower { petal: f64, species: String }
///
/// let dir = std::env::temp_dir().join("descent-data-doc");
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("flowers.csv");
/// std::fs::write(&path, "species,petal\nsetosa,1.4\nvirginica,6.0\n").unwrap();
///
/// let flowers: Vec<Flower> = load_records(&path, &CsvOptions::default())?;
/// assert_eq!(flowers[1].species, "virginica");
/// assert_eq!(flowers[0].petal, 1.4);
/// # Ok::<(), descent_data::DataError>(())
/// ```
pub fn load_records<R: DeserializeOwned>(
    path: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Vec<R>> {
    let path = path.as_ref();
    let bytes = read(path)?;
    let text = prepare(&bytes, path, false)?;
    let file = path.to_path_buf();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(options.delimiter)
        .from_reader(text.body);
    let mut record = csv::StringRecord::new();
    let mut header: Option<csv::StringRecord> = None;
    let mut width = None;
    let mut out = Vec::new();
    let mut header_line = 0;
    while reader
        .read_record(&mut record)
        .map_err(|e| csv_error(&file, e))?
    {
        let line = parse::line_at(
            text.body,
            record.position().map_or(0, |p| p.byte() as usize),
        );
        if width.is_none() {
            width = Some(record.len());
            if options.has_header {
                let names: Vec<String> = record.iter().map(str::to_string).collect();
                parse::check_duplicates(&names, &file, line)?;
                header = Some(record.clone());
                header_line = line;
                continue;
            }
        }
        let expected = width.unwrap_or(record.len());
        if record.len() != expected {
            return Err(DataError::FieldCount {
                file,
                line,
                expected,
                found: record.len(),
            });
        }
        let row: R = record.deserialize(header.as_ref()).map_err(|e| {
            let (column, message) = match e.kind() {
                csv::ErrorKind::Deserialize { err, .. } => {
                    (err.field().map(|f| f as usize + 1), err.kind().to_string())
                }
                _ => (None, e.to_string()),
            };
            let name = column.and_then(|c| header.as_ref().and_then(|h| h.get(c - 1)));
            DataError::Record {
                file: file.clone(),
                line,
                column,
                message: match name {
                    Some(name) => {
                        format!("field `{name}`: {message}; expected a value of the record's type")
                    }
                    None => format!("{message}; expected a value of the record's type"),
                },
            }
        })?;
        out.push(row);
    }
    if width.is_none() {
        return Err(empty(&file));
    }
    if out.is_empty() {
        return Err(DataError::HeaderOnly {
            file,
            line: header_line + 1,
        });
    }
    Ok(out)
}

pub(crate) fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|reason| DataError::Io {
        file: path.to_path_buf(),
        reason,
    })
}

/// A whole file in memory: mapped when it is large, read otherwise.
enum Contents {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for Contents {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Contents::Mapped(map) => map,
            Contents::Read(bytes) => bytes,
        }
    }
}

/// Reads a file, mapping it into memory when it is a regular file of at least
/// [`parse::PARALLEL_MIN_BYTES`]. Reading a large file into a fresh buffer costs about as
/// much as parsing it (the kernel zeroes and faults in every page of the buffer, then
/// copies the file into it); a map pre-faulted in one go shares the page cache's pages
/// instead and is several times cheaper. Where the map fails, the file is read.
fn read_large(path: &Path) -> Result<Contents> {
    let io = |reason| DataError::Io {
        file: path.to_path_buf(),
        reason,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if metadata.is_file() && metadata.len() >= parse::PARALLEL_MIN_BYTES as u64 {
        // SAFETY: the map is read-only and private, and dropped before this load returns.
        // As with any memory map, another process that truncates or rewrites the file
        // during the load can change or remove the bytes under it (on Linux, truncation
        // ends the process with SIGBUS); loading a training file that is being rewritten
        // at the same time is not a supported use.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file) };
        if let Ok(map) = map {
            return Ok(Contents::Mapped(map));
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io)?;
    Ok(Contents::Read(bytes))
}

pub(crate) fn empty(file: &Path) -> DataError {
    DataError::Empty {
        file: file.to_path_buf(),
        expected: "a header row and at least one data row".to_string(),
    }
}

pub(crate) fn csv_error(file: &Path, error: csv::Error) -> DataError {
    let line = error.position().map_or(0, |p| p.line());
    DataError::Record {
        file: file.to_path_buf(),
        line,
        column: None,
        message: format!("{error}; expected well-formed CSV"),
    }
}

/// The part of a file after its byte-order mark, checked to be UTF-8 and not blank.
struct Prepared<'a> {
    body: &'a [u8],
    bom_len: usize,
}

/// Whether `body` is UTF-8, checked in chunks split at line ends on the rayon pool when
/// `parallel` (a line end is never inside a multi-byte character, so the chunks are valid
/// exactly when the whole is).
fn is_utf8(body: &[u8], parallel: bool) -> bool {
    let ranges = parse::chunk_ranges(body);
    if parallel && ranges.len() > 1 {
        use rayon::prelude::*;
        ranges
            .into_par_iter()
            .all(|r| std::str::from_utf8(&body[r]).is_ok())
    } else {
        std::str::from_utf8(body).is_ok()
    }
}

fn prepare<'a>(bytes: &'a [u8], file: &Path, parallel: bool) -> Result<Prepared<'a>> {
    let bom_len = if bytes.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let body = &bytes[bom_len..];
    if !is_utf8(body, parallel)
        && let Err(e) = std::str::from_utf8(body)
    {
        let offset = e.valid_up_to();
        let before = &body[..offset];
        let line = memchr::memchr_iter(b'\n', before).count() as u64 + 1;
        let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        // The prefix is valid UTF-8, so counting chars is safe.
        let column =
            std::str::from_utf8(&before[line_start..]).map_or(0, |s| s.chars().count()) as u64 + 1;
        return Err(DataError::InvalidUtf8 {
            file: file.to_path_buf(),
            line,
            column,
            byte_offset: (offset + bom_len) as u64,
        });
    }
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(empty(file));
    }
    Ok(Prepared { body, bom_len })
}
