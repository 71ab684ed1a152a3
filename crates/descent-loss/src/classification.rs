//! Class losses on an input of shape `[N, C]` with one class index per row: softmax
//! cross-entropy from logits, negative log-likelihood, and the multi-class hinge.

use descent_autodiff::{Float, Graph, Var, flush_subnormal};
use ndarray::{ArrayView1, ArrayViewMut1};
use serde::{Deserialize, Serialize};

use crate::reduction::per_sample;
use crate::{LossError, Reduction, Target};

/// Softmax cross-entropy from logits, PyTorch's `cross_entropy` with class-index
/// targets: with `lp = log_softmax(x_n)` and smoothing `ε`,
/// `l_n = −(1 − ε)·lp[y_n] − (ε/C)·Σ_c lp[c]`; the gradient by the logits is
/// `softmax(x_n) − ((1 − ε)·onehot(y_n) + ε/C)`.
///
/// The logits are shifted by their row maximum, so logits of ±1000 give finite,
/// exact results. `mean` divides by `N`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{CrossEntropy, Reduction};
/// use ndarray::arr2;
///
/// let mut graph = Graph::<f64>::new();
/// let logits = graph.param_owned(arr2(&[[1000.0, -1000.0], [0.0, 0.0]]).into_dyn());
/// let loss = CrossEntropy::default().apply(&mut graph, logits, &[0, 1])?;
/// graph.backward(loss);
/// // Row 0 is certain and right (loss 0); row 1 is a coin flip (ln 2); mean over N = 2.
/// assert_eq!(graph.scalar(loss), std::f64::consts::LN_2 / 2.0);
/// let grad = graph.grad(logits).unwrap();
/// assert_eq!(grad.as_slice().unwrap(), &[0.0, 0.0, 0.25, -0.25]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CrossEntropy {
    /// The label smoothing `ε` in `[0, 1]` (default 0).
    pub label_smoothing: f64,
    /// The reduction (default mean, over samples).
    pub reduction: Reduction,
}

impl CrossEntropy {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "cross_entropy";

    /// Cross-entropy without label smoothing.
    pub fn new(reduction: Reduction) -> Self {
        CrossEntropy {
            label_smoothing: 0.0,
            reduction,
        }
    }

    /// Checks the hyperparameters.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] unless `0 <= label_smoothing <= 1`.
    pub fn validate(&self) -> Result<(), LossError> {
        if (0.0..=1.0).contains(&self.label_smoothing) {
            Ok(())
        } else {
            Err(LossError::InvalidParameter {
                loss: Self::NAME,
                parameter: "label_smoothing",
                value: self.label_smoothing,
                expected: "in [0, 1]",
            })
        }
    }

    /// The loss of logits `input` (`[N, C]`) against one class per row.
    ///
    /// # Errors
    /// [`LossError::InputShape`] unless the input is `[N, C]`;
    /// [`LossError::ShapeMismatch`] unless there are `N` targets;
    /// [`LossError::ClassOutOfRange`] for a class `>= C`; [`LossError::NotAClass`]
    /// for a real-valued target that is not a whole number; and
    /// [`CrossEntropy::validate`]'s.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        self.validate()?;
        let smoothing = T::of(self.label_smoothing);
        // exp(underflow) is below half the smallest normal number, so is flushed anyway.
        let underflow = T::min_positive_value().ln() - T::one();
        let target = target.into();
        per_sample(
            graph,
            Self::NAME,
            input,
            target,
            self.reduction,
            |x, class, local| cross_entropy_row(x, class, smoothing, underflow, local),
        )
    }
}

/// One row of [`CrossEntropy`]: returns `l_n` and writes its gradient.
///
/// Each `exp` is computed once and kept in `local` until it becomes a probability.
/// A probability below the smallest normal number is stored as zero, and so is an
/// `exp` of a shift below `underflow` (which could only give such a number): a logit
/// 87 or more below the row's maximum (in `f32`) would otherwise put subnormal numbers
/// into the gradient, and every product that reads one is many times slower on some
/// CPUs (Intel's take a microcode assist per subnormal operand or result). Only
/// subnormal values change, by less than `T::MIN_POSITIVE`; `sum_exp` is at least 1
/// (the maximum's own term), so dropping them from it changes no bit of it, of the
/// loss or of any normal gradient element.
fn cross_entropy_row<T: Float>(
    x: ArrayView1<'_, T>,
    class: usize,
    smoothing: T,
    underflow: T,
    mut local: ArrayViewMut1<'_, T>,
) -> T {
    let classes = T::of_usize(x.len());
    let max = x.fold(T::neg_infinity(), |m, &v| m.max(v));
    let mut sum_exp = T::zero();
    for (&v, e) in x.iter().zip(local.iter_mut()) {
        let shifted = v - max;
        *e = if shifted < underflow {
            T::zero()
        } else {
            flush_subnormal(shifted.exp())
        };
        sum_exp += *e;
    }
    let log_sum_exp = sum_exp.ln();
    let (keep, spread) = (T::one() - smoothing, smoothing / classes);
    let mut sum_log_probs = T::zero();
    for (c, (&v, d)) in x.iter().zip(local.iter_mut()).enumerate() {
        let shifted = v - max;
        sum_log_probs += shifted - log_sum_exp;
        let hit = if c == class { keep } else { T::zero() };
        *d = flush_subnormal(*d / sum_exp) - (hit + spread);
    }
    let log_prob = (x[class] - max) - log_sum_exp;
    if smoothing == T::zero() {
        -log_prob
    } else {
        -keep * log_prob - spread * sum_log_probs
    }
}

