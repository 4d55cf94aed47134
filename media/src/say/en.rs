//! English (United States): numbers, money, dates, times, digits, ordinals.

#![deny(clippy::disallowed_methods)]

use super::Currency;
use super::input::{Amount, Date, Time};

const UNITS: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "ten", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// 1-99; `twenty-one` is one word.
fn below_hundred(n: u64) -> String {
    match n {
        0..=19 => UNITS[n as usize].to_owned(),
        _ if n.is_multiple_of(10) => TENS[(n / 10) as usize].to_owned(),
        _ => format!("{}-{}", TENS[(n / 10) as usize], UNITS[(n % 10) as usize]),
    }
}

fn below_thousand(n: u64, words: &mut Vec<String>) {
    if n >= 100 {
        words.push(UNITS[(n / 100) as usize].to_owned());
        words.push("hundred".to_owned());
    }
    if !n.is_multiple_of(100) {
        words.push(below_hundred(n % 100));
    }
}

/// Any number up to 999,999,999,999, US style (no "and").
pub fn cardinal(n: u64) -> Vec<String> {
    if n == 0 {
        return vec!["zero".to_owned()];
    }
    let mut words = Vec::new();
    for (scale, name) in [
        (1_000_000_000, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ] {
        let part = (n / scale) % 1000;
        if part > 0 {
            below_thousand(part, &mut words);
            words.push(name.to_owned());
        }
    }
    below_thousand(n % 1000, &mut words);
    words
}

fn currency_words(currency: Currency) -> (&'static str, &'static str) {
    match currency {
        Currency::Mxn | Currency::Cop | Currency::Clp => ("peso", "pesos"),
        Currency::Pen => ("sol", "soles"),
        Currency::Usd => ("dollar", "dollars"),
        Currency::Eur => ("euro", "euros"),
    }
}

/// `one thousand two hundred thirty-four dollars and fifty cents`.
pub fn money(amount: Amount, currency: Currency) -> Vec<String> {
    let (unit, units) = currency_words(currency);
    let mut words = Vec::new();
    if amount.units > 0 || amount.cents == 0 {
        words.extend(cardinal(amount.units));
        words.push(if amount.units == 1 { unit } else { units }.to_owned());
    }
    if amount.cents > 0 {
        if amount.units > 0 {
            words.push("and".to_owned());
        }
        words.extend(cardinal(u64::from(amount.cents)));
        words.push(if amount.cents == 1 { "cent" } else { "cents" }.to_owned());
    }
    words
}

/// `first`, `twenty-second`, `one hundredth`.
pub fn ordinal(n: u64) -> Vec<String> {
    let mut words = cardinal(n);
    let last = words.pop().expect("a cardinal has at least one word");
    let (head, tail) = match last.rsplit_once('-') {
        Some((head, tail)) => (format!("{head}-"), tail.to_owned()),
        None => (String::new(), last),
    };
    let tail = match tail.as_str() {
        "one" => "first".to_owned(),
        "two" => "second".to_owned(),
        "three" => "third".to_owned(),
        "five" => "fifth".to_owned(),
        "eight" => "eighth".to_owned(),
        "nine" => "ninth".to_owned(),
        "twelve" => "twelfth".to_owned(),
        t if t.ends_with('y') => format!("{}ieth", &t[..t.len() - 1]),
        t => format!("{t}th"),
    };
    words.push(format!("{head}{tail}"));
    words
}

/// `twenty twenty-six`, `two thousand five`, `nineteen ninety-nine`.
fn year(year: u16) -> Vec<String> {
    let y = u64::from(year);
    let (high, low) = (y / 100, y % 100);
    if (2000..2010).contains(&y) {
        return cardinal(y);
    }
    match low {
        0 => vec![below_hundred(high), "hundred".to_owned()],
        1..=9 => vec![
            below_hundred(high),
            "oh".to_owned(),
            UNITS[low as usize].to_owned(),
        ],
        _ => vec![below_hundred(high), below_hundred(low)],
    }
}

/// `December fifteenth`, `December fifteenth twenty twenty-six`.
pub fn date(date: Date, with_year: bool) -> Vec<String> {
    let mut words = vec![MONTHS[usize::from(date.month - 1)].to_owned()];
    words.extend(ordinal(u64::from(date.day)));
    if with_year {
        words.extend(year(date.year));
    }
    words
}

/// `three thirty PM`, `nine oh five AM`, `twelve PM`.
pub fn time(time: Time) -> Vec<String> {
    let hour12 = match time.hour % 12 {
        0 => 12,
        h => h,
    };
    let mut words = vec![below_hundred(u64::from(hour12))];
    match time.minute {
        0 => {}
        m @ 1..=9 => {
            words.push("oh".to_owned());
            words.push(UNITS[usize::from(m)].to_owned());
        }
        m => words.push(below_hundred(u64::from(m))),
    }
    words.push(if time.hour < 12 { "AM" } else { "PM" }.to_owned());
    words
}

/// `five four three two`.
pub fn digits(digits: &[u8]) -> Vec<String> {
    digits
        .iter()
        .map(|&d| UNITS[usize::from(d)].to_owned())
        .collect()
}

/// The word for the decimal mark in `twelve point five`.
pub const POINT: &str = "point";
