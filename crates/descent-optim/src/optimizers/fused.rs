//! The fused element loops every update rule runs: one pass over the parameter, its
//! gradient and its state buffers, with no temporary arrays.
//!
//! When every array is in standard (C-contiguous) layout — always the case for the state,
//! and for parameters owned by a model — the loop runs over plain slices, which the
//! compiler vectorises; where the processor has AVX-512 it runs a copy compiled for it,
//! and large arrays are split over threads in fixed chunks. Otherwise it runs through
//! `ndarray::Zip`, which pairs entries by index whatever the strides. Every entry's
//! arithmetic is the same scalar formula whatever the vector width or the thread that
//! runs it, so the bits never change.

use descent_autodiff::Float;
use ndarray::{ArrayD, ArrayViewD, ArrayViewMutD, Zip};

/// Entries per parallel task: fixed, and large enough that a task outweighs the cost of
/// handing it to another thread (Adam's update, bound by its square root and division
/// when in cache and by memory otherwise, takes about 0.2 ns an entry on AVX-512: some
/// 6 µs a task).
#[cfg(target_arch = "x86_64")]
const CHUNK: usize = 1 << 15;

/// Whether a loop over `n` entries should be split over threads: when it is large, and
/// not already running on a worker of a thread pool (a parallel sweep keeps each run on
/// one thread; nesting would only add overhead). Worker 0 is the exception: in a program
/// that called `descent_runner::join_thread_pool` it is the main thread, training one run.
#[cfg(target_arch = "x86_64")]
#[inline]
fn split(n: usize) -> bool {
    n >= 2 * CHUNK && rayon::current_thread_index().is_none_or(|i| i == 0)
}

macro_rules! fused {
    (@mut $s:ident) => { &mut T };
    (@slice $s:ident) => { &mut [T] };
    ($(#[$doc:meta])* $name:ident, $over_slices:ident; $($s:ident),*) => {
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name<T: Float>(
            p: &mut ArrayViewMutD<'_, T>,
            g: &ArrayViewD<'_, T>,
            $($s: &mut ArrayD<T>,)*
            f: impl Fn(&mut T, T, $(fused!(@mut $s)),*) + Sync,
        ) {
            if p.is_standard_layout() && g.is_standard_layout() $(&& $s.is_standard_layout())* {
                let p = p.as_slice_mut().expect("standard layout");
                let g = g.as_slice().expect("standard layout");
                $(let $s = $s.as_slice_mut().expect("standard layout");)*
                $over_slices(p, g, $($s,)* f);
            } else {
                Zip::from(p).and(g)$(.and($s))*.for_each(|p, &g, $($s),*| f(p, g, $($s),*));
            }
        }

        /// The same loop over slices in standard order, each at least as long as `p`.
        #[inline(always)]
        pub(crate) fn $over_slices<T: Float>(
            p: &mut [T],
            g: &[T],
            $($s: &mut [T],)*
            f: impl Fn(&mut T, T, $(fused!(@mut $s)),*) + Sync,
        ) {
            /// The slice loop compiled for AVX-512, split in halves at multiples of
            /// [`CHUNK`] while large (where `parallel`): the split depends on the
            /// length alone.
            #[cfg(target_arch = "x86_64")]
            fn slices<T: Float>(
                p: &mut [T],
                g: &[T],
                $($s: fused!(@slice $s),)*
                f: &(impl Fn(&mut T, T, $(fused!(@mut $s)),*) + Sync),
                parallel: bool,
            ) {
                let n = p.len();
                if parallel && n >= 2 * CHUNK {
                    let mid = n.div_ceil(CHUNK) / 2 * CHUNK;
                    let (p0, p1) = p.split_at_mut(mid);
                    let (g0, g1) = g.split_at(mid);
                    $(let $s = $s.split_at_mut(mid);)*
                    rayon::join(
                        || slices(p0, g0, $($s.0,)* f, true),
                        || slices(p1, g1, $($s.1,)* f, true),
                    );
                } else {
                    // SAFETY: only called where the processor has AVX-512F.
                    unsafe { avx512(p, g, $($s,)* f) };
                }
            }
            /// The loop, compiled for AVX-512. Wider vectors change only how many
            /// entries one instruction handles: Rust never contracts a multiply and an
            /// add into one fused operation nor reorders floating-point arithmetic, so
            /// every entry gets the same bits. The slices are arguments (not captures
            /// of a closure), so that the compiler knows they do not overlap.
            ///
            /// # Safety
            /// The processor must support AVX-512F.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            unsafe fn avx512<T: Float>(
                p: &mut [T],
                g: &[T],
                $($s: fused!(@slice $s),)*
                f: &impl Fn(&mut T, T, $(fused!(@mut $s)),*),
            ) {
                let n = p.len();
                let g = &g[..n];
                $(let $s = &mut $s[..n];)*
                for i in 0..n {
                    f(&mut p[i], g[i], $(&mut $s[i]),*);
                }
            }
            let n = p.len();
            let g = &g[..n];
            $(let $s = &mut $s[..n];)*
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx512f") {
                slices(p, g, $($s,)* &f, split(n));
                return;
            }
            // Elsewhere the baseline build, inlined here (AVX2 copies of some rules'
            // loops, Adam's among them, were left unvectorised by LLVM: slower than
            // SSE2) and on one thread.
            for i in 0..n {
                f(&mut p[i], g[i], $(&mut $s[i]),*);
            }
        }
    };
}
fused!(
    /// `f(p, g)` for every entry.
    fused0, fused0_slices;
);
fused!(
    /// `f(p, g, a)` for every entry.
    fused1, fused1_slices; a
);
fused!(
    /// `f(p, g, a, b)` for every entry.
    fused2, fused2_slices; a, b
);
fused!(
    /// `f(p, g, a, b, c)` for every entry.
    fused3, fused3_slices; a, b, c
);
