//! Exact numbers for symbolic expressions: reduced rationals, with `f64` where exactness ends.

use std::cmp::Ordering;
use std::fmt;

/// A number inside an [`Expr`](super::Expr): an exact rational `p/q` (`q > 0`, reduced)
/// while the arithmetic stays exact and fits in `i64`, a float otherwise.
///
/// Integer literals are rationals; literals with a point or an exponent (`0.5`, `1e-3`)
/// are floats, as in SymPy. A float with an integral value below `2^53` is stored as
/// the integer, so `0.5 * 2` prints `1`.
#[derive(Clone, Copy, Debug)]
pub enum Number {
    /// `p/q` with `q > 0` and `gcd(p, q) = 1`.
    Rational(i64, i64),
    /// An inexact value.
    Float(f64),
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Number {
    /// The integer `n`.
    pub const fn int(n: i64) -> Self {
        Number::Rational(n, 1)
    }

    /// `p/q` reduced, or a float when it does not fit; `None` when `q = 0`.
    pub fn ratio(p: i64, q: i64) -> Option<Self> {
        Self::ratio_wide(p as i128, q as i128)
    }

    fn ratio_wide(p: i128, q: i128) -> Option<Self> {
        if q == 0 {
            return None;
        }
        let g = gcd(p, q).max(1);
        let (mut p, mut q) = (p / g, q / g);
        if q < 0 {
            (p, q) = (-p, -q);
        }
        Some(match (i64::try_from(p), i64::try_from(q)) {
            (Ok(p), Ok(q)) => Number::Rational(p, q),
            _ => Number::Float(p as f64 / q as f64),
        })
    }

    /// A float, stored as an integer when it is one exactly (and below `2^53`).
    pub fn float(value: f64) -> Self {
        if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
            Number::Rational(value as i64, 1)
        } else {
            Number::Float(value)
        }
    }

    /// The value as an `f64`.
    pub fn to_f64(self) -> f64 {
        match self {
            Number::Rational(p, 1) => p as f64,
            Number::Rational(p, q) => p as f64 / q as f64,
            Number::Float(v) => v,
        }
    }

    /// Whether the number is exactly zero.
    pub fn is_zero(self) -> bool {
        self.to_f64() == 0.0
    }

    /// Whether the number is exactly one.
    pub fn is_one(self) -> bool {
        matches!(self, Number::Rational(1, 1))
    }

    /// Whether the number is below zero.
    pub fn is_negative(self) -> bool {
        self.to_f64() < 0.0
    }

    /// The integer value, when the number is an exact integer.
    pub fn as_integer(self) -> Option<i64> {
        match self {
            Number::Rational(p, 1) => Some(p),
            _ => None,
        }
    }

    /// Whether the number is exact.
    pub fn is_exact(self) -> bool {
        matches!(self, Number::Rational(..))
    }

    fn plus(self, other: Number) -> Number {
        match (self, other) {
            (Number::Rational(a, b), Number::Rational(c, d)) => {
                let (a, b, c, d) = (a as i128, b as i128, c as i128, d as i128);
                Self::ratio_wide(a * d + c * b, b * d).expect("nonzero denominators")
            }
            _ => Number::float(self.to_f64() + other.to_f64()),
        }
    }

    fn times(self, other: Number) -> Number {
        match (self, other) {
            (Number::Rational(a, b), Number::Rational(c, d)) => {
                Self::ratio_wide(a as i128 * c as i128, b as i128 * d as i128)
                    .expect("nonzero denominators")
            }
            _ => Number::float(self.to_f64() * other.to_f64()),
        }
    }

    /// `1 / self`, `None` for zero.
    pub fn recip(self) -> Option<Number> {
        match self {
            Number::Rational(p, q) => Self::ratio(q, p),
            Number::Float(v) => Some(Number::float(1.0 / v)),
        }
    }

