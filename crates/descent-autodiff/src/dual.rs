//! Forward-mode differentiation with dual numbers `a + b·ε`, `ε² = 0`.
//!
//! Evaluating a function on `Dual::variable(x)` carries the derivative along with the
//! value. [`Dual`] implements [`Float`], so a whole [`Graph`](crate::Graph) can run
//! over dual numbers: reverse mode over forward mode gives exact Hessian–vector
//! products (see [`crate::second_order`]).

use std::cmp::Ordering;
use std::fmt;
use std::iter::Sum;
use std::num::FpCategory;
use std::ops::{
    Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Rem, RemAssign, Sub, SubAssign,
};

use num_traits::{FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};

use crate::Float;

/// A dual number: a value and its derivative (tangent) along one direction.
///
/// ```
/// use descent_autodiff::Dual;
///
/// // d/dx (x^2 + 3x) at x = 2 is 2·2 + 3 = 7.
/// let x = Dual::variable(2.0_f64);
/// let y = x * x + Dual::constant(3.0) * x;
/// assert_eq!((y.value, y.derivative), (10.0, 7.0));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Dual<T> {
    /// The function's value.
    pub value: T,
    /// Its derivative along the seeded direction.
    pub derivative: T,
}

impl<T: Float> Dual<T> {
    /// A dual number with the given value and derivative.
    pub fn new(value: T, derivative: T) -> Self {
        Dual { value, derivative }
    }
    /// The variable being differentiated by: derivative 1.
    pub fn variable(value: T) -> Self {
        Dual::new(value, T::one())
    }
    /// A constant: derivative 0.
    pub fn constant(value: T) -> Self {
        Dual::new(value, T::zero())
    }
    /// Applies a function `f` with derivative `df` (both at the value): the chain rule.
    #[inline]
    fn chain(self, f: T, df: T) -> Self {
        Dual::new(f, df * self.derivative)
    }
}

/// The derivative of a scalar function at `x` by forward mode.
///
/// ```
/// use descent_autodiff::dual::derivative;
/// // d/dx (x³ − x) at 2 is 3·4 − 1 = 11.
/// assert_eq!(derivative(|x| x * x * x - x, 2.0_f64), 11.0);
/// ```
pub fn derivative<T: Float>(f: impl Fn(Dual<T>) -> Dual<T>, x: T) -> T {
    f(Dual::variable(x)).derivative
}

impl<T: Float> PartialOrd for Dual<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

impl<T: Float> fmt::Display for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} + {}ε", self.value, self.derivative)
    }
}
impl<T: Float> fmt::LowerExp for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:e} + {:e}ε", self.value, self.derivative)
    }
}
impl<T: Float> fmt::UpperExp for Dual<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:E} + {:E}ε", self.value, self.derivative)
    }
}

impl<T: Float> Add for Dual<T> {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        Dual::new(self.value + o.value, self.derivative + o.derivative)
    }
}
impl<T: Float> Sub for Dual<T> {
    type Output = Self;
    fn sub(self, o: Self) -> Self {
        Dual::new(self.value - o.value, self.derivative - o.derivative)
    }
}
impl<T: Float> Mul for Dual<T> {
    type Output = Self;
    fn mul(self, o: Self) -> Self {
        Dual::new(
            self.value * o.value,
            self.derivative * o.value + self.value * o.derivative,
        )
    }
}
impl<T: Float> Div for Dual<T> {
    type Output = Self;
    fn div(self, o: Self) -> Self {
        let value = self.value / o.value;
        Dual::new(value, (self.derivative - value * o.derivative) / o.value)
    }
}
impl<T: Float> Rem for Dual<T> {
    type Output = Self;
    fn rem(self, o: Self) -> Self {
        // x mod y = x - trunc(x/y)·y, piecewise linear in x.
        let q = (self.value / o.value).trunc();
        Dual::new(self.value % o.value, self.derivative - q * o.derivative)
    }
}
impl<T: Float> Neg for Dual<T> {
    type Output = Self;
    fn neg(self) -> Self {
        Dual::new(-self.value, -self.derivative)
    }
}
macro_rules! assign_ops {
    ($($trait:ident $method:ident $op:tt),*) => {$(
        impl<T: Float> $trait for Dual<T> {
            fn $method(&mut self, o: Self) {
                *self = *self $op o;
            }
        }
    )*};
}
assign_ops!(AddAssign add_assign +, SubAssign sub_assign -, MulAssign mul_assign *, DivAssign div_assign /, RemAssign rem_assign %);

