//! Wider vectors for the hot elementwise loops, chosen at run time.
//!
//! The crate is compiled for the baseline x86-64 (SSE2: two `f64` per instruction),
//! so that one binary runs everywhere. [`wide`] compiles a kernel a second time with
//! AVX2 (four `f64`, eight `f32`) and runs that copy where the processor has it. Only
//! the width changes: AVX2 alone brings no fused multiply-add, and the compiler never
//! reorders floating-point arithmetic, so every element gets the same bits anywhere.
//!
//! A kernel passes its slices to the loops below as arguments (not as captures of a
//! closure), so that, inlined, the compiler still knows they do not overlap.

/// Runs `kernel`, compiled for AVX2 where the processor supports it. The kernel is
/// inlined whole into that copy: match on an operation inside it, not outside, so
/// that each arm's loop is compiled for one known operation.
#[inline(always)]
pub(crate) fn wide<R>(kernel: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2 (checked just above).
        return unsafe { with_avx2(kernel) };
    }
    kernel()
}

/// # Safety
/// The processor must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn with_avx2<R>(kernel: impl FnOnce() -> R) -> R {
    kernel()
}

/// `out[i] = f(xs[i])`.
#[inline(always)]
pub(crate) fn map1<T: Copy>(out: &mut [T], xs: &[T], f: impl Fn(T) -> T) {
    let xs = &xs[..out.len()];
    for i in 0..out.len() {
        out[i] = f(xs[i]);
    }
}

/// `out[i] = f(xs[i], ys[i])`.
#[inline(always)]
pub(crate) fn map2<T: Copy>(out: &mut [T], xs: &[T], ys: &[T], f: impl Fn(T, T) -> T) {
    let n = out.len();
    let (xs, ys) = (&xs[..n], &ys[..n]);
    for i in 0..n {
        out[i] = f(xs[i], ys[i]);
    }
}

/// `out[i] = f(gs[i], xs[i], ys[i])`.
#[inline(always)]
pub(crate) fn map3<T: Copy>(out: &mut [T], gs: &[T], xs: &[T], ys: &[T], f: impl Fn(T, T, T) -> T) {
    let n = out.len();
    let (gs, xs, ys) = (&gs[..n], &xs[..n], &ys[..n]);
    for i in 0..n {
        out[i] = f(gs[i], xs[i], ys[i]);
    }
}

/// `out[i] = f(out[i], xs[i], ys[i])`: a gradient transformed where it lies.
#[inline(always)]
pub(crate) fn update2<T: Copy>(out: &mut [T], xs: &[T], ys: &[T], f: impl Fn(T, T, T) -> T) {
    let n = out.len();
    let (xs, ys) = (&xs[..n], &ys[..n]);
    for i in 0..n {
        out[i] = f(out[i], xs[i], ys[i]);
    }
}

/// `out[i] = f(out[i], gs[i], xs[i], ys[i])`: a contribution added to a gradient.
#[inline(always)]
pub(crate) fn update3<T: Copy>(
    out: &mut [T],
    gs: &[T],
    xs: &[T],
    ys: &[T],
    f: impl Fn(T, T, T, T) -> T,
) {
    let n = out.len();
    let (gs, xs, ys) = (&gs[..n], &xs[..n], &ys[..n]);
    for i in 0..n {
        out[i] = f(out[i], gs[i], xs[i], ys[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(n: usize, seed: f64) -> Vec<f64> {
        (0..n)
            .map(|i| ((i as f64 + seed) * 0.731).sin() * 3.0)
            .collect()
    }

    /// The wide copy of a kernel gives exactly the bits of the baseline one.
    #[test]
    fn wide_loops_give_the_baseline_bits() {
        let (n, xs, ys) = (1003, inputs(1003, 0.0), inputs(1003, 7.0));
        let f = |g: f64, x: f64, y: f64| g * (x * y - x / (y + 4.0)) + 0.1 * (1.0 - x * x);
        let run = |widen: bool| {
            let mut outs = vec![vec![0.0; n]; 4];
            let kernel = |outs: &mut Vec<Vec<f64>>| {
                map1(&mut outs[0], &xs, |x| x.tanh() * x - 0.5 * x);
                map2(&mut outs[1], &xs, &ys, |x, y| x * y - x / (y + 4.0));
                map3(&mut outs[2], &ys, &xs, &ys, f);
                outs[3].copy_from_slice(&ys);
                update2(&mut outs[3], &xs, &ys, f);
                update3(&mut outs[3], &xs, &xs, &ys, |d, g, x, y| d + f(g, x, y));
            };
            if widen {
                wide(|| kernel(&mut outs));
            } else {
                kernel(&mut outs);
            }
            outs.concat()
                .iter()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(true), run(false));
    }
}
