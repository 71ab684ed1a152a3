//! Binary cross-entropy: on probabilities (logs clamped at −100, as PyTorch) and on
//! logits (the stable form, with a per-class `pos_weight`).

use descent_autodiff::{Float, Graph, Var, sigmoid};
use serde::{Deserialize, Serialize};

use crate::reduction::{Reduce, check_range, check_weight_length, elementwise, target_shape};
use crate::regression::numel;
use crate::{LossError, Operand, Reduction, Target};

/// PyTorch's `EPSILON` in the backward of `binary_cross_entropy`: `float32(1e-12)`.
const BCE_EPSILON: f64 = 1e-12_f32 as f64;

/// Binary cross-entropy on probabilities, PyTorch's `binary_cross_entropy`:
/// `l = −(y·max(ln p, −100) + (1 − y)·max(ln(1 − p), −100))`, gradient
/// `(p − y) / max(p·(1 − p), 1e-12)`.
///
/// Prefer [`BceWithLogits`] on the logits: it is exact where `p` rounds to 0 or 1.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{Bce, Reduction};
/// use ndarray::arr1;
///
/// let mut graph = Graph::<f64>::new();
/// let p = graph.param_owned(arr1(&[0.5, 0.0]).into_dyn());
/// let y = arr1(&[1.0, 1.0]).into_dyn();
/// // −ln 0.5, and ln 0 clamped at −100.
/// let loss = Bce::new(Reduction::None).apply(&mut graph, p, y.view())?;
/// assert_eq!(graph.value(loss).as_slice().unwrap(), &[std::f64::consts::LN_2, 100.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Bce {
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl Bce {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "bce";

    /// Binary cross-entropy with the given reduction.
    pub fn new(reduction: Reduction) -> Self {
        Bce { reduction }
    }

    /// The loss of probabilities `input` against `target` (same shape, in `[0, 1]`).
    ///
    /// # Errors
    /// [`LossError::OutOfDomain`] for an input or target element outside `[0, 1]`
    /// (NaN passes through to the loss), and the errors of [`crate::Mse::apply`].
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let target = target.into();
        // The shapes are copied only when there is an error to report.
        let domain_error = |operand| {
            let (graph, target) = (&*graph, &target);
            move |index, value| LossError::OutOfDomain {
                loss: Self::NAME,
                operand,
                index,
                value,
                domain: "[0, 1]",
                input: graph.shape(input).to_vec(),
                target: target_shape(graph, target),
            }
        };
        check_range(graph.value(input), (0.0, 1.0), domain_error(Operand::Input))?;
        match target {
            Target::Var(var) => {
                check_range(graph.value(var), (0.0, 1.0), domain_error(Operand::Target))?
            }
            Target::View(ref view) => {
                check_range(view.view(), (0.0, 1.0), domain_error(Operand::Target))?
            }
            Target::Classes(_) => {}
        }
        let (one, floor, epsilon) = (T::one(), T::of(-100.0), T::of(BCE_EPSILON));
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(graph, Self::NAME, input, target, None, reduce, |p, y, _| {
            let log_p = p.ln().max(floor);
            let log_q = (-p).ln_1p().max(floor);
            let l = (y - one) * log_q - y * log_p;
            (l, (p - y) / ((one - p) * p).max(epsilon))
        })
    }
}

