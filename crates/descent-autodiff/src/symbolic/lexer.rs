//! Splitting expression text into tokens, each with the column where it starts.

use super::{Number, SymbolicError};

/// One token of expression text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Token {
    Number(Number),
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    /// `^` or `**`.
    Caret,
    LParen,
    RParen,
    Comma,
    End,
}

impl Token {
    /// How the token reads in an error message.
    pub(crate) fn describe(&self) -> String {
        match self {
            Token::Number(n) => format!("the number {n}"),
            Token::Name(name) => format!("'{name}'"),
            Token::Plus => "'+'".into(),
            Token::Minus => "'-'".into(),
            Token::Star => "'*'".into(),
            Token::Slash => "'/'".into(),
            Token::Caret => "'^'".into(),
            Token::LParen => "'('".into(),
            Token::RParen => "')'".into(),
            Token::Comma => "','".into(),
            Token::End => "the end of the input".into(),
        }
    }
}

/// A token and its 1-based column (in characters).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Spanned {
    pub(crate) token: Token,
    pub(crate) column: usize,
}

/// The tokens of `input`, ending with [`Token::End`].
pub(crate) fn tokenize(input: &str) -> Result<Vec<Spanned>, SymbolicError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let error = |column: usize, expected: &str, found: String| SymbolicError::Parse {
        input: input.to_string(),
        column,
        expected: expected.to_string(),
        found,
    };
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '+' => Some(Token::Plus),
            '-' | '−' => Some(Token::Minus),
            '/' => Some(Token::Slash),
            '^' => Some(Token::Caret),
            '(' => Some(Token::LParen),
            ')' => Some(Token::RParen),
            ',' => Some(Token::Comma),
            '*' | '·' | '×' if chars.get(i + 1) == Some(&'*') => {
                i += 1;
                Some(Token::Caret)
            }
            '*' | '·' | '×' => Some(Token::Star),
            _ => None,
        };
        if let Some(token) = single {
            tokens.push(Spanned { token, column });
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let (number, end) = lex_number(&chars, i)
                .map_err(|(at, what)| error(at + 1, what, found_at(&chars, at)))?;
            tokens.push(Spanned {
                token: Token::Number(number),
                column,
            });
            i = end;
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            tokens.push(Spanned {
                token: Token::Name(name),
                column,
            });
        } else {
            return Err(error(
                column,
                "a number, a name, an operator (+ - * / ^) or a parenthesis",
                format!("'{c}'"),
            ));
        }
    }
    tokens.push(Spanned {
        token: Token::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

fn found_at(chars: &[char], at: usize) -> String {
    chars
        .get(at)
        .map_or("the end of the input".into(), |c| format!("'{c}'"))
}

/// Reads `123`, `1.5`, `.5`, `5.`, `1e-3`, `2.5E+10`; integers without a point or an
/// exponent are exact, the rest are floats. Errors give the 0-based index and what
/// was expected there.
fn lex_number(chars: &[char], start: usize) -> Result<(Number, usize), (usize, &'static str)> {
    let mut i = start;
    let digits = |i: &mut usize| {
        let from = *i;
        while *i < chars.len() && (chars[*i].is_ascii_digit() || chars[*i] == '_') {
            *i += 1;
        }
        *i - from
    };
    let whole = digits(&mut i);
    let mut exact = true;
    if i < chars.len() && chars[i] == '.' {
        exact = false;
        i += 1;
        let fraction = digits(&mut i);
        if whole + fraction == 0 {
            return Err((i, "digits around the decimal point"));
        }
    }
    if i < chars.len() && (chars[i] == 'e' || chars[i] == 'E') {
        // `2e` followed by a letter other than a digit or sign is `2*e...`: not ours to
        // guess; an exponent needs digits.
        exact = false;
        i += 1;
        if i < chars.len() && (chars[i] == '+' || chars[i] == '-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return Err((i, "the digits of the exponent"));
        }
    }
    let text: String = chars[start..i].iter().filter(|&&c| c != '_').collect();
    let number = if exact {
        match text.parse::<i64>() {
            Ok(n) => Number::int(n),
            Err(_) => Number::float(text.parse::<f64>().map_err(|_| (start, "a number"))?),
        }
    } else {
        Number::float(text.parse::<f64>().map_err(|_| (start, "a number"))?)
    };
    Ok((number, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Token> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|s| s.token)
            .collect()
    }

    #[test]
    fn numbers_in_every_usual_notation() {
        let n = |v: f64| Token::Number(Number::float(v));
        assert_eq!(kinds("3")[0], Token::Number(Number::int(3)));
        assert_eq!(kinds("2.5")[0], n(2.5));
        assert_eq!(kinds(".5")[0], n(0.5));
        assert_eq!(kinds("5.")[0], n(5.0));
        assert_eq!(kinds("1e-3")[0], n(1e-3));
        assert_eq!(kinds("2.5E+2")[0], n(250.0));
        assert_eq!(kinds("1_000")[0], Token::Number(Number::int(1000)));
    }

    #[test]
    fn double_star_is_a_power_and_columns_count_characters() {
        let tokens = tokenize("x ** 2").unwrap();
        assert_eq!(
            tokens[1],
            Spanned {
                token: Token::Caret,
                column: 3
            }
        );
        assert_eq!(tokens[2].column, 6);
    }

    #[test]
    fn bad_characters_and_exponents_are_located() {
        let err = tokenize("x + $").unwrap_err();
        assert_eq!(err.column(), Some(5));
        let err = tokenize("1e+").unwrap_err();
        assert_eq!(err.column(), Some(4));
        assert!(
            err.to_string().contains("the digits of the exponent"),
            "{err}"
        );
    }
}
