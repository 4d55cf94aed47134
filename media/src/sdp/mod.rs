//! SDP offer/answer for one audio stream (RFC 3264): G.711, G.722 and telephone-event.
//!
//! The dialer offers its codecs plus telephone-event and takes the codec the
//! far end picked from the answer; the simulated carrier does the opposite.
//! Parsing goes through the `sdp` crate; what an answer *means* for the call
//! (address, codec, DTMF payload type, direction) is decided here.

#![deny(clippy::disallowed_methods)]

use std::fmt::Write as _;
use std::io::Cursor;
use std::net::{IpAddr, SocketAddr};

use crate::codec::Codec;

/// Payload type we offer for telephone-event/8000 (what most trunks use).
pub const DEFAULT_DTMF_PAYLOAD_TYPE: u8 = 101;

/// Our side of the audio stream: where we receive and what we accept.
#[derive(Debug, Clone)]
pub struct LocalAudio {
    pub ip: IpAddr,
    pub port: u16,
    /// Codecs in our order of preference.
    pub codecs: Vec<Codec>,
    pub dtmf_payload_type: u8,
    /// `o=` session id; stays the same for the life of the call.
    pub session_id: u64,
}

/// Which way media flows, from the SDP author's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The direction an answer gives to an offer of this one (RFC 3264 §6.1).
    pub fn mirrored(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// The SDP attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }
}

/// What both sides agreed for the call's audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedAudio {
    /// Where to send RTP.
    pub remote: SocketAddr,
    pub codec: Codec,
    /// The telephone-event payload type the far end uses, if it offered one.
    pub dtmf_payload_type: Option<u8>,
    pub ptime_ms: u32,
    pub direction: Direction,
}

impl NegotiatedAudio {
    /// Whether the far end wants our audio: not when it only sends or is
    /// inactive (on hold), nor at the old-style hold address `0.0.0.0`.
    pub fn wants_our_audio(&self) -> bool {
        matches!(self.direction, Direction::SendRecv | Direction::RecvOnly)
            && !self.remote.ip().is_unspecified()
    }
}

/// An SDP we cannot use, with the part that was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    #[error("SDP does not parse: {0}")]
    Syntax(String),
    #[error("SDP has no audio stream (m=audio)")]
    NoAudio,
    #[error("the audio stream was rejected (m=audio with port 0)")]
    AudioRejected,
    #[error("SDP gives no usable connection address (c=): {0}")]
    Address(String),
    #[error("no codec in common: they list {listed}, we support {supported}")]
    NoCommonCodec { listed: String, supported: String },
}

/// One payload type listed on the remote `m=audio` line.
#[derive(Debug, Clone)]
struct RemoteFormat {
    payload_type: u8,
    /// `NAME/RATE` from rtpmap (or the static assignment), for messages.
    label: String,
    codec: Option<Codec>,
    telephone_event: bool,
}

struct RemoteAudio {
    addr: SocketAddr,
    formats: Vec<RemoteFormat>,
    ptime_ms: u32,
    direction: Direction,
}

impl LocalAudio {
    /// Our SDP listing `codecs` (an offer lists all of ours; an answer the one chosen).
    pub fn to_sdp(&self, codecs: &[Codec], dtmf_payload_type: Option<u8>, version: u64) -> String {
        self.to_sdp_directed(codecs, dtmf_payload_type, version, Direction::SendRecv)
    }

    /// As [`LocalAudio::to_sdp`], with the stream's direction.
    pub fn to_sdp_directed(
        &self,
        codecs: &[Codec],
        dtmf_payload_type: Option<u8>,
        version: u64,
        direction: Direction,
    ) -> String {
        let ip_kind = if self.ip.is_ipv4() { "IP4" } else { "IP6" };
        let mut pts: Vec<String> = codecs
            .iter()
            .map(|c| c.payload_type().to_string())
            .collect();
        pts.extend(dtmf_payload_type.map(|pt| pt.to_string()));
        let mut sdp = String::new();
        // `write!` to a String cannot fail.
        let _ = write!(
            sdp,
            "v=0\r\no=dialer {id} {version} IN {ip_kind} {ip}\r\ns=dialer\r\nc=IN {ip_kind} {ip}\r\nt=0 0\r\nm=audio {port} RTP/AVP {pts}\r\n",
            id = self.session_id,
            ip = self.ip,
            port = self.port,
            pts = pts.join(" "),
        );
        for codec in codecs {
            let _ = write!(
                sdp,
                "a=rtpmap:{} {}/8000\r\n",
                codec.payload_type(),
                codec.name()
            );
        }
        if let Some(pt) = dtmf_payload_type {
            let _ = write!(
                sdp,
                "a=rtpmap:{pt} telephone-event/8000\r\na=fmtp:{pt} 0-16\r\n"
            );
        }
        let _ = write!(sdp, "a=ptime:20\r\na={}\r\n", direction.attribute());
        sdp
    }

