//! Regression losses on real-valued targets of the input's shape: mean squared error,
//! L1, Huber and smooth L1.

use descent_autodiff::{Float, Graph, Operand, Var};
use serde::{Deserialize, Serialize};

use crate::reduction::{Reduce, elementwise};
use crate::{LossError, Reduction, Target};

/// `sign(e)`, with `sign(0) = 0` as PyTorch's L1 gradient.
#[inline]
pub(crate) fn sign<T: Float>(e: T) -> T {
    if e > T::zero() {
        T::one()
    } else if e < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

/// Mean squared error, PyTorch's `mse_loss`: `l = (x − y)²`, gradient `2(x − y)`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{Mse, Reduction};
/// use ndarray::arr1;
///
/// let mut graph = Graph::<f64>::new();
/// let x = graph.param_owned(arr1(&[1.0, 2.0]).into_dyn());
/// let y = arr1(&[0.0, 4.0]).into_dyn();
/// // mean((1 − 0)², (2 − 4)²) = 5 / 2
/// let loss = Mse::new(Reduction::Mean).apply(&mut graph, x, y.view())?;
/// graph.backward(loss);
/// assert_eq!(graph.scalar(loss), 2.5);
/// assert_eq!(graph.grad(x).unwrap().as_slice().unwrap(), &[1.0, -2.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mse {
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl Mse {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "mse";

    /// Mean squared error with the given reduction.
    pub fn new(reduction: Reduction) -> Self {
        Mse { reduction }
    }

    /// The loss of `input` against `target` (same shape) as a graph node.
    ///
    /// # Errors
    /// [`LossError::ShapeMismatch`] when the shapes differ (there is no broadcasting),
    /// [`LossError::TargetKind`] for class indices and
    /// [`LossError::TargetRequiresGrad`] for a target that asks for a gradient.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let two = T::of(2.0);
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(
            graph,
            Self::NAME,
            input,
            target.into(),
            None,
            reduce,
            |x, y, _| {
                let e = x - y;
                (e * e, two * e)
            },
        )
    }

    /// The loss of the predictions `x w + b` (one output) against `target`, in one pass
    /// over `x` ([`Graph::affine_loss`]), with the bits of
    /// `apply(graph, graph.affine(x, w, b), target)`. `None` where that operation does
    /// not apply (see there) or the reduction is [`Reduction::None`]; the caller then
    /// composes the two. `x` and `target` are nodes or arrays read in place
    /// ([`Operand`]): no node is recorded for the latter.
    ///
    /// # Errors
    /// [`LossError::TargetRequiresGrad`] for a target that asks for a gradient.
    pub fn apply_affine<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        x: impl Into<Operand<'a, T>>,
        [w, b]: [Var; 2],
        target: impl Into<Operand<'a, T>>,
    ) -> Result<Option<Var>, LossError> {
        let x = x.into();
        let mean_over = match self.reduction {
            Reduction::Mean => Some(x.shape(graph).first().copied().unwrap_or(0)),
            Reduction::Sum => None,
            Reduction::None => return Ok(None),
        };
        let y = target.into();
        if let Operand::Node(var) = y
            && graph.requires_grad(var)
        {
            return Err(LossError::TargetRequiresGrad { loss: Self::NAME });
        }
        let two = T::of(2.0);
        Ok(graph.affine_loss(x, w, b, y, mean_over, |p, t| {
            let e = p - t;
            (e * e, two * e)
        }))
    }
}

/// Mean absolute error, PyTorch's `l1_loss`: `l = |x − y|`, gradient `sign(x − y)`
/// (0 where they are equal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct L1 {
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl L1 {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "l1";

    /// L1 loss with the given reduction.
    pub fn new(reduction: Reduction) -> Self {
        L1 { reduction }
    }

    /// The loss of `input` against `target` (same shape) as a graph node.
    ///
    /// # Errors
    /// As [`Mse::apply`].
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(
            graph,
            Self::NAME,
            input,
            target.into(),
            None,
            reduce,
            |x, y, _| {
                let e = x - y;
                (e.abs(), sign(e))
            },
        )
    }
}

