//! What a loss compares its prediction with: real values (a graph node or a borrowed
//! array) or class indices, and their validation against the input's shape.

use descent_autodiff::{Float, Graph, Var};
use ndarray::{ArrayView1, ArrayViewD, Dimension, IxDyn};

use crate::LossError;

/// The target of a loss.
///
/// Real-valued losses (mse, bce, kl_div, ...) take [`Target::Var`] or
/// [`Target::View`] of the input's shape. Class losses (cross_entropy, nll,
/// multi_margin) take [`Target::Classes`], or real values of shape `[N]` or `[N, 1]`
/// that are whole numbers (as a data loader hands out a label column).
///
/// Targets are constants: no gradient flows to them. Conversions exist from
/// [`Var`], from array views and from slices of class indices, so a loss can be called
/// with any of them directly.
#[derive(Clone, Debug)]
pub enum Target<'a, T> {
    /// Values held by the graph, such as `graph.constant_view(batch_targets)`.
    Var(Var),
    /// Values borrowed from the caller, read in place without a copy.
    View(ArrayViewD<'a, T>),
    /// One class index per row of the input.
    Classes(&'a [usize]),
}

impl<T> From<Var> for Target<'_, T> {
    fn from(var: Var) -> Self {
        Target::Var(var)
    }
}

impl<'a, T> From<ArrayViewD<'a, T>> for Target<'a, T> {
    fn from(view: ArrayViewD<'a, T>) -> Self {
        Target::View(view)
    }
}

impl<'a, T> From<&'a [usize]> for Target<'a, T> {
    fn from(classes: &'a [usize]) -> Self {
        Target::Classes(classes)
    }
}

impl<'a, T> From<&'a Vec<usize>> for Target<'a, T> {
    fn from(classes: &'a Vec<usize>) -> Self {
        Target::Classes(classes)
    }
}

impl<'a, T, const N: usize> From<&'a [usize; N]> for Target<'a, T> {
    fn from(classes: &'a [usize; N]) -> Self {
        Target::Classes(classes)
    }
}

impl<'a, T> From<ArrayView1<'a, usize>> for Target<'a, T> {
    /// # Panics
    /// If the view is not contiguous in memory (a slice with a step).
    fn from(classes: ArrayView1<'a, usize>) -> Self {
        Target::Classes(
            classes
                .to_slice()
                .expect("class indices must be contiguous in memory"),
        )
    }
}

/// A real-valued target: a graph node, read through the fused closure's target
/// argument, or a borrowed view captured by the closure.
pub(crate) struct RealTarget<'a, T> {
    pub(crate) node: Option<Var>,
    pub(crate) view: Option<ArrayViewD<'a, T>>,
    /// Inline for up to four axes, so resolving a target allocates nothing.
    pub(crate) shape: IxDyn,
}

impl<'a, T: Float> RealTarget<'a, T> {
    /// The target values inside a fused closure, given its target argument.
    pub(crate) fn values<'v>(&'v self, from_graph: Option<ArrayViewD<'v, T>>) -> ArrayViewD<'v, T> {
        from_graph.unwrap_or_else(|| self.view.as_ref().expect("a view or a node").view())
    }
}

