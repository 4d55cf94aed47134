//! The configuration file exactly as written: serde shapes and defaults.
//!
//! Values that need checking are wrapped in `Spanned` so an error can point
//! at their line; `super::Config::parse` turns this into the validated
//! [`super::Config`].

use std::path::PathBuf;

use serde::Deserialize;
use toml::Spanned;

use super::Transport;

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
}

impl Default for RawMedia {
    fn default() -> Self {
        RawMedia {
            ip: default_media_ip(),
            rtp_port_min: default_rtp_min(),
            rtp_port_max: default_rtp_max(),
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
    pub(super) prompt: PathBuf,
    pub(super) trunk: Spanned<String>,
    #[serde(default = "default_ring_timeout")]
    pub(super) ring_timeout_s: Spanned<f64>,
    #[serde(default = "default_region")]
    pub(super) default_region: Spanned<String>,
    #[serde(default = "default_wait_for_digits")]
    pub(super) wait_for_digits_s: Spanned<f64>,
    #[serde(default = "default_max_call")]
    pub(super) max_call_s: Spanned<f64>,
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
