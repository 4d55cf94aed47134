//! Spanish: numbers, money, dates, times, digits and ordinals as a person
//! from Mexico, Colombia, Peru or Chile says them.
//!
//! The rules that trip up naive number readers: `uno` becomes `un` before a
//! noun and `una` before a feminine one (`veintiún pesos`, `la una`);
//! `cien` alone but `ciento uno`; `mil`, never `un mil`; `un millón` but
//! `dos millones`, and `de` before the noun only after whole millions (`un
//! millón de pesos`, `un millón doscientos mil pesos`); the first of the
//! month is `primero`.

#![deny(clippy::disallowed_methods)]

use super::input::{Amount, Date, Time};
use super::{Currency, Language};

/// How the last `uno` of a number is said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Counting: `veintiuno`.
    Alone,
    /// Before a masculine noun: `veintiún pesos`.
    Masculine,
    /// Before a feminine noun: `veintiuna`, `doscientas`.
    Feminine,
}

const UNITS: [&str; 30] = [
    "cero",
    "uno",
    "dos",
    "tres",
    "cuatro",
    "cinco",
    "seis",
    "siete",
    "ocho",
    "nueve",
    "diez",
    "once",
    "doce",
    "trece",
    "catorce",
    "quince",
    "dieciséis",
    "diecisiete",
    "dieciocho",
    "diecinueve",
    "veinte",
    "veintiuno",
    "veintidós",
    "veintitrés",
    "veinticuatro",
    "veinticinco",
    "veintiséis",
    "veintisiete",
    "veintiocho",
    "veintinueve",
];
const TENS: [&str; 10] = [
    "",
    "diez",
    "veinte",
    "treinta",
    "cuarenta",
    "cincuenta",
    "sesenta",
    "setenta",
    "ochenta",
    "noventa",
];
const HUNDREDS: [&str; 10] = [
    "",
    "ciento",
    "doscientos",
    "trescientos",
    "cuatrocientos",
    "quinientos",
    "seiscientos",
    "setecientos",
    "ochocientos",
    "novecientos",
];
const MONTHS: [&str; 12] = [
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
];

fn push(words: &mut Vec<String>, word: &str) {
    words.push(word.to_owned());
}

/// 1-99.
fn below_hundred(n: u64, form: Form, words: &mut Vec<String>) {
    match n {
        1 => push(words, one(form)),
        21 => push(
            words,
            match form {
                Form::Alone => "veintiuno",
                Form::Masculine => "veintiún",
                Form::Feminine => "veintiuna",
            },
        ),
        2..=29 => push(words, UNITS[n as usize]),
        _ => {
            push(words, TENS[(n / 10) as usize]);
            if !n.is_multiple_of(10) {
                push(words, "y");
                below_hundred(n % 10, form, words);
            }
        }
    }
}

fn one(form: Form) -> &'static str {
    match form {
        Form::Alone => "uno",
        Form::Masculine => "un",
        Form::Feminine => "una",
    }
}

/// 1-999.
fn below_thousand(n: u64, form: Form, words: &mut Vec<String>) {
    let (hundreds, rest) = (n / 100, n % 100);
    if n == 100 {
        push(words, "cien");
        return;
    }
    if hundreds > 0 {
        let word = HUNDREDS[hundreds as usize];
        if form == Form::Feminine && hundreds > 1 {
            words.push(word.replace("ientos", "ientas"));
        } else {
            push(words, word);
        }
    }
    if rest > 0 {
        below_hundred(rest, form, words);
    }
}

/// 1-999,999 (`mil`, `veintiún mil`, `doscientos mil`).
fn below_million(n: u64, form: Form, words: &mut Vec<String>) {
    let (thousands, rest) = (n / 1000, n % 1000);
    if thousands == 1 {
        push(words, "mil");
    } else if thousands > 1 {
        // Before `mil` the masculine short form is used: `veintiún mil`.
        let before_mil = if form == Form::Feminine {
            Form::Feminine
        } else {
            Form::Masculine
        };
        below_thousand(thousands, before_mil, words);
        push(words, "mil");
    }
    if rest > 0 {
        below_thousand(rest, form, words);
    }
}

/// Any number up to 999,999,999,999.
pub fn cardinal(n: u64, form: Form) -> Vec<String> {
    let mut words = Vec::new();
    if n == 0 {
        push(&mut words, "cero");
        return words;
    }
    let (millions, rest) = (n / 1_000_000, n % 1_000_000);
    if millions == 1 {
        push(&mut words, "un");
        push(&mut words, "millón");
    } else if millions > 1 {
        below_million(millions, Form::Masculine, &mut words);
        push(&mut words, "millones");
    }
    if rest > 0 {
        below_million(rest, form, &mut words);
    }
    words
}