    /// Answers a new offer in an established call (re-INVITE or UPDATE:
    /// hold, unhold, a new address). The call keeps its codec, so the offer
    /// must list it; the answer mirrors the offer's direction and carries
    /// `version` in `o=` (one more than our last SDP's).
    pub fn answer_reoffer(
        &self,
        offer: &[u8],
        codec: Codec,
        version: u64,
    ) -> Result<(NegotiatedAudio, String), SdpError> {
        let remote = parse_remote_audio(offer)?;
        if !remote.formats.iter().any(|f| f.codec == Some(codec)) {
            return Err(SdpError::NoCommonCodec {
                listed: listed(&remote),
                supported: format!("{} (the call's codec)", codec.name()),
            });
        }
        let direction = remote.direction.mirrored();
        Ok(self.answer_with(&remote, codec, version, direction))
    }

    /// The agreement and our answer SDP, once the codec is chosen.
    fn answer_with(
        &self,
        remote: &RemoteAudio,
        codec: Codec,
        version: u64,
        direction: Direction,
    ) -> (NegotiatedAudio, String) {
        let dtmf = remote
            .formats
            .iter()
            .find(|f| f.telephone_event)
            .map(|f| f.payload_type);
        let sdp = self.to_sdp_directed(&[codec], dtmf, version, direction);
        let negotiated = NegotiatedAudio {
            remote: remote.addr,
            codec,
            dtmf_payload_type: dtmf,
            ptime_ms: remote.ptime_ms,
            direction: remote.direction,
        };
        (negotiated, sdp)
    }

    /// The offer we put in an INVITE.
    pub fn offer(&self) -> String {
        self.to_sdp(&self.codecs, Some(self.dtmf_payload_type), 1)
    }

    /// Reads the far end's answer to our offer: the first codec of theirs
    /// that we offered wins (RFC 3264 §6.1 puts their preference first).
    pub fn accept_answer(&self, answer: &[u8]) -> Result<NegotiatedAudio, SdpError> {
        let remote = parse_remote_audio(answer)?;
        let format = remote
            .formats
            .iter()
            .find(|f| f.codec.is_some_and(|c| self.codecs.contains(&c)))
            .ok_or_else(|| self.no_common_codec(&remote))?;
        Ok(NegotiatedAudio {
            remote: remote.addr,
            codec: format.codec.expect("found by having a codec"),
            dtmf_payload_type: remote
                .formats
                .iter()
                .find(|f| f.telephone_event)
                .map(|f| f.payload_type),
            ptime_ms: remote.ptime_ms,
            direction: remote.direction,
        })
    }

    /// Answers a remote offer (the carrier's side): picks the first offered
    /// codec we support and returns the agreement and our answer SDP.
    pub fn answer_offer(&self, offer: &[u8]) -> Result<(NegotiatedAudio, String), SdpError> {
        let remote = parse_remote_audio(offer)?;
        let format = remote
            .formats
            .iter()
            .find(|f| f.codec.is_some_and(|c| self.codecs.contains(&c)))
            .ok_or_else(|| self.no_common_codec(&remote))?;
        let codec = format.codec.expect("found by having a codec");
        Ok(self.answer_with(&remote, codec, 1, Direction::SendRecv))
    }

    fn no_common_codec(&self, remote: &RemoteAudio) -> SdpError {
        let supported: Vec<&str> = self.codecs.iter().map(|c| c.name()).collect();
        SdpError::NoCommonCodec {
            listed: listed(remote),
            supported: supported.join(", "),
        }
    }
}

