//! Elementwise operations: unary functions (each a value `f` and derivative `df`
//! driven by one generic kernel), broadcasting binary arithmetic, `where`, and fused
//! operations whose local derivative comes with their value.

use ndarray::Dimension;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, IxDyn, Zip};

use super::Op;
use crate::Float;
use crate::graph::{Grads, Graph, PARALLEL_THRESHOLD, ShapeBuf, Slot, same_shape};

/// Runs a `Zip` serially or on rayon's pool; both give identical results because
/// every element is computed independently by the same closure.
macro_rules! zip_apply {
    ($parallel:expr, $zip:expr, $f:expr) => {{
        let zip = $zip;
        if $parallel {
            zip.par_for_each($f)
        } else {
            zip.for_each($f)
        }
    }};
}
#[allow(unused_imports)]
pub(crate) use zip_apply;

/// Expands `$body` once per variant with `$u` bound to that variant, so the compiler
/// sees a known variant inside each loop and compiles a tight, vectorisable kernel
/// instead of matching on the function for every element; the whole match runs
/// under [`wide`](crate::wide::wide), so each loop also gets AVX2's wider vectors.
macro_rules! specialise_unary {
    ($function:expr, $u:ident => $body:expr) => {
        $crate::wide::wide(move || match $function {
            Unary::Neg => {
                let $u = Unary::Neg;
                $body
            }
            Unary::Exp => {
                let $u = Unary::Exp;
                $body
            }
            Unary::Ln => {
                let $u = Unary::Ln;
                $body
            }
            Unary::Sqrt => {
                let $u = Unary::Sqrt;
                $body
            }
            Unary::Abs => {
                let $u = Unary::Abs;
                $body
            }
            Unary::Sin => {
                let $u = Unary::Sin;
                $body
            }
            Unary::Cos => {
                let $u = Unary::Cos;
                $body
            }
            Unary::Tanh => {
                let $u = Unary::Tanh;
                $body
            }
            Unary::Sigmoid => {
                let $u = Unary::Sigmoid;
                $body
            }
            Unary::Relu => {
                let $u = Unary::Relu;
                $body
            }
            Unary::LeakyRelu(slope) => {
                let $u = Unary::LeakyRelu(slope);
                $body
            }
            Unary::Softplus { beta, threshold } => {
                let $u = Unary::Softplus { beta, threshold };
                $body
            }
            Unary::Gelu => {
                let $u = Unary::Gelu;
                $body
            }
            Unary::GeluTanh => {
                let $u = Unary::GeluTanh;
                $body
            }
            Unary::Powf(p) => {
                let $u = Unary::Powf(p);
                $body
            }
            Unary::BasePow(base) => {
                let $u = Unary::BasePow(base);
                $body
            }
            Unary::Clamp(lo, hi) => {
                let $u = Unary::Clamp(lo, hi);
                $body
            }
            Unary::AddScalar(c) => {
                let $u = Unary::AddScalar(c);
                $body
            }
            Unary::MulScalar(c) => {
                let $u = Unary::MulScalar(c);
                $body
            }
            Unary::ScalarSub(c) => {
                let $u = Unary::ScalarSub(c);
                $body
            }
        })
    };
}

/// [`specialise_unary`] for [`Binary`] and the side being differentiated.
macro_rules! specialise_binary {
    ($operation:expr, $op:ident => $body:expr) => {
        $crate::wide::wide(move || match $operation {
            Binary::Add => {
                let $op = Binary::Add;
                $body
            }
            Binary::Sub => {
                let $op = Binary::Sub;
                $body
            }
            Binary::Mul => {
                let $op = Binary::Mul;
                $body
            }
            Binary::Div => {
                let $op = Binary::Div;
                $body
            }
            Binary::Pow => {
                let $op = Binary::Pow;
                $body
            }
        })
    };
}

/// Elements per task when an elementwise kernel is spread over threads.
const CHUNK: usize = 1 << 14;

