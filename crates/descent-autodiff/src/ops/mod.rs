//! Operations as data: the [`Op`] enum recorded per node, and the backward dispatch.
//!
//! Each family keeps its forward constructors (as methods on [`Graph`]) and its
//! vector–Jacobian products together: [`elementwise`], [`reduce`], [`linalg`],
//! [`shape`].

pub(crate) mod affine_loss;
pub(crate) mod elementwise;
pub(crate) mod linalg;
pub(crate) mod matvec;
pub(crate) mod reduce;
pub(crate) mod shape;

pub use elementwise::{Binary, Unary};

use ndarray::ArrayD;

use crate::Float;
use crate::graph::Graph;

/// A range of [`Graph`]'s side storage of indices.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexRange {
    pub(crate) start: usize,
    pub(crate) len: usize,
}

impl IndexRange {
    pub(crate) fn get(self, indices: &[usize]) -> &[usize] {
        &indices[self.start..self.start + self.len]
    }
}

/// One recorded operation: its inputs (node indices) and attributes.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Op<T> {
    /// A parameter, input or constant.
    Leaf,
    Unary(u32, Unary<T>),
    Binary(u32, u32, Binary),
    Where {
        mask: u32,
        a: u32,
        b: u32,
    },
    Matmul(u32, u32),
    /// `x W + b` with the bias broadcast over rows.
    Affine {
        x: u32,
        w: u32,
        b: u32,
    },
    Permute {
        input: u32,
        axes: [u8; 8],
    },
    Reshape(u32),
    /// Concatenation of the nodes listed in `inputs` along `axis`.
    Concat {
        inputs: IndexRange,
        axis: usize,
    },
    Slice {
        input: u32,
        axis: usize,
        start: usize,
        step: usize,
    },
    /// Rows (along axis 0) picked by index.
    IndexSelect {
        input: u32,
        rows: IndexRange,
    },
    /// `out[i, j] = x[i, idx[i, j]]` for 2-D `x`.
    Gather {
        input: u32,
        idx: IndexRange,
    },
    Sum {
        input: u32,
        axis: Option<usize>,
    },
    Mean {
        input: u32,
        axis: Option<usize>,
    },
    /// Maximum; along an axis `argmax` holds the winning positions.
    Max {
        input: u32,
        axis: Option<usize>,
        argmax: IndexRange,
    },
    Softmax {
        input: u32,
        axis: usize,
    },
    LogSoftmax {
        input: u32,
        axis: usize,
    },
    LogSumExp {
        input: u32,
        axis: usize,
    },
    Norm {
        input: u32,
        axis: Option<usize>,
    },
    /// A fused operation whose local derivative was computed with its value:
    /// `grad_input += local ⊙ upstream` (upstream broadcast over trailing axes).
    Fused {
        input: u32,
        local: u32,
    },
    /// An affine map and an elementwise loss summed over rows, whose gradients with
    /// respect to `w` and `b` were computed with its value (`dw` then `db`, in slot
    /// `locals`).
    AffineLoss {
        w: u32,
        b: u32,
        locals: u32,
    },
}

impl<T: Copy> Op<T> {
    /// Calls `visit` with every node this operation reads.
    pub(crate) fn for_each_input(&self, indices: &[usize], mut visit: impl FnMut(usize)) {
        match *self {
            Op::Leaf => {}
            Op::Unary(a, _)
            | Op::Permute { input: a, .. }
            | Op::Reshape(a)
            | Op::Slice { input: a, .. }
            | Op::IndexSelect { input: a, .. }
            | Op::Gather { input: a, .. }
            | Op::Sum { input: a, .. }
            | Op::Mean { input: a, .. }
            | Op::Max { input: a, .. }
            | Op::Softmax { input: a, .. }
            | Op::LogSoftmax { input: a, .. }
            | Op::LogSumExp { input: a, .. }
            | Op::Norm { input: a, .. }
            | Op::Fused { input: a, .. } => visit(a as usize),
            Op::Binary(a, b, _) | Op::Matmul(a, b) | Op::Where { a, b, .. } => {
                visit(a as usize);
                visit(b as usize);
            }
            Op::AffineLoss { w, b, .. } => {
                visit(w as usize);
                visit(b as usize);
            }
            Op::Affine { x, w, b } => {
                visit(x as usize);
                visit(w as usize);
                visit(b as usize);
            }
            Op::Concat { inputs, .. } => inputs.get(indices).iter().for_each(|&i| visit(i)),
        }
    }
}

/// Propagates node `i`'s gradient to its inputs where the operation reads it in place
/// (a scalar whose inputs' gradients were computed with its value): moving the buffer
/// out of its slot and back, as [`backward`] does, costs more than a one-row step's
/// arithmetic. `false`, with nothing done, for the other operations.
pub(crate) fn backward_in_place<T: Float>(graph: &mut Graph<T>, i: usize) -> bool {
    let Op::AffineLoss { w, b, locals } = graph.ops[i] else {
        return false;
    };
    let &[g] = graph.grads.buffers[i]
        .as_slice()
        .expect("gradient buffers are contiguous")
    else {
        unreachable!("an affine loss is a scalar");
    };
    affine_loss::backward(graph, [w, b, locals], g);
    true
}

/// Propagates `upstream` (the gradient of node `i`) to node `i`'s inputs. Elementwise
/// operations may swap `upstream` into an input's gradient slot instead of copying it
/// (see [`Grads::take`](crate::graph::Grads::take)).
pub(crate) fn backward<T: Float>(graph: &mut Graph<T>, i: usize, upstream: &mut ArrayD<T>) {
    let op = graph.ops[i];
    match op {
        Op::Leaf => {}
        Op::Unary(a, unary) => elementwise::backward_unary(graph, i, a, unary, upstream),
        Op::Binary(a, b, binary) => elementwise::backward_binary(graph, a, b, binary, upstream),
        Op::Where { mask, a, b } => elementwise::backward_where(graph, mask, a, b, upstream.view()),
        Op::Fused { input, local } => {
            elementwise::backward_fused(graph, input, local, upstream.view())
        }
        Op::Matmul(a, b) => linalg::backward_matmul(graph, a, b, upstream.view()),
        Op::Affine { x, w, b } => linalg::backward_affine(graph, x, w, b, upstream.view()),
        Op::AffineLoss { .. } => unreachable!("read in place: see backward_in_place"),
        Op::Permute { .. }
        | Op::Reshape(_)
        | Op::Concat { .. }
        | Op::Slice { .. }
        | Op::IndexSelect { .. }
        | Op::Gather { .. } => shape::backward(graph, op, upstream.view()),
        Op::Sum { .. }
        | Op::Mean { .. }
        | Op::Max { .. }
        | Op::Softmax { .. }
        | Op::LogSoftmax { .. }
        | Op::LogSumExp { .. }
        | Op::Norm { .. } => reduce::backward(graph, i, op, upstream.view()),
    }
}
