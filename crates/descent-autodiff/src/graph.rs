//! The reverse-mode graph: an arena of nodes in creation order, reused from step to step.
//!
//! A [`Graph`] records each operation as it is computed (define-by-run). Nodes live
//! in a `Vec` in creation order, which is already a topological order, so
//! [`Graph::backward`] is a single reverse loop. Each node is an [`Op`](crate::Op) (a small
//! enum of input indices and attributes) plus its value; there are no reference-counted
//! nodes and no boxed closures. [`Graph::clear`] forgets the nodes but keeps every
//! buffer, so a training step that builds the same graph again allocates nothing.

use ndarray::{ArcArray, ArrayD, ArrayViewD, ArrayViewMutD, IxDyn};

use crate::Float;
use crate::ops::Op;

/// A handle to one node of a [`Graph`]: cheap to copy, valid until [`Graph::clear`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(pub(crate) u32);

impl Var {
    /// The node's position in the graph (creation order).
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// A node's forward value: owned by the graph, or shared with the caller without a copy.
#[derive(Debug)]
pub(crate) enum Slot<T> {
    Owned(ArrayD<T>),
    Shared(ArcArray<T, IxDyn>),
    /// A slot whose buffer was taken for the node being computed.
    Empty,
}

impl<T: Float> Slot<T> {
    pub(crate) fn view(&self) -> ArrayViewD<'_, T> {
        match self {
            Slot::Owned(array) => array.view(),
            Slot::Shared(array) => array.view(),
            Slot::Empty => unreachable!("a node's value is read while it is being computed"),
        }
    }

    /// The value's elements in standard order, when contiguous: no view is built (a
    /// dynamic-shape view copies its shape and strides, which on the per-step path of
    /// a small model costs more than the arithmetic).
    pub(crate) fn as_slice(&self) -> Option<&[T]> {
        match self {
            Slot::Owned(array) => array.as_slice(),
            Slot::Shared(array) => array.as_slice(),
            Slot::Empty => unreachable!("a node's value is read while it is being computed"),
        }
    }
}

/// Gradient buffers, one per node, kept across [`Graph::clear`] so they are reused.
#[derive(Debug, Default)]
pub(crate) struct Grads<T> {
    pub(crate) buffers: Vec<ArrayD<T>>,
    /// Whether `buffers[i]` holds this backward pass's gradient (else it is stale).
    pub(crate) set: Vec<bool>,
    /// An empty array that stands in for the upstream gradient while it is in use.
    pub(crate) filler: Option<ArrayD<T>>,
}