/// Runs `kernel(offset, part)` over `out`: in chunks on rayon's pool when `parallel`,
/// else in one piece. Every element gets the same arithmetic either way, so the bits
/// do not depend on the thread count.
fn chunked<T: Send>(parallel: bool, out: &mut [T], kernel: impl Fn(usize, &mut [T]) + Sync) {
    if parallel {
        use rayon::prelude::*;
        out.par_chunks_mut(CHUNK)
            .enumerate()
            .for_each(|(k, part)| kernel(k * CHUNK, part));
    } else {
        kernel(0, out);
    }
}

/// Writes `value` to `dst`, or adds it when the buffer already holds a gradient.
#[inline(always)]
pub(crate) fn put<T: Float>(dst: &mut T, value: T, assign: bool) {
    if assign { *dst = value } else { *dst += value }
}

/// `ds[i] = f(gs[i], xs[i], ys[i])` (or `+=` when not `assign`), with the branch and
/// the bounds checks hoisted out of the loop and the body expanded in place, so
/// that each specialised kernel vectorises (with AVX2 where there is one).
macro_rules! store3 {
    ($ds:expr, ($gs:expr, $xs:expr, $ys:expr), $assign:expr, |$g:ident, $x:ident, $y:ident| $body:expr) => {{
        let ds: &mut [_] = $ds;
        if $assign {
            $crate::wide::map3(ds, $gs, $xs, $ys, |$g, $x, $y| $body);
        } else {
            $crate::wide::update3(ds, $gs, $xs, $ys, |d, $g, $x, $y| d + $body);
        }
    }};
}

/// `ds[i] = f(ds[i], xs[i], ys[i])`: [`store3`] for a gradient transformed where it lies.
macro_rules! update_in_place {
    ($ds:expr, ($xs:expr, $ys:expr), |$g:ident, $x:ident, $y:ident| $body:expr) => {{ $crate::wide::update2($ds, $xs, $ys, |$g, $x, $y| $body) }};
}

/// A scalar function applied to every element, with its derivative.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary<T> {
    /// `-x`
    Neg,
    /// `e^x`
    Exp,
    /// Natural logarithm.
    Ln,
    /// Square root; its derivative at 0 is `+inf`.
    Sqrt,
    /// `|x|`, derivative `sign(x)` with `sign(0) = 0`.
    Abs,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Hyperbolic tangent.
    Tanh,
    /// Logistic sigmoid `1 / (1 + e^-x)`, exact 0 or 1 far out.
    Sigmoid,
    /// `max(x, 0)`, derivative 0 at 0.
    Relu,
    /// `x` for `x > 0`, else `slope · x`; derivative `slope` at 0.
    LeakyRelu(T),
    /// `ln(1 + e^(βx)) / β`, or `x` where `βx > threshold`.
    Softplus {
        /// β
        beta: T,
        /// Above this `βx` the function is the identity.
        threshold: T,
    },
    /// Exact GELU `x Φ(x)`.
    Gelu,
    /// GELU's tanh approximation.
    GeluTanh,
    /// `x^p` for a scalar exponent `p`.
    Powf(T),
    /// `base^x` for a scalar base.
    BasePow(T),
    /// `min(max(x, lo), hi)`; derivative 1 on the closed interval.
    Clamp(T, T),
    /// `x + c`
    AddScalar(T),
    /// `c · x`
    MulScalar(T),
    /// `c − x` (one pass where `neg` then `add_scalar` would take two)
    ScalarSub(T),
}