    /// `self^exponent` when the result is a real number that is exact (or either side
    /// is a float); `None` when it would stay irrational (`2^(1/2)`), is not real
    /// (`(-1)^(1/2)`) or divides by zero.
    pub fn pow(self, exponent: Number) -> Option<Number> {
        if let Some(n) = exponent.as_integer()
            && let Number::Rational(p, q) = self
        {
            return exact_powi(p, q, n);
        }
        if let (Number::Rational(p, q), Number::Rational(a, b)) = (self, exponent) {
            // p/q to the a/b: exact when p and q are perfect b-th powers.
            if p < 0 || b > 64 {
                return None;
            }
            let root_p = integer_root(p, b as u32)?;
            let root_q = integer_root(q, b as u32)?;
            return exact_powi(root_p, root_q, a);
        }
        let (base, exponent) = (self.to_f64(), exponent.to_f64());
        if base < 0.0 && exponent.fract() != 0.0 || base == 0.0 && exponent < 0.0 {
            return None;
        }
        Some(Number::float(base.powf(exponent)))
    }
}

fn exact_powi(p: i64, q: i64, n: i64) -> Option<Number> {
    if n < 0 {
        return exact_powi(p, q, n.checked_neg()?)?.recip();
    }
    let n = u32::try_from(n).ok()?;
    match (p.checked_pow(n), q.checked_pow(n)) {
        (Some(p), Some(q)) => Number::ratio(p, q),
        _ => Some(Number::Float((p as f64 / q as f64).powi(n as i32))),
    }
}

fn integer_root(value: i64, degree: u32) -> Option<i64> {
    let guess = (value as f64).powf(1.0 / degree as f64).round() as i64;
    (guess.saturating_sub(1)..=guess + 1).find(|&r| r >= 0 && r.checked_pow(degree) == Some(value))
}

impl std::ops::Add for Number {
    type Output = Number;
    /// Exact for rationals (falling back to a float on overflow).
    fn add(self, other: Number) -> Number {
        self.plus(other)
    }
}

impl std::ops::Mul for Number {
    type Output = Number;
    /// Exact for rationals (falling back to a float on overflow).
    fn mul(self, other: Number) -> Number {
        self.times(other)
    }
}

impl std::ops::Neg for Number {
    type Output = Number;
    fn neg(self) -> Number {
        self.times(Number::int(-1))
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Number::Rational(a, b), Number::Rational(c, d)) => a == c && b == d,
            (Number::Float(a), Number::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

impl Number {
    /// A total order by value (exact before inexact on ties), for sorting terms.
    pub fn total_cmp(&self, other: &Self) -> Ordering {
        self.to_f64()
            .total_cmp(&other.to_f64())
            .then(other.is_exact().cmp(&self.is_exact()))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Number::Rational(p, 1) => write!(f, "{p}"),
            Number::Rational(p, q) => write!(f, "{p}/{q}"),
            Number::Float(v) => write_float(f, v),
        }
    }
}

/// Writes a float in the shortest form that reads back to the same value, switching to
/// scientific notation for very large or very small magnitudes.
pub(crate) fn write_float(f: &mut impl fmt::Write, v: f64) -> fmt::Result {
    let magnitude = v.abs();
    if magnitude != 0.0 && !(1e-4..1e16).contains(&magnitude) {
        write!(f, "{v:e}")
    } else {
        write!(f, "{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rationals_stay_exact_and_reduced() {
        let third = Number::ratio(2, 6).unwrap();
        assert_eq!(third, Number::Rational(1, 3));
        assert_eq!(third + Number::ratio(1, 6).unwrap(), Number::Rational(1, 2));
        assert_eq!(Number::ratio(3, -4).unwrap(), Number::Rational(-3, 4));
        assert_eq!(Number::int(0).recip(), None);
    }

    #[test]
    fn powers_are_exact_where_possible() {
        let four = Number::int(4);
        assert_eq!(four.pow(Number::Rational(1, 2)), Some(Number::int(2)));
        assert_eq!(Number::int(2).pow(Number::Rational(1, 2)), None);
        assert_eq!(four.pow(Number::int(-2)), Some(Number::Rational(1, 16)));
        assert_eq!(Number::int(-8).pow(Number::Rational(1, 3)), None);
        assert_eq!(
            Number::ratio(4, 5).unwrap().pow(Number::int(10)),
            Number::ratio(1_048_576, 9_765_625)
        );
    }

    #[test]
    fn integral_floats_become_integers() {
        assert_eq!(Number::float(2.0), Number::int(2));
        assert_eq!(Number::float(0.5), Number::Float(0.5));
        assert_eq!(Number::Float(0.5) * Number::int(2), Number::int(1));
        assert_eq!(Number::Float(1e-20).to_string(), "1e-20");
    }
}