impl<T: Float> Grads<T> {
    /// Adds a contribution to node `i`'s gradient. `write` receives the destination
    /// (of the node's `shape`) and `assign`: when true the buffer holds stale data and
    /// must be overwritten rather than added to. Nodes that need no gradient are skipped.
    pub(crate) fn update(
        &mut self,
        requires_grad: &[bool],
        i: usize,
        shape: &[usize],
        write: impl FnOnce(ArrayViewMutD<'_, T>, bool),
    ) {
        if !requires_grad[i] {
            return;
        }
        let assign = self.claim(i, shape);
        write(self.buffers[i].view_mut(), assign);
    }

    /// [`Grads::update`] with the destination as a slice in standard order (gradient
    /// buffers always are), without building a view.
    pub(crate) fn update_slice(
        &mut self,
        requires_grad: &[bool],
        i: usize,
        shape: &[usize],
        write: impl FnOnce(&mut [T], bool),
    ) {
        if !requires_grad[i] {
            return;
        }
        let assign = self.claim(i, shape);
        let slice = self.buffers[i]
            .as_slice_mut()
            .expect("gradient buffers are contiguous");
        write(slice, assign);
    }

    /// Readies node `i`'s buffer for a contribution of `shape`; returns whether it
    /// held stale data (to be overwritten rather than added to).
    #[inline]
    fn claim(&mut self, i: usize, shape: &[usize]) -> bool {
        let assign = !self.set[i];
        if assign {
            if !same_shape(self.buffers[i].shape(), shape) {
                let buffer = std::mem::replace(&mut self.buffers[i], empty());
                self.buffers[i] = reshape_buffer(buffer, shape);
            }
            self.set[i] = true;
        }
        assign
    }

    /// Whether node `i` can take an upstream gradient of `shape` itself rather than a
    /// copy: it needs a gradient, has none yet in this pass, and its own buffer was
    /// sized to `shape` by an earlier step (so the swap in [`Grads::take`] hands back
    /// a buffer of the right size and a warm step still allocates nothing).
    pub(crate) fn can_take(&self, requires_grad: &[bool], i: usize, shape: &[usize]) -> bool {
        requires_grad[i] && !self.set[i] && same_shape(self.buffers[i].shape(), shape)
    }

    /// Makes `buffer` (an upstream gradient that [`Grads::can_take`] allowed) node
    /// `i`'s gradient by swapping it with `i`'s stale buffer, which `buffer` then holds.
    /// Saves a full pass over memory for every gradient that only passes through.
    pub(crate) fn take(&mut self, i: usize, buffer: &mut ArrayD<T>) {
        debug_assert!(!self.set[i] && self.buffers[i].shape() == buffer.shape());
        std::mem::swap(&mut self.buffers[i], buffer);
        self.set[i] = true;
    }
}

/// `a == b` for shapes. Slice equality calls `memcmp`, which costs more than
/// comparing the one to three axes of a shape inline; on the per-step path of small
/// batches those calls were a tenth of the time.
///
/// ```
/// assert!(descent_autodiff::same_shape(&[3, 1], &[3, 1]));
/// assert!(!descent_autodiff::same_shape(&[3, 1], &[3]));
/// ```
#[inline(always)]
pub fn same_shape(a: &[usize], b: &[usize]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut same = true;
    for (x, y) in a.iter().zip(b) {
        same &= x == y;
    }
    same
}

/// An empty array that owns no allocation.
pub(crate) fn empty<T: Float>() -> ArrayD<T> {
    ArrayD::from_shape_vec(IxDyn(&[0]), Vec::new()).expect("empty shape")
}

/// Whether `buffer` can be used as it is for an array of `shape`.
#[inline]
fn fits<T>(buffer: &ArrayD<T>, shape: &[usize]) -> bool {
    same_shape(buffer.shape(), shape) && buffer.is_standard_layout()
}

/// Reuses `buffer`'s allocation for an array of `shape` (contents unspecified: zeros
/// when the allocation grows, stale values otherwise; callers overwrite every element).
pub(crate) fn reshape_buffer<T: Float>(buffer: ArrayD<T>, shape: &[usize]) -> ArrayD<T> {
    if fits(&buffer, shape) {
        return buffer;
    }
    let len: usize = shape.iter().product();
    let (mut data, _) = buffer.into_raw_vec_and_offset();
    data.resize(len, T::zero());
    data.truncate(len);
    ArrayD::from_shape_vec(IxDyn(shape), data).expect("buffer length matches shape")
}

/// A shape copied out of the graph without allocating (at most 8 axes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ShapeBuf {
    axes: [usize; 8],
    len: usize,
}

impl ShapeBuf {
    pub(crate) fn new(shape: &[usize]) -> Self {
        assert!(
            shape.len() <= 8,
            "arrays of more than 8 axes are not supported: {shape:?}"
        );
        let mut axes = [0; 8];
        axes[..shape.len()].copy_from_slice(shape);
        ShapeBuf {
            axes,
            len: shape.len(),
        }
    }
}

impl std::ops::Deref for ShapeBuf {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        &self.axes[..self.len]
    }
}

impl std::ops::DerefMut for ShapeBuf {
    fn deref_mut(&mut self) -> &mut [usize] {
        &mut self.axes[..self.len]
    }
}

/// A reverse-mode automatic-differentiation graph over `f32` or `f64` arrays.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use ndarray::{arr1, ArcArray};
///
/// // f(w) = sum(w * w), so df/dw = 2 w.
/// let w = arr1(&[1.0_f64, -2.0, 3.0]).into_dyn().into_shared();
/// let mut graph = Graph::new();
/// let w_var = graph.param(&w);
/// let square = graph.mul(w_var, w_var);
/// let loss = graph.sum(square);
/// graph.backward(loss);
/// assert_eq!(graph.scalar(loss), 14.0);
/// assert_eq!(graph.grad(w_var).unwrap().as_slice().unwrap(), &[2.0, -4.0, 6.0]);
/// ```
///
/// # Accumulation and reset
/// [`Graph::backward`] adds into the gradients of the leaves, as PyTorch's `backward`
/// does: calling it twice (for two roots, or the same root twice) sums the gradients.
/// Gradients of intermediate nodes are not kept between calls. [`Graph::zero_grad`]
/// forgets all gradients but keeps the nodes; [`Graph::clear`] forgets nodes and
/// gradients and keeps every buffer for the next step.
#[derive(Debug)]
pub struct Graph<T: Float> {
    pub(crate) ops: Vec<Op<T>>,
    pub(crate) requires_grad: Vec<bool>,
    /// One slot per node; slots past `ops.len()` hold buffers kept for reuse.
    pub(crate) values: Vec<Slot<T>>,
    pub(crate) grads: Grads<T>,
    /// Side storage for index lists of some operations (gather, concat, max).
    pub(crate) indices: Vec<usize>,
    /// Per-row working values of an operation, kept from step to step (see
    /// [`Graph::affine_loss`]).
    pub(crate) scratch: Vec<T>,
    pub(crate) parallel: bool,
}

