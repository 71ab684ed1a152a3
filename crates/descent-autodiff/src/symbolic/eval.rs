//! Evaluating an expression at a point, reporting where the mathematics breaks down.
//!
//! One generic evaluator serves every number type that implements [`Float`]: `f64`
//! for values and [`Dual`](crate::Dual) for forward-mode derivatives. Domain checks
//! look at the value part, so both report the same errors at the same points.

use std::collections::BTreeMap;

use super::error::point_text;
use super::{Expr, Func, Number, SymbolicError};
use crate::Float;

/// A point: a value for each variable, by name.
pub type Point = BTreeMap<String, f64>;

impl Expr {
    /// The expression's value at `at`.
    ///
    /// ```
    /// use descent_autodiff::symbolic::{parse, Point};
    /// let f = parse("x^2 + 3*x*y + y^2").unwrap();
    /// let at = Point::from([("x".into(), 1.0), ("y".into(), 2.0)]);
    /// assert_eq!(f.eval(&at).unwrap(), 11.0);
    /// ```
    ///
    /// # Errors
    /// [`SymbolicError::Unbound`] for a variable without a value; division by zero, the
    /// logarithm of a non-positive number, a non-real power or a non-finite value,
    /// each naming the sub-expression and the point.
    pub fn eval(&self, at: &Point) -> Result<f64, SymbolicError> {
        eval_in(self, &|name| at.get(name).copied(), at)
    }
}

/// Evaluates `expr` in the number type `T`, taking each variable from `lookup`;
/// `at` (the point as `f64`) is only for error messages.
pub(crate) fn eval_in<T: Float>(
    expr: &Expr,
    lookup: &dyn Fn(&str) -> Option<T>,
    at: &Point,
) -> Result<T, SymbolicError> {
    let value = eval_node(expr, lookup, at)?;
    check_finite(expr, value, at)
}

fn check_finite<T: Float>(expr: &Expr, value: T, at: &Point) -> Result<T, SymbolicError> {
    let v = value.as_f64();
    if v.is_finite() {
        Ok(value)
    } else {
        Err(SymbolicError::NotFinite {
            expr: expr.to_string(),
            value: v,
            at: point_text(at),
        })
    }
}

fn eval_node<T: Float>(
    expr: &Expr,
    lookup: &dyn Fn(&str) -> Option<T>,
    at: &Point,
) -> Result<T, SymbolicError> {
    let eval = |e: &Expr| -> Result<T, SymbolicError> {
        let value = eval_node(e, lookup, at)?;
        check_finite(e, value, at)
    };
    Ok(match expr {
        Expr::Num(n) => T::of(n.to_f64()),
        Expr::Const(c) => T::of(c.value()),
        Expr::Var(name) => {
            lookup(name).ok_or_else(|| SymbolicError::Unbound { name: name.clone() })?
        }
        Expr::Add(terms) => {
            let mut sum = eval(&terms[0])?;
            for term in &terms[1..] {
                sum += eval(term)?;
            }
            sum
        }
        Expr::Mul(factors) => {
            let mut product = T::one();
            for (i, factor) in factors.iter().enumerate() {
                match factor {
                    // x * y^(-1) is computed as x / y, as the compiled graph does.
                    Expr::Pow(base, e) if i > 0 && e.as_number() == Some(Number::int(-1)) => {
                        let divisor = eval(base)?;
                        if divisor.as_f64() == 0.0 {
                            return Err(division_by_zero(factor, at));
                        }
                        product /= divisor;
                    }
                    _ if i == 0 => product = eval(factor)?,
                    _ => product *= eval(factor)?,
                }
            }
            product
        }
        Expr::Pow(base, exponent) => {
            let b = eval(base)?;
            let (bv, e) = match exponent.as_number() {
                Some(n) => (b.as_f64(), T::of(n.to_f64())),
                None => (b.as_f64(), eval(exponent)?),
            };
            let ev = e.as_f64();
            if bv == 0.0 && ev < 0.0 {
                return Err(division_by_zero(expr, at));
            }
            if bv < 0.0 && ev.fract() != 0.0 {
                return Err(SymbolicError::NotReal {
                    expr: expr.to_string(),
                    base: bv,
                    exponent: ev,
                    at: point_text(at),
                });
            }
            if exponent.as_number().is_some() {
                powc(b, e)
            } else {
                b.powf(e)
            }
        }
        Expr::Call(func, args) => {
            let mut values = [T::zero(); 2];
            for (slot, arg) in values.iter_mut().zip(args) {
                *slot = eval(arg)?;
            }
            if *func == Func::Ln && values[0].as_f64() <= 0.0 {
                return Err(SymbolicError::LogOfNonPositive {
                    expr: expr.to_string(),
                    value: values[0].as_f64(),
                    at: point_text(at),
                });
            }
            apply(*func, &values[..args.len()])
        }
    })
}

