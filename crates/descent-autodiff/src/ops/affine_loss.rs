//! An affine map followed by an elementwise loss summed over rows, `Σ_i f(x_i w + b,
//! y_i)`, as one operation that reads `x` once.
//!
//! Composed, a full-batch step of a linear model reads the data twice: `x w` forward,
//! then `xᵀ g` backward, each a pass over all of `x` from memory. Here each row's
//! contribution to the gradient is added while the row is still in cache from its dot
//! product, so the data stream from memory once per step, which halves the time of
//! memory-bound steps. The results are the bits of the composed
//! [`Graph::affine`] + [`Graph::fused`] path (see the tests).

use rayon::prelude::*;

use super::Op;
use super::elementwise::add_scaled;
use super::matvec::{PARALLEL_LEN, ROWS_PER_TASK, dot, with_partials};
use crate::graph::{Graph, Slot, same_shape};
use crate::{Float, Operand, Var};

impl<T: Float> Graph<T> {
    /// `Σ_i f(x_i · w + b, y_i).0`, divided by `mean_over` when given: the sum (or mean)
    /// over rows of an elementwise loss of a one-output affine map, where
    /// `f(prediction, target)` returns the loss and its derivative with respect to the
    /// prediction. Equal, bit for bit, to `fused(affine(x, w, b), y, [], …)` with the
    /// loss summed in `f64` in row order and each derivative divided by `mean_over`,
    /// but reads `x` once.
    ///
    /// `x` and `y` are read, never differentiated: each is a node or an array borrowed
    /// from the caller ([`Operand`]), which is read in place and records no node (the
    /// cheap way to pass a batch).
    ///
    /// Returns `None`, recording nothing, where it does not apply: `x` needs a gradient,
    /// or the shapes are not `x: [N, D]` (contiguous), `w: [D, 1]`, `b: [1]`,
    /// `y: [N, 1]` (contiguous).
    ///
    /// ```
    /// use descent_autodiff::Graph;
    /// use ndarray::array;
    ///
    /// let mut g = Graph::<f64>::new();
    /// let x = array![[1.0, 2.0], [3.0, 4.0]].into_dyn(); // borrowed: no node
    /// let y = g.constant(array![[1.0], [2.0]].into_dyn());
    /// let w = g.param_owned(array![[0.5], [0.25]].into_dyn());
    /// let b = g.param_owned(array![0.1].into_dyn());
    /// // Squared error, mean over the two rows.
    /// let squared = |p: f64, t: f64| ((p - t) * (p - t), 2.0 * (p - t));
    /// let loss = g.affine_loss(x.view(), w, b, y, Some(2), squared).unwrap();
    /// g.backward(loss);
    /// // Predictions 1.1 and 2.6: errors 0.1 and 0.6.
    /// assert!((g.scalar(loss) - (0.01 + 0.36) / 2.0).abs() < 1e-12);
    /// let db = g.grad(b).unwrap()[[0]];
    /// assert!((db - (0.2 + 1.2) / 2.0).abs() < 1e-12);
    /// ```
    pub fn affine_loss<'a>(
        &mut self,
        x: impl Into<Operand<'a, T>>,
        w: Var,
        b: Var,
        y: impl Into<Operand<'a, T>>,
        mean_over: Option<usize>,
        f: impl Fn(T, T) -> (T, T) + Sync,
    ) -> Option<Var> {
        let (x, y) = (x.into(), y.into());
        let (rows, width) = match *x.shape(self) {
            [rows, width] if rows > 0 => (rows, width),
            _ => return None,
        };
        let fits = !x.requires_grad(self)
            && same_shape(self.shape(w), &[width, 1])
            && same_shape(self.shape(b), &[1])
            && same_shape(y.shape(self), &[rows, 1])
            && x.as_slice(self).is_some()
            && y.as_slice(self).is_some()
            && self.values[w.index()].as_slice().is_some();
        if !fits {
            return None;
        }
        // One reserved slot keeps the gradients with respect to `w` and `b` (read by
        // backward) from step to step: `dw` then `db`, one buffer, so that a one-row
        // step records two nodes, not five. The per-row losses and derivatives live in
        // the graph's scratch buffers. Both nodes' values are written in their slots.
        let first = self.ops.len();
        self.ready_slot(0, &[width + 1]);
        self.ready_slot(1, &[]);
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(2 * rows, T::zero());
        let (losses, derivatives) = scratch.split_at_mut(rows);

        let parallel = self.parallel && rows * width >= PARALLEL_LEN;
        let bias = self.scalar(b);
        let (inputs, outputs) = self.values.split_at_mut(first);
        let checked = "checked contiguous";
        let rows_of = Rows {
            x: x.slice_in(inputs).expect(checked),
            y: y.slice_in(inputs).expect(checked),
            w: inputs[w.index()].as_slice().expect(checked),
            bias,
            divisor: mean_over.map(T::of_usize),
            f: &f,
        };
        let [Slot::Owned(locals), Slot::Owned(out), ..] = outputs else {
            unreachable!("slots readied above");
        };
        let fresh = "fresh buffers are contiguous";
        let (dw, db) = locals.as_slice_mut().expect(fresh).split_at_mut(width);
        rows_of.run(parallel, losses, derivatives, dw);
        let total: f64 = losses.iter().fold(0.0, |t, &l| t + l.as_f64());
        let total = mean_over.map_or(total, |count| total / count as f64);
        db[0] = derivatives.iter().fold(T::zero(), |s, &d| s + d);
        // Through slices: `fill` on a dynamic-shape array walks its shape first.
        out.as_slice_mut().expect(fresh)[0] = T::of(total);
        self.scratch = scratch;

        let locals = self.push_ready(Op::Leaf, false);
        let requires_grad = self.requires_grad[w.index()] || self.requires_grad[b.index()];
        Some(self.push_ready(
            Op::AffineLoss {
                w: w.0,
                b: b.0,
                locals: locals.0,
            },
            requires_grad,
        ))
    }
}

