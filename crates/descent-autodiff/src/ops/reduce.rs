//! Reductions and normalisations along an axis: sum, mean, max, L2 norm, softmax,
//! log-softmax and log-sum-exp (all shifted by the maximum, so that logits of ±1000
//! give finite, exact results).

use ndarray::{ArrayViewD, Axis, IxDyn, Zip};
use ndarray::{Dimension, RemoveAxis};

use super::elementwise::put;
use super::{IndexRange, Op};
use crate::graph::{Graph, ShapeBuf};
use crate::{Float, Var};

fn check_axis(op: &str, shape: &[usize], axis: usize) {
    assert!(
        axis < shape.len(),
        "{op}: axis {axis} is out of range for shape {shape:?}"
    );
}

/// The output shape of a reduction of `shape` over `axis` (all axes for `None`).
fn reduced_shape(shape: &[usize], axis: Option<usize>, keepdim: bool) -> IxDyn {
    match (axis, keepdim) {
        (None, false) => IxDyn(&[]),
        (None, true) => IxDyn(&[1; 8][..shape.len()]),
        (Some(axis), true) => {
            let mut out = IxDyn(shape);
            out[axis] = 1;
            out
        }
        (Some(axis), false) => IxDyn(shape).remove_axis(Axis(axis)),
    }
}

/// `upstream` seen with the reduced axis kept (length 1), ready to broadcast back.
fn keepdim_view<'a, T>(
    upstream: ArrayViewD<'a, T>,
    input_ndim: usize,
    axis: Option<usize>,
) -> ArrayViewD<'a, T> {
    match axis {
        Some(axis) if upstream.ndim() < input_ndim => upstream.insert_axis(Axis(axis)),
        None if upstream.ndim() < input_ndim => upstream
            .into_shape_with_order(IxDyn(&[1; 8][..input_ndim]))
            .expect("a scalar reshapes to ones"),
        _ => upstream,
    }
}

/// Max-shifted log-sum-exp of one lane.
fn lane_logsumexp<'a, T: Float>(lane: impl IntoIterator<Item = &'a T> + Clone) -> T {
    let max = lane
        .clone()
        .into_iter()
        .fold(T::neg_infinity(), |m, &v| m.max(v));
    if max.is_infinite() {
        return max;
    }
    let sum: T = lane.into_iter().map(|&v| (v - max).exp()).sum();
    max + sum.ln()
}

impl<T: Float> Graph<T> {
    /// Sum over all elements (shape `[]`).
    pub fn sum(&mut self, x: Var) -> Var {
        self.sum_axis(x, None, false)
    }

    /// Sum over one axis (`None`: all), keeping it with length 1 when `keepdim`.
    ///
    /// # Panics
    /// When `axis` is out of range.
    pub fn sum_axis(&mut self, x: Var, axis: Option<usize>, keepdim: bool) -> Var {
        self.reduce(x, axis, keepdim, false)
    }

    /// Mean over all elements (shape `[]`).
    pub fn mean(&mut self, x: Var) -> Var {
        self.mean_axis(x, None, false)
    }

    /// Mean over one axis (`None`: all), keeping it with length 1 when `keepdim`.
    ///
    /// # Panics
    /// When `axis` is out of range.
    pub fn mean_axis(&mut self, x: Var, axis: Option<usize>, keepdim: bool) -> Var {
        self.reduce(x, axis, keepdim, true)
    }

