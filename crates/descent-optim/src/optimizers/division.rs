//! Division by a number fixed for a whole step, with the bits of `/` but without the
//! divider: Adam divides every entry by `sqrt(1 − β₂ᵗ)`, and on AVX-512, with its
//! arrays in cache, the divider's throughput bounded that loop.

use std::any::TypeId;

use descent_autodiff::Float;

/// `x / divisor` for many `x`, correctly rounded (the very bits of `x / divisor`) by one
/// multiplication and two fused multiply–adds. [`FixedDivisor::new`] offers it only
/// where that is exact and fast: `f32` on processors with AVX-512, whose loops the
/// update rules run in (see `fused`); elsewhere the caller divides, in a loop of its
/// own (a loop that may take either path is not vectorised where the processor lacks
/// fused multiply–add). Exact for zero, infinities, NaN and every `|x|` in
/// [2⁻¹⁰⁰, 2¹⁰⁰] (where no intermediate result leaves the normal range); Adam's
/// `sqrt(v)` is zero or at least 2⁻⁷⁵ and below 2⁶⁴.
///
/// The method is Markstein's correction ("Computation of elementary functions on the
/// IBM RISC System/6000 processor", IBM J. Res. Dev. 34(1), 1990): with `y` the
/// correctly rounded `1 / divisor` and `q = x·y` within an ulp of the quotient, the
/// remainder `r = x − q·divisor` is exact under a fused multiply–add, and `q + r·y`
/// rounds to the correctly rounded quotient. Beyond the theorem, every `f32`
/// significand was checked against `/` for 409 divisors (the bias corrections of the
/// first 200 Adam steps and later ones, and random divisors in [1/32, 1]): no
/// difference. Where the correction is NaN (an infinite `x` or `q`) the result is `q`,
/// which is then exact.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FixedDivisor<T> {
    divisor: T,
    reciprocal: T,
}

impl<T: Float> FixedDivisor<T> {
    /// Division by `divisor` (a positive normal number) without the divider, where
    /// that is exact and faster; `None` elsewhere.
    pub(crate) fn new(divisor: T) -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        let fast = TypeId::of::<T>() == TypeId::of::<f32>()
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let fast = false;
        (fast && divisor.is_normal() && divisor > T::zero()).then(|| FixedDivisor {
            divisor,
            reciprocal: T::one() / divisor,
        })
    }

    /// `x / divisor`, to the bit.
    #[inline(always)]
    pub(crate) fn divide(self, x: T) -> T {
        let quotient = x * self.reciprocal;
        let remainder = (-quotient).mul_add(self.divisor, x);
        let corrected = remainder.mul_add(self.reciprocal, quotient);
        if corrected.is_nan() {
            quotient
        } else {
            corrected
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every 61st `f32` significand (all of them take seconds in a debug build), for
    /// Adam's bias corrections of a few steps: the bits of `/`; and the special values.
    #[test]
    fn fixed_divisions_have_the_bits_of_division() {
        for t in [1, 2, 3, 10, 100, 1000, 3750] {
            let divisor = (1.0f64 - 0.999f64.powi(t)).sqrt() as f32;
            let Some(by) = FixedDivisor::new(divisor) else {
                return; // not offered on this processor
            };
            for significand in (0..1u32 << 23).step_by(61) {
                for exponent in [0x3f80_0000u32, 0x1980_0000, 0x5f00_0000] {
                    let x = f32::from_bits(exponent | significand);
                    assert_eq!(
                        by.divide(x).to_bits(),
                        (x / divisor).to_bits(),
                        "{x:e} / {divisor:e}"
                    );
                }
            }
            for x in [0.0, f32::INFINITY, 2.0f32.powi(100), 2.0f32.powi(-100)] {
                assert_eq!(by.divide(x).to_bits(), (x / divisor).to_bits(), "{x:e}");
            }
            assert!(by.divide(f32::NAN).is_nan());
        }
    }

    /// Not offered for f64 (nothing was checked exhaustively there) nor for divisors
    /// outside the normal range.
    #[test]
    fn only_f32_by_a_normal_divisor() {
        assert!(FixedDivisor::new(0.3_f64).is_none());
        assert!(FixedDivisor::new(0.0_f32).is_none());
        assert!(FixedDivisor::new(f32::INFINITY).is_none());
    }
}
