//! The squared 2-norms of a step's gradients, for the history, the stopping rules
//! and clipping: in `f64`, in a fixed order, so the same bits on every run, thread
//! count and vector width.

use std::any::TypeId;

use descent_autodiff::Float;
use rayon::prelude::*;

/// Entries per chunk of a large gradient's squared norm: fixed, so that the result is
/// the same on any number of threads.
pub(super) const NORM_CHUNK: usize = 1 << 15;

/// [`squared_norm`] of each chunk of [`NORM_CHUNK`] entries, over threads when
/// `parallel`, added in order (in `partials`, reused from step to step). The norm of
/// W2b's first layer (200,704 weights) on one thread kept the other waiting for a
/// fifteenth of the step.
pub(super) fn chunked_squared_norm<T: Float>(
    slice: &[T],
    parallel: bool,
    partials: &mut Vec<f64>,
) -> f64 {
    if parallel {
        slice
            .par_chunks(NORM_CHUNK)
            .map(squared_norm)
            .collect_into_vec(partials);
    } else {
        partials.clear();
        partials.extend(slice.chunks(NORM_CHUNK).map(squared_norm));
    }
    partials.iter().sum()
}

/// The sum of squares of an array's elements in f64, over 32 independent partial
/// sums (so that the loop vectorises and four vector additions are in flight at once:
/// with eight, each waited for the one before and the norm of W2's gradients took a
/// third as long as Adam's step), added pairwise at the end (added in a line, the 32
/// sums cost a small gradient more than its squares). The order is fixed, so the
/// result is the same on every run and every vector width.
pub(super) fn squared_norm<T: Float>(slice: &[T]) -> f64 {
    #[cfg(target_arch = "x86_64")]
    {
        /// # Safety
        /// The processor must support AVX-512F.
        #[target_feature(enable = "avx512f")]
        unsafe fn avx512<T: Float>(slice: &[T]) -> f64 {
            sum_of_squares(slice)
        }
        /// # Safety
        /// The processor must support AVX2.
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T: Float>(slice: &[T]) -> f64 {
            sum_of_squares(slice)
        }
        // The partial sums fill four AVX-512 registers of f64: run at the widest
        // width the processor has (the gradients of a large layer are read at every
        // step).
        if std::arch::is_x86_feature_detected!("avx512f") {
            if TypeId::of::<T>() == TypeId::of::<f32>() {
                // SAFETY: `T` is `f32` (checked just above): the same slice, its own
                // type. The processor has AVX-512F (checked above).
                return unsafe {
                    let floats = std::slice::from_raw_parts(slice.as_ptr().cast(), slice.len());
                    sum_of_squares_f32(floats)
                };
            }
            // SAFETY: the processor has AVX-512F (checked just above).
            return unsafe { avx512(slice) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above).
            return unsafe { avx2(slice) };
        }
    }
    sum_of_squares(slice)
}

/// [`sum_of_squares`] of `f32` entries with AVX-512 intrinsics: the same 32 partial
/// sums (lane `j` of register `k` is partial sum `8k + j`), each product and sum
/// rounded as there (no fused multiply–add), the same pairwise order, so the same
/// bits, three times as fast as the compiled loop, which kept its sums in 128-bit
/// registers (the gradient norm was a tenth of a one-row step).
///
/// # Safety
/// The processor must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sum_of_squares_f32(slice: &[f32]) -> f64 {
    use std::arch::x86_64::{
        _mm_add_pd, _mm_add_sd, _mm_cvtsd_f64, _mm_unpackhi_pd, _mm256_add_pd,
        _mm256_castpd256_pd128, _mm256_extractf128_pd, _mm256_loadu_ps, _mm512_add_pd,
        _mm512_castpd512_pd256, _mm512_cvtps_pd, _mm512_extractf64x4_pd, _mm512_mul_pd,
        _mm512_setzero_pd,
    };
    let mut chunks = slice.chunks_exact(32);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum();
    if slice.len() < 32 {
        return 0.0 + tail;
    }
    let mut sums = [_mm512_setzero_pd(); 4];
    for chunk in &mut chunks {
        for (k, sum) in sums.iter_mut().enumerate() {
            // SAFETY: `chunk` holds 32 entries; this reads entries 8k..8k + 8.
            let v = _mm512_cvtps_pd(unsafe { _mm256_loadu_ps(chunk.as_ptr().add(8 * k)) });
            *sum = _mm512_add_pd(*sum, _mm512_mul_pd(v, v));
        }
    }
    // Partial sum i takes i + 16, then i + 8, i + 4, i + 2 and i + 1.
    let half = _mm512_add_pd(
        _mm512_add_pd(sums[0], sums[2]),
        _mm512_add_pd(sums[1], sums[3]),
    );
    let quarter = _mm256_add_pd(
        _mm512_castpd512_pd256(half),
        _mm512_extractf64x4_pd::<1>(half),
    );
    let eighth = _mm_add_pd(
        _mm256_castpd256_pd128(quarter),
        _mm256_extractf128_pd::<1>(quarter),
    );
    _mm_cvtsd_f64(_mm_add_sd(eighth, _mm_unpackhi_pd(eighth, eighth))) + tail
}

