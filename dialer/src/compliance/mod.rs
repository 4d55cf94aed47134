//! May this debtor be called now? The rules of the debtor's country,
//! checked before every dial and recorded with the attempt ("allowed
//! because ...", or why not and when it may be).
//!
//! Each country's law sets calling hours in the debtor's local time, days
//! without calls (Sundays, public holidays) and how often a debt may be
//! called:
//!
//! | country | hours (local) | days | calls |
//! | --- | --- | --- | --- |
//! | Mexico (CONDUSEF) | 7:00-22:00 | every day | - |
//! | Colombia (Ley 2300 de 2023) | Mon-Fri 7:00-19:00, Sat 8:00-15:00 | no Sundays, no festivos | 1 per day |
//! | Peru (Ley 29571 art. 62) | 7:00-20:00 | Mon-Fri, no feriados | - |
//! | Chile (Ley 21.320) | 8:00-20:00 | Mon-Sat | 1 per 7 days |
//! | United States (TCPA, Reg F) | 8:00-21:00 | every day | 7 per 7 days per debt |
//!
//! The check is pure: told the instant, the debtor's zone and the debt's
//! earlier attempts, it answers; the campaign asks it before each dial.

#![deny(clippy::disallowed_methods)]

pub mod calendar;
pub mod zone;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

pub use zone::{Zone, zone_of};

/// The jurisdictions whose rules we know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Country {
    Mexico,
    Colombia,
    Peru,
    Chile,
    UnitedStates,
}

impl Country {
    /// By the E.164 number's country code.
    pub fn of_phone(phone: &str) -> Option<Country> {
        let digits = phone.strip_prefix('+')?;
        [
            ("52", Country::Mexico),
            ("57", Country::Colombia),
            ("51", Country::Peru),
            ("56", Country::Chile),
            ("1", Country::UnitedStates),
        ]
        .into_iter()
        .find(|(code, _)| digits.starts_with(code))
        .map(|(_, country)| country)
    }

    pub fn name(self) -> &'static str {
        match self {
            Country::Mexico => "Mexico",
            Country::Colombia => "Colombia",
            Country::Peru => "Peru",
            Country::Chile => "Chile",
            Country::UnitedStates => "the United States",
        }
    }

    /// The calling hours on `day` (local), or none when no call is allowed
    /// that day (a Sunday, a holiday).
    pub fn hours(self, day: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
        let at = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("a whole hour");
        let weekday = day.weekday();
        match self {
            Country::Mexico => Some((at(7), at(22))),
            Country::Colombia => {
                if calendar::is_colombian_holiday(day) {
                    return None;
                }
                match weekday {
                    Weekday::Sun => None,
                    Weekday::Sat => Some((at(8), at(15))),
                    _ => Some((at(7), at(19))),
                }
            }
            Country::Peru => {
                if calendar::is_weekend(day) || calendar::is_peruvian_holiday(day) {
                    return None;
                }
                Some((at(7), at(20)))
            }
            Country::Chile => (weekday != Weekday::Sun).then(|| (at(8), at(20))),
            Country::UnitedStates => Some((at(8), at(21))),
        }
    }

    /// The law's cap on calls per debt, if it has one.
    pub fn attempt_cap(self) -> Option<Cap> {
        let (calls, days) = match self {
            Country::Colombia => (1, 1),
            Country::Chile => (1, 7),
            Country::UnitedStates => (7, 7),
            Country::Mexico | Country::Peru => return None,
        };
        Some(Cap {
            calls,
            days,
            by: self.name().to_string(),
        })
    }
}

/// At most `calls` calls to a debt within `days` days (rolling; 1 = the
/// debtor's calendar day), by the law or by the campaign's own policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub calls: usize,
    pub days: u32,
    /// Who sets it, for the verdict: "Colombia", "the campaign
    /// (compliance.max_calls_per_day)".
    pub by: String,
}

