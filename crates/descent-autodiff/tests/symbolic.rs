//! Property tests of the symbolic module: for random expressions of the grammar, the
//! formula, forward mode, reverse mode (the compiled graph) and the central
//! difference give the same derivative at random points where the function is smooth;
//! simplification, expansion and printing keep the value.

use descent_autodiff::symbolic::{
    Expr, Func, Point, central_difference, diff, expand, forward_derivative, parse,
    reverse_gradient, simplify,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Expression text from the whole grammar: numbers in several notations, constants,
/// `+ - * / ^`, unary minus and every function (arguments kept in their domains so
/// that most points are usable).
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        3 => select(vec!["x", "y"]).prop_map(str::to_string),
        2 => (1u8..6).prop_map(|n| n.to_string()),
        1 => select(vec!["0.5", "1.5e0", ".25", "pi", "e", "2E-1"]).prop_map(str::to_string),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        let one = select(vec![
            "exp", "sin", "cos", "tanh", "sigmoid", "softplus", "abs", "relu", "tan",
        ]);
        prop_oneof![
            4 => (inner.clone(), inner.clone(), select(vec!["+", "-", "*", "/"]))
                .prop_map(|(a, b, op)| format!("({a}) {op} ({b})")),
            2 => (inner.clone(), 0u8..4).prop_map(|(a, n)| format!("({a})^{n}")),
            1 => (inner.clone(), select(vec!["0.5", "-1", "1/3"]))
                .prop_map(|(a, p)| format!("(1 + ({a})^2)^({p})")),
            1 => inner.clone().prop_map(|a| format!("-({a})")),
            3 => (inner.clone(), one).prop_map(|(a, f)| format!("{f}({a})")),
            1 => inner.clone().prop_map(|a| format!("ln(1 + ({a})^2)")),
            1 => inner.clone().prop_map(|a| format!("sqrt(2 + sin({a}))")),
            1 => inner.clone().prop_map(|a| format!("2^({a}) + x^(y/4)")),
            1 => (inner.clone(), inner, select(vec!["max", "min"]))
                .prop_map(|(a, b, f)| format!("{f}({a}, {b})")),
        ]
    })
}

/// Whether every kink (the argument of abs, relu, sign, step; a - b of max, min) is
/// farther than `margin` from zero at `at`, and every `tan` is away from its poles.
fn smooth_at(expr: &Expr, at: &Point, margin: f64) -> bool {
    let children_ok = match expr {
        Expr::Add(items) | Expr::Mul(items) | Expr::Call(_, items) => {
            items.iter().all(|e| smooth_at(e, at, margin))
        }
        Expr::Pow(base, exponent) => smooth_at(base, at, margin) && smooth_at(exponent, at, margin),
        _ => true,
    };
    let here = match expr {
        Expr::Call(Func::Abs | Func::Relu | Func::Sign | Func::Step, args) => {
            args[0].eval(at).is_ok_and(|v| v.abs() > margin)
        }
        Expr::Call(Func::Max | Func::Min, args) => match (args[0].eval(at), args[1].eval(at)) {
            (Ok(a), Ok(b)) => (a - b).abs() > margin,
            _ => false,
        },
        // A fractional power is smooth at its base's zero only in theory: its higher
        // derivatives blow up there, so a finite difference cannot follow it.
        Expr::Pow(base, exponent) => match (base.eval(at), exponent.eval(at)) {
            (Ok(b), Ok(p)) => p.fract() == 0.0 || b.abs() > 0.1,
            _ => false,
        },
        Expr::Call(Func::Tan, args) => args[0].eval(at).is_ok_and(|v| v.cos().abs() > 0.3),
        _ => true,
    };
    children_ok && here
}

/// Whether every sin, cos and tan has an argument below 1e3 in size at `at`. Two
/// equal forms of a large argument (`exp(e^2)^2` and `exp(2*exp(2))`, about 2.6e6)
/// round apart by |argument| · 1e-16, which a periodic function turns into that much
/// absolute error: a 1e-9 comparison would test the arithmetic, not simplify.
fn periodic_arguments_small(expr: &Expr, at: &Point) -> bool {
    let children_ok = match expr {
        Expr::Add(items) | Expr::Mul(items) | Expr::Call(_, items) => {
            items.iter().all(|e| periodic_arguments_small(e, at))
        }
        Expr::Pow(base, exponent) => {
            periodic_arguments_small(base, at) && periodic_arguments_small(exponent, at)
        }
        _ => true,
    };
    let here = match expr {
        Expr::Call(Func::Sin | Func::Cos | Func::Tan, args) => {
            args[0].eval(at).is_ok_and(|v| v.abs() < 1e3)
        }
        _ => true,
    };
    children_ok && here
}

/// Whether every subexpression's value at `at` is below `limit` in size. A term as
/// large as `2^(4^3)` (1.8e19) absorbs whatever is added to it, so the function is
/// constant to the last bit near `at` while its derivative is not: no finite
/// difference can see it.
fn intermediates_below(expr: &Expr, at: &Point, limit: f64) -> bool {
    let children_ok = match expr {
        Expr::Add(items) | Expr::Mul(items) | Expr::Call(_, items) => {
            items.iter().all(|e| intermediates_below(e, at, limit))
        }
        Expr::Pow(base, exponent) => {
            intermediates_below(base, at, limit) && intermediates_below(exponent, at, limit)
        }
        _ => true,
    };
    children_ok && expr.eval(at).is_ok_and(|v| v.abs() < limit)
}

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * a.abs().max(b.abs()).max(1.0)
}

