//! Conformance of the `seed` group: symbolic derivatives, their values four ways, the
//! chain rule and a gradient-descent trajectory against SymPy's worked examples
//! (`seed.json`, format in `shared/reference/README.md` section 5).
//!
//! Formulas are compared as expressions, not strings: two formulas are equal when
//! their expanded canonical forms (descent's `expand`, which multiplies out products
//! and integer powers of sums, folds numbers exactly and collects like terms) are equal
//! as trees, and, as a second witness, when they agree to 1e-12 at 24 points. Every
//! printed SymPy form (`str`, `expand`, `factor`, `simplify`) is held to this.

use anyhow::{Context, Result, bail};
use descent_autodiff::symbolic::{
    self, Expr, Number, Point, central_difference, diff, expand, forward_derivative, parse,
    reverse_gradient,
};
use serde_json::Value;

use super::{Report, float, float_field, floats, relative_error};

/// Values by formula, forward mode and reverse mode: agreement to rounding.
const EXACT_TOLERANCE: f64 = 1e-12;
/// The five-point central difference: agreement to its truncation and rounding error.
const CENTRAL_TOLERANCE: f64 = 1e-8;
/// The gradient-descent trajectory (the bar).
const TRAJECTORY_TOLERANCE: f64 = 1e-12;
/// The SymPy forms every formula object holds.
const FORMS: [&str; 4] = ["str", "expand", "factor", "simplify"];

/// Runs every case of the group.
pub fn run(file: &Value, report: &mut Report) -> Result<()> {
    let cases = file
        .get("cases")
        .and_then(Value::as_array)
        .context("no `cases` array")?;
    for case in cases {
        let name = case
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("<unnamed>");
        if let Err(error) = run_case(case, name, report) {
            report.unrunnable(name, &format!("{error:#}"));
        }
    }
    Ok(())
}

fn text<'a>(value: &'a Value, key: &str) -> Result<&'a str> {
    value
        .get(key)
        .and_then(Value::as_str)
        .with_context(|| format!("missing string field `{key}`"))
}

fn parsed(value: &Value, key: &str) -> Result<Expr> {
    let source = text(value, key)?;
    parse(source).with_context(|| format!("cannot read `{key}` = {source:?}"))
}

fn run_case(case: &Value, name: &str, report: &mut Report) -> Result<()> {
    let variables: Vec<String> = case
        .get("variables")
        .and_then(Value::as_array)
        .context("missing `variables`")?
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .context("a variable is not a string")
        })
        .collect::<Result<_>>()?;
    let vars: Vec<&str> = variables.iter().map(String::as_str).collect();
    let function_forms = case.get("function").context("missing `function`")?;
    let f = parsed(function_forms, "str")?;
    let (pass, detail) = same_formula(&f, function_forms, &vars)?;
    report.record(&format!("{name}/f"), pass, &detail);

    let derivatives = case
        .get("derivatives")
        .and_then(Value::as_object)
        .context("missing `derivatives`")?;
    for (var, forms) in derivatives {
        let derivative = diff(&f, var);
        let (pass, detail) = same_formula(&derivative, forms, &vars)?;
        report.record(&format!("{name}/d/d{var}"), pass, &detail);
    }

    let evaluations = case
        .get("evaluations")
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    for (i, evaluation) in evaluations.iter().enumerate() {
        check_evaluation(&f, evaluation, &vars, &format!("{name}/at[{i}]"), report)?;
    }
    if let Some(chain) = case.get("chain_rule") {
        check_chain_rule(&f, chain, &vars, &format!("{name}/chain_rule"), report)?;
    }
    if let Some(descent) = case.get("gradient_descent") {
        check_descent(
            &f,
            descent,
            &vars,
            &format!("{name}/gradient_descent"),
            report,
        )?;
    }
    Ok(())
}

/// Whether `ours` equals every SymPy form in `forms` (by expanded canonical form and
/// at 24 points), with a detail naming our formula.
fn same_formula(ours: &Expr, forms: &Value, vars: &[&str]) -> Result<(bool, String)> {
    let mut failures = Vec::new();
    for form in FORMS {
        let theirs = parsed(forms, form)?;
        if !equal(ours, &theirs, vars) {
            failures.push(format!("{form} = {theirs}"));
        }
    }
    Ok(if failures.is_empty() {
        (true, format!("{ours}  (= SymPy's {} forms)", FORMS.len()))
    } else {
        (
            false,
            format!("ours {ours} differs from SymPy's {}", failures.join(", ")),
        )
    })
}