impl<T: Float> Zero for Dual<T> {
    fn zero() -> Self {
        Dual::constant(T::zero())
    }
    fn is_zero(&self) -> bool {
        self.value.is_zero() && self.derivative.is_zero()
    }
}
impl<T: Float> One for Dual<T> {
    fn one() -> Self {
        Dual::constant(T::one())
    }
}
impl<T: Float> Num for Dual<T> {
    type FromStrRadixErr = T::FromStrRadixErr;
    fn from_str_radix(text: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
        T::from_str_radix(text, radix).map(Dual::constant)
    }
}
impl<T: Float> Sum for Dual<T> {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::zero(), |a, b| a + b)
    }
}
impl<T: Float> ToPrimitive for Dual<T> {
    fn to_i64(&self) -> Option<i64> {
        self.value.to_i64()
    }
    fn to_u64(&self) -> Option<u64> {
        self.value.to_u64()
    }
    fn to_f64(&self) -> Option<f64> {
        self.value.to_f64()
    }
}
impl<T: Float> FromPrimitive for Dual<T> {
    fn from_i64(n: i64) -> Option<Self> {
        T::from_i64(n).map(Dual::constant)
    }
    fn from_u64(n: u64) -> Option<Self> {
        T::from_u64(n).map(Dual::constant)
    }
    fn from_f64(n: f64) -> Option<Self> {
        T::from_f64(n).map(Dual::constant)
    }
}
impl<T: Float> NumCast for Dual<T> {
    fn from<N: ToPrimitive>(n: N) -> Option<Self> {
        <T as NumCast>::from(n).map(Dual::constant)
    }
}
impl<T: Float> ndarray::ScalarOperand for Dual<T> {}
impl<T: Float> ndarray::NdFloat for Dual<T> {}

impl<T: Float> num_traits::Float for Dual<T> {
    fn nan() -> Self {
        Dual::constant(T::nan())
    }
    fn infinity() -> Self {
        Dual::constant(T::infinity())
    }
    fn neg_infinity() -> Self {
        Dual::constant(T::neg_infinity())
    }
    fn neg_zero() -> Self {
        Dual::constant(T::neg_zero())
    }
    fn min_value() -> Self {
        Dual::constant(T::min_value())
    }
    fn min_positive_value() -> Self {
        Dual::constant(T::min_positive_value())
    }
    fn max_value() -> Self {
        Dual::constant(T::max_value())
    }
    fn is_nan(self) -> bool {
        self.value.is_nan()
    }
    fn is_infinite(self) -> bool {
        self.value.is_infinite()
    }
    fn is_finite(self) -> bool {
        self.value.is_finite()
    }
    fn is_normal(self) -> bool {
        self.value.is_normal()
    }
    fn classify(self) -> FpCategory {
        self.value.classify()
    }
    fn floor(self) -> Self {
        Dual::constant(self.value.floor())
    }
    fn ceil(self) -> Self {
        Dual::constant(self.value.ceil())
    }
    fn round(self) -> Self {
        Dual::constant(self.value.round())
    }
    fn trunc(self) -> Self {
        Dual::constant(self.value.trunc())
    }
    fn fract(self) -> Self {
        Dual::new(self.value.fract(), self.derivative)
    }
    fn abs(self) -> Self {
        let sign = if self.value > T::zero() {
            T::one()
        } else if self.value < T::zero() {
            -T::one()
        } else {
            T::zero()
        };
        self.chain(self.value.abs(), sign)
    }
    fn signum(self) -> Self {
        Dual::constant(self.value.signum())
    }
    fn is_sign_positive(self) -> bool {
        self.value.is_sign_positive()
    }
    fn is_sign_negative(self) -> bool {
        self.value.is_sign_negative()
    }
    fn mul_add(self, a: Self, b: Self) -> Self {
        self * a + b
    }
    fn recip(self) -> Self {
        Self::one() / self
    }
    fn powi(self, n: i32) -> Self {
        let n_t = T::of(n as f64);
        self.chain(
            self.value.powi(n),
            if n == 0 {
                T::zero()
            } else {
                n_t * self.value.powi(n - 1)
            },
        )
    }
    fn powf(self, p: Self) -> Self {
        let value = self.value.powf(p.value);
        let by_base = if p.value == T::zero() {
            T::zero()
        } else {
            p.value * self.value.powf(p.value - T::one())
        };
        let by_exponent = if p.derivative == T::zero() {
            T::zero()
        } else {
            value * self.value.ln()
        };
        Dual::new(
            value,
            by_base * self.derivative + by_exponent * p.derivative,
        )
    }
    fn sqrt(self) -> Self {
        let root = self.value.sqrt();
        self.chain(root, T::of(0.5) / root)
    }
    fn exp(self) -> Self {
        let e = self.value.exp();
        self.chain(e, e)
    }
    fn exp2(self) -> Self {
        let e = self.value.exp2();
        self.chain(e, e * T::of(std::f64::consts::LN_2))
    }
    fn ln(self) -> Self {
        self.chain(self.value.ln(), T::one() / self.value)
    }
    fn log(self, base: Self) -> Self {
        self.ln() / base.ln()
    }
    fn log2(self) -> Self {
        self.chain(
            self.value.log2(),
            T::one() / (self.value * T::of(std::f64::consts::LN_2)),
        )
    }
    fn log10(self) -> Self {
        self.chain(
            self.value.log10(),
            T::one() / (self.value * T::of(std::f64::consts::LN_10)),
        )
    }
    fn max(self, o: Self) -> Self {
        if o.value > self.value || self.value.is_nan() {
            o
        } else {
            self
        }
    }
    fn min(self, o: Self) -> Self {
        if o.value < self.value || self.value.is_nan() {
            o
        } else {
            self
        }
    }
    fn abs_sub(self, o: Self) -> Self {
        if self.value <= o.value {
            Self::zero()
        } else {
            self - o
        }
    }
    fn cbrt(self) -> Self {
        let root = self.value.cbrt();
        self.chain(root, T::one() / (T::of(3.0) * root * root))
    }
    fn hypot(self, o: Self) -> Self {
        (self * self + o * o).sqrt()
    }
    fn sin(self) -> Self {
        self.chain(self.value.sin(), self.value.cos())
    }
    fn cos(self) -> Self {
        self.chain(self.value.cos(), -self.value.sin())
    }
    fn tan(self) -> Self {
        let t = self.value.tan();
        self.chain(t, T::one() + t * t)
    }
    fn asin(self) -> Self {
        self.chain(
            self.value.asin(),
            T::one() / (T::one() - self.value * self.value).sqrt(),
        )
    }
    fn acos(self) -> Self {
        self.chain(
            self.value.acos(),
            -T::one() / (T::one() - self.value * self.value).sqrt(),
        )
    }
    fn atan(self) -> Self {
        self.chain(
            self.value.atan(),
            T::one() / (T::one() + self.value * self.value),
        )
    }
    fn atan2(self, o: Self) -> Self {
        let denominator = self.value * self.value + o.value * o.value;
        Dual::new(
            self.value.atan2(o.value),
            (o.value * self.derivative - self.value * o.derivative) / denominator,
        )
    }
    fn sin_cos(self) -> (Self, Self) {
        (self.sin(), self.cos())
    }
    fn exp_m1(self) -> Self {
        self.chain(self.value.exp_m1(), self.value.exp())
    }
    fn ln_1p(self) -> Self {
        self.chain(self.value.ln_1p(), T::one() / (T::one() + self.value))
    }
    fn sinh(self) -> Self {
        self.chain(self.value.sinh(), self.value.cosh())
    }
    fn cosh(self) -> Self {
        self.chain(self.value.cosh(), self.value.sinh())
    }
    fn tanh(self) -> Self {
        let t = self.value.tanh();
        self.chain(t, T::one() - t * t)
    }
    fn asinh(self) -> Self {
        self.chain(
            self.value.asinh(),
            T::one() / (self.value * self.value + T::one()).sqrt(),
        )
    }
    fn acosh(self) -> Self {
        self.chain(
            self.value.acosh(),
            T::one() / (self.value * self.value - T::one()).sqrt(),
        )
    }
    fn atanh(self) -> Self {
        self.chain(
            self.value.atanh(),
            T::one() / (T::one() - self.value * self.value),
        )
    }
    fn integer_decode(self) -> (u64, i16, i8) {
        self.value.integer_decode()
    }
}

