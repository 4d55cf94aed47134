//! The TOML configuration of a campaign run: store, SIP, media, trunks, campaign.
//!
//! Every key is documented in `docs/configuration.md`. Unknown keys are
//! errors (a typo must not silently fall back to a default), and every error
//! names the file, the line and the key, so an operator can fix it without
//! reading code. Relative paths are taken from the config file's folder.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use media::Codec;
use serde::Deserialize;
use toml::Spanned;

pub use agents::{
    AgentConfig, AgentsConfig, OverflowConfig, QueueConfig, RegistrarConfig, check_agent,
};
pub use message::{MessageConfig, SayWith, ScriptConfig, TtsConfig, TtsEngineConfig};
use raw::{RawConfig, RawTrunk};

pub use amd::{AmdConfig, OnMachine, Unsure};

mod agents;
mod amd;
mod message;
mod raw;

/// A whole configuration file, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub database: DatabaseConfig,
    pub sip: SipConfig,
    pub media: MediaConfig,
    pub trunks: Vec<TrunkConfig>,
    pub campaign: CampaignConfig,
    pub tts: TtsConfig,
    /// Agents, queues and the registrar (empty when the campaign has no agents).
    pub agents: AgentsConfig,
    /// Where the HTTP API (agent states, screen pops, dispositions) listens.
    pub api: Option<ApiConfig>,
    pub compliance: ComplianceConfig,
    pub pacing: PacingConfig,
    /// When contacts are called again; none: each contact once.
    pub retry: Option<crate::campaign::retry::RetryPolicy>,
    /// Answering-machine detection; none: every answer is taken for a person.
    pub amd: Option<AmdConfig>,
}

/// How a campaign paces its calls (docs/pacing.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PacingMode {
    /// No agents: as fast as the trunk's channels and rate allow.
    Blaster,
    /// An agent sees the debtor and accepts, then the call is placed and
    /// the debtor reaches that agent.
    Preview,
    /// One call per ready agent.
    Progressive,
    /// `lines_per_agent` calls per ready agent.
    Power,
    /// As many calls as keep abandons under `abandon_cap`.
    Predictive,
}

impl PacingMode {
    /// Places more calls than there are free agents: some debtors find nobody.
    pub fn overdials(self) -> bool {
        matches!(self, PacingMode::Power | PacingMode::Predictive)
    }

    pub fn name(self) -> &'static str {
        match self {
            PacingMode::Blaster => "blaster",
            PacingMode::Preview => "preview",
            PacingMode::Progressive => "progressive",
            PacingMode::Power => "power",
            PacingMode::Predictive => "predictive",
        }
    }
}

#[derive(Debug, Clone)]
pub struct PacingConfig {
    pub mode: PacingMode,
    /// The queue whose agents take the answered debtors (agent modes).
    pub queue: Option<String>,
    pub lines_per_agent: f64,
    pub abandon_cap: f64,
    /// What the cap holds over: the last 30 days by default.
    pub abandon_window: AbandonWindow,
    /// Preview: the call is placed this long after the agent saw the
    /// debtor, if they neither accepted nor skipped (0: wait for them).
    pub preview_timeout_s: f64,
}

/// The span the abandon cap holds over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AbandonWindow {
    /// These many hours back from now (720: 30 days; 24: a day).
    Rolling { hours: f64 },
    /// Since the last midnight in this zone (a calendar day's cap, as some
    /// regulators and clients count it).
    Day { zone: chrono_tz::Tz },
}

impl AbandonWindow {
    /// Where the window starts, at `now`.
    pub fn start(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match *self {
            AbandonWindow::Rolling { hours } => {
                now - chrono::Duration::milliseconds((hours * 3_600_000.0) as i64)
            }
            AbandonWindow::Day { zone } => {
                let local = now.with_timezone(&zone).date_naive();
                // The day's first instant there (midnight, or the first
                // instant after it on a day whose midnight a clock change
                // skips).
                (0..=3)
                    .find_map(|h| {
                        local
                            .and_hms_opt(h, 0, 0)
                            .and_then(|t| t.and_local_timezone(zone).earliest())
                    })
                    .map_or(now, |t| t.with_timezone(&chrono::Utc))
            }
        }
    }

    /// How the run's summary names it: "the last 30 days", "today in ...".
    pub fn describe(&self) -> String {
        match *self {
            AbandonWindow::Rolling { hours } if hours % 24.0 == 0.0 => {
                format!("the last {} days", hours / 24.0)
            }
            AbandonWindow::Rolling { hours } => format!("the last {hours} h"),
            AbandonWindow::Day { zone } => format!("today in {zone}"),
        }
    }
}

impl PacingConfig {
    /// Seconds a debtor who answered may wait for an agent before the call
    /// is abandoned (47 CFR 64.1200(a)(7)(i): two seconds after the greeting).
    pub const GRACE_S: f64 = 2.0;
}

/// The checks before every dial (see docs/compliance.md).
#[derive(Debug, Clone)]
pub struct ComplianceConfig {
    /// False only for lab trunks and fictitious numbers: no hours, no caps.
    pub enabled: bool,
    /// The list's column with the debtor's IANA time zone, if it has one.
    pub timezone_column: Option<String>,
    /// The campaign's own caps per debt, besides the law's.
    pub caps: Vec<crate::compliance::Cap>,
    /// After an abandoned call, no call from a campaign that may abandon
    /// this many hours (0: no wait).
    pub after_abandon_h: f64,
}

/// The least a call may ring before the dialer gives up on it (47 CFR
/// 64.1200(a)(6): 15 seconds or four rings).
pub const MIN_RING_S: f64 = 15.0;

/// Column names read as the debtor's time zone when
/// `compliance.timezone_column` is not set.
pub const TIMEZONE_COLUMNS: [&str; 5] = [
    "zona_horaria",
    "huso_horario",
    "timezone",
    "time_zone",
    "tz",
];

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub bind: SocketAddr,
    /// Bearer token for the supervisors' views; none: they are closed.
    pub token: Option<String>,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// SQLite file, created and migrated on start.
    pub path: PathBuf,
}

