//! What became of one call attempt: its disposition (tipificación de marcación).

#![deny(clippy::disallowed_methods)]

use std::fmt;
use std::str::FromStr;

/// The outcome of an attempt, in the words operators filter reports by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Disposition {
    /// A person picked up and heard the message (or a machine did, when the
    /// campaign does not detect machines).
    Answered,
    /// An answering machine picked up (the campaign's `[amd]` detected it):
    /// the message for machines was left after its beep, or the dialer hung up.
    Machine,
    /// 486 Busy Here, 600 Busy Everywhere.
    Busy,
    /// Rang until the ring timeout (we sent CANCEL; 487), or the carrier
    /// reported no answer (408).
    NoAnswer,
    /// 403 Forbidden, 603 Decline: the callee or network refused the call.
    Rejected,
    /// 404, 484, 410, 485, 604: the number does not exist as dialed.
    InvalidNumber,
    /// 480, 503, 502, 504: the network or trunk could not take the call now;
    /// counted against the trunk.
    Congestion,
    /// No SIP response at all, or the transport failed: the trunk is down or
    /// misconfigured. The debtor was never reached.
    TrunkFailure,
    /// Any other failure (other 4xx/5xx/6xx, an unusable SDP answer).
    Error,
    /// Answered, then no RTP at all from the far end for the trunk's
    /// `rtp_timeout_s`: the line went dead; the dialer hung up.
    MediaTimeout,
    /// The operator stopped the run while the call was in flight.
    Interrupted,
    /// Found unfinished after a crash: the outcome cannot be known.
    Unknown,
}

impl Disposition {
    pub const ALL: [Disposition; 12] = [
        Disposition::Answered,
        Disposition::Machine,
        Disposition::Busy,
        Disposition::NoAnswer,
        Disposition::Rejected,
        Disposition::InvalidNumber,
        Disposition::Congestion,
        Disposition::TrunkFailure,
        Disposition::Error,
        Disposition::MediaTimeout,
        Disposition::Interrupted,
        Disposition::Unknown,
    ];

    /// The disposition of an INVITE that ended with a final failure response.
    pub fn from_failure_code(code: u16) -> Disposition {
        match code {
            486 | 600 => Disposition::Busy,
            408 | 487 => Disposition::NoAnswer,
            403 | 603 => Disposition::Rejected,
            404 | 410 | 484 | 485 | 604 => Disposition::InvalidNumber,
            480 | 502 | 503 | 504 => Disposition::Congestion,
            _ => Disposition::Error,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Disposition::Answered => "answered",
            Disposition::Machine => "machine",
            Disposition::Busy => "busy",
            Disposition::NoAnswer => "no_answer",
            Disposition::Rejected => "rejected",
            Disposition::InvalidNumber => "invalid_number",
            Disposition::Congestion => "congestion",
            Disposition::TrunkFailure => "trunk_failure",
            Disposition::Error => "error",
            Disposition::MediaTimeout => "media_timeout",
            Disposition::Interrupted => "interrupted",
            Disposition::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Disposition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Disposition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Disposition::ALL
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown disposition '{s}'"))
    }
}

/// Which side ended an answered call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HangupBy {
    Dialer,
    Callee,
}

impl HangupBy {
    pub const fn as_str(self) -> &'static str {
        match self {
            HangupBy::Dialer => "dialer",
            HangupBy::Callee => "callee",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_codes_map_as_operators_expect() {
        use Disposition::*;
        let cases = [
            (486, Busy),
            (600, Busy),
            (487, NoAnswer),
            (403, Rejected),
            (603, Rejected),
            (404, InvalidNumber),
            (484, InvalidNumber),
            (480, Congestion),
            (503, Congestion),
            (488, Error),
            (500, Error),
        ];
        for (code, expected) in cases {
            assert_eq!(Disposition::from_failure_code(code), expected, "{code}");
        }
    }

    #[test]
    fn names_round_trip() {
        for d in Disposition::ALL {
            assert_eq!(d.as_str().parse::<Disposition>(), Ok(d));
        }
    }
}
