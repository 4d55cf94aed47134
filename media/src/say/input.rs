//! Reading values as collection systems export them: amounts with either
//! decimal mark and thousands separators, dates day-first or ISO, times.
//!
//! Every reader says exactly why a value is refused, because the message
//! ends up in the operator's list-load report, next to the row and column.

#![deny(clippy::disallowed_methods)]

/// A money amount in whole units and cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub units: u64,
    /// 0-99.
    pub cents: u8,
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// Days since 1970-01-01 (proleptic Gregorian; H. Hinnant's algorithm).
    pub fn days(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Date {
            year: year as u16,
            month: month as u8,
            day: day as u8,
        }
    }

    /// `YYYY-MM-DD`.
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day, 24-hour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    pub hour: u8,
    pub minute: u8,
}

/// Which part of an ambiguous `a/b/yyyy` date is the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOrder {
    /// `15/12/2026`: Latin America, Spain, most of the world.
    DayFirst,
    /// `12/15/2026`: the United States.
    MonthFirst,
}

/// The largest number we speak: 999,999,999,999 (novecientos noventa y
/// nueve mil millones...).
pub const MAX_NUMBER: u64 = 999_999_999_999;

/// Reads a non-negative amount: `1234.5`, `1,234.50`, `1.234,50`,
/// `$1,234.50`, `MXN 1 234,50`, `S/ 99.90`. More than two decimals are
/// accepted only when the extra ones are zeros (`1234.5000`).
pub fn parse_amount(text: &str) -> Result<Amount, String> {
    let (digits, decimals) = split_number(text)?;
    let units = parse_units(&digits)?;
    let cents = match decimals.as_deref() {
        None | Some("") => 0,
        Some(d) => {
            let (kept, extra) = d.split_at(d.len().min(2));
            if extra.chars().any(|c| c != '0') {
                return Err(format!("'{text}' has more than two decimals"));
            }
            let mut cents: u8 = kept
                .parse()
                .map_err(|_| format!("'{text}' is not an amount"))?;
            if kept.len() == 1 {
                cents *= 10;
            }
            cents
        }
    };
    Ok(Amount { units, cents })
}

/// Reads a number that may have a fractional part, for `number`; returns the
/// integer part and the fractional digits as written.
pub fn parse_decimal(text: &str) -> Result<(u64, Option<String>), String> {
    let (digits, decimals) = split_number(text)?;
    Ok((parse_units(&digits)?, decimals.filter(|d| !d.is_empty())))
}

fn parse_units(digits: &str) -> Result<u64, String> {
    let units: u64 = if digits.is_empty() {
        0
    } else {
        digits
            .parse()
            .map_err(|_| format!("'{digits}' is too large"))?
    };
    if units > MAX_NUMBER {
        return Err(format!(
            "{units} is above the largest number spoken ({MAX_NUMBER})"
        ));
    }
    Ok(units)
}

/// Splits `text` into integer digits and decimal digits, working out which
/// of `.` and `,` is the decimal mark.
fn split_number(text: &str) -> Result<(String, Option<String>), String> {
    let bad = |why: &str| format!("'{text}' is not an amount: {why}");
    let trimmed = text.trim();
    if trimmed.starts_with('-') || trimmed.ends_with('-') || trimmed.starts_with('(') {
        return Err(bad("negative values are not spoken"));
    }
    // Currency signs and codes around the number: $, €, S/, MXN, US$ ...
    let core: String = trimmed
        .trim_start_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != ',')
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .chars()
        .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\''))
        .collect();
    if core.is_empty() || !core.chars().any(|c| c.is_ascii_digit()) {
        return Err(bad("no digits"));
    }
    if let Some(c) = core
        .chars()
        .find(|c| !c.is_ascii_digit() && *c != '.' && *c != ',')
    {
        return Err(bad(&format!("unexpected '{c}'")));
    }
    let last_dot = core.rfind('.');
    let last_comma = core.rfind(',');
    let decimal_mark = match (last_dot, last_comma) {
        (Some(d), Some(c)) => Some(if d > c { '.' } else { ',' }),
        (Some(_), None) => decimal_if_not_grouping(&core, '.'),
        (None, Some(_)) => decimal_if_not_grouping(&core, ','),
        (None, None) => None,
    };
    let (int_part, dec_part) = match decimal_mark {
        Some(mark) => {
            let at = core.rfind(mark).expect("the mark is in the text");
            (&core[..at], Some(core[at + 1..].to_string()))
        }
        None => (core.as_str(), None),
    };
    let groups: Vec<&str> = int_part.split(['.', ',']).collect();
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        let one_separator = !(int_part.contains('.') && int_part.contains(','));
        if !(first_ok && rest_ok && one_separator) {
            return Err(bad("thousands separators in the wrong places"));
        }
    }
    Ok((groups.concat(), dec_part))
}