/// The answer, worded for the attempt record.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Allowed(String),
    /// Not now; `retry_at` is the first instant the hours allow (the
    /// attempt cap may still refuse then).
    Refused {
        reason: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

impl Verdict {
    pub fn allowed(&self) -> bool {
        matches!(self, Verdict::Allowed(_))
    }
}

/// Whether the debt may be called at `now`, its debtor in `zone` under
/// `country`'s rules, after the `earlier` attempts on it.
pub fn may_call(
    now: DateTime<Utc>,
    country: Country,
    zone: &Zone,
    earlier: &[DateTime<Utc>],
) -> Verdict {
    may_call_within(now, country, zone, earlier, &[])
}

/// [`may_call`], with the campaign's own `caps` besides the law's (the
/// strictest refuses).
pub fn may_call_within(
    now: DateTime<Utc>,
    country: Country,
    zone: &Zone,
    earlier: &[DateTime<Utc>],
    caps: &[Cap],
) -> Verdict {
    let zones: &[Tz] = match zone {
        Zone::Known(tz) => std::slice::from_ref(tz),
        Zone::AnyOf(all) => all,
    };
    let mut inside = Vec::new();
    for tz in zones {
        let local = now.with_timezone(tz);
        let day = local.date_naive();
        let time = local.time();
        let Some((open, close)) = country.hours(day) else {
            return refused(
                format!(
                    "{} {} in {tz} is a day without calls in {}",
                    local.format("%a"),
                    day,
                    country.name()
                ),
                next_opening(now, country, zones),
            );
        };
        if time < open || time >= close {
            return refused(
                format!(
                    "{} {} in {tz} is outside {}'s hours that day, {}-{}",
                    local.format("%a"),
                    local.format("%H:%M"),
                    country.name(),
                    open.format("%H:%M"),
                    close.format("%H:%M")
                ),
                next_opening(now, country, zones),
            );
        }
        inside.push(format!("{} in {tz}", local.format("%a %H:%M")));
    }
    let mut because = format!(
        "allowed because {} {} within {}'s hours",
        inside.join(", "),
        if inside.len() == 1 { "is" } else { "are all" },
        country.name()
    );
    for cap in country.attempt_cap().iter().chain(caps) {
        match within_cap(now, country, zones, earlier, cap) {
            Ok(count) => because.push_str(&format!(", and {count}")),
            Err(refusal) => return refusal,
        }
    }
    Verdict::Allowed(because)
}

/// How many of `cap`'s calls are used ("0 of 1 calls today"), or the
/// refusal when none is left.
fn within_cap(
    now: DateTime<Utc>,
    country: Country,
    zones: &[Tz],
    earlier: &[DateTime<Utc>],
    cap: &Cap,
) -> Result<String, Verdict> {
    let Cap {
        calls: max,
        days,
        by,
    } = cap;
    let (count, window) = if *days == 1 {
        // The debtor's calendar day, in the zone where it started last.
        let tz = zones[0];
        let today = now.with_timezone(&tz).date_naive();
        let count = earlier
            .iter()
            .filter(|t| t.with_timezone(&tz).date_naive() == today)
            .count();
        (count, "today".to_string())
    } else {
        let since = now - Duration::days(i64::from(*days));
        let count = earlier.iter().filter(|t| **t > since && **t <= now).count();
        (count, format!("in the last {days} days"))
    };
    if count < *max {
        return Ok(format!("{count} of {max} calls {window}"));
    }
    let retry_at = if *days == 1 {
        next_day_opening(now, country, zones)
    } else {
        // When enough of the calls in the window have left it.
        let mut in_window: Vec<&DateTime<Utc>> = earlier
            .iter()
            .filter(|t| **t > now - Duration::days(i64::from(*days)))
            .collect();
        in_window.sort();
        in_window
            .get(count - max)
            .and_then(|t| next_opening(**t + Duration::days(i64::from(*days)), country, zones))
    };
    let period = if *days == 1 {
        "day".to_string()
    } else {
        format!("{days} days")
    };
    Err(refused(
        format!("{count} call(s) {window} already, and {by} allows {max} per {period}"),
        retry_at,
    ))
}

fn refused(reason: String, retry_at: Option<DateTime<Utc>>) -> Verdict {
    Verdict::Refused {
        reason: format!("refused: {reason}"),
        retry_at,
    }
}

/// The first instant within two weeks, at or after `now`, inside the
/// hours in every one of `zones` (searched in 15-minute steps).
fn next_opening(now: DateTime<Utc>, country: Country, zones: &[Tz]) -> Option<DateTime<Utc>> {
    let step = Duration::minutes(15);
    let past_quarter = now.timestamp().rem_euclid(900);
    let start = if past_quarter == 0 {
        now
    } else {
        now + Duration::seconds(900 - past_quarter)
    };
    (0..14 * 24 * 4)
        .map(|i| start + step * i)
        .find(|t| zones.iter().all(|tz| open_at(*t, country, tz)))
}

/// The first opening from the next local midnight on (after a day's cap).
fn next_day_opening(now: DateTime<Utc>, country: Country, zones: &[Tz]) -> Option<DateTime<Utc>> {
    let tz = zones[0];
    let tomorrow = now.with_timezone(&tz).date_naive().succ_opt()?;
    let midnight = tz
        .from_local_datetime(&tomorrow.and_hms_opt(0, 0, 0)?)
        .earliest()?
        .with_timezone(&Utc);
    next_opening(midnight, country, zones)
}

fn open_at(t: DateTime<Utc>, country: Country, tz: &Tz) -> bool {
    let local = t.with_timezone(tz);
    country
        .hours(local.date_naive())
        .is_some_and(|(open, close)| local.time() >= open && local.time() < close)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("an RFC 3339 instant")
    }

    fn zone(phone: &str) -> Zone {
        zone_of(None, phone, Country::of_phone(phone).unwrap()).unwrap()
    }

    /// 7:30 in Mexico City is 5:30 in Tijuana (winter): too early there.
    #[test]
    fn a_debtor_in_tijuana_is_not_called_at_7_30_mexico_city_time() {
        let now = utc("2026-12-01T13:30:00Z");
        assert_eq!(
            now.with_timezone(&America::Mexico_City)
                .format("%H:%M")
                .to_string(),
            "07:30"
        );
        let tijuana = zone("+526641234567");
        let verdict = may_call(now, Country::Mexico, &tijuana, &[]);
        let Verdict::Refused { reason, retry_at } = verdict else {
            panic!("called Tijuana at 05:30: {verdict:?}");
        };
        assert!(
            reason.contains(
                "05:30 in America/Tijuana is outside Mexico's hours that day, 07:00-22:00"
            ),
            "{reason}"
        );
        // 07:00 in Tijuana is 15:00 UTC.
        assert_eq!(retry_at, Some(utc("2026-12-01T15:00:00Z")));
        // The same instant is fine in Mexico City.
        let verdict = may_call(now, Country::Mexico, &zone("+525512345678"), &[]);
        assert!(verdict.allowed(), "{verdict:?}");
        let Verdict::Allowed(because) = verdict else {
            unreachable!()
        };
        assert!(
            because.contains("Tue 07:30 in America/Mexico_City is within Mexico's hours"),
            "{because}"
        );
    }

    #[test]
    fn a_colombian_debtor_is_not_called_on_a_holiday_or_a_sunday() {
        let bogota = zone("+573001234567");
        // Monday 2026-11-16, 10:00 in Bogotá (UTC-5): Independencia de Cartagena.
        let holiday = may_call(utc("2026-11-16T15:00:00Z"), Country::Colombia, &bogota, &[]);
        let Verdict::Refused { reason, retry_at } = holiday else {
            panic!("called on a festivo: {holiday:?}");
        };
        assert!(
            reason.contains("Mon 2026-11-16 in America/Bogota is a day without calls in Colombia"),
            "{reason}"
        );
        // The next morning at 7:00.
        assert_eq!(retry_at, Some(utc("2026-11-17T12:00:00Z")));
        let sunday = may_call(utc("2026-11-22T15:00:00Z"), Country::Colombia, &bogota, &[]);
        assert!(!sunday.allowed(), "{sunday:?}");
        // Saturday: 8:00-15:00 only.
        let saturday_noon = may_call(utc("2026-11-21T17:00:00Z"), Country::Colombia, &bogota, &[]);
        assert!(saturday_noon.allowed(), "{saturday_noon:?}");
        let saturday_four = may_call(utc("2026-11-21T21:00:00Z"), Country::Colombia, &bogota, &[]);
        assert!(!saturday_four.allowed(), "{saturday_four:?}");
        // A weekday: once a day.
        let tuesday = utc("2026-11-17T15:00:00Z");
        assert!(may_call(tuesday, Country::Colombia, &bogota, &[]).allowed());
        let again = may_call(
            tuesday,
            Country::Colombia,
            &bogota,
            &[utc("2026-11-17T13:00:00Z")],
        );
        let Verdict::Refused { reason, retry_at } = again else {
            panic!("twice a day: {again:?}");
        };
        assert!(
            reason.contains("1 call(s) today already, and Colombia allows 1 per day"),
            "{reason}"
        );
        assert_eq!(retry_at, Some(utc("2026-11-18T12:00:00Z")));
    }

    /// Reg F: seven calls in seven days per debt; the eighth is refused
    /// until the oldest of them is seven days old.
    #[test]
    fn the_eighth_attempt_in_seven_days_is_refused() {
        let zone = Zone::Known(America::New_York);
        let now = utc("2026-12-08T16:00:00Z");
        let earlier: Vec<DateTime<Utc>> = (1..=7)
            .map(|d| utc("2026-12-01T17:00:00Z") + Duration::days(d - 1))
            .collect();
        let verdict = may_call(now, Country::UnitedStates, &zone, &earlier[1..]);
        assert!(verdict.allowed(), "six in seven days: {verdict:?}");
        let Verdict::Allowed(because) = verdict else {
            unreachable!()
        };
        assert!(
            because.ends_with("and 6 of 7 calls in the last 7 days"),
            "{because}"
        );
        let verdict = may_call(now, Country::UnitedStates, &zone, &earlier);
        let Verdict::Refused { reason, retry_at } = verdict else {
            panic!("the eighth: {verdict:?}");
        };
        assert!(
            reason.contains("7 call(s) in the last 7 days already"),
            "{reason}"
        );
        assert_eq!(retry_at, Some(utc("2026-12-08T17:00:00Z")));
    }

    /// A US number says nothing of the zone: only hours lawful from New
    /// York to Honolulu.
    #[test]
    fn an_unknown_us_zone_needs_every_zone_open() {
        let us = zone("+13055550123");
        // 12:00 in New York is 07:00 in Honolulu (winter).
        let noon_east = may_call(utc("2026-12-01T17:00:00Z"), Country::UnitedStates, &us, &[]);
        let Verdict::Refused { reason, retry_at } = noon_east else {
            panic!("{noon_east:?}");
        };
        assert!(reason.contains("in Pacific/Honolulu"), "{reason}");
        assert_eq!(retry_at, Some(utc("2026-12-01T18:00:00Z")));
        let later = may_call(utc("2026-12-01T19:00:00Z"), Country::UnitedStates, &us, &[]);
        assert!(later.allowed(), "{later:?}");
    }

    #[test]
    fn peru_and_chile_days() {
        let lima = zone("+51912345678");
        // Saturday 10:00 in Lima: no.
        assert!(!may_call(utc("2026-11-21T15:00:00Z"), Country::Peru, &lima, &[]).allowed());
        // Monday 19:30: yes; 20:30: no.
        assert!(may_call(utc("2026-11-24T00:30:00Z"), Country::Peru, &lima, &[]).allowed());
        assert!(!may_call(utc("2026-11-24T01:30:00Z"), Country::Peru, &lima, &[]).allowed());
        let santiago = zone("+56912345678");
        // Saturday 10:00 in Santiago (UTC-3 in summer): yes, once a week.
        let saturday = utc("2026-11-21T13:00:00Z");
        assert!(may_call(saturday, Country::Chile, &santiago, &[]).allowed());
        let week = [utc("2026-11-16T13:00:00Z")];
        assert!(!may_call(saturday, Country::Chile, &santiago, &week).allowed());
    }
}