/// Negative log-likelihood, PyTorch's `nll_loss`: the input holds log-probabilities
/// (such as `log_softmax`) and `l_n = −input[n, y_n]`. `mean` divides by `N`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{Nll, Reduction};
/// use ndarray::arr2;
///
/// let mut graph = Graph::<f64>::new();
/// let log_probs = graph.param_owned(arr2(&[[-0.5, -1.0], [-2.0, -0.25]]).into_dyn());
/// let loss = Nll::new(Reduction::Sum).apply(&mut graph, log_probs, &[1, 0])?;
/// graph.backward(loss);
/// assert_eq!(graph.scalar(loss), 3.0);
/// assert_eq!(graph.grad(log_probs).unwrap().as_slice().unwrap(), &[0.0, -1.0, -1.0, 0.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Nll {
    /// The reduction (default mean, over samples).
    pub reduction: Reduction,
}

impl Nll {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "nll";

    /// Negative log-likelihood with the given reduction.
    pub fn new(reduction: Reduction) -> Self {
        Nll { reduction }
    }

    /// The loss of log-probabilities `input` (`[N, C]`) against one class per row.
    ///
    /// # Errors
    /// As [`CrossEntropy::apply`].
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        per_sample(
            graph,
            Self::NAME,
            input,
            target.into(),
            self.reduction,
            |x, class, mut local| {
                local.fill(T::zero());
                local[class] = -T::one();
                -x[class]
            },
        )
    }
}

/// The multi-class hinge, PyTorch's `multi_margin_loss`:
/// `l_n = Σ_{i ≠ y_n} max(0, margin − x[n, y_n] + x[n, i])^p / C` with `p` 1 or 2.
/// Note the division by `C`; `mean` then divides by `N`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{MultiMargin, Reduction};
/// use ndarray::arr2;
///
/// let mut graph = Graph::<f64>::new();
/// let scores = graph.param_owned(arr2(&[[2.0, 1.5, -1.0]]).into_dyn());
/// let loss = MultiMargin { p: 1, margin: 1.0, reduction: Reduction::Sum };
/// let loss = loss.apply(&mut graph, scores, &[0])?;
/// graph.backward(loss);
/// // Only class 1 violates the margin: (1 − 2 + 1.5) / 3.
/// assert_eq!(graph.scalar(loss), 0.5 / 3.0);
/// let third = 1.0 / 3.0;
/// assert_eq!(graph.grad(scores).unwrap().as_slice().unwrap(), &[-third, third, 0.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiMargin {
    /// The power of the hinge: 1 or 2 (default 1).
    pub p: u32,
    /// The margin (default 1).
    pub margin: f64,
    /// The reduction (default mean, over samples).
    pub reduction: Reduction,
}

impl Default for MultiMargin {
    fn default() -> Self {
        MultiMargin {
            p: 1,
            margin: 1.0,
            reduction: Reduction::Mean,
        }
    }
}

impl MultiMargin {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "multi_margin";

    /// Checks the hyperparameters.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] unless `p` is 1 or 2 and `margin` is finite.
    pub fn validate(&self) -> Result<(), LossError> {
        let invalid = |parameter, value, expected| LossError::InvalidParameter {
            loss: Self::NAME,
            parameter,
            value,
            expected,
        };
        if self.p != 1 && self.p != 2 {
            return Err(invalid("p", f64::from(self.p), "1 or 2"));
        }
        if !self.margin.is_finite() {
            return Err(invalid("margin", self.margin, "finite"));
        }
        Ok(())
    }