impl<T: Float> Unary<T> {
    /// The function's value at `x`.
    #[inline(always)]
    pub fn f(self, x: T) -> T {
        let half = T::of(0.5);
        match self {
            Unary::Neg => -x,
            Unary::Exp => x.exp(),
            Unary::Ln => x.ln(),
            Unary::Sqrt => x.sqrt(),
            Unary::Abs => x.abs(),
            Unary::Sin => x.sin(),
            Unary::Cos => x.cos(),
            Unary::Tanh => x.tanh(),
            Unary::Sigmoid => sigmoid(x),
            Unary::Relu => {
                if x > T::zero() {
                    x
                } else {
                    T::zero()
                }
            }
            Unary::LeakyRelu(slope) => {
                if x > T::zero() {
                    x
                } else {
                    slope * x
                }
            }
            Unary::Softplus { beta, threshold } => {
                if x * beta > threshold {
                    x
                } else {
                    (x * beta).exp().ln_1p() / beta
                }
            }
            Unary::Gelu => {
                half * x * (T::one() + (x * T::of(std::f64::consts::FRAC_1_SQRT_2)).erf())
            }
            Unary::GeluTanh => {
                let inner = gelu_beta::<T>() * (x + T::of(GELU_KAPPA) * x * x * x);
                half * x * (T::one() + inner.tanh())
            }
            Unary::Powf(p) => powf(x, p),
            Unary::BasePow(base) => base.powf(x),
            Unary::Clamp(lo, hi) => x.max(lo).min(hi),
            Unary::AddScalar(c) => x + c,
            Unary::MulScalar(c) => c * x,
            Unary::ScalarSub(c) => c - x,
        }
    }

    /// The derivative at `x`, given `y = f(x)`.
    #[inline(always)]
    pub fn df(self, x: T, y: T) -> T {
        let zero = T::zero();
        let one = T::one();
        let half = T::of(0.5);
        match self {
            Unary::Neg => -one,
            Unary::Exp => y,
            Unary::Ln => one / x,
            Unary::Sqrt => half / y,
            Unary::Abs => {
                if x > zero {
                    one
                } else if x < zero {
                    -one
                } else {
                    zero
                }
            }
            Unary::Sin => x.cos(),
            Unary::Cos => -x.sin(),
            Unary::Tanh => one - y * y,
            Unary::Sigmoid => y * (one - y),
            Unary::Relu => {
                if x > zero {
                    one
                } else {
                    zero
                }
            }
            Unary::LeakyRelu(slope) => {
                if x > zero {
                    one
                } else {
                    slope
                }
            }
            Unary::Softplus { beta, threshold } => {
                if x * beta > threshold {
                    one
                } else {
                    let z = (x * beta).exp();
                    z / (z + one)
                }
            }
            Unary::Gelu => {
                let cdf = half * (one + (x * T::of(std::f64::consts::FRAC_1_SQRT_2)).erf());
                let pdf_scale =
                    T::of(std::f64::consts::FRAC_2_SQRT_PI * std::f64::consts::FRAC_1_SQRT_2 * 0.5);
                cdf + x * (-half * x * x).exp() * pdf_scale
            }
            Unary::GeluTanh => {
                let kappa = T::of(GELU_KAPPA);
                let x_sq = x * x;
                let inner = gelu_beta::<T>() * (x + kappa * x_sq * x);
                let tanh_inner = inner.tanh();
                let right = one + tanh_inner;
                let inner_derivative = gelu_beta::<T>() * (one + T::of(3.0) * kappa * x_sq);
                half * right + half * x * (one - tanh_inner * tanh_inner) * inner_derivative
            }
            Unary::Powf(p) => {
                if p == zero {
                    zero
                } else {
                    p * powf(x, p - one)
                }
            }
            Unary::BasePow(base) => y * base.ln(),
            Unary::Clamp(lo, hi) => {
                if lo <= x && x <= hi {
                    one
                } else {
                    zero
                }
            }
            Unary::AddScalar(_) => one,
            Unary::MulScalar(c) => c,
            Unary::ScalarSub(_) => -one,
        }
    }
}

const GELU_KAPPA: f64 = 0.044715;

fn gelu_beta<T: Float>() -> T {
    T::of(std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5)
}

/// The logistic function, evaluated so that neither branch overflows.
#[inline]
pub fn sigmoid<T: Float>(x: T) -> T {
    if x >= T::zero() {
        T::one() / (T::one() + (-x).exp())
    } else {
        let e = x.exp();
        e / (T::one() + e)
    }
}