impl<T: Float> Default for Graph<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Element count above which elementwise work is spread over threads.
pub(crate) const PARALLEL_THRESHOLD: usize = 1 << 16;

impl<T: Float> Graph<T> {
    /// An empty graph. Large operations may use several threads; see [`Graph::set_parallel`].
    pub fn new() -> Self {
        Graph {
            ops: Vec::new(),
            requires_grad: Vec::new(),
            values: Vec::new(),
            grads: Grads::default(),
            indices: Vec::new(),
            scratch: Vec::new(),
            parallel: true,
        }
    }

    /// Turns multi-threading of large matmuls and elementwise operations on or off.
    ///
    /// Results do not depend on this setting: parallel work is split so that every
    /// element is computed by the same arithmetic in the same order. Turn it off when
    /// many graphs run side by side, one per core (as the sweep runner does).
    pub fn set_parallel(&mut self, parallel: bool) {
        self.parallel = parallel;
    }

    /// Forgets every node and gradient but keeps all buffers, so that building the
    /// same graph again allocates nothing. Shared leaves are released, so parameters
    /// can be updated in place afterwards without a copy.
    pub fn clear(&mut self) {
        self.release_shared();
        self.ops.clear();
        self.requires_grad.clear();
        self.indices.clear();
        self.grads.set.iter_mut().for_each(|set| *set = false);
    }

    /// Lets go of the leaves shared with the caller ([`Graph::param`], [`Graph::input`])
    /// and of the contiguous slices taken from them (which are views of the same
    /// memory) while keeping every gradient readable, so that an optimizer can update
    /// the parameters in place (no copy-on-write) straight from [`Graph::grad`]. The
    /// released nodes' values may not be read afterwards; [`Graph::clear`] before the
    /// next step as usual.
    ///
    /// ```
    /// use descent_autodiff::Graph;
    /// use ndarray::arr1;
    ///
    /// let mut w = arr1(&[3.0_f64]).into_dyn().into_shared();
    /// let mut graph = Graph::new();
    /// let w_var = graph.param(&w);
    /// let loss = graph.mul(w_var, w_var);
    /// graph.backward(loss);
    /// graph.release_shared();
    /// let gradient = graph.grad(w_var).unwrap();
    /// let before = w.as_ptr();
    /// w.zip_mut_with(&gradient, |w, &g| *w -= 0.25 * g); // 3 - 0.25 · 6
    /// assert_eq!((w[0], w.as_ptr()), (1.5, before)); // updated in place, not copied
    /// ```
    pub fn release_shared(&mut self) {
        for slot in &mut self.values[..self.ops.len()] {
            if matches!(slot, Slot::Shared(_)) {
                *slot = Slot::Empty;
            }
        }
    }

    /// Forgets all gradients, keeping the nodes.
    pub fn zero_grad(&mut self) {
        self.grads.set.iter_mut().for_each(|set| *set = false);
    }

    /// The number of nodes recorded since the last [`Graph::clear`].
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether no node has been recorded since the last [`Graph::clear`].
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// A trainable leaf that shares `value` with the caller (no copy): gradients are
    /// computed for it. Update the parameter after [`Graph::clear`] to avoid a copy.
    pub fn param(&mut self, value: &ArcArray<T, IxDyn>) -> Var {
        self.push_slot(Op::Leaf, true, Slot::Shared(value.clone()))
    }

    /// A leaf that takes ownership of `value` and gets gradients.
    pub fn param_owned(&mut self, value: ArrayD<T>) -> Var {
        self.push_slot(Op::Leaf, true, Slot::Owned(value))
    }

