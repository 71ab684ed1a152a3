//! The expression tree: numbers, constants, variables, sums, products, powers and calls.

use std::collections::BTreeSet;

use super::Number;

/// A named mathematical constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Constant {
    /// π
    Pi,
    /// Euler's number e
    E,
}

impl Constant {
    /// The constant's value.
    pub fn value(self) -> f64 {
        match self {
            Constant::Pi => std::f64::consts::PI,
            Constant::E => std::f64::consts::E,
        }
    }

    /// The name the parser reads and the printer writes.
    pub fn name(self) -> &'static str {
        match self {
            Constant::Pi => "pi",
            Constant::E => "e",
        }
    }
}

/// A function that can be called in an expression.
///
/// `sqrt(x)` is read as `x^(1/2)` and `log` as `ln`, so neither has its own variant.
/// `sign` and `step` (Heaviside, 0 at 0) appear in derivatives of `abs`, `relu`,
/// `max` and `min`, and can be written too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Func {
    /// `e^x`
    Exp,
    /// Natural logarithm.
    Ln,
    /// `|x|`
    Abs,
    /// Sine.
    Sin,
    /// Cosine.
    Cos,
    /// Tangent.
    Tan,
    /// Hyperbolic tangent.
    Tanh,
    /// `1 / (1 + e^-x)`
    Sigmoid,
    /// `max(x, 0)`
    Relu,
    /// `ln(1 + e^x)`
    Softplus,
    /// The larger of two arguments.
    Max,
    /// The smaller of two arguments.
    Min,
    /// `-1`, `0` or `1`.
    Sign,
    /// Heaviside step: `1` for `x > 0`, else `0`.
    Step,
}

/// Every function name the parser knows, in the order error messages list them.
pub const KNOWN_FUNCTIONS: &[&str] = &[
    "exp", "ln", "log", "sqrt", "abs", "sin", "cos", "tan", "tanh", "sigmoid", "relu", "softplus",
    "max", "min", "sign", "step",
];

impl Func {
    /// The function of a name (SymPy's spellings `Abs`, `Max`, `Min`, `Heaviside`
    /// are accepted too); `sqrt` is not a `Func` (see the type's docs).
    pub fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "exp" => Func::Exp,
            "ln" | "log" => Func::Ln,
            "abs" | "Abs" => Func::Abs,
            "sin" => Func::Sin,
            "cos" => Func::Cos,
            "tan" => Func::Tan,
            "tanh" => Func::Tanh,
            "sigmoid" => Func::Sigmoid,
            "relu" => Func::Relu,
            "softplus" => Func::Softplus,
            "max" | "Max" => Func::Max,
            "min" | "Min" => Func::Min,
            "sign" => Func::Sign,
            "step" | "Heaviside" => Func::Step,
            _ => return None,
        })
    }

    /// The printed name.
    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Ln => "ln",
            Func::Abs => "abs",
            Func::Sin => "sin",
            Func::Cos => "cos",
            Func::Tan => "tan",
            Func::Tanh => "tanh",
            Func::Sigmoid => "sigmoid",
            Func::Relu => "relu",
            Func::Softplus => "softplus",
            Func::Max => "max",
            Func::Min => "min",
            Func::Sign => "sign",
            Func::Step => "step",
        }
    }

    /// How many arguments the function takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Max | Func::Min => 2,
            _ => 1,
        }
    }
}

/// A symbolic expression over named real variables.
///
/// Subtraction, division and negation have no variants of their own: `a - b` is
/// `a + (-1)·b`, `a / b` is `a · b^(-1)`, as in SymPy. [`simplify`](super::simplify)
/// brings a tree into canonical form; the parser and the operators build raw trees.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A number.
    Num(Number),
    /// A named constant.
    Const(Constant),
    /// A variable.
    Var(String),
    /// A sum of two or more terms.
    Add(Vec<Expr>),
    /// A product of two or more factors.
    Mul(Vec<Expr>),
    /// `base^exponent`.
    Pow(Box<Expr>, Box<Expr>),
    /// A function call with [`Func::arity`] arguments.
    Call(Func, Vec<Expr>),
}