/// `x^p` with the exact shortcuts PyTorch takes for common exponents.
#[inline]
pub(crate) fn powf<T: Float>(x: T, p: T) -> T {
    if p == T::one() {
        x
    } else if p == T::of(2.0) {
        x * x
    } else if p == T::of(3.0) {
        x * x * x
    } else if p == T::of(0.5) {
        x.sqrt()
    } else if p == -T::one() {
        T::one() / x
    } else {
        x.powf(p)
    }
}

/// An arithmetic operation between two arrays with NumPy broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binary {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a · b`
    Mul,
    /// `a / b`
    Div,
    /// `a^b` (elementwise, positive base)
    Pow,
}

impl Binary {
    fn name(self) -> &'static str {
        match self {
            Binary::Add => "add",
            Binary::Sub => "sub",
            Binary::Mul => "mul",
            Binary::Div => "div",
            Binary::Pow => "pow",
        }
    }

    #[inline(always)]
    fn f<T: Float>(self, a: T, b: T) -> T {
        match self {
            Binary::Add => a + b,
            Binary::Sub => a - b,
            Binary::Mul => a * b,
            Binary::Div => a / b,
            Binary::Pow => a.powf(b),
        }
    }

    /// The upstream `g` times the partial derivative by `a` (`wrt_b` false) or `b`.
    #[inline(always)]
    fn vjp<T: Float>(self, wrt_b: bool, g: T, a: T, b: T, out: T) -> T {
        let zero = T::zero();
        match (self, wrt_b) {
            (Binary::Add, _) => g,
            (Binary::Sub, false) => g,
            (Binary::Sub, true) => -g,
            (Binary::Mul, false) => g * b,
            (Binary::Mul, true) => g * a,
            (Binary::Div, false) => g / b,
            (Binary::Div, true) => -g * a / (b * b),
            (Binary::Pow, false) => {
                if b == zero {
                    zero
                } else {
                    g * (b * a.powf(b - T::one()))
                }
            }
            (Binary::Pow, true) => {
                if a == zero && b >= zero {
                    zero
                } else {
                    g * out * a.ln()
                }
            }
        }
    }
}

/// The NumPy broadcast of two shapes.
///
/// # Panics
/// When the shapes do not broadcast, naming the operation and both shapes.
pub(crate) fn broadcast_shape(op: &str, a: &[usize], b: &[usize]) -> ShapeBuf {
    if a == b {
        return ShapeBuf::new(a);
    }
    let ndim = a.len().max(b.len());
    let mut out = ShapeBuf::new(&[0; 8][..ndim]);
    for k in 0..ndim {
        let da = if k + a.len() >= ndim {
            a[k + a.len() - ndim]
        } else {
            1
        };
        let db = if k + b.len() >= ndim {
            b[k + b.len() - ndim]
        } else {
            1
        };
        out[k] = match (da, db) {
            (x, y) if x == y => x,
            (1, y) => y,
            (x, 1) => x,
            _ => panic!("{op}: shapes {a:?} and {b:?} do not broadcast"),
        };
    }
    out
}

/// Row-major strides of `shape` padded on the left to `ndim` axes, 0 where it broadcasts.
fn broadcast_strides(ndim: usize, shape: &[usize]) -> [usize; 8] {
    let pad = ndim - shape.len();
    let mut strides = [0usize; 8];
    let mut stride = 1;
    for k in (0..shape.len()).rev() {
        strides[k + pad] = if shape[k] == 1 { 0 } else { stride };
        stride *= shape[k];
    }
    strides
}

/// Calls `visit(out_flat, a_flat, b_flat)` for every element of `out_shape`, where
/// `a_flat` and `b_flat` are the row-major positions in `a_shape` and `b_shape` that
/// broadcast to it.
fn broadcast_walk(
    out_shape: &[usize],
    a_shape: &[usize],
    b_shape: &[usize],
    mut visit: impl FnMut(usize, usize, usize),
) {
    let ndim = out_shape.len();
    assert!(ndim <= 8, "broadcasting supports at most 8 axes");
    let (a_strides, b_strides) = (
        broadcast_strides(ndim, a_shape),
        broadcast_strides(ndim, b_shape),
    );
    let total: usize = out_shape.iter().product();
    let mut index = [0usize; 8];
    let (mut a_flat, mut b_flat) = (0, 0);
    for out_flat in 0..total {
        visit(out_flat, a_flat, b_flat);
        let mut k = ndim;
        while k > 0 {
            k -= 1;
            index[k] += 1;
            a_flat += a_strides[k];
            b_flat += b_strides[k];
            if index[k] < out_shape[k] {
                break;
            }
            a_flat -= a_strides[k] * out_shape[k];
            b_flat -= b_strides[k] * out_shape[k];
            index[k] = 0;
        }
    }
}

