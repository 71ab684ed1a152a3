//! Every case of the recorded PyTorch losses (`tests/data/reference/losses.json`):
//! the loss value and its gradient by the input, within 1e-10 relative in f64.

use std::path::PathBuf;

use descent_autodiff::Graph;
use descent_loss::LossConfig;
use ndarray::{ArrayD, Dimension, IxDyn};
use serde_json::{Map, Value};

/// The relative tolerance the issue sets, with an absolute floor for values near 0.
const RTOL: f64 = 1e-10;
const ATOL: f64 = 1e-14;

fn reference() -> Value {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/reference/losses.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("losses.json is valid JSON")
}

/// A float, accepting the strings "inf", "-inf" and "nan" of the reference format.
fn float(value: &Value) -> f64 {
    match value {
        Value::Number(n) => n.as_f64().expect("a float"),
        Value::String(s) => match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            other => panic!("not a float: {other}"),
        },
        other => panic!("not a float: {other}"),
    }
}

fn tensor(value: &Value) -> ArrayD<f64> {
    let shape: Vec<usize> = value["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let data: Vec<f64> = value["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(float)
        .collect();
    ArrayD::from_shape_vec(IxDyn(&shape), data).expect("data fits the shape")
}

/// The configuration named by a case: PyTorch's function name and keyword args.
fn config(case: &Value) -> LossConfig {
    let name = match case["loss"].as_str().unwrap() {
        "mse_loss" => "mse",
        "l1_loss" => "l1",
        "huber_loss" => "huber",
        "smooth_l1_loss" => "smooth_l1",
        "binary_cross_entropy" => "bce",
        "binary_cross_entropy_with_logits" => "bce_with_logits",
        "nll_loss" => "nll",
        "multi_margin_loss" => "multi_margin",
        "poisson_nll_loss" => "poisson_nll",
        other => other,
    };
    let mut object = Map::new();
    object.insert("name".into(), name.into());
    for (key, value) in case["args"].as_object().unwrap() {
        let value = match value.get("data") {
            Some(data) => data.clone(),
            None => value.clone(),
        };
        object.insert(key.clone(), value);
    }
    serde_json::from_value(Value::Object(object))
        .unwrap_or_else(|e| panic!("{}: {e}", case["name"]))
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= ATOL + RTOL * want.abs() || (got.is_nan() && want.is_nan()) || got == want
}

#[test]
fn every_reference_case_matches_pytorch() {
    let file = reference();
    let cases = file["cases"].as_array().unwrap();
    assert_eq!(cases.len() as u64, file["num_cases"].as_u64().unwrap());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let loss = config(case);
        let mut graph = Graph::<f64>::new();
        let input = graph.param_owned(tensor(&case["input"]));
        let target = tensor(&case["target"]);
        let out = if case["target"]["dtype"] == "i64" {
            let classes: Vec<usize> = target.iter().map(|&c| c as usize).collect();
            loss.apply(&mut graph, input, &classes)
        } else {
            loss.apply(&mut graph, input, target.view())
        }
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        graph.backward(out);
        let (value, want) = (graph.scalar(out), float(&case["value"]));
        if !close(value, want) {
            failures.push(format!("{name}: value {value} != {want}"));
        }
        let want_grad = tensor(&case["grad_input"]);
        let grad = graph.grad(input).expect("the input gets a gradient");
        assert_eq!(grad.shape(), want_grad.shape(), "{name}");
        for ((index, &got), &want) in grad.indexed_iter().zip(want_grad.iter()) {
            if !close(got, want) {
                failures.push(format!("{name}: grad{:?} {got} != {want}", index.slice()));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
