//! Matrix products: 2-D, batched 3-D (with a 2-D side broadcast over the batch) and
//! matrix–vector, and the affine map `x W + b` of a fully connected layer as one
//! operation. Products run on a packed, register-blocked kernel of our own (written
//! once, compiled for AVX-512 and AVX2 and chosen at run time), split over threads by
//! rows when large; they write their result instead of zeroing and adding to it.

use std::any::Any;
use std::cell::RefCell;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewD, ArrayViewMut2, Axis, Ix2, Ix3, IxDyn};
use rayon::prelude::*;

use super::Op;
use super::matvec::matrix_vector;
use crate::graph::{Graph, ShapeBuf};
use crate::{Float, Var, flush_subnormal};

/// Work (multiply–adds) above which a product is split over threads.
const PARALLEL_WORK: usize = 1 << 20;
/// Rows per parallel task: fixed, so results never depend on the thread count.
const ROWS_PER_TASK: usize = 64;

/// `c = alpha · a · b (+ bias)` or `c += alpha · a · b`, as `store` says: the
/// matrix–vector loops when `b` is one column, the packed register-blocked kernel
/// ([`packed_gemm`]) when `c` is in standard layout, split by rows of `c` over threads
/// when large and `parallel`; matrixmultiply for any other layout.
pub(crate) fn gemm<T: Float>(
    parallel: bool,
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    let work = a.nrows() * a.ncols() * b.ncols();
    if work > 0 && c.is_standard_layout() && b.ncols() > 1 {
        if parallel && work >= PARALLEL_WORK && a.nrows() > ROWS_PER_TASK {
            // Zipped parallel chunk iterators split only between chunks, so the rows
            // of each task stay fixed; nothing is collected, so nothing is allocated.
            c.axis_chunks_iter_mut(Axis(0), ROWS_PER_TASK)
                .into_par_iter()
                .zip(a.axis_chunks_iter(Axis(0), ROWS_PER_TASK).into_par_iter())
                .for_each(|(mut c_rows, a_rows)| {
                    packed_gemm(alpha, &a_rows, b, &mut c_rows, store);
                });
        } else {
            packed_gemm(alpha, a, b, c, store);
        }
        return;
    }
    if let Store::Overwrite(_) = store {
        c.fill(T::zero());
    }
    if !(b.ncols() == 1 && matrix_vector(parallel, alpha, a, b, c)) && work > 0 {
        general_mat_mul(alpha, a, b, T::one(), c);
    }
    if let Store::Overwrite(Some(bias)) = store {
        match (c.as_slice_mut(), bias) {
            (Some(column), &[bias]) => column.iter_mut().for_each(|v| *v += bias),
            _ => {
                for mut row in c.rows_mut() {
                    row.iter_mut().zip(bias).for_each(|(v, &b)| *v += b);
                }
            }
        }
    }
}

/// Rows of `c` one micro-kernel call computes.
const MR: usize = 4;
/// Depth of one pass over the packed operands: a panel of `b` (`KC × NR`) stays in L1
/// cache while every row block of `a` streams past it.
const KC: usize = 256;

