//! Canonical form: constant folding, neutral elements, like terms and numeric factors.
//!
//! The rules are SymPy's automatic ones. Sums and products are flattened; numbers fold
//! (exactly, while they are rationals); `x + x` is `2*x` and `x*x^2` is `x^3`; `0` and
//! `1` vanish where they are neutral and `0` absorbs a product; a number times a sum is
//! distributed (`6*(3*x + 2)` is `18*x + 12`); powers of powers and of products with
//! integer exponents are multiplied out; `e^x` is `exp(x)`. Terms and factors are
//! sorted (terms by degree, then by variable name), so that two expressions equal
//! after these rules are equal as trees. [`expand`] also multiplies out products of sums.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::eval::apply_f64;
use super::{Constant, Expr, Func, Number};

/// The canonical form of `expr` (see the module docs).
///
/// ```
/// use descent_autodiff::symbolic::{parse, simplify};
/// let e = simplify(&parse("x*y + 2*y*x - 3 + 1 + x*x").unwrap());
/// assert_eq!(e.to_string(), "x^2 + 3*x*y - 2");
/// ```
pub fn simplify(expr: &Expr) -> Expr {
    match expr {
        Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => expr.clone(),
        Expr::Add(terms) => add(terms.iter().map(simplify).collect()),
        Expr::Mul(factors) => mul(factors.iter().map(simplify).collect()),
        Expr::Pow(base, exponent) => pow(simplify(base), simplify(exponent)),
        Expr::Call(func, args) => call(*func, args.iter().map(simplify).collect()),
    }
}

/// The canonical form with products of sums and small integer powers of sums
/// multiplied out: `(3*x + 2)^2` is `9*x^2 + 12*x + 4`. Two polynomials are equal
/// exactly when their expansions are equal as trees.
pub fn expand(expr: &Expr) -> Expr {
    expand_canonical(&simplify(expr))
}

/// The largest integer power of a sum that [`expand`] multiplies out.
const MAX_EXPANDED_POWER: i64 = 16;

fn expand_canonical(expr: &Expr) -> Expr {
    match expr {
        Expr::Add(terms) => add(terms.iter().map(expand_canonical).collect()),
        Expr::Mul(factors) => distribute(factors.iter().map(expand_canonical).collect()),
        Expr::Pow(base, exponent) => {
            let base = expand_canonical(base);
            match (exponent.as_number().and_then(Number::as_integer), &base) {
                (Some(n), Expr::Add(_)) if (2..=MAX_EXPANDED_POWER).contains(&n) => {
                    distribute(vec![base; n as usize])
                }
                _ => pow(base, expand_canonical(exponent)),
            }
        }
        Expr::Call(func, args) => call(*func, args.iter().map(expand_canonical).collect()),
        _ => expr.clone(),
    }
}

/// The product of `factors` with every sum among them multiplied out.
fn distribute(factors: Vec<Expr>) -> Expr {
    let mut terms = vec![Expr::int(1)];
    for factor in factors {
        let parts = match factor {
            Expr::Add(parts) => parts,
            other => vec![other],
        };
        terms = terms
            .iter()
            .flat_map(|t| parts.iter().map(move |p| mul(vec![t.clone(), p.clone()])))
            .collect();
    }
    add(terms)
}

/// `(coefficient, rest)` of a term: `3*x*y` is `(3, x*y)`.
fn split_coefficient(term: Expr) -> (Number, Expr) {
    match term {
        Expr::Mul(mut factors) if matches!(factors.first(), Some(Expr::Num(_))) => {
            let Expr::Num(c) = factors.remove(0) else {
                unreachable!("checked above")
            };
            let rest = if factors.len() == 1 {
                factors.pop().expect("one")
            } else {
                Expr::Mul(factors)
            };
            (c, rest)
        }
        other => (Number::int(1), other),
    }
}

/// `coefficient * rest` for a canonical `rest` that is not a number.
fn with_coefficient(coefficient: Number, rest: Expr) -> Expr {
    if coefficient.is_one() {
        return rest;
    }
    let mut factors = vec![Expr::Num(coefficient)];
    match rest {
        Expr::Mul(rest) => factors.extend(rest),
        other => factors.push(other),
    }
    Expr::Mul(factors)
}