impl<T: Float> Float for Dual<T> {
    fn erf(self) -> Self {
        // d/dx erf(x) = 2/√π · e^(−x²)
        let slope = T::of(std::f64::consts::FRAC_2_SQRT_PI) * (-self.value * self.value).exp();
        self.chain(self.value.erf(), slope)
    }
    fn of(value: f64) -> Self {
        Dual::constant(T::of(value))
    }
    fn as_f64(self) -> f64 {
        self.value.as_f64()
    }
    const NAME: &'static str = "dual";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotient_and_chain_rules() {
        // d/dx sin(x)/x at 1 = (cos 1 · 1 − sin 1) / 1
        let got = derivative(|x| num_traits::Float::sin(x) / x, 1.0_f64);
        assert!((got - (1.0_f64.cos() - 1.0_f64.sin())).abs() < 1e-15);
        // d/dx exp(x^2.5) at 1.3 = exp(1.3^2.5) · 2.5 · 1.3^1.5
        let got = derivative(
            |x| num_traits::Float::exp(num_traits::Float::powf(x, Dual::constant(2.5))),
            1.3_f64,
        );
        let want = 1.3_f64.powf(2.5).exp() * 2.5 * 1.3_f64.powf(1.5);
        assert!((got - want).abs() < 1e-12 * want);
    }

    #[test]
    fn erf_derivative_is_the_gaussian() {
        let got = derivative(Float::erf, 0.5_f32);
        let want = (std::f32::consts::FRAC_2_SQRT_PI) * (-0.25_f32).exp();
        assert!((got - want).abs() < 1e-6);
    }
}
