//! Prompt templates: a message as a sequence of parts.
//!
//! ```text
//! file:saludo                      a recorded phrase (or a WAV path)
//! tts:Hola {name}                  text spoken by the TTS engine, with contact variables
//! say:currency:{balance}:MXN       a value said in words: number, currency[:CODE],
//! say:date:{due_date}[:full]       date[:auto|full|short], time, digits, ordinal
//! say:digits:{account_last4}
//! ```
//!
//! Parsing checks the syntax once, when the campaign loads. Resolving a
//! template against one contact substitutes its variables and reads every
//! say value, so a balance that cannot be read is an error at list load,
//! with the column it came from, not silence on the call.

#![deny(clippy::disallowed_methods)]

use std::collections::BTreeSet;
use std::fmt;

use crate::say::{self, Date, Language, SayKind};

/// Text with `{variable}` placeholders (`{{` and `}}` for literal braces).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Variable(String),
}

/// One part of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A recorded phrase by name, or a WAV path.
    File(String),
    /// Free text for the TTS engine.
    Tts(Text),
    /// A value said in words.
    Say { kind: SayKind, value: Text },
}

/// A parsed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// A part that cannot be parsed: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("part {index} '{part}': {reason}")]
pub struct TemplateError {
    /// 0-based position in the message list.
    pub index: usize,
    pub part: String,
    pub reason: String,
}

/// What one contact's message is made of, ready to voice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    File(String),
    /// Text for the TTS engine.
    Speak(String),
    /// Words from the say engine: TTS text, or recorded fragments.
    Words(Vec<String>),
}

/// A contact value that cannot be used in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}: {reason}")]
pub struct ResolveError {
    /// The variable (list column) whose value is wrong.
    pub variable: String,
    pub reason: String,
}

impl Text {
    pub fn parse(text: &str) -> Result<Text, String> {
        let mut pieces = Vec::new();
        let mut literal = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) if c.is_alphanumeric() || c == '_' || c == '-' => name.push(c),
                            Some(c) => {
                                return Err(format!("'{c}' cannot be part of a variable name"));
                            }
                            None => return Err(format!("'{{{name}' is not closed with '}}'")),
                        }
                    }
                    if name.is_empty() {
                        return Err("'{}' names no variable".into());
                    }
                    if !literal.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut literal)));
                    }
                    pieces.push(Piece::Variable(name.to_lowercase()));
                }
                '}' => return Err("a lone '}' (write '}}' for a literal brace)".into()),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            pieces.push(Piece::Literal(literal));
        }
        Ok(Text { pieces })
    }

    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Variable(name) => Some(name.as_str()),
            Piece::Literal(_) => None,
        })
    }

    /// The text with variables filled in; the first variable without a value is the error.
    pub fn fill<'a>(
        &self,
        value_of: &dyn Fn(&str) -> Option<&'a str>,
    ) -> Result<String, ResolveError> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.push_str(text),
                Piece::Variable(name) => {
                    out.push_str(value_of(name).ok_or_else(|| ResolveError {
                        variable: name.clone(),
                        reason: "has no value".into(),
                    })?)
                }
            }
        }
        Ok(out)
    }

    /// The single variable a say value comes from, for error messages.
    fn source(&self) -> String {
        self.variables().next().unwrap_or("(value)").to_owned()
    }
}

impl Part {
    pub fn parse(text: &str) -> Result<Part, String> {
        let (kind, rest) = text
            .split_once(':')
            .ok_or("expected file:NAME, tts:TEXT or say:KIND:VALUE")?;
        match kind.trim() {
            "file" if !rest.trim().is_empty() => Ok(Part::File(rest.trim().to_owned())),
            "file" => Err("file: needs a phrase name or a WAV path".into()),
            "tts" if !rest.trim().is_empty() => Ok(Part::Tts(Text::parse(rest.trim())?)),
            "tts" => Err("tts: needs text".into()),
            "say" => {
                let (kind, value) = rest.split_once(':').ok_or("expected say:KIND:VALUE")?;
                let kind = kind.trim();
                // Only currency and date take an option; a time value keeps its ':'.
                let (value, option) = match (kind, value.rsplit_once(':')) {
                    ("currency" | "date", Some((value, option))) if !option.contains('{') => {
                        (value, Some(option.trim()))
                    }
                    _ => (value, None),
                };
                let kind = SayKind::parse(kind, option)?;
                if value.trim().is_empty() {
                    return Err("say needs a value, usually a {variable}".into());
                }
                Ok(Part::Say {
                    kind,
                    value: Text::parse(value.trim())?,
                })
            }
            other => Err(format!("'{other}:' is not a part (file:, tts:, say:)")),
        }
    }
}

