//! A value an operation reads but does not differentiate: a node of the graph, or an
//! array borrowed from the caller and read in place.

use ndarray::ArrayViewD;

use crate::Float;
use crate::graph::{Graph, Slot, Var};

/// What an operation such as [`Graph::affine_loss`] reads without differentiating it.
///
/// A borrowed array records no node: the data of a batch are read where they lie,
/// not copied into the graph first. That is what a one-row step needs, where a node's
/// bookkeeping costs more than the arithmetic.
///
/// ```
/// use descent_autodiff::{Graph, Operand};
/// use ndarray::array;
///
/// let mut g = Graph::<f64>::new();
/// let node = g.constant(array![1.0, 2.0].into_dyn());
/// let batch = array![3.0, 4.0].into_dyn();
/// assert!(matches!(Operand::<f64>::from(node), Operand::Node(_)));
/// assert!(matches!(Operand::from(batch.view()), Operand::View(_)));
/// let rows = Operand::Slice { data: &[1.0, 2.0, 3.0, 4.0], shape: &[2, 2] };
/// assert_eq!(rows.shape(&g), &[2, 2]);
/// ```
#[derive(Clone, Debug)]
pub enum Operand<'a, T> {
    /// A node of the graph (it must not need a gradient where the operation says so).
    Node(Var),
    /// An array borrowed from the caller.
    View(ArrayViewD<'a, T>),
    /// Elements borrowed from the caller in standard (row-major) order, with their
    /// shape: what a view is, without building one (a dynamic-shape view copies its
    /// shape and strides, which on a one-row step costs more than the row). An
    /// operation refuses it where the length is not the shape's product.
    Slice {
        /// The elements.
        data: &'a [T],
        /// Their shape.
        shape: &'a [usize],
    },
}

impl<T> From<Var> for Operand<'_, T> {
    fn from(var: Var) -> Self {
        Operand::Node(var)
    }
}

impl<'a, T> From<ArrayViewD<'a, T>> for Operand<'a, T> {
    fn from(view: ArrayViewD<'a, T>) -> Self {
        Operand::View(view)
    }
}

impl<'a, T: Float> Operand<'a, T> {
    /// The operand's shape.
    pub fn shape<'s>(&'s self, graph: &'s Graph<T>) -> &'s [usize] {
        match self {
            Operand::Node(var) => graph.shape(*var),
            Operand::View(view) => view.shape(),
            Operand::Slice { shape, .. } => shape,
        }
    }

    /// Whether the operand needs a gradient (a borrowed array never does).
    pub(crate) fn requires_grad(&self, graph: &Graph<T>) -> bool {
        match self {
            Operand::Node(var) => graph.requires_grad(*var),
            Operand::View(_) | Operand::Slice { .. } => false,
        }
    }

    /// The elements in standard order, when contiguous.
    pub(crate) fn as_slice<'s>(&'s self, graph: &'s Graph<T>) -> Option<&'s [T]> {
        self.slice_in(&graph.values)
    }

    /// [`Operand::as_slice`], reading a node from `values` (a graph's slots).
    pub(crate) fn slice_in<'s>(&'s self, values: &'s [Slot<T>]) -> Option<&'s [T]> {
        match self {
            Operand::Node(var) => values[var.index()].as_slice(),
            Operand::View(view) => view.as_slice(),
            Operand::Slice { data, shape } => {
                (data.len() == shape.iter().product::<usize>()).then_some(*data)
            }
        }
    }
}