    fn reduce(&mut self, x: Var, axis: Option<usize>, keepdim: bool, mean: bool) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        if let Some(axis) = axis {
            check_axis(if mean { "mean" } else { "sum" }, &shape, axis);
        }
        let mut out = self.output_buffer(reduced_shape(&shape, axis, keepdim).slice());
        let value = self.value(x);
        match axis {
            None => {
                let total = value.sum();
                let n = T::of_usize(value.len());
                out.fill(if mean { total / n } else { total });
            }
            Some(axis) => {
                let n = T::of_usize(shape[axis]);
                let mut target = out.view_mut();
                if keepdim {
                    target = target.index_axis_move(Axis(axis), 0);
                }
                Zip::from(&mut target)
                    .and(value.lanes(Axis(axis)))
                    .for_each(|o, lane| {
                        let total = lane.sum();
                        *o = if mean { total / n } else { total };
                    });
            }
        }
        let op = if mean {
            Op::Mean { input: x.0, axis }
        } else {
            Op::Sum { input: x.0, axis }
        };
        self.push(op, out)
    }

    /// Maximum over all elements (shape `[]`); tied maxima share the gradient evenly.
    pub fn max(&mut self, x: Var) -> Var {
        let mut out = self.output_buffer(&[]);
        out.fill(self.value(x).fold(T::neg_infinity(), |m, &v| m.max(v)));
        let argmax = IndexRange {
            start: self.indices.len(),
            len: 0,
        };
        self.push(
            Op::Max {
                input: x.0,
                axis: None,
                argmax,
            },
            out,
        )
    }

    /// Maximum along `axis` (removed, or kept with length 1 when `keepdim`); the whole
    /// gradient goes to the first maximal element, as in PyTorch.
    ///
    /// # Panics
    /// When `axis` is out of range.
    pub fn max_axis(&mut self, x: Var, axis: usize, keepdim: bool) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        check_axis("max", &shape, axis);
        let mut out = self.output_buffer(reduced_shape(&shape, Some(axis), keepdim).slice());
        let start = self.indices.len();
        let value = self.values[x.index()].view();
        let mut target = out.view_mut();
        if keepdim {
            target = target.index_axis_move(Axis(axis), 0);
        }
        let indices = &mut self.indices;
        // Lanes are visited in row-major order of the output, which backward relies on.
        Zip::from(&mut target)
            .and(value.lanes(Axis(axis)))
            .for_each(|o, lane| {
                let (mut best, mut best_value) = (0, T::neg_infinity());
                for (k, &v) in lane.iter().enumerate() {
                    if k == 0 || v > best_value {
                        best = k;
                        best_value = v;
                    }
                }
                indices.push(best);
                *o = best_value;
            });
        let argmax = IndexRange {
            start,
            len: self.indices.len() - start,
        };
        self.push(
            Op::Max {
                input: x.0,
                axis: Some(axis),
                argmax,
            },
            out,
        )
    }

    /// The positions of the maxima recorded by [`Graph::max_axis`] for node `max`,
    /// in row-major order of its output (empty for other nodes).
    pub fn argmax_of(&self, max: Var) -> &[usize] {
        match self.ops[max.index()] {
            Op::Max { argmax, .. } => argmax.get(&self.indices),
            _ => &[],
        }
    }

    /// The Euclidean norm over all elements (shape `[]`) or along an axis (removed).
    /// Its gradient at the zero vector is 0.
    ///
    /// # Panics
    /// When `axis` is out of range.
    pub fn norm(&mut self, x: Var, axis: Option<usize>) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        if let Some(axis) = axis {
            check_axis("norm", &shape, axis);
        }
        let mut out = self.output_buffer(reduced_shape(&shape, axis, false).slice());
        let value = self.value(x);
        match axis {
            None => out.fill(value.fold(T::zero(), |s, &v| s + v * v).sqrt()),
            Some(axis) => Zip::from(&mut out)
                .and(value.lanes(Axis(axis)))
                .for_each(|o, lane| *o = lane.fold(T::zero(), |s, &v| s + v * v).sqrt()),
        }
        self.push(Op::Norm { input: x.0, axis }, out)
    }

    /// Softmax along `axis`, shifted by each lane's maximum.
    pub fn softmax(&mut self, x: Var, axis: usize) -> Var {
        self.normalise(x, axis, false)
    }

    /// Log-softmax along `axis`: `x - logsumexp(x)`, exact for large logits.
    pub fn log_softmax(&mut self, x: Var, axis: usize) -> Var {
        self.normalise(x, axis, true)
    }

    fn normalise(&mut self, x: Var, axis: usize, log: bool) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        check_axis(if log { "log_softmax" } else { "softmax" }, &shape, axis);
        let mut out = self.output_buffer(&shape);
        let value = self.value(x);
        Zip::from(out.lanes_mut(Axis(axis)))
            .and(value.lanes(Axis(axis)))
            .for_each(|mut o, lane| {
                let lse = lane_logsumexp(lane.iter());
                Zip::from(&mut o).and(&lane).for_each(|o, &v| {
                    *o = if log { v - lse } else { (v - lse).exp() };
                });
            });
        let op = if log {
            Op::LogSoftmax { input: x.0, axis }
        } else {
            Op::Softmax { input: x.0, axis }
        };
        self.push(op, out)
    }

    /// `ln Σ exp(x)` along `axis`, shifted by the maximum.
    pub fn logsumexp(&mut self, x: Var, axis: usize, keepdim: bool) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        check_axis("logsumexp", &shape, axis);
        let mut out = self.output_buffer(reduced_shape(&shape, Some(axis), keepdim).slice());
        let value = self.value(x);
        let mut target = out.view_mut();
        if keepdim {
            target = target.index_axis_move(Axis(axis), 0);
        }
        Zip::from(&mut target)
            .and(value.lanes(Axis(axis)))
            .for_each(|o, lane| *o = lane_logsumexp(lane.iter()));
        self.push(Op::LogSumExp { input: x.0, axis }, out)
    }
}

