//! `descent calc ...`: derivatives on the command line, as formulas and as values
//! computed four ways (symbolic, forward mode, reverse mode, central difference).

mod minimize;
mod plot;
mod point;

use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use descent_autodiff::symbolic::{
    Expr, Point, central_difference, diff_n, forward_derivative, gradient, hessian, parse,
    reverse_gradient,
};

pub use minimize::MinimizeArgs;
use point::{check_point, parse_point};

/// The `calc` subcommands.
#[derive(Debug, Subcommand)]
pub enum CalcCommand {
    /// Partial derivatives as formulas and, with --at, their values four ways.
    Diff(DiffArgs),
    /// The gradient at a point, four ways.
    Grad(PointArgs),
    /// The Hessian as formulas and its value at a point.
    Hessian(PointArgs),
    /// Minimise an expression from a starting point, step by step.
    Minimize(MinimizeArgs),
}

/// Arguments of `descent calc diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The expression, such as "x^2 + 3*x*y + y^2".
    expr: String,
    /// The variables to differentiate by, comma-separated (default: all of them).
    #[arg(long, value_delimiter = ',')]
    wrt: Vec<String>,
    /// A point such as x=1,y=2 at which to evaluate the derivatives.
    #[arg(long, allow_hyphen_values = true)]
    at: Option<String>,
    /// The order of the derivative (1 for the first derivative).
    #[arg(long, default_value_t = 1)]
    order: usize,
}

/// Arguments of `descent calc grad` and `descent calc hessian`.
#[derive(Debug, Args)]
pub struct PointArgs {
    /// The expression.
    expr: String,
    /// The point, such as x=1,y=2.
    #[arg(long, allow_hyphen_values = true)]
    at: String,
}

/// Runs a `calc` subcommand, printing to standard output.
pub fn run(command: CalcCommand) -> Result<()> {
    let text = match command {
        CalcCommand::Diff(args) => run_diff(&args)?,
        CalcCommand::Grad(args) => run_grad(&args)?,
        CalcCommand::Hessian(args) => run_hessian(&args)?,
        CalcCommand::Minimize(args) => minimize::run(&args)?,
    };
    print!("{text}");
    Ok(())
}

/// Parses the expression, with the caret message on failure.
pub(crate) fn parse_expr(text: &str) -> Result<Expr> {
    parse(text).map_err(|error| anyhow::anyhow!("cannot read the expression: {error}"))
}