/// Huber loss, PyTorch's `huber_loss`: with `e = x − y`, `l = e²/2` where
/// `|e| < delta`, else `delta·(|e| − delta/2)`; gradient `e`, else `delta·sign(e)`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{Huber, Reduction};
/// use ndarray::arr1;
///
/// let mut graph = Graph::<f64>::new();
/// let x = graph.param_owned(arr1(&[0.5, 3.0]).into_dyn());
/// let y = graph.constant(arr1(&[0.0, 0.0]).into_dyn());
/// // 0.5·0.5² + 1·(3 − 0.5) = 0.125 + 2.5
/// let loss = Huber { delta: 1.0, reduction: Reduction::Sum }.apply(&mut graph, x, y)?;
/// graph.backward(loss);
/// assert_eq!(graph.scalar(loss), 2.625);
/// assert_eq!(graph.grad(x).unwrap().as_slice().unwrap(), &[0.5, 1.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Huber {
    /// Where the loss turns from quadratic to linear; must be positive (default 1).
    pub delta: f64,
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl Default for Huber {
    fn default() -> Self {
        Huber {
            delta: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl Huber {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "huber";

    /// Checks the hyperparameters.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] unless `delta > 0`.
    pub fn validate(&self) -> Result<(), LossError> {
        positive(Self::NAME, "delta", self.delta)
    }

    /// The loss of `input` against `target` (same shape) as a graph node.
    ///
    /// # Errors
    /// As [`Mse::apply`], and [`Huber::validate`]'s.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        self.validate()?;
        let (delta, half) = (T::of(self.delta), T::of(0.5));
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(
            graph,
            Self::NAME,
            input,
            target.into(),
            None,
            reduce,
            |x, y, _| {
                let e = x - y;
                if e.abs() < delta {
                    (half * e * e, e)
                } else {
                    (delta * (e.abs() - half * delta), delta * sign(e))
                }
            },
        )
    }
}

/// Smooth L1 loss, PyTorch's `smooth_l1_loss`: with `e = x − y`, `l = e²/(2·beta)`
/// where `|e| < beta`, else `|e| − beta/2`; gradient `e/beta`, else `sign(e)`.
/// `beta = 0` gives the L1 loss. Huber with `delta = beta` equals `beta` times this.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmoothL1 {
    /// Where the loss turns from quadratic to linear; must not be negative (default 1).
    pub beta: f64,
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl Default for SmoothL1 {
    fn default() -> Self {
        SmoothL1 {
            beta: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl SmoothL1 {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "smooth_l1";

    /// Checks the hyperparameters.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] unless `beta >= 0`.
    pub fn validate(&self) -> Result<(), LossError> {
        if self.beta >= 0.0 && self.beta.is_finite() {
            Ok(())
        } else {
            Err(LossError::InvalidParameter {
                loss: Self::NAME,
                parameter: "beta",
                value: self.beta,
                expected: "finite and >= 0",
            })
        }
    }

    /// The loss of `input` against `target` (same shape) as a graph node.
    ///
    /// # Errors
    /// As [`Mse::apply`], and [`SmoothL1::validate`]'s.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        self.validate()?;
        let (beta, half) = (T::of(self.beta), T::of(0.5));
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(
            graph,
            Self::NAME,
            input,
            target.into(),
            None,
            reduce,
            |x, y, _| {
                let e = x - y;
                if e.abs() < beta {
                    (half * e * e / beta, e / beta)
                } else {
                    (e.abs() - half * beta, sign(e))
                }
            },
        )
    }
}

/// The number of elements of a node.
pub(crate) fn numel<T: Float>(graph: &Graph<T>, var: Var) -> usize {
    graph.shape(var).iter().product()
}

/// Checks that a hyperparameter is finite and positive.
pub(crate) fn positive(
    loss: &'static str,
    parameter: &'static str,
    value: f64,
) -> Result<(), LossError> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(LossError::InvalidParameter {
            loss,
            parameter,
            value,
            expected: "finite and > 0",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{ArrayD, arr1, arr2};

    /// Runs `loss` on `x` against `y` and returns the value and the input gradient.
    fn run(
        loss: impl Fn(&mut Graph<f64>, Var, Var) -> Result<Var, LossError>,
        x: ArrayD<f64>,
        y: ArrayD<f64>,
    ) -> (ArrayD<f64>, Vec<f64>) {
        let mut graph = Graph::new();
        let (x, y) = (graph.param_owned(x), graph.constant(y));
        let out = loss(&mut graph, x, y).unwrap();
        let value = graph.value(out).to_owned();
        let sum = graph.sum(out);
        graph.backward(sum);
        (value, graph.grad(x).unwrap().iter().copied().collect())
    }

    #[test]
    fn mse_of_an_affine_map_in_one_pass_has_the_composed_bits() {
        let x = ndarray::Array2::from_shape_fn((5, 3), |(i, j)| (i as f64 - 2.0) * 0.3 + j as f64);
        let y = ndarray::Array2::from_shape_fn((5, 1), |(i, _)| i as f64 * 0.7);
        let w = arr2(&[[0.5], [-0.25], [0.125]]).into_dyn();
        for reduction in [Reduction::Mean, Reduction::Sum] {
            let loss = Mse::new(reduction);
            let mut results = Vec::new();
            for way in ["composed", "node", "borrowed"] {
                let mut g = Graph::new();
                let (wv, bv) = (
                    g.param_owned(w.clone()),
                    g.param_owned(arr1(&[0.1]).into_dyn()),
                );
                let out = match way {
                    "composed" => {
                        let xv = g.constant(x.clone().into_dyn());
                        let p = g.affine(xv, wv, bv);
                        loss.apply(&mut g, p, y.view().into_dyn()).unwrap()
                    }
                    "node" => {
                        let xv = g.constant(x.clone().into_dyn());
                        let yv = g.constant(y.clone().into_dyn());
                        loss.apply_affine(&mut g, xv, [wv, bv], yv)
                            .unwrap()
                            .unwrap()
                    }
                    _ => {
                        let (xd, yd) = (x.view().into_dyn(), y.view().into_dyn());
                        loss.apply_affine(&mut g, xd, [wv, bv], yd)
                            .unwrap()
                            .unwrap()
                    }
                };
                g.backward(out);
                let grads = (
                    g.grad(wv).unwrap().to_owned(),
                    g.grad(bv).unwrap().to_owned(),
                );
                results.push((g.scalar(out).to_bits(), grads));
            }
            assert_eq!(results[0], results[1], "{reduction:?}: node");
            assert_eq!(results[0], results[2], "{reduction:?}: borrowed");
        }
        let none = Mse::new(Reduction::None);
        let mut g = Graph::new();
        let (wv, bv) = (
            g.param_owned(w.clone()),
            g.param_owned(arr1(&[0.1]).into_dyn()),
        );
        let applied = none.apply_affine(&mut g, x.view().into_dyn(), [wv, bv], y.view().into_dyn());
        assert!(
            applied.unwrap().is_none(),
            "no reduction: the caller composes"
        );
    }

    #[test]
    fn mse_reductions() {
        let x = arr2(&[[1.0, 2.0], [3.0, 4.0]]).into_dyn();
        let y = arr2(&[[0.0, 2.0], [5.0, 1.0]]).into_dyn();
        // Squared errors 1, 0, 4, 9: sum 14, mean 3.5; gradients 2e = 2, 0, -4, 6.
        let (sum, grad) = run(
            |g, x, y| Mse::new(Reduction::Sum).apply(g, x, y),
            x.clone(),
            y.clone(),
        );
        assert_eq!(sum.into_raw_vec_and_offset().0, vec![14.0]);
        assert_eq!(grad, vec![2.0, 0.0, -4.0, 6.0]);
        let (mean, grad) = run(
            |g, x, y| Mse::default().apply(g, x, y),
            x.clone(),
            y.clone(),
        );
        assert_eq!(mean.into_raw_vec_and_offset().0, vec![3.5]);
        assert_eq!(grad, vec![0.5, 0.0, -1.0, 1.5]);
        // `none` keeps the input's shape; the gradient of their sum is 2e again.
        let (none, grad) = run(|g, x, y| Mse::new(Reduction::None).apply(g, x, y), x, y);
        assert_eq!(none, arr2(&[[1.0, 0.0], [4.0, 9.0]]).into_dyn());
        assert_eq!(grad, vec![2.0, 0.0, -4.0, 6.0]);
    }

    #[test]
    fn l1_gradient_is_zero_at_equality() {
        let (value, grad) = run(
            |g, x, y| L1::new(Reduction::Sum).apply(g, x, y),
            arr1(&[1.0, 2.0, -3.0]).into_dyn(),
            arr1(&[1.0, 0.5, 0.0]).into_dyn(),
        );
        assert_eq!(value.into_raw_vec_and_offset().0, vec![4.5]);
        assert_eq!(grad, vec![0.0, 1.0, -1.0]);
    }

    #[test]
    fn huber_and_smooth_l1_switch_at_the_threshold_strictly() {
        // |e| = delta takes the linear branch: delta·(delta − delta/2) = 0.5·delta².
        let x = arr1(&[0.5, 2.0, -0.25]).into_dyn();
        let y = arr1(&[0.0, 0.0, 0.0]).into_dyn();
        let huber = Huber {
            delta: 0.5,
            reduction: Reduction::None,
        };
        let (value, grad) = run(|g, x, y| huber.apply(g, x, y), x.clone(), y.clone());
        assert_eq!(value, arr1(&[0.125, 0.875, 0.03125]).into_dyn());
        assert_eq!(grad, vec![0.5, 0.5, -0.25]);
        // smooth_l1 with beta = delta is huber / beta.
        let smooth = SmoothL1 {
            beta: 0.5,
            reduction: Reduction::None,
        };
        let (value, grad) = run(|g, x, y| smooth.apply(g, x, y), x, y);
        assert_eq!(value, arr1(&[0.25, 1.75, 0.0625]).into_dyn());
        assert_eq!(grad, vec![1.0, 1.0, -0.5]);
    }

    #[test]
    fn smooth_l1_with_zero_beta_is_l1() {
        let smooth = SmoothL1 {
            beta: 0.0,
            reduction: Reduction::Sum,
        };
        let (value, grad) = run(
            |g, x, y| smooth.apply(g, x, y),
            arr1(&[1.0, 0.0, -2.0]).into_dyn(),
            arr1(&[0.0, 0.0, 0.0]).into_dyn(),
        );
        assert_eq!(value.into_raw_vec_and_offset().0, vec![3.0]);
        assert_eq!(grad, vec![1.0, 0.0, -1.0]);
    }

    #[test]
    fn invalid_hyperparameters_are_errors() {
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(arr1(&[1.0]).into_dyn());
        let y = graph.constant(arr1(&[1.0]).into_dyn());
        let error = Huber {
            delta: 0.0,
            reduction: Reduction::Mean,
        }
        .apply(&mut graph, x, y);
        assert_eq!(
            error.unwrap_err().to_string(),
            "huber: delta = 0 is invalid: it must be finite and > 0"
        );
        let error = SmoothL1 {
            beta: -1.0,
            reduction: Reduction::Mean,
        }
        .apply(&mut graph, x, y);
        assert_eq!(
            error.unwrap_err().to_string(),
            "smooth_l1: beta = -1 is invalid: it must be finite and >= 0"
        );
    }
}