/// The canonical sum of canonical terms.
pub(crate) fn add(terms: Vec<Expr>) -> Expr {
    let mut constant = Number::int(0);
    let mut groups: Vec<(Expr, Number)> = Vec::new();
    let mut pending = terms;
    while let Some(term) = pending.pop() {
        match term {
            Expr::Add(inner) => pending.extend(inner),
            Expr::Num(n) => constant = constant + n,
            other => {
                let (c, rest) = split_coefficient(other);
                match groups.iter_mut().find(|(r, _)| *r == rest) {
                    Some((_, sum)) => *sum = *sum + c,
                    None => groups.push((rest, c)),
                }
            }
        }
    }
    let mut out: Vec<Expr> = groups
        .into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|(rest, c)| with_coefficient(c, rest))
        .collect();
    out.sort_by(cmp_terms);
    if !constant.is_zero() || out.is_empty() {
        out.push(Expr::Num(constant));
    }
    if out.len() == 1 {
        out.pop().expect("one term")
    } else {
        Expr::Add(out)
    }
}

/// `(base, exponent)` of a factor: `x^2` is `(x, 2)`, `x` is `(x, 1)`.
fn split_power(factor: Expr) -> (Expr, Expr) {
    match factor {
        Expr::Pow(base, exponent) => (*base, *exponent),
        other => (other, Expr::int(1)),
    }
}

/// The canonical product of canonical factors.
pub(crate) fn mul(factors: Vec<Expr>) -> Expr {
    let mut coefficient = Number::int(1);
    let mut groups: Vec<(Expr, Vec<Expr>)> = Vec::new();
    let mut pending = factors;
    while let Some(factor) = pending.pop() {
        match factor {
            Expr::Mul(inner) => pending.extend(inner),
            Expr::Num(n) => coefficient = coefficient * n,
            other => {
                let (base, exponent) = split_power(other);
                match groups.iter_mut().find(|(b, _)| *b == base) {
                    Some((_, exponents)) => exponents.push(exponent),
                    None => groups.push((base, vec![exponent])),
                }
            }
        }
    }
    if coefficient.is_zero() {
        return Expr::int(0);
    }
    let mut out = Vec::new();
    for (base, exponents) in groups {
        match pow(base, add(exponents)) {
            Expr::Num(n) => coefficient = coefficient * n,
            other => out.push(other),
        }
    }
    // A power of a product (`(2*x)^2`) comes back as a product: merge its factors.
    if out.iter().any(|f| matches!(f, Expr::Mul(_))) {
        out.push(Expr::Num(coefficient));
        return mul(out);
    }
    if coefficient.is_zero() {
        return Expr::int(0);
    }
    match out.len() {
        0 => return Expr::Num(coefficient),
        1 if coefficient.is_one() => return out.pop().expect("one factor"),
        1 if matches!(out[0], Expr::Add(_)) => {
            let Some(Expr::Add(terms)) = out.pop() else {
                unreachable!("checked above")
            };
            return add(terms
                .into_iter()
                .map(|t| mul(vec![Expr::Num(coefficient), t]))
                .collect());
        }
        _ => {}
    }
    out.sort_by(cmp_factors);
    with_coefficient(coefficient, Expr::Mul(out))
}

