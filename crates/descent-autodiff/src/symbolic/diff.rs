//! Differentiation by the sum, product, quotient, power and chain rules, and the
//! gradient, Jacobian and Hessian built from it.

use std::fmt;

use super::simplify::{add, call, mul, pow};
use super::{Expr, Func, Point, SymbolicError, simplify};

/// The derivative of `expr` by the variable `var`, simplified.
///
/// ```
/// use descent_autodiff::symbolic::{diff, parse};
/// let f = parse("x^2 + 3*x*y + y^2").unwrap();
/// assert_eq!(diff(&f, "x").to_string(), "2*x + 3*y");
/// assert_eq!(diff(&f, "y").to_string(), "3*x + 2*y");
/// assert_eq!(diff(&parse("(3*x + 2)^2").unwrap(), "x").to_string(), "18*x + 12");
/// ```
pub fn diff(expr: &Expr, var: &str) -> Expr {
    derivative(&simplify(expr), var)
}

/// The `order`-th derivative by `var` (`order` 0 is the simplified expression).
pub fn diff_n(expr: &Expr, var: &str, order: usize) -> Expr {
    (0..order).fold(simplify(expr), |e, _| derivative(&e, var))
}

/// The derivative of a canonical expression, built canonically.
fn derivative(expr: &Expr, var: &str) -> Expr {
    if !expr.depends_on(var) {
        return Expr::int(0);
    }
    let d = |e: &Expr| derivative(e, var);
    match expr {
        Expr::Num(_) | Expr::Const(_) => Expr::int(0),
        Expr::Var(_) => Expr::int(1),
        // Sum rule.
        Expr::Add(terms) => add(terms.iter().map(d).collect()),
        // Product rule, one term per factor that depends on `var` (the quotient rule is
        // the case of a factor u^(-1)).
        Expr::Mul(factors) => add((0..factors.len())
            .filter(|&i| factors[i].depends_on(var))
            .map(|i| {
                let mut term = factors.clone();
                term[i] = d(&factors[i]);
                mul(term)
            })
            .collect()),
        Expr::Pow(base, exponent) => {
            let (b, e) = (&**base, &**exponent);
            if !e.depends_on(var) {
                // Power rule with the chain rule: (u^n)' = n u^(n-1) u'.
                let lowered = pow(b.clone(), add(vec![e.clone(), Expr::int(-1)]));
                mul(vec![e.clone(), lowered, d(b)])
            } else if !b.depends_on(var) {
                // (a^v)' = a^v ln(a) v'.
                mul(vec![expr.clone(), call(Func::Ln, vec![b.clone()]), d(e)])
            } else {
                // (u^v)' = u^v (v' ln(u) + v u'/u).
                let inner = add(vec![
                    mul(vec![d(e), call(Func::Ln, vec![b.clone()])]),
                    mul(vec![e.clone(), d(b), pow(b.clone(), Expr::int(-1))]),
                ]);
                mul(vec![expr.clone(), inner])
            }
        }
        Expr::Call(func, args) => {
            let u = &args[0];
            let f = |func: Func, e: &Expr| call(func, vec![e.clone()]);
            // The outer derivative f'(u); the chain rule multiplies by u'.
            let outer = match func {
                Func::Exp => expr.clone(),
                Func::Ln => pow(u.clone(), Expr::int(-1)),
                Func::Abs => f(Func::Sign, u),
                Func::Sin => f(Func::Cos, u),
                Func::Cos => mul(vec![Expr::int(-1), f(Func::Sin, u)]),
                Func::Tan => add(vec![Expr::int(1), pow(expr.clone(), Expr::int(2))]),
                Func::Tanh => add(vec![
                    Expr::int(1),
                    mul(vec![Expr::int(-1), pow(expr.clone(), Expr::int(2))]),
                ]),
                Func::Sigmoid => mul(vec![
                    expr.clone(),
                    add(vec![Expr::int(1), mul(vec![Expr::int(-1), expr.clone()])]),
                ]),
                Func::Relu => f(Func::Step, u),
                Func::Softplus => f(Func::Sigmoid, u),
                Func::Sign | Func::Step => Expr::int(0),
                Func::Max | Func::Min => {
                    // max(a, b)' = step(a - b) a' + step(b - a) b' (min swaps the steps):
                    // each argument's derivative where it is the larger (smaller) one,
                    // 0 at a tie, where the function has a kink.
                    let (a, b) = (&args[0], &args[1]);
                    let minus = |e: &Expr| mul(vec![Expr::int(-1), e.clone()]);
                    let a_minus_b = add(vec![a.clone(), minus(b)]);
                    let b_minus_a = add(vec![b.clone(), minus(a)]);
                    let (for_a, for_b) = if *func == Func::Max {
                        (a_minus_b, b_minus_a)
                    } else {
                        (b_minus_a, a_minus_b)
                    };
                    return add(vec![
                        mul(vec![f(Func::Step, &for_a), d(a)]),
                        mul(vec![f(Func::Step, &for_b), d(b)]),
                    ]);
                }
            };
            mul(vec![outer, d(u)])
        }
    }
}

