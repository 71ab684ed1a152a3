//! Matrix products: 2-D, batched 3-D (with a 2-D side broadcast over the batch) and
//! matrix–vector, on matrixmultiply's kernels, split over threads by rows for large
//! products.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewD, ArrayViewMut2, Axis, Ix3, IxDyn};
use rayon::prelude::*;

use super::Op;
use crate::graph::{Graph, ShapeBuf};
use crate::{Float, Var};

/// Work (multiply–adds) above which a product is split over threads.
const PARALLEL_WORK: usize = 1 << 20;
/// Rows per parallel task: fixed, so results never depend on the thread count.
const ROWS_PER_TASK: usize = 64;

/// Work below which a plain triple loop beats packing (and allocates nothing; the
/// packed kernels allocate their packing buffers on every call).
const SMALL_WORK: usize = 1 << 15;

/// `c = alpha · a · b + c`: a plain loop for small products, matrixmultiply's packed
/// kernels otherwise, split by rows of `c` over threads when large and `parallel`.
pub(crate) fn gemm<T: Float>(
    parallel: bool,
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
) {
    let work = a.nrows() * a.ncols() * b.ncols();
    if b.ncols() == 1 && matrix_vector(parallel, alpha, a, b, c) {
        return;
    }
    if work <= SMALL_WORK {
        for (a_row, mut c_row) in a.rows().into_iter().zip(c.rows_mut()) {
            for (&a_ip, b_row) in a_row.iter().zip(b.rows()) {
                let scaled = alpha * a_ip;
                match (c_row.as_slice_mut(), b_row.as_slice()) {
                    (Some(cs), Some(bs)) => {
                        cs.iter_mut().zip(bs).for_each(|(c, &b)| *c += scaled * b)
                    }
                    _ => c_row.zip_mut_with(&b_row, |c, &b| *c += scaled * b),
                }
            }
        }
    } else if parallel && work >= PARALLEL_WORK && a.nrows() > ROWS_PER_TASK {
        let tasks: Vec<_> = c
            .axis_chunks_iter_mut(Axis(0), ROWS_PER_TASK)
            .zip(a.axis_chunks_iter(Axis(0), ROWS_PER_TASK))
            .collect();
        tasks.into_par_iter().for_each(|(mut c_rows, a_rows)| {
            general_mat_mul(alpha, &a_rows, b, T::one(), &mut c_rows);
        });
    } else {
        general_mat_mul(alpha, a, b, T::one(), c);
    }
}

/// Rows per parallel task of a matrix–vector product (fixed, as [`ROWS_PER_TASK`]).
const VECTOR_ROWS_PER_TASK: usize = 4096;

/// `Σ x_i y_i` in eight interleaved partial sums, so that it vectorises while the
/// order of additions stays fixed.
#[inline]
fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let (x_chunks, y_chunks) = (x.chunks_exact(8), y.chunks_exact(8));
    let (x_tail, y_tail) = (x_chunks.remainder(), y_chunks.remainder());
    for (xc, yc) in x_chunks.zip(y_chunks) {
        for k in 0..8 {
            lanes[k] += xc[k] * yc[k];
        }
    }
    let mut total = ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]));
    for (&x, &y) in x_tail.iter().zip(y_tail) {
        total += x * y;
    }
    total
}

/// `c += alpha · a · b` for a single-column `b` without packing: one dot product per
/// row when `a`'s rows are contiguous (`X w`), one scaled row added per element of `b`
/// when its columns are (`Xᵀ g`). Either way `a` is read exactly once. Returns false
/// when neither layout applies.
fn matrix_vector<T: Float>(
    parallel: bool,
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
) -> bool {
    let b = b.column(0);
    let mut c = c.column_mut(0);
    let (Some(bs), Some(cs)) = (b.as_slice(), c.as_slice_mut()) else {
        return false;
    };
    if a.ncols() == 0 || a.nrows() == 0 {
        return true;
    }
    if a.row(0).as_slice().is_some() && a.strides()[1] == 1 {
        let rows = |cs: &mut [T], start: usize| {
            for (offset, ci) in cs.iter_mut().enumerate() {
                let row = a.row(start + offset);
                *ci += alpha * dot(row.as_slice().expect("contiguous rows"), bs);
            }
        };
        if parallel && a.len() >= PARALLEL_WORK {
            cs.par_chunks_mut(VECTOR_ROWS_PER_TASK)
                .enumerate()
                .for_each(|(task, chunk)| rows(chunk, task * VECTOR_ROWS_PER_TASK));
        } else {
            rows(cs, 0);
        }
        return true;
    }
    if a.column(0).as_slice().is_some() && a.strides()[0] == 1 {
        // a = Xᵀ: c += Σ_p (alpha · b_p) · X[p, :], rows of X in order.
        for (p, &weight) in bs.iter().enumerate() {
            let scaled = alpha * weight;
            let column = a.column(p);
            let xs = column.as_slice().expect("contiguous columns");
            for (ci, &x) in cs.iter_mut().zip(xs) {
                *ci += scaled * x;
            }
        }
        return true;
    }
    false
}

/// The operands of a product seen as stacks of matrices `[batch, m, k] @ [batch, k, n]`.
struct Layout {
    batch: usize,
    a_batched: bool,
    b_batched: bool,
    m: usize,
    k: usize,
    n: usize,
}

