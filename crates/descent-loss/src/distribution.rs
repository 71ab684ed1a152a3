//! Losses between distributions and counts: KL divergence on log-probabilities and
//! the Poisson negative log-likelihood.

use descent_autodiff::{Float, Graph, Var};
use serde::{Deserialize, Serialize};

use crate::reduction::{Reduce, elementwise};
use crate::regression::numel;
use crate::{LossError, Reduction, Target};

/// The reductions of [`KlDiv`]: PyTorch's three plus `batchmean`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KlReduction {
    /// The sum divided by the batch size `N` (the input's first axis): the true KL
    /// divergence per sample (the default).
    #[default]
    BatchMean,
    /// The sum divided by the number of elements `N·C` (PyTorch's default, which is
    /// not the KL divergence).
    Mean,
    /// The sum.
    Sum,
    /// No reduction: the input's shape.
    None,
}

/// KL divergence, PyTorch's `kl_div`: the input holds log-probabilities `ln q`, the
/// target probabilities `p` (or `ln p` with `log_target`), and
/// `l = p·(ln p − input)`, taken as 0 where `p = 0`; gradient `−p`.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{KlDiv, KlReduction};
/// use ndarray::arr2;
///
/// let mut graph = Graph::<f64>::new();
/// let log_q = graph.param_owned(arr2(&[[0.5_f64.ln(), 0.5_f64.ln()]]).into_dyn());
/// let p = arr2(&[[1.0, 0.0]]).into_dyn();
/// // 1·(ln 1 − ln ½) + 0·log 0 (= 0) = ln 2 for the one sample.
/// let loss = KlDiv::default().apply(&mut graph, log_q, p.view())?;
/// graph.backward(loss);
/// assert_eq!(graph.scalar(loss), std::f64::consts::LN_2);
/// assert_eq!(graph.grad(log_q).unwrap().as_slice().unwrap(), &[-1.0, 0.0]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KlDiv {
    /// Whether the target holds log-probabilities (default false).
    pub log_target: bool,
    /// The reduction (default `batchmean`).
    pub reduction: KlReduction,
}

impl KlDiv {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "kl_div";

    /// KL divergence on probability targets with the given reduction.
    pub fn new(reduction: KlReduction) -> Self {
        KlDiv {
            log_target: false,
            reduction,
        }
    }

    /// The divergence of log-probabilities `input` from `target` (same shape).
    ///
    /// # Errors
    /// As [`crate::Mse::apply`].
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let shape = graph.shape(input);
        let reduce = match self.reduction {
            KlReduction::BatchMean => Reduce::DivideBy(shape.first().copied().unwrap_or(1)),
            KlReduction::Mean => Reduce::DivideBy(numel(graph, input)),
            KlReduction::Sum => Reduce::Sum,
            KlReduction::None => Reduce::None,
        };
        let zero = T::zero();
        let target = target.into();
        if self.log_target {
            elementwise(
                graph,
                Self::NAME,
                input,
                target,
                None,
                reduce,
                |x, log_p, _| {
                    let p = log_p.exp();
                    (p * (log_p - x), -p)
                },
            )
        } else {
            elementwise(graph, Self::NAME, input, target, None, reduce, |x, p, _| {
                let l = if p == zero { zero } else { p * (p.ln() - x) };
                (l, -p)
            })
        }
    }
}

/// Poisson negative log-likelihood, PyTorch's `poisson_nll_loss`: with `log_input`
/// (the default) the input is `ln λ` and `l = e^x − y·x`; otherwise the input is `λ`
/// and `l = x − y·ln(x + eps)`. `full` adds Stirling's approximation of `ln y!`,
/// `y·ln y − y + ½·ln(2πy)`, where `y > 1` (it has no gradient).
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{PoissonNll, Reduction};
/// use ndarray::arr1;
///
/// let mut graph = Graph::<f64>::new();
/// let log_rate = graph.param_owned(arr1(&[0.0, 1.0]).into_dyn());
/// let counts = arr1(&[2.0, 0.0]).into_dyn();
/// let loss = PoissonNll { reduction: Reduction::Sum, ..Default::default() };
/// let loss = loss.apply(&mut graph, log_rate, counts.view())?;
/// graph.backward(loss);
/// // (e⁰ − 2·0) + (e¹ − 0); gradient e^x − y.
/// assert_eq!(graph.scalar(loss), 1.0 + std::f64::consts::E);
/// assert_eq!(graph.grad(log_rate).unwrap().as_slice().unwrap(), &[-1.0, std::f64::consts::E]);
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PoissonNll {
    /// Whether the input is the log-rate (default true).
    pub log_input: bool,
    /// Whether to add the Stirling term (default false).
    pub full: bool,
    /// Added to the rate before its log when `log_input` is false (default 1e-8).
    pub eps: f64,
    /// The reduction (default mean).
    pub reduction: Reduction,
}

