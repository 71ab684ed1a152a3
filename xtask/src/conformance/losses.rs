//! The `losses.json` group: each loss's value and its gradient by the input, built
//! from the case's PyTorch name and keyword arguments through `LossConfig`.

use anyhow::{Context, Result, bail};
use descent_autodiff::Graph;
use descent_loss::LossConfig;
use serde_json::{Map, Value};

use super::{Report, dtype, float_field, index_tensor, max_relative_error, relative_error, tensor};

/// Relative error floor: values below it are compared absolutely.
const FLOOR: f64 = 1e-6;
/// The bound for losses in float64.
const TOLERANCE: f64 = 1e-10;

/// Runs every case of `losses.json`.
pub fn run(file: &Value, report: &mut Report) -> Result<()> {
    for case in file["cases"]
        .as_array()
        .context("`cases` is not an array")?
    {
        let name = case["name"].as_str().unwrap_or("<unnamed>");
        match run_case(case) {
            Ok(error) => report.check(name, error, TOLERANCE),
            Err(why) => report.unrunnable(name, &format!("{why:#}")),
        }
    }
    Ok(())
}

/// descent's name for a `torch.nn.functional` loss.
fn loss_name(torch: &str) -> Result<&'static str> {
    Ok(match torch {
        "mse_loss" => "mse",
        "l1_loss" => "l1",
        "huber_loss" => "huber",
        "smooth_l1_loss" => "smooth_l1",
        "binary_cross_entropy" => "bce",
        "binary_cross_entropy_with_logits" => "bce_with_logits",
        "cross_entropy" => "cross_entropy",
        "nll_loss" => "nll",
        "kl_div" => "kl_div",
        "multi_margin_loss" => "multi_margin",
        "poisson_nll_loss" => "poisson_nll",
        other => bail!("no descent loss for torch.nn.functional.{other}"),
    })
}

/// The case's loss as a `LossConfig`: its name and every keyword argument, tensor
/// arguments (`pos_weight`) flattened to their data.
fn config(case: &Value) -> Result<LossConfig> {
    let mut object = Map::new();
    let torch = case["loss"].as_str().context("`loss` missing")?;
    object.insert("name".into(), loss_name(torch)?.into());
    for (key, value) in case["args"].as_object().context("`args` missing")? {
        let value = match value.get("data") {
            Some(_) => tensor(value)?.iter().copied().collect::<Vec<f64>>().into(),
            None => value.clone(),
        };
        object.insert(key.clone(), value);
    }
    serde_json::from_value(Value::Object(object)).context("the arguments do not fit the loss")
}

/// The largest relative error over the value and every gradient element.
fn run_case(case: &Value) -> Result<f64> {
    let loss = config(case)?;
    let mut graph = Graph::<f64>::new();
    let input = graph.param_owned(tensor(&case["input"]).context("`input`")?);
    let out = match dtype(&case["target"]) {
        "i64" => {
            let classes = index_tensor(&case["target"]).context("`target`")?;
            let classes: Vec<usize> = classes.iter().copied().collect();
            loss.apply(&mut graph, input, &classes)?
        }
        _ => {
            let target = tensor(&case["target"]).context("`target`")?;
            loss.apply(&mut graph, input, target.view())?
        }
    };
    graph.backward(out);
    let value_error = relative_error(graph.scalar(out), float_field(case, "value")?, FLOOR);
    let want = tensor(&case["grad_input"]).context("`grad_input`")?;
    let grad = graph.grad(input).context("the input got no gradient")?;
    if grad.shape() != want.shape() {
        bail!(
            "gradient of shape {:?}, expected {:?}",
            grad.shape(),
            want.shape()
        );
    }
    let grad: Vec<f64> = grad.iter().copied().collect();
    let want: Vec<f64> = want.iter().copied().collect();
    Ok(value_error.max(max_relative_error(&grad, &want, FLOOR)))
}
