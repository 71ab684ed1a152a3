//! Reading expression text into an [`Expr`] by recursive descent.
//!
//! The grammar, loosest binding first (`^` is right-associative and binds tighter
//! than a leading minus, which negates the whole product: `-x^2` is `-(x^2)`, `-a/b`
//! is `-(a/b)`, and `2^-1` is `1/2`):
//!
//! ```text
//! sum     = product (("+" | "-") product)*
//! product = ("-" | "+") product | power (("*" | "/") unary)*
//! unary   = ("-" | "+") unary | power
//! power   = atom ("^" unary)?
//! atom    = number | name | name "(" sum ("," sum)* ")" | "(" sum ")"
//! ```

use super::lexer::{Spanned, Token, tokenize};
use super::{Constant, Expr, Func, KNOWN_FUNCTIONS, Number, SymbolicError};

/// Parses `input` into an expression (unsimplified: `x + x` stays a sum of two terms).
///
/// # Errors
/// [`SymbolicError::Parse`] with the column and what was expected,
/// [`SymbolicError::UnknownFunction`] listing the known functions, or
/// [`SymbolicError::Arity`].
pub fn parse(input: &str) -> Result<Expr, SymbolicError> {
    let tokens = tokenize(input)?;
    let mut parser = Parser {
        input,
        tokens,
        at: 0,
    };
    let expr = parser.sum()?;
    parser.expect_end()?;
    Ok(expr)
}

const OPERAND: &str = "an operand (a number, a variable, a function call or '(')";