    /// The loss of scores `input` (`[N, C]`) against one class per row.
    ///
    /// # Errors
    /// As [`CrossEntropy::apply`], and [`MultiMargin::validate`]'s.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        self.validate()?;
        let (margin, squared) = (T::of(self.margin), self.p == 2);
        per_sample(
            graph,
            Self::NAME,
            input,
            target.into(),
            self.reduction,
            |x, class, mut local| {
                let classes = T::of_usize(x.len());
                local.fill(T::zero());
                let mut total = T::zero();
                for (i, &v) in x.iter().enumerate() {
                    let z = margin - x[class] + v;
                    if i == class || z <= T::zero() {
                        continue;
                    }
                    let (term, slope) = if squared {
                        (z * z, T::of(2.0) * z)
                    } else {
                        (z, T::one())
                    };
                    total += term;
                    local[i] += slope / classes;
                    local[class] -= slope / classes;
                }
                total / classes
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr2;

    #[test]
    fn probabilities_below_the_normal_range_are_exact_zeros() {
        // exp(−90) and exp(−100) are subnormal in f32; their gradient entries are 0.
        let mut graph = Graph::<f32>::new();
        let x = graph.param_owned(arr2(&[[0.0f32, -90.0, -100.0, -1.0]]).into_dyn());
        let loss = CrossEntropy::new(Reduction::Mean)
            .apply(&mut graph, x, &[0])
            .unwrap();
        graph.backward(loss);
        let grad = graph.grad(x).unwrap();
        assert!(grad.iter().all(|g| *g == 0.0 || g.is_normal()), "{grad}");
        assert_eq!((grad[[0, 1]], grad[[0, 2]]), (0.0, 0.0));
        let p = (-1.0f32).exp() / (1.0 + (-1.0f32).exp());
        assert_eq!(grad[[0, 3]], p);
    }

    #[test]
    fn label_smoothing_spreads_the_target() {
        // Equal logits over C = 4: lp = −ln 4 everywhere, so l = ln 4 whatever ε;
        // the gradient is 1/4 − ((1 − ε)·onehot + ε/4) = (ε − 1)·onehot + (1 − ε)/4.
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(ndarray::Array2::zeros((1, 4)).into_dyn());
        let loss = CrossEntropy {
            label_smoothing: 0.2,
            reduction: Reduction::Sum,
        };
        let out = loss.apply(&mut graph, x, &[2]).unwrap();
        graph.backward(out);
        assert!((graph.scalar(out) - 4.0_f64.ln()).abs() < 1e-15);
        let grad: Vec<f64> = graph.grad(x).unwrap().iter().copied().collect();
        assert_eq!(grad, [0.2, 0.2, -0.6000000000000001, 0.2]);
    }

    #[test]
    fn none_reduction_gives_one_loss_per_sample() {
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(arr2(&[[-1.0, -2.0], [-3.0, -4.0], [-5.0, -6.0]]).into_dyn());
        let out = Nll::new(Reduction::None)
            .apply(&mut graph, x, &[0, 1, 1])
            .unwrap();
        assert_eq!(graph.value(out).as_slice().unwrap(), &[1.0, 4.0, 6.0]);
        let mean = Nll::default().apply(&mut graph, x, &[0, 1, 1]).unwrap();
        assert_eq!(graph.scalar(mean), 11.0 / 3.0);
    }

    #[test]
    fn squared_hinge_doubles_the_violation() {
        // z = 1 − 2 + 1.5 = 0.5: term z² = 0.25, slope 2z = 1, both over C = 3.
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(arr2(&[[2.0, 1.5, -1.0]]).into_dyn());
        let loss = MultiMargin {
            p: 2,
            margin: 1.0,
            reduction: Reduction::Sum,
        };
        let out = loss.apply(&mut graph, x, &[0]).unwrap();
        graph.backward(out);
        assert_eq!(graph.scalar(out), 0.25 / 3.0);
        assert_eq!(
            graph.grad(x).unwrap().as_slice().unwrap(),
            &[-1.0 / 3.0, 1.0 / 3.0, 0.0]
        );
    }

    #[test]
    fn class_targets_are_checked() {
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(ndarray::Array2::zeros((3, 4)).into_dyn());
        let error = CrossEntropy::default()
            .apply(&mut graph, x, &[0, 4, 1])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cross_entropy: target[1] = 4 is out of range for the input of shape [3, 4] \
             (classes 0..4); target of shape [3]"
        );
        let error = Nll::default().apply(&mut graph, x, &[0, 1]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "nll: the target of shape [2] does not fit the input of shape [3, 4] \
             (expected a target of shape [3])"
        );
        let labels = ndarray::arr1(&[0.0, 2.5, 1.0]).into_dyn();
        let error = MultiMargin::default()
            .apply(&mut graph, x, labels.view())
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "multi_margin: target[1] = 2.5 is not a class index (a non-negative integer); \
             input of shape [3, 4], target of shape [3]"
        );
        let flat = graph.param_owned(ndarray::Array1::zeros(4).into_dyn());
        let error = CrossEntropy::default()
            .apply(&mut graph, flat, &[1])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "cross_entropy: the input of shape [4] must have shape [N, C] with C >= 1 \
             (N samples, C classes) (target of shape [1])"
        );
    }

    #[test]
    fn whole_number_real_targets_work_as_classes() {
        // A label column [N, 1] as a data loader hands it out gives the same loss.
        let logits = arr2(&[[0.3, -1.2, 2.0], [1.0, 0.5, -0.5]]).into_dyn();
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(logits);
        let labels = graph.constant(arr2(&[[2.0], [0.0]]).into_dyn());
        let from_column = CrossEntropy::default()
            .apply(&mut graph, x, labels)
            .unwrap();
        let from_indices = CrossEntropy::default()
            .apply(&mut graph, x, &[2, 0])
            .unwrap();
        assert_eq!(graph.scalar(from_column), graph.scalar(from_indices));
    }
}