/// The canonical `base^exponent` of canonical parts.
pub(crate) fn pow(base: Expr, exponent: Expr) -> Expr {
    let exponent_number = exponent.as_number();
    if exponent_number.is_some_and(Number::is_zero) {
        return Expr::int(1);
    }
    if exponent_number.is_some_and(Number::is_one) {
        return base;
    }
    match (&base, exponent_number) {
        (Expr::Num(b), _) if b.is_one() => Expr::int(1),
        (Expr::Num(b), Some(e)) => match b.pow(e) {
            Some(value) => Expr::Num(value),
            None => Expr::pow(base, exponent),
        },
        (Expr::Const(Constant::E), _) => call(Func::Exp, vec![exponent]),
        (Expr::Call(Func::Exp, args), _) => {
            call(Func::Exp, vec![mul(vec![args[0].clone(), exponent])])
        }
        (Expr::Pow(inner, e), Some(n)) if n.as_integer().is_some() => {
            pow((**inner).clone(), mul(vec![(**e).clone(), exponent]))
        }
        (Expr::Mul(factors), Some(n)) if n.as_integer().is_some() => mul(factors
            .iter()
            .map(|f| pow(f.clone(), exponent.clone()))
            .collect()),
        _ => Expr::pow(base, exponent),
    }
}

/// The canonical call of `func` on canonical arguments, folding exact special values
/// and any argument that is already inexact.
pub(crate) fn call(func: Func, args: Vec<Expr>) -> Expr {
    let zero = Expr::int(0);
    let one = Expr::int(1);
    let number = |e: &Expr| e.as_number();
    if let [arg] = args.as_slice() {
        let folded = match (func, arg) {
            (Func::Exp | Func::Cos, a) if a.is_zero() => Some(one),
            (Func::Sin | Func::Tan | Func::Tanh | Func::Relu | Func::Sign | Func::Step, a)
                if a.is_zero() =>
            {
                Some(zero)
            }
            (Func::Sigmoid, a) if a.is_zero() => Some(Expr::Num(Number::Rational(1, 2))),
            (Func::Ln, Expr::Num(n)) if n.is_one() => Some(zero),
            (Func::Ln, Expr::Const(Constant::E)) => Some(one),
            (Func::Exp, Expr::Call(Func::Ln, inner)) => Some(inner[0].clone()),
            (Func::Ln, Expr::Call(Func::Exp, inner)) => Some(inner[0].clone()),
            (Func::Abs, Expr::Call(Func::Abs, _)) => Some(arg.clone()),
            (Func::Abs | Func::Relu | Func::Sign | Func::Step, Expr::Num(n)) => {
                Some(Expr::Num(Number::float(apply_f64(func, &[n.to_f64()]))))
            }
            (_, Expr::Num(n @ Number::Float(_))) => {
                let value = apply_f64(func, &[n.to_f64()]);
                value.is_finite().then(|| Expr::Num(Number::float(value)))
            }
            _ => None,
        };
        if let Some(folded) = folded {
            return match func {
                Func::Abs if matches!(folded, Expr::Num(n) if n.is_negative()) => {
                    Expr::Num(-folded.as_number().expect("a number"))
                }
                _ => folded,
            };
        }
    } else if let [a, b] = args.as_slice() {
        if a == b {
            return a.clone();
        }
        if let (Some(x), Some(y)) = (number(a), number(b)) {
            let pick_a = (x.to_f64() >= y.to_f64()) == (func == Func::Max);
            return if pick_a { a.clone() } else { b.clone() };
        }
    }
    Expr::Call(func, args)
}

/// The polynomial part of a term (variable → exponent) and the rest, as text.
fn monomial(term: &Expr) -> (BTreeMap<&str, f64>, String) {
    let mut degrees = BTreeMap::new();
    let mut rest = String::new();
    let factors = match term {
        Expr::Mul(factors) => factors.as_slice(),
        other => std::slice::from_ref(other),
    };
    for factor in factors {
        match factor {
            Expr::Num(_) => {}
            Expr::Var(v) => *degrees.entry(v.as_str()).or_insert(0.0) += 1.0,
            Expr::Pow(base, exponent)
                if matches!(**base, Expr::Var(_)) && exponent.as_number().is_some() =>
            {
                let Expr::Var(v) = &**base else {
                    unreachable!("checked above")
                };
                *degrees.entry(v.as_str()).or_insert(0.0) +=
                    exponent.as_number().expect("checked").to_f64();
            }
            other => rest.push_str(&other.to_string()),
        }
    }
    (degrees, rest)
}

