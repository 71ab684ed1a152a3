//! W3 `autodiff-rosenbrock` and W3b `autodiff-deep-chain`: the cost of reverse mode
//! over whole-vector operations, and the per-operation overhead of the graph.

use anyhow::{Result, ensure};
use descent_autodiff::Graph;
use ndarray::{ArcArray, Array1, IxDyn};
use serde_json::{Map, json};

use super::{Measurement, Settings, median_of};
use crate::conformance::rosenbrock;

/// Largest `|got − want| / max(|want|, 1)`.
fn max_error(got: &[f64], want: &[f64]) -> f64 {
    got.iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs() / w.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// W3: 1,000 value-only and 1,000 value-and-gradient evaluations of Rosenbrock.
pub fn rosenbrock_workload(settings: &Settings) -> Result<Measurement> {
    let (dimension, evaluations) = if settings.quick {
        (1_000, 50)
    } else {
        (10_000, 1_000)
    };
    let x: ArcArray<f64, IxDyn> =
        Array1::from_shape_fn(dimension, |i| if i % 2 == 0 { -1.2 } else { 1.0 })
            .into_dyn()
            .into_shared();
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    let (value_seconds, value) = median_of(settings.repetitions, || {
        let mut value = 0.0;
        for _ in 0..evaluations {
            graph.clear();
            let input = graph.input(&x);
            let f = rosenbrock(&mut graph, input);
            value = graph.scalar(f);
        }
        value
    });
    let (seconds, gradient) = median_of(settings.repetitions, || {
        let mut input = None;
        for _ in 0..evaluations {
            graph.clear();
            let x_var = graph.param(&x);
            let f = rosenbrock(&mut graph, x_var);
            graph.backward(f);
            input = Some(x_var);
        }
        let input = input.expect("at least one evaluation");
        graph
            .grad(input)
            .expect("gradient")
            .iter()
            .copied()
            .collect::<Vec<_>>()
    });
    let xs = x.as_slice().expect("contiguous");
    let closed_form: Vec<f64> = (0..dimension)
        .map(|i| {
            let mut g = 0.0;
            if i + 1 < dimension {
                g += -400.0 * xs[i] * (xs[i + 1] - xs[i] * xs[i]) - 2.0 * (1.0 - xs[i]);
            }
            if i > 0 {
                g += 200.0 * (xs[i] - xs[i - 1] * xs[i - 1]);
            }
            g
        })
        .collect();
    let error = max_error(&gradient, &closed_form);
    ensure!(
        error < 1e-12,
        "W3 gradient differs from the closed form by {error:e}"
    );
    ensure!(value.is_finite(), "W3 value is not finite");
    let mut extra = Map::new();
    extra.insert("value_seconds".into(), json!(value_seconds));
    extra.insert("ratio".into(), json!(seconds / value_seconds));
    extra.insert("grad_max_rel_err".into(), json!(error));
    extra.insert("dimension".into(), json!(dimension));
    Ok(Measurement {
        seconds,
        threads: 1,
        extra,
    })
}

/// W3b: 100 forward-and-backward passes through 1,000 layers `x = tanh(x ⊙ w + b)`.
pub fn deep_chain_workload(settings: &Settings) -> Result<Measurement> {
    const WIDTH: usize = 16;
    let (layers, evaluations) = if settings.quick {
        (100, 10)
    } else {
        (1_000, 100)
    };
    let parameter = |layer: usize, offset: f64| -> ArcArray<f64, IxDyn> {
        Array1::from_shape_fn(WIDTH, |j| {
            ((layer * WIDTH + j) as f64 * 0.37 + offset).sin() * 0.5 + offset
        })
        .into_dyn()
        .into_shared()
    };
    let weights: Vec<_> = (0..layers).map(|l| parameter(l, 1.0)).collect();
    let biases: Vec<_> = (0..layers).map(|l| parameter(l, 0.0)).collect();
    let x0: ArcArray<f64, IxDyn> = Array1::from_shape_fn(WIDTH, |j| (j as f64 * 0.5).cos())
        .into_dyn()
        .into_shared();
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    let mut weight_vars = Vec::with_capacity(layers);
    let mut bias_vars = Vec::with_capacity(layers);
    let (seconds, _) = median_of(settings.repetitions, || {
        for _ in 0..evaluations {
            graph.clear();
            weight_vars.clear();
            bias_vars.clear();
            let mut x = graph.input(&x0);
            for (w, b) in weights.iter().zip(&biases) {
                let (w, b) = (graph.param(w), graph.param(b));
                weight_vars.push(w);
                bias_vars.push(b);
                let scaled = graph.mul(x, w);
                let shifted = graph.add(scaled, b);
                x = graph.tanh(shifted);
            }
            let loss = graph.sum(x);
            graph.backward(loss);
        }
    });
    // An independent check: the same chain differentiated by hand.
    let mut activations = vec![x0.as_slice().unwrap().to_vec()];
    for (w, b) in weights.iter().zip(&biases) {
        let previous = activations.last().unwrap();
        let next = (0..WIDTH)
            .map(|j| (previous[j] * w[j] + b[j]).tanh())
            .collect();
        activations.push(next);
    }
    let mut upstream = vec![1.0; WIDTH];
    let mut error: f64 = 0.0;
    for layer in (0..layers).rev() {
        let (input, output) = (&activations[layer], &activations[layer + 1]);
        let local: Vec<f64> = (0..WIDTH)
            .map(|j| upstream[j] * (1.0 - output[j] * output[j]))
            .collect();
        let weight_grad: Vec<f64> = (0..WIDTH).map(|j| local[j] * input[j]).collect();
        let got_w = graph.grad(weight_vars[layer]).expect("weight gradient");
        let got_b = graph.grad(bias_vars[layer]).expect("bias gradient");
        error = error.max(max_error(got_w.as_slice().unwrap(), &weight_grad));
        error = error.max(max_error(got_b.as_slice().unwrap(), &local));
        upstream = (0..WIDTH).map(|j| local[j] * weights[layer][j]).collect();
    }
    ensure!(
        error < 1e-12,
        "W3b gradients differ from the hand-written chain rule by {error:e}"
    );
    let operations = (3 * layers * evaluations) as f64;
    let mut extra = Map::new();
    extra.insert("per_op_us".into(), json!(seconds / operations * 1e6));
    extra.insert("grad_max_rel_err".into(), json!(error));
    Ok(Measurement {
        seconds,
        threads: 1,
        extra,
    })
}