/// The loop of [`squared_norm`] over a slice.
#[inline(always)]
fn sum_of_squares<T: Float>(slice: &[T]) -> f64 {
    let mut chunks = slice.chunks_exact(32);
    let tail: f64 = chunks
        .remainder()
        .iter()
        .map(|v| v.as_f64() * v.as_f64())
        .sum();
    if slice.len() < 32 {
        // No partial sum would get a term (a bias, a small layer): they are zeros.
        return 0.0 + tail;
    }
    let mut lanes = [0.0f64; 32];
    for chunk in &mut chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            let v = v.as_f64();
            *lane += v * v;
        }
    }
    let mut half = lanes.len() / 2;
    while half > 0 {
        let (low, high) = lanes.split_at_mut(half);
        for (l, h) in low.iter_mut().zip(&high[..half]) {
            *l += h;
        }
        half /= 2;
    }
    lanes[0] + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length, short (no partial sum used) or long, agrees with the plain sum;
    /// an empty gradient's is +0.
    #[test]
    fn squared_norms_of_every_length_agree_with_the_plain_sum() {
        for len in [0, 1, 2, 31, 32, 33, 100, 1000] {
            let g: Vec<f32> = (0..len).map(|i| (i as f32 * 0.61).cos() - 0.2).collect();
            let norm = squared_norm(&g);
            let plain: f64 = g.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            assert!(
                (norm - plain).abs() <= 1e-14 * plain,
                "{len}: {norm} vs {plain}"
            );
            if len < 32 {
                assert_eq!(norm.to_bits(), (0.0 + plain).to_bits(), "{len}: in order");
            }
        }
        assert_eq!(squared_norm::<f64>(&[]).to_bits(), 0.0f64.to_bits());
    }

    /// A large gradient's norm is the same bits on one thread and on several, and
    /// agrees with the plain sum.
    #[test]
    fn chunked_norms_do_not_depend_on_threads() {
        let g: Vec<f32> = (0..3 * NORM_CHUNK + 17)
            .map(|i| (i as f32 * 0.37).sin() * 1e-2)
            .collect();
        let mut partials = Vec::new();
        let serial = chunked_squared_norm(&g, false, &mut partials);
        let parallel = chunked_squared_norm(&g, true, &mut partials);
        assert_eq!(serial.to_bits(), parallel.to_bits());
        let plain: f64 = g.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        assert!(
            (serial - plain).abs() <= 1e-12 * plain,
            "{serial} vs {plain}"
        );
    }

    /// The AVX-512 kernel for `f32` gives the bits of the compiled loop.
    #[test]
    #[cfg(target_arch = "x86_64")]
    fn the_f32_kernel_gives_the_bits_of_the_loop() {
        if !std::arch::is_x86_feature_detected!("avx512f") {
            return;
        }
        for len in [0, 1, 31, 32, 33, 64, 100, 257, 4096 + 5] {
            let g: Vec<f32> = (0..len).map(|i| (i as f32 * 1.37).sin() * 3e-3).collect();
            // SAFETY: the processor has AVX-512F (checked above).
            let kernel = unsafe { sum_of_squares_f32(&g) };
            assert_eq!(kernel.to_bits(), sum_of_squares(&g).to_bits(), "{len}");
        }
    }
}
