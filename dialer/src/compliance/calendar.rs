//! Public holidays on which a country forbids collection calls: Colombia
//! (Ley 2300 de 2023) and Peru (Código de Protección al Consumidor, art.
//! 62). Both calendars move with Easter, and Colombia's move most holidays
//! to the following Monday (Ley 51 de 1983, "Ley Emiliani").

#![deny(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// Easter Sunday (Gregorian), by the anonymous algorithm of Meeus, Jones
/// and Butcher.
pub fn easter(year: i32) -> NaiveDate {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .expect("the algorithm gives a date in March or April")
}

fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(year, month, day).expect("a fixed holiday is a real date")
}

/// The same day if it is a Monday, else the Monday after.
fn next_monday(day: NaiveDate) -> NaiveDate {
    let ahead = (7 - day.weekday().num_days_from_monday()) % 7;
    day + Duration::days(i64::from(ahead))
}

/// Colombia's public holidays (festivos) of `year`.
pub fn colombia(year: i32) -> Vec<NaiveDate> {
    let easter = easter(year);
    let mut days = vec![
        date(year, 1, 1),
        date(year, 5, 1),
        date(year, 7, 20),
        date(year, 8, 7),
        date(year, 12, 8),
        date(year, 12, 25),
        // Holy Thursday and Good Friday.
        easter - Duration::days(3),
        easter - Duration::days(2),
    ];
    // Moved to the Monday after (Ley Emiliani).
    for (month, day) in [
        (1, 6),
        (3, 19),
        (6, 29),
        (8, 15),
        (10, 12),
        (11, 1),
        (11, 11),
    ] {
        days.push(next_monday(date(year, month, day)));
    }
    // Ascension, Corpus Christi and Sacred Heart: Easter + 39, 60 and 68
    // days (Thursdays and a Friday), celebrated on the Monday after.
    for offset in [39, 60, 68] {
        days.push(next_monday(easter + Duration::days(offset)));
    }
    days.sort();
    days
}

/// Peru's public holidays (feriados) of `year`, those of Ley 31788 and
/// before included.
pub fn peru(year: i32) -> Vec<NaiveDate> {
    let easter = easter(year);
    let mut days = vec![
        date(year, 1, 1),
        easter - Duration::days(3),
        easter - Duration::days(2),
        date(year, 5, 1),
        date(year, 6, 7),
        date(year, 6, 29),
        date(year, 7, 23),
        date(year, 7, 28),
        date(year, 7, 29),
        date(year, 8, 6),
        date(year, 8, 30),
        date(year, 10, 8),
        date(year, 11, 1),
        date(year, 12, 8),
        date(year, 12, 9),
        date(year, 12, 25),
    ];
    days.sort();
    days
}

/// Holiday lists already computed, by year: the check runs before every
/// dial, and a refusal searches up to two weeks of quarter-hours.
type Cache = Mutex<BTreeMap<i32, Vec<NaiveDate>>>;
static COLOMBIA: Cache = Mutex::new(BTreeMap::new());
static PERU: Cache = Mutex::new(BTreeMap::new());

fn in_calendar(cache: &Cache, compute: fn(i32) -> Vec<NaiveDate>, day: NaiveDate) -> bool {
    let mut years = cache
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    years
        .entry(day.year())
        .or_insert_with(|| compute(day.year()))
        .binary_search(&day)
        .is_ok()
}

/// Whether `day` is a festivo in Colombia.
pub fn is_colombian_holiday(day: NaiveDate) -> bool {
    in_calendar(&COLOMBIA, colombia, day)
}

/// Whether `day` is a feriado in Peru.
pub fn is_peruvian_holiday(day: NaiveDate) -> bool {
    in_calendar(&PERU, peru, day)
}

/// Whether `day` is a Saturday or Sunday.
pub fn is_weekend(day: NaiveDate) -> bool {
    matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_dates() {
        assert_eq!(easter(2024), date(2024, 3, 31));
        assert_eq!(easter(2025), date(2025, 4, 20));
        assert_eq!(easter(2026), date(2026, 4, 5));
        assert_eq!(easter(2027), date(2027, 3, 28));
    }

    /// Colombia's 2026 calendar, as published: 18 festivos.
    #[test]
    fn colombia_2026() {
        let days = colombia(2026);
        let expected = [
            (1, 1),
            (1, 12),
            (3, 23),
            (4, 2),
            (4, 3),
            (5, 1),
            (5, 18),
            (6, 8),
            (6, 15),
            (6, 29),
            (7, 20),
            (8, 7),
            (8, 17),
            (10, 12),
            (11, 2),
            (11, 16),
            (12, 8),
            (12, 25),
        ]
        .map(|(m, d)| date(2026, m, d));
        assert_eq!(days, expected);
    }

    #[test]
    fn peru_has_holy_week_and_independence() {
        let days = peru(2026);
        assert!(days.contains(&date(2026, 4, 2)) && days.contains(&date(2026, 4, 3)));
        assert!(days.contains(&date(2026, 7, 28)) && days.contains(&date(2026, 7, 29)));
        assert!(!days.contains(&date(2026, 4, 6)));
    }
}
