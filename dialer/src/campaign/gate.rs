//! The checks a campaign makes before each dial: the campaign's own
//! do-not-call lists, and the calling rules of the debtor's country
//! (hours in the debtor's zone, days without calls, calls per debt), with
//! the debtor's earlier calls read from the store.
//!
//! The verdict goes with the attempt ("allowed because ..."); a refusal is
//! stored as a deferral with the first instant the hours allow.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

use super::contacts::normalize_phone;
use super::{Contact, RowError};
use crate::compliance::{self, Country, Verdict, Zone};
use crate::config::{ComplianceConfig, TIMEZONE_COLUMNS};
use crate::store::{Store, StoreError};

/// What the verdict says when the checks are off.
pub const CHECKS_OFF: &str = "compliance checks off (compliance.enabled = false)";

/// Where a debtor is, as the rules need it: found once, when the list loads.
#[derive(Debug, Clone)]
pub enum Place {
    /// Checks off: nothing to know.
    Unchecked,
    Known {
        country: Country,
        zone: Zone,
    },
    /// A number of a country whose rules the dialer does not know.
    NoRules,
}

/// The calling rules of one run.
#[derive(Debug)]
pub struct Gate {
    config: ComplianceConfig,
    /// The list's time zone column, if it has one.
    zone_column: Option<String>,
    /// The run's campaign and start: the store's calls of this run are
    /// left out, the run counts them itself.
    run: Option<(i64, DateTime<Utc>)>,
    /// The campaign may abandon calls (its pacer overdials): debtors
    /// abandoned lately are left alone for `after_abandon_h`.
    overdials: bool,
    /// This run's own calls, by number and by debt: the store may not show
    /// a call that began a moment ago.
    placed: Mutex<HashMap<String, Vec<DateTime<Utc>>>>,
}

impl Gate {
    /// The rules for a list with these `columns`; a configured time zone
    /// column the list lacks is an error that names both.
    pub fn new(config: &ComplianceConfig, list: &Path, columns: &[String]) -> Result<Gate, String> {
        let zone_column = match &config.timezone_column {
            Some(name) if columns.contains(name) => Some(name.clone()),
            Some(name) => {
                return Err(format!(
                    "compliance.timezone_column: the list {} has no column '{name}' (found: {})",
                    list.display(),
                    columns.join(",")
                ));
            }
            None => TIMEZONE_COLUMNS
                .iter()
                .find(|c| columns.iter().any(|h| h == *c))
                .map(|c| c.to_string()),
        };
        Ok(Gate {
            config: config.clone(),
            zone_column,
            run: None,
            overdials: false,
            placed: Mutex::default(),
        })
    }

