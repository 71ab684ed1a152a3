//! descent-runner: one training run (the [`fit`] loop, its history, metrics,
//! checkpoints and diagnostics), as a library the `descent` program is a thin layer over.
//!
//! ```
//! use descent_data::{Dataset, Targets};
//! use descent_loss::{LossConfig, Mse};
//! use descent_nn::{Init, Mlp};
//! use descent_optim::{GdMode, Sgd, SgdConfig, schedule::{Constant, Scheduler}};
//! use descent_runner::fit::{FitConfig, Trainer};
//! use ndarray::{Array1, Array2};
//!
//! // y = 2 x − 1 on 20 points, fitted by full-batch gradient descent.
//! let x = Array2::from_shape_fn((20, 1), |(i, _)| i as f64 / 10.0);
//! let y = Array1::from_shape_fn(20, |i| 2.0 * (i as f64 / 10.0) - 1.0);
//! let data = Dataset::new(x, Targets::Real(y), vec!["x".into()], "y".into())?;
//! let mut model = Mlp::<f64>::linear(1, 1, Init::Zeros, 0)?;
//! let config = FitConfig { mode: GdMode::Batch, epochs: 2000, ..FitConfig::default() };
//! let report = Trainer::new(&mut model, LossConfig::Mse(Mse::default()), Box::new(Sgd::new(SgdConfig::default())))
//!     .schedule(Scheduler::Pure(Box::new(Constant::new(0.3))))
//!     .config(config)
//!     .quiet()
//!     .fit(&data, None)?;
//! assert!(report.history.epochs.last().unwrap().train_loss < 1e-10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod error;
pub mod experiment;
pub mod fit;
pub mod metrics;
pub mod report;
pub mod slurm;
pub mod sweep;
mod threads;

pub use error::FitError;
pub use threads::join_thread_pool;