/// Canonical forms equal, and values equal at 24 points spread over [-3, 3]^n.
fn equal(a: &Expr, b: &Expr, vars: &[&str]) -> bool {
    if expand(a) != expand(b) {
        return false;
    }
    (0..24).all(|k| {
        let at: Point = vars
            .iter()
            .enumerate()
            .map(|(j, v)| {
                (
                    v.to_string(),
                    -3.0 + 6.0 * (((k * 7 + j * 11) % 24) as f64 + 0.37) / 24.0,
                )
            })
            .collect();
        match (a.eval(&at), b.eval(&at)) {
            (Ok(x), Ok(y)) => relative_error(x, y, 1.0) <= EXACT_TOLERANCE,
            (Err(_), Err(_)) => true,
            _ => false,
        }
    })
}

fn check_evaluation(
    f: &Expr,
    evaluation: &Value,
    vars: &[&str],
    name: &str,
    report: &mut Report,
) -> Result<()> {
    let at: Point = evaluation
        .get("at")
        .and_then(Value::as_object)
        .context("evaluation without `at`")?
        .iter()
        .map(|(k, v)| Ok((k.clone(), float(v)?)))
        .collect::<Result<_>>()?;
    let want_f = float_field(evaluation, "f")?;
    report.check(
        &format!("{name}/f"),
        relative_error(f.eval(&at)?, want_f, 1.0),
        EXACT_TOLERANCE,
    );
    let (_, reverse) = reverse_gradient(f, &at, vars)?;
    for (j, var) in vars.iter().enumerate() {
        let key = format!("df/d{var}");
        let Some(want) = evaluation.get(&key) else {
            continue;
        };
        let want = float(want)?;
        let symbolic = diff(f, var).eval(&at)?;
        let (_, forward) = forward_derivative(f, &at, var)?;
        let central = central_difference(f, &at, var)?;
        let exact = [symbolic, forward, reverse[j]]
            .into_iter()
            .map(|v| relative_error(v, want, 1.0))
            .fold(0.0, f64::max);
        let central_error = relative_error(central, want, 1.0);
        let pass = exact <= EXACT_TOLERANCE && central_error <= CENTRAL_TOLERANCE;
        report.record(
            &format!("{name}/{key}"),
            pass,
            &format!(
                "{want}: symbolic {symbolic}, forward {forward}, reverse {}, central {central:.12} \
                 (max error {exact:.1e} ≤ {EXACT_TOLERANCE:.0e}, central {central_error:.1e} ≤ {CENTRAL_TOLERANCE:.0e})",
                reverse[j]
            ),
        );
    }
    Ok(())
}

/// d outer/du, d inner/dx, outer(inner) = f and the product (outer' ∘ inner) · inner' = f'.
fn check_chain_rule(
    f: &Expr,
    chain: &Value,
    vars: &[&str],
    name: &str,
    report: &mut Report,
) -> Result<()> {
    let outer = parsed(chain, "outer")?;
    let inner = parsed(chain, "inner")?;
    let outer_vars = outer.variables();
    let [u] = outer_vars.as_slice() else {
        bail!("the outer function must have one variable, has {outer_vars:?}");
    };
    let [x] = vars else {
        bail!("the chain-rule case must have one variable, has {vars:?}")
    };
    let checks = [
        (
            "outer'",
            diff(&outer, u),
            parsed(chain, "outer_derivative")?,
            vec![u.as_str()],
        ),
        (
            "inner'",
            diff(&inner, x),
            parsed(chain, "inner_derivative")?,
            vec![*x],
        ),
        (
            "outer(inner)",
            outer.substitute(u, &inner),
            f.clone(),
            vec![*x],
        ),
        (
            "outer'(inner)*inner'",
            parsed(chain, "product")?,
            diff(f, x),
            vec![*x],
        ),
        (
            "diff(outer'(inner)*inner')",
            symbolic::simplify(&(diff(&outer, u).substitute(u, &inner) * diff(&inner, x))),
            diff(f, x),
            vec![*x],
        ),
    ];
    let failed: Vec<String> = checks
        .iter()
        .filter(|(_, ours, theirs, vs)| !equal(ours, theirs, vs))
        .map(|(what, ours, theirs, _)| format!("{what}: {ours} ≠ {theirs}"))
        .collect();
    let detail = if failed.is_empty() {
        format!(
            "outer' = {}, inner' = {}, product = {}",
            diff(&outer, u),
            diff(&inner, x),
            diff(f, x)
        )
    } else {
        failed.join("; ")
    };
    report.record(name, failed.is_empty(), &detail);
    Ok(())
}