#[derive(Debug, Clone)]
pub struct SipConfig {
    /// Where SIP listens, UDP and TCP on the same port.
    pub bind: SocketAddr,
    /// The address put in Via/Contact when `bind` is a wildcard or behind NAT.
    pub advertised_ip: Option<IpAddr>,
    pub user_agent: String,
}

#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// Address RTP sockets bind to and SDP announces.
    pub ip: IpAddr,
    pub rtp_port_min: u16,
    pub rtp_port_max: u16,
    /// Run the media threads under `SCHED_FIFO` at this priority (1-99);
    /// `None`: the ordinary policy.
    pub realtime_priority: Option<u8>,
}

/// SIP transport toward a trunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    Udp,
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// A carrier trunk calls go out through.
#[derive(Debug, Clone)]
pub struct TrunkConfig {
    pub name: String,
    /// `host:port` as written; resolved when the run starts.
    pub address: String,
    pub transport: Transport,
    pub credentials: Option<Credentials>,
    /// E.164 number presented as caller ID (From and P-Asserted-Identity).
    pub caller_id: String,
    pub caller_name: Option<String>,
    pub max_channels: u32,
    pub max_cps: f64,
    /// Its share of a campaign's calls among the campaign's trunks.
    pub weight: f64,
    pub codecs: Vec<Codec>,
    /// Prepended to the dialed number (tech prefixes some carriers require).
    pub dial_prefix: String,
    /// Dial `52155…` instead of `+52155…`.
    pub strip_plus: bool,
    /// Give up on an INVITE that got no response at all (not even 100) in this long.
    pub response_timeout_s: f64,
    /// How this trunk delivers key presses; presses arriving other ways are ignored.
    pub dtmf: Vec<media::dtmf::DtmfSource>,
    /// An answered call silent (no RTP) this long is hung up; 0 = never.
    pub rtp_timeout_s: f64,
    /// Where the audio goes when the far end's packets come from elsewhere
    /// than its SDP said (a NAT).
    pub symmetric_rtp: media::rtp::Latch,
}

#[derive(Debug, Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone)]
pub struct CampaignConfig {
    pub name: String,
    pub contacts: PathBuf,
    pub script: ScriptConfig,
    /// The first of `trunks`.
    pub trunk: String,
    /// The trunks the campaign dials through, shared by their weights.
    pub trunks: Vec<String>,
    pub ring_timeout_s: f64,
    /// ISO 3166 region for numbers written without a country code.
    pub default_region: phonenumber::country::Id,
    /// After the prompt, how long to wait for (more) key presses before hanging up.
    pub wait_for_digits_s: f64,
    /// Hard limit on an answered call's length.
    pub max_call_s: f64,
    /// Where answered calls are recorded (`record = true`), else `None`.
    pub recordings: Option<PathBuf>,
    /// Files of numbers this campaign must not call.
    pub do_not_call: Vec<PathBuf>,
    /// A numeric column, highest first (the most days past due).
    pub order_by: Option<String>,
    /// A column naming each contact's segment; segments go in turns by
    /// `segment_weights` (1 when not named).
    pub segment_by: Option<String>,
    pub segment_weights: std::collections::BTreeMap<String, f64>,
}

/// What is wrong with a configuration file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}:{line}: `{key}`: {reason}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        reason: String,
    },
}

