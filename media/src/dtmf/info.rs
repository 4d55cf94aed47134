//! Key presses sent in SIP INFO requests, as some trunks do instead of (or
//! besides) RFC 4733 events.
//!
//! Two bodies are in use: `application/dtmf-relay` (Cisco and most
//! gateways: `Signal=5` and `Duration=160` lines) and `application/dtmf`
//! (the key alone). Anything else is not a key press. This only reads the
//! body; the SIP edge answers the INFO.

use super::key_for_event;

/// What an INFO body says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoDtmf {
    /// A key, with the duration when the body gives one.
    Key { key: char, duration_ms: Option<u32> },
    /// A DTMF body we cannot read (the sender should hear 400).
    Unreadable(String),
    /// Not a DTMF content type (another INFO package).
    NotDtmf,
}

/// Reads an INFO request's body by its `Content-Type`.
pub fn parse_info(content_type: Option<&str>, body: &[u8]) -> InfoDtmf {
    let kind = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let text = String::from_utf8_lossy(body);
    match kind.as_str() {
        "application/dtmf-relay" => dtmf_relay(&text),
        "application/dtmf" => match key_of(text.trim()) {
            Some(key) => InfoDtmf::Key {
                key,
                duration_ms: None,
            },
            None => InfoDtmf::Unreadable(format!(
                "application/dtmf body '{}' is not a key",
                text.trim()
            )),
        },
        _ => InfoDtmf::NotDtmf,
    }
}

fn dtmf_relay(text: &str) -> InfoDtmf {
    let mut key = None;
    let mut duration_ms = None;
    for line in text.lines() {
        let Some((name, value)) = line.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "signal" => key = Some(value.trim().to_owned()),
            "duration" => duration_ms = value.trim().parse().ok(),
            _ => {}
        }
    }
    let Some(signal) = key else {
        return InfoDtmf::Unreadable("application/dtmf-relay body has no Signal= line".into());
    };
    match key_of(&signal) {
        Some(key) => InfoDtmf::Key { key, duration_ms },
        None => InfoDtmf::Unreadable(format!("Signal={signal} is not a key")),
    }
}

/// A key written as itself (`5`, `*`, `#`, `A`) or as its event code (`10` = `*`).
fn key_of(text: &str) -> Option<char> {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_digit() || "*#ABCDabcd".contains(c) => {
            Some(c.to_ascii_uppercase())
        }
        _ => text.parse::<u8>().ok().and_then(key_for_event),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_and_dtmf_bodies_as_gateways_send_them() {
        assert_eq!(
            parse_info(
                Some("application/dtmf-relay"),
                b"Signal=5\r\nDuration=160\r\n"
            ),
            InfoDtmf::Key {
                key: '5',
                duration_ms: Some(160)
            }
        );
        assert_eq!(
            parse_info(
                Some("Application/DTMF-Relay; charset=x"),
                b"signal= *\nduration=250"
            ),
            InfoDtmf::Key {
                key: '*',
                duration_ms: Some(250)
            }
        );
        // Event codes for * and #, as some send them.
        assert!(matches!(
            parse_info(Some("application/dtmf-relay"), b"Signal=11\r\n"),
            InfoDtmf::Key { key: '#', .. }
        ));
        assert_eq!(
            parse_info(Some("application/dtmf"), b"9\r\n"),
            InfoDtmf::Key {
                key: '9',
                duration_ms: None
            }
        );
        assert!(matches!(
            parse_info(Some("application/dtmf"), b"a"),
            InfoDtmf::Key { key: 'A', .. }
        ));
    }

    #[test]
    fn other_packages_and_nonsense_are_told_apart() {
        assert_eq!(
            parse_info(Some("application/media_control+xml"), b"<x/>"),
            InfoDtmf::NotDtmf
        );
        assert_eq!(parse_info(None, b"Signal=5"), InfoDtmf::NotDtmf);
        assert!(matches!(
            parse_info(Some("application/dtmf-relay"), b"Duration=160"),
            InfoDtmf::Unreadable(_)
        ));
        assert!(matches!(
            parse_info(Some("application/dtmf-relay"), b"Signal=16"),
            InfoDtmf::Unreadable(_)
        ));
        assert!(matches!(
            parse_info(Some("application/dtmf"), b"55"),
            InfoDtmf::Unreadable(_)
        ));
    }
}
