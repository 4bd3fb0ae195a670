//! Arithmetic expressions: a small recursive-descent parser that evaluates as it parses.
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := unary (('*' | '/' | '%') unary)*
//! unary   := ('-' | '+') unary | power
//! power   := primary ('^' unary)?          right-associative, binds tighter than unary minus
//! primary := number | '(' expr ')'
//! number  := digits ['.' digits] | '.' digits
//! ```
//!
//! So `-2^2` is `-4`, `2^-1` is `0.5` and `2^3^2` is `512`, as in mathematics.

/// Deep enough for any honest expression, shallow enough to never exhaust the stack.
const MAX_DEPTH: usize = 200;

/// Why an expression has no value, with a message meant for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvalError(String);

pub fn evaluate(expression: &str) -> Result<f64, EvalError> {
    let mut parser = Parser { chars: expression.chars().collect(), pos: 0, depth: 0 };
    if parser.peek().is_none() {
        return Err(EvalError("the expression is empty".into()));
    }
    let value = parser.expr()?;
    match parser.peek() {
        None => Ok(value),
        Some(c) => Err(parser.error_here(&format!("unexpected '{c}'"))),
    }
}

/// Formats a result the way a person would write it: integers without `.0`.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn expr(&mut self) -> Result<f64, EvalError> {
        let mut value = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let rhs = self.term()?;
            value = finite(if op == '+' { value + rhs } else { value - rhs })?;
        }
        Ok(value)
    }

    fn term(&mut self) -> Result<f64, EvalError> {
        let mut value = self.unary()?;
        while let Some(op @ ('*' | '/' | '%')) = self.peek() {
            self.pos += 1;
            let rhs = self.unary()?;
            value = match op {
                '*' => value * rhs,
                _ if rhs == 0.0 => return Err(EvalError("division by zero".into())),
                '/' => value / rhs,
                _ => value % rhs,
            };
            value = finite(value)?;
        }
        Ok(value)
    }

    fn unary(&mut self) -> Result<f64, EvalError> {
        match self.peek() {
            Some(sign @ ('-' | '+')) => {
                self.pos += 1;
                let value = self.nested(Self::unary)?;
                Ok(if sign == '-' { -value } else { value })
            }
            _ => self.power(),
        }
    }

    fn power(&mut self) -> Result<f64, EvalError> {
        let base = self.primary()?;
        if self.peek() != Some('^') {
            return Ok(base);
        }
        self.pos += 1;
        let exponent = self.nested(Self::unary)?;
        finite(base.powf(exponent))
    }

    fn primary(&mut self) -> Result<f64, EvalError> {
        match self.peek() {
            Some('(') => {
                let open = self.pos;
                self.pos += 1;
                let value = self.nested(Self::expr)?;
                if self.peek() != Some(')') {
                    return Err(EvalError(format!("missing ')' for the '(' at position {}", open + 1)));
                }
                self.pos += 1;
                Ok(value)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => self.number(),
            Some(c) => Err(self.error_here(&format!("expected a number or '(' but found '{c}'"))),
            None => Err(EvalError("unexpected end of the expression: expected a number or '('".into())),
        }
    }

    fn number(&mut self) -> Result<f64, EvalError> {
        let start = self.pos;
        let digits = |p: &mut Parser| {
            let from = p.pos;
            while p.chars.get(p.pos).is_some_and(char::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > from
        };
        let mut has_digits = digits(self);
        if self.chars.get(self.pos) == Some(&'.') {
            self.pos += 1;
            has_digits |= digits(self);
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        match text.parse() {
            Ok(value) if has_digits => Ok(value),
            _ => Err(EvalError(format!("invalid number '{text}' at position {}", start + 1))),
        }
    }

    /// Runs a recursive step, refusing to nest without bound.
    fn nested(&mut self, step: fn(&mut Self) -> Result<f64, EvalError>) -> Result<f64, EvalError> {
        if self.depth == MAX_DEPTH {
            return Err(EvalError("the expression is nested too deeply".into()));
        }
        self.depth += 1;
        let value = step(self);
        self.depth -= 1;
        value
    }

    /// The next non-blank character, having skipped the blanks.
    fn peek(&mut self) -> Option<char> {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
        self.chars.get(self.pos).copied()
    }

    fn error_here(&self, what: &str) -> EvalError {
        EvalError(format!("{what} at position {}", self.pos + 1))
    }
}

fn finite(value: f64) -> Result<f64, EvalError> {
    if value.is_nan() {
        Err(EvalError("the result is not a real number (a fractional power of a negative number?)".into()))
    } else if value.is_infinite() {
        Err(EvalError("the result is too large".into()))
    } else {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(s: &str) -> f64 {
        evaluate(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn err(s: &str) -> String {
        evaluate(s).unwrap_err().to_string()
    }

    #[test]
    fn precedence_and_associativity() {
        assert_eq!(eval("1 + 2 * 3"), 7.0);
        assert_eq!(eval("(1 + 2) * 3"), 9.0);
        assert_eq!(eval("10 - 4 - 3"), 3.0);
        assert_eq!(eval("2 ^ 3 ^ 2"), 512.0);
        assert_eq!(eval("-2^2"), -4.0);
        assert_eq!(eval("(-2)^2"), 4.0);
        assert_eq!(eval("2^-1"), 0.5);
        assert_eq!(eval("--3"), 3.0);
        assert_eq!(eval("+.5 * 4"), 2.0);
        assert_eq!(eval("17 % 5 * 2"), 4.0);
        assert_eq!(eval("-7 % 3"), -1.0);
        assert_eq!(eval(" 1.25/0.5 "), 2.5);
        assert_eq!(eval("3 - -2"), 5.0);
    }

    #[test]
    fn errors_are_readable() {
        assert_eq!(err("1/0"), "division by zero");
        assert_eq!(err("5 % (2-2)"), "division by zero");
        assert_eq!(err(""), "the expression is empty");
        assert_eq!(err("1 +"), "unexpected end of the expression: expected a number or '('");
        assert_eq!(err("(1 + 2"), "missing ')' for the '(' at position 1");
        assert_eq!(err("1 + 2)"), "unexpected ')' at position 6");
        assert_eq!(err("2 * x"), "expected a number or '(' but found 'x' at position 5");
        assert_eq!(err("1.2.3"), "unexpected '.' at position 4");
        assert_eq!(err("."), "invalid number '.' at position 1");
        assert_eq!(err("10^1000"), "the result is too large");
        assert!(err("(-8)^0.5").starts_with("the result is not a real number"));
        assert_eq!(err(&"(".repeat(10_000)), "the expression is nested too deeply");
        assert_eq!(err(&"-".repeat(10_000)), "the expression is nested too deeply");
    }

    #[test]
    fn formats() {
        assert_eq!(format_number(42.0), "42");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(1e20), "100000000000000000000");
    }
}
