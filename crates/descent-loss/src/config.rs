//! `LossConfig`: every loss as one serde type, so that an experiment file can name
//! a loss and its hyperparameters.

use descent_autodiff::{Float, Graph, Operand, Var};
use serde::{Deserialize, Serialize};

use crate::{
    Bce, BceWithLogits, CrossEntropy, Huber, KlDiv, L1, LossError, Mse, MultiMargin, Nll,
    PoissonNll, Reduction, SmoothL1, Target,
};

/// Any loss of this crate with its hyperparameters, tagged by `name`.
///
/// In TOML: `loss = { name = "huber", delta = 0.5 }`; in JSON:
/// `{"name": "cross_entropy", "label_smoothing": 0.1}`. Omitted fields take their
/// defaults (PyTorch's, except kl_div's reduction, which is `batchmean`). An unknown
/// name or field is an error that lists the valid ones.
///
/// # Example
/// ```
/// use descent_autodiff::Graph;
/// use descent_loss::{Huber, LossConfig, Reduction};
/// use ndarray::arr1;
///
/// let config: LossConfig = toml::from_str(r#"name = "huber"
/// delta = 0.5"#).unwrap();
/// assert_eq!(config, LossConfig::Huber(Huber { delta: 0.5, reduction: Reduction::Mean }));
///
/// let mut graph = Graph::<f64>::new();
/// let x = graph.param_owned(arr1(&[2.0]).into_dyn());
/// let y = arr1(&[0.0]).into_dyn();
/// let loss = config.apply(&mut graph, x, y.view())?;
/// assert_eq!(graph.scalar(loss), 0.5 * (2.0 - 0.25));
///
/// let error = toml::from_str::<LossConfig>(r#"name = "hubber""#).unwrap_err();
/// assert!(error.message().starts_with("unknown variant `hubber`, expected one of `mse`"));
/// # Ok::<(), descent_loss::LossError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum LossConfig {
    /// [`Mse`]
    Mse(Mse),
    /// [`L1`]
    L1(L1),
    /// [`Huber`]
    Huber(Huber),
    /// [`SmoothL1`]
    SmoothL1(SmoothL1),
    /// [`Bce`]
    Bce(Bce),
    /// [`BceWithLogits`]
    BceWithLogits(BceWithLogits),
    /// [`CrossEntropy`]
    CrossEntropy(CrossEntropy),
    /// [`Nll`]
    Nll(Nll),
    /// [`KlDiv`]
    KlDiv(KlDiv),
    /// [`MultiMargin`]
    MultiMargin(MultiMargin),
    /// [`PoissonNll`]
    PoissonNll(PoissonNll),
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig::Mse(Mse::default())
    }
}

