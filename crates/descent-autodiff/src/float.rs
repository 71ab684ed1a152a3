//! The scalar types the whole framework computes in: `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;

use ndarray::NdFloat;
use num_traits::{FromPrimitive, ToPrimitive};

/// A floating-point element type that graphs, losses, optimizers and data sets work over.
///
/// Implemented for `f32` and `f64`. It adds to ndarray's [`NdFloat`] the few
/// functions the standard library lacks (such as [`Float::erf`]) and lossless
/// conversions from the `f64` constants that appear in formulas.
pub trait Float:
    NdFloat + FromPrimitive + ToPrimitive + Sum + Default + Debug + Display + Send + Sync + 'static
{
    /// The Gauss error function, as C's `erf`.
    fn erf(self) -> Self;
    /// Converts an `f64` constant (rounding to nearest for `f32`).
    fn of(value: f64) -> Self;
    /// Converts a count or index to this type.
    fn of_usize(value: usize) -> Self {
        Self::of(value as f64)
    }
    /// Widens to `f64` exactly.
    fn as_f64(self) -> f64;
    /// The name of the type, `"f32"` or `"f64"`, for messages and reports.
    const NAME: &'static str;
}

impl Float for f32 {
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn of(value: f64) -> Self {
        value as f32
    }
    fn as_f64(self) -> f64 {
        self as f64
    }
    const NAME: &'static str = "f32";
}

impl Float for f64 {
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn of(value: f64) -> Self {
        value
    }
    fn as_f64(self) -> f64 {
        self
    }
    const NAME: &'static str = "f64";
}

/// `v`, or zero when `v` is subnormal (nonzero and below the smallest normal number in
/// magnitude).
///
/// Kernels apply it where a result can leave the normal range (a softmax probability,
/// a gradient divided by the batch size, a product of small gradients), so that the
/// subnormal values never reach the next operation: on many CPUs (Intel's above all)
/// every arithmetic instruction with a subnormal operand or result takes a microcode
/// assist, dozens of times slower. Only values below `T::min_positive_value()` change,
/// by less than that; the CPU's floating-point control register is left alone.
#[inline(always)]
pub fn flush_subnormal<T: Float>(v: T) -> T {
    if v.abs() < T::min_positive_value() {
        T::zero()
    } else {
        v
    }
}
