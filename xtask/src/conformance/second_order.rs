//! The second-order cases of `ops.json`: a full Hessian and a Hessian–vector product,
//! computed by reverse mode over dual numbers.

use anyhow::{Context, Result, bail};
use descent_autodiff::second_order::{hessian, hessian_vector_product};
use descent_autodiff::{Dual, Graph, Var};
use ndarray::Array1;
use serde_json::Value;

use super::{float_field, floats, max_relative_error, tensor};

const FLOOR: f64 = 1e-6;

/// `f(x, y) = x^2*y + sin(x*y)` on a 2-vector.
fn x2y_plus_sin_xy(g: &mut Graph<Dual<f64>>, v: Var) -> Var {
    let x = g.slice(v, 0, 0, 1, 1);
    let y = g.slice(v, 0, 1, 2, 1);
    let xx = g.mul(x, x);
    let xxy = g.mul(xx, y);
    let xy = g.mul(x, y);
    let s = g.sin(xy);
    let f = g.add(xxy, s);
    g.sum(f)
}

/// Rosenbrock `Σ 100(x_{i+1} − x_i²)² + (1 − x_i)²` with whole-vector slices.
pub fn rosenbrock<T: descent_autodiff::Float>(g: &mut Graph<T>, x: Var) -> Var {
    let n = g.shape(x)[0];
    let head = g.slice(x, 0, 0, n - 1, 1);
    let tail = g.slice(x, 0, 1, n, 1);
    let head_sq = g.mul(head, head);
    let gap = g.sub(tail, head_sq);
    let gap_sq = g.mul(gap, gap);
    let scaled = g.mul_scalar(gap_sq, T::of(100.0));
    let one_minus = g.scalar_sub(T::one(), head);
    let second = g.mul(one_minus, one_minus);
    let terms = g.add(scaled, second);
    g.sum(terms)
}

/// Runs one second-order case, returning its largest relative error.
pub fn run_case(case: &Value) -> Result<f64> {
    let function = case["function"].as_str().context("`function` missing")?;
    let point = Array1::from(floats(&case["point"])?);
    let name = case["name"].as_str().unwrap_or_default();
    let mut error: f64 = 0.0;
    if function.replace(' ', "").contains("x^2*y+sin(x*y)") {
        let (value, gradient, h) = hessian(x2y_plus_sin_xy, point.view());
        error = error.max(max_relative_error(
            &[value],
            &[float_field(case, "value")?],
            FLOOR,
        ));
        error = error.max(max_relative_error(
            gradient.as_slice().unwrap(),
            &floats(&case["gradient"])?,
            FLOOR,
        ));
        let want = tensor(&case["hessian"])?;
        error = error.max(max_relative_error(
            h.as_slice().unwrap(),
            want.as_slice().unwrap(),
            FLOOR,
        ));
    } else if name.starts_with("rosenbrock") || function.contains("100*(x_{i+1} - x_i^2)^2") {
        let v = Array1::from(floats(&case["vector"])?);
        let result = hessian_vector_product(rosenbrock, point.view(), v.view());
        error = error.max(max_relative_error(
            &[result.value],
            &[float_field(case, "value")?],
            FLOOR,
        ));
        error = error.max(max_relative_error(
            result.gradient.as_slice().unwrap(),
            &floats(&case["gradient"])?,
            FLOOR,
        ));
        error = error.max(max_relative_error(
            result.hvp.as_slice().unwrap(),
            &floats(&case["hvp"])?,
            FLOOR,
        ));
        if let Some(want) = case.get("hessian") {
            let (_, _, h) = hessian(rosenbrock, point.view());
            let want = tensor(want)?;
            error = error.max(max_relative_error(
                h.as_slice().unwrap(),
                want.as_slice().unwrap(),
                FLOOR,
            ));
        }
    } else {
        bail!("no builder for the function {function:?}");
    }
    Ok(error)
}
