//! Property tests: every loss's gradient against central finite differences (f64,
//! relative error below 1e-6) on random inputs, targets and hyperparameters, and the
//! f32 results against the f64 ones.

use descent_autodiff::{Float, Graph};
use descent_loss::{
    Bce, BceWithLogits, CrossEntropy, Huber, KlDiv, KlReduction, L1, LossConfig, Mse, MultiMargin,
    Nll, PoissonNll, Reduction, SmoothL1,
};
use ndarray::{Array2, ArrayD, Dimension, IxDyn};
use proptest::prelude::*;

/// A target: real values of the input's shape or one class per row.
#[derive(Clone, Debug)]
enum Labels<T> {
    Real(ArrayD<T>),
    Classes(Vec<usize>),
}

/// The loss, reduced to a scalar by a fixed cotangent when it is not one, and the
/// gradient of that scalar by the input.
fn evaluate<T: Float>(config: &LossConfig, x: &ArrayD<T>, labels: &Labels<T>) -> (f64, ArrayD<T>) {
    let mut graph = Graph::<T>::new();
    let input = graph.param_owned(x.clone());
    let out = match labels {
        Labels::Real(y) => config.apply(&mut graph, input, y.view()),
        Labels::Classes(classes) => config.apply(&mut graph, input, classes),
    }
    .unwrap();
    let root = if graph.shape(out).is_empty() {
        out
    } else {
        // A cotangent that differs per element, so `none` is checked element by element.
        let shape = graph.shape(out).to_vec();
        let cotangent = ArrayD::from_shape_fn(IxDyn(&shape), |index| {
            let flat = index.slice().iter().fold(0usize, |acc, &i| acc * 7 + i);
            T::of(0.5 + (flat as f64 * 0.37).fract())
        });
        let cotangent = graph.constant(cotangent);
        let weighted = graph.mul(out, cotangent);
        graph.sum(weighted)
    };
    graph.backward(root);
    (
        graph.scalar(root).as_f64(),
        graph.grad(input).unwrap().to_owned(),
    )
}

/// Checks the analytic gradient against central differences, relative error < 1e-6
/// (with a floor of 0.1 under which errors count absolutely).
fn check_gradient(
    config: &LossConfig,
    x: &ArrayD<f64>,
    labels: &Labels<f64>,
) -> Result<(), TestCaseError> {
    let (_, grad) = evaluate(config, x, labels);
    for (i, &analytic) in grad.iter().enumerate() {
        let h = 1e-6 * x.as_slice().unwrap()[i].abs().max(1.0);
        let at = |delta: f64| {
            let mut moved = x.clone();
            moved.as_slice_mut().unwrap()[i] += delta;
            evaluate(config, &moved, labels).0
        };
        let numeric = (at(h) - at(-h)) / (2.0 * h);
        let error = (analytic - numeric).abs() / analytic.abs().max(numeric.abs()).max(0.1);
        prop_assert!(
            error < 1e-6,
            "{config:?}: d/dx[{i}] analytic {analytic} vs numeric {numeric} (relative error {error:e})"
        );
    }
    Ok(())
}

/// Checks the f32 value and gradient against the f64 ones.
fn check_f32(
    config: &LossConfig,
    x: &ArrayD<f64>,
    labels: &Labels<f64>,
) -> Result<(), TestCaseError> {
    let (value, grad) = evaluate(config, x, labels);
    let labels32 = match labels {
        Labels::Real(y) => Labels::Real(y.mapv(|v| v as f32)),
        Labels::Classes(c) => Labels::Classes(c.clone()),
    };
    let (value32, grad32) = evaluate(config, &x.mapv(|v| v as f32), &labels32);
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-4 * a.abs().max(b.abs()).max(1e-2);
    prop_assert!(
        close(value, value32),
        "{config:?}: f64 {value} vs f32 {value32}"
    );
    for (&g, &g32) in grad.iter().zip(&grad32) {
        prop_assert!(
            close(g, g32 as f64),
            "{config:?}: f64 grad {g} vs f32 {g32}"
        );
    }
    Ok(())
}

fn reduction() -> impl Strategy<Value = Reduction> {
    prop_oneof![
        Just(Reduction::Mean),
        Just(Reduction::Sum),
        Just(Reduction::None)
    ]
}

/// `[N, C]` input and same-shaped target drawn from the two ranges.
fn pair(
    x: std::ops::Range<f64>,
    y: std::ops::Range<f64>,
) -> impl Strategy<Value = (ArrayD<f64>, ArrayD<f64>)> {
    (1usize..4, 1usize..5).prop_flat_map(move |(n, c)| {
        (
            prop::collection::vec(x.clone(), n * c),
            prop::collection::vec(y.clone(), n * c),
        )
            .prop_map(move |(x, y)| {
                (
                    Array2::from_shape_vec((n, c), x).unwrap().into_dyn(),
                    Array2::from_shape_vec((n, c), y).unwrap().into_dyn(),
                )
            })
    })
}

/// `[N, C]` input with one class per row.
fn with_classes(x: std::ops::Range<f64>) -> impl Strategy<Value = (ArrayD<f64>, Vec<usize>)> {
    (1usize..4, 2usize..6).prop_flat_map(move |(n, c)| {
        (
            prop::collection::vec(x.clone(), n * c),
            prop::collection::vec(0..c, n),
        )
            .prop_map(move |(x, classes)| {
                (
                    Array2::from_shape_vec((n, c), x).unwrap().into_dyn(),
                    classes,
                )
            })
    })
}