thread_local! {
    /// Packing space reused by every product on this thread (a `Vec<T>` of the last
    /// element type used), so that a training step allocates nothing once warm.
    static PACKED: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Runs `work` with this thread's packing space, at least `len` elements long.
fn with_packing_space<T: Float, R>(len: usize, work: impl FnOnce(&mut [T]) -> R) -> R {
    PACKED.with(|cell| {
        let mut slot = cell.borrow_mut();
        if !slot.as_ref().is_some_and(|space| space.is::<Vec<T>>()) {
            *slot = Some(Box::new(Vec::<T>::new()));
        }
        let space = slot
            .as_mut()
            .and_then(|space| space.downcast_mut::<Vec<T>>())
            .expect("packing space of this type");
        if space.len() < len {
            space.resize(len, T::zero());
        }
        work(&mut space[..len])
    })
}

/// What [`packed_gemm`] does with `c`: `c = a·b (+ bias)` or `c += a·b`.
#[derive(Clone, Copy)]
pub(crate) enum Store<'a, T> {
    Overwrite(Option<&'a [T]>),
    Accumulate,
}

/// `c (+)= alpha · a · b (+ bias)` on packed operands with a register-blocked kernel:
/// `MR × NR` sums stay in registers while the inner loop runs over the depth.
///
/// Each element of `c` is one chain of multiply–adds over `p = 0, 1, …, k − 1` in
/// order, started from zero (or from `c` when accumulating) and with the bias added
/// last (a subnormal result then stored as zero), whatever the blocking, the vector width or the rows a thread gets: the same
/// bits on every machine with fused multiply–add. Where the CPU has none (x86-64
/// before AVX2) the chain rounds after each product instead. `c` must be in standard
/// layout.
fn packed_gemm<T: Float>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    // Room for any panel width (at most 32) the dispatch below picks.
    let len = (a.nrows().div_ceil(MR) * MR + b.ncols() + 32) * a.ncols();
    with_packing_space::<T, _>(len, |space| {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::is_x86_feature_detected as has;
            if has!("avx512f") && has!("fma") {
                // SAFETY: both features were just detected on this CPU.
                unsafe { packed_avx512(space, alpha, a, b, c, store) }
            } else if has!("avx2") && has!("fma") {
                // SAFETY: both features were just detected on this CPU.
                unsafe { packed_avx2(space, alpha, a, b, c, store) }
            } else {
                by_width!(8, false, space, alpha, a, b, c, store)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            // aarch64 always has fused multiply–add; elsewhere it may be a slow library call.
            by_width!(
                16,
                cfg!(target_arch = "aarch64"),
                space,
                alpha,
                a,
                b,
                c,
                store
            )
        }
    });
}

