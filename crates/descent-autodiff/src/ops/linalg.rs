//! Matrix products: 2-D, batched 3-D (with a 2-D side broadcast over the batch) and
//! matrix–vector, and the affine map `x W + b` of a fully connected layer as one
//! operation. Products run on a packed, register-blocked kernel of our own (written
//! once, compiled for AVX-512 and AVX2 and chosen at run time; for `f32` on AVX-512 its
//! blocks are written with intrinsics, [`block_f32`]), split over threads by rows when
//! large; they write their result instead of zeroing and adding to it.

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
/// Columns per parallel task of a product with at most [`ROWS_PER_TASK`] rows (a
/// multiple of every panel width).
const COLS_PER_TASK: usize = 128;

/// `c = alpha · a · b (+ bias)` or `c += alpha · a · b`, as `store` says: the
/// matrix–vector loops when `b` is one column, the register-blocked kernel
/// ([`packed_gemm`]) when the rows of `c` are contiguous, split by rows of `c` (or by
/// columns, when there are few rows) over threads when large and `parallel`;
/// matrixmultiply for any other layout.
pub(crate) fn gemm<T: Float>(
    parallel: bool,
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    let work = a.nrows() * a.ncols() * b.ncols();
    if work > 0 && c.strides()[1] == 1 && b.ncols() > 1 {
        if parallel && work >= PARALLEL_WORK && a.nrows() > ROWS_PER_TASK {
            // Zipped parallel chunk iterators split only between chunks, so the rows
            // of each task stay fixed; nothing is collected, so nothing is allocated.
            c.axis_chunks_iter_mut(Axis(0), ROWS_PER_TASK)
                .into_par_iter()
                .zip(a.axis_chunks_iter(Axis(0), ROWS_PER_TASK).into_par_iter())
                .for_each(|(mut c_rows, a_rows)| {
                    packed_gemm(alpha, &a_rows, b, &mut c_rows, store);
                });
        } else if parallel && work >= PARALLEL_WORK && b.ncols() > COLS_PER_TASK {
            // Few rows (small batches): split by columns instead, as fixed.
            c.axis_chunks_iter_mut(Axis(1), COLS_PER_TASK)
                .into_par_iter()
                .zip(b.axis_chunks_iter(Axis(1), COLS_PER_TASK).into_par_iter())
                .enumerate()
                .for_each(|(task, (mut c_cols, b_cols))| {
                    let store = match store {
                        Store::Overwrite(Some(bias)) => {
                            let j0 = task * COLS_PER_TASK;
                            Store::Overwrite(Some(&bias[j0..j0 + b_cols.ncols()]))
                        }
                        other => other,
                    };
                    packed_gemm(alpha, a, &b_cols, &mut c_cols, store);
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

/// Depth of one pass over the operands: the rows of `a` a micro-kernel call reads
/// (`MR × KC`) stay in L1 cache while the panels of `b` stream past them.
const KC: usize = 256;

/// Bytes of one depth pass over all of `b` up to which the row blocks form the outer
/// loop (half of a 32–48 KiB L1 data cache, leaving room for the block of `a`).
const L1_SLICE: usize = 16 << 10;

/// Rows up to which the kernel reads `b` in place rather than packed: as many as a
/// parallel task's, so that threads splitting a product by rows do not each copy all of
/// `b` (measured: 64 rows of W2's forward product 2–4% faster in place, 128 rows 5%
/// slower).
const DIRECT_ROWS: usize = ROWS_PER_TASK;

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

/// `c (+)= alpha · a · b (+ bias)` with a register-blocked kernel: `MR × NR` sums stay
/// in registers while the inner loop runs over the depth. The kernel reads `a` in
/// place whatever its layout (when `alpha` is one), and full
/// panels of `b` in place when its rows are contiguous; anything else is first packed
/// into contiguous blocks (zero-padded), so that most products copy nothing.
///
/// Each element of `c` is one chain of multiply–adds over `p = 0, 1, …, k − 1` in
/// order, started from zero (or from `c` when accumulating) and with the bias added
/// last (a subnormal result then stored as zero), whatever the blocking, the vector
/// width, what is packed or the rows a thread gets: the same bits on every machine with
/// fused multiply–add. Where the CPU has none (x86-64 before AVX2) the chain rounds
/// after each product instead. The rows of `c` must be contiguous.
fn packed_gemm<T: Float>(
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    // Room for the padding of any row block (at most 8 rows) and panel (at most 32
    // columns) the dispatch below picks, should both operands be packed.
    let len = (a.nrows() + 8 + b.ncols() + 32) * a.ncols();
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
                by_width!(8, 4, false, space, alpha, a, b, c, store)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            // aarch64 always has fused multiply–add; elsewhere it may be a slow library call.
            by_width!(
                16,
                4,
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

/// Calls [`packed_body`] with `$rows` rows a block (`$wide_rows` for wide `f32`
/// panels) and panels `$wide` `f32` wide (half as many `f64`, the same bytes), or half
/// that when `b` is narrow enough that the wide panel would be mostly padding.
macro_rules! by_width {
    ($wide:literal, $rows:literal, $fused:expr, $space:ident, $alpha:ident, $a:ident, $b:ident, $c:ident, $store:ident) => {
        by_width!(
            $wide, $rows, $rows, $fused, $space, $alpha, $a, $b, $c, $store
        )
    };
    ($wide:literal, $rows:literal, $wide_rows:literal, $fused:expr, $space:ident, $alpha:ident, $a:ident, $b:ident, $c:ident, $store:ident) => {{
        let four = std::mem::size_of::<T>() == 4;
        let narrow = $b.ncols() <= if four { $wide / 2 } else { $wide / 4 };
        match (four, narrow) {
            (true, false) => {
                packed_body::<T, $wide_rows, $wide, { $fused }>($space, $alpha, $a, $b, $c, $store)
            }
            (true, true) | (false, false) => packed_body::<T, $rows, { $wide / 2 }, { $fused }>(
                $space, $alpha, $a, $b, $c, $store,
            ),
            (false, true) => packed_body::<T, $rows, { $wide / 4 }, { $fused }>(
                $space, $alpha, $a, $b, $c, $store,
            ),
        }
    }};
}
use by_width;

/// Panels of two vectors; blocks of six rows (twelve of the 32 vector registers hold
/// sums), eight for `f32` panels of 32, whose blocks [`block_f32`] computes with
/// intrinsics. (In the generic kernel six measured faster than four on Zen 5, by a
/// sixth to a quarter, and with eight or seven the compiler no longer kept the sums in
/// registers. Eight fill a batch of 16 and a task of 64 rows exactly, with no partial
/// block.)
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
    by_width!(32, 6, 8, true, space, alpha, a, b, c, store)
}

/// Blocks of four rows and panels of two vectors: eight of the 16 vector registers
/// hold sums.
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
    by_width!(16, 4, true, space, alpha, a, b, c, store)
}

/// Where the kernel reads one row block of `a`: row `r`'s value of depth `p` lies at
/// `first + r · row_step + p · step` (packed or column-major: `row_step` 1; row-major:
/// `step` 1).
#[derive(Clone, Copy)]
struct RowBlock<T> {
    first: *const T,
    step: isize,
    row_step: isize,
}

/// Runs the kernel over every (row block, panel) pair, [`KC`] steps of depth at a time,
/// reading `a` and `b` in place where their layout allows and packing the rest (see
/// [`packed_gemm`]).
#[inline(always)]
fn packed_body<T: Float, const MR: usize, const NR: usize, const FUSED: bool>(
    space: &mut [T],
    alpha: T,
    a: &ArrayView2<'_, T>,
    b: &ArrayView2<'_, T>,
    c: &mut ArrayViewMut2<'_, T>,
    store: Store<'_, T>,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    // Element (i, j) of a view lies at `as_ptr() + i · strides[0] + j · strides[1]`,
    // whatever the signs of the strides.
    //
    // `a` in place whatever its layout when there is nothing to scale: the kernel
    // broadcasts each of its values from memory, so `MR` rows read as fast as a packed
    // block (packing a row-major batch, the common case, cost as much as the
    // product of a narrow layer). A last, partial row block is still packed, so that the
    // kernel never reads past the end.
    let (a_rs, a_cs) = (a.strides()[0], a.strides()[1]);
    let a_direct = alpha == T::one();
    let full_blocks = if a_direct { m / MR } else { 0 };
    let b_rs = b.strides()[0];
    // A packed panel of `b` stays in L1 cache while the row blocks pass it; in place,
    // rows of `b` far apart in memory can evict each other, so only a few row blocks
    // (a small batch) read `b` in place, sparing a copy of it.
    let b_direct = b.strides()[1] == 1 && m <= DIRECT_ROWS;
    // Full panels read in place; the rest of `b` (all of it when its rows are not
    // contiguous) is packed.
    let direct_panels = if b_direct { n / NR } else { 0 };
    let j_packed = direct_panels * NR;
    let a_len = (m - full_blocks * MR).div_ceil(MR) * MR * k;
    let b_len = (n - j_packed).div_ceil(NR) * NR * k;
    let (pa, pb) = space[..a_len + b_len].split_at_mut(a_len);
    if full_blocks * MR < m {
        pack::<T, MR>(pa, alpha, &a.slice(ndarray::s![full_blocks * MR.., ..]));
    }
    if j_packed < n {
        pack::<T, NR>(pb, T::one(), &b.slice(ndarray::s![.., j_packed..]).t());
    }
    assert_eq!(c.strides()[1], 1, "rows of c are contiguous");
    let ldc = c.strides()[0];
    let cs = c.as_mut_ptr();
    let mut start = 0;
    while start < k {
        let depth = KC.min(k - start);
        let last = start + depth == k;
        let (panels, blocks) = (n.div_ceil(NR), m.div_ceil(MR));
        // Panel by panel, each panel of `b` stays in L1 cache while the row blocks of
        // `a` pass it. When this depth of all of `b` fits in L1 itself (a product of
        // little depth, as W2b's weight gradient, depth 16), row block by row block
        // instead: then `a` too is read from L1, once, rather than once per panel.
        let blocks_outer = depth * n * std::mem::size_of::<T>() <= L1_SLICE;
        let (outer, inner) = if blocks_outer {
            (blocks, panels)
        } else {
            (panels, blocks)
        };
        for (o, i) in (0..outer).flat_map(|o| (0..inner).map(move |i| (o, i))) {
            let (panel, block) = if blocks_outer { (i, o) } else { (o, i) };
            let (j0, width) = (panel * NR, NR.min(n - panel * NR));
            let (b_panel, ldb) = if panel < direct_panels {
                // SAFETY: row `start < k`, columns j0..j0 + NR <= n: inside `b`.
                let at = unsafe { b.as_ptr().offset(start as isize * b_rs + j0 as isize) };
                (at, b_rs)
            } else {
                let packed = &pb[(panel - direct_panels) * NR * k + start * NR..];
                (packed[..depth * NR].as_ptr(), NR as isize)
            };
            let (i0, rows) = (block * MR, MR.min(m - block * MR));
            let a_block = if block < full_blocks {
                // SAFETY: row i0 < m and depth `start < k`: an element of `a`.
                let first = unsafe {
                    a.as_ptr()
                        .offset(i0 as isize * a_rs + start as isize * a_cs)
                };
                RowBlock {
                    first,
                    step: a_cs,
                    row_step: a_rs,
                }
            } else {
                let packed = &pa[(block - full_blocks) * MR * k + start * MR..];
                RowBlock {
                    first: packed[..depth * MR].as_ptr(),
                    step: MR as isize,
                    row_step: 1,
                }
            };
            let bias = match store {
                Store::Overwrite(Some(bias)) if last => Some(&bias[j0..j0 + width]),
                _ => None,
            };
            let fresh = start == 0 && matches!(store, Store::Overwrite(_));
            #[cfg(target_arch = "x86_64")]
            if FUSED && NR == 32 && std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() {
                // SAFETY: `T` is `f32` (checked just above), so every pointer cast
                // below is to the same type. The reads are those of `kernel` (below):
                // a partial row block and a partial panel are packed with zero padding
                // to MR rows and NR columns. The writes cover rows i0..i0 + rows <= m
                // and columns j0..j0 + width <= n of `c`, borrowed mutably, alone.
                // Only the AVX-512 copy of this function has FUSED and NR 32.
                debug_assert!(std::arch::is_x86_feature_detected!("avx512f"));
                unsafe {
                    block_f32::<MR>(
                        RowBlock {
                            first: a_block.first.cast(),
                            step: a_block.step,
                            row_step: a_block.row_step,
                        },
                        b_panel.cast(),
                        ldb,
                        depth,
                        Target {
                            c: cs.offset(i0 as isize * ldc + j0 as isize).cast(),
                            ldc,
                            rows,
                            width,
                        },
                        Epilogue {
                            fresh,
                            last,
                            bias: bias.map(|bias| bias.as_ptr().cast()),
                        },
                    )
                };
                continue;
            }
            let mut acc = [[T::zero(); NR]; MR];
            for (r, sums) in acc.iter_mut().enumerate().take(rows) {
                if !fresh {
                    // SAFETY: row i0 + r < m, columns j0..j0 + width <= n of `c`,
                    // whose rows are contiguous (checked above).
                    let src = unsafe {
                        std::slice::from_raw_parts(
                            cs.offset((i0 + r) as isize * ldc + j0 as isize),
                            width,
                        )
                    };
                    // A full panel's length known here: moves, not a memcpy call.
                    if width == NR {
                        sums.copy_from_slice(&src[..NR]);
                    } else {
                        sums[..width].copy_from_slice(src);
                    }
                }
            }
            // SAFETY: `a_block` reads `depth` values of each of its MR rows inside `a`
            // (full block: rows i0..i0 + MR <= m, depths start..start + depth <= k) or
            // its packed copy, and `b_panel` reads `depth` rows of NR values `ldb`
            // apart inside `b` (full panel) or its packed copy, as set up above.
            unsafe { kernel::<T, MR, NR, FUSED>(a_block, b_panel, ldb, depth, &mut acc) };
            for (r, sums) in acc.iter().enumerate().take(rows) {
                // SAFETY: as for the read above; `c` is borrowed mutably, alone, and
                // a mutable view never maps two elements to one address.
                let dst = unsafe {
                    std::slice::from_raw_parts_mut(
                        cs.offset((i0 + r) as isize * ldc + j0 as isize),
                        width,
                    )
                };
                // Products of small gradients can leave the normal range: a final
                // result is stored as zero then, so that no later operation reads a
                // subnormal number.
                let done = |v: T| if last { flush_subnormal(v) } else { v };
                match bias {
                    Some(bias) => {
                        for ((d, &s), &b) in dst.iter_mut().zip(sums).zip(bias) {
                            *d = done(s + b);
                        }
                    }
                    None => {
                        for (d, &s) in dst.iter_mut().zip(sums) {
                            *d = done(s);
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
        // Depth by depth, the `W` values of one depth written together: row by row,
        // the compiler turned the strided writes into slow scatter instructions.
        for (rows, block) in x
            .axis_chunks_iter(ndarray::Axis(0), W)
            .zip(dst.chunks_exact_mut(block_len))
        {
            for (p, to) in block.chunks_exact_mut(W).enumerate() {
                for (t, &v) in to.iter_mut().zip(rows.column(p)) {
                    *t = alpha * v;
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

/// `acc += a · b` over `depth` steps: at step `p` the block reads row `r`'s value at
/// `a.first[r · a.row_step + p · a.step]` for each of its `MR` rows and the panel the
/// `NR` values at `b[p · ldb]`; the sums stay in registers.
///
/// # Safety
/// Every one of those reads must lie inside one live allocation of `T`s.
#[inline(always)]
unsafe fn kernel<T: Float, const MR: usize, const NR: usize, const FUSED: bool>(
    a: RowBlock<T>,
    b: *const T,
    ldb: isize,
    depth: usize,
    acc: &mut [[T; NR]; MR],
) {
    let mut sums = *acc;
    // SAFETY (of every `offset` below): the caller guarantees these reads are in
    // bounds; `T` alignment holds as every pointer comes from a slice or array view of
    // `T`.
    let rows: [*const T; MR] =
        std::array::from_fn(|r| unsafe { a.first.offset(r as isize * a.row_step) });
    for p in 0..depth as isize {
        let bp: &[T; NR] = unsafe { &*(b.offset(p * ldb) as *const [T; NR]) };
        let at = p * a.step;
        for (r, row) in rows.iter().enumerate() {
            let ar = unsafe { *row.offset(at) };
            for l in 0..NR {
                sums[r][l] = if FUSED {
                    ar.mul_add(bp[l], sums[r][l])
                } else {
                    sums[r][l] + ar * bp[l]
                };
            }
        }
    }
    *acc = sums;
}

/// What [`block_f32`] does around the sums: start from zero (`fresh`) or from `c`; at
/// the `last` depth pass add the `bias` (one value per column) and store subnormal
/// results as zero.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Epilogue {
    fresh: bool,
    last: bool,
    bias: Option<*const f32>,
}

/// Where [`block_f32`] writes: `rows` rows `ldc` apart of `width` values from `c`.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct Target {
    c: *mut f32,
    ldc: isize,
    rows: usize,
    width: usize,
}

/// [`kernel`] and the epilogue of [`packed_body`] for one block of up to `MR` rows and
/// 32 `f32` columns, written with AVX-512 intrinsics so that the vectors of sums stay
/// in registers from the first multiply–add to the store into `c` (a partial panel
/// through masked loads and stores; a partial row block computes its zero padding and
/// stores only its rows). In the generic code the sums went through an array on the
/// stack on the way in and out, the epilogue ran element by element, and the compiler
/// spilled the sums of blocks of more than six rows: for the depth-16 products of
/// W2b's weight gradient that was a third of the product's time. The arithmetic is
/// the generic kernel's: the same multiply–add chain per element, the bias added last,
/// the same flush of subnormal results (`|v| < f32::MIN_POSITIVE`, NaN kept).
///
/// # Safety
/// The processor must support AVX-512F and FMA; `a` and `b` must be readable as for
/// [`kernel`] with this `MR` and `NR = 32`; the target's rows must hold `width <= 32`
/// writable `f32`, and `bias` that many readable ones.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
#[inline]
unsafe fn block_f32<const MR: usize>(
    a: RowBlock<f32>,
    b: *const f32,
    ldb: isize,
    depth: usize,
    target: Target,
    epilogue: Epilogue,
) {
    use std::arch::x86_64::{
        _CMP_NLT_UQ, _mm512_abs_ps, _mm512_add_ps, _mm512_cmp_ps_mask, _mm512_fmadd_ps,
        _mm512_loadu_ps, _mm512_mask_storeu_ps, _mm512_maskz_loadu_ps, _mm512_maskz_mov_ps,
        _mm512_set1_ps, _mm512_setzero_ps,
    };
    // Lanes of the two vectors of a row that lie inside the panel's width.
    let lanes = |half: usize| {
        let n = target.width.saturating_sub(16 * half).min(16);
        ((1u32 << n) - 1) as u16
    };
    let masks = [lanes(0), lanes(1)];
    // SAFETY (of every pointer operation below): in bounds, as the caller guarantees;
    // masked-off lanes are neither read nor written.
    unsafe {
        let row = |r: usize| target.c.offset(r as isize * target.ldc);
        let mut sums = [[_mm512_setzero_ps(); 2]; MR];
        if !epilogue.fresh {
            for (r, pair) in sums.iter_mut().enumerate().take(target.rows) {
                for (half, sum) in pair.iter_mut().enumerate() {
                    *sum = _mm512_maskz_loadu_ps(masks[half], row(r).add(16 * half));
                }
            }
        }
        let rows: [*const f32; MR] =
            std::array::from_fn(|r| a.first.offset(r as isize * a.row_step));
        for p in 0..depth as isize {
            let bp = b.offset(p * ldb);
            let (b0, b1) = (_mm512_loadu_ps(bp), _mm512_loadu_ps(bp.add(16)));
            let at = p * a.step;
            for (pair, row) in sums.iter_mut().zip(&rows) {
                let ar = _mm512_set1_ps(*row.offset(at));
                pair[0] = _mm512_fmadd_ps(ar, b0, pair[0]);
                pair[1] = _mm512_fmadd_ps(ar, b1, pair[1]);
            }
        }
        let bias = epilogue.bias.map(|bias| {
            [
                _mm512_maskz_loadu_ps(masks[0], bias),
                _mm512_maskz_loadu_ps(masks[1], bias.add(16)),
            ]
        });
        let smallest = _mm512_set1_ps(f32::MIN_POSITIVE);
        for (r, pair) in sums.iter().enumerate().take(target.rows) {
            for (half, &sum) in pair.iter().enumerate() {
                let mut v = sum;
                if let Some(bias) = bias {
                    v = _mm512_add_ps(v, bias[half]);
                }
                if epilogue.last {
                    let normal = _mm512_cmp_ps_mask::<_CMP_NLT_UQ>(_mm512_abs_ps(v), smallest);
                    v = _mm512_maskz_mov_ps(normal, v);
                }
                _mm512_mask_storeu_ps(row(r).add(16 * half), masks[half], v);
            }
        }
    }
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
        filled_as(rows, cols, seed, column_major)
    }

    fn filled_as<T: Float>(rows: usize, cols: usize, seed: f64, column_major: bool) -> Array2<T> {
        let shape = (rows, cols).set_f(column_major);
        Array2::from_shape_fn(shape, |(i, j)| {
            T::of(((i as f64 * 0.37 + j as f64 * 1.13 + seed).sin() * 3.0).fract())
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
    fn chain<T: Float>(
        a: &Array2<T>,
        b: &Array2<T>,
        start: &Array2<T>,
        bias: Option<&[T]>,
    ) -> Array2<T> {
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

    fn same_bits<T: Float>(x: &ArrayView2<'_, T>, y: &Array2<T>) -> bool {
        x.shape() == y.shape()
            && x.iter()
                .zip(y)
                .all(|(x, y)| x.as_f64().to_bits() == y.as_f64().to_bits())
    }

    /// Every layout of each shape (`a` and `b` row- or column-major, so read in place or
    /// packed, with partial row blocks and panels): written with a bias, and added to,
    /// each element is the one chain of [`chain`], to the bit.
    fn assert_one_chain_per_element<T: Float>(shapes: &[(usize, usize, usize)]) {
        for &(m, k, n) in shapes {
            for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
                let a = filled_as::<T>(m, k, 0.1, a_t);
                let b = filled_as::<T>(k, n, 0.2, b_t);
                let bias: Vec<T> = (0..n).map(|j| T::of(j as f64 * 0.25 - 1.0)).collect();
                let mut c = Array2::from_elem((m, n), T::nan());
                gemm(
                    false,
                    T::one(),
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    Store::Overwrite(Some(&bias)),
                );
                let want = chain(&a, &b, &Array2::zeros((m, n)), Some(&bias));
                assert!(same_bits(&c.view(), &want), "{m}x{k}x{n} {a_t} {b_t}");
                let before = filled_as::<T>(m, n, 0.3, false);
                let mut c = before.clone();
                gemm(
                    false,
                    T::one(),
                    &a.view(),
                    &b.view(),
                    &mut c.view_mut(),
                    Store::Accumulate,
                );
                let want = chain(&a, &b, &before, None);
                assert!(same_bits(&c.view(), &want), "{m}x{k}x{n} += {a_t} {b_t}");
            }
        }
    }

    /// f32 (the widest panels) at the sizes of a small and a large batch of an MLP.
    #[test]
    fn f32_products_are_one_chain_per_element() {
        assert_one_chain_per_element::<f32>(&[
            (16, 50, 70),
            (33, 20, 64),
            (70, 40, 40),
            (128, 9, 10),
            (7, 300, 33),
        ]);
    }

    /// f32 blocks of 32-wide panels (on AVX-512, [`block_f32`]; a full block of 8 rows
    /// and a partial one of 4 here) store subnormal results as zero and keep NaN, as the
    /// generic epilogue does.
    #[test]
    fn f32_blocks_flush_subnormal_results_and_keep_nan() {
        let mut a = Array2::from_elem((12, 4), 1e-20_f32);
        a[[7, 2]] = f32::NAN;
        let b = Array2::from_elem((4, 64), 1e-20_f32);
        let bias = vec![0.0_f32; 64];
        let mut c = Array2::from_elem((12, 64), 1.0_f32);
        gemm(
            false,
            1.0,
            &a.view(),
            &b.view(),
            &mut c.view_mut(),
            Store::Overwrite(Some(&bias)),
        );
        let want = chain(&a, &b, &Array2::zeros((12, 64)), Some(&bias));
        assert!(same_bits(&c.view(), &want));
        assert_eq!(c[[0, 0]].to_bits(), 0, "4e-40 is stored as +0");
        assert!(c.row(7).iter().all(|v| v.is_nan()));
    }

    /// A result whose rows are contiguous but apart (a column slice of a wider matrix)
    /// is written in place, and nothing beside it.
    #[test]
    fn products_write_into_a_column_slice() {
        let (a, b) = (filled(40, 30, 0.4, true), filled(30, 37, 0.5, false));
        let mut wide = Array2::from_elem((40, 45), -7.0);
        gemm(
            false,
            1.0,
            &a.view(),
            &b.view(),
            &mut wide.slice_mut(ndarray::s![.., 3..40]),
            Store::Overwrite(None),
        );
        let want = chain(&a, &b, &Array2::zeros((40, 37)), None);
        assert!(same_bits(&wide.slice(ndarray::s![.., 3..40]), &want));
        assert!(wide.slice(ndarray::s![.., ..3]).iter().all(|&v| v == -7.0));
        assert!(wide.slice(ndarray::s![.., 40..]).iter().all(|&v| v == -7.0));
    }

    /// A large product with few rows is split by columns, each task with its share of
    /// the bias: the same bits as on one thread.
    #[test]
    fn products_with_few_rows_split_by_columns_give_the_same_bits() {
        for b_t in [false, true] {
            let (a, b) = (filled(16, 400, 0.6, false), filled(400, 300, 0.7, b_t));
            let bias: Vec<f64> = (0..300).map(|j| j as f64 * 0.01 - 1.0).collect();
            const { assert!(16 * 400 * 300 >= PARALLEL_WORK && 300 > COLS_PER_TASK) };
            let mut split = Array2::zeros((16, 300));
            gemm(
                true,
                1.0,
                &a.view(),
                &b.view(),
                &mut split.view_mut(),
                Store::Overwrite(Some(&bias)),
            );
            let want = chain(&a, &b, &Array2::zeros((16, 300)), Some(&bias));
            assert!(same_bits(&split.view(), &want), "{b_t}");
            let mut split = filled(16, 300, 0.8, false);
            let before = split.clone();
            gemm(
                true,
                1.0,
                &a.view(),
                &b.view(),
                &mut split.view_mut(),
                Store::Accumulate,
            );
            assert!(same_bits(&split.view(), &chain(&a, &b, &before, None)));
        }
    }

    #[test]
    fn packed_products_are_one_chain_per_element_for_every_shape_and_layout() {
        assert_one_chain_per_element::<f64>(&[
            (1, 1, 2),
            (5, 3, 7),
            (32, 64, 64),
            (33, 300, 10),
            (9, 17, 70),
            (4, 2, 33),
            (70, 40, 40),
            (40, 1, 20),
        ]);
    }

    /// `a` with neither axis contiguous (every other row and column, reversed) is read
    /// in place; scaled, it is packed: both give the one chain per element.
    #[test]
    fn strided_and_scaled_left_operands_are_one_chain_per_element() {
        let big = filled(40, 600, 0.9, false);
        let a = big.slice(ndarray::s![..;-2, ..;2]);
        let b = filled(300, 45, 0.1, true);
        for alpha in [1.0, -0.5] {
            let mut c = Array2::from_elem((20, 45), f64::NAN);
            gemm(
                false,
                alpha,
                &a,
                &b.view(),
                &mut c.view_mut(),
                Store::Overwrite(None),
            );
            let scaled = a.mapv(|v| alpha * v);
            let want = chain(&scaled, &b, &Array2::zeros((20, 45)), None);
            assert!(same_bits(&c.view(), &want), "alpha {alpha}");
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