/// The trajectory three ways: in f64 with the symbolic derivative, in f64 by reverse
/// mode, and exactly in rationals (against the `p/q` strings).
fn check_descent(
    f: &Expr,
    descent: &Value,
    vars: &[&str],
    name: &str,
    report: &mut Report,
) -> Result<()> {
    let [var] = vars else {
        bail!("gradient descent is recorded for one variable, not {vars:?}")
    };
    let x0 = float_field(descent, "x0")?;
    let lr = float_field(descent, "learning_rate")?;
    let iterations = descent
        .get("iterations")
        .and_then(Value::as_u64)
        .context("missing `iterations`")? as usize;
    let want_x = floats(descent.get("x").context("missing `x`")?)?;
    let want_f = floats(descent.get("f").context("missing `f`")?)?;
    if want_x.len() != iterations || want_f.len() != iterations {
        bail!("`x` and `f` must hold `iterations` = {iterations} values");
    }
    let point = |x: f64| Point::from([(var.to_string(), x)]);
    let df = diff(f, var);
    let f0_error = relative_error(f.eval(&point(x0))?, float_field(descent, "f0")?, 1e-300);

    // x ← x − lr·f'(x); then f(x), in f64: by the formula, and by reverse mode.
    let (mut x_symbolic, mut x_reverse) = (x0, x0);
    let (mut error_symbolic, mut error_reverse) = (f0_error, f0_error);
    for k in 0..iterations {
        x_symbolic -= lr * df.eval(&point(x_symbolic))?;
        let f_symbolic = f.eval(&point(x_symbolic))?;
        x_reverse -= lr * reverse_gradient(f, &point(x_reverse), vars)?.1[0];
        let f_reverse = reverse_gradient(f, &point(x_reverse), vars)?.0;
        for (error, x, fx) in [
            (&mut error_symbolic, x_symbolic, f_symbolic),
            (&mut error_reverse, x_reverse, f_reverse),
        ] {
            *error = error
                .max(relative_error(x, want_x[k], 1e-300))
                .max(relative_error(fx, want_f[k], 1e-300));
        }
    }
    report.check(
        &format!("{name}/symbolic"),
        error_symbolic,
        TRAJECTORY_TOLERANCE,
    );
    report.check(
        &format!("{name}/reverse"),
        error_reverse,
        TRAJECTORY_TOLERANCE,
    );

    // The same steps in exact rational arithmetic, by substitution and simplification.
    let exact_pass = exact_trajectory(f, &df, var, x0, lr, descent, iterations);
    match exact_pass {
        Ok(steps) => report.record(
            &format!("{name}/exact"),
            true,
            &format!("{steps} steps equal x_exact and f_exact as rationals"),
        ),
        Err(error) => report.record(&format!("{name}/exact"), false, &format!("{error:#}")),
    }
    Ok(())
}

fn exact_trajectory(
    f: &Expr,
    df: &Expr,
    var: &str,
    x0: f64,
    lr: f64,
    descent: &Value,
    iterations: usize,
) -> Result<usize> {
    let exact = |v: f64| decimal(v).with_context(|| format!("{v} is not a short decimal"));
    let lr = Expr::Num(exact(lr)?);
    let mut x = Expr::Num(exact(x0)?);
    let rationals = |key: &str| -> Result<Vec<Expr>> {
        descent
            .get(key)
            .and_then(Value::as_array)
            .with_context(|| format!("missing `{key}`"))?
            .iter()
            .map(|v| {
                parse(v.as_str().context("not a string")?)
                    .map(|e| symbolic::simplify(&e))
                    .map_err(Into::into)
            })
            .collect()
    };
    let (want_x, want_f) = (rationals("x_exact")?, rationals("f_exact")?);
    if want_x.len() != iterations || want_f.len() != iterations {
        bail!("`x_exact` and `f_exact` must hold {iterations} values");
    }
    for k in 0..iterations {
        x = symbolic::simplify(&(x.clone() - lr.clone() * df.substitute(var, &x)));
        let fx = symbolic::simplify(&f.substitute(var, &x));
        if x != want_x[k] || fx != want_f[k] {
            bail!(
                "step {}: x = {x}, f = {fx}; recorded {} and {}",
                k + 1,
                want_x[k],
                want_f[k]
            );
        }
    }
    Ok(iterations)
}

/// The exact rational of a float's shortest decimal form (`0.1` → 1/10).
fn decimal(v: f64) -> Option<Number> {
    let text = format!("{v}");
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let digits: i64 = format!("{whole}{fraction}").parse().ok()?;
    Number::ratio(digits, 10_i64.checked_pow(fraction.len() as u32)?)
}