/// The backward pass of [`Op::AffineLoss`]: the gradients with respect to `w` and `b`
/// were computed with the value (`dw` then `db` in slot `locals`); each scales by the
/// one upstream value `g`, as a fused operation's local derivative does
/// ([`backward_fused`](super::elementwise::backward_fused)), here through slices: the
/// step of a small model is mostly such bookkeeping.
pub(crate) fn backward<T: Float>(graph: &mut Graph<T>, [w, b, locals]: [u32; 3], g: T) {
    let Graph {
        values,
        grads,
        requires_grad,
        ..
    } = graph;
    let Some(locals) = values[locals as usize].as_slice() else {
        unreachable!("the gradients of an affine loss are one owned buffer");
    };
    let (dw, db) = locals.split_at(locals.len() - 1);
    add_scaled(grads, requires_grad, w as usize, &[dw.len(), 1], dw, g);
    add_scaled(grads, requires_grad, b as usize, &[1], db, g);
}

/// One row of `x`, its target, and where its loss and derivative go.
type Row<'a, T> = (((&'a [T], &'a T), &'a mut T), &'a mut T);

/// One task's index, gradient sums, per-row losses and per-row derivatives.
type Task<'a, T> = (usize, ((&'a mut [T], &'a mut [T]), &'a mut [T]));

/// What one pass over the rows needs.
struct Rows<'a, T, F> {
    x: &'a [T],
    y: &'a [T],
    w: &'a [T],
    bias: T,
    divisor: Option<T>,
    f: &'a F,
}

