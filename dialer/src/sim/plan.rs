//! What the simulated carrier does with each dialed number.

#![deny(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

/// The carrier's script: credentials to demand, and a behaviour per number.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CarrierPlan {
    /// When present, every INVITE is challenged with 401 (digest, MD5, qop=auth).
    pub auth: Option<AuthPlan>,
    /// For numbers not listed.
    #[serde(default)]
    pub default: Behaviour,
    #[serde(default, rename = "number")]
    pub numbers: Vec<NumberPlan>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthPlan {
    pub username: String,
    pub password: String,
    #[serde(default = "default_realm")]
    pub realm: String,
    /// `server`: 401 and WWW-Authenticate (a carrier's registrar-style
    /// check); `proxy`: 407 and Proxy-Authenticate (a carrier's proxy).
    #[serde(default)]
    pub challenge: ChallengeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    #[default]
    Server,
    Proxy,
}

fn default_realm() -> String {
    "carrier.sim".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NumberPlan {
    /// The dialed number (Request-URI user); a leading `+` is optional.
    pub number: String,
    #[serde(flatten)]
    pub behaviour: Behaviour,
    /// What later calls to the number do: the second call the first of
    /// these, and so on; the last one repeats.
    #[serde(default)]
    pub then: Vec<Behaviour>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Ring `ring_s`, then 200 OK with SDP; RTP both ways.
    #[default]
    Answer,
    /// Ring `ring_s`, then 486 Busy Here.
    Busy,
    /// Ring until the caller CANCELs (480 after `give_up_s` if the caller
    /// never gives up).
    NoAnswer,
    /// Ring `ring_s` (no 180 when 0), then the final response `code`.
    Reject,
}

/// A key the simulated debtor presses, after the answer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPress {
    pub at_s: f64,
    pub key: char,
    #[serde(default = "default_press_ms")]
    pub duration_ms: u32,
}

fn default_press_ms() -> u32 {
    120
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    #[serde(default)]
    pub action: Action,
    #[serde(default = "default_ring_s")]
    pub ring_s: f64,
    /// Final response for `reject`.
    #[serde(default = "default_code")]
    pub code: u16,
    #[serde(default)]
    pub digits: Vec<KeyPress>,
    /// The carrier hangs up (BYE) this long after answering; none = wait for the caller.
    pub hangup_after_s: Option<f64>,
    /// `no_answer`: how long to ring before giving up with 480.
    #[serde(default = "default_give_up_s")]
    pub give_up_s: f64,
    /// The debtor "talks": a sine tone of this frequency, sent from
    /// `tone_at_s` after the answer for `tone_s` seconds (to check that
    /// what the debtor says reaches an agent).
    pub tone_hz: Option<f64>,
    #[serde(default)]
    pub tone_at_s: f64,
    #[serde(default = "default_tone_s")]
    pub tone_s: f64,
    /// A bad line: one of every this many RTP packets the carrier sends is
    /// lost on the way (none when absent).
    pub drop_one_in: Option<u32>,
    /// As behind a NAT: the carrier's SDP gives a port it neither sends
    /// from nor listens on, so only a dialer that sends back where the
    /// packets come from (symmetric RTP) is heard.
    #[serde(default)]
    pub behind_nat: bool,
    /// The address the carrier's SDP gives, when not its real one (a NAT
    /// that rewrites the address: the SDP says a private one). Keep it a
    /// loopback address nobody uses, e.g. 127.0.0.77.
    pub sdp_address: Option<std::net::IpAddr>,
    /// What the debtor, or their answering machine, says on answering
    /// (spoken by espeak-ng in `voice`), from `greeting_at_s` after the
    /// answer: "¿Bueno?" for a person, a long greeting for a machine.
    pub greeting: Option<String>,
    #[serde(default = "default_greeting_at_s")]
    pub greeting_at_s: f64,
    #[serde(default = "default_voice")]
    pub voice: String,
    /// An answering machine's beep of this frequency (600 ms), 300 ms
    /// after the greeting.
    pub beep_hz: Option<f64>,
}

fn default_greeting_at_s() -> f64 {
    0.4
}

fn default_voice() -> String {
    "es-419".into()
}

fn default_tone_s() -> f64 {
    5.0
}

fn default_give_up_s() -> f64 {
    180.0
}

fn default_ring_s() -> f64 {
    1.0
}
fn default_code() -> u16 {
    603
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            action: Action::Answer,
            ring_s: default_ring_s(),
            code: default_code(),
            digits: Vec::new(),
            hangup_after_s: None,
            give_up_s: default_give_up_s(),
            tone_hz: None,
            tone_at_s: 0.0,
            tone_s: default_tone_s(),
            drop_one_in: None,
            behind_nat: false,
            sdp_address: None,
            greeting: None,
            greeting_at_s: default_greeting_at_s(),
            voice: default_voice(),
            beep_hz: None,
        }
    }
}

/// A plan file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct PlanError {
    pub path: String,
    pub message: String,
}

