//! The agent side of a configuration: `[registrar]`, `[[agent]]`, `[[queue]]`.
//!
//! Agents (gestores) are listed with their SIP password and skills; queues
//! with the skills their calls need, how long a debtor may wait, what they
//! hear meanwhile, and what happens when nobody answers. Every problem is
//! reported with the file, the line and the key, like the rest of the file.

use std::collections::BTreeMap;
use std::path::Path;

use media::prompt::template::Template;
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator};
use crate::acd::{Requirement, Skill};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRegistrar {
    pub(super) realm: Option<String>,
    pub(super) default_expires_s: Option<Spanned<u32>>,
    pub(super) min_expires_s: Option<Spanned<u32>>,
    pub(super) max_expires_s: Option<Spanned<u32>>,
    pub(super) lockout_failures: Option<Spanned<u32>>,
    pub(super) lockout_window_s: Option<Spanned<f64>>,
    pub(super) lockout_s: Option<Spanned<f64>>,
    pub(super) keepalive_s: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgent {
    pub(super) login: Spanned<String>,
    pub(super) name: Option<String>,
    pub(super) password: Spanned<String>,
    #[serde(default = "no_skills")]
    pub(super) skills: Spanned<Vec<String>>,
    #[serde(default = "yes")]
    pub(super) login_on_register: bool,
}

fn yes() -> bool {
    true
}

fn no_skills() -> Spanned<Vec<String>> {
    Spanned::new(0..0, Vec::new())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQueue {
    pub(super) name: Spanned<String>,
    #[serde(default = "no_skills")]
    pub(super) skills: Spanned<Vec<String>>,
    pub(super) wrap_up_s: Option<Spanned<f64>>,
    pub(super) max_wait_s: Option<Spanned<f64>>,
    pub(super) agent_ring_timeout_s: Option<Spanned<f64>>,
    pub(super) announce_every_s: Option<Spanned<f64>>,
    pub(super) hold: Option<Spanned<Vec<String>>>,
    pub(super) position: Option<Spanned<Vec<String>>>,
    pub(super) overflow: Option<Spanned<String>>,
    pub(super) overflow_prompt: Option<Spanned<Vec<String>>>,
    pub(super) voicemail_max_s: Option<Spanned<f64>>,
    pub(super) callback_after_s: Option<Spanned<f64>>,
    pub(super) priority_by: Option<String>,
    #[serde(default)]
    pub(super) priority: BTreeMap<String, i32>,
}

/// Agents, queues and the registrar, validated.
#[derive(Debug, Clone, Default)]
pub struct AgentsConfig {
    pub registrar: RegistrarConfig,
    pub agents: Vec<AgentConfig>,
    pub queues: Vec<QueueConfig>,
}

impl AgentsConfig {
    pub fn queue(&self, name: &str) -> Option<&QueueConfig> {
        self.queues.iter().find(|q| q.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct RegistrarConfig {
    pub realm: String,
    pub default_expires_s: u32,
    pub min_expires_s: u32,
    pub max_expires_s: u32,
    pub lockout_failures: u32,
    pub lockout_window_s: f64,
    pub lockout_s: f64,
    /// OPTIONS to every registered softphone this often (0: never).
    pub keepalive_s: f64,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            realm: "dialer".into(),
            default_expires_s: 3600,
            min_expires_s: 60,
            max_expires_s: 3600,
            lockout_failures: 5,
            lockout_window_s: 300.0,
            lockout_s: 900.0,
            keepalive_s: 30.0,
        }
    }
}

/// An agent (gestor de cobranza).
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// Login and SIP user name.
    pub login: String,
    pub name: String,
    pub password: String,
    pub skills: Vec<Skill>,
    /// Registering a softphone logs the agent in (ready); unregistering logs out.
    pub login_on_register: bool,
}

/// A queue of debtors waiting for an agent.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    pub name: String,
    pub skills: Vec<Requirement>,
    pub wrap_up_s: f64,
    pub max_wait_s: f64,
    /// An agent's softphone rings this long before the next agent is tried.
    pub agent_ring_timeout_s: f64,
    pub announce_every_s: Option<f64>,
    /// Played in a loop while the debtor waits.
    pub hold: Template,
    /// The position announcement; `{position}` is the place in the queue.
    pub position: Template,
    pub overflow: OverflowConfig,
    /// What the debtor hears before a callback, a hang-up or the voicemail beep.
    pub overflow_prompt: Template,
    pub voicemail_max_s: f64,
    pub callback_after_s: f64,
    /// The contact variable naming the debtor's segment (e.g. `segmento`).
    pub priority_by: Option<String>,
    /// Segment → priority (higher first); unlisted segments get 0.
    pub priority: BTreeMap<String, i32>,
}

impl QueueConfig {
    /// A debtor's priority in this queue: the `priority` of the segment
    /// named by their `priority_by` column (0 for other segments).
    pub fn priority_of(&self, vars: &BTreeMap<String, String>) -> i32 {
        self.priority_by
            .as_ref()
            .and_then(|var| vars.get(&var.to_lowercase()).or_else(|| vars.get(var)))
            .and_then(|segment| self.priority.get(segment.trim()))
            .copied()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverflowConfig {
    Queue(String),
    Callback,
    Voicemail,
    Hangup,
}

/// Checks an agent's login, password and skills (from the configuration or
/// `dialer agents add`): the login lowercased and the skills parsed, or
/// the field that is wrong and why.
pub fn check_agent(
    login: &str,
    password: &str,
    skills: &[String],
) -> Result<(String, Vec<Skill>), (&'static str, String)> {
    let login_lower = login.trim().to_lowercase();
    let valid = !login_lower.is_empty()
        && login_lower
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if !valid {
        return Err((
            "login",
            format!("'{login}' is not a SIP user name (letters, digits, '-', '_', '.')"),
        ));
    }
    if password.len() < 8 {
        return Err((
            "password",
            "use at least 8 characters: registrars are brute-forced constantly".into(),
        ));
    }
    let skills = skills
        .iter()
        .map(|s| Skill::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ("skills", e))?;
    Ok((login_lower, skills))
}

impl AgentsConfig {
    /// Adds the agents kept in the store; an agent in the configuration
    /// file wins over a stored one with the same login (named in the result).
    pub fn with_stored(
        &mut self,
        accounts: &[crate::store::AgentAccount],
    ) -> Result<Vec<String>, String> {
        let mut shadowed = Vec::new();
        for a in accounts {
            if self.agents.iter().any(|o| o.login == a.login) {
                shadowed.push(a.login.clone());
                continue;
            }
            let skills: Vec<String> = serde_json::from_str(&a.skills)
                .map_err(|e| format!("stored agent '{}': skills: {e}", a.login))?;
            let (login, skills) =
                check_agent(&a.login, &a.password, &skills).map_err(|(field, reason)| {
                    format!("stored agent '{}': {field}: {reason}", a.login)
                })?;
            self.agents.push(AgentConfig {
                login,
                name: a.name.clone(),
                password: a.password.clone(),
                skills,
                login_on_register: a.login_on_register,
            });
        }
        Ok(shadowed)
    }
}

impl Validator<'_> {
    pub(super) fn agents(
        &self,
        registrar: Option<RawRegistrar>,
        agents: Vec<RawAgent>,
        queues: Vec<RawQueue>,
        _base: &Path,
    ) -> Result<AgentsConfig, ConfigError> {
        let registrar = self.registrar(registrar.unwrap_or_default())?;
        let mut out_agents: Vec<AgentConfig> = Vec::new();
        for (i, a) in agents.into_iter().enumerate() {
            let key = |field: &str| format!("agent[{i}].{field}");
            let checked = check_agent(a.login.get_ref(), a.password.get_ref(), a.skills.get_ref());
            let (login, skills) = checked.map_err(|(field, reason)| match field {
                "login" => self.invalid(&a.login, &key(field), reason),
                "password" => self.invalid(&a.password, &key(field), reason),
                _ => self.invalid(&a.skills, &key(field), reason),
            })?;
            if out_agents.iter().any(|o| o.login == login) {
                return Err(self.invalid(
                    &a.login,
                    &key("login"),
                    format!("another agent already logs in as '{login}'"),
                ));
            }
            out_agents.push(AgentConfig {
                name: a.name.unwrap_or_else(|| login.clone()),
                login,
                password: a.password.into_inner(),
                skills,
                login_on_register: a.login_on_register,
            });
        }

        let names: Vec<String> = queues
            .iter()
            .map(|q| q.name.get_ref().trim().to_owned())
            .collect();
        let overflow_lines: Vec<usize> = queues
            .iter()
            .map(|q| match &q.overflow {
                Some(o) => super::line_of(self.text, o.span().start),
                None => super::line_of(self.text, q.name.span().start),
            })
            .collect();
        let mut out_queues: Vec<QueueConfig> = Vec::new();
        for (i, q) in queues.into_iter().enumerate() {
            out_queues.push(self.queue(i, q, &names, &out_queues)?);
        }
        // Overflow chains must end: queue A -> B -> A would pass a debtor around forever.
        for (i, q) in out_queues.iter().enumerate() {
            let mut seen = vec![q.name.as_str()];
            let mut at = q;
            while let OverflowConfig::Queue(next) = &at.overflow {
                if seen.contains(&next.as_str()) {
                    return Err(ConfigError::Invalid {
                        path: self.path.to_owned(),
                        line: overflow_lines[i],
                        key: format!("queue[{i}].overflow"),
                        reason: format!(
                            "the overflow chain {} -> {next} comes back to itself",
                            seen.join(" -> ")
                        ),
                    });
                }
                seen.push(next);
                at = out_queues
                    .iter()
                    .find(|o| &o.name == next)
                    .expect("checked in queue(): overflow targets exist");
            }
        }
        Ok(AgentsConfig {
            registrar,
            agents: out_agents,
            queues: out_queues,
        })
    }

    fn registrar(&self, r: RawRegistrar) -> Result<RegistrarConfig, ConfigError> {
        let d = RegistrarConfig::default();
        let count = |v: &Option<Spanned<u32>>, key: &str, default: u32, min: u32, max: u32| {
            let Some(v) = v else { return Ok(default) };
            let value = *v.get_ref();
            if !(min..=max).contains(&value) {
                return Err(self.invalid(v, key, format!("{value} is outside {min}-{max}")));
            }
            Ok(value)
        };
        let secs = |v: &Option<Spanned<f64>>, key: &str, default: f64, min: f64, max: f64| match v {
            Some(v) => self.seconds(v, key, min, max),
            None => Ok(default),
        };
        let out = RegistrarConfig {
            realm: r.realm.unwrap_or(d.realm),
            default_expires_s: count(
                &r.default_expires_s,
                "registrar.default_expires_s",
                d.default_expires_s,
                10,
                86_400,
            )?,
            min_expires_s: count(
                &r.min_expires_s,
                "registrar.min_expires_s",
                d.min_expires_s,
                1,
                86_400,
            )?,
            max_expires_s: count(
                &r.max_expires_s,
                "registrar.max_expires_s",
                d.max_expires_s,
                10,
                86_400,
            )?,
            lockout_failures: count(
                &r.lockout_failures,
                "registrar.lockout_failures",
                d.lockout_failures,
                1,
                1000,
            )?,
            lockout_window_s: secs(
                &r.lockout_window_s,
                "registrar.lockout_window_s",
                d.lockout_window_s,
                1.0,
                86_400.0,
            )?,
            lockout_s: secs(
                &r.lockout_s,
                "registrar.lockout_s",
                d.lockout_s,
                1.0,
                604_800.0,
            )?,
            keepalive_s: secs(
                &r.keepalive_s,
                "registrar.keepalive_s",
                d.keepalive_s,
                0.0,
                3600.0,
            )?,
        };
        let at_registrar = |v: &Option<Spanned<u32>>| v.as_ref().map_or(0, |v| v.span().start);
        let line = |offset| super::line_of(self.text, offset);
        let clash = |key: &str, offset: usize, reason: String| ConfigError::Invalid {
            path: self.path.to_owned(),
            line: line(offset),
            key: key.into(),
            reason,
        };
        if out.min_expires_s > out.max_expires_s {
            return Err(clash(
                "registrar.min_expires_s",
                at_registrar(&r.min_expires_s),
                format!("is above registrar.max_expires_s ({})", out.max_expires_s),
            ));
        }
        if !(out.min_expires_s..=out.max_expires_s).contains(&out.default_expires_s) {
            return Err(clash(
                "registrar.default_expires_s",
                at_registrar(&r.default_expires_s),
                format!(
                    "{} is outside min_expires_s-max_expires_s ({}-{})",
                    out.default_expires_s, out.min_expires_s, out.max_expires_s
                ),
            ));
        }
        if out.realm.is_empty()
            || out
                .realm
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err(clash(
                "registrar.realm",
                0,
                format!(
                    "'{}' cannot go in a digest challenge (no quotes, backslashes or control characters)",
                    out.realm
                ),
            ));
        }
        if out.keepalive_s > 0.0 && out.keepalive_s < 1.0 {
            return Err(clash(
                "registrar.keepalive_s",
                r.keepalive_s.as_ref().map_or(0, |v| v.span().start),
                "0 (never) or at least 1 second".into(),
            ));
        }
        Ok(out)
    }

    fn queue(
        &self,
        index: usize,
        q: RawQueue,
        names: &[String],
        earlier: &[QueueConfig],
    ) -> Result<QueueConfig, ConfigError> {
        let key = |field: &str| format!("queue[{index}].{field}");
        let name = q.name.get_ref().trim().to_owned();
        // The name goes into reports and voicemail file names.
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.".contains(c))
            && !name.starts_with('.');
        if !valid {
            return Err(self.invalid(
                &q.name,
                &key("name"),
                format!("'{name}' is not a queue name (letters, digits, '-', '_', '.')"),
            ));
        }
        if !q.priority.is_empty() && q.priority_by.is_none() {
            return Err(self.invalid(
                &q.name,
                &key("priority"),
                "priority needs priority_by: the contact column that names the segment".into(),
            ));
        }
        if earlier.iter().any(|e| e.name == name) {
            return Err(self.invalid(
                &q.name,
                &key("name"),
                format!("another queue is already named '{name}'"),
            ));
        }
        let mut skills = Vec::new();
        for s in q.skills.get_ref() {
            skills.push(
                Requirement::parse(s).map_err(|e| self.invalid(&q.skills, &key("skills"), e))?,
            );
        }
        let secs = |v: &Option<Spanned<f64>>, field: &str, default: f64, min: f64, max: f64| match v
        {
            Some(v) => self.seconds(v, &key(field), min, max),
            None => Ok(default),
        };
        let template = |v: &Option<Spanned<Vec<String>>>, field: &str, default: &[&str]| match v {
            Some(parts) => Template::parse(parts.get_ref()).map_err(|e| {
                self.invalid(
                    parts,
                    &key(field),
                    format!("part {}: {}", e.index + 1, e.reason),
                )
            }),
            None => Ok(Template::parse(default).expect("built-in templates parse")),
        };
        let overflow = match &q.overflow {
            None => OverflowConfig::Hangup,
            Some(text) => match text.get_ref().trim() {
                "hangup" => OverflowConfig::Hangup,
                "callback" => OverflowConfig::Callback,
                "voicemail" => OverflowConfig::Voicemail,
                other => match other.strip_prefix("queue:") {
                    Some(target) if names.iter().any(|n| n == target.trim()) => {
                        if target.trim() == name {
                            return Err(self.invalid(
                                text,
                                &key("overflow"),
                                "a queue cannot overflow into itself".into(),
                            ));
                        }
                        OverflowConfig::Queue(target.trim().to_owned())
                    }
                    Some(target) => {
                        return Err(self.invalid(
                            text,
                            &key("overflow"),
                            format!(
                                "no [[queue]] is named '{target}' (there are: {})",
                                names.join(", ")
                            ),
                        ));
                    }
                    None => {
                        return Err(self.invalid(
                            text,
                            &key("overflow"),
                            format!("'{other}' is not hangup, callback, voicemail or queue:NAME"),
                        ));
                    }
                },
            },
        };
        let announce_every_s = match &q.announce_every_s {
            Some(v) if *v.get_ref() == 0.0 => None,
            Some(v) => Some(self.seconds(v, &key("announce_every_s"), 5.0, 3600.0)?),
            None => Some(30.0),
        };
        let default_overflow: &[&str] = match overflow {
            OverflowConfig::Voicemail => &["file:deje-mensaje"],
            OverflowConfig::Callback => &["file:devolveremos-llamada"],
            _ => &["file:sin-asesores"],
        };
        Ok(QueueConfig {
            skills,
            wrap_up_s: secs(&q.wrap_up_s, "wrap_up_s", 15.0, 0.0, 3600.0)?,
            max_wait_s: secs(&q.max_wait_s, "max_wait_s", 120.0, 1.0, 7200.0)?,
            agent_ring_timeout_s: secs(
                &q.agent_ring_timeout_s,
                "agent_ring_timeout_s",
                15.0,
                1.0,
                120.0,
            )?,
            announce_every_s,
            hold: template(&q.hold, "hold", &["file:espera"])?,
            position: template(
                &q.position,
                "position",
                &["file:posicion-fila", "say:number:{position}"],
            )?,
            overflow_prompt: template(&q.overflow_prompt, "overflow_prompt", default_overflow)?,
            overflow,
            voicemail_max_s: secs(&q.voicemail_max_s, "voicemail_max_s", 60.0, 5.0, 600.0)?,
            callback_after_s: secs(
                &q.callback_after_s,
                "callback_after_s",
                3600.0,
                0.0,
                30.0 * 86_400.0,
            )?,
            priority_by: q.priority_by,
            priority: q.priority,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{Config, OverflowConfig};

    const BASE: &str = r#"
[database]
path = "dialer.db"

[[trunk]]
name = "carrier"
address = "127.0.0.1:5070"
caller_id = "+525512345678"

[campaign]
name = "recordatorio"
contacts = "contacts.csv"
prompt = "prompts/es-MX/recordatorio.wav"
trunk = "carrier"
"#;

    fn parse(extra: &str) -> Result<Config, String> {
        Config::parse(Path::new("/etc/dialer/run.toml"), &format!("{BASE}{extra}"))
            .map_err(|e| e.to_string())
    }

    #[test]
    fn agents_and_queues_with_their_defaults() {
        let c = parse(
            r#"
[[agent]]
login = "Ana"
password = "secreto-largo"
skills = ["cobranza-temprana:8", "ingles"]

[[queue]]
name = "temprana"
skills = ["cobranza-temprana:5"]
overflow = "queue:general"

[[queue]]
name = "general"
overflow = "voicemail"
"#,
        )
        .unwrap();
        let a = &c.agents.agents[0];
        assert_eq!(a.login, "ana", "logins are case-insensitive");
        assert_eq!(a.name, "ana");
        assert_eq!(a.skills[1].level, 5);
        assert!(a.login_on_register);
        let q = c.agents.queue("temprana").unwrap();
        assert_eq!(q.overflow, OverflowConfig::Queue("general".into()));
        assert_eq!(
            (q.wrap_up_s, q.max_wait_s, q.agent_ring_timeout_s),
            (15.0, 120.0, 15.0)
        );
        assert_eq!(q.announce_every_s, Some(30.0));
        assert_eq!(q.hold.files().collect::<Vec<_>>(), ["espera"]);
        let g = c.agents.queue("general").unwrap();
        assert_eq!(
            g.overflow_prompt.files().collect::<Vec<_>>(),
            ["deje-mensaje"]
        );
        assert_eq!(c.agents.registrar.lockout_failures, 5);
        assert!(c.api.is_none());
    }

    #[test]
    fn mistakes_name_their_key_and_line() {
        let err = parse("[[agent]]\nlogin = \"ana\"\npassword = \"corta\"\n").unwrap_err();
        assert!(
            err.contains("`agent[0].password`") && err.contains("8 characters"),
            "{err}"
        );

        let err = parse(
            "[[agent]]\nlogin = \"ana\"\npassword = \"secreto-largo\"\n[[agent]]\nlogin = \"ANA\"\npassword = \"secreto-largo\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("`agent[1].login`") && err.contains("already"),
            "{err}"
        );

        let err = parse(
            "[[agent]]\nlogin = \"ana\"\npassword = \"secreto-largo\"\nskills = [\"ingles:11\"]\n",
        )
        .unwrap_err();
        assert!(
            err.contains("`agent[0].skills`") && err.contains("ingles:11"),
            "{err}"
        );

        let err = parse("[[queue]]\nname = \"a\"\noverflow = \"queue:nadie\"\n").unwrap_err();
        assert!(
            err.contains("`queue[0].overflow`") && err.contains("nadie"),
            "{err}"
        );
        assert!(err.contains(":17:"), "the line of the key: {err}");

        let err = parse("[[queue]]\nname = \"a\"\noverflow = \"colgar\"\n").unwrap_err();
        assert!(
            err.contains("hangup, callback, voicemail or queue:NAME"),
            "{err}"
        );

        let err = parse(
            "[[queue]]\nname = \"a\"\noverflow = \"queue:b\"\n[[queue]]\nname = \"b\"\noverflow = \"queue:a\"\n",
        )
        .unwrap_err();
        assert!(
            err.contains("comes back to itself") && err.contains("`queue[0].overflow`"),
            "{err}"
        );

        let err = parse("[[queue]]\nname = \"a\"\nhold = [\"musica\"]\n").unwrap_err();
        assert!(err.contains("`queue[0].hold`"), "{err}");

        let err = parse("[registrar]\nmin_expires_s = 7200\n").unwrap_err();
        assert!(err.contains("`registrar.min_expires_s`"), "{err}");

        let err = parse("[api]\nbind = \"localhost\"\n").unwrap_err();
        assert!(err.contains("`api.bind`"), "{err}");

        let err = parse("[api]\nbind = \"127.0.0.1:8080\"\ntoken = \"corto\"\n").unwrap_err();
        assert!(err.contains("`api.token`") && err.contains("16"), "{err}");

        let err = parse("[[queue]]\nname = \"../etc\"\n").unwrap_err();
        assert!(err.contains("`queue[0].name`"), "{err}");

        let err = parse("[[queue]]\nname = \"a\"\npriority = { mora_tardia = 10 }\n").unwrap_err();
        assert!(err.contains("priority_by"), "{err}");

        let err = parse("[registrar]\ndefault_expires_s = 30\n").unwrap_err();
        assert!(err.contains("`registrar.default_expires_s`"), "{err}");

        let err = parse("[registrar]\nrealm = \"mi \\\"realm\\\"\"\n").unwrap_err();
        assert!(err.contains("`registrar.realm`"), "{err}");

        let err = parse("[registrar]\nkeepalive_s = 0.5\n").unwrap_err();
        assert!(err.contains("`registrar.keepalive_s`"), "{err}");
    }
}