/// The order of terms in a sum: higher total degree first, then by the exponent of
/// each variable in name order (`x^2 + x*y + y^2`), then the rest by its text.
fn cmp_terms(a: &Expr, b: &Expr) -> Ordering {
    let (da, ra) = monomial(a);
    let (db, rb) = monomial(b);
    let total = |d: &BTreeMap<&str, f64>| d.values().sum::<f64>();
    total(&db)
        .total_cmp(&total(&da))
        .then_with(|| {
            let names: std::collections::BTreeSet<&str> =
                da.keys().chain(db.keys()).copied().collect();
            names
                .into_iter()
                .map(|name| {
                    let get = |d: &BTreeMap<&str, f64>| d.get(name).copied().unwrap_or(0.0);
                    get(&db).total_cmp(&get(&da))
                })
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal)
        })
        .then_with(|| ra.is_empty().cmp(&rb.is_empty()).reverse())
        .then_with(|| ra.cmp(&rb))
        .then_with(|| a.to_string().cmp(&b.to_string()))
}

/// The order of factors in a product: numbers, variables by name, constants,
/// function calls, then sums; powers sit where their base would.
fn cmp_factors(a: &Expr, b: &Expr) -> Ordering {
    fn key(e: &Expr) -> (u8, String) {
        match e {
            Expr::Num(_) => (0, String::new()),
            Expr::Var(v) => (1, v.clone()),
            Expr::Const(c) => (2, c.name().to_string()),
            Expr::Call(..) => (3, e.to_string()),
            Expr::Add(_) | Expr::Mul(_) => (4, e.to_string()),
            Expr::Pow(base, _) => key(base),
        }
    }
    key(a)
        .cmp(&key(b))
        .then_with(|| a.to_string().cmp(&b.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::symbolic::parse;

    fn s(text: &str) -> String {
        simplify(&parse(text).unwrap()).to_string()
    }

    #[test]
    fn folds_constants_and_drops_neutral_elements() {
        assert_eq!(s("2 + 3*4 - 1"), "13");
        assert_eq!(s("x*1 + 0"), "x");
        assert_eq!(s("0*x + y^1 + z^0"), "y + 1");
        assert_eq!(s("1/2 + 1/3"), "5/6");
        assert_eq!(s("exp(0) + ln(1) + ln(e)"), "2");
        assert_eq!(s("2^10"), "1024");
        assert_eq!(s("sqrt(16)"), "4");
    }

    #[test]
    fn collects_like_terms_and_factors() {
        assert_eq!(s("x + x + x"), "3*x");
        assert_eq!(s("x*x*x"), "x^3");
        assert_eq!(s("x^2 * x^-2"), "1");
        assert_eq!(s("3*x*y - y*x*3"), "0");
        assert_eq!(s("2*x/x"), "2");
        assert_eq!(s("y*x*2*x"), "2*x^2*y");
    }

    #[test]
    fn distributes_numbers_over_sums_and_orders_terms_by_degree() {
        assert_eq!(s("6*(3*x + 2)"), "18*x + 12");
        assert_eq!(s("(6*x + 4)*3"), "18*x + 12");
        assert_eq!(s("y^2 + 3*y*x + x^2"), "x^2 + 3*x*y + y^2");
        assert_eq!(s("-(x - y)"), "y - x");
    }

    #[test]
    fn expands_products_and_powers_of_sums() {
        let e = |t: &str| expand(&parse(t).unwrap()).to_string();
        assert_eq!(e("(3*x + 2)^2"), "9*x^2 + 12*x + 4");
        assert_eq!(e("(x + y)*(x - y)"), "x^2 - y^2");
        assert_eq!(
            expand(&parse("6*(3*x + 2)").unwrap()),
            expand(&parse("18*x + 12").unwrap())
        );
    }

    #[test]
    fn powers_and_exponentials() {
        assert_eq!(s("(x^2)^3"), "x^6");
        assert_eq!(s("(2*x)^2"), "4*x^2");
        assert_eq!(s("e^x"), "exp(x)");
        assert_eq!(s("exp(ln(x))"), "x");
        assert_eq!(s("max(2, 3) + min(2, 3) + abs(-4)"), "9");
    }
}