impl<T: Float> Graph<T> {
    /// Applies a [`Unary`] function to every element.
    pub fn unary(&mut self, x: Var, function: Unary<T>) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        let mut out = self.output_buffer(&shape);
        let parallel = self.parallel && out.len() >= PARALLEL_THRESHOLD;
        let value = self.value(x);
        if let (Some(xs), Some(os)) = (value.as_slice(), out.as_slice_mut()) {
            chunked(parallel, os, |at, os| {
                let xs = &xs[at..];
                specialise_unary!(function, u => crate::wide::map1(os, xs, |v| u.f(v)))
            });
        } else {
            zip_apply!(parallel, Zip::from(&mut out).and(&value), |o, &v| *o =
                function.f(v));
        }
        self.push(Op::Unary(x.0, function), out)
    }

    /// Applies an elementwise [`Binary`] operation with NumPy broadcasting.
    ///
    /// # Panics
    /// When the shapes do not broadcast.
    pub fn binary(&mut self, a: Var, b: Var, operation: Binary) -> Var {
        let shape = broadcast_shape(operation.name(), self.shape(a), self.shape(b));
        let mut out = self.output_buffer(&shape);
        let parallel = self.parallel && out.len() >= PARALLEL_THRESHOLD;
        let (va, vb) = (self.value(a), self.value(b));
        if let (Some(xs), Some(ys), Some(os)) = (va.as_slice(), vb.as_slice(), out.as_slice_mut())
            && xs.len() == os.len()
            && ys.len() == os.len()
        {
            chunked(parallel, os, |at, os| {
                let (xs, ys) = (&xs[at..], &ys[at..]);
                specialise_binary!(operation, op => crate::wide::map2(os, xs, ys, |x, y| op.f(x, y)))
            });
            return self.push(Op::Binary(a.0, b.0, operation), out);
        }
        let (va, vb) = (
            va.broadcast(&*shape).unwrap(),
            vb.broadcast(&*shape).unwrap(),
        );
        zip_apply!(
            parallel,
            Zip::from(&mut out).and(&va).and(&vb),
            |o, &x, &y| *o = operation.f(x, y)
        );
        self.push(Op::Binary(a.0, b.0, operation), out)
    }

    /// `mask ? a : b` elementwise; `mask` holds 0 (false) or anything else (true).
    ///
    /// # Panics
    /// When the three shapes differ.
    pub fn where_mask(&mut self, mask: Var, a: Var, b: Var) -> Var {
        let shape = ShapeBuf::new(self.shape(a));
        assert!(
            self.shape(mask) == &*shape && self.shape(b) == &*shape,
            "where: mask {:?}, a {:?} and b {:?} must have one shape",
            self.shape(mask),
            shape,
            self.shape(b)
        );
        let mut out = self.output_buffer(&shape);
        Zip::from(&mut out)
            .and(&self.value(mask))
            .and(&self.value(a))
            .and(&self.value(b))
            .for_each(|o, &m, &x, &y| *o = if m != T::zero() { x } else { y });
        self.push(
            Op::Where {
                mask: mask.0,
                a: a.0,
                b: b.0,
            },
            out,
        )
    }

    /// A fused operation: `compute(input, target, output, local)` writes the output
    /// (of `output_shape`) and the local derivative `local` (input-shaped), so that
    /// backward is `grad_input += local ⊙ upstream`, the upstream broadcast over the
    /// input's trailing axes. Losses use this for one numerically stable pass.
    ///
    /// # Panics
    /// When `output_shape` is not a leading part of the input's shape.
    pub fn fused(
        &mut self,
        input: Var,
        target: Option<Var>,
        output_shape: &[usize],
        compute: impl FnOnce(
            ArrayViewD<'_, T>,
            Option<ArrayViewD<'_, T>>,
            ArrayViewMutD<'_, T>,
            ArrayViewMutD<'_, T>,
        ),
    ) -> Var {
        let input_shape = ShapeBuf::new(self.shape(input));
        assert!(
            output_shape.len() <= input_shape.len()
                && same_shape(output_shape, &input_shape[..output_shape.len()]),
            "fused: output shape {output_shape:?} must lead the input shape {input_shape:?}"
        );
        let mut local = self.output_buffer(&input_shape);
        let local_index = self.ops.len();
        // Reserve the local derivative's slot so the output takes the next buffer.
        let local_var = self.push_slot(Op::Leaf, false, Slot::Empty);
        let mut out = self.output_buffer(output_shape);
        compute(
            self.value(input),
            target.map(|t| self.value(t)),
            out.view_mut(),
            local.view_mut(),
        );
        self.values[local_index] = Slot::Owned(local);
        self.push(
            Op::Fused {
                input: input.0,
                local: local_var.0,
            },
            out,
        )
    }
}

