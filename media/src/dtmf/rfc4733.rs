//! RFC 4733 telephone-events: the payload format, and one digit per key press.

use super::{event_for_key, key_for_event};

/// One telephone-event payload (RFC 4733 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    /// Event code: 0-9, 10 = `*`, 11 = `#`, 12-15 = `A`-`D`.
    pub event: u8,
    /// The E bit: this packet ends the event.
    pub end: bool,
    /// Power level in -dBm0 (0-63).
    pub volume: u8,
    /// Duration so far, in timestamp units (8 kHz samples).
    pub duration: u16,
}

impl TelephoneEvent {
    /// Parses the first four bytes of a telephone-event payload.
    pub fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let [event, flags, d0, d1] = *payload.first_chunk::<4>()?;
        Some(TelephoneEvent {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3F,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let flags = (u8::from(self.end) << 7) | (self.volume & 0x3F);
        let [d0, d1] = self.duration.to_be_bytes();
        [self.event, flags, d0, d1]
    }
}

/// Turns the packets of telephone-events into key presses, once each.
///
/// Every packet of one event carries the event's start timestamp, so a key
/// press is identified by `(timestamp, event)`: updates, the three end
/// packets and duplicates all share it. A press held longer than a 16-bit
/// duration allows is sent as segments with new timestamps (RFC 4733
/// §2.5.1.3); a segment that continues an unfinished event of the same key
/// is not a new press.
#[derive(Debug, Default)]
pub struct DigitCollector {
    recent: [Option<(u32, u8)>; 8],
    next_slot: usize,
    open: Option<OpenEvent>,
}

#[derive(Debug, Clone, Copy)]
struct OpenEvent {
    timestamp: u32,
    event: u8,
    duration: u16,
    ended: bool,
}

impl DigitCollector {
    pub fn new() -> DigitCollector {
        DigitCollector::default()
    }

    /// Feeds one telephone-event packet; returns the key when it starts a new press.
    pub fn handle(&mut self, rtp_timestamp: u32, ev: TelephoneEvent) -> Option<char> {
        let key = key_for_event(ev.event)?;
        let seen = self.recent.contains(&Some((rtp_timestamp, ev.event)));
        let continues_open = self.open.is_some_and(|open| {
            !open.ended
                && open.event == ev.event
                && open.timestamp != rtp_timestamp
                && rtp_timestamp.wrapping_sub(open.timestamp) <= u32::from(open.duration) + 800
        });
        match &mut self.open {
            Some(open) if open.timestamp == rtp_timestamp && open.event == ev.event => {
                open.duration = open.duration.max(ev.duration);
                open.ended |= ev.end;
            }
            _ if seen => {}
            open => {
                *open = Some(OpenEvent {
                    timestamp: rtp_timestamp,
                    event: ev.event,
                    duration: ev.duration,
                    ended: ev.end,
                });
            }
        }
        if seen {
            return None;
        }
        self.recent[self.next_slot] = Some((rtp_timestamp, ev.event));
        self.next_slot = (self.next_slot + 1) % self.recent.len();
        (!continues_open).then_some(key)
    }
}

/// The payloads that press `key` for `duration_ms`, one per 20 ms packet,
/// with the marker flag for each: updates while the key is held, then the
/// end packet three times (RFC 4733 §2.5.1.4). All share one RTP timestamp.
pub fn event_packets(key: char, duration_ms: u32) -> Option<Vec<(bool, [u8; 4])>> {
    let event = event_for_key(key)?;
    let steps = (duration_ms / 20).clamp(2, 400);
    let mut packets = Vec::with_capacity(steps as usize + 2);
    for step in 1..steps {
        let ev = TelephoneEvent {
            event,
            end: false,
            volume: 10,
            duration: (step * 160) as u16,
        };
        packets.push((step == 1, ev.to_bytes()));
    }
    let end = TelephoneEvent {
        event,
        end: true,
        volume: 10,
        duration: (steps * 160) as u16,
    };
    packets.extend(std::iter::repeat_n((false, end.to_bytes()), 3));
    Some(packets)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(c: &mut DigitCollector, ts: u32, packets: &[(bool, [u8; 4])]) -> Vec<char> {
        packets
            .iter()
            .filter_map(|(_, p)| c.handle(ts, TelephoneEvent::parse(p).unwrap()))
            .collect()
    }

    #[test]
    fn parse_and_serialize_round_trip() {
        let ev = TelephoneEvent {
            event: 11,
            end: true,
            volume: 10,
            duration: 1280,
        };
        assert_eq!(ev.to_bytes(), [11, 0x8A, 0x05, 0x00]);
        assert_eq!(TelephoneEvent::parse(&ev.to_bytes()), Some(ev));
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn one_press_is_one_digit_however_many_packets() {
        let mut c = DigitCollector::new();
        let packets = event_packets('1', 160).unwrap();
        assert_eq!(packets.len(), 7 + 3, "7 updates and 3 end packets");
        assert!(
            packets[0].0 && !packets[1].0,
            "marker on the first packet only"
        );
        assert_eq!(feed(&mut c, 48_000, &packets), vec!['1']);
        // A late duplicate of the whole burst changes nothing.
        assert_eq!(feed(&mut c, 48_000, &packets), Vec::<char>::new());
    }

    #[test]
    fn repeated_key_with_new_timestamp_counts_again() {
        let mut c = DigitCollector::new();
        let packets = event_packets('5', 100).unwrap();
        assert_eq!(feed(&mut c, 1_000, &packets), vec!['5']);
        assert_eq!(feed(&mut c, 9_000, &packets), vec!['5']);
        assert_eq!(
            feed(&mut c, 17_000, &event_packets('#', 100).unwrap()),
            vec!['#']
        );
    }

    #[test]
    fn only_end_packets_still_give_the_digit() {
        let mut c = DigitCollector::new();
        let end = *event_packets('9', 100).unwrap().last().unwrap();
        assert_eq!(feed(&mut c, 5, &[end, end, end]), vec!['9']);
    }

    #[test]
    fn long_press_segments_are_one_digit() {
        let mut c = DigitCollector::new();
        let seg = |duration: u16, end| TelephoneEvent {
            event: 0,
            end,
            volume: 10,
            duration,
        };
        assert_eq!(c.handle(0, seg(65_000, false)), Some('0'));
        // The next segment starts where the first one's duration reached.
        assert_eq!(c.handle(65_000, seg(800, false)), None);
        assert_eq!(c.handle(65_000, seg(1_600, true)), None);
        // After the end a new press of the same key counts.
        assert_eq!(c.handle(80_000, seg(800, true)), Some('0'));
    }

    #[test]
    fn non_key_events_are_ignored() {
        let mut c = DigitCollector::new();
        let flash = TelephoneEvent {
            event: 16,
            end: false,
            volume: 0,
            duration: 160,
        };
        assert_eq!(c.handle(0, flash), None);
    }
}