struct Parser<'a> {
    input: &'a str,
    tokens: Vec<Spanned>,
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> &Spanned {
        &self.tokens[self.at]
    }

    fn next(&mut self) -> Spanned {
        let token = self.tokens[self.at].clone();
        if self.at + 1 < self.tokens.len() {
            self.at += 1;
        }
        token
    }

    fn error(&self, expected: &str) -> SymbolicError {
        let here = self.peek();
        SymbolicError::Parse {
            input: self.input.to_string(),
            column: here.column,
            expected: expected.to_string(),
            found: here.token.describe(),
        }
    }

    fn expect_end(&self) -> Result<(), SymbolicError> {
        match self.peek().token {
            Token::End => Ok(()),
            Token::RParen => Err(self.error("an operator or the end of the input (unmatched ')')")),
            Token::Name(_) | Token::Number(_) | Token::LParen => Err(self
                .error("an operator or the end of the input (write 2*x, not 2x, for a product)")),
            _ => Err(self.error("an operator or the end of the input")),
        }
    }

    fn sum(&mut self) -> Result<Expr, SymbolicError> {
        let mut terms = vec![self.product()?];
        loop {
            match self.peek().token {
                Token::Plus => {
                    self.next();
                    terms.push(self.product()?);
                }
                Token::Minus => {
                    self.next();
                    terms.push(negate(self.product()?));
                }
                _ => break,
            }
        }
        Ok(if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Expr::Add(terms)
        })
    }

    /// A product; a leading sign applies to the whole of it, so `-a/b` is `-(a/b)`.
    fn product(&mut self) -> Result<Expr, SymbolicError> {
        match self.peek().token {
            Token::Minus => {
                self.next();
                return Ok(negate(self.product()?));
            }
            Token::Plus => {
                self.next();
                return self.product();
            }
            _ => {}
        }
        let mut factors = vec![self.power()?];
        loop {
            match self.peek().token {
                Token::Star => {
                    self.next();
                    factors.push(self.unary()?);
                }
                Token::Slash => {
                    self.next();
                    factors.push(Expr::pow(self.unary()?, Expr::int(-1)));
                }
                _ => break,
            }
        }
        Ok(if factors.len() == 1 {
            factors.pop().expect("one factor")
        } else {
            Expr::Mul(factors)
        })
    }

    /// A signed power: an operand after `*`, `/` or `^` (`2*-x`, `x^-1`).
    fn unary(&mut self) -> Result<Expr, SymbolicError> {
        match self.peek().token {
            Token::Minus => {
                self.next();
                Ok(negate(self.unary()?))
            }
            Token::Plus => {
                self.next();
                self.unary()
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<Expr, SymbolicError> {
        let base = self.atom()?;
        if self.peek().token == Token::Caret {
            self.next();
            let exponent = self.unary()?;
            return Ok(Expr::pow(base, exponent));
        }
        Ok(base)
    }

    fn atom(&mut self) -> Result<Expr, SymbolicError> {
        let Spanned { token, column } = self.peek().clone();
        match token {
            Token::Number(n) => {
                self.next();
                Ok(Expr::Num(n))
            }
            Token::LParen => {
                self.next();
                let inner = self.sum()?;
                if self.peek().token != Token::RParen {
                    return Err(self.error("')' or an operator"));
                }
                self.next();
                Ok(inner)
            }
            Token::Name(name) => {
                self.next();
                if self.peek().token == Token::LParen {
                    self.next();
                    self.call(&name, column)
                } else {
                    Ok(match name.as_str() {
                        "pi" | "π" => Expr::Const(Constant::Pi),
                        "e" | "E" => Expr::Const(Constant::E),
                        _ => Expr::Var(name),
                    })
                }
            }
            _ => Err(self.error(OPERAND)),
        }
    }

    /// After `name(`: the arguments and the closing parenthesis.
    fn call(&mut self, name: &str, column: usize) -> Result<Expr, SymbolicError> {
        let func = Func::from_name(name);
        if func.is_none() && name != "sqrt" {
            return Err(SymbolicError::UnknownFunction {
                input: self.input.to_string(),
                column,
                name: name.to_string(),
                known: KNOWN_FUNCTIONS.to_vec(),
            });
        }
        let mut args = vec![self.sum()?];
        while self.peek().token == Token::Comma {
            self.next();
            args.push(self.sum()?);
        }
        if self.peek().token != Token::RParen {
            return Err(self.error("',' or ')'"));
        }
        self.next();
        let expected = func.map_or(1, Func::arity);
        if args.len() != expected {
            return Err(SymbolicError::Arity {
                input: self.input.to_string(),
                column,
                name: name.to_string(),
                expected,
                found: args.len(),
            });
        }
        Ok(match func {
            Some(func) => Expr::Call(func, args),
            None => Expr::pow(
                args.pop().expect("one argument"),
                Expr::Num(Number::Rational(1, 2)),
            ),
        })
    }
}

/// `-e`, folded into a number literal.
fn negate(e: Expr) -> Expr {
    match e {
        Expr::Num(n) => Expr::Num(-n),
        other => -other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_and_associativity() {
        let x = || Expr::var("x");
        assert_eq!(parse("-x^2").unwrap(), -Expr::pow(x(), Expr::int(2)));
        assert_eq!(
            parse("2^3^2").unwrap(),
            Expr::pow(Expr::int(2), Expr::pow(Expr::int(3), Expr::int(2)))
        );
        assert_eq!(
            parse("2^-1").unwrap(),
            Expr::pow(Expr::int(2), Expr::int(-1))
        );
        assert_eq!(parse("x - 1").unwrap(), Expr::Add(vec![x(), Expr::int(-1)]));
        assert_eq!(parse("-a/b").unwrap(), -parse("a/b").unwrap());
        assert_eq!(parse("x ** 2").unwrap(), parse("x^2").unwrap());
        assert_eq!(parse("(x)").unwrap(), x());
    }

    #[test]
    fn functions_constants_and_aliases() {
        assert_eq!(parse("log(e)").unwrap(), parse("ln(e)").unwrap());
        assert_eq!(
            parse("sqrt(x)").unwrap(),
            Expr::pow(Expr::var("x"), Expr::Num(Number::Rational(1, 2)))
        );
        assert_eq!(parse("pi").unwrap(), Expr::Const(Constant::Pi));
        assert!(
            matches!(parse("max(0, x)").unwrap(), Expr::Call(Func::Max, ref a) if a.len() == 2)
        );
    }

    #[test]
    fn errors_point_at_the_column_and_say_what_was_expected() {
        let err = parse("x + * 2").unwrap_err();
        assert_eq!(err.column(), Some(5));
        assert_eq!(
            err.to_string(),
            "expected an operand (a number, a variable, a function call or '('), \
             found '*' at column 5\n  x + * 2\n      ^"
        );
        let err = parse("(x + 1").unwrap_err();
        assert_eq!(err.column(), Some(7));
        assert!(
            err.to_string().contains("expected ')' or an operator"),
            "{err}"
        );
        let err = parse("2x").unwrap_err();
        assert!(err.to_string().contains("write 2*x"), "{err}");
        assert_eq!(parse("").unwrap_err().column(), Some(1));
    }

    #[test]
    fn unknown_functions_list_the_known_ones_and_arity_is_checked() {
        let err = parse("1 + foo(x)").unwrap_err();
        assert_eq!(err.column(), Some(5));
        let text = err.to_string();
        assert!(
            text.starts_with(
                "unknown function 'foo' at column 5; the known functions are exp, ln, log, sqrt"
            ),
            "{text}"
        );
        let err = parse("max(x)").unwrap_err();
        assert_eq!(
            err.to_string().lines().next().unwrap(),
            "'max' takes 2 arguments, found 1 at column 1"
        );
    }
}