/// Calls [`packed_body`] with panels `$wide` `f32` wide (half as many `f64`, the same
/// bytes), or half that when `b` is narrow enough that the wide panel would be mostly
/// padding.
macro_rules! by_width {
    ($wide:literal, $fused:expr, $space:ident, $alpha:ident, $a:ident, $b:ident, $c:ident, $store:ident) => {{
        let four = std::mem::size_of::<T>() == 4;
        let narrow = $b.ncols() <= if four { $wide / 2 } else { $wide / 4 };
        match (four, narrow) {
            (true, false) => {
                packed_body::<T, $wide, { $fused }>($space, $alpha, $a, $b, $c, $store)
            }
            (true, true) | (false, false) => {
                packed_body::<T, { $wide / 2 }, { $fused }>($space, $alpha, $a, $b, $c, $store)
            }
            (false, true) => {
                packed_body::<T, { $wide / 4 }, { $fused }>($space, $alpha, $a, $b, $c, $store)
            }
        }
    }};
}
use by_width;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx2,fma")]
fn packed_avx512<T: Float>(
    space: &mut [T],
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    by_width!(32, true, space, alpha, a, b, c, store)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn packed_avx2<T: Float>(
    space: &mut [T],
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    by_width!(16, true, space, alpha, a, b, c, store)
}

/// Packs `a` (times `alpha`) into blocks of [`MR`] rows, depth-major, and `b` into
/// panels of `NR` columns, depth-major, both zero-padded; then runs the kernel over
/// every (row block, panel) pair, [`KC`] steps of depth at a time.
#[inline(always)]
fn packed_body<T: Float, const NR: usize, const FUSED: bool>(
    space: &mut [T],
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let a_len = m.div_ceil(MR) * MR * k;
    let b_len = n.div_ceil(NR) * NR * k;
    let (pa, pb) = space[..a_len + b_len].split_at_mut(a_len);
    pack::<T, MR>(pa, alpha, a);
    pack::<T, NR>(pb, T::one(), &b.t());
    let cs = c.as_slice_mut().expect("standard layout");
    let mut start = 0;
    while start < k {
        let depth = KC.min(k - start);
        let last = start + depth == k;
        for (panel, pb) in pb.chunks_exact(NR * k).enumerate() {
            let (j0, width) = (panel * NR, NR.min(n - panel * NR));
            let pb = &pb[start * NR..(start + depth) * NR];
            let bias = match store {
                Store::Overwrite(Some(bias)) if last => Some(&bias[j0..j0 + width]),
                _ => None,
            };
            for (block, pa) in pa.chunks_exact(MR * k).enumerate() {
                let pa = &pa[start * MR..(start + depth) * MR];
                let (i0, rows) = (block * MR, MR.min(m - block * MR));
                let mut acc = [[T::zero(); NR]; MR];
                if start > 0 || matches!(store, Store::Accumulate) {
                    for r in 0..rows {
                        let at = (i0 + r) * n + j0;
                        acc[r][..width].copy_from_slice(&cs[at..at + width]);
                    }
                }
                kernel::<T, NR, FUSED>(pa, pb, &mut acc);
                for r in 0..rows {
                    let at = (i0 + r) * n + j0;
                    let dst = &mut cs[at..at + width];
                    // Products of small gradients can leave the normal range: a final
                    // result is stored as zero then, so that no later operation reads a
                    // subnormal number.
                    let done = |v: T| if last { flush_subnormal(v) } else { v };
                    match bias {
                        Some(bias) => {
                            for ((d, &s), &b) in dst.iter_mut().zip(&acc[r]).zip(bias) {
                                *d = done(s + b);
                            }
                        }
                        None => {
                            for (d, &s) in dst.iter_mut().zip(&acc[r]) {
                                *d = done(s);
                            }
                        }
                    }
                }
            }
        }
        start += depth;
    }
}

/// Packs the rows of `x` (times `alpha`) in blocks of `W`, depth-major: element
/// `(i, p)` goes to `dst[(i / W) · W · k + p · W + i % W]`, rows past the end are
/// zeros. Reads `x` along whichever axis is contiguous.
#[inline(always)]
fn pack<T: Float, const W: usize>(dst: &mut [T], alpha: T, x: &ArrayView2<'_, T>) {
    let (rows, k) = x.dim();
    let block_len = W * k;
    if rows % W != 0 {
        let tail = (rows / W) * block_len;
        dst[tail..].iter_mut().for_each(|v| *v = T::zero());
    }
    if x.strides()[1] == 1 || k <= 1 {
        for (i, row) in x.rows().into_iter().enumerate() {
            let block = &mut dst[(i / W) * block_len..][..block_len];
            let lane = i % W;
            match row.as_slice() {
                Some(row) => {
                    for (to, &v) in block.chunks_exact_mut(W).zip(row) {
                        to[lane] = alpha * v;
                    }
                }
                None => {
                    for (to, &v) in block.chunks_exact_mut(W).zip(&row) {
                        to[lane] = alpha * v;
                    }
                }
            }
        }
    } else {
        for (p, column) in x.columns().into_iter().enumerate() {
            match column.as_slice() {
                Some(column) => {
                    for (chunk, block) in column.chunks(W).zip(dst.chunks_exact_mut(block_len)) {
                        let to = &mut block[p * W..p * W + chunk.len()];
                        for (t, &v) in to.iter_mut().zip(chunk) {
                            *t = alpha * v;
                        }
                    }
                }
                None => {
                    for (i, &v) in column.iter().enumerate() {
                        dst[(i / W) * block_len + p * W + i % W] = alpha * v;
                    }
                }
            }
        }
    }
}

/// `acc += a · b` over one depth range: `a` holds [`MR`] values per step, `b` holds
/// `NR`; the sums stay in registers.
#[inline(always)]
fn kernel<T: Float, const NR: usize, const FUSED: bool>(a: &[T], b: &[T], acc: &mut [[T; NR]; MR]) {
    let mut sums = *acc;
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        let ap: &[T; MR] = ap.try_into().expect("MR values");
        let bp: &[T; NR] = bp.try_into().expect("NR values");
        for r in 0..MR {
            for l in 0..NR {
                sums[r][l] = if FUSED {
                    ap[r].mul_add(bp[l], sums[r][l])
                } else {
                    sums[r][l] + ap[r] * bp[l]
                };
            }
        }
    }
    *acc = sums;
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
                    Store::Overwrite(None),
                );
            }
        }
        self.push(Op::Matmul(a.0, b.0), out)
    }
}