fn layout(a: &[usize], b: &[usize]) -> (Layout, ShapeBuf) {
    let fail = || -> ! {
        panic!(
            "matmul: shapes {a:?} and {b:?} do not fit (inner sizes must agree; batches must match)"
        )
    };
    let (a_batch, m, ka) = match *a {
        [k] => (None, 1, k),
        [m, k] => (None, m, k),
        [batch, m, k] => (Some(batch), m, k),
        _ => fail(),
    };
    let (b_batch, kb, n) = match *b {
        [k] => (None, k, 1),
        [k, n] => (None, k, n),
        [batch, k, n] => (Some(batch), k, n),
        _ => fail(),
    };
    if ka != kb {
        fail();
    }
    let batch = match (a_batch, b_batch) {
        (Some(x), Some(y)) if x != y => fail(),
        (Some(x), _) | (None, Some(x)) => x,
        (None, None) => 1,
    };
    let mut axes = [0; 3];
    let mut ndim = 0;
    for (keep, size) in [
        (a_batch.is_some() || b_batch.is_some(), batch),
        (a.len() > 1, m),
        (b.len() > 1, n),
    ] {
        if keep {
            axes[ndim] = size;
            ndim += 1;
        }
    }
    let shape = ShapeBuf::new(&axes[..ndim]);
    let layout = Layout {
        batch,
        a_batched: a_batch.is_some(),
        b_batched: b_batch.is_some(),
        m,
        k: ka,
        n,
    };
    (layout, shape)
}

fn as_stack<'a, T>(
    view: ArrayViewD<'a, T>,
    rows: usize,
    cols: usize,
) -> ndarray::ArrayView3<'a, T> {
    let batch = view.len() / (rows * cols).max(1);
    let view = if view.ndim() == 3 {
        view
    } else {
        view.into_shape_with_order(IxDyn(&[batch, rows, cols]))
            .expect("contiguous operand")
    };
    view.into_dimensionality::<Ix3>().expect("three axes")
}

impl<T: Float> Graph<T> {
    /// Matrix product `a @ b`: 2-D × 2-D, 3-D × 3-D (batched), 3-D × 2-D (the matrix
    /// broadcast over the batch), 2-D × 3-D, and products with a vector on either side.
    ///
    /// # Panics
    /// When the inner sizes or the batch sizes differ, naming both shapes.
    pub fn matmul(&mut self, a: Var, b: Var) -> Var {
        let (l, shape) = layout(self.shape(a), self.shape(b));
        let mut out = self.output_buffer(&shape);
        out.fill(T::zero());
        {
            let va = as_stack(self.value(a), l.m, l.k);
            let vb = as_stack(self.value(b), l.k, l.n);
            let mut c = out
                .view_mut()
                .into_shape_with_order(IxDyn(&[l.batch, l.m, l.n]))
                .expect("fresh buffer");
            let mut c = c
                .view_mut()
                .into_dimensionality::<Ix3>()
                .expect("three axes");
            for p in 0..l.batch {
                let ap = va.index_axis(Axis(0), if l.a_batched { p } else { 0 });
                let bp = vb.index_axis(Axis(0), if l.b_batched { p } else { 0 });
                gemm(
                    self.parallel,
                    T::one(),
                    &ap,
                    &bp,
                    &mut c.index_axis_mut(Axis(0), p),
                );
            }
        }
        self.push(Op::Matmul(a.0, b.0), out)
    }
}

pub(crate) fn backward_matmul<T: Float>(
    graph: &mut Graph<T>,
    a: u32,
    b: u32,
    upstream: ArrayViewD<'_, T>,
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
    let (l, _) = layout(va.shape(), vb.shape());
    let g = as_stack(upstream.view(), l.m, l.n);
    let (sa, sb) = (as_stack(va.view(), l.m, l.k), as_stack(vb.view(), l.k, l.n));
    let parallel = *parallel;
    grads.update(requires_grad, a, va.shape(), |dst, assign| {
        let mut dst = as_stack_mut(dst, l.m, l.k);
        if assign {
            dst.fill(T::zero());
        }
        for p in 0..l.batch {
            let bp = sb.index_axis(Axis(0), if l.b_batched { p } else { 0 });
            let mut d = dst.index_axis_mut(Axis(0), if l.a_batched { p } else { 0 });
            gemm(
                parallel,
                T::one(),
                &g.index_axis(Axis(0), p),
                &bp.t(),
                &mut d,
            );
        }
    });
    grads.update(requires_grad, b, vb.shape(), |dst, assign| {
        let mut dst = as_stack_mut(dst, l.k, l.n);
        if assign {
            dst.fill(T::zero());
        }
        for p in 0..l.batch {
            let ap = sa.index_axis(Axis(0), if l.a_batched { p } else { 0 });
            let mut d = dst.index_axis_mut(Axis(0), if l.b_batched { p } else { 0 });
            gemm(
                parallel,
                T::one(),
                &ap.t(),
                &g.index_axis(Axis(0), p),
                &mut d,
            );
        }
    });
}

fn as_stack_mut<T>(
    view: ndarray::ArrayViewMutD<'_, T>,
    rows: usize,
    cols: usize,
) -> ndarray::ArrayViewMut3<'_, T> {
    let batch = view.len() / (rows * cols).max(1);
    view.into_shape_with_order(IxDyn(&[batch, rows, cols]))
        .expect("gradient buffers are contiguous")
        .into_dimensionality::<Ix3>()
        .expect("three axes")
}
