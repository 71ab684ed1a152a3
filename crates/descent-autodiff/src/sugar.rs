//! Named shorthands for the elementwise operations, so model code reads like maths.

use crate::{Binary, Float, Graph, Unary, Var};

impl<T: Float> Graph<T> {
    /// `-x`
    pub fn neg(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Neg)
    }

    /// `e^x`
    pub fn exp(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Exp)
    }

    /// The natural logarithm.
    pub fn ln(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Ln)
    }

    /// The square root (derivative `+inf` at 0).
    pub fn sqrt(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Sqrt)
    }

    /// `|x|` (derivative 0 at 0).
    pub fn abs(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Abs)
    }

    /// Sine.
    pub fn sin(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Sin)
    }

    /// Cosine.
    pub fn cos(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Cos)
    }

    /// Hyperbolic tangent.
    pub fn tanh(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Tanh)
    }

    /// The logistic sigmoid, exactly 0 or 1 far out.
    pub fn sigmoid(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Sigmoid)
    }

    /// `max(x, 0)` (derivative 0 at 0).
    pub fn relu(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Relu)
    }

    /// Exact GELU, `x Φ(x)`.
    pub fn gelu(&mut self, x: Var) -> Var {
        self.unary(x, Unary::Gelu)
    }

    /// GELU's tanh approximation.
    pub fn gelu_tanh(&mut self, x: Var) -> Var {
        self.unary(x, Unary::GeluTanh)
    }

    /// `x` for `x > 0`, else `slope · x`.
    pub fn leaky_relu(&mut self, x: Var, slope: T) -> Var {
        self.unary(x, Unary::LeakyRelu(slope))
    }

    /// `x^exponent` for a scalar exponent.
    pub fn powf(&mut self, x: Var, exponent: T) -> Var {
        self.unary(x, Unary::Powf(exponent))
    }

    /// `base^x` for a scalar base.
    pub fn base_pow(&mut self, x: Var, base: T) -> Var {
        self.unary(x, Unary::BasePow(base))
    }

    /// `x + c`.
    pub fn add_scalar(&mut self, x: Var, c: T) -> Var {
        self.unary(x, Unary::AddScalar(c))
    }

    /// `c · x`.
    pub fn mul_scalar(&mut self, x: Var, c: T) -> Var {
        self.unary(x, Unary::MulScalar(c))
    }

    /// `c − x` (as PyTorch's `c - x`), in one pass.
    pub fn scalar_sub(&mut self, c: T, x: Var) -> Var {
        self.unary(x, Unary::ScalarSub(c))
    }

    /// `ln(1 + e^(beta·x)) / beta`, the identity where `beta·x > threshold`.
    pub fn softplus(&mut self, x: Var, beta: T, threshold: T) -> Var {
        self.unary(x, Unary::Softplus { beta, threshold })
    }

    /// `min(max(x, lo), hi)`; the gradient is 1 on the closed interval.
    pub fn clamp(&mut self, x: Var, lo: T, hi: T) -> Var {
        self.unary(x, Unary::Clamp(lo, hi))
    }

    /// `a + b`, with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn add(&mut self, a: Var, b: Var) -> Var {
        self.binary(a, b, Binary::Add)
    }

    /// `a - b`, with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn sub(&mut self, a: Var, b: Var) -> Var {
        self.binary(a, b, Binary::Sub)
    }

    /// `a · b` elementwise, with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn mul(&mut self, a: Var, b: Var) -> Var {
        self.binary(a, b, Binary::Mul)
    }

    /// `a / b`, with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn div(&mut self, a: Var, b: Var) -> Var {
        self.binary(a, b, Binary::Div)
    }

    /// `a^b` elementwise (positive base), with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn pow(&mut self, a: Var, b: Var) -> Var {
        self.binary(a, b, Binary::Pow)
    }
}