/// A number as the tables print it: integers plainly, others to 12 decimals without
/// trailing zeros, very large or small ones in scientific notation.
pub(crate) fn number(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        return format!("{v}");
    }
    if v.is_finite() && (v.abs() >= 1e9 || v.abs() < 1e-4) {
        return format!("{v:.6e}");
    }
    let text = format!("{v:.12}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `f(x, y)`.
fn signature(vars: &[String]) -> String {
    format!("f({})", vars.join(", "))
}

/// `df/dx` or `d3f/dx3`.
fn partial_name(var: &str, order: usize) -> String {
    match order {
        1 => format!("df/d{var}"),
        n => format!("d{n}f/d{var}{n}"),
    }
}

/// The variables to differentiate by: `--wrt`, each one checked, or all of them.
fn chosen_vars(expr: &Expr, wrt: &[String]) -> Result<Vec<String>> {
    let vars = expr.variables();
    if wrt.is_empty() {
        return Ok(vars);
    }
    for name in wrt {
        if !vars.contains(name) {
            bail!(
                "--wrt names {name}, which the expression does not contain (its variables: {})",
                list(&vars)
            );
        }
    }
    Ok(wrt.to_vec())
}

pub(crate) fn list(vars: &[String]) -> String {
    if vars.is_empty() {
        "none".into()
    } else {
        vars.join(", ")
    }
}

fn run_diff(args: &DiffArgs) -> Result<String> {
    let f = parse_expr(&args.expr)?;
    if args.order == 0 {
        bail!("--order must be at least 1");
    }
    let all = f.variables();
    let vars = chosen_vars(&f, &args.wrt)?;
    let mut out = String::new();
    writeln!(
        out,
        "{} = {}",
        signature(&all),
        descent_autodiff::symbolic::simplify(&f)
    )?;
    if vars.is_empty() {
        writeln!(
            out,
            "\nThe expression is a constant: every derivative is 0."
        )?;
    }
    let formulas: Vec<Expr> = vars.iter().map(|v| diff_n(&f, v, args.order)).collect();
    let width = vars
        .iter()
        .map(|v| partial_name(v, args.order).len())
        .max()
        .unwrap_or(0);
    writeln!(out)?;
    for (var, formula) in vars.iter().zip(&formulas) {
        writeln!(out, "{:<width$} = {formula}", partial_name(var, args.order))?;
    }
    let Some(at) = &args.at else { return Ok(out) };
    let point = parse_point(at, "--at")?;
    check_point(&f, &point, "--at")?;
    let value = f.eval(&point).context("cannot evaluate the expression")?;
    writeln!(out, "\nat {}: f = {}", point_text(&point), number(value))?;
    // The last differentiation four ways: of f itself for order 1, of the
    // (order-1)-th derivative's formula for higher orders.
    let mut rows = Vec::new();
    for (var, formula) in vars.iter().zip(&formulas) {
        let before = diff_n(&f, var, args.order - 1);
        let symbolic = formula
            .eval(&point)
            .with_context(|| format!("cannot evaluate {}", partial_name(var, args.order)))?;
        let (_, forward) = forward_derivative(&before, &point, var)?;
        let (_, reverse) = reverse_gradient(&before, &point, &[var.as_str()])?;
        let central = central_difference(&before, &point, var)?;
        rows.push((
            partial_name(var, args.order),
            [symbolic, forward, reverse[0], central],
        ));
    }
    out.push('\n');
    out.push_str(&four_ways_table(&rows));
    out.push('\n');
    for (var, (_, values)) in vars.iter().zip(&rows) {
        writeln!(out, "{}", verdict(var, values[0], args.order))?;
    }
    if args.order == 1 && vars.len() == all.len() && vars.len() > 1 {
        let critical = rows.iter().all(|(_, v)| is_zero(v[0]));
        if critical {
            writeln!(out, "The gradient is 0: a critical point.")?;
        }
    }
    Ok(out)
}

fn is_zero(v: f64) -> bool {
    v.abs() <= 1e-12
}

/// What the sign of a derivative says about the function.
fn verdict(var: &str, value: f64, order: usize) -> String {
    match order {
        1 if is_zero(value) => {
            format!("f is stationary in {var} (df/d{var} = 0): a critical point along {var}")
        }
        1 if value > 0.0 => format!(
            "f is increasing in {var} (df/d{var} = {} > 0)",
            number(value)
        ),
        1 => format!(
            "f is decreasing in {var} (df/d{var} = {} < 0)",
            number(value)
        ),
        2 if is_zero(value) => format!("f has zero curvature in {var} (d2f/d{var}2 = 0)"),
        2 if value > 0.0 => format!(
            "f is convex (curving up) in {var} (d2f/d{var}2 = {} > 0)",
            number(value)
        ),
        2 => format!(
            "f is concave (curving down) in {var} (d2f/d{var}2 = {} < 0)",
            number(value)
        ),
        n => format!("{} = {}", partial_name(var, n), number(value)),
    }
}

pub(crate) fn point_text(point: &Point) -> String {
    point
        .iter()
        .map(|(k, v)| format!("{k} = {}", number(*v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A table with the columns symbolic, forward, reverse, central difference.
fn four_ways_table(rows: &[(String, [f64; 4])]) -> String {
    let header = ["", "symbolic", "forward", "reverse", "central difference"];
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, values)| {
            std::iter::once(name.clone())
                .chain(values.iter().map(|v| number(*v)))
                .collect()
        })
        .collect();
    table(&header, &cells)
}

/// Left-aligned columns separated by two spaces.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let text: Vec<String> = cells
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("{}\n", text.join("  ").trim_end())
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}

fn run_grad(args: &PointArgs) -> Result<String> {
    let f = parse_expr(&args.expr)?;
    let vars = f.variables();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    let point = parse_point(&args.at, "--at")?;
    check_point(&f, &point, "--at")?;
    let formulas = gradient(&f, &names);
    let mut out = String::new();
    writeln!(
        out,
        "{} = {}\n",
        signature(&vars),
        descent_autodiff::symbolic::simplify(&f)
    )?;
    let texts: Vec<String> = formulas.iter().map(Expr::to_string).collect();
    writeln!(out, "grad f = [{}]", texts.join(", "))?;
    let value = f.eval(&point).context("cannot evaluate the expression")?;
    writeln!(out, "\nat {}: f = {}\n", point_text(&point), number(value))?;
    let (_, reverse) = reverse_gradient(&f, &point, &names)?;
    let mut rows = Vec::new();
    for (j, (var, formula)) in vars.iter().zip(&formulas).enumerate() {
        let symbolic = formula
            .eval(&point)
            .with_context(|| format!("cannot evaluate df/d{var}"))?;
        let (_, forward) = forward_derivative(&f, &point, var)?;
        rows.push((
            format!("df/d{var}"),
            [
                symbolic,
                forward,
                reverse[j],
                central_difference(&f, &point, var)?,
            ],
        ));
    }
    out.push_str(&four_ways_table(&rows));
    let norm = rows.iter().map(|(_, v)| v[0] * v[0]).sum::<f64>().sqrt();
    writeln!(out, "\n|grad f| = {}", number(norm))?;
    if is_zero(norm) {
        writeln!(out, "The gradient is 0: a critical point.")?;
    } else {
        let direction: Vec<String> = rows.iter().map(|(_, v)| number(-v[0] / norm)).collect();
        writeln!(
            out,
            "steepest descent direction: [{}]",
            direction.join(", ")
        )?;
    }
    Ok(out)
}

fn run_hessian(args: &PointArgs) -> Result<String> {
    let f = parse_expr(&args.expr)?;
    let vars = f.variables();
    let names: Vec<&str> = vars.iter().map(String::as_str).collect();
    let point = parse_point(&args.at, "--at")?;
    check_point(&f, &point, "--at")?;
    let h = hessian(&f, &names);
    let mut out = String::new();
    writeln!(
        out,
        "{} = {}\n",
        signature(&vars),
        descent_autodiff::symbolic::simplify(&f)
    )?;
    writeln!(out, "Hessian (rows and columns {}):\n{h}\n", list(&vars))?;
    let values = h.eval(&point).context("cannot evaluate the Hessian")?;
    writeln!(out, "at {}:", point_text(&point))?;
    let cells: Vec<Vec<String>> = values
        .iter()
        .map(|r| r.iter().map(|v| number(*v)).collect())
        .collect();
    let widths: Vec<usize> = (0..vars.len())
        .map(|c| cells.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    for row in &cells {
        let padded: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        writeln!(out, "[{}]", padded.join("  "))?;
    }
    // The second differentiation again by forward mode, reverse mode and central
    // differences of the gradient's formulas.
    let gradient = gradient(&f, &names);
    let mut worst = [0.0f64; 3];
    for (i, g) in gradient.iter().enumerate() {
        let (_, reverse) = reverse_gradient(g, &point, &names)?;
        for (j, var) in names.iter().enumerate() {
            let (_, forward) = forward_derivative(g, &point, var)?;
            let central = central_difference(g, &point, var)?;
            for (w, v) in worst.iter_mut().zip([forward, reverse[j], central]) {
                *w = w.max((v - values[i][j]).abs());
            }
        }
    }
    writeln!(
        out,
        "\nlargest difference from the formulas: forward {}, reverse {}, central difference {}",
        number(worst[0]),
        number(worst[1]),
        number(worst[2])
    )?;
    writeln!(out, "{}", definiteness(&values))?;
    Ok(out)
}

/// What the Hessian's definiteness says about the point.
fn definiteness(h: &[Vec<f64>]) -> String {
    let negated: Vec<Vec<f64>> = h.iter().map(|r| r.iter().map(|v| -v).collect()).collect();
    if cholesky_ok(h) {
        "positive definite: f is strictly convex here (a local minimum where the gradient is 0)"
            .into()
    } else if cholesky_ok(&negated) {
        "negative definite: f is strictly concave here (a local maximum where the gradient is 0)"
            .into()
    } else if h.len() == 2 && h[0][0] * h[1][1] - h[0][1] * h[1][0] < 0.0 {
        "indefinite: f curves up along some directions and down along others (a saddle point where the gradient is 0)".into()
    } else {
        "neither positive nor negative definite: the second-order test decides nothing".into()
    }
}

/// Whether the symmetric matrix has a Cholesky factor (is positive definite).
fn cholesky_ok(a: &[Vec<f64>]) -> bool {
    let n = a.len();
    let mut l = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i][k] * l[j][k]).sum();
            if i == j {
                let d = a[i][i] - s;
                if d <= 1e-12 * a[i][i].abs().max(1.0) {
                    return false;
                }
                l[i][j] = d.sqrt();
            } else {
                l[i][j] = (a[i][j] - s) / l[j][j];
            }
        }
    }
    n > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_plainly() {
        assert_eq!(number(8.0), "8");
        assert_eq!(number(8.000000000001), "8.000000000001");
        assert_eq!(number(0.1 + 0.2), "0.3");
        assert_eq!(number(1e-9), "1.000000e-9");
    }

    #[test]
    fn definiteness_of_textbook_hessians() {
        assert!(definiteness(&[vec![2.0, 0.0], vec![0.0, 2.0]]).starts_with("positive definite"));
        assert!(definiteness(&[vec![2.0, 3.0], vec![3.0, 2.0]]).starts_with("indefinite"));
        assert!(definiteness(&[vec![-1.0]]).starts_with("negative definite"));
    }
}
