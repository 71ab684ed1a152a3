//! The edge points of the reference README (section 6) and the errors for targets
//! that do not fit, each in f32 and f64.

use descent_autodiff::{Float, Graph};
use descent_loss::{
    Bce, BceWithLogits, CrossEntropy, KlDiv, KlReduction, LossError, Mse, Reduction,
};
use ndarray::{ArrayD, arr1, arr2};

fn array<T: Float>(values: ArrayD<f64>) -> ArrayD<T> {
    values.mapv(T::of)
}

fn as_f64<T: Float>(values: impl IntoIterator<Item = T>) -> Vec<f64> {
    values.into_iter().map(Float::as_f64).collect()
}

fn cross_entropy_at_extreme_logits<T: Float>() {
    // Row 0: logit 1000 on the right class: loss 0 exactly, gradient 0.
    // Row 1: −1000 on the right class against 1000: loss 2000, gradient
    // softmax − onehot = (1, 0) − (0, 1).
    // Row 2: 999 vs 1000 on class 0: loss 1 + ln(1 + e^−1).
    let x = arr2(&[[1000.0, -1000.0], [1000.0, -1000.0], [999.0, 1000.0]]).into_dyn();
    let mut graph = Graph::<T>::new();
    let x = graph.param_owned(array(x));
    let loss = CrossEntropy::new(Reduction::None)
        .apply(&mut graph, x, &[0, 1, 0])
        .unwrap();
    let sum = graph.sum(loss);
    graph.backward(sum);
    let value = as_f64(graph.value(loss).iter().copied());
    let want = [0.0, 2000.0, 1.0 + (-1.0_f64).exp().ln_1p()];
    for (got, want) in value.iter().zip(want) {
        assert!(
            (got - want).abs() <= 1e-6 * want.max(1.0),
            "{} {value:?}",
            T::NAME
        );
    }
    let grad = as_f64(graph.grad(x).unwrap().iter().copied());
    assert!(grad.iter().all(|g| g.is_finite()), "{} {grad:?}", T::NAME);
    assert_eq!(&grad[..4], &[0.0, 0.0, 1.0, -1.0], "{}", T::NAME);
}

#[test]
fn cross_entropy_stays_finite_at_logits_of_1000() {
    cross_entropy_at_extreme_logits::<f32>();
    cross_entropy_at_extreme_logits::<f64>();
}

fn bce_with_logits_far_out<T: Float>() {
    // ±100 gives a loss of 100 (not inf); ±800 saturates sigmoid exactly, no NaN.
    let x = arr1(&[100.0, -100.0, 800.0, -800.0, 100.0]).into_dyn();
    let y = arr1(&[0.0, 1.0, 0.0, 1.0, 1.0]).into_dyn();
    let mut graph = Graph::<T>::new();
    let x = graph.param_owned(array(x));
    let y = array::<T>(y);
    let loss = BceWithLogits::new(Reduction::None)
        .apply(&mut graph, x, y.view())
        .unwrap();
    let sum = graph.sum(loss);
    graph.backward(sum);
    let value = as_f64(graph.value(loss).iter().copied());
    assert_eq!(&value[..4], &[100.0, 100.0, 800.0, 800.0], "{}", T::NAME);
    assert!(value[4] >= 0.0 && value[4] < 1e-40, "{} {value:?}", T::NAME);
    let grad = as_f64(graph.grad(x).unwrap().iter().copied());
    assert_eq!(&grad[..4], &[1.0, -1.0, 1.0, -1.0], "{}", T::NAME);
    assert!(grad[4] <= 0.0 && grad[4] > -1e-40, "{} {grad:?}", T::NAME);
}

#[test]
fn bce_with_logits_at_100_gives_100() {
    bce_with_logits_far_out::<f32>();
    bce_with_logits_far_out::<f64>();
}

fn kl_zero_log_zero<T: Float>() {
    // p = 0 contributes exactly 0 whatever the input, even −inf: 0·log 0 = 0.
    let input = arr2(&[
        [(0.25_f64).ln(), f64::NEG_INFINITY],
        [(0.5_f64).ln(), (0.5_f64).ln()],
    ]);
    let p = arr2(&[[1.0, 0.0], [0.5, 0.5]]).into_dyn();
    let mut graph = Graph::<T>::new();
    let x = graph.param_owned(array(input.into_dyn()));
    let p = array::<T>(p);
    let loss = KlDiv::new(KlReduction::None)
        .apply(&mut graph, x, p.view())
        .unwrap();
    let sum = graph.sum(loss);
    graph.backward(sum);
    let value = as_f64(graph.value(loss).iter().copied());
    assert!(
        (value[0] - 4.0_f64.ln()).abs() < 1e-6,
        "{} {value:?}",
        T::NAME
    );
    assert_eq!(&value[1..], &[0.0, 0.0, 0.0], "{}", T::NAME);
    let grad = as_f64(graph.grad(x).unwrap().iter().copied());
    assert_eq!(grad, [-1.0, 0.0, -0.5, -0.5], "{}", T::NAME);
    let batchmean = KlDiv::default().apply(&mut graph, x, p.view()).unwrap();
    assert!((graph.scalar(batchmean).as_f64() - 4.0_f64.ln() / 2.0).abs() < 1e-6);
}