/// Whether every `x − y` keeps `margin` away from each kink in `kinks` (where the
/// loss has no derivative, so finite differences do not apply).
fn away_from_kinks(x: &ArrayD<f64>, y: &ArrayD<f64>, kinks: &[f64]) -> bool {
    x.iter()
        .zip(y)
        .all(|(a, b)| kinks.iter().all(|k| ((a - b).abs() - k).abs() > 1e-3))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn regression_gradients((x, y) in pair(-3.0..3.0, -3.0..3.0), reduction in reduction(),
                            delta in 0.1f64..2.0) {
        let labels = Labels::Real(y.clone());
        check_gradient(&Mse::new(reduction).into(), &x, &labels)?;
        check_f32(&Mse::new(reduction).into(), &x, &labels)?;
        if away_from_kinks(&x, &y, &[0.0, delta]) {
            for config in [
                LossConfig::from(L1::new(reduction)),
                Huber { delta, reduction }.into(),
                SmoothL1 { beta: delta, reduction }.into(),
                SmoothL1 { beta: 0.0, reduction }.into(),
            ] {
                check_gradient(&config, &x, &labels)?;
                check_f32(&config, &x, &labels)?;
            }
        }
    }

    #[test]
    fn binary_cross_entropy_gradients((p, y) in pair(0.02..0.98, 0.0..1.0), reduction in reduction()) {
        let labels = Labels::Real(y.mapv(|v| if v < 0.3 { 0.0 } else if v > 0.7 { 1.0 } else { v }));
        check_gradient(&Bce::new(reduction).into(), &p, &labels)?;
        check_f32(&Bce::new(reduction).into(), &p, &labels)?;
    }

    #[test]
    fn bce_with_logits_gradients((x, y) in pair(-8.0..8.0, 0.0..1.0), reduction in reduction(),
                                 weights in prop::collection::vec(0.25f64..3.0, 4)) {
        let labels = Labels::Real(y);
        let classes = x.shape()[1];
        for config in [
            LossConfig::from(BceWithLogits::new(reduction)),
            BceWithLogits::with_pos_weight(weights[..classes].to_vec(), reduction).into(),
            BceWithLogits::with_pos_weight(weights[..1].to_vec(), reduction).into(),
        ] {
            check_gradient(&config, &x, &labels)?;
            check_f32(&config, &x, &labels)?;
        }
    }

    #[test]
    fn class_loss_gradients((x, classes) in with_classes(-5.0..5.0), reduction in reduction(),
                            smoothing in 0.0f64..0.5, margin in 0.25f64..2.0, p in 1u32..3) {
        let labels = Labels::Classes(classes.clone());
        for config in [
            LossConfig::from(CrossEntropy::new(reduction)),
            CrossEntropy { label_smoothing: smoothing, reduction }.into(),
            Nll::new(reduction).into(),
        ] {
            check_gradient(&config, &x, &labels)?;
            check_f32(&config, &x, &labels)?;
        }
        // The hinge has a kink where a margin is met exactly.
        let clear = x.outer_iter().zip(&classes).all(|(row, &y)| {
            row.iter().enumerate().all(|(i, &v)| i == y || (margin - row[y] + v).abs() > 1e-3)
        });
        if clear {
            let config = LossConfig::from(MultiMargin { p, margin, reduction });
            check_gradient(&config, &x, &labels)?;
            check_f32(&config, &x, &labels)?;
        }
    }

    #[test]
    fn kl_div_gradients((x, logits) in pair(-4.0..0.0, -3.0..3.0), zeros in prop::collection::vec(any::<bool>(), 20),
                        reduction in prop_oneof![Just(KlReduction::BatchMean), Just(KlReduction::Mean),
                                                 Just(KlReduction::Sum), Just(KlReduction::None)]) {
        // Target rows are probabilities, some exactly 0 (0·log 0 = 0).
        let mut p = logits.mapv(f64::exp);
        for (v, &zero) in p.iter_mut().zip(&zeros) {
            if zero {
                *v = 0.0;
            }
        }
        for mut row in p.outer_iter_mut() {
            let total: f64 = row.sum();
            if total > 0.0 {
                row.mapv_inplace(|v| v / total);
            }
        }
        let config = LossConfig::from(KlDiv { log_target: false, reduction });
        check_gradient(&config, &x, &Labels::Real(p.clone()))?;
        check_f32(&config, &x, &Labels::Real(p))?;
        let log_config = LossConfig::from(KlDiv { log_target: true, reduction });
        let log_p = Labels::Real(logits - 1.0);
        check_gradient(&log_config, &x, &log_p)?;
        check_f32(&log_config, &x, &log_p)?;
    }

    #[test]
    fn poisson_nll_gradients((x, y) in pair(-2.0..2.0, 0.0..6.0), reduction in reduction(), full: bool) {
        let counts = Labels::Real(y.mapv(f64::floor));
        let log_input = LossConfig::from(PoissonNll { full, reduction, ..PoissonNll::default() });
        check_gradient(&log_input, &x, &counts)?;
        check_f32(&log_input, &x, &counts)?;
        let rates = x.mapv(|v| v.exp());
        let plain = LossConfig::from(PoissonNll { log_input: false, full, reduction, ..PoissonNll::default() });
        check_gradient(&plain, &rates, &counts)?;
        check_f32(&plain, &rates, &counts)?;
    }
}