impl<T: Float> Graph<T> {
    /// The affine map `x W + b` of a fully connected layer: `x` of shape `[rows, k]`,
    /// `w` of `[k, n]` and `b` of `[n]`, added to every row. The value is that of
    /// `add(matmul(x, w), b)`, but the bias is added as each result is stored, and
    /// the backward pass sums the bias gradient over rows directly instead of through a
    /// broadcasting walk.
    ///
    /// # Panics
    /// When the shapes are not `[rows, k]`, `[k, n]` and `[n]`, naming all three.
    pub fn affine(&mut self, x: Var, w: Var, b: Var) -> Var {
        let (xs, ws, bs) = (self.shape(x), self.shape(w), self.shape(b));
        assert!(
            xs.len() == 2 && ws.len() == 2 && bs.len() == 1 && xs[1] == ws[0] && bs[0] == ws[1],
            "affine: shapes {xs:?}, {ws:?} and {bs:?} do not fit x [rows, k], W [k, n], b [n]"
        );
        let (m, n) = (xs[0], ws[1]);
        let mut out = self.output_buffer(&[m, n]);
        {
            let vx = matrix(self.value(x));
            let vw = matrix(self.value(w));
            let vb = self.value(b);
            let bias = vb.as_standard_layout();
            let mut c = out
                .view_mut()
                .into_dimensionality::<Ix2>()
                .expect("two axes");
            let bias = bias.as_slice().expect("standard layout");
            gemm(
                self.parallel,
                T::one(),
                &vx,
                &vw,
                &mut c,
                Store::Overwrite(Some(bias)),
            );
        }
        self.push(
            Op::Affine {
                x: x.0,
                w: w.0,
                b: b.0,
            },
            out,
        )
    }
}

fn matrix<T>(view: ArrayViewD<'_, T>) -> ArrayView2<'_, T> {
    view.into_dimensionality::<Ix2>().expect("two axes")
}

fn matrix_mut<T>(view: ndarray::ArrayViewMutD<'_, T>) -> ArrayViewMut2<'_, T> {
    view.into_dimensionality::<Ix2>().expect("two axes")
}

/// `dx = g Wᵀ`, `dW = xᵀ g`, `db = Σ_rows g` (rows added in order, as the broadcast
/// `add` does).
pub(crate) fn backward_affine<T: Float>(
    graph: &mut Graph<T>,
    x: u32,
    w: u32,
    b: u32,
    upstream: ArrayViewD<'_, T>,
) {
    let Graph {
        values,
        grads,
        requires_grad,
        parallel,
        ..
    } = graph;
    let parallel = *parallel;
    let (x, w, b) = (x as usize, w as usize, b as usize);
    let (vx, vw) = (matrix(values[x].view()), matrix(values[w].view()));
    let g = matrix(upstream);
    let overwrite = |assign: bool| {
        if assign {
            Store::Overwrite(None)
        } else {
            Store::Accumulate
        }
    };
    grads.update(requires_grad, x, vx.shape(), |dst, assign| {
        gemm(
            parallel,
            T::one(),
            &g,
            &vw.t(),
            &mut matrix_mut(dst),
            overwrite(assign),
        );
    });
    grads.update(requires_grad, w, vw.shape(), |dst, assign| {
        gemm(
            parallel,
            T::one(),
            &vx.t(),
            &g,
            &mut matrix_mut(dst),
            overwrite(assign),
        );
    });
    grads.update(requires_grad, b, &[g.ncols()], |mut dst, assign| {
        if assign {
            dst.fill(T::zero());
        }
        let sums = dst.as_slice_mut().expect("gradient buffers are contiguous");
        if let (&mut [ref mut sum], Some(column)) = (&mut *sums, g.as_slice()) {
            // One output column (a linear regression): the same sum in order, without
            // a row view per element.
            *sum = column.iter().fold(*sum, |s, &v| s + v);
            return;
        }
        for row in g.rows() {
            match row.as_slice() {
                Some(row) => sums.iter_mut().zip(row).for_each(|(s, &v)| *s += v),
                None => sums.iter_mut().zip(&row).for_each(|(s, &v)| *s += v),
            }
        }
    });
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
        if assign && l.batch == 0 {
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
                store_for(assign, l.a_batched, p),
            );
        }
    });
    grads.update(requires_grad, b, vb.shape(), |dst, assign| {
        let mut dst = as_stack_mut(dst, l.k, l.n);
        if assign && l.batch == 0 {
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
                store_for(assign, l.b_batched, p),
            );
        }
    });
}