impl LossConfig {
    /// Every valid `name`, in the order of the enum.
    pub const NAMES: &'static [&'static str] = &[
        Mse::NAME,
        L1::NAME,
        Huber::NAME,
        SmoothL1::NAME,
        Bce::NAME,
        BceWithLogits::NAME,
        CrossEntropy::NAME,
        Nll::NAME,
        KlDiv::NAME,
        MultiMargin::NAME,
        PoissonNll::NAME,
    ];

    /// The loss's name, as written in configurations.
    pub fn name(&self) -> &'static str {
        match self {
            LossConfig::Mse(_) => Mse::NAME,
            LossConfig::L1(_) => L1::NAME,
            LossConfig::Huber(_) => Huber::NAME,
            LossConfig::SmoothL1(_) => SmoothL1::NAME,
            LossConfig::Bce(_) => Bce::NAME,
            LossConfig::BceWithLogits(_) => BceWithLogits::NAME,
            LossConfig::CrossEntropy(_) => CrossEntropy::NAME,
            LossConfig::Nll(_) => Nll::NAME,
            LossConfig::KlDiv(_) => KlDiv::NAME,
            LossConfig::MultiMargin(_) => MultiMargin::NAME,
            LossConfig::PoissonNll(_) => PoissonNll::NAME,
        }
    }

    /// Whether the loss takes one class index per row (`[N, C]` input) rather than
    /// real-valued targets of the input's shape.
    pub fn takes_classes(&self) -> bool {
        matches!(
            self,
            LossConfig::CrossEntropy(_) | LossConfig::Nll(_) | LossConfig::MultiMargin(_)
        )
    }

    /// Checks the hyperparameters without computing anything, so that a run can
    /// reject a bad configuration before it starts.
    ///
    /// # Errors
    /// [`LossError::InvalidParameter`] for a hyperparameter out of its range.
    pub fn validate(&self) -> Result<(), LossError> {
        match self {
            LossConfig::Huber(loss) => loss.validate(),
            LossConfig::SmoothL1(loss) => loss.validate(),
            LossConfig::CrossEntropy(loss) => loss.validate(),
            LossConfig::MultiMargin(loss) => loss.validate(),
            LossConfig::PoissonNll(loss) => loss.validate(),
            LossConfig::BceWithLogits(BceWithLogits {
                pos_weight: Some(weights),
                ..
            }) => match weights.iter().find(|w| !w.is_finite()) {
                Some(&value) => Err(LossError::InvalidParameter {
                    loss: BceWithLogits::NAME,
                    parameter: "pos_weight",
                    value,
                    expected: "finite",
                }),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }

    /// The loss of `input` against `target` as a graph node.
    ///
    /// # Errors
    /// Those of the chosen loss's `apply`.
    pub fn apply<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        input: Var,
        target: impl Into<Target<'a, T>>,
    ) -> Result<Var, LossError> {
        let target = target.into();
        match self {
            LossConfig::Mse(loss) => loss.apply(graph, input, target),
            LossConfig::L1(loss) => loss.apply(graph, input, target),
            LossConfig::Huber(loss) => loss.apply(graph, input, target),
            LossConfig::SmoothL1(loss) => loss.apply(graph, input, target),
            LossConfig::Bce(loss) => loss.apply(graph, input, target),
            LossConfig::BceWithLogits(loss) => loss.apply(graph, input, target),
            LossConfig::CrossEntropy(loss) => loss.apply(graph, input, target),
            LossConfig::Nll(loss) => loss.apply(graph, input, target),
            LossConfig::KlDiv(loss) => loss.apply(graph, input, target),
            LossConfig::MultiMargin(loss) => loss.apply(graph, input, target),
            LossConfig::PoissonNll(loss) => loss.apply(graph, input, target),
        }
    }

    /// Whether [`LossConfig::apply_affine`] can compute this loss in one pass (mean
    /// squared error, summed or averaged), so a caller can skip preparing for it.
    pub fn fuses_with_affine(&self) -> bool {
        matches!(self, LossConfig::Mse(loss) if loss.reduction != Reduction::None)
    }

    /// The loss of the one-output affine map `x w + b` against `target` in one pass
    /// over `x`, where the loss can do that (mean squared error, see
    /// [`Mse::apply_affine`]); `None` otherwise, and the caller composes
    /// `apply(graph, graph.affine(x, w, b), target)` instead, which has the same bits.
    ///
    /// # Errors
    /// As the loss's `apply_affine`.
    pub fn apply_affine<'a, T: Float>(
        &self,
        graph: &mut Graph<T>,
        x: impl Into<Operand<'a, T>>,
        [w, b]: [Var; 2],
        target: impl Into<Operand<'a, T>>,
    ) -> Result<Option<Var>, LossError> {
        match self {
            LossConfig::Mse(loss) => loss.apply_affine(graph, x, [w, b], target),
            _ => Ok(None),
        }
    }
}

macro_rules! from_loss {
    ($($loss:ident),*) => {$(
        impl From<$loss> for LossConfig {
            fn from(loss: $loss) -> Self {
                LossConfig::$loss(loss)
            }
        }
    )*};
}

from_loss!(
    Mse,
    L1,
    Huber,
    SmoothL1,
    Bce,
    BceWithLogits,
    CrossEntropy,
    Nll,
    KlDiv,
    MultiMargin,
    PoissonNll
);