impl Default for PoissonNll {
    fn default() -> Self {
        PoissonNll {
            log_input: true,
            full: false,
            eps: 1e-8,
            reduction: Reduction::Mean,
        }
    }
}

impl PoissonNll {
    /// The loss's name in configurations and messages.
    pub const NAME: &'static str = "poisson_nll";

    /// Checks the hyperparameters.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] unless `eps` is finite and `>= 0`.
    pub fn validate(&self) -> Result<(), LossError> {
        if self.eps >= 0.0 && self.eps.is_finite() {
            Ok(())
        } else {
            Err(LossError::InvalidParameter {
                loss: Self::NAME,
                parameter: "eps",
                value: self.eps,
                expected: "finite and >= 0",
            })
        }
    }

    /// The loss of `input` (log-rates or rates) against counts `target` (same shape).
    ///
    /// # Errors
    /// As [`crate::Mse::apply`], and [`PoissonNll::validate`]'s.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        self.validate()?;
        let (one, eps, full) = (T::one(), T::of(self.eps), self.full);
        let (half, two_pi) = (T::of(0.5), T::of(2.0 * std::f64::consts::PI));
        let stirling = move |y: T| {
            if full && y > one {
                y * y.ln() - y + half * (two_pi * y).ln()
            } else {
                T::zero()
            }
        };
        let reduce = Reduce::elementwise(self.reduction, numel(graph, input));
        let target = target.into();
        if self.log_input {
            elementwise(graph, Self::NAME, input, target, None, reduce, |x, y, _| {
                let rate = x.exp();
                (rate - y * x + stirling(y), rate - y)
            })
        } else {
            elementwise(graph, Self::NAME, input, target, None, reduce, |x, y, _| {
                (x - y * (x + eps).ln() + stirling(y), one - y / (x + eps))
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::arr2;

    #[test]
    fn kl_reductions_divide_by_n_or_by_numel() {
        // Two samples of two classes, input ln ½ everywhere, target one-hot:
        // elements ln 2, 0, 0, ln 2; sum 2 ln 2; batchmean ln 2; mean ln 2 / 2.
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(arr2(&[[0.5_f64.ln(); 2]; 2]).into_dyn());
        let p = arr2(&[[1.0, 0.0], [0.0, 1.0]]).into_dyn();
        let ln2 = std::f64::consts::LN_2;
        let value = |graph: &mut Graph<f64>, reduction| {
            let out = KlDiv::new(reduction).apply(graph, x, p.view()).unwrap();
            graph.scalar(out)
        };
        assert_eq!(value(&mut graph, KlReduction::Sum), 2.0 * ln2);
        assert_eq!(value(&mut graph, KlReduction::BatchMean), ln2);
        assert_eq!(value(&mut graph, KlReduction::Mean), ln2 / 2.0);
    }

    #[test]
    fn kl_log_target_matches_probability_target() {
        let input = arr2(&[[-0.2_f64, -1.7], [-0.9, -0.5]]).into_dyn();
        let p = arr2(&[[0.3_f64, 0.7], [0.6, 0.4]]).into_dyn();
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(input);
        let plain = KlDiv::default().apply(&mut graph, x, p.view()).unwrap();
        let log_p = p.mapv(f64::ln);
        let logged = KlDiv {
            log_target: true,
            ..KlDiv::default()
        };
        let logged = logged.apply(&mut graph, x, log_p.view()).unwrap();
        assert!((graph.scalar(plain) - graph.scalar(logged)).abs() < 1e-15);
    }

    #[test]
    fn poisson_full_adds_stirling_only_above_one() {
        // log_input = false, x = 2, eps = 0: l = 2 − y·ln 2, plus Stirling for y = 3.
        let mut graph = Graph::<f64>::new();
        let x = graph.param_owned(arr2(&[[2.0, 2.0]]).into_dyn());
        let y = arr2(&[[1.0, 3.0]]).into_dyn();
        let loss = PoissonNll {
            log_input: false,
            full: true,
            eps: 0.0,
            reduction: Reduction::None,
        };
        let out = loss.apply(&mut graph, x, y.view()).unwrap();
        let ln2 = std::f64::consts::LN_2;
        let stirling = 3.0 * 3.0_f64.ln() - 3.0 + 0.5 * (2.0 * std::f64::consts::PI * 3.0).ln();
        let want = [2.0 - ln2, 2.0 - 3.0 * ln2 + stirling];
        let got: Vec<f64> = graph.value(out).iter().copied().collect();
        assert!(
            got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-15),
            "{got:?} vs {want:?}"
        );
        let sum = graph.sum(out);
        graph.backward(sum);
        // 1 − y / x
        assert_eq!(graph.grad(x).unwrap().as_slice().unwrap(), &[0.5, -0.5]);
    }
}
