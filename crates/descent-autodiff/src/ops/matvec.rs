//! Matrix–vector products, `X w` and `Xᵀ g`: the two passes over the data of a
//! full-batch linear model. Both are bound by how fast `X` streams from memory, so each
//! reads it exactly once, front to back, split over threads in fixed row ranges so that
//! the bits never depend on the thread count. (A full-batch linear model with an
//! elementwise loss reads it once per step in all: see [`super::affine_loss`].)

use std::cell::RefCell;

use ndarray::{ArrayView2, ArrayViewMut2};
use rayon::prelude::*;

use crate::Float;

/// Rows of `X` per parallel task: fixed, so results never depend on the thread count.
pub(crate) const ROWS_PER_TASK: usize = 4096;
/// Elements of `X` above which a pass over it is split over threads.
pub(crate) const PARALLEL_LEN: usize = 1 << 20;

/// Calls a kernel below compiled for AVX2 where the processor has it (as
/// [`crate::wide`] does for closures; a closure this large would not be inlined into
/// the AVX2 copy, so each kernel gets its own). Only the vector width changes, never
/// the arithmetic, so the bits are the same either way.
macro_rules! dispatch {
    ($kernel:ident($($arg:expr),*)) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            unsafe fn with_avx2<T: Float>(alpha: T, x: &[T], v: &[T], c: &mut [T]) {
                $kernel(alpha, x, v, c)
            }
            // SAFETY: the processor has AVX2 (checked just above).
            unsafe { with_avx2($($arg),*) }
        } else {
            $kernel($($arg),*)
        }
        #[cfg(not(target_arch = "x86_64"))]
        $kernel($($arg),*)
    }};
}

/// `c += alpha · a · b` for a single-column `b`: one dot product per row when `a`'s
/// rows are contiguous (`X w`), one scaled row added per element of `b` when its
/// columns are (`a = Xᵀ`, `Xᵀ g`). Returns false when neither layout applies.
pub(crate) fn matrix_vector<T: Float>(
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
    let parallel = parallel && a.len() >= PARALLEL_LEN;
    if let Some(x) = a.as_slice() {
        rows_times_vector(parallel, alpha, x, bs, cs);
        return true;
    }
    let xt = a.t();
    if let Some(x) = xt.as_slice() {
        transposed_times_vector(parallel, alpha, x, bs, cs);
        return true;
    }
    false
}

/// `c_i += alpha · (x_i · w)` for the rows `x_i` of the row-major `x` (`c.len()` rows of
/// `w.len()` values).
fn rows_times_vector<T: Float>(parallel: bool, alpha: T, x: &[T], w: &[T], c: &mut [T]) {
    let width = w.len();
    let task = |(chunk, c): (usize, &mut [T])| {
        let start = chunk * ROWS_PER_TASK * width;
        let x = &x[start..start + c.len() * width];
        dispatch!(dot_rows(alpha, x, w, c));
    };
    if parallel {
        c.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(task);
    } else {
        c.chunks_mut(ROWS_PER_TASK).enumerate().for_each(task);
    }
}

/// The rows of one task, one after another. (Interleaving the dot products of a few
/// rows shortens the dependency chains but was slower: the loads then jump back and
/// forth, and the hardware prefetcher, which follows a monotonic stream, falls behind.)
#[inline(always)]
fn dot_rows<T: Float>(alpha: T, x: &[T], w: &[T], c: &mut [T]) {
    for (ci, row) in c.iter_mut().zip(x.chunks_exact(w.len())) {
        *ci += alpha * dot(row, w);
    }
}

/// The final sum of eight partial sums, in a fixed tree.
#[inline(always)]
fn combine<T: Float>(lanes: &[T; 8]) -> T {
    ((lanes[0] + lanes[4]) + (lanes[1] + lanes[5]))
        + ((lanes[2] + lanes[6]) + (lanes[3] + lanes[7]))
}

/// `Σ x_i y_i` in eight interleaved partial sums, so that it vectorises while the
/// order of additions stays fixed.
#[inline(always)]
pub(crate) fn dot<T: Float>(x: &[T], y: &[T]) -> T {
    let mut lanes = [T::zero(); 8];
    let (x_chunks, y_chunks) = (x.chunks_exact(8), y.chunks_exact(8));
    let (x_tail, y_tail) = (x_chunks.remainder(), y_chunks.remainder());
    for (xc, yc) in x_chunks.zip(y_chunks) {
        // As arrays, so that the compiler sees eight independent lanes (one vector).
        let (xc, yc): (&[T; 8], &[T; 8]) = (xc.try_into().expect("8"), yc.try_into().expect("8"));
        for k in 0..8 {
            lanes[k] += xc[k] * yc[k];
        }
    }
    let mut total = combine(&lanes);
    for (&x, &y) in x_tail.iter().zip(y_tail) {
        total += x * y;
    }
    total
}

