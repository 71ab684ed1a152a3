//! Reading points such as `x=1,y=2` and checking them against an expression's variables.

use anyhow::{Result, bail};
use descent_autodiff::symbolic::{Expr, Point};

use super::list;

/// Parses `x=1,y=-2.5` (spaces allowed); `flag` names the option in messages.
pub(crate) fn parse_point(text: &str, flag: &str) -> Result<Point> {
    let mut point = Point::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((name, value)) = part.split_once('=') else {
            bail!("{flag}: expected NAME=VALUE, found {part:?} (write e.g. {flag} x=1,y=2)");
        };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
            bail!("{flag}: {name:?} is not a variable name");
        }
        let Ok(number) = value.parse::<f64>() else {
            bail!("{flag}: the value of {name}, {value:?}, is not a number");
        };
        if !number.is_finite() {
            bail!("{flag}: the value of {name} must be finite, not {value}");
        }
        if point.insert(name.to_string(), number).is_some() {
            bail!("{flag}: {name} is given twice");
        }
    }
    if point.is_empty() {
        bail!("{flag}: no values given (write e.g. {flag} x=1,y=2)");
    }
    Ok(point)
}

/// Checks that `point` gives exactly the expression's variables, naming the first
/// one given but not used and the first one needed but not given.
pub(crate) fn check_point(expr: &Expr, point: &Point, flag: &str) -> Result<()> {
    let vars = expr.variables();
    if let Some(extra) = point.keys().find(|k| !vars.contains(k)) {
        bail!(
            "{flag} gives a value for {extra}, which the expression {expr} does not contain (its variables: {})",
            list(&vars)
        );
    }
    if let Some(missing) = vars.iter().find(|v| !point.contains_key(*v)) {
        bail!("the expression needs a value for {missing}: add {missing}=... to {flag}");
    }
    Ok(())
}
