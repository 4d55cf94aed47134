//! Saying values aloud: numbers, money, dates, times, digit strings and
//! ordinals, in Spanish (es-MX first; es-CO, es-PE, es-CL, es-419) and
//! English (en-US).
//!
//! Pure: a value and a language in, words out. The words are voiced either
//! as TTS text (joined with spaces) or by concatenating recorded fragments,
//! one per word ([`fragment_name`] maps a word to its file). Values are read
//! in the formats real exports use ([`input`]); one that cannot be read is
//! an error with the reason, for the list-load report.

#![deny(clippy::disallowed_methods)]

mod en;
mod es;
pub mod input;

use std::collections::BTreeMap;
use std::fmt;

pub use input::{Amount, Date, DateOrder, Time};

/// A language and the region whose words and defaults it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Language {
    /// Mexico: pesos, day-first dates.
    EsMx,
    /// Colombia: pesos.
    EsCo,
    /// Peru: soles, "setiembre".
    EsPe,
    /// Chile: pesos without cents.
    EsCl,
    /// Neutral Latin American Spanish.
    Es419,
    EnUs,
}

impl Language {
    pub const ALL: [Language; 6] = [
        Language::EsMx,
        Language::EsCo,
        Language::EsPe,
        Language::EsCl,
        Language::Es419,
        Language::EnUs,
    ];

    /// Reads a tag: `es-MX`, `es_mx`, `es` (= es-419), `en`, `en-US`.
    pub fn parse(tag: &str) -> Option<Language> {
        match tag.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "es-mx" => Some(Language::EsMx),
            "es-co" => Some(Language::EsCo),
            "es-pe" => Some(Language::EsPe),
            "es-cl" => Some(Language::EsCl),
            "es" | "es-419" => Some(Language::Es419),
            "en" | "en-us" => Some(Language::EnUs),
            _ => None,
        }
    }

    pub const fn tag(self) -> &'static str {
        match self {
            Language::EsMx => "es-MX",
            Language::EsCo => "es-CO",
            Language::EsPe => "es-PE",
            Language::EsCl => "es-CL",
            Language::Es419 => "es-419",
            Language::EnUs => "en-US",
        }
    }

    pub const fn is_spanish(self) -> bool {
        !matches!(self, Language::EnUs)
    }

    /// How `01/02/2026` is read.
    pub const fn date_order(self) -> DateOrder {
        match self {
            Language::EnUs => DateOrder::MonthFirst,
            _ => DateOrder::DayFirst,
        }
    }

    /// The currency `say:currency:{x}` uses when none is given.
    pub const fn default_currency(self) -> Currency {
        match self {
            Language::EsMx => Currency::Mxn,
            Language::EsCo => Currency::Cop,
            Language::EsPe => Currency::Pen,
            Language::EsCl => Currency::Clp,
            Language::Es419 | Language::EnUs => Currency::Usd,
        }
    }

    /// The espeak-ng voice that speaks it.
    pub const fn espeak_voice(self) -> &'static str {
        match self {
            Language::EnUs => "en-us",
            _ => "es-419",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// Currencies debts are owed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Currency {
    Mxn,
    Cop,
    Pen,
    /// Chilean pesos have no cents: amounts are rounded to whole pesos.
    Clp,
    Usd,
    Eur,
}

impl Currency {
    pub const ALL: [Currency; 6] = [
        Currency::Mxn,
        Currency::Cop,
        Currency::Pen,
        Currency::Clp,
        Currency::Usd,
        Currency::Eur,
    ];

    pub fn parse(code: &str) -> Option<Currency> {
        Currency::ALL
            .into_iter()
            .find(|c| c.code().eq_ignore_ascii_case(code.trim()))
    }

    pub const fn code(self) -> &'static str {
        match self {
            Currency::Mxn => "MXN",
            Currency::Cop => "COP",
            Currency::Pen => "PEN",
            Currency::Clp => "CLP",
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
        }
    }

    pub const fn has_cents(self) -> bool {
        !matches!(self, Currency::Clp)
    }
}

/// Whether a date is said with its year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateStyle {
    /// The year only when it is not the current one.
    Auto,
    /// Always the year.
    Full,
    /// Never the year.
    Short,
}

/// What kind of value a say part speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SayKind {
    Number,
    /// The language's default currency when `None`.
    Currency(Option<Currency>),
    Date(DateStyle),
    Time,
    Digits,
    Ordinal,
}

impl SayKind {
    /// Reads `number`, `currency[:CODE]`, `date[:auto|full|short]`, `time`,
    /// `digits`, `ordinal`.
    pub fn parse(kind: &str, option: Option<&str>) -> Result<SayKind, String> {
        let no_option = |k: SayKind| match option {
            None => Ok(k),
            Some(o) => Err(format!("'{kind}' takes no option (got '{o}')")),
        };
        match kind {
            "number" => no_option(SayKind::Number),
            "time" => no_option(SayKind::Time),
            "digits" => no_option(SayKind::Digits),
            "ordinal" => no_option(SayKind::Ordinal),
            "currency" => match option {
                None => Ok(SayKind::Currency(None)),
                Some(code) => Currency::parse(code)
                    .map(|c| SayKind::Currency(Some(c)))
                    .ok_or_else(|| {
                        format!("unknown currency '{code}' (MXN, COP, PEN, CLP, USD, EUR)")
                    }),
            },
            "date" => match option {
                None | Some("auto") => Ok(SayKind::Date(DateStyle::Auto)),
                Some("full") => Ok(SayKind::Date(DateStyle::Full)),
                Some("short") => Ok(SayKind::Date(DateStyle::Short)),
                Some(o) => Err(format!("date style '{o}' is not auto, full or short")),
            },
            _ => Err(format!(
                "unknown kind '{kind}' (number, currency, date, time, digits, ordinal)"
            )),
        }
    }
}