/// Binary cross-entropy on logits, PyTorch's `binary_cross_entropy_with_logits`:
/// with `s = sigmoid(x)`, `l = −(w·y·ln s + (1 − y)·ln(1 − s))`, computed as
/// `(1 − y)·x + (1 + (w − 1)·y)·(ln(1 + e^−|x|) + max(−x, 0))` so that no logit
/// overflows (±100 gives 100, not inf). The gradient is `−w·y·(1 − s) + (1 − y)·s`.
///
/// `pos_weight` (`w`, one per class) broadcasts over the input's last axis.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{BceWithLogits, Reduction};
/// use ndarray::arr1;
///
/// let mut graph = Graph::<f64>::new();
/// let x = graph.param_owned(arr1(&[100.0, -100.0]).into_dyn());
/// let y = arr1(&[0.0, 1.0]).into_dyn();
/// let loss = BceWithLogits::new(Reduction::None).apply(&mut graph, x, y.view())?;
/// assert_eq!(graph.value(loss).as_slice().unwrap(), &[100.0, 100.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BceWithLogits {
    /// The weight of positive examples per class (length `C` or 1); none means 1.
    pub pos_weight: Option<Vec<f64>>,
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl BceWithLogits {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "bce_with_logits";

    /// The loss without positive weights.
    pub fn new(reduction: Reduction) -> Self {
        BceWithLogits {
            pos_weight: None,
            reduction,
        }
    }

    /// The loss with a positive weight per class.
    pub fn with_pos_weight(pos_weight: Vec<f64>, reduction: Reduction) -> Self {
        BceWithLogits {
            pos_weight: Some(pos_weight),
            reduction,
        }
    }

    /// The loss of logits `input` against `target` (same shape).
    ///
    /// # Errors
    /// [`LossError::ParameterLength`] when `pos_weight` is neither of the input's
    /// last axis's length nor of length 1, and the errors of [`crate::Mse::apply`].
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let weight = self.pos_weight.as_deref();
        if let Some(weights) = weight {
            check_weight_length(Self::NAME, "pos_weight", weights.len(), graph.shape(input))?;
        }
        let (zero, one) = (T::zero(), T::one());
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        elementwise(
            graph,
            Self::NAME,
            input,
            target.into(),
            weight,
            reduce,
            |x, y, w| {
                let log_weight = one + (w - one) * y;
                let l = (one - y) * x + log_weight * ((-x.abs()).exp().ln_1p() + (-x).max(zero));
                let s = sigmoid(x);
                (l, (one - y) * s - w * y * (one - s))
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr1;

    #[test]
    fn bce_gradient_uses_the_float32_epsilon() {
        // At p = 1, y = 0: p(1 − p) = 0, so the gradient is 1 / float32(1e-12).
        let mut graph = Graph::<f64>::new();
        let p = graph.param_owned(arr1(&[1.0]).into_dyn());
        let y = arr1(&[0.0]).into_dyn();
        let loss = Bce::new(Reduction::Sum)
            .apply(&mut graph, p, y.view())
            .unwrap();
        graph.backward(loss);
        assert_eq!(graph.scalar(loss), 100.0);
        assert_eq!(graph.grad(p).unwrap()[[0]], 1.0 / 9.999999960041972e-13);
    }

    #[test]
    fn bce_rejects_probabilities_outside_the_unit_interval() {
        let mut graph = Graph::<f64>::new();
        let p = graph.param_owned(arr1(&[0.5, 1.5]).into_dyn());
        let y = arr1(&[1.0, 1.0]).into_dyn();
        let error = Bce::default().apply(&mut graph, p, y.view()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "bce: input[1] = 1.5 is outside [0, 1]; input of shape [2], target of shape [2]"
        );
        let p = graph.param_owned(arr1(&[0.5, 0.5]).into_dyn());
        let y = arr1(&[1.0, -0.5]).into_dyn();
        let error = Bce::default().apply(&mut graph, p, y.view()).unwrap_err();
        assert!(matches!(
            error,
            LossError::OutOfDomain {
                operand: Operand::Target,
                value: -0.5,
                ..
            }
        ));
    }

    #[test]
    fn pos_weight_scales_the_positive_term() {
        // x = 0: s = 1/2, l = w·y·ln 2 + (1 − y)·ln 2; gradient −w·y/2 + (1 − y)/2.
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(ndarray::arr2(&[[0.0, 0.0], [0.0, 0.0]]).into_dyn());
        let y = ndarray::arr2(&[[1.0, 1.0], [0.0, 1.0]]).into_dyn();
        let loss = BceWithLogits::with_pos_weight(vec![2.0, 3.0], Reduction::None);
        let out = loss.apply(&mut graph, x, y.view()).unwrap();
        let ln2 = std::f64::consts::LN_2;
        let want = [2.0 * ln2, 3.0 * ln2, ln2, 3.0 * ln2];
        assert_eq!(graph.value(out).iter().copied().collect::<Vec<_>>(), want);
        let sum = graph.sum(out);
        graph.backward(sum);
        assert_eq!(
            graph.grad(x).unwrap().iter().copied().collect::<Vec<_>>(),
            [-1.0, -1.5, 0.5, -1.5]
        );
    }

    #[test]
    fn pos_weight_of_the_wrong_length_is_an_error() {
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(ndarray::Array2::zeros((2, 4)).into_dyn());
        let y = ndarray::Array2::zeros((2, 4)).into_dyn();
        let loss = BceWithLogits::with_pos_weight(vec![1.0, 2.0, 3.0], Reduction::Mean);
        assert_eq!(
            loss.apply(&mut graph, x, y.view()).unwrap_err().to_string(),
            "bce_with_logits: pos_weight of length 3 does not fit the input of shape [2, 4] \
             (expected length 4 or 1)"
        );
    }
}
