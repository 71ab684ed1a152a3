//! The `ops.json` group: every operation's output and vector–Jacobian product, and
//! the second-order cases (Hessian, Hessian–vector product).

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use descent_autodiff::{Graph, Var};
use ndarray::ArrayD;
use serde_json::Value;

use super::{Report, dtype, float, index_tensor, max_relative_error, tensor};

/// Relative error floor: values below it are compared absolutely.
const FLOOR: f64 = 1e-6;
/// The bound for ops in float64.
const TOLERANCE: f64 = 1e-9;

/// Runs every case of `ops.json`.
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
    if let Some(cases) = file.get("second_order_cases").and_then(Value::as_array) {
        for case in cases {
            let name = case["name"].as_str().unwrap_or("<unnamed>");
            match super::second_order::run_case(case) {
                Ok(error) => report.check(name, error, TOLERANCE),
                Err(why) => report.unrunnable(name, &format!("{why:#}")),
            }
        }
    }
    Ok(())
}

fn attr_f64(attrs: &Value, key: &str) -> Result<f64> {
    float(
        attrs
            .get(key)
            .with_context(|| format!("attribute `{key}` missing"))?,
    )
}

fn attr_axis(attrs: &Value, key: &str) -> Result<Option<usize>> {
    match attrs.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(
            v.as_u64()
                .with_context(|| format!("attribute `{key}` is not an axis"))? as usize,
        )),
    }
}