impl<T: Float, F: Fn(T, T) -> (T, T) + Sync> Rows<'_, T, F> {
    /// Fills the per-row losses and derivatives and `dw = Σ_i d_i x_i`, summed in
    /// tasks of [`ROWS_PER_TASK`] rows (in order) whose sums add in order: the order
    /// of the composed path's `xᵀ g`.
    fn run(&self, parallel: bool, losses: &mut [T], derivatives: &mut [T], dw: &mut [T]) {
        let width = self.w.len();
        let tasks = self.y.len().div_ceil(ROWS_PER_TASK);
        if tasks == 1 {
            self.task(0, losses, derivatives, dw);
            return;
        }
        dw.fill(T::zero());
        with_partials(tasks * width, |partials: &mut [T]| {
            let work = |(chunk, ((sums, losses), derivatives)): Task<'_, T>| {
                self.task(chunk * ROWS_PER_TASK, losses, derivatives, sums);
            };
            if parallel {
                partials
                    .par_chunks_mut(width)
                    .zip(losses.par_chunks_mut(ROWS_PER_TASK))
                    .zip(derivatives.par_chunks_mut(ROWS_PER_TASK))
                    .enumerate()
                    .for_each(work);
            } else {
                partials
                    .chunks_mut(width)
                    .zip(losses.chunks_mut(ROWS_PER_TASK))
                    .zip(derivatives.chunks_mut(ROWS_PER_TASK))
                    .enumerate()
                    .for_each(work);
            }
            for sums in partials.chunks(width) {
                for (d, &s) in dw.iter_mut().zip(sums) {
                    *d += s;
                }
            }
        });
    }

    /// [`Rows::rows`], compiled for AVX2 where the processor has it (only the vector
    /// width changes, not the arithmetic).
    fn task(&self, first: usize, losses: &mut [T], derivatives: &mut [T], sums: &mut [T]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2 (checked just above).
            unsafe { self.rows_avx2(first, losses, derivatives, sums) };
            return;
        }
        self.rows(first, losses, derivatives, sums);
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn rows_avx2(&self, first: usize, losses: &mut [T], derivatives: &mut [T], sums: &mut [T]) {
        self.rows(first, losses, derivatives, sums);
    }

    /// One row's prediction, loss and derivative (stored); returns the row and the
    /// derivative.
    #[inline(always)]
    fn row<'r>(&self, (((row, &target), loss), derivative): Row<'r, T>) -> (&'r [T], T) {
        let prediction = dot(row, self.w) + self.bias;
        let (l, d) = (self.f)(prediction, target);
        let d = self.divisor.map_or(d, |divisor| d / divisor);
        (*loss, *derivative) = (l, d);
        (row, d)
    }

    /// The rows from `first` on, as many as `losses` holds (at least one): each row's
    /// prediction, loss and derivative, then its contribution to `sums` (overwritten:
    /// the first row's is `0 + d x`, the bits of adding it to zeros, without a pass to
    /// zero them first) while it is in cache.
    #[inline(always)]
    fn rows(&self, first: usize, losses: &mut [T], derivatives: &mut [T], sums: &mut [T]) {
        let width = self.w.len();
        let x = &self.x[first * width..(first + losses.len()) * width];
        let y = &self.y[first..first + losses.len()];
        let mut rows = x.chunks_exact(width).zip(y).zip(losses).zip(derivatives);
        if let Some((row, d)) = rows.next().map(|item| self.row(item)) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s = T::zero() + d * v;
            }
        }
        for (row, d) in rows.map(|item| self.row(item)) {
            for (s, &v) in sums.iter_mut().zip(row) {
                *s += d * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array1, Array2, ArrayD};

    fn data(rows: usize, width: usize) -> (Array2<f32>, Array2<f32>, Array2<f32>) {
        let x = Array2::from_shape_fn((rows, width), |(i, j)| {
            ((i * 37 + j * 11) % 101) as f32 / 101.0 - 0.5
        });
        let y = Array2::from_shape_fn((rows, 1), |(i, _)| ((i * 7) % 13) as f32 / 13.0);
        let w = Array2::from_shape_fn((width, 1), |(j, _)| (j as f32 * 0.37).sin());
        (x, y, w)
    }

    fn squared(p: f32, t: f32) -> (f32, f32) {
        ((p - t) * (p - t), 2.0 * (p - t))
    }

    /// Loss and gradients after a second (warm) step, by the fused op or by `affine`
    /// then `fused`.
    fn run(
        rows: usize,
        width: usize,
        fused: bool,
        parallel: bool,
    ) -> (f32, ArrayD<f32>, ArrayD<f32>) {
        let (x, y, w) = data(rows, width);
        let mut g = Graph::<f32>::new();
        g.set_parallel(parallel);
        let mut result = None;
        for _ in 0..2 {
            g.clear();
            let xv = g.constant(x.clone().into_dyn());
            let yv = g.constant(y.clone().into_dyn());
            let wv = g.param_owned(w.clone().into_dyn());
            let bv = g.param_owned(Array1::from_elem(1, 0.3f32).into_dyn());
            let loss = if fused {
                g.affine_loss(xv, wv, bv, yv, Some(rows), squared)
                    .expect("applies")
            } else {
                let p = g.affine(xv, wv, bv);
                g.fused(p, Some(yv), &[], |p, t, mut out, mut local| {
                    let ps = p.as_slice().unwrap();
                    let ts = t.unwrap();
                    let ts = ts.as_slice().unwrap();
                    let count = rows as f32;
                    let mut total = 0.0f64;
                    let ds = local.as_slice_mut().unwrap();
                    for ((d, &p), &t) in ds.iter_mut().zip(ps).zip(ts) {
                        let (l, dl) = squared(p, t);
                        total += l as f64;
                        *d = dl / count;
                    }
                    out.fill((total / rows as f64) as f32);
                })
            };
            g.backward(loss);
            result = Some((
                g.scalar(loss),
                g.grad(wv).unwrap().to_owned(),
                g.grad(bv).unwrap().to_owned(),
            ));
        }
        result.expect("two steps ran")
    }

    #[test]
    fn fused_pass_gives_the_bits_of_the_composed_path() {
        for (rows, width) in [(1, 1), (3, 5), (64, 100), (4096, 9), (10_000, 17)] {
            for parallel in [false, true] {
                let fused = run(rows, width, true, parallel);
                let composed = run(rows, width, false, parallel);
                assert_eq!(
                    fused.0.to_bits(),
                    composed.0.to_bits(),
                    "loss {rows}×{width}"
                );
                assert_eq!(fused.1, composed.1, "dw {rows}×{width}");
                assert_eq!(fused.2, composed.2, "db {rows}×{width}");
            }
        }
    }

    #[test]
    fn borrowed_operands_give_the_bits_of_nodes() {
        let (x, y, w) = data(70, 9);
        let mut results = Vec::new();
        for way in ["nodes", "views", "slices"] {
            let mut g = Graph::<f32>::new();
            let wv = g.param_owned(w.clone().into_dyn());
            let bv = g.param_owned(Array1::from_elem(1, 0.3f32).into_dyn());
            let loss = match way {
                "nodes" => {
                    let xv = g.constant(x.clone().into_dyn());
                    let yv = g.constant(y.clone().into_dyn());
                    g.affine_loss(xv, wv, bv, yv, Some(70), squared)
                }
                "views" => {
                    let (xd, yd) = (x.view().into_dyn(), y.view().into_dyn());
                    g.affine_loss(xd, wv, bv, yd, Some(70), squared)
                }
                _ => {
                    let xs = Operand::Slice {
                        data: x.as_slice().unwrap(),
                        shape: &[70, 9],
                    };
                    let ys = Operand::Slice {
                        data: y.as_slice().unwrap(),
                        shape: &[70, 1],
                    };
                    g.affine_loss(xs, wv, bv, ys, Some(70), squared)
                }
            }
            .expect("applies");
            g.backward(loss);
            results.push((
                g.scalar(loss).to_bits(),
                g.grad(wv).unwrap().to_owned(),
                g.grad(bv).unwrap().to_owned(),
            ));
        }
        assert_eq!(results[0], results[1]);
        assert_eq!(results[0], results[2]);
    }

    #[test]
    fn a_slice_that_does_not_fill_its_shape_is_refused() {
        let (x, y, w) = data(4, 3);
        let mut g = Graph::<f32>::new();
        let wv = g.param_owned(w.into_dyn());
        let bv = g.param_owned(Array1::from_elem(1, 0.0f32).into_dyn());
        let short = Operand::Slice {
            data: &x.as_slice().unwrap()[..11],
            shape: &[4, 3],
        };
        let yv = g.constant(y.into_dyn());
        assert!(g.affine_loss(short, wv, bv, yv, None, squared).is_none());
        assert_eq!(g.len(), 3, "nothing recorded");
    }

    #[test]
    fn does_not_apply_where_x_needs_a_gradient_or_shapes_differ() {
        let mut g = Graph::<f32>::new();
        let x = g.param_owned(Array2::<f32>::zeros((2, 3)).into_dyn());
        let y = g.constant(Array2::<f32>::zeros((2, 1)).into_dyn());
        let w = g.param_owned(Array2::<f32>::zeros((3, 1)).into_dyn());
        let b = g.param_owned(Array1::<f32>::zeros(1).into_dyn());
        assert!(g.affine_loss(x, w, b, y, None, squared).is_none());
        let x = g.constant(Array2::<f32>::zeros((2, 4)).into_dyn());
        assert!(g.affine_loss(x, w, b, y, None, squared).is_none());
    }
}