fn division_by_zero(expr: &Expr, at: &Point) -> SymbolicError {
    SymbolicError::DivisionByZero {
        expr: expr.to_string(),
        at: point_text(at),
    }
}

/// `x^p` for a constant `p`, with the exact shortcuts the graph's `powf` takes.
fn powc<T: Float>(x: T, p: T) -> T {
    let p_f64 = p.as_f64();
    if p_f64 == 1.0 {
        x
    } else if p_f64 == 2.0 {
        x * x
    } else if p_f64 == 3.0 {
        x * x * x
    } else if p_f64 == 0.5 {
        x.sqrt()
    } else if p_f64 == -1.0 {
        T::one() / x
    } else {
        x.powf(p)
    }
}

/// A function's value in the number type `T` (no domain checks).
pub(crate) fn apply<T: Float>(func: Func, args: &[T]) -> T {
    let zero = T::zero();
    let x = args[0];
    match func {
        Func::Exp => x.exp(),
        Func::Ln => x.ln(),
        Func::Abs => x.abs(),
        Func::Sin => x.sin(),
        Func::Cos => x.cos(),
        Func::Tan => x.tan(),
        Func::Tanh => x.tanh(),
        Func::Sigmoid => crate::sigmoid(x),
        Func::Relu => {
            if x > zero {
                x
            } else {
                zero
            }
        }
        // ln(1 + e^x) without overflow: x + ln(1 + e^-x) for positive x.
        Func::Softplus => {
            if x > zero {
                x + (-x).exp().ln_1p()
            } else {
                x.exp().ln_1p()
            }
        }
        // Ties go to the second argument of max and the first of min, as in the
        // compiled graph; at a tie the function has a kink and no derivative.
        Func::Max => {
            if x > args[1] {
                x
            } else {
                args[1]
            }
        }
        Func::Min => {
            if x > args[1] {
                args[1]
            } else {
                x
            }
        }
        Func::Sign => T::of(sign(x.as_f64())),
        Func::Step => T::of(if x.as_f64() > 0.0 { 1.0 } else { 0.0 }),
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// [`apply`] in `f64`.
pub(crate) fn apply_f64(func: Func, args: &[f64]) -> f64 {
    apply(func, args)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::parse;

    fn at(pairs: &[(&str, f64)]) -> Point {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn values_of_the_textbook_examples() {
        let f = parse("(3*x + 2)^2").unwrap();
        assert_eq!(f.eval(&at(&[("x", 1.0)])).unwrap(), 25.0);
        let g =
            parse("exp(-x^2) * sin(y) + ln(1 + exp(z)) + sigmoid(0) + max(0, x) + pi - e").unwrap();
        let expected = (-1.0f64).exp() * 2.0f64.sin()
            + (1.0 + 3.0f64.exp()).ln()
            + 0.5
            + 1.0
            + std::f64::consts::PI
            - std::f64::consts::E;
        let got = g.eval(&at(&[("x", 1.0), ("y", 2.0), ("z", 3.0)])).unwrap();
        assert!((got - expected).abs() < 1e-14, "{got} vs {expected}");
    }

    #[test]
    fn domain_errors_name_the_subexpression_and_the_point() {
        let err = parse("1/x + y")
            .unwrap()
            .eval(&at(&[("x", 0.0), ("y", 1.0)]))
            .unwrap_err();
        assert_eq!(err.to_string(), "division by zero in 1/x at x = 0, y = 1");
        let err = parse("ln(x - 1)")
            .unwrap()
            .eval(&at(&[("x", 0.5)]))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "logarithm of the non-positive number -0.5 in ln(x - 1) at x = 0.5"
        );
        let err = parse("sqrt(x)")
            .unwrap()
            .eval(&at(&[("x", -4.0)]))
            .unwrap_err();
        assert!(
            matches!(
                err,
                SymbolicError::NotReal {
                    base: -4.0,
                    exponent: 0.5,
                    ..
                }
            ),
            "{err}"
        );
        let err = parse("exp(x)")
            .unwrap()
            .eval(&at(&[("x", 1000.0)]))
            .unwrap_err();
        assert!(matches!(err, SymbolicError::NotFinite { .. }), "{err}");
        let err = parse("x + y")
            .unwrap()
            .eval(&at(&[("x", 1.0)]))
            .unwrap_err();
        assert_eq!(err, SymbolicError::Unbound { name: "y".into() });
    }
}