    /// The run of `campaign_id` that began at `began` (before its first
    /// dial); `overdials` when its pacer may abandon calls.
    pub fn for_run(self, campaign_id: i64, began: DateTime<Utc>, overdials: bool) -> Gate {
        Gate {
            run: Some((campaign_id, began)),
            overdials,
            ..self
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.enabled
    }

    /// The debtor's country and zone; a time zone cell that names no zone
    /// is an error for that row.
    pub fn locate(&self, list: &Path, contact: &Contact) -> Result<Place, RowError> {
        if !self.config.enabled {
            return Ok(Place::Unchecked);
        }
        let Some(country) = Country::of_phone(&contact.phone) else {
            return Ok(Place::NoRules);
        };
        let column = self.zone_column.as_ref();
        let cell = column.and_then(|c| contact.vars.get(c)).map(String::as_str);
        compliance::zone_of(cell, &contact.phone, country)
            .map(|zone| Place::Known { country, zone })
            .map_err(|reason| RowError {
                path: list.to_owned(),
                line: contact.line,
                field: column.cloned().unwrap_or_default(),
                reason,
            })
    }

    /// The hours alone (no calls counted): to leave out, before their
    /// messages are rendered, the contacts that may not be called now.
    pub fn hours(&self, place: &Place, contact: &Contact, now: DateTime<Utc>) -> Verdict {
        self.verdict(place, contact, now, &[])
    }

    /// The whole verdict before a dial, the debtor's earlier calls read
    /// from the store. An allowed call is counted at once, so the next
    /// debt of the same debtor sees it.
    pub async fn judge(
        &self,
        store: &Store,
        place: &Place,
        contact: &Contact,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        let longest = match place {
            Place::Known { country, .. } => country
                .attempt_cap()
                .iter()
                .chain(&self.config.caps)
                .map(|cap| cap.days)
                .max(),
            Place::Unchecked | Place::NoRules => None,
        };
        let mut earlier = Vec::new();
        if let Some(days) = longest {
            // A day's cap counts the debtor's calendar day: two days back
            // covers it in any zone.
            let since = now - Duration::days(i64::from(days.max(2)));
            earlier = store
                .calls_to(&contact.phone, &contact.id, since, self.run)
                .await?;
            let placed = self.placed.lock().expect("never held across a panic");
            let phone = placed.get(&contact.phone).into_iter().flatten();
            let debt = placed.get(&debt_key(contact)).into_iter().flatten();
            // A call counted under both keys is one call.
            let mut own: Vec<DateTime<Utc>> = phone.chain(debt).copied().collect();
            own.sort();
            own.dedup();
            earlier.extend(own);
        }
        let verdict = self.verdict(place, contact, now, &earlier);
        if verdict.allowed()
            && let Some(refusal) = self.after_abandon(store, place, contact, now).await?
        {
            return Ok(refusal);
        }
        if verdict.allowed() && longest.is_some() {
            let mut placed = self.placed.lock().expect("never held across a panic");
            for key in [contact.phone.clone(), debt_key(contact)] {
                placed.entry(key).or_default().push(now);
            }
        }
        Ok(verdict)
    }

    /// A debtor whose call was abandoned lately waits `after_abandon_h`
    /// before a campaign that may abandon calls dials them again; one
    /// where an agent waits for every call (progressive) may.
    async fn after_abandon(
        &self,
        store: &Store,
        place: &Place,
        contact: &Contact,
        now: DateTime<Utc>,
    ) -> Result<Option<Verdict>, StoreError> {
        let hours = self.config.after_abandon_h;
        if !self.overdials || hours <= 0.0 || matches!(place, Place::Unchecked) {
            return Ok(None);
        }
        let wait = Duration::seconds((hours * 3600.0) as i64);
        let Some(abandoned) = store
            .abandoned_since(&contact.phone, &contact.id, now - wait)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Verdict::Refused {
            reason: format!(
                "refused: the call of {} to this debtor was abandoned (no agent in time), and a \
                 campaign that may abandon calls waits {hours} h before calling them again \
                 (compliance.after_abandon_h)",
                abandoned.format("%Y-%m-%d %H:%M UTC")
            ),
            retry_at: Some(abandoned + wait),
        }))
    }

    fn verdict(
        &self,
        place: &Place,
        contact: &Contact,
        now: DateTime<Utc>,
        earlier: &[DateTime<Utc>],
    ) -> Verdict {
        match place {
            Place::Unchecked => Verdict::Allowed(CHECKS_OFF.into()),
            Place::NoRules => Verdict::Refused {
                reason: format!(
                    "refused: no calling rules are known for {}'s country (the dialer knows \
                     Mexico, Colombia, Peru, Chile and the United States)",
                    contact.phone
                ),
                retry_at: None,
            },
            Place::Known { country, zone } => {
                compliance::may_call_within(now, *country, zone, earlier, &self.config.caps)
            }
        }
    }
}

/// The key of a debt in the run's own count (phones start with `+`).
fn debt_key(contact: &Contact) -> String {
    format!("debt:{}", contact.id)
}

