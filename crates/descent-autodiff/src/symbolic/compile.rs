//! Compiling an expression into a reverse-mode [`Graph`], so that it can be
//! differentiated by backpropagation and minimised by any optimizer.

use ndarray::ArrayD;

use super::{Expr, Func, Number, Point, SymbolicError};
use crate::{Float, Graph, Var};

/// Adds the nodes computing `expr` to `graph` and returns the result node; each
/// variable is the node `inputs` gives for its name.
///
/// Operations are elementwise with broadcasting, so the inputs may be arrays of any
/// shape. Because the graph computes as it is built, `sign` and `step` (whose
/// derivatives are zero) enter as constants of the inputs' current values, and `max`
/// and `min` select by the current values.
///
/// ```
/// use descent_autodiff::{Graph, symbolic::{compile, parse}};
/// use ndarray::{arr0, ArrayD};
///
/// let f = parse("x^2 + 3*x*y + y^2").unwrap();
/// let mut graph = Graph::<f64>::new();
/// let x = graph.param_owned(arr0(1.0).into_dyn());
/// let y = graph.param_owned(arr0(2.0).into_dyn());
/// let out = compile(&f, &mut graph, &|name| match name { "x" => Some(x), "y" => Some(y), _ => None }).unwrap();
/// graph.backward(out);
/// assert_eq!(graph.scalar(out), 11.0);
/// assert_eq!(graph.grad(x).unwrap().sum(), 8.0);
/// assert_eq!(graph.grad(y).unwrap().sum(), 7.0);
/// ```
///
/// # Errors
/// [`SymbolicError::Unbound`] for a variable `inputs` does not know.
///
/// # Panics
/// When the inputs' shapes do not broadcast.
pub fn compile<T: Float>(
    expr: &Expr,
    graph: &mut Graph<T>,
    inputs: &dyn Fn(&str) -> Option<Var>,
) -> Result<Var, SymbolicError> {
    let go = |e: &Expr, graph: &mut Graph<T>| compile(e, graph, inputs);
    Ok(match expr {
        Expr::Num(n) => graph.scalar_constant(T::of(n.to_f64())),
        Expr::Const(c) => graph.scalar_constant(T::of(c.value())),
        Expr::Var(name) => {
            inputs(name).ok_or_else(|| SymbolicError::Unbound { name: name.clone() })?
        }
        Expr::Add(terms) => {
            let mut sum = go(&terms[0], graph)?;
            for term in &terms[1..] {
                let next = go(term, graph)?;
                sum = graph.add(sum, next);
            }
            sum
        }
        Expr::Mul(factors) => {
            let (coefficient, rest) = match factors[0].as_number() {
                Some(c) => (Some(c), &factors[1..]),
                None => (None, &factors[..]),
            };
            let mut product: Option<Var> = None;
            let mut divisor: Option<Var> = None;
            for factor in rest {
                let (target, node) = match factor {
                    Expr::Pow(base, e) if e.as_number() == Some(Number::int(-1)) => {
                        (&mut divisor, go(base, graph)?)
                    }
                    _ => (&mut product, go(factor, graph)?),
                };
                *target = Some(match *target {
                    Some(acc) => graph.mul(acc, node),
                    None => node,
                });
            }
            let mut out = match (product, coefficient) {
                (Some(p), Some(c)) => graph.mul_scalar(p, T::of(c.to_f64())),
                (Some(p), None) => p,
                (None, c) => graph.scalar_constant(T::of(c.map_or(1.0, Number::to_f64))),
            };
            if let Some(d) = divisor {
                out = graph.div(out, d);
            }
            out
        }
        Expr::Pow(base, exponent) => match (base.as_number(), exponent.as_number()) {
            (_, Some(p)) => {
                let b = go(base, graph)?;
                graph.powf(b, T::of(p.to_f64()))
            }
            (Some(b), None) => {
                let e = go(exponent, graph)?;
                graph.base_pow(e, T::of(b.to_f64()))
            }
            (None, None) => {
                let (b, e) = (go(base, graph)?, go(exponent, graph)?);
                graph.pow(b, e)
            }
        },
        Expr::Call(func, args) => {
            let x = go(&args[0], graph)?;
            match func {
                Func::Exp => graph.exp(x),
                Func::Ln => graph.ln(x),
                Func::Abs => graph.abs(x),
                Func::Sin => graph.sin(x),
                Func::Cos => graph.cos(x),
                Func::Tan => {
                    let (s, c) = (graph.sin(x), graph.cos(x));
                    graph.div(s, c)
                }
                Func::Tanh => graph.tanh(x),
                Func::Sigmoid => graph.sigmoid(x),
                Func::Relu => graph.relu(x),
                // Above 40, ln(1 + e^x) and x differ by e^-40, below an f64 ulp of x (PyTorch's
                // default threshold, 20, would be off by 2e-9).
                Func::Softplus => graph.softplus(x, T::one(), T::of(40.0)),
                Func::Sign | Func::Step => {
                    let values: ArrayD<T> = graph
                        .value(x)
                        .mapv(|v| T::of(super::eval::apply_f64(*func, &[v.as_f64()])));
                    graph.constant(values)
                }
                Func::Max | Func::Min => {
                    let y = go(&args[1], graph)?;
                    select(graph, *func, x, y)
                }
            }
        }
    })
}