use crate::Var;

pub(crate) fn backward_unary<T: Float>(
    graph: &mut Graph<T>,
    i: usize,
    a: u32,
    function: Unary<T>,
    upstream: &mut ArrayD<T>,
) {
    let a = a as usize;
    let Graph {
        values,
        grads,
        requires_grad,
        parallel,
        ..
    } = graph;
    let (x, y) = (values[a].view(), values[i].view());
    let parallel = *parallel && x.len() >= PARALLEL_THRESHOLD;
    if let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice())
        && grads.can_take(requires_grad, a, x.shape())
    {
        // The input takes the upstream buffer and it is scaled in place: one pass,
        // and none at all for `x + c`, whose derivative is 1.
        grads.take(a, upstream);
        if !matches!(function, Unary::AddScalar(_)) {
            let ds = grads.buffers[a]
                .as_slice_mut()
                .expect("gradient buffers are contiguous");
            chunked(parallel, ds, |at, ds| {
                let (xs, ys) = (&xs[at..], &ys[at..]);
                specialise_unary!(function, u => {
                    update_in_place!(ds, (xs, ys), |g, x, y| g * u.df(x, y))
                })
            });
        }
        return;
    }
    let upstream = upstream.view();
    grads.update(requires_grad, a, x.shape(), |mut dst, assign| {
        if let (Some(gs), Some(xs), Some(ys), Some(ds)) = (
            upstream.as_slice(),
            x.as_slice(),
            y.as_slice(),
            dst.as_slice_mut(),
        ) {
            chunked(parallel, ds, |at, ds| {
                let (gs, xs, ys) = (&gs[at..], &xs[at..], &ys[at..]);
                specialise_unary!(function, u => {
                    store3!(ds, (gs, xs, ys), assign, |g, x, y| g * u.df(x, y))
                })
            });
            return;
        }
        zip_apply!(
            parallel,
            Zip::from(dst).and(&upstream).and(&x).and(&y),
            |d, &g, &x, &y| { put(d, g * function.df(x, y), assign) }
        );
    });
}

