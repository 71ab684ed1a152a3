//! Printing expressions as a computer algebra system does: `2*x + 3*y`, `x/2`, `sqrt(x)`.
//!
//! The output reads back through [`parse`](super::parse) to the same expression. Powers
//! print with `^`; negative powers move to a denominator; exponent `1/2` prints as
//! `sqrt`; a sum that starts with a negative term starts with a positive one instead
//! (`1 - x`, not `-x + 1`).

use std::fmt::{self, Write};

use super::{Expr, Number};

const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const POWER: u8 = 3;
const ATOM: u8 = 4;

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&render(self, SUM))
    }
}

/// How tightly the printed form of `expr` binds.
fn precedence(expr: &Expr) -> u8 {
    match expr {
        Expr::Add(_) => SUM,
        Expr::Mul(_) => PRODUCT,
        Expr::Num(Number::Rational(p, 1)) if *p >= 0 => ATOM,
        Expr::Num(Number::Float(v)) if *v >= 0.0 => ATOM,
        Expr::Num(_) => PRODUCT,
        Expr::Pow(_, exponent) => match exponent.as_number() {
            Some(Number::Rational(1, 2)) => ATOM,
            Some(n) if n.is_negative() => PRODUCT,
            _ => POWER,
        },
        Expr::Const(_) | Expr::Var(_) | Expr::Call(..) => ATOM,
    }
}

/// `expr` as text, in parentheses when it binds looser than `context`.
fn render(expr: &Expr, context: u8) -> String {
    let text = match expr {
        Expr::Num(n) => n.to_string(),
        Expr::Const(c) => c.name().to_string(),
        Expr::Var(name) => name.clone(),
        Expr::Call(func, args) => {
            let args: Vec<String> = args.iter().map(|a| render(a, SUM)).collect();
            format!("{}({})", func.name(), args.join(", "))
        }
        Expr::Add(terms) => render_sum(terms),
        Expr::Mul(factors) => render_product(factors),
        Expr::Pow(..) => render_product(std::slice::from_ref(expr)),
    };
    if precedence(expr) < context {
        format!("({text})")
    } else {
        text
    }
}

/// Whether a term prints with a leading minus.
fn is_negative(term: &Expr) -> bool {
    match term {
        Expr::Num(n) => n.is_negative(),
        Expr::Mul(factors) => factors
            .first()
            .and_then(Expr::as_number)
            .is_some_and(Number::is_negative),
        _ => false,
    }
}

/// `-term` for a term that [`is_negative`].
fn negated(term: &Expr) -> Expr {
    match term {
        Expr::Num(n) => Expr::Num(-*n),
        Expr::Mul(factors) => {
            let c = -factors[0]
                .as_number()
                .expect("a negative term has a coefficient");
            let mut rest: Vec<Expr> = factors[1..].to_vec();
            if !c.is_one() {
                rest.insert(0, Expr::Num(c));
            }
            if rest.len() == 1 {
                rest.pop().expect("one")
            } else {
                Expr::Mul(rest)
            }
        }
        other => other.clone(),
    }
}

fn render_sum(terms: &[Expr]) -> String {
    let mut order: Vec<&Expr> = terms.iter().collect();
    if let Some(first_positive) = order.iter().position(|t| !is_negative(t)) {
        let term = order.remove(first_positive);
        order.insert(0, term);
    }
    let mut out = String::new();
    for (i, term) in order.into_iter().enumerate() {
        match (i, is_negative(term)) {
            (0, _) => out.push_str(&render(term, SUM)),
            (_, true) => {
                out.push_str(" - ");
                out.push_str(&render(&negated(term), PRODUCT));
            }
            (_, false) => {
                out.push_str(" + ");
                out.push_str(&render(term, PRODUCT));
            }
        }
    }
    out
}

/// A product with a numeric coefficient in front and negative powers below a `/`.
fn render_product(factors: &[Expr]) -> String {
    let mut negative = false;
    let mut numerator: Vec<String> = Vec::new();
    let mut denominator: Vec<String> = Vec::new();
    for (i, factor) in factors.iter().enumerate() {
        match factor {
            Expr::Num(n) if i == 0 => {
                negative = n.is_negative();
                match n {
                    Number::Rational(p, q) => {
                        if p.unsigned_abs() != 1 {
                            numerator.push(p.unsigned_abs().to_string());
                        }
                        if *q != 1 {
                            denominator.push(q.to_string());
                        }
                    }
                    Number::Float(v) => {
                        let mut text = String::new();
                        super::number::write_float(&mut text, v.abs()).expect("String");
                        numerator.push(text);
                    }
                }
                if factors.len() == 1 && numerator.is_empty() {
                    numerator.push("1".into());
                }
            }
            Expr::Pow(base, exponent) => match exponent.as_number() {
                Some(Number::Rational(1, 2)) => {
                    numerator.push(format!("sqrt({})", render(base, SUM)))
                }
                Some(e) if e.is_negative() => {
                    denominator.push(match -e {
                        n if n.is_one() => render(base, POWER),
                        Number::Rational(1, 2) => format!("sqrt({})", render(base, SUM)),
                        n => format!("{}^{}", render(base, ATOM), render(&Expr::Num(n), ATOM)),
                    });
                }
                _ => numerator.push(format!("{}^{}", render(base, ATOM), render(exponent, ATOM))),
            },
            other => numerator.push(render(other, POWER)),
        }
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if numerator.is_empty() {
        out.push('1');
    } else {
        out.push_str(&numerator.join("*"));
    }
    match denominator.len() {
        0 => {}
        1 => write!(out, "/{}", denominator[0]).expect("String"),
        _ => write!(out, "/({})", denominator.join("*")).expect("String"),
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::symbolic::{parse, simplify};

    fn show(text: &str) -> String {
        simplify(&parse(text).unwrap()).to_string()
    }

    #[test]
    fn prints_like_a_computer_algebra_system() {
        assert_eq!(show("x/2"), "x/2");
        assert_eq!(show("3*x/2"), "3*x/2");
        assert_eq!(show("-x"), "-x");
        assert_eq!(show("1/x^2"), "1/x^2");
        assert_eq!(show("2/(x*y)"), "2/(x*y)");
        assert_eq!(show("x^(1/2)"), "sqrt(x)");
        assert_eq!(show("1/sqrt(x)/2"), "1/(2*sqrt(x))");
        assert_eq!(show("(x + 1)^2"), "(x + 1)^2");
        assert_eq!(show("x^(y + 1)"), "x^(y + 1)");
        assert_eq!(show("2^(1/3)"), "2^(1/3)");
        assert_eq!(show("1 - x"), "1 - x");
        assert_eq!(show("-x - 2*y"), "-x - 2*y");
        assert_eq!(show("x - 0.5"), "x - 0.5");
        assert_eq!(show("max(0, x)*sin(y)"), "max(0, x)*sin(y)");
    }

    #[test]
    fn printed_text_reads_back_to_the_same_expression() {
        for text in [
            "x/2 - 3*y^2/(4*x)",
            "(x + 1)^(-3)",
            "-sqrt(x + 2)",
            "exp(-x^2)*sin(y)",
            "2^(1/3)*x",
        ] {
            let e = simplify(&parse(text).unwrap());
            assert_eq!(
                simplify(&parse(&e.to_string()).unwrap()),
                e,
                "{text} -> {e}"
            );
        }
    }
}