/// The words for `value` read as `kind`. `today` decides whether an
/// [`DateStyle::Auto`] date needs its year.
pub fn say(
    language: Language,
    kind: SayKind,
    value: &str,
    today: Date,
) -> Result<Vec<String>, String> {
    let spanish = language.is_spanish();
    Ok(match kind {
        SayKind::Number => {
            let (whole, decimals) = input::parse_decimal(value)?;
            let mut words = if spanish {
                es::cardinal(whole, es::Form::Alone)
            } else {
                en::cardinal(whole)
            };
            if let Some(decimals) = decimals {
                words.push(if spanish { es::POINT } else { en::POINT }.to_owned());
                let digits = input::parse_digits(&decimals)?;
                words.extend(if spanish {
                    es::digits(&digits)
                } else {
                    en::digits(&digits)
                });
            }
            words
        }
        SayKind::Currency(currency) => {
            let currency = currency.unwrap_or(language.default_currency());
            let mut amount = input::parse_amount(value)?;
            if !currency.has_cents() {
                if amount.cents >= 50 {
                    amount.units += 1;
                }
                amount.cents = 0;
            }
            if spanish {
                es::money(amount, currency)
            } else {
                en::money(amount, currency)
            }
        }
        SayKind::Date(style) => {
            let date = input::parse_date(value, language.date_order())?;
            let with_year = match style {
                DateStyle::Full => true,
                DateStyle::Short => false,
                DateStyle::Auto => date.year != today.year,
            };
            if spanish {
                es::date(date, with_year, language)
            } else {
                en::date(date, with_year)
            }
        }
        SayKind::Time => {
            let time = input::parse_time(value)?;
            if spanish {
                es::time(time)
            } else {
                en::time(time)
            }
        }
        SayKind::Digits => {
            let digits = input::parse_digits(value)?;
            if spanish {
                es::digits(&digits)
            } else {
                en::digits(&digits)
            }
        }
        SayKind::Ordinal => {
            let n = input::parse_integer(value)?;
            if spanish {
                es::ordinal(n)?
            } else if n == 0 {
                return Err("0 has no ordinal".into());
            } else {
                en::ordinal(n)
            }
        }
    })
}

/// The words as one line of text, for a TTS engine or a person.
pub fn text(words: &[String]) -> String {
    words.join(" ")
}

/// The recorded fragments that voice `words`, by [`fragment_name`]:
/// English compounds (`twenty-one`) are two fragments.
pub fn fragments(words: &[String]) -> Vec<String> {
    words
        .iter()
        .flat_map(|w| w.split('-'))
        .filter(|w| !w.is_empty())
        .map(fragment_name)
        .collect()
}

/// A word's fragment file stem: lower case ASCII (`veintiún` -> `veintiun`).
pub fn fragment_name(word: &str) -> String {
    word.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            'ñ' => 'n',
            c => c,
        })
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Every word a language can produce, in fragment units, by fragment name
/// (the spoken word as value: `veintiun` -> `veintiún`): what a recorded
/// fragment set must contain. Found by saying a sweep of values that
/// exercises every rule, so it cannot drift from the rules themselves.
pub fn vocabulary(language: Language) -> BTreeMap<String, String> {
    let mut words: Vec<String> = Vec::new();
    let today = Date {
        year: 2026,
        month: 1,
        day: 1,
    };
    let mut say_all = |kind: SayKind, values: &mut dyn Iterator<Item = String>| {
        for v in values {
            words
                .extend(say(language, kind, &v, today).expect("the sweep only holds valid values"));
        }
    };
    say_all(SayKind::Number, &mut (0..=1000).map(|n| n.to_string()));
    say_all(
        SayKind::Number,
        &mut ["1000000", "2000000", "1000000000", "1.5"]
            .iter()
            .map(|s| s.to_string()),
    );
    for currency in Currency::ALL {
        say_all(
            SayKind::Currency(Some(currency)),
            &mut ["0", "1.01", "2.02", "21.21", "1000000", "201000"]
                .iter()
                .map(|s| s.to_string()),
        );
    }
    say_all(
        SayKind::Date(DateStyle::Full),
        &mut (1..=12).flat_map(|m| [format!("2026-{m:02}-01"), format!("2026-{m:02}-21")]),
    );
    say_all(
        SayKind::Date(DateStyle::Short),
        &mut (1..=31).map(|d| format!("2026-01-{d:02}")),
    );
    say_all(
        SayKind::Time,
        &mut (0..24).flat_map(|h| [format!("{h}:00"), format!("{h}:01"), format!("{h}:21")]),
    );
    say_all(SayKind::Ordinal, &mut (1..=100).map(|n| n.to_string()));
    say_all(
        SayKind::Digits,
        &mut std::iter::once("0123456789".to_string()),
    );
    if language == Language::EnUs {
        for n in ["1000", "1000000", "1000000000"] {
            words.extend(en::ordinal(n.parse().expect("a number")));
        }
    }
    if language.is_spanish() {
        // "setiembre" is Peru's; every Spanish fragment set carries it.
        words.extend(es::date(
            Date {
                year: 2026,
                month: 9,
                day: 2,
            },
            false,
            Language::EsPe,
        ));
    }
    words
        .iter()
        .flat_map(|w| w.split('-'))
        .filter(|w| !w.is_empty())
        .map(|w| (fragment_name(w), w.to_owned()))
        .collect()
}

#[cfg(test)]
mod tests;