impl<'a, T: Float> Target<'a, T> {
    /// Resolves a real-valued target; class indices are an error.
    pub(crate) fn real(
        self,
        graph: &Graph<T>,
        loss: &'static str,
    ) -> Result<RealTarget<'a, T>, LossError> {
        match self {
            Target::Var(var) => {
                if graph.requires_grad(var) {
                    return Err(LossError::TargetRequiresGrad { loss });
                }
                Ok(RealTarget {
                    node: Some(var),
                    view: None,
                    shape: IxDyn(graph.shape(var)),
                })
            }
            Target::View(view) => Ok(RealTarget {
                node: None,
                shape: view.raw_dim(),
                view: Some(view),
            }),
            Target::Classes(_) => Err(LossError::TargetKind {
                loss,
                expected: "real-valued targets of the input's shape",
                found: "class indices",
            }),
        }
    }

    /// Resolves and validates class targets for an input of shape `[N, C]`.
    pub(crate) fn classes(
        self,
        graph: &Graph<T>,
        loss: &'static str,
        input: &[usize],
    ) -> Result<ClassTarget<'a, T>, LossError> {
        let (rows, classes) = (input[0], input[1]);
        let target_shape = |shape: &[usize]| shape.to_vec();
        let out_of_range =
            |shape: &[usize], position: usize, class: usize| LossError::ClassOutOfRange {
                loss,
                input: input.to_vec(),
                target: target_shape(shape),
                position,
                class,
                classes,
            };
        match self {
            Target::Classes(indices) => {
                if indices.len() != rows {
                    return Err(LossError::ShapeMismatch {
                        loss,
                        input: input.to_vec(),
                        target: vec![indices.len()],
                        expected: vec![rows],
                    });
                }
                if let Some((position, &class)) =
                    indices.iter().enumerate().find(|(_, c)| **c >= classes)
                {
                    return Err(out_of_range(&[indices.len()], position, class));
                }
                Ok(ClassTarget {
                    indices: Some(indices),
                    real: None,
                })
            }
            Target::Var(_) | Target::View(_) => {
                let real = self.real(graph, loss)?;
                let shape = real.shape.clone();
                if shape.slice() != [rows] && shape.slice() != [rows, 1] {
                    return Err(LossError::ShapeMismatch {
                        loss,
                        input: input.to_vec(),
                        target: shape.slice().to_vec(),
                        expected: vec![rows],
                    });
                }
                let values = match real.node {
                    Some(var) => graph.value(var),
                    None => real.values(None),
                };
                for (position, &value) in values.iter().enumerate() {
                    let v = value.as_f64();
                    if !(v >= 0.0 && v.fract() == 0.0) {
                        return Err(LossError::NotAClass {
                            loss,
                            input: input.to_vec(),
                            target: shape.slice().to_vec(),
                            position,
                            value: v,
                        });
                    }
                    if v >= classes as f64 {
                        return Err(out_of_range(shape.slice(), position, v as usize));
                    }
                }
                Ok(ClassTarget {
                    indices: None,
                    real: Some(real),
                })
            }
        }
    }
}

/// Validated class targets: a slice of indices or whole-number real values.
pub(crate) struct ClassTarget<'a, T> {
    indices: Option<&'a [usize]>,
    real: Option<RealTarget<'a, T>>,
}

impl<'a, T: Float> ClassTarget<'a, T> {
    /// The graph node holding the targets, if any (the fused operation's target).
    pub(crate) fn node(&self) -> Option<Var> {
        self.real.as_ref().and_then(|real| real.node)
    }

    /// The class of every row in order, given the fused closure's target argument.
    pub(crate) fn iter<'v>(&'v self, from_graph: Option<ArrayViewD<'v, T>>) -> ClassIter<'v, T> {
        match (&self.indices, &self.real) {
            (Some(indices), _) => ClassIter::Indices(indices.iter()),
            (None, Some(real)) => ClassIter::Values(real.values(from_graph).into_iter()),
            (None, None) => unreachable!("class targets hold indices or values"),
        }
    }
}

/// The class indices of a [`ClassTarget`], row by row.
pub(crate) enum ClassIter<'v, T> {
    Indices(std::slice::Iter<'v, usize>),
    Values(ndarray::iter::Iter<'v, T, ndarray::IxDyn>),
}

impl<T: Float> Iterator for ClassIter<'_, T> {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        match self {
            ClassIter::Indices(iter) => iter.next().copied(),
            // Validated as whole numbers in 0..C, so the conversion is exact.
            ClassIter::Values(iter) => iter.next().map(|v| v.as_f64() as usize),
        }
    }
}
