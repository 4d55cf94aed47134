//! The configuration file exactly as written: serde shapes and defaults.
//!
//! Values that need checking are wrapped in `Spanned` so an error can point
//! at their line; `super::Config::parse` turns this into the validated
//! [`super::Config`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::Transport;
use super::message::SayWith;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) database: RawDatabase,
    #[serde(default)]
    pub(super) sip: RawSip,
    #[serde(default)]
    pub(super) media: RawMedia,
    #[serde(rename = "trunk")]
    pub(super) trunks: Spanned<Vec<RawTrunk>>,
    pub(super) campaign: RawCampaign,
    pub(super) tts: Option<RawTts>,
    pub(super) registrar: Option<super::agents::RawRegistrar>,
    #[serde(default, rename = "agent")]
    pub(super) agents: Vec<super::agents::RawAgent>,
    #[serde(default, rename = "queue")]
    pub(super) queues: Vec<super::agents::RawQueue>,
    pub(super) api: Option<RawApi>,
    #[serde(default)]
    pub(super) compliance: RawCompliance,
    pub(super) pacing: Option<RawPacing>,
    pub(super) retry: Option<RawRetry>,
    pub(super) amd: Option<super::amd::RawAmd>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetry {
    pub(super) busy: Option<Spanned<RawRule>>,
    pub(super) no_answer: Option<Spanned<RawRule>>,
    pub(super) machine: Option<Spanned<RawRule>>,
    pub(super) failed: Option<Spanned<RawRule>>,
    pub(super) abandoned: Option<Spanned<RawRule>>,
    pub(super) max_attempts: Option<Spanned<u32>>,
    pub(super) within_run_s: Option<Spanned<f64>>,
    pub(super) callback_agent_wait_s: Option<Spanned<f64>>,
    #[serde(default = "yes_plain")]
    pub(super) callbacks: bool,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRule {
    pub(super) after_s: f64,
    pub(super) max: u32,
}

fn yes_plain() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPacing {
    pub(super) mode: Spanned<super::PacingMode>,
    pub(super) queue: Option<Spanned<String>>,
    pub(super) lines_per_agent: Option<Spanned<f64>>,
    pub(super) abandon_cap: Option<Spanned<f64>>,
    pub(super) abandon_window_h: Option<Spanned<f64>>,
    pub(super) abandon_window_day: Option<Spanned<String>>,
    pub(super) preview_timeout_s: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCompliance {
    #[serde(default = "yes")]
    pub(super) enabled: Spanned<bool>,
    pub(super) timezone_column: Option<Spanned<String>>,
    pub(super) max_calls_per_day: Option<Spanned<u32>>,
    pub(super) max_calls_per_week: Option<Spanned<u32>>,
    pub(super) after_abandon_h: Option<Spanned<f64>>,
}

impl Default for RawCompliance {
    fn default() -> Self {
        RawCompliance {
            enabled: yes(),
            timezone_column: None,
            max_calls_per_day: None,
            max_calls_per_week: None,
            after_abandon_h: None,
        }
    }
}

fn yes() -> Spanned<bool> {
    Spanned::new(0..0, true)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApi {
    pub(super) bind: Spanned<String>,
    pub(super) token: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub(super) path: PathBuf,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSip {
    #[serde(default = "default_sip_bind")]
    pub(super) bind: Spanned<String>,
    pub(super) advertised_ip: Option<Spanned<String>>,
    #[serde(default = "default_user_agent")]
    pub(super) user_agent: String,
}

impl Default for RawSip {
    fn default() -> Self {
        RawSip {
            bind: default_sip_bind(),
            advertised_ip: None,
            user_agent: default_user_agent(),
        }
    }
}

fn default_sip_bind() -> Spanned<String> {
    Spanned::new(0..0, "127.0.0.1:5060".into())
}

fn default_user_agent() -> String {
    format!("dialer/{}", env!("CARGO_PKG_VERSION"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMedia {
    #[serde(default = "default_media_ip")]
    pub(super) ip: Spanned<String>,
    #[serde(default = "default_rtp_min")]
    pub(super) rtp_port_min: Spanned<u16>,
    #[serde(default = "default_rtp_max")]
    pub(super) rtp_port_max: Spanned<u16>,
    #[serde(default)]
    pub(super) realtime_priority: Option<Spanned<i64>>,
}

impl Default for RawMedia {
    fn default() -> Self {
        RawMedia {
            ip: default_media_ip(),
            rtp_port_min: default_rtp_min(),
            rtp_port_max: default_rtp_max(),
            realtime_priority: None,
        }
    }
}

fn default_media_ip() -> Spanned<String> {
    Spanned::new(0..0, "127.0.0.1".into())
}
fn default_rtp_min() -> Spanned<u16> {
    Spanned::new(0..0, 20_000)
}
fn default_rtp_max() -> Spanned<u16> {
    Spanned::new(0..0, 29_999)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTrunk {
    pub(super) name: Spanned<String>,
    pub(super) address: Spanned<String>,
    #[serde(default = "default_transport")]
    pub(super) transport: Transport,
    pub(super) username: Option<String>,
    pub(super) password: Option<Spanned<String>>,
    pub(super) caller_id: Spanned<String>,
    pub(super) caller_name: Option<String>,
    #[serde(default = "default_channels")]
    pub(super) max_channels: Spanned<u32>,
    /// The trunk's share of a campaign's calls among its trunks.
    pub(super) weight: Option<Spanned<f64>>,
    #[serde(default = "default_cps")]
    pub(super) max_cps: Spanned<f64>,
    #[serde(default = "default_codecs")]
    pub(super) codecs: Spanned<Vec<String>>,
    #[serde(default)]
    pub(super) dial_prefix: String,
    #[serde(default)]
    pub(super) strip_plus: bool,
    #[serde(default = "default_response_timeout")]
    pub(super) response_timeout_s: Spanned<f64>,
    #[serde(default = "default_dtmf")]
    pub(super) dtmf: Spanned<Vec<String>>,
    #[serde(default = "default_rtp_timeout")]
    pub(super) rtp_timeout_s: Spanned<f64>,
    #[serde(default = "default_symmetric_rtp")]
    pub(super) symmetric_rtp: Spanned<String>,
}

fn default_symmetric_rtp() -> Spanned<String> {
    Spanned::new(0..0, "port".into())
}

fn default_rtp_timeout() -> Spanned<f64> {
    Spanned::new(0..0, 30.0)
}

fn default_dtmf() -> Spanned<Vec<String>> {
    Spanned::new(0..0, vec!["rfc4733".into(), "info".into()])
}

fn default_transport() -> Transport {
    Transport::Udp
}
fn default_channels() -> Spanned<u32> {
    Spanned::new(0..0, 10)
}
fn default_cps() -> Spanned<f64> {
    Spanned::new(0..0, 5.0)
}
fn default_codecs() -> Spanned<Vec<String>> {
    Spanned::new(0..0, vec!["PCMU".into(), "PCMA".into()])
}
fn default_response_timeout() -> Spanned<f64> {
    Spanned::new(0..0, 8.0)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCampaign {
    pub(super) name: Spanned<String>,
    pub(super) contacts: PathBuf,
    pub(super) prompt: Option<Spanned<PathBuf>>,
    pub(super) message: Option<Spanned<Vec<Spanned<String>>>>,
    pub(super) flow: Option<Spanned<PathBuf>>,
    pub(super) language: Option<Spanned<String>>,
    pub(super) prompts: Option<PathBuf>,
    #[serde(default)]
    pub(super) say_with: SayWith,
    pub(super) trunk: Option<Spanned<String>>,
    /// Several trunks, shared by weight, with failover.
    pub(super) trunks: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default = "default_ring_timeout")]
    pub(super) ring_timeout_s: Spanned<f64>,
    #[serde(default = "default_region")]
    pub(super) default_region: Spanned<String>,
    #[serde(default = "default_wait_for_digits")]
    pub(super) wait_for_digits_s: Spanned<f64>,
    #[serde(default = "default_max_call")]
    pub(super) max_call_s: Spanned<f64>,
    /// Record every answered call (two-channel WAV).
    #[serde(default)]
    pub(super) record: bool,
    /// Where recordings go; default `recordings/` next to the database.
    pub(super) recordings: Option<PathBuf>,
    /// Lists of numbers this campaign must not call (besides the global one).
    #[serde(default)]
    pub(super) do_not_call: Vec<PathBuf>,
    /// A numeric column: highest first (e.g. days past due).
    pub(super) order_by: Option<Spanned<String>>,
    /// A column naming the contact's segment, dialed in turns by weight.
    pub(super) segment_by: Option<Spanned<String>>,
    #[serde(default)]
    pub(super) segment_weights: BTreeMap<String, Spanned<f64>>,
}

fn default_ring_timeout() -> Spanned<f64> {
    Spanned::new(0..0, 30.0)
}
fn default_region() -> Spanned<String> {
    Spanned::new(0..0, "MX".into())
}
fn default_wait_for_digits() -> Spanned<f64> {
    Spanned::new(0..0, 4.0)
}
fn default_max_call() -> Spanned<f64> {
    Spanned::new(0..0, 300.0)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTts {
    #[serde(default)]
    pub(super) engine: TtsEngineKind,
    pub(super) voice: Option<String>,
    #[serde(default = "default_espeak")]
    pub(super) program: String,
    #[serde(default = "default_speed")]
    pub(super) speed: Spanned<u32>,
    pub(super) url: Option<Spanned<String>>,
    #[serde(default = "default_headers")]
    pub(super) headers: Spanned<std::collections::BTreeMap<String, String>>,
    #[serde(default = "default_content_type")]
    pub(super) content_type: String,
    pub(super) body: Option<String>,
    #[serde(default = "default_tts_timeout")]
    pub(super) timeout_s: Spanned<f64>,
    pub(super) cache_dir: Option<PathBuf>,
    #[serde(default = "default_cache_mb")]
    pub(super) cache_max_mb: u64,
}

impl Default for RawTts {
    fn default() -> Self {
        RawTts {
            engine: TtsEngineKind::Espeak,
            voice: None,
            program: default_espeak(),
            speed: default_speed(),
            url: None,
            headers: default_headers(),
            content_type: default_content_type(),
            body: None,
            timeout_s: default_tts_timeout(),
            cache_dir: None,
            cache_max_mb: default_cache_mb(),
        }
    }
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum TtsEngineKind {
    #[default]
    Espeak,
    Http,
}

fn default_headers() -> Spanned<std::collections::BTreeMap<String, String>> {
    Spanned::new(0..0, Default::default())
}
fn default_espeak() -> String {
    "espeak-ng".into()
}
fn default_speed() -> Spanned<u32> {
    Spanned::new(0..0, 165)
}
fn default_content_type() -> String {
    "application/json".into()
}
fn default_tts_timeout() -> Spanned<f64> {
    Spanned::new(0..0, 15.0)
}
fn default_cache_mb() -> u64 {
    1024
}