/// The numbers of a campaign's do-not-call files: one per line, or the
/// first field of a CSV row; blank lines, `#` comments and a header line
/// are skipped. A line that is not a number is an error that names the
/// file and line: a list meant to keep a debtor from being called is not
/// guessed at.
pub fn read_do_not_call(
    files: &[PathBuf],
    region: phonenumber::country::Id,
) -> anyhow::Result<HashSet<String>> {
    let mut numbers = HashSet::new();
    for path in files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
        for (i, line) in text.lines().enumerate() {
            let field = line
                .split([',', ';', '\t'])
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            if field.is_empty() || field.starts_with('#') {
                continue;
            }
            match normalize_phone(field, region) {
                Ok(phone) => {
                    numbers.insert(phone);
                }
                // A header ("telefono", "phone") has no digits.
                Err(_) if i == 0 && !field.chars().any(|c| c.is_ascii_digit()) => {}
                Err(reason) => anyhow::bail!(
                    "{}:{}: {reason} (fix or remove the line: the campaign does not start \
                     while a do-not-call entry cannot be read)",
                    path.display(),
                    i + 1
                ),
            }
        }
    }
    Ok(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Cap;
    use std::collections::BTreeMap;

    fn contact(id: &str, phone: &str, zone: Option<&str>) -> Contact {
        Contact {
            id: id.into(),
            phone: phone.into(),
            name: "Juan Pérez".into(),
            balance: "100".into(),
            due_date: "2026-12-15".into(),
            vars: zone
                .map(|z| BTreeMap::from([("zona_horaria".to_string(), z.to_string())]))
                .unwrap_or_default(),
            line: 7,
        }
    }

    fn config(enabled: bool, caps: Vec<Cap>) -> ComplianceConfig {
        ComplianceConfig {
            enabled,
            timezone_column: None,
            caps,
            after_abandon_h: 72.0,
        }
    }

    #[test]
    fn the_zone_column_is_found_by_name_and_checked_per_row() {
        let list = Path::new("contactos.csv");
        let columns = vec!["segmento".to_string(), "zona_horaria".to_string()];
        let gate = Gate::new(&config(true, vec![]), list, &columns).unwrap();
        let place = gate
            .locate(
                list,
                &contact("C1", "+525512345678", Some("America/Tijuana")),
            )
            .unwrap();
        assert!(
            matches!(&place, Place::Known { country: Country::Mexico, zone: Zone::Known(tz) } if tz.name() == "America/Tijuana"),
            "{place:?}"
        );
        let bad = gate
            .locate(list, &contact("C2", "+525512345678", Some("Tijuana")))
            .unwrap_err();
        assert_eq!(
            bad.to_string(),
            "contactos.csv:7: zona_horaria: 'Tijuana' is not a time zone (an IANA name such as America/Bogota)"
        );
        let named = ComplianceConfig {
            timezone_column: Some("huso".into()),
            ..config(true, vec![])
        };
        let missing = Gate::new(&named, list, &columns).unwrap_err();
        assert_eq!(
            missing,
            "compliance.timezone_column: the list contactos.csv has no column 'huso' (found: segmento,zona_horaria)"
        );
        let gate = Gate::new(&config(true, vec![]), list, &columns).unwrap();
        let foreign = gate
            .locate(list, &contact("C3", "+442071234567", None))
            .unwrap();
        let verdict = gate.hours(&foreign, &contact("C3", "+442071234567", None), Utc::now());
        assert!(
            matches!(&verdict, Verdict::Refused { reason, retry_at: None } if reason.contains("no calling rules are known for +442071234567")),
            "{verdict:?}"
        );
    }

    #[test]
    fn checks_off_allow_and_say_so() {
        let list = Path::new("l.csv");
        let gate = Gate::new(&config(false, vec![]), list, &[]).unwrap();
        let c = contact("C1", "+442071234567", None);
        let place = gate.locate(list, &c).unwrap();
        assert_eq!(
            gate.hours(&place, &c, Utc::now()),
            Verdict::Allowed(CHECKS_OFF.into())
        );
    }

    /// Two debts of one debtor: the campaign's one call a day is the
    /// debtor's, so the second debt waits for tomorrow, even though the
    /// first call is not in the store yet.
    #[tokio::test]
    async fn a_call_this_run_counts_for_the_next_debt_of_the_same_number() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("d.db")).await.unwrap();
        let cap = Cap {
            calls: 1,
            days: 1,
            by: "the campaign (compliance.max_calls_per_day)".into(),
        };
        let list = Path::new("l.csv");
        let gate = Gate::new(&config(true, vec![cap]), list, &[]).unwrap();
        // 12:00 in Mexico City.
        let now: DateTime<Utc> = "2026-12-01T18:00:00Z".parse().unwrap();
        let first = contact("C1", "+525512345678", None);
        let second = contact("C2", "+525512345678", None);
        let place = gate.locate(list, &first).unwrap();
        let verdict = gate.judge(&store, &place, &first, now).await.unwrap();
        let Verdict::Allowed(because) = verdict else {
            panic!("{verdict:?}")
        };
        assert!(because.ends_with("and 0 of 1 calls today"), "{because}");
        let verdict = gate
            .judge(&store, &place, &second, now + Duration::minutes(1))
            .await
            .unwrap();
        let Verdict::Refused { reason, retry_at } = verdict else {
            panic!("{verdict:?}")
        };
        assert!(
            reason.contains(
                "1 call(s) today already, and the campaign (compliance.max_calls_per_day) allows 1 per day"
            ),
            "{reason}"
        );
        // 07:00 the next morning in Mexico City.
        assert_eq!(retry_at, Some("2026-12-02T13:00:00Z".parse().unwrap()));
        store.close().await;
    }

    #[test]
    fn do_not_call_files() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("dnc.csv");
        std::fs::write(
            &good,
            "telefono,motivo\n55 1234 5678,queja\n\n# REPEP\n+573001234567\n",
        )
        .unwrap();
        let region = phonenumber::country::Id::MX;
        let numbers = read_do_not_call(std::slice::from_ref(&good), region).unwrap();
        assert_eq!(
            numbers,
            HashSet::from(["+525512345678".to_string(), "+573001234567".to_string()])
        );
        let bad = dir.path().join("bad.txt");
        std::fs::write(&bad, "+525512345678\n55-ABC\n").unwrap();
        let error = read_do_not_call(&[good, bad.clone()], region).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "{}:2: '55-ABC' is not a phone number",
                bad.display()
            )),
            "{error}"
        );
    }
}