impl Expr {
    /// The integer `n`.
    pub fn int(n: i64) -> Expr {
        Expr::Num(Number::int(n))
    }

    /// The number `value`.
    pub fn num(value: f64) -> Expr {
        Expr::Num(Number::float(value))
    }

    /// The variable `name`.
    pub fn var(name: &str) -> Expr {
        Expr::Var(name.to_string())
    }

    /// `base^exponent`.
    pub fn pow(base: Expr, exponent: Expr) -> Expr {
        Expr::Pow(Box::new(base), Box::new(exponent))
    }

    /// `f(arg)` for a one-argument function.
    pub fn call(func: Func, arg: Expr) -> Expr {
        Expr::Call(func, vec![arg])
    }

    /// The number, when the expression is one.
    pub fn as_number(&self) -> Option<Number> {
        match self {
            Expr::Num(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether the expression is the number zero.
    pub fn is_zero(&self) -> bool {
        self.as_number().is_some_and(Number::is_zero)
    }

    /// The variables the expression depends on, sorted by name.
    pub fn variables(&self) -> Vec<String> {
        let mut names = BTreeSet::new();
        self.visit_vars(&mut |name| {
            names.insert(name.to_string());
        });
        names.into_iter().collect()
    }

    /// Whether `name` occurs in the expression.
    pub fn depends_on(&self, name: &str) -> bool {
        let mut found = false;
        self.visit_vars(&mut |v| found |= v == name);
        found
    }

    fn visit_vars(&self, f: &mut impl FnMut(&str)) {
        match self {
            Expr::Num(_) | Expr::Const(_) => {}
            Expr::Var(name) => f(name),
            Expr::Add(items) | Expr::Mul(items) | Expr::Call(_, items) => {
                items.iter().for_each(|item| item.visit_vars(f))
            }
            Expr::Pow(base, exponent) => {
                base.visit_vars(f);
                exponent.visit_vars(f);
            }
        }
    }

    /// The expression with every occurrence of the variable `name` replaced by
    /// `value` (not simplified).
    pub fn substitute(&self, name: &str, value: &Expr) -> Expr {
        let map = |items: &[Expr]| items.iter().map(|e| e.substitute(name, value)).collect();
        match self {
            Expr::Var(v) if v == name => value.clone(),
            Expr::Num(_) | Expr::Const(_) | Expr::Var(_) => self.clone(),
            Expr::Add(items) => Expr::Add(map(items)),
            Expr::Mul(items) => Expr::Mul(map(items)),
            Expr::Call(func, items) => Expr::Call(*func, map(items)),
            Expr::Pow(base, exponent) => Expr::pow(
                base.substitute(name, value),
                exponent.substitute(name, value),
            ),
        }
    }
}

impl std::ops::Add for Expr {
    type Output = Expr;
    fn add(self, rhs: Expr) -> Expr {
        Expr::Add(vec![self, rhs])
    }
}

impl std::ops::Sub for Expr {
    type Output = Expr;
    fn sub(self, rhs: Expr) -> Expr {
        Expr::Add(vec![self, -rhs])
    }
}

impl std::ops::Mul for Expr {
    type Output = Expr;
    fn mul(self, rhs: Expr) -> Expr {
        Expr::Mul(vec![self, rhs])
    }
}

impl std::ops::Div for Expr {
    type Output = Expr;
    fn div(self, rhs: Expr) -> Expr {
        Expr::Mul(vec![self, Expr::pow(rhs, Expr::int(-1))])
    }
}

impl std::ops::Neg for Expr {
    type Output = Expr;
    fn neg(self) -> Expr {
        Expr::Mul(vec![Expr::int(-1), self])
    }
}
