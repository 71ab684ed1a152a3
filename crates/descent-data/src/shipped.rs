//! The data sets shipped in the repository's `datasets/` folder, found and checked at run time.

use std::path::PathBuf;
use std::str::FromStr;

use descent_autodiff::Float;
use sha2::{Digest, Sha256};

use crate::csv::{CsvOptions, TargetKind, load_csv_bytes, read};
use crate::dataset::Dataset;
use crate::error::{DataError, Result};

/// One of the data sets in `datasets/` (see its README for origins and licences).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Shipped {
    /// Fisher's iris: 150 rows, 4 features, 3 classes.
    Iris,
    /// Wine cultivars: 178 rows, 13 features, 3 classes.
    Wine,
    /// Breast Cancer Wisconsin (diagnostic): 569 rows, 30 features, 2 classes.
    BreastCancer,
    /// Diabetes progression (unscaled): 442 rows, 10 features, real target.
    Diabetes,
    /// 8×8 handwritten digits: 1,797 rows, 64 features, 10 classes.
    Digits,
}

impl Shipped {
    /// Every shipped data set.
    pub const ALL: [Shipped; 5] = [
        Shipped::Iris,
        Shipped::Wine,
        Shipped::BreastCancer,
        Shipped::Diabetes,
        Shipped::Digits,
    ];

    /// The name used in experiment files and on the command line (`breast_cancer`).
    pub fn name(self) -> &'static str {
        match self {
            Shipped::Iris => "iris",
            Shipped::Wine => "wine",
            Shipped::BreastCancer => "breast_cancer",
            Shipped::Diabetes => "diabetes",
            Shipped::Digits => "digits",
        }
    }

    /// The recorded SHA-256 of the file, in lowercase hex.
    pub fn sha256(self) -> &'static str {
        match self {
            Shipped::Iris => "27ae50b33722da23f76475e7fd89b5e0282574d3cce570f1ae2d8773d596278b",
            Shipped::Wine => "d3fcd1284adcc1c3c1ecc37221dbf2e73d7c3f7a132fbd36525ab1b97baa741b",
            Shipped::BreastCancer => {
                "518936fa92ca3d8a78c420aee22030c4e519ffcba3be15dd23e83f2fc22e20e5"
            }
            Shipped::Diabetes => "a17c600e39ad8cbf56b6924d134ab823397dd929210b2c58651f2e7130844db0",
            Shipped::Digits => "a7e7b14fd054b9fd66854e3d16dbdf44cf253d27f4ad8f2651c7eb2b4c087155",
        }
    }

    /// Whether the target is a class (all but `diabetes`, whose target is real).
    pub fn is_classification(self) -> bool {
        self != Shipped::Diabetes
    }

    /// The file's path: `datasets_dir()/NAME.csv`.
    pub fn path(self) -> PathBuf {
        datasets_dir().join(format!("{}.csv", self.name()))
    }

    /// Loads the data set, after checking the file's SHA-256. The target is the last
    /// column; class indices follow the documented order (text: byte order, so iris is
    /// setosa, versicolor, virginica; digits: 0 to 9).
    ///
    /// # Errors
    /// [`DataError::Io`] when the file is not found (set `DESCENT_DATASETS` to the folder),
    /// [`DataError::Checksum`] when it was changed.
    ///
    /// # Example
    /// ```
    /// use descent_data::Shipped;
    ///
    /// let digits = Shipped::Digits.load::<f32>()?;
    /// assert_eq!(digits.features().shape(), &[1797, 64]);
    /// assert_eq!(digits.class_names().unwrap().len(), 10);
    /// # Ok::<(), descent_data::DataError>(())
    /// ```
    pub fn load<T: Float>(self) -> Result<Dataset<T>> {
        let path = self.path();
        let bytes = read(&path)?;
        let actual = format!("{:x}", Sha256::digest(&bytes));
        if actual != self.sha256() {
            return Err(DataError::Checksum {
                file: path,
                expected: self.sha256().to_string(),
                actual,
            });
        }
        let kind = if self.is_classification() {
            TargetKind::Classes
        } else {
            TargetKind::Real
        };
        load_csv_bytes(&bytes, &path, &CsvOptions::default().with_target_kind(kind))
    }
}

impl FromStr for Shipped {
    type Err = DataError;

    fn from_str(name: &str) -> Result<Self> {
        Shipped::ALL
            .into_iter()
            .find(|s| s.name() == name)
            .ok_or_else(|| DataError::UnknownDataset {
                name: name.to_string(),
                known: Shipped::ALL.iter().map(|s| s.name().to_string()).collect(),
            })
    }
}

impl std::fmt::Display for Shipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The folder of the shipped data sets: `$DESCENT_DATASETS` when set, else the
/// repository's `datasets/` (found from this crate's location at build time).
pub fn datasets_dir() -> PathBuf {
    match std::env::var_os("DESCENT_DATASETS") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets"),
    }
}