thread_local! {
    /// Per-task partial sums of the products over rows, reused so that a warm
    /// training step allocates nothing.
    static PARTIALS: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

/// Runs `work` on `len` values of scratch space (stale contents) from this thread's
/// reusable buffer, for per-task partial sums that are then added in task order.
pub(crate) fn with_partials<T: Float, R>(len: usize, work: impl FnOnce(&mut [T]) -> R) -> R {
    // Taken out of the thread-local (not borrowed) while `work` runs: this thread may
    // run another product meanwhile, as a rayon worker.
    let mut space = PARTIALS.with(RefCell::take);
    let words = (len * size_of::<T>()).div_ceil(size_of::<f64>());
    if space.len() < words {
        space.resize(words, 0.0);
    }
    // SAFETY: `T` is `f32` or `f64` (the `Float` implementors), both plain data of at
    // most `f64`'s size and alignment, so `len` of them fit in `words` f64s and any bits
    // are a valid value.
    let partials: &mut [T] =
        unsafe { std::slice::from_raw_parts_mut(space.as_mut_ptr().cast::<T>(), len) };
    let result = work(partials);
    PARTIALS.with(|cell| cell.replace(space));
    result
}

/// `c += alpha · Σ_p g_p x_p` over the rows `x_p` of the row-major `x` (`g.len()` rows
/// of `c.len()` values), that is `c += alpha · xᵀ g`.
///
/// Each task of [`ROWS_PER_TASK`] rows sums its rows in order, from zero; `c` then adds
/// the tasks' sums in order. With one task this is the plain sum of the rows in order.
fn transposed_times_vector<T: Float>(parallel: bool, alpha: T, x: &[T], g: &[T], c: &mut [T]) {
    let width = c.len();
    let tasks = g.len().div_ceil(ROWS_PER_TASK);
    if tasks == 1 {
        dispatch!(add_scaled_rows(alpha, x, g, c));
        return;
    }
    with_partials(tasks * width, |partials: &mut [T]| {
        let task = |(chunk, sums): (usize, &mut [T])| {
            let rows = &g[chunk * ROWS_PER_TASK..g.len().min((chunk + 1) * ROWS_PER_TASK)];
            let x = &x[chunk * ROWS_PER_TASK * width..][..rows.len() * width];
            sums.fill(T::zero());
            dispatch!(add_scaled_rows(alpha, x, rows, sums));
        };
        if parallel {
            partials.par_chunks_mut(width).enumerate().for_each(task);
        } else {
            partials.chunks_mut(width).enumerate().for_each(task);
        }
        for sums in partials.chunks(width) {
            for (ci, &s) in c.iter_mut().zip(sums) {
                *ci += s;
            }
        }
    });
}

/// `c += Σ_p (alpha · g_p) x_p`, rows in order.
#[inline(always)]
fn add_scaled_rows<T: Float>(alpha: T, x: &[T], g: &[T], c: &mut [T]) {
    for (&gp, row) in g.iter().zip(x.chunks_exact(c.len())) {
        let scale = alpha * gp;
        for (ci, &xv) in c.iter_mut().zip(row) {
            *ci += scale * xv;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn filled(rows: usize, cols: usize) -> Array2<f32> {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            ((i * 31 + j * 17) % 97) as f32 / 97.0 - 0.5
        })
    }

    fn product(parallel: bool, a: &ArrayView2<'_, f32>, b: &Array2<f32>) -> Array2<f32> {
        let mut c = Array2::from_elem((a.nrows(), 1), 0.25f32);
        assert!(matrix_vector(
            parallel,
            0.5,
            a,
            &b.view(),
            &mut c.view_mut()
        ));
        c
    }

    #[test]
    fn rows_are_plain_dot_products_whatever_the_grouping() {
        for (rows, cols) in [(1, 3), (5, 8), (7, 100), (4099, 13), (9000, 120)] {
            let x = filled(rows, cols);
            let w = filled(cols, 1);
            let c = product(true, &x.view(), &w);
            for i in 0..rows {
                let expected =
                    0.25 + 0.5 * dot(x.row(i).as_slice().unwrap(), w.as_slice().unwrap());
                assert_eq!(
                    c[[i, 0]].to_bits(),
                    expected.to_bits(),
                    "row {i} of {rows}×{cols}"
                );
            }
        }
    }

    #[test]
    fn transposed_sums_rows_in_order_per_task_and_tasks_in_order() {
        for (rows, cols) in [(1, 3), (6, 9), (4096, 7), (4097, 7), (10_000, 100)] {
            let x = filled(rows, cols);
            let g = filled(rows, 1);
            let mut expected = vec![0.25f32; cols];
            let tasks = rows.div_ceil(ROWS_PER_TASK);
            for chunk in 0..tasks {
                let mut sums = vec![0f32; cols];
                let target = if tasks == 1 { &mut expected } else { &mut sums };
                for p in chunk * ROWS_PER_TASK..rows.min((chunk + 1) * ROWS_PER_TASK) {
                    for j in 0..cols {
                        target[j] += (0.5 * g[[p, 0]]) * x[[p, j]];
                    }
                }
                if tasks > 1 {
                    expected.iter_mut().zip(&sums).for_each(|(e, s)| *e += s);
                }
            }
            for parallel in [false, true] {
                let c = product(parallel, &x.t(), &g);
                for j in 0..cols {
                    assert_eq!(
                        c[[j, 0]].to_bits(),
                        expected[j].to_bits(),
                        "{rows}×{cols} column {j}"
                    );
                }
            }
        }
    }
}
