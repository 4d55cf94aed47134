//! Branch conditions: `days_past_due > 90`, `segmento == 'tardia'`,
//! `saldo >= 5000 and segmento != 'vip'`.
//!
//! Numbers compare as numbers (a value written `1,234.50` included); text
//! compares with `==` and `!=`. A variable without a value makes the
//! comparison false, so a branch falls through to its `else`.

#![deny(clippy::disallowed_methods)]

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub var: String,
    pub op: Op,
    pub value: Literal,
}

/// Comparisons joined by `and`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub all: Vec<Comparison>,
    text: String,
}

/// A value as a number, if it reads as one (`-5`, `1234.5`, `1,234.50`, `$99`).
pub fn number(value: &str) -> Option<f64> {
    let v = value.trim();
    if let Ok(n) = v.parse::<f64>() {
        return Some(n);
    }
    let amount = media::say::input::parse_amount(v).ok()?;
    Some(amount.units as f64 + f64::from(amount.cents) / 100.0)
}

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let mut all = Vec::new();
        for part in text.split(" and ") {
            all.push(Comparison::parse(part.trim())?);
        }
        Ok(Condition {
            all,
            text: text.trim().to_owned(),
        })
    }

    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.all.iter().map(|c| c.var.as_str())
    }

    pub fn eval(&self, value_of: &dyn Fn(&str) -> Option<String>) -> bool {
        self.all.iter().all(|c| c.eval(value_of))
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl Comparison {
    fn parse(text: &str) -> Result<Comparison, String> {
        let ops = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ];
        let (at, symbol, op) = ops
            .iter()
            .filter_map(|(symbol, op)| text.find(symbol).map(|at| (at, *symbol, *op)))
            .min_by_key(|(at, symbol, _)| (*at, std::cmp::Reverse(symbol.len())))
            .ok_or_else(|| format!("'{text}' has no comparison (==, !=, <, <=, >, >=)"))?;
        let var = text[..at]
            .trim()
            .trim_start_matches('{')
            .trim_end_matches('}')
            .trim()
            .to_lowercase();
        if var.is_empty()
            || !var
                .chars()
                .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!("'{}' is not a variable name", text[..at].trim()));
        }
        let raw = text[at + symbol.len()..].trim();
        let value = if let Some(quoted) = raw
            .strip_prefix('\'')
            .and_then(|r| r.strip_suffix('\''))
            .or_else(|| raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')))
        {
            Literal::Text(quoted.to_owned())
        } else if let Some(n) = number(raw).filter(|_| {
            // Written numbers only: `>> 3` must not read as `> 3`.
            let digits = raw.strip_prefix('-').unwrap_or(raw);
            digits.starts_with(|c: char| c.is_ascii_digit())
                && digits
                    .chars()
                    .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        }) {
            Literal::Number(n)
        } else {
            return Err(format!("'{raw}' is neither a number nor a 'quoted text'"));
        };
        if matches!(value, Literal::Text(_)) && !matches!(op, Op::Eq | Op::Ne) {
            return Err(format!(
                "text can only be compared with == or != ('{text}')"
            ));
        }
        Ok(Comparison { var, op, value })
    }

    fn eval(&self, value_of: &dyn Fn(&str) -> Option<String>) -> bool {
        let Some(value) = value_of(&self.var) else {
            return false;
        };
        match &self.value {
            Literal::Number(wanted) => {
                let Some(have) = number(&value) else {
                    return false;
                };
                match self.op {
                    Op::Eq => have == *wanted,
                    Op::Ne => have != *wanted,
                    Op::Lt => have < *wanted,
                    Op::Le => have <= *wanted,
                    Op::Gt => have > *wanted,
                    Op::Ge => have >= *wanted,
                }
            }
            Literal::Text(wanted) => {
                let same = value.trim().eq_ignore_ascii_case(wanted.trim());
                if self.op == Op::Eq { same } else { !same }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(name: &str) -> Option<String> {
        match name {
            "days_past_due" => Some("95".into()),
            "saldo" => Some("1,234.50".into()),
            "segmento" => Some("Mora_Tardia".into()),
            "atraso" => Some("-3".into()),
            _ => None,
        }
    }

    fn holds(text: &str) -> bool {
        Condition::parse(text).unwrap().eval(&vars)
    }

    #[test]
    fn comparisons_of_numbers_and_text() {
        assert!(holds("days_past_due > 90"));
        assert!(!holds("days_past_due <= 90"));
        assert!(holds("{saldo} >= 1234.5"));
        assert!(holds("saldo < 2000 and segmento == 'mora_tardia'"));
        assert!(!holds("saldo < 2000 and segmento != \"mora_tardia\""));
        assert!(holds("atraso < 0"));
        assert!(!holds("apodo == 'x'"), "a missing variable is false");
        assert!(!holds("segmento > 5"), "text is not a number");
    }

    #[test]
    fn bad_conditions_say_why() {
        assert!(
            Condition::parse("saldo")
                .unwrap_err()
                .contains("no comparison")
        );
        assert!(
            Condition::parse("saldo > mucho")
                .unwrap_err()
                .contains("neither a number")
        );
        assert!(
            Condition::parse("segmento > 'a'")
                .unwrap_err()
                .contains("only be compared with ==")
        );
        assert!(
            Condition::parse("> 5")
                .unwrap_err()
                .contains("not a variable")
        );
        let c = Condition::parse("a >= 1 and b == 'x'").unwrap();
        assert_eq!(c.variables().collect::<Vec<_>>(), ["a", "b"]);
    }
}
