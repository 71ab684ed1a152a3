//! The limit definition of the derivative, evaluated numerically: a central
//! difference of an expression along one variable.

use std::cell::RefCell;

use super::{Expr, Point, SymbolicError};
use crate::finite_difference;

/// `d expr / d wrt` at `at` by the five-point central difference of
/// [`finite_difference::derivative`] (error `O(h⁴)`).
///
/// ```
/// use descent_autodiff::symbolic::{central_difference, parse, Point};
/// let f = parse("x^2 + 3*x*y + y^2").unwrap();
/// let at = Point::from([("x".into(), 1.0), ("y".into(), 2.0)]);
/// assert!((central_difference(&f, &at, "x").unwrap() - 8.0).abs() < 1e-9);
/// ```
///
/// # Errors
/// As [`Expr::eval`] at `at`, or at a neighbouring point of the stencil (the
/// function is not defined on both sides).
pub fn central_difference(expr: &Expr, at: &Point, wrt: &str) -> Result<f64, SymbolicError> {
    expr.eval(at)?;
    let x = *at.get(wrt).ok_or_else(|| SymbolicError::Unbound {
        name: wrt.to_string(),
    })?;
    let failure = RefCell::new(None);
    let slope = finite_difference::derivative(
        |t: f64| {
            let mut moved = at.clone();
            moved.insert(wrt.to_string(), t);
            expr.eval(&moved).unwrap_or_else(|error| {
                failure.borrow_mut().get_or_insert(error);
                f64::NAN
            })
        },
        x,
    );
    match failure.into_inner() {
        Some(error) => Err(error),
        None => Ok(slope),
    }
}

/// The gradient by central differences, in the order given.
///
/// # Errors
/// As [`central_difference`].
pub fn central_gradient(expr: &Expr, at: &Point, vars: &[&str]) -> Result<Vec<f64>, SymbolicError> {
    vars.iter()
        .map(|v| central_difference(expr, at, v))
        .collect()
}