impl Config {
    /// Reads and validates a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Validates configuration text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_owned(),
            message: syntax_message(&e, text),
        })?;
        let v = Validator { path, text };
        let base = path.parent().unwrap_or(Path::new("."));
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };

        let sip = SipConfig {
            bind: v.parse(&raw.sip.bind, "sip.bind", "an address like 0.0.0.0:5060")?,
            advertised_ip: match &raw.sip.advertised_ip {
                Some(ip) => Some(v.parse(ip, "sip.advertised_ip", "an IP address")?),
                None => None,
            },
            user_agent: raw.sip.user_agent,
        };
        if sip.bind.ip().is_unspecified() && sip.advertised_ip.is_none() {
            return Err(v.invalid(
                &raw.sip.bind,
                "sip.bind",
                format!(
                    "{} listens on every address; set sip.advertised_ip to the address trunks reach us at",
                    sip.bind
                ),
            ));
        }
        let media = MediaConfig {
            ip: v.parse(&raw.media.ip, "media.ip", "an IP address")?,
            rtp_port_min: *raw.media.rtp_port_min.get_ref(),
            rtp_port_max: *raw.media.rtp_port_max.get_ref(),
            realtime_priority: match &raw.media.realtime_priority {
                Some(p) => Some(u8::try_from(*p.get_ref()).ok().filter(|p| (1..=99).contains(p)).ok_or_else(
                    || v.invalid(p, "media.realtime_priority", format!(
                        "{} is not a SCHED_FIFO priority (1-99); leave the key out for the ordinary policy",
                        p.get_ref()
                    )),
                )?),
                None => None,
            },
        };
        if media.ip.is_unspecified() {
            return Err(v.invalid(
                &raw.media.ip,
                "media.ip",
                "SDP must announce a real address, not 0.0.0.0 or ::".into(),
            ));
        }
        if media.rtp_port_max < media.rtp_port_min + 1 {
            return Err(v.invalid(
                &raw.media.rtp_port_max,
                "media.rtp_port_max",
                format!(
                    "must be above media.rtp_port_min ({}) to leave room for an RTP port pair",
                    media.rtp_port_min
                ),
            ));
        }

        let mut trunks: Vec<TrunkConfig> = Vec::new();
        if raw.trunks.get_ref().is_empty() {
            return Err(v.invalid(
                &raw.trunks,
                "trunk",
                "at least one [[trunk]] is needed".into(),
            ));
        }
        for (i, t) in raw.trunks.into_inner().into_iter().enumerate() {
            trunks.push(v.trunk(i, t, &trunks)?);
        }

        let c = raw.campaign;
        if c.name.get_ref().trim().is_empty() {
            return Err(v.invalid(&c.name, "campaign.name", "must not be empty".into()));
        }
        let named: Vec<&Spanned<String>> = match (&c.trunk, &c.trunks) {
            (Some(one), None) => vec![one],
            (None, Some(many)) if !many.get_ref().is_empty() => many.get_ref().iter().collect(),
            (Some(one), Some(_)) => {
                return Err(v.invalid(
                    one,
                    "campaign.trunk",
                    "give either `trunk` (one) or `trunks` (several), not both".into(),
                ));
            }
            (None, Some(many)) => {
                return Err(v.invalid(many, "campaign.trunks", "names no trunk".into()));
            }
            (None, None) => {
                return Err(v.invalid(
                    &c.name,
                    "campaign.trunk",
                    "missing: name the [[trunk]] to dial through (or several with `trunks`)".into(),
                ));
            }
        };
        let key = if c.trunks.is_some() {
            "campaign.trunks"
        } else {
            "campaign.trunk"
        };
        let mut campaign_trunks: Vec<String> = Vec::new();
        for name in named {
            if !trunks.iter().any(|t| &t.name == name.get_ref()) {
                let names: Vec<&str> = trunks.iter().map(|t| t.name.as_str()).collect();
                return Err(v.invalid(
                    name,
                    key,
                    format!(
                        "no [[trunk]] is named '{}' (there are: {})",
                        name.get_ref(),
                        names.join(", ")
                    ),
                ));
            }
            if campaign_trunks.contains(name.get_ref()) {
                return Err(v.invalid(name, key, format!("'{}' is named twice", name.get_ref())));
            }
            campaign_trunks.push(name.get_ref().clone());
        }
        let region = c.default_region.get_ref();
        let default_region =
            phonenumber::country::Id::from_str(&region.to_uppercase()).map_err(|_| {
                v.invalid(
                    &c.default_region,
                    "campaign.default_region",
                    format!("'{region}' is not an ISO 3166 region code like MX, CO, PE, CL, US"),
                )
            })?;
        let script = v.script(&c, base)?;
        let database_path = resolve(&raw.database.path);
        let tts = v.tts(raw.tts, base, &database_path)?;
        let agents = v.agents(raw.registrar, raw.agents, raw.queues, base)?;
        let api = match &raw.api {
            Some(api) => Some(ApiConfig {
                bind: v.parse(&api.bind, "api.bind", "an address like 127.0.0.1:8080")?,
                token: match &api.token {
                    Some(token) if token.get_ref().trim().len() < 16 => {
                        return Err(v.invalid(
                            token,
                            "api.token",
                            "use at least 16 characters: it opens every debtor's data".into(),
                        ));
                    }
                    Some(token) => Some(token.get_ref().trim().to_owned()),
                    None => None,
                },
            }),
            None => None,
        };
        let compliance = v.compliance(&raw.compliance, &c.ring_timeout_s)?;
        let pacing = v.pacing(raw.pacing.as_ref(), &agents)?;
        let retry = match &raw.retry {
            Some(r) => Some(v.retry(r)?),
            None => None,
        };
        let amd = v.amd(raw.amd)?;
        let mut segment_weights = std::collections::BTreeMap::new();
        for (segment, weight) in &c.segment_weights {
            if !(*weight.get_ref() > 0.0 && *weight.get_ref() <= 1000.0) {
                return Err(v.invalid(
                    weight,
                    &format!("campaign.segment_weights.{segment}"),
                    format!(
                        "{} is not a weight between 0 and 1000 (more: dialed more often)",
                        weight.get_ref()
                    ),
                ));
            }
            segment_weights.insert(segment.trim().to_string(), *weight.get_ref());
        }
        if c.segment_by.is_none()
            && let Some((segment, weight)) = c.segment_weights.iter().next()
        {
            return Err(v.invalid(
                weight,
                &format!("campaign.segment_weights.{segment}"),
                "weights need campaign.segment_by, the column that names each contact's segment"
                    .into(),
            ));
        }
        let campaign = CampaignConfig {
            do_not_call: c.do_not_call.iter().map(|p| resolve(p)).collect(),
            order_by: c
                .order_by
                .as_ref()
                .map(|o| o.get_ref().trim().to_lowercase()),
            segment_by: c
                .segment_by
                .as_ref()
                .map(|o| o.get_ref().trim().to_lowercase()),
            segment_weights,
            script,
            name: c.name.into_inner(),
            contacts: resolve(&c.contacts),
            trunk: campaign_trunks[0].clone(),
            trunks: campaign_trunks,
            ring_timeout_s: v.seconds(&c.ring_timeout_s, "campaign.ring_timeout_s", 1.0, 600.0)?,
            default_region,
            wait_for_digits_s: v.seconds(
                &c.wait_for_digits_s,
                "campaign.wait_for_digits_s",
                0.0,
                120.0,
            )?,
            max_call_s: v.seconds(&c.max_call_s, "campaign.max_call_s", 1.0, 86_400.0)?,
            recordings: c.record.then(|| match &c.recordings {
                Some(dir) => resolve(dir),
                None => database_path
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join("recordings"),
            }),
        };
        Ok(Config {
            path: path.to_owned(),
            database: DatabaseConfig {
                path: database_path,
            },
            sip,
            media,
            trunks,
            campaign,
            tts,
            agents,
            api,
            compliance,
            pacing,
            retry,
            amd,
        })
    }

    /// The trunks the campaign dials through, in the order named.
    pub fn campaign_trunks(&self) -> Vec<&TrunkConfig> {
        self.campaign
            .trunks
            .iter()
            .map(|name| {
                self.trunks
                    .iter()
                    .find(|t| &t.name == name)
                    .expect("validated in Config::parse: campaign.trunks name trunks")
            })
            .collect()
    }

    /// The (first) trunk the campaign dials through.
    pub fn campaign_trunk(&self) -> &TrunkConfig {
        self.trunks
            .iter()
            .find(|t| t.name == self.campaign.trunk)
            .expect("validated in Config::parse: campaign.trunk names a trunk")
    }
}

struct Validator<'a> {
    path: &'a Path,
    text: &'a str,
}

