//! What can go wrong when reading or evaluating an expression, said precisely.

/// An error from parsing or evaluating a symbolic expression.
///
/// Parse errors carry the input and a 1-based column; their `Display` shows the input
/// with a caret under the column, e.g.
///
/// ```text
/// expected an operand (a number, a variable, a function call or '('), found '*' at column 5
///   x + * 2
///       ^
/// ```
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SymbolicError {
    /// The text is not a well-formed expression.
    #[error("expected {expected}, found {found} at column {column}\n{}", caret(input, *column))]
    Parse {
        /// The whole input.
        input: String,
        /// 1-based column of the offending character.
        column: usize,
        /// What would have been accepted there.
        expected: String,
        /// What was there instead.
        found: String,
    },
    /// A call to a function the parser does not know.
    #[error(
        "unknown function '{name}' at column {column}; the known functions are {}\n{}",
        known.join(", "), caret(input, *column)
    )]
    UnknownFunction {
        /// The whole input.
        input: String,
        /// 1-based column of the name.
        column: usize,
        /// The unknown name.
        name: String,
        /// Every name that is known.
        known: Vec<&'static str>,
    },
    /// A function called with the wrong number of arguments.
    #[error(
        "'{name}' takes {expected} argument{}, found {found} at column {column}\n{}",
        if *expected == 1 { "" } else { "s" }, caret(input, *column)
    )]
    Arity {
        /// The whole input.
        input: String,
        /// 1-based column of the name.
        column: usize,
        /// The function.
        name: String,
        /// The number of arguments it takes.
        expected: usize,
        /// The number given.
        found: usize,
    },
    /// Evaluation met a variable that has no value.
    #[error("the variable '{name}' has no value")]
    Unbound {
        /// The variable.
        name: String,
    },
    /// A division by zero (or a negative power of zero) at the point.
    #[error("division by zero in {expr} at {at}")]
    DivisionByZero {
        /// The sub-expression that divides.
        expr: String,
        /// The point, as `x = 0, y = 1`.
        at: String,
    },
    /// The logarithm of a number that is not positive.
    #[error("logarithm of the non-positive number {value} in {expr} at {at}")]
    LogOfNonPositive {
        /// The logarithm's sub-expression.
        expr: String,
        /// Its argument's value.
        value: f64,
        /// The point.
        at: String,
    },
    /// A negative number raised to a non-integer power (such as `sqrt(-1)`).
    #[error("{base} raised to the non-integer power {exponent} in {expr} at {at} is not real")]
    NotReal {
        /// The power's sub-expression.
        expr: String,
        /// The base's value.
        base: f64,
        /// The exponent's value.
        exponent: f64,
        /// The point.
        at: String,
    },
    /// A value overflowed or became undefined (such as `tan` at a pole).
    #[error("{expr} is not finite ({value}) at {at}")]
    NotFinite {
        /// The sub-expression.
        expr: String,
        /// Its value.
        value: f64,
        /// The point.
        at: String,
    },
}

/// The input indented by two spaces with a caret under `column` (1-based).
fn caret(input: &str, column: usize) -> String {
    format!("  {input}\n  {}^", " ".repeat(column.saturating_sub(1)))
}

/// `x = 1, y = 2`: a point as error messages print it.
pub(crate) fn point_text<'a>(point: impl IntoIterator<Item = (&'a String, &'a f64)>) -> String {
    let mut out = String::new();
    for (i, (name, value)) in point.into_iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str(" = ");
        super::number::write_float(&mut out, *value).expect("writing to a String");
    }
    out
}

impl SymbolicError {
    /// The 1-based column of a parse error, `None` for evaluation errors.
    pub fn column(&self) -> Option<usize> {
        match self {
            SymbolicError::Parse { column, .. }
            | SymbolicError::UnknownFunction { column, .. }
            | SymbolicError::Arity { column, .. } => Some(*column),
            _ => None,
        }
    }
}