    /// A constant leaf shared with the caller (no copy), such as a full-batch data matrix.
    pub fn input(&mut self, value: &ArcArray<T, IxDyn>) -> Var {
        self.push_slot(Op::Leaf, false, Slot::Shared(value.clone()))
    }

    /// A constant leaf copied from a view into a reused buffer (a batch, a target).
    pub fn constant_view(&mut self, value: ArrayViewD<'_, T>) -> Var {
        let mut out = self.output_buffer(value.shape());
        match (out.as_slice_mut(), value.as_slice()) {
            // The usual contiguous batch: a plain copy, without `assign`'s shape walk.
            (Some(dst), Some(src)) => dst.copy_from_slice(src),
            _ => out.assign(&value),
        }
        self.push_slot(Op::Leaf, false, Slot::Owned(out))
    }

    /// A constant leaf that takes ownership of `value`.
    pub fn constant(&mut self, value: ArrayD<T>) -> Var {
        self.push_slot(Op::Leaf, false, Slot::Owned(value))
    }

    /// A constant scalar (shape `[]`).
    pub fn scalar_constant(&mut self, value: T) -> Var {
        let mut out = self.output_buffer(&[]);
        out.fill(value);
        self.push_slot(Op::Leaf, false, Slot::Owned(out))
    }