/// `1.234` and `1,234,567` group thousands; `1.5`, `12,50` and
/// `1234.567` mark decimals.
fn decimal_if_not_grouping(core: &str, mark: char) -> Option<char> {
    let parts: Vec<&str> = core.split(mark).collect();
    let grouping = parts.len() >= 2
        && (1..=3).contains(&parts[0].len())
        && parts[1..].iter().all(|p| p.len() == 3);
    if grouping { None } else { Some(mark) }
}

/// Reads a whole number (thousands separators allowed).
pub fn parse_integer(text: &str) -> Result<u64, String> {
    let (units, decimals) =
        parse_decimal(text).map_err(|e| e.replace("an amount", "a whole number"))?;
    if decimals.is_some_and(|d| d.chars().any(|c| c != '0')) {
        return Err(format!("'{text}' is not a whole number"));
    }
    Ok(units)
}

/// Reads a date: `2026-12-15`, `2026/12/15`, `15/12/2026`, `15-12-2026`,
/// `15.12.2026`, two-digit years (`15/12/26`), and ISO date-times
/// (`2026-12-15T00:00:00`, `2026-12-15 00:00:00`), whose time is ignored.
pub fn parse_date(text: &str, order: DateOrder) -> Result<Date, String> {
    let bad = |why: &str| format!("'{text}' is not a date: {why}");
    let date_part = text.trim().split(['T', ' ']).next().unwrap_or("");
    let fields: Vec<&str> = date_part.split(['-', '/', '.']).collect();
    let [a, b, c] = fields.as_slice() else {
        return Err(bad("expected three parts like 2026-12-15 or 15/12/2026"));
    };
    let number = |s: &str| -> Result<u32, String> {
        if s.is_empty() || s.len() > 4 || !s.chars().all(|c| c.is_ascii_digit()) {
            return Err(bad(&format!("'{s}' is not a number")));
        }
        s.parse().map_err(|_| bad(s))
    };
    let (year, month, day) = if a.len() == 4 {
        (number(a)?, number(b)?, number(c)?)
    } else {
        let (first, second, year) = (number(a)?, number(b)?, number(c)?);
        let year = if c.len() == 2 { 2000 + year } else { year };
        if c.len() != 2 && c.len() != 4 {
            return Err(bad("the year needs 2 or 4 digits"));
        }
        // A part above 12 can only be the day, whatever the usual order.
        let day_first = match order {
            _ if first > 12 => true,
            _ if second > 12 => false,
            DateOrder::DayFirst => true,
            DateOrder::MonthFirst => false,
        };
        if day_first {
            (year, second, first)
        } else {
            (year, first, second)
        }
    };
    if !(1..=12).contains(&month) {
        return Err(bad(&format!("there is no month {month}")));
    }
    if !(1900..=2199).contains(&year) {
        return Err(bad(&format!("year {year} is out of range")));
    }
    let last = days_in_month(year, month);
    if day == 0 || day > last {
        return Err(bad(&format!("month {month} of {year} has {last} days")));
    }
    Ok(Date {
        year: year as u16,
        month: month as u8,
        day: day as u8,
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => 31,
    }
}

/// Reads a time: `15:30`, `15:30:00`, `3:30 pm`, `3 PM`, `15h30`.
pub fn parse_time(text: &str) -> Result<Time, String> {
    let bad = |why: &str| format!("'{text}' is not a time: {why}");
    let lower = text.trim().to_lowercase().replace('.', "");
    let (clock, meridiem) = if let Some(rest) = lower.strip_suffix("pm") {
        (rest.trim(), Some(true))
    } else if let Some(rest) = lower.strip_suffix("am") {
        (rest.trim(), Some(false))
    } else {
        (lower.as_str(), None)
    };
    let mut parts = clock.split([':', 'h']);
    let hour: u8 = parts
        .next()
        .unwrap_or("")
        .trim()
        .parse()
        .map_err(|_| bad("no hour"))?;
    let minute: u8 = match parts.next().map(str::trim) {
        None | Some("") => 0,
        Some(m) => m.parse().map_err(|_| bad("bad minutes"))?,
    };
    if minute > 59 {
        return Err(bad("minutes above 59"));
    }
    let hour = match meridiem {
        Some(_) if !(1..=12).contains(&hour) => {
            return Err(bad("a 12-hour time needs an hour from 1 to 12"));
        }
        Some(true) => hour % 12 + 12,
        Some(false) => hour % 12,
        None if hour > 23 => return Err(bad("hours above 23")),
        None => hour,
    };
    Ok(Time { hour, minute })
}

/// Keeps the digits of a digit string (`1234`, `55-1234`, `12 34`).
pub fn parse_digits(text: &str) -> Result<Vec<u8>, String> {
    if let Some(c) = text
        .chars()
        .find(|c| !c.is_ascii_digit() && !matches!(c, ' ' | '-' | '.' | '/'))
    {
        return Err(format!("'{text}' is not a digit string: unexpected '{c}'"));
    }
    let digits: Vec<u8> = text
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect();
    if digits.is_empty() {
        return Err(format!("'{text}' has no digits"));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> (u64, u8) {
        let a = parse_amount(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (a.units, a.cents)
    }

    #[test]
    fn amounts_in_every_export_format() {
        assert_eq!(amount("1234.5"), (1234, 50));
        assert_eq!(amount("1,234.50"), (1234, 50));
        assert_eq!(amount("1.234,50"), (1234, 50));
        assert_eq!(amount("$1,234.50"), (1234, 50));
        assert_eq!(amount("MXN 1 234,50"), (1234, 50));
        assert_eq!(amount("S/ 99.90"), (99, 90));
        assert_eq!(amount("US$ 2,500,000.75"), (2_500_000, 75));
        assert_eq!(
            amount("1.234"),
            (1234, 0),
            "one dot and three digits groups thousands"
        );
        assert_eq!(amount("1,234"), (1234, 0));
        assert_eq!(amount("1.234.567"), (1_234_567, 0));
        assert_eq!(amount("12,5"), (12, 50));
        assert_eq!(amount("0.05"), (0, 5));
        assert_eq!(amount("1234.5000"), (1234, 50));
        assert_eq!(amount("15200"), (15_200, 0));
    }

    #[test]
    fn unreadable_amounts_say_why() {
        for (text, why) in [
            ("", "no digits"),
            ("abc", "no digits"),
            ("-100", "negative"),
            ("12,34,5", "wrong places"),
            ("1.234,5,6", "wrong places"),
            ("12a3", "unexpected 'a'"),
            ("1234.567", "more than two decimals"),
            ("1000000000000", "above the largest"),
        ] {
            let err = parse_amount(text).unwrap_err();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn dates_in_every_export_format() {
        let d = |y, m, d| Date {
            year: y,
            month: m,
            day: d,
        };
        let es = DateOrder::DayFirst;
        assert_eq!(parse_date("2026-12-15", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("15/12/2026", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("15-12-2026", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("15.12.26", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("2026-12-15T00:00:00", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("2026-12-15 08:30:00", es), Ok(d(2026, 12, 15)));
        assert_eq!(parse_date("01/02/2026", es), Ok(d(2026, 2, 1)));
        assert_eq!(
            parse_date("01/02/2026", DateOrder::MonthFirst),
            Ok(d(2026, 1, 2))
        );
        assert_eq!(
            parse_date("12/15/2026", es),
            Ok(d(2026, 12, 15)),
            "15 can only be the day"
        );
        assert_eq!(parse_date("29/02/2028", es), Ok(d(2028, 2, 29)));
        for bad in [
            "30/02/2026",
            "2026-13-01",
            "15/12",
            "mañana",
            "",
            "00/01/2026",
            "2026-02-29",
        ] {
            assert!(parse_date(bad, es).is_err(), "{bad}");
        }
        assert!(
            parse_date("31/04/2026", es)
                .unwrap_err()
                .contains("has 30 days")
        );
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = |y, m, d| Date {
            year: y,
            month: m,
            day: d,
        };
        assert_eq!(d(1970, 1, 1).days(), 0);
        assert_eq!(d(2026, 12, 15).days() - d(2026, 11, 22).days(), 23);
        assert_eq!(d(2027, 1, 1).days() - d(2026, 12, 31).days(), 1);
        assert_eq!(d(2028, 3, 1).days() - d(2028, 2, 28).days(), 2, "leap day");
        for days in (0..80_000).step_by(37) {
            assert_eq!(Date::from_days(days).days(), days);
        }
        assert_eq!(d(2026, 12, 5).iso(), "2026-12-05");
    }

    #[test]
    fn times() {
        let t = |h, m| Time { hour: h, minute: m };
        assert_eq!(parse_time("15:30"), Ok(t(15, 30)));
        assert_eq!(parse_time("15:30:00"), Ok(t(15, 30)));
        assert_eq!(parse_time("3:30 pm"), Ok(t(15, 30)));
        assert_eq!(parse_time("12 a.m."), Ok(t(0, 0)));
        assert_eq!(parse_time("12 PM"), Ok(t(12, 0)));
        assert_eq!(parse_time("9h05"), Ok(t(9, 5)));
        for bad in ["25:00", "10:75", "13 pm", "tarde"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn digit_strings() {
        assert_eq!(parse_digits("55-12 34"), Ok(vec![5, 5, 1, 2, 3, 4]));
        assert!(parse_digits("12a").is_err());
        assert!(parse_digits("--").is_err());
    }
}
