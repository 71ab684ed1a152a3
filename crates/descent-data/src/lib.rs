//! Data for descent: CSV files and shipped data sets into arrays, synthetic data, splits,
//! scalers, and a seeded loader that hands out batches for the three modes of gradient
//! descent (all rows, one row, k rows).
//!
//! ```
//! use descent_data::{BatchSize, DataLoader, Shipped};
//!
//! let iris = Shipped::Iris.load::<f32>()?;
//! assert_eq!(iris.features().shape(), &[150, 4]);
//!
//! let mut loader = DataLoader::new(&iris, BatchSize::Rows(32))?.shuffled(7);
//! let mut seen = 0;
//! while let Some(batch) = loader.next_batch() {
//!     seen += batch.features.nrows();
//! }
//! assert_eq!(seen, 150);
//! # Ok::<(), descent_data::DataError>(())
//! ```
#![warn(missing_docs)]

mod csv;
mod dataset;
mod error;
mod fast;
mod huge_pages;
mod loader;
mod parse;
mod scale;
mod shipped;
mod split;
pub mod synthetic;

pub use crate::csv::{
    ColumnRef, CsvOptions, MissingPolicy, TargetKind, load_csv, load_csv_bytes, load_records,
};
pub use dataset::{Dataset, Targets};
pub use error::{DataError, Result};
pub use loader::{Batch, BatchSize, BatchTargets, DataLoader, LoaderState};
pub use scale::{MinMaxScaler, StandardScaler, one_hot};
pub use shipped::{Shipped, datasets_dir};
pub use split::{Fold, Split, k_fold, train_test_split, train_validation_test_split};