    /// The forward value of a node.
    pub fn value(&self, var: Var) -> ArrayViewD<'_, T> {
        self.values[var.index()].view()
    }

    /// The shape of a node's value.
    pub fn shape(&self, var: Var) -> &[usize] {
        match &self.values[var.index()] {
            Slot::Owned(array) => array.shape(),
            Slot::Shared(array) => array.shape(),
            Slot::Empty => unreachable!("a node's shape is read while it is being computed"),
        }
    }

    /// The value of a one-element node (such as a loss).
    ///
    /// # Panics
    /// If the node holds more than one element.
    pub fn scalar(&self, var: Var) -> T {
        if let Some(&[value]) = self.values[var.index()].as_slice() {
            return value;
        }
        let value = self.value(var);
        assert_eq!(
            value.len(),
            1,
            "scalar: node of shape {:?} is not a scalar",
            value.shape()
        );
        *value.iter().next().expect("one element")
    }

    /// Whether gradients flow to this node.
    pub fn requires_grad(&self, var: Var) -> bool {
        self.requires_grad[var.index()]
    }

    /// The gradient of a leaf (or of `root` itself) after [`Graph::backward`]; `None`
    /// when the node needs no gradient or the root does not depend on it.
    pub fn grad(&self, var: Var) -> Option<ArrayViewD<'_, T>> {
        let i = var.index();
        (i < self.ops.len() && self.grads.set[i]).then(|| self.grads.buffers[i].view())
    }

    /// [`Graph::grad`] as a slice in standard (row-major) order, without building a
    /// view: the cheap way to read a small gradient at every step.
    ///
    /// ```
    /// use descent_autodiff::Graph;
    /// use ndarray::array;
    ///
    /// let mut graph = Graph::<f64>::new();
    /// let w = graph.param_owned(array![[1.0, 2.0], [3.0, 4.0]].into_dyn());
    /// let loss = graph.sum(w);
    /// assert_eq!(graph.grad_slice(w), None); // no backward pass yet
    /// graph.backward(loss);
    /// assert_eq!(graph.grad_slice(w), Some(&[1.0, 1.0, 1.0, 1.0][..]));
    /// ```
    pub fn grad_slice(&self, var: Var) -> Option<&[T]> {
        self.grad_with_shape(var).map(|(grad, _)| grad)
    }

    /// [`Graph::grad_slice`] and the gradient's shape (its node's shape).
    ///
    /// ```
    /// use descent_autodiff::Graph;
    /// use ndarray::array;
    ///
    /// let mut graph = Graph::<f64>::new();
    /// let w = graph.param_owned(array![[1.0, 2.0, 3.0]].into_dyn());
    /// let loss = graph.sum(w);
    /// graph.backward(loss);
    /// assert_eq!(graph.grad_with_shape(w), Some((&[1.0, 1.0, 1.0][..], &[1, 3][..])));
    /// ```
    pub fn grad_with_shape(&self, var: Var) -> Option<(&[T], &[usize])> {
        let i = var.index();
        if i < self.ops.len() && self.grads.set[i] {
            let buffer = &self.grads.buffers[i];
            let grad = buffer.as_slice().expect("gradient buffers are contiguous");
            Some((grad, buffer.shape()))
        } else {
            None
        }
    }

    /// Computes d`root`/d(leaf) for every leaf that asks for gradients, seeding the
    /// root with ones (for a scalar root, the usual gradient). Leaf gradients
    /// accumulate across calls; see the type's docs.
    ///
    /// # Panics
    /// If `root` is not a node of this graph.
    pub fn backward(&mut self, root: Var) {
        let root = root.index();
        assert!(
            root < self.ops.len(),
            "backward: root {root} is not a node of this graph"
        );
        if !self.requires_grad[root] {
            return;
        }
        let shape = ShapeBuf::new(self.shape(Var(root as u32)));
        self.grads
            .update_slice(&self.requires_grad, root, &shape, |g, assign| {
                if assign {
                    g.fill(T::one());
                } else {
                    g.iter_mut().for_each(|v| *v += T::one());
                }
            });
        for i in (0..=root).rev() {
            if !self.grads.set[i] || matches!(self.ops[i], Op::Leaf) {
                continue;
            }
            if crate::ops::backward_in_place(self, i) {
                self.grads.set[i] = false;
                continue;
            }
            let filler = self.grads.filler.take().unwrap_or_else(empty);
            let mut upstream = std::mem::replace(&mut self.grads.buffers[i], filler);
            // An operation may keep `upstream` as an input's gradient and leave that
            // input's old buffer in its place; either way it returns to slot `i`.
            crate::ops::backward(self, i, &mut upstream);
            self.grads.filler = Some(std::mem::replace(&mut self.grads.buffers[i], upstream));
            // Interior gradients are not kept, so a later backward starts them afresh.
            self.grads.set[i] = false;
        }
    }

    /// Takes the buffer of the next node's slot (reused from an earlier step) shaped
    /// as `shape`; its contents are unspecified and must be overwritten.
    pub(crate) fn output_buffer(&mut self, shape: &[usize]) -> ArrayD<T> {
        self.ready_slot(0, shape);
        let i = self.ops.len();
        match std::mem::replace(&mut self.values[i], Slot::Empty) {
            Slot::Owned(buffer) => buffer,
            _ => unreachable!("ready_slot leaves an owned buffer"),
        }
    }

    /// Records a computed node; it needs gradients if any input does.
    pub(crate) fn push(&mut self, op: Op<T>, value: ArrayD<T>) -> Var {
        let mut requires_grad = false;
        op.for_each_input(&self.indices, |input| {
            requires_grad |= self.requires_grad[input]
        });
        self.push_slot(op, requires_grad, Slot::Owned(value))
    }

    pub(crate) fn push_slot(&mut self, op: Op<T>, requires_grad: bool, slot: Slot<T>) -> Var {
        let i = self.ops.len();
        if i < self.values.len() {
            self.values[i] = slot;
        } else {
            self.values.push(slot);
        }
        self.push_ready(op, requires_grad)
    }

    /// Readies the slot `ahead` places past the next node's as an owned buffer of
    /// `shape`, in place (contents unspecified): an operation then writes its value
    /// there and records it with [`Graph::push_ready`], without moving the buffer out
    /// of its slot and back, which on a one-row step costs more than the arithmetic.
    pub(crate) fn ready_slot(&mut self, ahead: usize, shape: &[usize]) {
        let i = self.ops.len() + ahead;
        if self.values.len() <= i {
            self.values.resize_with(i + 1, || Slot::Empty);
        }
        if let Slot::Owned(buffer) = &self.values[i]
            && fits(buffer, shape)
        {
            return;
        }
        let buffer = match std::mem::replace(&mut self.values[i], Slot::Empty) {
            Slot::Owned(buffer) => reshape_buffer(buffer, shape),
            _ => reshape_buffer(empty(), shape),
        };
        self.values[i] = Slot::Owned(buffer);
    }

    /// Records the next node, whose value is in its slot already.
    pub(crate) fn push_ready(&mut self, op: Op<T>, requires_grad: bool) -> Var {
        let i = self.ops.len();
        debug_assert!(i < self.values.len(), "push_ready: the slot holds no value");
        assert!(i < u32::MAX as usize, "graph: more than 2^32 nodes");
        self.ops.push(op);
        self.requires_grad.push(requires_grad);
        if i >= self.grads.buffers.len() {
            self.grads.buffers.push(empty());
            self.grads.set.push(false);
        }
        self.grads.set[i] = false;
        Var(i as u32)
    }
}