impl Validator<'_> {
    fn retry(
        &self,
        raw: &raw::RawRetry,
    ) -> Result<crate::campaign::retry::RetryPolicy, ConfigError> {
        use crate::campaign::retry::{RetryPolicy, Rule};
        let rule = |r: &Option<Spanned<raw::RawRule>>,
                    key: &str|
         -> Result<Option<Rule>, ConfigError> {
            let Some(r) = r else { return Ok(None) };
            let raw::RawRule { after_s, max } = *r.get_ref();
            if !(0.0..=30.0 * 86_400.0).contains(&after_s) {
                return Err(self.invalid(
                    r,
                    &format!("retry.{key}.after_s"),
                    format!("{after_s} is not between 0 and 2592000 seconds (30 days)"),
                ));
            }
            if max == 0 || max > 50 {
                return Err(self.invalid(
                    r,
                    &format!("retry.{key}.max"),
                    format!("{max} is not between 1 and 50 (leave retry.{key} out for no retries)"),
                ));
            }
            Ok(Some(Rule { after_s, max }))
        };
        let max_attempts = match &raw.max_attempts {
            Some(m) if *m.get_ref() == 0 => {
                return Err(self.invalid(
                    m,
                    "retry.max_attempts",
                    "0 would never call; use at least 1".into(),
                ));
            }
            Some(m) => *m.get_ref(),
            None => 5,
        };
        let within_run_s = match &raw.within_run_s {
            Some(w) => self.seconds(w, "retry.within_run_s", 0.0, 86_400.0)?,
            None => 3600.0,
        };
        let callback_agent_wait_s = match &raw.callback_agent_wait_s {
            Some(w) => self.seconds(w, "retry.callback_agent_wait_s", 0.0, 3_600.0)?,
            None => 120.0,
        };
        Ok(RetryPolicy {
            busy: rule(&raw.busy, "busy")?,
            no_answer: rule(&raw.no_answer, "no_answer")?,
            machine: rule(&raw.machine, "machine")?,
            failed: rule(&raw.failed, "failed")?,
            abandoned: rule(&raw.abandoned, "abandoned")?,
            max_attempts,
            within_run_s,
            callbacks: raw.callbacks,
            callback_agent_wait_s,
        })
    }

    fn pacing(
        &self,
        raw: Option<&raw::RawPacing>,
        agents: &AgentsConfig,
    ) -> Result<PacingConfig, ConfigError> {
        let Some(raw) = raw else {
            return Ok(PacingConfig {
                mode: PacingMode::Blaster,
                queue: None,
                lines_per_agent: 2.0,
                abandon_cap: 0.03,
                abandon_window: AbandonWindow::Rolling { hours: 720.0 },
                preview_timeout_s: 30.0,
            });
        };
        let preview_timeout_s = match &raw.preview_timeout_s {
            Some(t) => self.seconds(t, "pacing.preview_timeout_s", 0.0, 3600.0)?,
            None => 30.0,
        };
        let mode = *raw.mode.get_ref();
        let lines_per_agent = match &raw.lines_per_agent {
            Some(l) if !(1.0..=10.0).contains(l.get_ref()) => {
                return Err(self.invalid(
                    l,
                    "pacing.lines_per_agent",
                    format!("{} is not between 1 and 10", l.get_ref()),
                ));
            }
            Some(l) => *l.get_ref(),
            None => 2.0,
        };
        let abandon_cap = match &raw.abandon_cap {
            Some(c) if !(0.001..=0.1).contains(c.get_ref()) => {
                return Err(self.invalid(
                    c,
                    "pacing.abandon_cap",
                    format!(
                        "{} is not a share between 0.001 and 0.1 (the law's cap is 0.03, 3%)",
                        c.get_ref()
                    ),
                ));
            }
            Some(c) => *c.get_ref(),
            None => 0.03,
        };
        let abandon_window_h = match &raw.abandon_window_h {
            Some(h) if !(1.0..=720.0).contains(h.get_ref()) => {
                return Err(self.invalid(
                    h,
                    "pacing.abandon_window_h",
                    format!(
                        "{} is not between 1 and 720 hours (24: a day; 720: 30 days)",
                        h.get_ref()
                    ),
                ));
            }
            Some(h) => *h.get_ref(),
            None => 720.0,
        };
        let abandon_window = match (&raw.abandon_window_day, &raw.abandon_window_h) {
            (Some(zone), Some(_)) => {
                return Err(self.invalid(
                    zone,
                    "pacing.abandon_window_day",
                    "give abandon_window_day (a calendar day) or abandon_window_h (hours back), \
                     not both"
                        .into(),
                ));
            }
            (Some(zone), None) => AbandonWindow::Day {
                zone: self.parse(
                    zone,
                    "pacing.abandon_window_day",
                    "a time zone (IANA, e.g. America/Mexico_City)",
                )?,
            },
            (None, _) => AbandonWindow::Rolling {
                hours: abandon_window_h,
            },
        };
        let queue = match (mode, &raw.queue) {
            (PacingMode::Blaster, _) => None,
            (_, None) => {
                return Err(self.invalid(
                    &raw.mode,
                    "pacing.queue",
                    format!(
                        "{} dialing paces calls by agents: name the [[queue]] whose agents take the answered debtors",
                        mode.name()
                    ),
                ));
            }
            (_, Some(name)) => {
                let Some(queue) = agents.queue(name.get_ref()) else {
                    let names: Vec<&str> = agents.queues.iter().map(|q| q.name.as_str()).collect();
                    return Err(self.invalid(
                        name,
                        "pacing.queue",
                        format!(
                            "no [[queue]] named '{}' (there are: {})",
                            name.get_ref(),
                            if names.is_empty() {
                                "none".to_string()
                            } else {
                                names.join(", ")
                            }
                        ),
                    ));
                };
                // More calls than free agents: some debtors find nobody, and
                // the law wants them to hear the safe-harbor message within
                // two seconds, then the call ends.
                if mode.overdials()
                    && (queue.max_wait_s > PacingConfig::GRACE_S
                        || queue.overflow != OverflowConfig::Hangup)
                {
                    return Err(self.invalid(
                        name,
                        "pacing.queue",
                        format!(
                            "{} dialing abandons some debtors; queue '{}' must give them the \
                             safe-harbor message within {} s: set its max_wait_s = {} and \
                             overflow = \"hangup\" with an overflow_prompt naming the caller, \
                             a callback number and how to opt out",
                            mode.name(),
                            queue.name,
                            PacingConfig::GRACE_S,
                            PacingConfig::GRACE_S
                        ),
                    ));
                }
                Some(queue.name.clone())
            }
        };
        Ok(PacingConfig {
            mode,
            queue,
            lines_per_agent,
            abandon_cap,
            abandon_window,
            preview_timeout_s,
        })
    }

    fn compliance(
        &self,
        raw: &raw::RawCompliance,
        ring_timeout: &Spanned<f64>,
    ) -> Result<ComplianceConfig, ConfigError> {
        let enabled = *raw.enabled.get_ref();
        if enabled && *ring_timeout.get_ref() < MIN_RING_S {
            return Err(self.invalid(
                ring_timeout,
                "campaign.ring_timeout_s",
                format!(
                    "{} s is under the {MIN_RING_S} s a call must ring before it is given up \
                     (47 CFR 64.1200(a)(6)); set compliance.enabled = false only for a lab trunk",
                    ring_timeout.get_ref()
                ),
            ));
        }
        let timezone_column = match &raw.timezone_column {
            Some(name) if name.get_ref().trim().is_empty() => {
                return Err(self.invalid(
                    name,
                    "compliance.timezone_column",
                    "is empty; name the list's column (e.g. zona_horaria) or leave the key out"
                        .into(),
                ));
            }
            Some(name) => Some(name.get_ref().trim().to_lowercase()),
            None => None,
        };
        let mut caps = Vec::new();
        for (raw_cap, key, days) in [
            (&raw.max_calls_per_day, "compliance.max_calls_per_day", 1),
            (&raw.max_calls_per_week, "compliance.max_calls_per_week", 7),
        ] {
            let Some(calls) = raw_cap else { continue };
            if *calls.get_ref() == 0 {
                return Err(self.invalid(
                    calls,
                    key,
                    "0 would never call; use at least 1, or leave the key out".into(),
                ));
            }
            caps.push(crate::compliance::Cap {
                calls: *calls.get_ref() as usize,
                days,
                by: format!("the campaign ({key})"),
            });
        }
        let after_abandon_h = match &raw.after_abandon_h {
            Some(h) if !(0.0..=720.0).contains(h.get_ref()) => {
                return Err(self.invalid(
                    h,
                    "compliance.after_abandon_h",
                    format!("{} is not between 0 and 720 hours", h.get_ref()),
                ));
            }
            Some(h) => *h.get_ref(),
            None => 72.0,
        };
        Ok(ComplianceConfig {
            enabled,
            timezone_column,
            caps,
            after_abandon_h,
        })
    }

    fn invalid<T>(&self, at: &Spanned<T>, key: &str, reason: String) -> ConfigError {
        ConfigError::Invalid {
            path: self.path.to_owned(),
            line: line_of(self.text, at.span().start),
            key: key.to_owned(),
            reason,
        }
    }

    fn parse<T: FromStr>(
        &self,
        raw: &Spanned<String>,
        key: &str,
        what: &str,
    ) -> Result<T, ConfigError> {
        raw.get_ref()
            .trim()
            .parse()
            .map_err(|_| self.invalid(raw, key, format!("'{}' is not {what}", raw.get_ref())))
    }

    fn seconds(
        &self,
        raw: &Spanned<f64>,
        key: &str,
        min: f64,
        max: f64,
    ) -> Result<f64, ConfigError> {
        let value = *raw.get_ref();
        if !(min..=max).contains(&value) {
            return Err(self.invalid(raw, key, format!("{value} is outside {min}-{max} seconds")));
        }
        Ok(value)
    }

    fn trunk(
        &self,
        index: usize,
        t: RawTrunk,
        earlier: &[TrunkConfig],
    ) -> Result<TrunkConfig, ConfigError> {
        let key = |field: &str| format!("trunk[{index}].{field}");
        let name = t.name.get_ref().trim().to_owned();
        if name.is_empty() {
            return Err(self.invalid(&t.name, &key("name"), "must not be empty".into()));
        }
        if earlier.iter().any(|e| e.name == name) {
            return Err(self.invalid(
                &t.name,
                &key("name"),
                format!("another trunk is already named '{name}'"),
            ));
        }
        let address = t.address.get_ref().trim().to_owned();
        let port_ok = address.rsplit_once(':').is_some_and(|(host, port)| {
            !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0)
        });
        if !port_ok {
            return Err(self.invalid(
                &t.address,
                &key("address"),
                format!(
                    "'{address}' is not host:port (e.g. sip.carrier.example:5060 or 127.0.0.1:5070)"
                ),
            ));
        }
        let credentials = match (t.username, t.password) {
            (Some(username), Some(password)) => Some(Credentials {
                username,
                password: password.into_inner(),
            }),
            (None, None) => None,
            (Some(_), None) => {
                return Err(self.invalid(
                    &t.name,
                    &key("password"),
                    "username is set but password is missing".into(),
                ));
            }
            (None, Some(p)) => {
                return Err(self.invalid(
                    &p,
                    &key("username"),
                    "password is set but username is missing".into(),
                ));
            }
        };
        if let Some(name) = &t.caller_name
            && name
                .chars()
                .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err(self.invalid(
                &t.caller_id,
                &key("caller_name"),
                format!("'{name}' cannot be a caller name (no quotes, backslashes or control characters)"),
            ));
        }
        let caller_id = t.caller_id.get_ref().trim().to_owned();
        if phonenumber::parse(None, &caller_id).is_err() || !caller_id.starts_with('+') {
            return Err(self.invalid(
                &t.caller_id,
                &key("caller_id"),
                format!("'{caller_id}' is not an E.164 number like +525512345678 (caller ID must always be present and valid)"),
            ));
        }
        if *t.max_channels.get_ref() == 0 {
            return Err(self.invalid(
                &t.max_channels,
                &key("max_channels"),
                "must be at least 1".into(),
            ));
        }
        let cps = *t.max_cps.get_ref();
        if !(cps > 0.0 && cps <= 10_000.0) {
            return Err(self.invalid(
                &t.max_cps,
                &key("max_cps"),
                format!("{cps} is outside 0-10000 calls per second"),
            ));
        }
        let mut codecs = Vec::new();
        for name in t.codecs.get_ref() {
            let codec = Codec::from_name(name).ok_or_else(|| {
                self.invalid(
                    &t.codecs,
                    &key("codecs"),
                    format!("unknown codec '{name}' (supported: PCMU, PCMA, G722)"),
                )
            })?;
            if !codecs.contains(&codec) {
                codecs.push(codec);
            }
        }
        if codecs.is_empty() {
            return Err(self.invalid(&t.codecs, &key("codecs"), "list at least one codec".into()));
        }
        let mut dtmf = Vec::new();
        for method in t.dtmf.get_ref() {
            let source = match method.trim().to_ascii_lowercase().as_str() {
                "rfc4733" | "rfc2833" => media::dtmf::DtmfSource::Rfc4733,
                "info" => media::dtmf::DtmfSource::Info,
                "inband" => media::dtmf::DtmfSource::InBand,
                other => {
                    return Err(self.invalid(
                        &t.dtmf,
                        &key("dtmf"),
                        format!("unknown DTMF method '{other}' (supported: rfc4733, info, inband)"),
                    ));
                }
            };
            if !dtmf.contains(&source) {
                dtmf.push(source);
            }
        }
        if dtmf.is_empty() {
            return Err(self.invalid(
                &t.dtmf,
                &key("dtmf"),
                "list at least one DTMF method".into(),
            ));
        }
        let symmetric_rtp = match t
            .symmetric_rtp
            .get_ref()
            .trim()
            .to_ascii_lowercase()
            .as_str()
        {
            "port" => media::rtp::Latch::Port,
            "address" => media::rtp::Latch::Address,
            "off" => media::rtp::Latch::Off,
            other => {
                return Err(self.invalid(
                    &t.symmetric_rtp,
                    &key("symmetric_rtp"),
                    format!("unknown value '{other}' (supported: port, address, off)"),
                ));
            }
        };
        let weight = match &t.weight {
            Some(w) if !(*w.get_ref() > 0.0 && *w.get_ref() <= 1000.0) => {
                return Err(self.invalid(
                    w,
                    &key("weight"),
                    format!("{} is not a weight between 0 and 1000", w.get_ref()),
                ));
            }
            Some(w) => *w.get_ref(),
            None => 1.0,
        };
        Ok(TrunkConfig {
            name,
            address,
            transport: t.transport,
            weight,
            credentials,
            caller_id,
            caller_name: t.caller_name,
            max_channels: *t.max_channels.get_ref(),
            max_cps: cps,
            codecs,
            dial_prefix: t.dial_prefix,
            strip_plus: t.strip_plus,
            response_timeout_s: self.seconds(
                &t.response_timeout_s,
                &key("response_timeout_s"),
                0.5,
                64.0,
            )?,
            dtmf,
            rtp_timeout_s: self.seconds(&t.rtp_timeout_s, &key("rtp_timeout_s"), 0.0, 3600.0)?,
            symmetric_rtp,
        })
    }
}