/// `un peso`, `veintiún pesos`, `un millón de pesos`.
fn count_of(n: u64, singular: &str, plural: &str, words: &mut Vec<String>) {
    words.extend(cardinal(n, Form::Masculine));
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        push(words, "de");
    }
    push(words, if n == 1 { singular } else { plural });
}

fn currency_words(currency: Currency) -> (&'static str, &'static str, &'static str, &'static str) {
    match currency {
        Currency::Mxn | Currency::Cop | Currency::Clp => ("peso", "pesos", "centavo", "centavos"),
        Currency::Pen => ("sol", "soles", "céntimo", "céntimos"),
        Currency::Usd => ("dólar", "dólares", "centavo", "centavos"),
        Currency::Eur => ("euro", "euros", "céntimo", "céntimos"),
    }
}

/// `mil doscientos treinta y cuatro pesos con cincuenta centavos`.
pub fn money(amount: Amount, currency: Currency) -> Vec<String> {
    let (unit, units, cent, cents) = currency_words(currency);
    let mut words = Vec::new();
    if amount.units > 0 || amount.cents == 0 {
        count_of(amount.units, unit, units, &mut words);
    }
    if amount.cents > 0 {
        if amount.units > 0 {
            push(&mut words, "con");
        }
        count_of(u64::from(amount.cents), cent, cents, &mut words);
    }
    words
}

/// `el primero de diciembre`, `el quince de diciembre de dos mil veintiséis`.
pub fn date(date: Date, with_year: bool, language: Language) -> Vec<String> {
    let mut words = vec!["el".to_owned()];
    if date.day == 1 {
        push(&mut words, "primero");
    } else {
        words.extend(cardinal(u64::from(date.day), Form::Alone));
    }
    push(&mut words, "de");
    let month = MONTHS[usize::from(date.month - 1)];
    // Peru writes and says "setiembre".
    push(
        &mut words,
        if month == "septiembre" && language == Language::EsPe {
            "setiembre"
        } else {
            month
        },
    );
    if with_year {
        push(&mut words, "de");
        words.extend(cardinal(u64::from(date.year), Form::Alone));
    }
    words
}

/// `las tres y cuarenta y cinco de la tarde`, `la una en punto de la madrugada`.
pub fn time(time: Time) -> Vec<String> {
    let hour12 = match time.hour % 12 {
        0 => 12,
        h => h,
    };
    let mut words = vec![if hour12 == 1 { "la" } else { "las" }.to_owned()];
    words.extend(cardinal(u64::from(hour12), Form::Feminine));
    if time.minute == 0 {
        push(&mut words, "en");
        push(&mut words, "punto");
    } else {
        push(&mut words, "y");
        words.extend(cardinal(u64::from(time.minute), Form::Alone));
    }
    let period = match time.hour {
        0..=4 => "madrugada",
        5..=11 => "mañana",
        12..=18 => "tarde",
        _ => "noche",
    };
    for word in ["de", "la", period] {
        push(&mut words, word);
    }
    words
}

/// `cinco cuatro tres dos`.
pub fn digits(digits: &[u8]) -> Vec<String> {
    digits
        .iter()
        .map(|&d| UNITS[usize::from(d)].to_owned())
        .collect()
}

const ORDINAL_UNITS: [&str; 10] = [
    "", "primero", "segundo", "tercero", "cuarto", "quinto", "sexto", "séptimo", "octavo", "noveno",
];
const ORDINAL_TENS: [&str; 10] = [
    "",
    "décimo",
    "vigésimo",
    "trigésimo",
    "cuadragésimo",
    "quincuagésimo",
    "sexagésimo",
    "septuagésimo",
    "octogésimo",
    "nonagésimo",
];

/// 1-100: `primero`, `décimo primero`, `vigésimo tercero`, `centésimo`.
pub fn ordinal(n: u64) -> Result<Vec<String>, String> {
    match n {
        100 => Ok(vec!["centésimo".into()]),
        1..=99 => {
            let mut words = Vec::new();
            if n >= 10 {
                push(&mut words, ORDINAL_TENS[(n / 10) as usize]);
            }
            if !n.is_multiple_of(10) {
                push(&mut words, ORDINAL_UNITS[(n % 10) as usize]);
            }
            Ok(words)
        }
        _ => Err(format!("{n}: ordinals are spoken from 1 to 100")),
    }
}

/// The word for the decimal mark in `doce punto cinco`.
pub const POINT: &str = "punto";