impl CarrierPlan {
    pub fn load(path: &Path) -> Result<CarrierPlan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|e| PlanError {
            path: path.display().to_string(),
            message: format!("cannot read: {e}"),
        })?;
        CarrierPlan::parse(&path.display().to_string(), &text)
    }

    pub fn parse(name: &str, text: &str) -> Result<CarrierPlan, PlanError> {
        let error = |message: String| PlanError {
            path: name.to_owned(),
            message,
        };
        let plan: CarrierPlan =
            toml::from_str(text).map_err(|e| error(e.to_string().trim().replace('\n', " ")))?;
        let mut seen = HashMap::new();
        for (i, n) in plan.numbers.iter().enumerate() {
            if let Some(first) = seen.insert(n.number.trim_start_matches('+').to_owned(), i) {
                return Err(error(format!(
                    "number[{i}]: '{}' is already planned in number[{first}]",
                    n.number
                )));
            }
            n.behaviour
                .check()
                .map_err(|m| error(format!("number[{i}] ({}): {m}", n.number)))?;
            for (j, later) in n.then.iter().enumerate() {
                later
                    .check()
                    .map_err(|m| error(format!("number[{i}] ({}): then[{j}]: {m}", n.number)))?;
            }
        }
        plan.default
            .check()
            .map_err(|m| error(format!("default: {m}")))?;
        Ok(plan)
    }

    /// The behaviour for a dialed number.
    pub fn behaviour(&self, dialed: &str) -> &Behaviour {
        self.behaviour_at(dialed, 0)
    }

    /// The behaviour for the `nth` call to a number (0: the first).
    pub fn behaviour_at(&self, dialed: &str, nth: usize) -> &Behaviour {
        let bare = dialed.trim_start_matches('+');
        let Some(plan) = self
            .numbers
            .iter()
            .find(|n| n.number.trim_start_matches('+') == bare)
        else {
            return &self.default;
        };
        match nth.checked_sub(1) {
            None => &plan.behaviour,
            Some(later) => plan
                .then
                .get(later)
                .or(plan.then.last())
                .unwrap_or(&plan.behaviour),
        }
    }
}

impl Behaviour {
    fn check(&self) -> Result<(), String> {
        if !(0.0..=600.0).contains(&self.ring_s) {
            return Err(format!("ring_s {} is outside 0-600", self.ring_s));
        }
        if self.action == Action::Reject && !(300..=699).contains(&self.code) {
            return Err(format!(
                "code {} is not a final failure (300-699)",
                self.code
            ));
        }
        if let Some(hz) = self.beep_hz
            && !(300.0..=3_000.0).contains(&hz)
        {
            return Err(format!(
                "beep_hz {hz} is outside 300-3000 (the beeps machines make)"
            ));
        }
        if !(0.0..=60.0).contains(&self.greeting_at_s) {
            return Err(format!(
                "greeting_at_s {} is outside 0-60",
                self.greeting_at_s
            ));
        }
        for press in &self.digits {
            if media::dtmf::event_for_key(press.key).is_none() {
                return Err(format!(
                    "key '{}' is not a DTMF key (0-9 * # A-D)",
                    press.key
                ));
            }
            if press.at_s < 0.0 {
                return Err(format!("at_s {} is negative", press.at_s));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_match_with_or_without_plus_and_fall_back_to_default() {
        let plan = CarrierPlan::parse(
            "plan.toml",
            r#"
[default]
action = "busy"

[[number]]
number = "+525512340001"
ring_s = 0.5
digits = [{ at_s = 1.0, key = "1" }]

[[number]]
number = "525512340002"
action = "reject"
code = 404
"#,
        )
        .unwrap();
        assert_eq!(plan.behaviour("525512340001").action, Action::Answer);
        assert_eq!(plan.behaviour("525512340001").digits[0].key, '1');
        assert_eq!(plan.behaviour("+525512340002").code, 404);
        assert_eq!(plan.behaviour("+15550000000").action, Action::Busy);
    }

    #[test]
    fn later_calls_to_a_number_follow_then_and_the_last_repeats() {
        let plan = CarrierPlan::parse(
            "plan.toml",
            r#"
[[number]]
number = "+525512340001"
action = "busy"
then = [{ action = "no_answer" }, { action = "answer", ring_s = 0.2 }]
"#,
        )
        .unwrap();
        let nth = |n| plan.behaviour_at("+525512340001", n).action;
        assert_eq!(
            [nth(0), nth(1), nth(2), nth(3)],
            [
                Action::Busy,
                Action::NoAnswer,
                Action::Answer,
                Action::Answer
            ]
        );
        assert_eq!(plan.behaviour_at("+525512340001", 2).ring_s, 0.2);
    }

    #[test]
    fn bad_plans_say_what_is_wrong() {
        let err = CarrierPlan::parse(
            "p.toml",
            "[[number]]\nnumber = \"1\"\ndigits = [{ at_s = 1, key = \"x\" }]\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("p.toml") && err.contains("number[0]") && err.contains("'x'"),
            "{err}"
        );
        let err = CarrierPlan::parse("p.toml", "[default]\nactoin = \"answer\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("actoin"), "{err}");
    }
}