fn point(x: f64, y: f64) -> Point {
    Point::from([("x".to_string(), x), ("y".to_string(), y)])
}

/// Checks the four derivatives of `text` at `(x, y)`; `Ok(false)` when the point is
/// not one where they are claimed to agree (outside the domain, values too large for
/// a finite difference to mean anything, at the end or on the way, or near a kink).
fn four_derivatives_agree(text: &str, x: f64, y: f64) -> Result<bool, TestCaseError> {
    let f = parse(text).unwrap();
    let at = point(x, y);
    let Ok(value) = f.eval(&at) else {
        return Ok(false);
    };
    if value.abs() > 1e4 || !intermediates_below(&f, &at, 1e8) || !smooth_at(&f, &at, 1e-2) {
        return Ok(false);
    }
    let (reverse_value, reverse) = reverse_gradient(&f, &at, &["x", "y"]).unwrap();
    prop_assert!(
        close(reverse_value, value, 1e-12),
        "graph value {reverse_value} vs {value}"
    );
    for (j, var) in ["x", "y"].into_iter().enumerate() {
        let formula = diff(&f, var);
        let Ok(symbolic) = formula.eval(&at) else {
            return Ok(false);
        };
        if symbolic.abs() > 1e4 {
            return Ok(false);
        }
        let (_, forward) = forward_derivative(&f, &at, var).unwrap();
        let Ok(central) = central_difference(&f, &at, var) else {
            return Ok(false);
        };
        // Where the function varies too fast for the stencil's step (1/x near 0, say),
        // a finite difference means nothing: a much smaller step must agree with it.
        let small_step = {
            let x = at[var];
            let h = 1e-6 * x.abs().max(1.0);
            let moved = |t: f64| {
                let mut p = at.clone();
                p.insert(var.to_string(), t);
                f.eval(&p)
            };
            match (moved(x + h), moved(x - h)) {
                (Ok(up), Ok(down)) => (up - down) / (2.0 * h),
                _ => return Ok(false),
            }
        };
        if !close(central, small_step, 1e-5) {
            return Ok(false);
        }
        let context = format!("d/d{var} of {text} = {formula} at {at:?}");
        prop_assert!(
            close(symbolic, forward, 1e-9),
            "symbolic {symbolic} vs forward {forward}: {context}"
        );
        prop_assert!(
            close(symbolic, reverse[j], 1e-9),
            "symbolic {symbolic} vs reverse {}: {context}",
            reverse[j]
        );
        prop_assert!(
            close(symbolic, central, 1e-4),
            "symbolic {symbolic} vs central {central}: {context}"
        );
    }
    Ok(true)
}

#[test]
fn four_derivatives_agree_where_smooth() {
    use std::cell::Cell;
    let checked = Cell::new(0usize);
    let cases = 1024;
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::WithSource("regressions"),
        )),
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(expression(), -2.0..2.0f64, 0.5..2.0f64),
            |(text, x, y)| {
                if four_derivatives_agree(&text, x, y)? {
                    checked.set(checked.get() + 1);
                }
                Ok(())
            },
        )
        .unwrap();
    // The claim must be tested, not skipped: most random points are smooth ones.
    assert!(
        checked.get() * 2 > cases as usize,
        "only {} of {cases} cases were usable",
        checked.get()
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn simplify_expand_and_printing_keep_the_value(text in expression(), x in -2.0..2.0f64, y in 0.1..2.0f64) {
        let raw = parse(&text).unwrap();
        let at = point(x, y);
        let Ok(value) = raw.eval(&at) else { return Ok(()) };
        if value.abs() > 1e6 || !periodic_arguments_small(&raw, &at) {
            return Ok(());
        }
        let simple = simplify(&raw);
        // The printed form reads back to an expression of the same value (checked
        // below) whose printed form is stable. (Not always the same tree: like SymPy,
        // `4/(5*(x^2 + 1))` reads back as `4/(5*x^2 + 5)`, since 5*(x^2 + 1) is
        // distributed before it is inverted.)
        let reread = simplify(&parse(&simple.to_string()).unwrap());
        let again = simplify(&parse(&reread.to_string()).unwrap());
        prop_assert_eq!(again.to_string(), reread.to_string());
        for (what, e) in [("simplified", &simple), ("reread", &reread), ("expanded", &expand(&raw))] {
            match e.eval(&at) {
                Ok(v) => prop_assert!(close(v, value, 1e-9), "{what} {e} = {v}, raw {text} = {value}"),
                // Simplification may cancel a removable singularity, never add one.
                Err(error) => prop_assert!(false, "{what} {e} fails where {text} does not: {error}"),
            }
        }
    }
}

#[test]
fn the_issue_examples_parse_and_differentiate() {
    let cases = [
        ("x^2 + 3*x*y + y^2", "x", "2*x + 3*y"),
        ("(3*x + 2)^2", "x", "18*x + 12"),
        ("exp(-x^2) * sin(y)", "y", "cos(y)*exp(-x^2)"),
        ("ln(1 + exp(z))", "z", "exp(z)/(exp(z) + 1)"),
        ("max(0, x)", "x", "step(x)"),
    ];
    for (text, var, want) in cases {
        assert_eq!(
            diff(&parse(text).unwrap(), var).to_string(),
            want,
            "d/d{var} {text}"
        );
    }
    let d = diff(&parse("sigmoid(w*x + b)").unwrap(), "b");
    assert_eq!(d.to_string(), "sigmoid(w*x + b)*(1 - sigmoid(w*x + b))");
}
