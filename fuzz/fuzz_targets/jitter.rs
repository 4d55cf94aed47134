//! Any sequence of arrivals (reordered, duplicated, restarted streams,
//! absurd timestamps, empty and huge payloads) and playout ticks: the
//! jitter buffer never panics and its memory stays bounded.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use media::Codec;
use media::rtp::{JitterBuffer, JitterConfig, PacketHeader};

fuzz_target!(|data: &[u8]| {
    let mut buffer = JitterBuffer::new(JitterConfig::default()).unwrap();
    let start = Instant::now();
    let mut now = start;
    let capacity = buffer.capacity_samples();
    // Each step: 12 bytes of header and timing, then a payload length.
    for step in data.chunks(14) {
        if step.len() < 14 {
            break;
        }
        let advance_ms = u64::from(step[0] % 64);
        now += Duration::from_millis(advance_ms);
        if step[1] & 1 == 1 {
            let _ = buffer.poll_frame(now);
            continue;
        }
        let header = PacketHeader {
            ssrc: u32::from(step[2] % 3),
            sequence: u16::from_be_bytes([step[3], step[4]]),
            timestamp: u32::from_be_bytes([step[5], step[6], step[7], step[8]]),
            marker: step[9] & 1 == 1,
        };
        let len = usize::from(u16::from_be_bytes([step[10], step[11]]) % 1_500);
        let payload = vec![step[12]; len];
        let _ = buffer.handle_g711(now, header, Codec::Pcmu, &payload);
        assert!(
            buffer.held_samples() <= capacity,
            "the buffer grew past its bound"
        );
    }
    let _ = buffer.stats();
});