#[test]
fn kl_div_takes_zero_log_zero_as_zero() {
    kl_zero_log_zero::<f32>();
    kl_zero_log_zero::<f64>();
}

fn bce_clamps_logs_at_minus_100<T: Float>() {
    // p = 0 or 1 on the wrong side costs 100 each; on the right side 0.
    let p = arr1(&[0.0, 1.0, 0.0, 1.0]).into_dyn();
    let y = arr1(&[1.0, 0.0, 0.0, 1.0]).into_dyn();
    let mut graph = Graph::<T>::new();
    let x = graph.param_owned(array(p));
    let y = array::<T>(y);
    let loss = Bce::new(Reduction::None)
        .apply(&mut graph, x, y.view())
        .unwrap();
    let sum = graph.sum(loss);
    graph.backward(sum);
    assert_eq!(
        as_f64(graph.value(loss).iter().copied()),
        [100.0, 100.0, 0.0, 0.0]
    );
    let grad = as_f64(graph.grad(x).unwrap().iter().copied());
    assert!(grad.iter().all(|g| g.is_finite()), "{} {grad:?}", T::NAME);
    assert_eq!(&grad[2..], &[0.0, 0.0], "{}", T::NAME);
    assert!(grad[0] < -1e11 && grad[1] > 1e11, "{} {grad:?}", T::NAME);
}

#[test]
fn bce_clamps_its_logs() {
    bce_clamps_logs_at_minus_100::<f32>();
    bce_clamps_logs_at_minus_100::<f64>();
}

#[test]
fn a_target_of_another_shape_names_the_loss_and_both_shapes() {
    let mut graph = Graph::<f64>::new();
    let x = graph.param_owned(ndarray::Array2::zeros((6, 4)).into_dyn());
    let y = ndarray::Array2::<f64>::zeros((6, 3)).into_dyn();
    let error = Mse::default().apply(&mut graph, x, y.view()).unwrap_err();
    assert_eq!(
        error,
        LossError::ShapeMismatch {
            loss: "mse",
            input: vec![6, 4],
            target: vec![6, 3],
            expected: vec![6, 4]
        }
    );
    assert_eq!(
        error.to_string(),
        "mse: the target of shape [6, 3] does not fit the input of shape [6, 4] \
         (expected a target of shape [6, 4])"
    );
    // No broadcasting: [N, 1] against [N] is PyTorch's classic silent bug.
    let column = graph.param_owned(ndarray::Array2::zeros((6, 1)).into_dyn());
    let flat = ndarray::Array1::<f64>::zeros(6).into_dyn();
    assert!(matches!(
        Mse::default().apply(&mut graph, column, flat.view()),
        Err(LossError::ShapeMismatch { .. })
    ));
}

#[test]
fn targets_of_the_wrong_kind_or_with_gradients_are_errors() {
    let mut graph = Graph::<f64>::new();
    let x = graph.param_owned(ndarray::Array2::zeros((2, 3)).into_dyn());
    let error = Mse::default().apply(&mut graph, x, &[0, 1]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "mse: expected real-valued targets of the input's shape as the target, got class indices"
    );
    let trainable = graph.param_owned(ndarray::Array2::zeros((2, 3)).into_dyn());
    let error = Mse::default().apply(&mut graph, x, trainable).unwrap_err();
    assert_eq!(error, LossError::TargetRequiresGrad { loss: "mse" });
}

#[test]
fn an_empty_batch_sums_to_zero() {
    let mut graph = Graph::<f64>::new();
    let x = graph.param_owned(ndarray::Array2::zeros((0, 3)).into_dyn());
    let sum = CrossEntropy::new(Reduction::Sum)
        .apply(&mut graph, x, &[])
        .unwrap();
    assert_eq!(graph.scalar(sum), 0.0);
    let none = CrossEntropy::new(Reduction::None)
        .apply(&mut graph, x, &[])
        .unwrap();
    assert_eq!(graph.shape(none), &[0]);
}