/// A matrix of expressions (gradients are one column, Jacobians one row per function).
#[derive(Clone, Debug, PartialEq)]
pub struct Matrix {
    /// The entries, row by row.
    pub rows: Vec<Vec<Expr>>,
}

impl Matrix {
    /// Every entry evaluated at `at`.
    ///
    /// # Errors
    /// The first entry's evaluation error, as [`Expr::eval`].
    pub fn eval(&self, at: &Point) -> Result<Vec<Vec<f64>>, SymbolicError> {
        self.rows
            .iter()
            .map(|row| row.iter().map(|e| e.eval(at)).collect())
            .collect()
    }
}

impl fmt::Display for Matrix {
    /// One row per line, entries in brackets and aligned by column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| r.iter().map(Expr::to_string).collect())
            .collect();
        let columns = texts.iter().map(Vec::len).max().unwrap_or(0);
        let widths: Vec<usize> = (0..columns)
            .map(|c| {
                texts
                    .iter()
                    .filter_map(|r| r.get(c))
                    .map(|t| t.chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for (i, row) in texts.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(c, t)| format!("{t:<width$}", width = widths[c]))
                .collect();
            write!(f, "[{}]", cells.join("  ").trim_end())?;
        }
        Ok(())
    }
}

/// The gradient: one partial derivative per variable, in the order given.
pub fn gradient(expr: &Expr, vars: &[&str]) -> Vec<Expr> {
    let expr = simplify(expr);
    vars.iter().map(|v| derivative(&expr, v)).collect()
}

/// The Jacobian of several functions: row `i`, column `j` is `d exprs[i] / d vars[j]`.
pub fn jacobian(exprs: &[Expr], vars: &[&str]) -> Matrix {
    Matrix {
        rows: exprs.iter().map(|e| gradient(e, vars)).collect(),
    }
}

/// The Hessian: row `i`, column `j` is `d² expr / d vars[i] d vars[j]` (the Jacobian of
/// the gradient).
///
/// ```
/// use descent_autodiff::symbolic::{hessian, parse};
/// let h = hessian(&parse("x^2 + 3*x*y + y^2").unwrap(), &["x", "y"]);
/// assert_eq!(h.to_string(), "[2  3]\n[3  2]");
/// ```
pub fn hessian(expr: &Expr, vars: &[&str]) -> Matrix {
    jacobian(&gradient(expr, vars), vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::parse;

    fn d(text: &str, var: &str) -> String {
        diff(&parse(text).unwrap(), var).to_string()
    }

    #[test]
    fn the_rules() {
        assert_eq!(d("x^2", "x"), "2*x");
        assert_eq!(d("x^2 + y^2", "y"), "2*y");
        assert_eq!(d("x*sin(x)", "x"), "x*cos(x) + sin(x)");
        assert_eq!(d("1/x", "x"), "-1/x^2");
        assert_eq!(d("x/(x + 1)", "x"), "1/(x + 1) - x/(x + 1)^2");
        assert_eq!(d("sqrt(x)", "x"), "1/(2*sqrt(x))");
        assert_eq!(d("exp(-x^2)", "x"), "-2*x*exp(-x^2)");
        assert_eq!(d("ln(1 + exp(z))", "z"), "exp(z)/(exp(z) + 1)");
        assert_eq!(d("2^x", "x"), "2^x*ln(2)");
        assert_eq!(d("x^x", "x"), "x^x*(ln(x) + 1)");
        assert_eq!(d("tanh(x)", "x"), "1 - tanh(x)^2");
        assert_eq!(d("max(0, x)", "x"), "step(x)");
        assert_eq!(
            d("relu(x) + abs(x) + softplus(x)", "x"),
            "sigmoid(x) + sign(x) + step(x)"
        );
        assert_eq!(
            d("sigmoid(w*x + b)", "w"),
            "x*sigmoid(w*x + b)*(1 - sigmoid(w*x + b))"
        );
    }

    #[test]
    fn higher_orders_and_matrices() {
        let f = parse("x^3*y").unwrap();
        assert_eq!(diff_n(&f, "x", 2).to_string(), "6*x*y");
        assert_eq!(diff_n(&f, "x", 4).to_string(), "0");
        let grad = gradient(&f, &["x", "y"]);
        assert_eq!(grad[1].to_string(), "x^3");
        let j = jacobian(
            &[parse("x*y").unwrap(), parse("x + y").unwrap()],
            &["x", "y"],
        );
        assert_eq!(j.rows[0][0].to_string(), "y");
        assert_eq!(j.rows[1][1].to_string(), "1");
        let at: Point = [("x".to_string(), 2.0), ("y".to_string(), 5.0)].into();
        assert_eq!(
            hessian(&f, &["x", "y"]).eval(&at).unwrap(),
            vec![vec![60.0, 12.0], vec![12.0, 0.0]]
        );
    }
}