pub(crate) fn backward_binary<T: Float>(
    graph: &mut Graph<T>,
    a: u32,
    b: u32,
    operation: Binary,
    upstream_buffer: &mut ArrayD<T>,
) {
    let (a, b) = (a as usize, b as usize);
    let Graph {
        values,
        grads,
        requires_grad,
        parallel,
        ..
    } = graph;
    let (va, vb) = (values[a].view(), values[b].view());
    let parallel = *parallel && upstream_buffer.len() >= PARALLEL_THRESHOLD;
    let same_shapes =
        same_shape(va.shape(), vb.shape()) && same_shape(va.shape(), upstream_buffer.shape());
    if let (true, Some(xs), Some(ys)) = (same_shapes, va.as_slice(), vb.as_slice()) {
        // One input takes the upstream buffer itself and it is transformed in place,
        // after the other input has read it: a pass less than two separate products,
        // and none at all for a gradient that passes through unchanged (`a + b`).
        let target = [(a, false), (b, true)]
            .into_iter()
            .find(|&(input, _)| grads.can_take(requires_grad, input, va.shape()));
        if let Some((target, wrt_b)) = target {
            if a == b {
                grads.take(a, upstream_buffer);
                let ds = grads.buffers[a].as_slice_mut().expect("contiguous");
                chunked(parallel, ds, |at, ds| {
                    let xs = &xs[at..];
                    specialise_binary!(operation, op => {
                        update_in_place!(ds, (xs, xs), |g, x, _y| {
                            let out = op.f(x, x);
                            op.vjp(false, g, x, x, out) + op.vjp(true, g, x, x, out)
                        })
                    })
                });
                return;
            }
            let (other, other_wrt_b) = if wrt_b { (a, false) } else { (b, true) };
            let gs = upstream_buffer
                .as_slice()
                .expect("gradient buffers are contiguous");
            grads.update(requires_grad, other, va.shape(), |mut dst, assign| {
                let ds = dst.as_slice_mut().expect("gradient buffers are contiguous");
                chunked(parallel, ds, |at, ds| {
                    let (gs, xs, ys) = (&gs[at..], &xs[at..], &ys[at..]);
                    specialise_binary!(operation, op => {
                        store3!(ds, (gs, xs, ys), assign, |g, x, y| op.vjp(other_wrt_b, g, x, y, op.f(x, y)))
                    })
                });
            });
            grads.take(target, upstream_buffer);
            if matches!((operation, wrt_b), (Binary::Add, _) | (Binary::Sub, false)) {
                return;
            }
            let ds = grads.buffers[target].as_slice_mut().expect("contiguous");
            chunked(parallel, ds, |at, ds| {
                let (xs, ys) = (&xs[at..], &ys[at..]);
                specialise_binary!(operation, op => {
                    update_in_place!(ds, (xs, ys), |g, x, y| op.vjp(wrt_b, g, x, y, op.f(x, y)))
                })
            });
            return;
        }
    }
    let upstream = upstream_buffer.view();
    let shape = upstream.raw_dim();
    // `x ∘ x` (a square, say): one pass adds both partial derivatives.
    if a == b
        && let (Some(gs), Some(xs)) = (upstream.as_slice(), va.as_slice())
    {
        grads.update(requires_grad, a, va.shape(), |mut dst, assign| {
            let ds = dst.as_slice_mut().expect("gradient buffers are contiguous");
            chunked(parallel, ds, |at, ds| {
                let (gs, xs) = (&gs[at..], &xs[at..]);
                specialise_binary!(operation, op => {
                    store3!(ds, (gs, xs, xs), assign, |g, x, _y| {
                        let out = op.f(x, x);
                        op.vjp(false, g, x, x, out) + op.vjp(true, g, x, x, out)
                    })
                })
            });
        });
        return;
    }
    for (input, wrt_b) in [(a, false), (b, true)] {
        let input_shape = if wrt_b { vb.shape() } else { va.shape() };
        if same_shape(input_shape, shape.slice()) && same_shape(va.shape(), vb.shape()) {
            grads.update(requires_grad, input, input_shape, |mut dst, assign| {
                if let (Some(gs), Some(xs), Some(ys), Some(ds)) = (
                    upstream.as_slice(),
                    va.as_slice(),
                    vb.as_slice(),
                    dst.as_slice_mut(),
                ) {
                    chunked(parallel, ds, |at, ds| {
                        let (gs, xs, ys) = (&gs[at..], &xs[at..], &ys[at..]);
                        specialise_binary!(operation, op => {
                            if wrt_b {
                                store3!(ds, (gs, xs, ys), assign, |g, x, y| op.vjp(true, g, x, y, op.f(x, y)))
                            } else {
                                store3!(ds, (gs, xs, ys), assign, |g, x, y| op.vjp(false, g, x, y, op.f(x, y)))
                            }
                        })
                    });
                    return;
                }
                zip_apply!(
                    parallel,
                    Zip::from(dst).and(&upstream).and(&va).and(&vb),
                    |d, &g, &x, &y| put(
                        d,
                        operation.vjp(wrt_b, g, x, y, operation.f(x, y)),
                        assign
                    )
                );
            });
        } else {
            let (ca, cb, cg) = (
                va.as_standard_layout(),
                vb.as_standard_layout(),
                upstream.as_standard_layout(),
            );
            let (sa, sb, sg) = (
                ca.as_slice().unwrap(),
                cb.as_slice().unwrap(),
                cg.as_slice().unwrap(),
            );
            grads.update(requires_grad, input, input_shape, |mut dst, assign| {
                if assign {
                    dst.fill(T::zero());
                }
                let dst = dst.as_slice_mut().expect("gradient buffers are contiguous");
                broadcast_walk(shape.slice(), va.shape(), vb.shape(), |o, ia, ib| {
                    let (x, y) = (sa[ia], sb[ib]);
                    let contribution = operation.vjp(wrt_b, sg[o], x, y, operation.f(x, y));
                    dst[if wrt_b { ib } else { ia }] += contribution;
                });
            });
        }
    }
}

