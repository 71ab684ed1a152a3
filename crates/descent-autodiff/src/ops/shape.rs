//! Operations that move elements without arithmetic: permute/transpose, reshape,
//! concat, slice, and picking rows or elements by index.

use ndarray::Dimension;
use ndarray::{ArrayViewD, Axis, IxDyn, Slice, Zip};

use super::elementwise::put;
use super::{IndexRange, Op};
use crate::graph::{Graph, ShapeBuf, Slot};
use crate::{Float, Var};

impl<T: Float> Graph<T> {
    /// Reorders the axes: output axis `k` is input axis `axes[k]`.
    ///
    /// # Panics
    /// When `axes` is not a permutation of the input's axes (at most 8).
    pub fn permute(&mut self, x: Var, axes: &[usize]) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        let mut seen = [false; 8];
        let valid = axes.len() == shape.len()
            && axes.len() <= 8
            && axes
                .iter()
                .all(|&a| a < shape.len() && !std::mem::replace(&mut seen[a], true));
        assert!(
            valid,
            "permute: axes {axes:?} are not a permutation for shape {shape:?}"
        );
        let mut permuted = shape;
        permuted
            .iter_mut()
            .zip(axes)
            .for_each(|(p, &a)| *p = shape[a]);
        let mut out = self.output_buffer(&permuted);
        out.assign(&self.value(x).permuted_axes(IxDyn(axes)));
        let mut packed = [0u8; 8];
        axes.iter()
            .zip(&mut packed)
            .for_each(|(&a, p)| *p = a as u8);
        self.push(
            Op::Permute {
                input: x.0,
                axes: packed,
            },
            out,
        )
    }

    /// Swaps two axes.
    pub fn transpose(&mut self, x: Var, axis0: usize, axis1: usize) -> Var {
        let mut axes = ShapeBuf::new(&[0, 1, 2, 3, 4, 5, 6, 7][..self.shape(x).len()]);
        assert!(
            axis0 < axes.len() && axis1 < axes.len(),
            "transpose: axes {axis0}, {axis1} out of range for shape {:?}",
            self.shape(x)
        );
        axes.swap(axis0, axis1);
        self.permute(x, &axes)
    }

    /// The same elements in row-major order with a new shape.
    ///
    /// # Panics
    /// When the element counts differ.
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Var {
        let from = self.shape(x);
        assert_eq!(
            from.iter().product::<usize>(),
            shape.iter().product::<usize>(),
            "reshape: cannot reshape {from:?} into {shape:?}"
        );
        let mut out = self.output_buffer(shape);
        let value = self.value(x);
        let source = value.as_standard_layout();
        out.as_slice_mut()
            .expect("fresh buffer")
            .copy_from_slice(source.as_slice().expect("standard layout"));
        self.push(Op::Reshape(x.0), out)
    }

    /// Joins arrays along `axis`; all other axes must agree.
    ///
    /// # Panics
    /// When `parts` is empty or the shapes do not fit.
    pub fn concat(&mut self, parts: &[Var], axis: usize) -> Var {
        assert!(!parts.is_empty(), "concat: no arrays to join");
        let mut shape = ShapeBuf::new(self.shape(parts[0]));
        assert!(
            axis < shape.len(),
            "concat: axis {axis} out of range for shape {shape:?}"
        );
        shape[axis] = 0;
        for &part in parts {
            let s = self.shape(part);
            let fits = s.len() == shape.len()
                && s.iter()
                    .zip(shape.iter())
                    .enumerate()
                    .all(|(k, (a, b))| k == axis || a == b);
            assert!(
                fits,
                "concat: shape {s:?} does not fit {:?} along axis {axis}",
                self.shape(parts[0])
            );
            shape[axis] += s[axis];
        }
        let mut out = self.output_buffer(&shape);
        let mut offset = 0;
        for &part in parts {
            let value = self.value(part);
            let len = value.len_of(Axis(axis));
            out.slice_axis_mut(Axis(axis), Slice::from(offset..offset + len))
                .assign(&value);
            offset += len;
        }
        let start = self.indices.len();
        self.indices.extend(parts.iter().map(|p| p.index()));
        self.push(
            Op::Concat {
                inputs: IndexRange {
                    start,
                    len: parts.len(),
                },
                axis,
            },
            out,
        )
    }

    /// Elements `start, start + step, …` below `end` along `axis` (Python's
    /// `x[start:end:step]` on that axis).
    /// A contiguous slice of a parameter or input shares the caller's memory instead
    /// of copying it, and is released with it by [`Graph::release_shared`].
    ///
    /// # Panics
    /// When the axis or range is out of bounds or `step` is 0.
    pub fn slice(&mut self, x: Var, axis: usize, start: usize, end: usize, step: usize) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        assert!(
            axis < shape.len() && start <= end && end <= shape[axis] && step > 0,
            "slice: {start}..{end} step {step} on axis {axis} does not fit shape {shape:?}"
        );
        let range = Slice::new(start as isize, Some(end as isize), step as isize);
        let op = Op::Slice {
            input: x.0,
            axis,
            start,
            step,
        };
        // A contiguous slice of a shared leaf (a parameter or input) is that leaf's
        // memory: share it instead of copying.
        if let Slot::Shared(array) = &self.values[x.index()] {
            let mut view = array.clone();
            view.slice_axis_inplace(Axis(axis), range);
            if view.is_standard_layout() {
                let requires_grad = self.requires_grad[x.index()];
                return self.push_slot(op, requires_grad, Slot::Shared(view));
            }
        }
        let value = self.value(x);
        let view = value.slice_axis(Axis(axis), range);
        let view_shape = ShapeBuf::new(view.shape());
        let mut out = self.output_buffer(&view_shape);
        out.assign(&self.value(x).slice_axis(Axis(axis), range));
        self.push(op, out)
    }

    /// Rows of `x` (along axis 0) picked by `rows`, which may repeat.
    ///
    /// # Panics
    /// When an index is out of range.
    pub fn index_select(&mut self, x: Var, rows: &[usize]) -> Var {
        let mut shape = ShapeBuf::new(self.shape(x));
        assert!(
            !shape.is_empty(),
            "index_select: cannot pick rows of a scalar"
        );
        if let Some(&bad) = rows.iter().find(|&&r| r >= shape[0]) {
            panic!("index_select: row {bad} is out of range for shape {shape:?}");
        }
        shape[0] = rows.len();
        let mut out = self.output_buffer(&shape);
        let value = self.value(x);
        for (mut target, &row) in out.outer_iter_mut().zip(rows) {
            target.assign(&value.index_axis(Axis(0), row));
        }
        let start = self.indices.len();
        self.indices.extend_from_slice(rows);
        self.push(
            Op::IndexSelect {
                input: x.0,
                rows: IndexRange {
                    start,
                    len: rows.len(),
                },
            },
            out,
        )
    }

    /// `out[i, j] = x[i, index[i, j]]` for a 2-D `x` (PyTorch's `gather` on axis 1);
    /// `index` is row-major with `x`'s row count of rows and `columns` columns.
    ///
    /// # Panics
    /// When the index shape does not fit or an index is out of range.
    pub fn gather(&mut self, x: Var, index: &[usize], columns: usize) -> Var {
        let shape = ShapeBuf::new(self.shape(x));
        assert!(
            shape.len() == 2 && index.len() == shape[0] * columns,
            "gather: {} indices in rows of {columns} do not fit shape {shape:?}",
            index.len()
        );
        if let Some(&bad) = index.iter().find(|&&c| c >= shape[1]) {
            panic!("gather: index {bad} is out of range for shape {shape:?}");
        }
        let mut out = self.output_buffer(&[shape[0], columns]);
        let value = self.value(x);
        for (k, o) in out.iter_mut().enumerate() {
            *o = value[[k / columns, index[k]]];
        }
        let start = self.indices.len();
        self.indices.extend_from_slice(index);
        self.push(
            Op::Gather {
                input: x.0,
                idx: IndexRange {
                    start,
                    len: index.len(),
                },
            },
            out,
        )
    }
}

