//! Forward mode: evaluating an expression on [`Dual`] numbers gives a partial
//! derivative along with the value, without forming the derivative's formula.

use super::eval::eval_in;
use super::{Expr, Point, SymbolicError};
use crate::Dual;

/// `(value, d expr / d wrt)` at `at` by forward mode: one pass with `wrt` seeded.
///
/// ```
/// use descent_autodiff::symbolic::{forward_derivative, parse, Point};
/// let f = parse("(3*x + 2)^2").unwrap();
/// let at = Point::from([("x".into(), 1.0)]);
/// assert_eq!(forward_derivative(&f, &at, "x").unwrap(), (25.0, 30.0));
/// ```
///
/// # Errors
/// As [`Expr::eval`].
pub fn forward_derivative(expr: &Expr, at: &Point, wrt: &str) -> Result<(f64, f64), SymbolicError> {
    let lookup = |name: &str| {
        at.get(name).map(|&v| {
            if name == wrt {
                Dual::variable(v)
            } else {
                Dual::constant(v)
            }
        })
    };
    let result = eval_in(expr, &lookup, at)?;
    Ok((result.value, result.derivative))
}

/// The gradient by forward mode, one pass per variable, in the order given.
///
/// # Errors
/// As [`Expr::eval`].
pub fn forward_gradient(expr: &Expr, at: &Point, vars: &[&str]) -> Result<Vec<f64>, SymbolicError> {
    vars.iter()
        .map(|v| forward_derivative(expr, at, v).map(|(_, d)| d))
        .collect()
}