pub(crate) fn backward_where<T: Float>(
    graph: &mut Graph<T>,
    mask: u32,
    a: u32,
    b: u32,
    upstream: ArrayViewD<'_, T>,
) {
    let Graph {
        values,
        grads,
        requires_grad,
        ..
    } = graph;
    let m = values[mask as usize].view();
    for (input, take_true) in [(a as usize, true), (b as usize, false)] {
        grads.update(requires_grad, input, upstream.shape(), |dst, assign| {
            Zip::from(dst).and(&upstream).and(&m).for_each(|d, &g, &m| {
                let chosen = (m != T::zero()) == take_true;
                put(d, if chosen { g } else { T::zero() }, assign)
            });
        });
    }
}

/// `grad[input] += g · local` for a local derivative `local` (in standard order, of
/// `shape`) and one upstream value `g`: the backward pass of a fused operation whose
/// output is a scalar.
pub(crate) fn add_scaled<T: Float>(
    grads: &mut Grads<T>,
    requires_grad: &[bool],
    input: usize,
    shape: &[usize],
    local: &[T],
    g: T,
) {
    grads.update_slice(requires_grad, input, shape, |ds, assign| {
        if assign {
            crate::wide::wide(move || crate::wide::map1(ds, local, |l| g * l));
        } else {
            crate::wide::wide(move || crate::wide::update2(ds, local, local, |d, l, _| d + g * l));
        }
    });
}

pub(crate) fn backward_fused<T: Float>(
    graph: &mut Graph<T>,
    input: u32,
    local: u32,
    upstream: ArrayViewD<'_, T>,
) {
    let Graph {
        values,
        grads,
        requires_grad,
        ..
    } = graph;
    let local = values[local as usize].view();
    // A scalar output (a reduced loss): every element scales by the one upstream value.
    if let (1, Some(ls)) = (upstream.len(), local.as_slice()) {
        let g = upstream.iter().next().copied().unwrap_or_else(T::zero);
        add_scaled(grads, requires_grad, input as usize, local.shape(), ls, g);
        return;
    }
    let mut padded = ShapeBuf::new(&[1; 8][..local.ndim()]);
    padded[..upstream.ndim()].copy_from_slice(upstream.shape());
    let upstream = upstream
        .into_shape_with_order(IxDyn(&padded))
        .expect("upstream is contiguous");
    let upstream = upstream
        .broadcast(local.raw_dim())
        .expect("output leads the input shape");
    grads.update(
        requires_grad,
        input as usize,
        local.shape(),
        |dst, assign| {
            Zip::from(dst)
                .and(&upstream)
                .and(&local)
                .for_each(|d, &g, &l| put(d, g * l, assign));
        },
    );
}