pub(crate) fn backward<T: Float>(
    graph: &mut Graph<T>,
    i: usize,
    op: Op<T>,
    upstream: ArrayViewD<'_, T>,
) {
    let Graph {
        values,
        grads,
        requires_grad,
        indices,
        ..
    } = graph;
    let y = values[i].view();
    match op {
        Op::Sum { input, axis } | Op::Mean { input, axis } => {
            let x_shape = values[input as usize].view().raw_dim();
            let scale = match (op, axis) {
                (Op::Mean { .. }, Some(axis)) => T::one() / T::of_usize(x_shape[axis]),
                (Op::Mean { .. }, None) => T::one() / T::of_usize(x_shape.size()),
                _ => T::one(),
            };
            if axis.is_none() {
                let g = upstream.iter().next().copied().unwrap_or(T::zero()) * scale;
                grads.update(
                    requires_grad,
                    input as usize,
                    x_shape.slice(),
                    |mut dst, assign| {
                        if assign {
                            dst.fill(g);
                        } else {
                            dst.mapv_inplace(|d| d + g);
                        }
                    },
                );
                return;
            }
            let g = keepdim_view(upstream, x_shape.ndim(), axis);
            let g = g
                .broadcast(x_shape.clone())
                .expect("reduced shape broadcasts back");
            grads.update(
                requires_grad,
                input as usize,
                x_shape.slice(),
                |dst, assign| {
                    Zip::from(dst)
                        .and(&g)
                        .for_each(|d, &g| put(d, g * scale, assign));
                },
            );
        }
        Op::Max {
            input, axis: None, ..
        } => {
            let x = values[input as usize].view();
            let max = y.iter().next().copied().unwrap_or(T::nan());
            let ties = T::of_usize(x.iter().filter(|&&v| v == max).count());
            let g = upstream.iter().next().copied().unwrap_or(T::zero()) / ties;
            grads.update(requires_grad, input as usize, x.shape(), |dst, assign| {
                Zip::from(dst)
                    .and(&x)
                    .for_each(|d, &v| put(d, if v == max { g } else { T::zero() }, assign));
            });
        }
        Op::Max {
            input,
            axis: Some(axis),
            argmax,
        } => {
            let x_shape = values[input as usize].view().raw_dim();
            let winners = argmax.get(indices);
            let g = keepdim_view(upstream, x_shape.ndim(), Some(axis));
            let g = g.index_axis(Axis(axis), 0);
            grads.update(
                requires_grad,
                input as usize,
                x_shape.slice(),
                |mut dst, assign| {
                    if assign {
                        dst.fill(T::zero());
                    }
                    let mut k = 0;
                    Zip::from(dst.lanes_mut(Axis(axis)))
                        .and(&g)
                        .for_each(|mut lane, &g| {
                            lane[winners[k]] += g;
                            k += 1;
                        });
                },
            );
        }
        Op::Norm { input, axis } => {
            let x = values[input as usize].view();
            let g = keepdim_view(upstream, x.ndim(), axis);
            let y = keepdim_view(y, x.ndim(), axis);
            let (g, y) = (
                g.broadcast(x.raw_dim()).unwrap(),
                y.broadcast(x.raw_dim()).unwrap(),
            );
            grads.update(requires_grad, input as usize, x.shape(), |dst, assign| {
                Zip::from(dst)
                    .and(&g)
                    .and(&x)
                    .and(&y)
                    .for_each(|d, &g, &x, &y| {
                        put(
                            d,
                            if y == T::zero() { T::zero() } else { g * x / y },
                            assign,
                        )
                    });
            });
        }
        Op::Softmax { input, axis } => {
            grads.update(
                requires_grad,
                input as usize,
                y.shape(),
                |mut dst, assign| {
                    Zip::from(dst.lanes_mut(Axis(axis)))
                        .and(upstream.lanes(Axis(axis)))
                        .and(y.lanes(Axis(axis)))
                        .for_each(|mut d, g, y| {
                            let dot: T =
                                Zip::from(&g).and(&y).fold(T::zero(), |s, &g, &y| s + g * y);
                            Zip::from(&mut d)
                                .and(&g)
                                .and(&y)
                                .for_each(|d, &g, &y| put(d, y * (g - dot), assign));
                        });
                },
            );
        }
        Op::LogSoftmax { input, axis } => {
            grads.update(
                requires_grad,
                input as usize,
                y.shape(),
                |mut dst, assign| {
                    Zip::from(dst.lanes_mut(Axis(axis)))
                        .and(upstream.lanes(Axis(axis)))
                        .and(y.lanes(Axis(axis)))
                        .for_each(|mut d, g, y| {
                            let total = g.sum();
                            Zip::from(&mut d)
                                .and(&g)
                                .and(&y)
                                .for_each(|d, &g, &y| put(d, g - y.exp() * total, assign));
                        });
                },
            );
        }
        Op::LogSumExp { input, axis } => {
            let x = values[input as usize].view();
            let g = keepdim_view(upstream, x.ndim(), Some(axis));
            let y = keepdim_view(y, x.ndim(), Some(axis));
            let (g, y) = (
                g.broadcast(x.raw_dim()).unwrap(),
                y.broadcast(x.raw_dim()).unwrap(),
            );
            grads.update(requires_grad, input as usize, x.shape(), |dst, assign| {
                Zip::from(dst)
                    .and(&g)
                    .and(&x)
                    .and(&y)
                    .for_each(|d, &g, &x, &y| put(d, g * (x - y).exp(), assign));
            });
        }
        _ => unreachable!("reduce::backward called for {op:?}"),
    }
}
