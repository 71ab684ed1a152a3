//! Symbolic expressions: parse, differentiate, simplify, evaluate, and compile to a graph.
//!
//! The same derivative four ways, which agree where the function is smooth:
//! the formula ([`diff`]), forward mode on dual numbers ([`forward_derivative`]),
//! reverse mode on a compiled [`Graph`](crate::Graph) ([`reverse_gradient`]) and the
//! limit definition ([`central_difference`]).
//!
//! ```
//! use descent_autodiff::symbolic::{
//!     central_difference, diff, forward_derivative, parse, reverse_gradient, Point,
//! };
//!
//! let f = parse("x^2 + 3*x*y + y^2")?;
//! let df_dx = diff(&f, "x");
//! assert_eq!(df_dx.to_string(), "2*x + 3*y");
//!
//! let at = Point::from([("x".into(), 1.0), ("y".into(), 2.0)]);
//! assert_eq!(df_dx.eval(&at)?, 8.0);
//! assert_eq!(forward_derivative(&f, &at, "x")?.1, 8.0);
//! assert_eq!(reverse_gradient(&f, &at, &["x", "y"])?.1, vec![8.0, 7.0]);
//! assert!((central_difference(&f, &at, "x")? - 8.0).abs() < 1e-9);
//! # Ok::<(), descent_autodiff::symbolic::SymbolicError>(())
//! ```
//!
//! Errors say where: `parse("x + * 2")` fails with
//!
//! ```text
//! expected an operand (a number, a variable, a function call or '('), found '*' at column 5
//!   x + * 2
//!       ^
//! ```

mod compile;
mod diff;
mod display;
mod error;
mod eval;
mod expr;
mod forward;
mod lexer;
mod number;
mod numeric;
mod parser;
mod simplify;

pub use compile::{compile, reverse_gradient};
pub use diff::{Matrix, diff, diff_n, gradient, hessian, jacobian};
pub use error::SymbolicError;
pub use eval::Point;
pub use expr::{Constant, Expr, Func, KNOWN_FUNCTIONS};
pub use forward::{forward_derivative, forward_gradient};
pub use number::Number;
pub use numeric::{central_difference, central_gradient};
pub use parser::parse;
pub use simplify::{expand, simplify};