/// `max(a, b)` or `min(a, b)`: a `where` on the current values when the shapes agree,
/// else `b + relu(a - b)` / `a - relu(a - b)` with broadcasting.
fn select<T: Float>(graph: &mut Graph<T>, func: Func, a: Var, b: Var) -> Var {
    if graph.shape(a) == graph.shape(b) {
        let pick_a: ArrayD<T> = ndarray::Zip::from(&graph.value(a))
            .and(&graph.value(b))
            .map_collect(|&x, &y| {
                let a_wins = (x > y) == (func == Func::Max);
                if a_wins { T::one() } else { T::zero() }
            });
        let mask = graph.constant(pick_a);
        return graph.where_mask(mask, a, b);
    }
    let gap = graph.sub(a, b);
    let positive = graph.relu(gap);
    match func {
        Func::Max => graph.add(b, positive),
        _ => graph.sub(a, positive),
    }
}

/// `(value, gradient)` at `at` by reverse mode: each variable becomes a scalar
/// parameter of a fresh [`Graph<f64>`], the expression is compiled and
/// backpropagated. Variables the result does not reach get gradient 0.
///
/// # Errors
/// [`SymbolicError::Unbound`] for a variable of `vars` or of the expression without a
/// value in `at`; the evaluation errors of [`Expr::eval`] (checked first, so that the
/// graph never computes a silent NaN).
pub fn reverse_gradient(
    expr: &Expr,
    at: &Point,
    vars: &[&str],
) -> Result<(f64, Vec<f64>), SymbolicError> {
    expr.eval(at)?;
    let mut graph = Graph::<f64>::new();
    graph.set_parallel(false);
    let mut nodes = Vec::with_capacity(vars.len());
    for name in vars {
        let value = *at.get(*name).ok_or_else(|| SymbolicError::Unbound {
            name: name.to_string(),
        })?;
        nodes.push(graph.param_owned(ndarray::arr0(value).into_dyn()));
    }
    let lookup =
        |name: &str| -> Option<Var> { vars.iter().position(|v| *v == name).map(|i| nodes[i]) };
    let mut extra = Vec::new();
    for name in expr.variables() {
        if lookup(&name).is_none() {
            let value = *at
                .get(&name)
                .ok_or_else(|| SymbolicError::Unbound { name: name.clone() })?;
            extra.push((name, value));
        }
    }
    let constants: Vec<(String, Var)> = extra
        .into_iter()
        .map(|(n, v)| (n, graph.scalar_constant(v)))
        .collect();
    let out = compile(expr, &mut graph, &|name| {
        lookup(name).or_else(|| constants.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
    })?;
    graph.backward(out);
    let gradient = nodes
        .iter()
        .map(|&n| graph.grad(n).map_or(0.0, |g| g.sum()))
        .collect();
    Ok((graph.scalar(out), gradient))
}