/// How the `p`-th product of a batch enters a gradient: it overwrites stale contents
/// once, the first time it reaches each slice, and adds after that.
fn store_for<'a, T>(assign: bool, batched: bool, p: usize) -> Store<'a, T> {
    if assign && (batched || p == 0) {
        Store::Overwrite(None)
    } else {
        Store::Accumulate
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ShapeBuilder};

    fn filled(rows: usize, cols: usize, seed: f64, column_major: bool) -> Array2<f64> {
        let shape = (rows, cols).set_f(column_major);
        Array2::from_shape_fn(shape, |(i, j)| {
            ((i as f64 * 0.37 + j as f64 * 1.13 + seed).sin() * 3.0).fract()
        })
    }

    /// Whether the packed kernel fuses multiply and add on this machine.
    fn fused() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        return cfg!(target_arch = "aarch64");
    }

    /// Each element as the one chain over the depth the kernel promises.
    fn chain(
        a: &Array2<f64>,
        b: &Array2<f64>,
        start: &Array2<f64>,
        bias: Option<&[f64]>,
    ) -> Array2<f64> {
        let fused = fused();
        Array2::from_shape_fn((a.nrows(), b.ncols()), |(i, j)| {
            let mut s = start[[i, j]];
            for p in 0..a.ncols() {
                s = if fused {
                    a[[i, p]].mul_add(b[[p, j]], s)
                } else {
                    s + a[[i, p]] * b[[p, j]]
                };
            }
            flush_subnormal(bias.map_or(s, |bias| s + bias[j]))
        })
    }

    #[test]
    fn packed_products_are_one_chain_per_element_for_every_shape_and_layout() {
        for (m, k, n) in [
            (1, 1, 2),
            (5, 3, 7),
            (32, 64, 64),
            (33, 300, 10),
            (9, 17, 70),
            (4, 2, 33),
        ] {
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                let (a, b) = (filled(m, k, 0.1, a_t), filled(k, n, 0.2, b_t));
                let bias: Vec<f64> = (0..n).map(|j| j as f64 * 0.25 - 1.0).collect();
                let zeros = Array2::zeros((m, n));
                let mut c = Array2::from_elem((m, n), f64::NAN);
                gemm(
                    false,
                    1.0,
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    Store::Overwrite(Some(&bias)),
                );
                let want = chain(&a, &b, &zeros, Some(&bias));
                assert!(
                    c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{m}x{k}x{n} {a_t} {b_t}"
                );
                let before = filled(m, n, 0.3, false);
                let mut c = before.clone();
                gemm(
                    false,
                    1.0,
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    Store::Accumulate,
                );
                let want = chain(&a, &b, &before, None);
                assert!(
                    c.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "{m}x{k}x{n} +="
                );
            }
        }
    }

    #[test]
    fn large_products_split_over_threads_give_the_same_bits() {
        let (a, b) = (filled(300, 90, 0.4, false), filled(90, 50, 0.5, false));
        let mut serial = Array2::zeros((300, 50));
        gemm(
            false,
            1.0,
            &a.view(),
            &b.view(),
            &mut serial.view_mut(),
            Store::Overwrite(None),
        );
        let mut split = Array2::zeros((300, 50));
        gemm(
            true,
            1.0,
            &a.view(),
            &b.view(),
            &mut split.view_mut(),
            Store::Overwrite(None),
        );
        assert_eq!(serial, split);
        assert_eq!(serial, chain(&a, &b, &Array2::zeros((300, 50)), None));
    }
}