/// The far end's formats, for messages: `0 PCMU/8000, 101 telephone-event/8000`.
fn listed(remote: &RemoteAudio) -> String {
    remote
        .formats
        .iter()
        .map(|f| format!("{} {}", f.payload_type, f.label))
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_remote_audio(bytes: &[u8]) -> Result<RemoteAudio, SdpError> {
    let session = sdp::SessionDescription::unmarshal(&mut Cursor::new(bytes))
        .map_err(|e| SdpError::Syntax(e.to_string()))?;
    let media = session
        .media_descriptions
        .iter()
        .find(|m| m.media_name.media.eq_ignore_ascii_case("audio"))
        .ok_or(SdpError::NoAudio)?;
    let port = u16::try_from(media.media_name.port.value)
        .map_err(|_| SdpError::Address(format!("port {}", media.media_name.port.value)))?;
    if port == 0 {
        return Err(SdpError::AudioRejected);
    }
    let connection = media
        .connection_information
        .as_ref()
        .or(session.connection_information.as_ref())
        .ok_or_else(|| SdpError::Address("missing".into()))?;
    let address = connection
        .address
        .as_ref()
        .ok_or_else(|| SdpError::Address("missing".into()))?;
    let ip: IpAddr = address
        .address
        .parse()
        .map_err(|_| SdpError::Address(format!("'{}' is not an IP address", address.address)))?;

    let attribute = |key: &str| {
        media
            .attributes
            .iter()
            .chain(&session.attributes)
            .find(|a| a.key.eq_ignore_ascii_case(key))
    };
    let rtpmaps: Vec<(u8, String)> = media
        .attributes
        .iter()
        .filter(|a| a.key.eq_ignore_ascii_case("rtpmap"))
        .filter_map(|a| {
            let (pt, name) = a.value.as_deref()?.split_once(' ')?;
            Some((pt.trim().parse().ok()?, name.trim().to_string()))
        })
        .collect();
    let formats = media
        .media_name
        .formats
        .iter()
        .filter_map(|f| f.parse::<u8>().ok())
        .map(|pt| {
            remote_format(
                pt,
                rtpmaps
                    .iter()
                    .find(|(p, _)| *p == pt)
                    .map(|(_, n)| n.as_str()),
            )
        })
        .collect();
    let ptime_ms = attribute("ptime")
        .and_then(|a| a.value.as_deref()?.trim().parse().ok())
        .unwrap_or(20);
    let direction = if attribute("sendonly").is_some() {
        Direction::SendOnly
    } else if attribute("recvonly").is_some() {
        Direction::RecvOnly
    } else if attribute("inactive").is_some() {
        Direction::Inactive
    } else {
        Direction::SendRecv
    };
    Ok(RemoteAudio {
        addr: SocketAddr::new(ip, port),
        formats,
        ptime_ms,
        direction,
    })
}

fn remote_format(payload_type: u8, rtpmap: Option<&str>) -> RemoteFormat {
    let label = match rtpmap {
        Some(name) => name.to_string(),
        None => match payload_type {
            0 => "PCMU/8000".into(),
            3 => "GSM/8000".into(),
            8 => "PCMA/8000".into(),
            9 => "G722/8000".into(),
            18 => "G729/8000".into(),
            _ => "(no rtpmap)".into(),
        },
    };
    let (name, rate) = label.split_once('/').unwrap_or((&label, ""));
    let rate = rate.split('/').next().unwrap_or("");
    let codec = Codec::from_name(name).filter(|_| rate == "8000");
    RemoteFormat {
        payload_type,
        telephone_event: name.eq_ignore_ascii_case("telephone-event") && rate == "8000",
        codec,
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> LocalAudio {
        LocalAudio {
            ip: "127.0.0.1".parse().unwrap(),
            port: 40_000,
            codecs: vec![Codec::Pcmu, Codec::Pcma],
            dtmf_payload_type: 101,
            session_id: 42,
        }
    }

    fn answer(m_line: &str, extra: &str) -> Vec<u8> {
        format!(
            "v=0\r\no=carrier 1 1 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 10.0.0.9\r\nt=0 0\r\n{m_line}\r\n{extra}"
        )
        .into_bytes()
    }

    #[test]
    fn a_reoffer_is_answered_with_the_mirrored_direction_and_a_new_version() {
        let hold = answer(
            "m=audio 5000 RTP/AVP 8 0 101",
            "a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n",
        );
        let (agreed, sdp) = local().answer_reoffer(&hold, Codec::Pcmu, 2).unwrap();
        assert_eq!(agreed.remote, "10.0.0.9:5000".parse().unwrap());
        assert_eq!(agreed.direction, Direction::SendOnly);
        assert!(!agreed.wants_our_audio());
        // The call keeps its codec, though the offer puts PCMA first.
        assert!(sdp.contains("m=audio 40000 RTP/AVP 0 101\r\n"), "{sdp}");
        assert!(sdp.contains("o=dialer 42 2 IN IP4"), "{sdp}");
        assert!(sdp.contains("a=recvonly\r\n"), "{sdp}");

        let unhold = answer("m=audio 5000 RTP/AVP 0", "a=sendrecv\r\n");
        let (agreed, sdp) = local().answer_reoffer(&unhold, Codec::Pcmu, 3).unwrap();
        assert!(agreed.wants_our_audio());
        assert!(
            sdp.contains("a=sendrecv\r\n") && sdp.contains(" 3 IN IP4"),
            "{sdp}"
        );

        let inactive = answer("m=audio 5000 RTP/AVP 0", "a=inactive\r\n");
        let (agreed, sdp) = local().answer_reoffer(&inactive, Codec::Pcmu, 4).unwrap();
        assert!(!agreed.wants_our_audio() && sdp.contains("a=inactive\r\n"));

        // RFC 2543 hold: the address 0.0.0.0.
        let old_hold = b"v=0\r\no=x 1 2 IN IP4 10.0.0.9\r\ns=-\r\nc=IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
        let (agreed, _) = local().answer_reoffer(old_hold, Codec::Pcmu, 5).unwrap();
        assert!(!agreed.wants_our_audio());

        // A codec change mid-call is refused (the call goes on as it was).
        let other = answer("m=audio 5000 RTP/AVP 8", "");
        let err = local().answer_reoffer(&other, Codec::Pcmu, 6).unwrap_err();
        assert!(err.to_string().contains("PCMU (the call's codec)"), "{err}");
    }

    #[test]
    fn offer_lists_g711_and_telephone_event() {
        let offer = local().offer();
        assert!(
            offer.contains("m=audio 40000 RTP/AVP 0 8 101\r\n"),
            "{offer}"
        );
        assert!(offer.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(offer.contains("c=IN IP4 127.0.0.1\r\n"));
        // Our own offer must parse as a remote one, as the carrier reads it.
        let (agreed, _) = local().answer_offer(offer.as_bytes()).unwrap();
        assert_eq!(agreed.codec, Codec::Pcmu);
        assert_eq!(agreed.dtmf_payload_type, Some(101));
    }

    #[test]
    fn codec_comes_from_the_answer() {
        let a = answer(
            "m=audio 16000 RTP/AVP 8 101",
            "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n",
        );
        let agreed = local().accept_answer(&a).unwrap();
        assert_eq!(agreed.codec, Codec::Pcma);
        assert_eq!(agreed.remote, "10.0.0.9:16000".parse().unwrap());
        assert_eq!(agreed.dtmf_payload_type, Some(101));
        assert_eq!(agreed.direction, Direction::SendRecv);
    }

    #[test]
    fn static_payload_types_without_rtpmap_and_other_dtmf_pt() {
        let a = answer(
            "m=audio 7078 RTP/AVP 0 96",
            "a=rtpmap:96 telephone-event/8000\r\n",
        );
        let agreed = local().accept_answer(&a).unwrap();
        assert_eq!(agreed.codec, Codec::Pcmu);
        assert_eq!(agreed.dtmf_payload_type, Some(96));
    }

    #[test]
    fn media_level_connection_overrides_session_level() {
        let a = answer(
            "m=audio 5004 RTP/AVP 0",
            "c=IN IP4 192.0.2.7\r\na=sendonly\r\n",
        );
        let agreed = local().accept_answer(&a).unwrap();
        assert_eq!(agreed.remote, "192.0.2.7:5004".parse().unwrap());
        assert_eq!(agreed.direction, Direction::SendOnly);
        assert_eq!(agreed.dtmf_payload_type, None);
    }

    #[test]
    fn unknown_codec_in_the_answer_is_named() {
        let a = answer("m=audio 16000 RTP/AVP 18", "a=rtpmap:18 G729/8000\r\n");
        let err = local().accept_answer(&a).unwrap_err();
        assert_eq!(
            err,
            SdpError::NoCommonCodec {
                listed: "18 G729/8000".into(),
                supported: "PCMU, PCMA".into()
            }
        );
        assert!(err.to_string().contains("G729"));
    }

    #[test]
    fn broken_answers_are_errors_not_panics() {
        assert!(matches!(
            local().accept_answer(&answer("m=audio 0 RTP/AVP 0", "")),
            Err(SdpError::AudioRejected)
        ));
        assert!(matches!(
            local().accept_answer(&answer("m=video 5000 RTP/AVP 31", "")),
            Err(SdpError::NoAudio)
        ));
        assert!(local().accept_answer(b"garbage").is_err());
        assert!(local().accept_answer(b"").is_err());
        let no_c = b"v=0\r\no=x 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
        assert!(matches!(
            local().accept_answer(no_c),
            Err(SdpError::Address(_))
        ));
    }

    #[test]
    fn ipv6_answers_work() {
        let a = b"v=0\r\no=x 1 1 IN IP6 ::1\r\ns=-\r\nc=IN IP6 ::1\r\nt=0 0\r\nm=audio 5000 RTP/AVP 0\r\n";
        assert_eq!(
            local().accept_answer(a).unwrap().remote,
            "[::1]:5000".parse().unwrap()
        );
    }
}