impl Template {
    /// Parses a message written as a list of parts.
    pub fn parse<S: AsRef<str>>(parts: &[S]) -> Result<Template, TemplateError> {
        if parts.is_empty() {
            return Err(TemplateError {
                index: 0,
                part: String::new(),
                reason: "the message has no parts".into(),
            });
        }
        let parts = parts
            .iter()
            .enumerate()
            .map(|(index, text)| {
                Part::parse(text.as_ref()).map_err(|reason| TemplateError {
                    index,
                    part: text.as_ref().to_owned(),
                    reason,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Template { parts })
    }

    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// Every variable the message uses.
    pub fn variables(&self) -> BTreeSet<String> {
        self.parts
            .iter()
            .flat_map(|p| match p {
                Part::File(_) => Vec::new(),
                Part::Tts(text) | Part::Say { value: text, .. } => {
                    text.variables().map(str::to_owned).collect()
                }
            })
            .collect()
    }

    /// The named phrases (`file:` parts).
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::File(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// One contact's message: variables filled, say values read and turned
    /// into words. `today` decides whether a date needs its year.
    pub fn resolve<'a>(
        &self,
        value_of: &dyn Fn(&str) -> Option<&'a str>,
        language: Language,
        today: Date,
    ) -> Result<Vec<Segment>, ResolveError> {
        self.parts
            .iter()
            .map(|part| match part {
                Part::File(name) => Ok(Segment::File(name.clone())),
                Part::Tts(text) => Ok(Segment::Speak(text.fill(value_of)?)),
                Part::Say { kind, value } => {
                    let filled = value.fill(value_of)?;
                    let words = say::say(language, *kind, &filled, today).map_err(|reason| {
                        ResolveError {
                            variable: value.source(),
                            reason,
                        }
                    })?;
                    Ok(Segment::Words(words))
                }
            })
            .collect()
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::File(name) => write!(f, "[{name}]"),
            Segment::Speak(text) => f.write_str(text),
            Segment::Words(words) => f.write_str(&say::text(words)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::say::{Currency, DateStyle};

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 22,
    };

    fn contact(name: &str) -> Option<&'static str> {
        match name {
            "name" => Some("Juan Pérez"),
            "balance" => Some("1,234.50"),
            "due_date" => Some("15/12/2026"),
            "account_last4" => Some("0412"),
            "hora" => Some("15:30"),
            "saldo_malo" => Some("mil pesos"),
            _ => None,
        }
    }

    #[test]
    fn the_personal_message_reads_as_spanish() {
        let template = Template::parse(&[
            "file:saludo",
            "tts:Hola {name}, le recordamos que su saldo de",
            "say:currency:{balance}:MXN",
            "tts:vence",
            "say:date:{due_date}",
            "say:digits:{account_last4}",
            "say:time:{hora}",
        ])
        .unwrap();
        assert_eq!(
            template.variables().into_iter().collect::<Vec<_>>(),
            ["account_last4", "balance", "due_date", "hora", "name"]
        );
        let segments = template.resolve(&contact, Language::EsMx, TODAY).unwrap();
        let line: Vec<String> = segments.iter().map(ToString::to_string).collect();
        assert_eq!(
            line.join(" "),
            "[saludo] Hola Juan Pérez, le recordamos que su saldo de mil doscientos treinta y cuatro pesos \
             con cincuenta centavos vence el quince de diciembre cero cuatro uno dos las tres y treinta de la tarde"
        );
    }

    #[test]
    fn parts_parse_with_options_and_literal_braces() {
        assert_eq!(
            Part::parse("say:currency:{balance}:USD").unwrap(),
            Part::Say {
                kind: SayKind::Currency(Some(Currency::Usd)),
                value: Text::parse("{balance}").unwrap()
            }
        );
        assert_eq!(
            Part::parse("say:date:{due_date}:full").unwrap(),
            Part::Say {
                kind: SayKind::Date(DateStyle::Full),
                value: Text::parse("{due_date}").unwrap()
            }
        );
        assert_eq!(
            Part::parse("say:time:15:30").unwrap(),
            Part::Say {
                kind: SayKind::Time,
                value: Text::parse("15:30").unwrap()
            }
        );
        let tts = Part::parse("tts:Código {{promo}} para {name}").unwrap();
        let Part::Tts(text) = tts else { panic!() };
        assert_eq!(
            text.fill(&contact).unwrap(),
            "Código {promo} para Juan Pérez"
        );
    }

    #[test]
    fn bad_parts_say_which_and_why() {
        let err = Template::parse(&["file:saludo", "say:fecha:{due_date}"]).unwrap_err();
        assert_eq!(err.index, 1);
        assert!(err.reason.contains("unknown kind 'fecha'"), "{err}");
        for (part, why) in [
            ("hola", "expected file:NAME"),
            ("tts:", "needs text"),
            ("tts:Hola {name", "not closed"),
            ("tts:Hola }", "lone '}'"),
            ("say:currency:{balance}:ARS", "unknown currency"),
            ("say:number:", "needs a value"),
            ("play:saludo", "'play:' is not a part"),
        ] {
            let err = Part::parse(part).unwrap_err();
            assert!(err.contains(why), "{part}: {err}");
        }
        assert!(Template::parse::<&str>(&[]).is_err());
    }

    #[test]
    fn unreadable_values_name_their_column() {
        let template = Template::parse(&["say:currency:{saldo_malo}"]).unwrap();
        let err = template
            .resolve(&contact, Language::EsMx, TODAY)
            .unwrap_err();
        assert_eq!(err.variable, "saldo_malo");
        assert!(err.reason.contains("'mil pesos' is not an amount"), "{err}");
        let template = Template::parse(&["tts:Hola {apodo}"]).unwrap();
        assert_eq!(
            template
                .resolve(&contact, Language::EsMx, TODAY)
                .unwrap_err()
                .variable,
            "apodo"
        );
    }
}