/// 1-based line of a byte offset (line 1 for defaults, which have no span).
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// One line: `line N: `table.key`: message`, the key found from the
/// error's position (the line's `key =` and the table header above it).
fn syntax_message(e: &toml::de::Error, text: &str) -> String {
    let message = e.message().trim();
    let Some(span) = e.span() else {
        return message.to_owned();
    };
    let line = line_of(text, span.start);
    match key_at_line(text, line) {
        Some(key) => format!("line {line}: `{key}`: {message}"),
        None => format!("line {line}: {message}"),
    }
}

/// The dotted key written on `line` (1-based), with its table's name.
fn key_at_line(text: &str, line: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let here = lines.get(line.checked_sub(1)?)?.trim();
    let (key, _) = here.split_once('=')?;
    let key = key.trim().trim_matches('"');
    let table = lines[..line - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim());
    Some(match table {
        Some(table) => format!("{table}.{key}"),
        None => key.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[database]
path = "dialer.db"

[[trunk]]
name = "carrier"
address = "127.0.0.1:5070"
caller_id = "+525512345678"
username = "dialer"
password = "secret"

[campaign]
name = "recordatorio"
contacts = "contacts.csv"
prompt = "prompts/es-MX/recordatorio.wav"
trunk = "carrier"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/dialer/run.toml"), text)
    }

    #[test]
    fn good_config_with_defaults_and_relative_paths() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.database.path, Path::new("/etc/dialer/dialer.db"));
        assert_eq!(c.campaign.contacts, Path::new("/etc/dialer/contacts.csv"));
        let t = c.campaign_trunk();
        assert_eq!(t.transport, Transport::Udp);
        assert_eq!(t.codecs, vec![Codec::Pcmu, Codec::Pcma]);
        assert_eq!(t.credentials.as_ref().unwrap().username, "dialer");
        assert_eq!(c.campaign.ring_timeout_s, 30.0);
        assert_eq!(c.campaign.default_region, phonenumber::country::Id::MX);
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let text = GOOD.replace("ring_timeout", "x").replace(
            "trunk = \"carrier\"",
            "trunk = \"carrier\"\nring_timout_s = 20",
        );
        let err = error_of(&text);
        assert!(
            err.contains("run.toml") && err.contains("ring_timout_s") && err.contains("line 17"),
            "{err}"
        );
    }

    #[test]
    fn semantic_errors_name_file_line_and_key() {
        let err = error_of(&GOOD.replace("trunk = \"carrier\"\n", "trunk = \"carier\"\n"));
        assert!(
            err.contains("run.toml:16: `campaign.trunk`") && err.contains("carier"),
            "{err}"
        );

        let err = error_of(&GOOD.replace("127.0.0.1:5070", "127.0.0.1"));
        assert!(err.contains(":7: `trunk[0].address`"), "{err}");

        let err = error_of(&GOOD.replace("+525512345678", "5512345678"));
        assert!(
            err.contains("`trunk[0].caller_id`") && err.contains("E.164"),
            "{err}"
        );

        let err = error_of(&GOOD.replace(
            "password = \"secret\"\n",
            "password = \"secret\"\ncodecs = [\"G729\"]\n",
        ));
        assert!(
            err.contains("`trunk[0].codecs`") && err.contains("G729"),
            "{err}"
        );

        let err = error_of(&format!("{GOOD}default_region = \"XX\"\n"));
        assert!(err.contains("`campaign.default_region`"), "{err}");

        let err = error_of(&GOOD.replace("password = \"secret\"\n", ""));
        assert!(err.contains("`trunk[0].password`"), "{err}");
    }

    #[test]
    fn amd_is_off_unless_asked_and_its_keys_are_checked() {
        assert!(parse(GOOD).unwrap().amd.is_none());
        let with = |section: &str| format!("{GOOD}\n[amd]\n{section}");
        let c = parse(&with("message = [\"tts:Hola {nombre}, le llamamos de Cobranzas.\"]\ngreeting_ms = 2000\nmax_beep_wait_s = 20\n")).unwrap();
        let amd = c.amd.unwrap();
        assert_eq!(amd.on_machine, OnMachine::Message);
        assert_eq!(amd.on_unsure, Unsure::Person);
        assert_eq!(amd.settings.greeting_ms, 2_000);
        assert_eq!(amd.settings.max_beep_wait_ms, 20_000);
        assert_eq!(amd.settings.after_greeting_silence_ms, 800);
        assert_eq!(
            amd.treat_as(media::amd::Verdict::Unsure),
            media::amd::Verdict::Person
        );
        assert!(amd.message.is_some());
        let c = parse(&with("on_machine = \"hang_up\"\non_unsure = \"machine\"\n")).unwrap();
        let amd = c.amd.unwrap();
        assert_eq!(
            amd.treat_as(media::amd::Verdict::Unsure),
            media::amd::Verdict::Machine
        );
        assert!(amd.message.is_none());
        assert!(
            parse(&with("enabled = false\non_machine = \"hang_up\"\n"))
                .unwrap()
                .amd
                .is_none()
        );

        // The section starts on line 18.
        let err = error_of(&with(""));
        assert!(
            err.contains("run.toml:18: `amd.message`") && err.contains("hang_up"),
            "{err}"
        );
        let err = error_of(&with(
            "on_machine = \"hang_up\"\nmessage = [\"tts:Hola\"]\n",
        ));
        assert!(err.contains(":20: `amd.message`"), "{err}");
        let err = error_of(&with("on_machine = \"hang_up\"\ngreeting_ms = 50\n"));
        assert!(
            err.contains(":20: `amd.greeting_ms`") && err.contains("300-10000"),
            "{err}"
        );
        let err = error_of(&with("message = [\"tts:Hola\", \"say:weird:{saldo}\"]\n"));
        assert!(err.contains("`amd.message[1]`"), "{err}");
        let err = error_of(&with(
            "on_machine = \"hang_up\"\nmin_word_ms = 600\ngreeting_ms = 500\n",
        ));
        assert!(
            err.contains(":20: `amd.min_word_ms`") && err.contains("greeting_ms (500)"),
            "{err}"
        );
        let err = error_of(&with("on_machine = \"hang_up\"\ntotal_ms = 2000\n"));
        assert!(
            err.contains(":18: `amd.initial_silence_ms`") && err.contains("total_ms (2000)"),
            "{err}"
        );
        let err = error_of(&with("on_machine = \"voicemail\"\n"));
        assert!(
            err.contains("on_machine") && err.contains("hang_up"),
            "{err}"
        );
    }

    #[test]
    fn compliance_is_on_by_default_and_its_keys_are_checked() {
        let c = parse(GOOD).unwrap();
        assert!(c.compliance.enabled);
        assert!(c.compliance.caps.is_empty());
        let c = parse(&format!(
            "{GOOD}\n[compliance]\ntimezone_column = \"Zona\"\nmax_calls_per_day = 2\nmax_calls_per_week = 5\n"
        ))
        .unwrap();
        assert_eq!(c.compliance.timezone_column.as_deref(), Some("zona"));
        let caps: Vec<(usize, u32)> = c
            .compliance
            .caps
            .iter()
            .map(|c| (c.calls, c.days))
            .collect();
        assert_eq!(caps, [(2, 1), (5, 7)]);
        let err = error_of(&format!("{GOOD}\n[compliance]\nmax_calls_per_week = 0\n"));
        assert!(
            err.contains("`compliance.max_calls_per_week`: 0 would never call"),
            "{err}"
        );
        let short = GOOD.replace(
            "trunk = \"carrier\"\n",
            "trunk = \"carrier\"\nring_timeout_s = 10\n",
        );
        let err = error_of(&short);
        assert!(
            err.contains("`campaign.ring_timeout_s`: 10 s is under the 15 s"),
            "{err}"
        );
        let lab = parse(&format!("{short}\n[compliance]\nenabled = false\n")).unwrap();
        assert!(!lab.compliance.enabled);
        assert_eq!(lab.campaign.ring_timeout_s, 10.0);
    }

    #[test]
    fn pacing_modes_name_their_queue_and_overdialing_needs_the_safe_harbor() {
        assert_eq!(parse(GOOD).unwrap().pacing.mode, PacingMode::Blaster);
        let queue = |max_wait: &str, overflow: &str| {
            format!(
                "{GOOD}\n[[agent]]\nlogin = \"ana\"\nname = \"Ana\"\npassword = \"secreto-ana\"\nskills = [\"cobranza\"]\n\
                 [[queue]]\nname = \"cobranza\"\nskills = [\"cobranza\"]\nmax_wait_s = {max_wait}\noverflow = \"{overflow}\"\n"
            )
        };
        let err = error_of(&format!(
            "{}[pacing]\nmode = \"progressive\"\n",
            queue("60", "callback")
        ));
        assert!(
            err.contains("`pacing.queue`: progressive dialing paces calls by agents"),
            "{err}"
        );
        let err = error_of(&format!(
            "{}[pacing]\nmode = \"progressive\"\nqueue = \"ventas\"\n",
            queue("60", "callback")
        ));
        assert!(
            err.contains("no [[queue]] named 'ventas' (there are: cobranza)"),
            "{err}"
        );
        let c = parse(&format!(
            "{}[pacing]\nmode = \"progressive\"\nqueue = \"cobranza\"\n",
            queue("60", "callback")
        ))
        .unwrap();
        assert_eq!(c.pacing.queue.as_deref(), Some("cobranza"));
        let err = error_of(&format!(
            "{}[pacing]\nmode = \"predictive\"\nqueue = \"cobranza\"\n",
            queue("60", "callback")
        ));
        assert!(
            err.contains("predictive dialing abandons some debtors; queue 'cobranza' must give them the safe-harbor message within 2 s"),
            "{err}"
        );
        let c = parse(&format!(
            "{}[pacing]\nmode = \"power\"\nqueue = \"cobranza\"\nlines_per_agent = 2.5\n",
            queue("2", "hangup")
        ))
        .unwrap();
        assert_eq!(
            (c.pacing.mode, c.pacing.lines_per_agent),
            (PacingMode::Power, 2.5)
        );
        let err = error_of(&format!(
            "{}[pacing]\nmode = \"predictive\"\nqueue = \"cobranza\"\nabandon_cap = 0.5\n",
            queue("2", "hangup")
        ));
        assert!(
            err.contains("`pacing.abandon_cap`: 0.5 is not a share"),
            "{err}"
        );
        let err = error_of(&format!("{GOOD}\n[pacing]\nmode = \"turbo\"\n"));
        assert!(err.contains("turbo"), "{err}");
    }

    #[test]
    fn the_abandon_window_is_hours_back_or_a_calendar_day() {
        let pacing = |keys: &str| format!("{GOOD}\n[pacing]\nmode = \"blaster\"\n{keys}\n");
        let at = |text: &str| chrono::DateTime::parse_from_rfc3339(text).unwrap().to_utc();
        let now = at("2026-12-01T05:30:00Z");
        let window = parse(&pacing("")).unwrap().pacing.abandon_window;
        assert_eq!(window, AbandonWindow::Rolling { hours: 720.0 });
        assert_eq!(window.start(now), at("2026-11-01T05:30:00Z"));
        assert_eq!(window.describe(), "the last 30 days");
        let window = parse(&pacing("abandon_window_h = 36"))
            .unwrap()
            .pacing
            .abandon_window;
        assert_eq!(window.start(now), at("2026-11-29T17:30:00Z"));
        assert_eq!(window.describe(), "the last 36 h");
        // 05:30 UTC is still Nov 30 in Mexico City (UTC-6): its day began
        // at 06:00 UTC the day before.
        let window = parse(&pacing("abandon_window_day = \"America/Mexico_City\""))
            .unwrap()
            .pacing
            .abandon_window;
        assert_eq!(window.start(now), at("2026-11-30T06:00:00Z"));
        assert_eq!(window.describe(), "today in America/Mexico_City");
        // Chile's clocks skip from midnight to 01:00 on 6 September 2026:
        // that day begins at 01:00 (UTC-3).
        let window = parse(&pacing("abandon_window_day = \"America/Santiago\""))
            .unwrap()
            .pacing
            .abandon_window;
        assert_eq!(
            window.start(at("2026-09-06T15:00:00Z")),
            at("2026-09-06T04:00:00Z")
        );
        let err = error_of(&pacing("abandon_window_day = \"Marte/Olympus\""));
        assert!(
            err.contains("`pacing.abandon_window_day`: 'Marte/Olympus' is not a time zone"),
            "{err}"
        );
        let err = error_of(&pacing(
            "abandon_window_h = 24\nabandon_window_day = \"America/Bogota\"",
        ));
        assert!(err.contains("not both"), "{err}");
    }

    #[test]
    fn the_reference_config_in_deploy_is_valid() {
        let text = include_str!("../../../deploy/example.toml");
        let c = Config::parse(Path::new("deploy/example.toml"), text).unwrap();
        assert_eq!(c.campaign_trunk().name, "carrier-mx");
        assert_eq!(c.sip.advertised_ip, Some("203.0.113.10".parse().unwrap()));
        let amd = c.amd.expect("the example detects answering machines");
        assert!(amd.message.is_some());
        assert!(c.retry.unwrap().machine.is_some());
    }

    #[test]
    fn realtime_priority_is_a_sched_fifo_priority() {
        assert_eq!(parse(GOOD).unwrap().media.realtime_priority, None);
        let c = parse(&format!("[media]\nrealtime_priority = 10\n{GOOD}")).unwrap();
        assert_eq!(c.media.realtime_priority, Some(10));
        for bad in ["0", "100", "-3", "300"] {
            let err = error_of(&format!(
                "[media]\nip = \"127.0.0.1\"\nrealtime_priority = {bad}\n{GOOD}"
            ));
            assert!(
                err.contains("run.toml:3:")
                    && err.contains("`media.realtime_priority`")
                    && err.contains(&format!("{bad} is not a SCHED_FIFO priority (1-99)")),
                "{err}"
            );
        }
    }

    #[test]
    fn wildcard_addresses_need_a_real_one_to_announce() {
        let err = error_of(&format!("[sip]\nbind = \"0.0.0.0:5060\"\n{GOOD}"));
        assert!(
            err.contains("`sip.bind`") && err.contains("advertised_ip"),
            "{err}"
        );
        let ok = parse(&format!(
            "[sip]\nbind = \"0.0.0.0:5060\"\nadvertised_ip = \"192.0.2.1\"\n{GOOD}"
        ));
        assert!(ok.is_ok());
        let err = error_of(&format!("[media]\nip = \"0.0.0.0\"\n{GOOD}"));
        assert!(err.contains("`media.ip`"), "{err}");
    }

    #[test]
    fn wrong_types_and_missing_sections_are_syntax_errors() {
        let err = error_of(&GOOD.replace("[campaign]", "[campaign]\nring_timeout_s = \"thirty\""));
        assert!(
            err.contains("ring_timeout_s") || err.contains("line 13"),
            "{err}"
        );
        let err = error_of("[database]\npath = \"x.db\"\n");
        assert!(err.contains("trunk") || err.contains("campaign"), "{err}");
        let err = error_of("this is = = not toml");
        assert!(err.contains("line 1"), "{err}");
    }
}