fn run_case(case: &Value) -> Result<f64> {
    let op = case["op"].as_str().context("`op` missing")?;
    let attrs = &case["attrs"];
    let mut graph = Graph::<f64>::new();
    let mut vars: BTreeMap<String, Var> = BTreeMap::new();
    let mut index_inputs: BTreeMap<String, ArrayD<usize>> = BTreeMap::new();
    for (name, value) in case["inputs"].as_object().context("`inputs` missing")? {
        match dtype(value) {
            "f64" => {
                vars.insert(name.clone(), graph.param_owned(tensor(value)?));
            }
            "bool" => {
                vars.insert(name.clone(), graph.constant(tensor(value)?));
            }
            "i64" => {
                index_inputs.insert(name.clone(), index_tensor(value)?);
            }
            other => bail!("input `{name}` has unknown dtype {other}"),
        }
    }
    let var = |name: &str| {
        vars.get(name)
            .copied()
            .with_context(|| format!("input `{name}` missing"))
    };
    let keepdim = attrs
        .get("keepdim")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let unary_input = || var("x");
    let out = match op {
        "add" => graph.add(var("a")?, var("b")?),
        "sub" => graph.sub(var("a")?, var("b")?),
        "mul" => graph.mul(var("a")?, var("b")?),
        "div" => graph.div(var("a")?, var("b")?),
        "neg" => graph.neg(unary_input()?),
        "exp" => graph.exp(unary_input()?),
        "log" => graph.ln(unary_input()?),
        "sqrt" => graph.sqrt(unary_input()?),
        "tanh" => graph.tanh(unary_input()?),
        "sigmoid" => graph.sigmoid(unary_input()?),
        "relu" => graph.relu(unary_input()?),
        "sin" => graph.sin(unary_input()?),
        "cos" => graph.cos(unary_input()?),
        "abs" => graph.abs(unary_input()?),
        "leaky_relu" => graph.leaky_relu(unary_input()?, attr_f64(attrs, "negative_slope")?),
        "softplus" => graph.softplus(
            unary_input()?,
            attr_f64(attrs, "beta")?,
            attr_f64(attrs, "threshold")?,
        ),
        "gelu" => match attrs.get("approximate").and_then(Value::as_str) {
            Some("tanh") => graph.gelu_tanh(unary_input()?),
            Some("none") | None => graph.gelu(unary_input()?),
            Some(other) => bail!("unknown gelu approximation {other:?}"),
        },
        "pow" => {
            if attrs.get("exponent").is_some() {
                graph.powf(unary_input()?, attr_f64(attrs, "exponent")?)
            } else if attrs.get("base").is_some() {
                graph.base_pow(unary_input()?, attr_f64(attrs, "base")?)
            } else {
                graph.pow(var("x")?, var("y")?)
            }
        }
        "matmul" => {
            let b = if vars.contains_key("v") {
                var("v")?
            } else {
                var("b")?
            };
            graph.matmul(var("a")?, b)
        }
        "transpose" => {
            let axis0 = attrs["dim0"].as_u64().context("dim0")? as usize;
            let axis1 = attrs["dim1"].as_u64().context("dim1")? as usize;
            graph.transpose(unary_input()?, axis0, axis1)
        }
        "reshape" => {
            let shape: Vec<usize> = attrs["shape"]
                .as_array()
                .context("shape")?
                .iter()
                .map(|d| d.as_u64().map(|d| d as usize).context("shape entry"))
                .collect::<Result<_>>()?;
            graph.reshape(unary_input()?, &shape)
        }
        "sum" => graph.sum_axis(unary_input()?, attr_axis(attrs, "axis")?, keepdim),
        "mean" => graph.mean_axis(unary_input()?, attr_axis(attrs, "axis")?, keepdim),
        "max" => match attr_axis(attrs, "axis")? {
            None => graph.max(unary_input()?),
            Some(axis) => {
                let out = graph.max_axis(unary_input()?, axis, keepdim);
                if let Some(want) = case.get("aux").and_then(|aux| aux.get("indices")) {
                    let want = index_tensor(want)?;
                    if graph.argmax_of(out) != want.as_slice().context("indices")? {
                        bail!(
                            "argmax indices {:?} differ from {:?}",
                            graph.argmax_of(out),
                            want
                        );
                    }
                }
                out
            }
        },
        "softmax" => graph.softmax(unary_input()?, attr_axis(attrs, "axis")?.context("axis")?),
        "log_softmax" => {
            graph.log_softmax(unary_input()?, attr_axis(attrs, "axis")?.context("axis")?)
        }
        "logsumexp" => graph.logsumexp(
            unary_input()?,
            attr_axis(attrs, "axis")?.context("axis")?,
            keepdim,
        ),
        "concat" => graph.concat(
            &[var("a")?, var("b")?],
            attr_axis(attrs, "axis")?.context("axis")?,
        ),
        "slice" => {
            let mut x = unary_input()?;
            for (axis, key) in ["rows", "cols"].into_iter().enumerate() {
                let Some(range) = attrs.get(key) else {
                    continue;
                };
                let r: Vec<usize> = range
                    .as_array()
                    .context("slice range")?
                    .iter()
                    .map(|v| v.as_u64().map(|v| v as usize).context("slice bound"))
                    .collect::<Result<_>>()?;
                let end = r[1].min(graph.shape(x)[axis]);
                x = graph.slice(x, axis, r[0], end, r[2]);
            }
            x
        }
        "index_select" => {
            let idx = index_inputs.get("idx").context("idx missing")?;
            graph.index_select(unary_input()?, idx.as_slice().context("idx")?)
        }
        "gather" => {
            let idx = index_inputs.get("idx").context("idx missing")?;
            let columns = idx.shape()[1];
            graph.gather(unary_input()?, idx.as_slice().context("idx")?, columns)
        }
        "clamp" => graph.clamp(
            unary_input()?,
            attr_f64(attrs, "min")?,
            attr_f64(attrs, "max")?,
        ),
        "where" => graph.where_mask(var("mask")?, var("a")?, var("b")?),
        "norm" => {
            if attrs.get("ord").and_then(Value::as_f64).unwrap_or(2.0) != 2.0 {
                bail!("only the L2 norm is supported");
            }
            graph.norm(unary_input()?, attr_axis(attrs, "axis")?)
        }
        "composite" => {
            // out = 2·tanh(x@w + bias) − x@w
            let product = graph.matmul(var("x")?, var("w")?);
            let shifted = graph.add(product, var("bias")?);
            let activated = graph.tanh(shifted);
            let doubled = graph.mul_scalar(activated, 2.0);
            graph.sub(doubled, product)
        }
        other => bail!("unknown op `{other}`"),
    };
    let want = tensor(&case["output"])?;
    let got = graph.value(out).to_owned();
    if got.shape() != want.shape() {
        bail!(
            "output shape {:?}, expected {:?}",
            got.shape(),
            want.shape()
        );
    }
    let mut error = max_relative_error(got.as_slice().unwrap(), want.as_slice().unwrap(), FLOOR);
    let cotangent = graph.constant(tensor(&case["cotangent"])?);
    let weighted = graph.mul(out, cotangent);
    let total = graph.sum(weighted);
    graph.backward(total);
    for (name, want) in case["grads"].as_object().context("`grads` missing")? {
        let want = tensor(want)?;
        let got = graph
            .grad(var(name)?)
            .with_context(|| format!("no gradient for `{name}`"))?;
        if got.shape() != want.shape() {
            bail!(
                "gradient of `{name}` has shape {:?}, expected {:?}",
                got.shape(),
                want.shape()
            );
        }
        let got = got.as_standard_layout();
        error = error.max(max_relative_error(
            got.as_slice().unwrap(),
            want.as_slice().unwrap(),
            FLOOR,
        ));
    }
    Ok(error)
}
