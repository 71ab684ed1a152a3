//! Automatic differentiation for descent: a reverse-mode graph over ndarray arrays,
//! forward-mode dual numbers, and finite differences to check them.
#![warn(missing_docs)]

mod float;

pub use float::Float;
