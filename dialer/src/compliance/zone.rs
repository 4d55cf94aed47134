//! The debtor's time zone: from the list's column when it has one, else
//! from the number. Where the number does not tell (a US number, a Mexican
//! area code not in the table), the debtor may be in any of the country's
//! zones, and a call must be lawful in all of them.

#![deny(clippy::disallowed_methods)]

use chrono_tz::America;
use chrono_tz::Tz;

use super::Country;

/// Where the debtor may be.
#[derive(Debug, Clone, PartialEq)]
pub enum Zone {
    Known(Tz),
    /// One of these; a call must be lawful in every one.
    AnyOf(&'static [Tz]),
}

const MEXICO: &[Tz] = &[
    America::Tijuana,
    America::Hermosillo,
    America::Mazatlan,
    America::Mexico_City,
    America::Cancun,
    America::Ciudad_Juarez,
];
const UNITED_STATES: &[Tz] = &[
    America::New_York,
    America::Chicago,
    America::Denver,
    America::Phoenix,
    America::Los_Angeles,
    America::Anchorage,
    chrono_tz::Pacific::Honolulu,
];

/// Mexican area codes (the digits after +52) outside Mexico City's zone.
const MEXICO_AREAS: &[(&str, Tz)] = &[
    // Baja California: Tijuana, Tecate, Mexicali, Ensenada, Rosarito, San Quintín.
    ("664", America::Tijuana),
    ("665", America::Tijuana),
    ("686", America::Tijuana),
    ("646", America::Tijuana),
    ("661", America::Tijuana),
    ("616", America::Tijuana),
    // Sonora (no daylight saving time).
    ("662", America::Hermosillo),
    ("631", America::Hermosillo),
    ("633", America::Hermosillo),
    ("637", America::Hermosillo),
    ("641", America::Hermosillo),
    ("642", America::Hermosillo),
    ("643", America::Hermosillo),
    ("644", America::Hermosillo),
    ("645", America::Hermosillo),
    ("647", America::Hermosillo),
    ("653", America::Hermosillo),
    // Baja California Sur, Sinaloa and Nayarit.
    ("612", America::Mazatlan),
    ("613", America::Mazatlan),
    ("615", America::Mazatlan),
    ("624", America::Mazatlan),
    ("667", America::Mazatlan),
    ("668", America::Mazatlan),
    ("669", America::Mazatlan),
    ("672", America::Mazatlan),
    ("673", America::Mazatlan),
    ("687", America::Mazatlan),
    ("694", America::Mazatlan),
    ("696", America::Mazatlan),
    ("697", America::Mazatlan),
    ("698", America::Mazatlan),
    ("311", America::Mazatlan),
    ("319", America::Mazatlan),
    ("323", America::Mazatlan),
    ("324", America::Mazatlan),
    ("325", America::Mazatlan),
    ("327", America::Mazatlan),
    ("389", America::Mazatlan),
    // Quintana Roo.
    ("998", America::Cancun),
    ("984", America::Cancun),
    ("983", America::Cancun),
    ("987", America::Cancun),
    ("997", America::Cancun),
    // Ciudad Juárez follows the US clock.
    ("656", America::Ciudad_Juarez),
];

/// Mexico City's zone covers the rest of these first digits of national
/// numbers (two-digit area codes: 55 Mexico City, 33 Guadalajara, 81
/// Monterrey; three-digit ones not in the table above).
fn mexico_zone(national: &str) -> Zone {
    if national.len() != 10 {
        return Zone::AnyOf(MEXICO);
    }
    for (area, zone) in MEXICO_AREAS {
        if national.starts_with(area) {
            return Zone::Known(*zone);
        }
    }
    Zone::Known(America::Mexico_City)
}

/// The zone of a debtor: `column` (an IANA name from the list) when
/// given, else from the E.164 `phone`.
pub fn zone_of(column: Option<&str>, phone: &str, country: Country) -> Result<Zone, String> {
    if let Some(name) = column.map(str::trim).filter(|n| !n.is_empty()) {
        return name.parse::<Tz>().map(Zone::Known).map_err(|_| {
            format!("'{name}' is not a time zone (an IANA name such as America/Bogota)")
        });
    }
    let digits = phone.trim_start_matches('+');
    Ok(match country {
        Country::Mexico => mexico_zone(digits.strip_prefix("52").unwrap_or(digits)),
        Country::Colombia => Zone::Known(America::Bogota),
        Country::Peru => Zone::Known(America::Lima),
        Country::Chile => Zone::Known(America::Santiago),
        Country::UnitedStates => Zone::AnyOf(UNITED_STATES),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mexican_numbers_by_area_code() {
        let zone = |phone| zone_of(None, phone, Country::Mexico).unwrap();
        assert_eq!(zone("+526641234567"), Zone::Known(America::Tijuana));
        assert_eq!(zone("+525512345678"), Zone::Known(America::Mexico_City));
        assert_eq!(zone("+523312345678"), Zone::Known(America::Mexico_City));
        assert_eq!(zone("+529981234567"), Zone::Known(America::Cancun));
        assert_eq!(zone("+526621234567"), Zone::Known(America::Hermosillo));
        assert_eq!(zone("+52551234"), Zone::AnyOf(MEXICO), "too short to tell");
    }

    #[test]
    fn the_column_wins_and_is_checked() {
        let known = zone_of(Some("America/Tijuana"), "+525512345678", Country::Mexico);
        assert_eq!(known, Ok(Zone::Known(America::Tijuana)));
        let err = zone_of(Some("Tijuana"), "+525512345678", Country::Mexico).unwrap_err();
        assert!(err.contains("'Tijuana' is not a time zone"), "{err}");
        assert_eq!(
            zone_of(None, "+13055550123", Country::UnitedStates),
            Ok(Zone::AnyOf(UNITED_STATES))
        );
    }
}