pub(crate) fn backward<T: Float>(graph: &mut Graph<T>, op: Op<T>, upstream: ArrayViewD<'_, T>) {
    let Graph {
        values,
        grads,
        requires_grad,
        indices,
        ..
    } = graph;
    match op {
        Op::Permute { input, axes } => {
            let ndim = upstream.ndim();
            let mut inverse = [0usize; 8];
            for (k, &a) in axes[..ndim].iter().enumerate() {
                inverse[a as usize] = k;
            }
            let g = upstream.permuted_axes(IxDyn(&inverse[..ndim]));
            grads.update(requires_grad, input as usize, g.shape(), |dst, assign| {
                Zip::from(dst).and(&g).for_each(|d, &g| put(d, g, assign));
            });
        }
        Op::Reshape(input) => {
            let shape = values[input as usize].view().raw_dim();
            let g = upstream
                .into_shape_with_order(shape.clone())
                .expect("gradient buffers are contiguous");
            grads.update(
                requires_grad,
                input as usize,
                shape.slice(),
                |dst, assign| {
                    Zip::from(dst).and(&g).for_each(|d, &g| put(d, g, assign));
                },
            );
        }
        Op::Concat { inputs, axis } => {
            let mut offset = 0;
            for &part in inputs.get(indices) {
                let shape = values[part].view().raw_dim();
                let len = shape[axis];
                let g = upstream.slice_axis(Axis(axis), Slice::from(offset..offset + len));
                grads.update(requires_grad, part, shape.slice(), |dst, assign| {
                    Zip::from(dst).and(&g).for_each(|d, &g| put(d, g, assign));
                });
                offset += len;
            }
        }
        Op::Slice {
            input,
            axis,
            start,
            step,
        } => {
            let shape = values[input as usize].view().raw_dim();
            let end = start + step * upstream.len_of(Axis(axis));
            grads.update(
                requires_grad,
                input as usize,
                shape.slice(),
                |mut dst, assign| {
                    // Rows of a row-major array are one contiguous block: add it directly.
                    if let (0, 1, Some(ds), Some(gs)) =
                        (axis, step, dst.as_slice_mut(), upstream.as_slice())
                    {
                        let row = shape.slice()[1..].iter().product::<usize>();
                        let (before, rest) = ds.split_at_mut(start * row);
                        let (middle, after) = rest.split_at_mut(gs.len());
                        if assign {
                            before.fill(T::zero());
                            after.fill(T::zero());
                        }
                        if assign {
                            middle.copy_from_slice(gs);
                        } else {
                            crate::wide::wide(move || {
                                crate::wide::update2(middle, gs, gs, |d, g, _| d + g)
                            });
                        }
                        return;
                    }
                    if assign {
                        dst.fill(T::zero());
                    }
                    let end = end.min(shape[axis]) as isize;
                    let range = Slice::new(start as isize, Some(end), step as isize);
                    let mut part = dst.slice_axis_mut(Axis(axis), range);
                    part += &upstream;
                },
            );
        }
        Op::IndexSelect { input, rows } => {
            let shape = values[input as usize].view().raw_dim();
            grads.update(
                requires_grad,
                input as usize,
                shape.slice(),
                |mut dst, assign| {
                    if assign {
                        dst.fill(T::zero());
                    }
                    for (g, &row) in upstream.outer_iter().zip(rows.get(indices)) {
                        let mut target = dst.index_axis_mut(Axis(0), row);
                        target += &g;
                    }
                },
            );
        }
        Op::Gather { input, idx } => {
            let shape = values[input as usize].view().raw_dim();
            let columns = upstream.shape()[1];
            grads.update(
                requires_grad,
                input as usize,
                shape.slice(),
                |mut dst, assign| {
                    if assign {
                        dst.fill(T::zero());
                    }
                    for (k, (&g, &column)) in upstream.iter().zip(idx.get(indices)).enumerate() {
                        dst[[k / columns, column]] += g;
                    }
                },
            );
        }
        _ => unreachable!("shape::backward called for {op:?}"),
    }
}
