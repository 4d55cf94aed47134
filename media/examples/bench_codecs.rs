//! What each codec costs: coding a prompt once (the first call that plays
//! it), and coding and decoding a stream 20 ms at a time (a bridged leg).
//!
//! ```sh
//! cargo run -p media --release --example bench_codecs -- [SECONDS]
//! ```
//!
//! Codes SECONDS (default 30) of a 1 kHz tone whole, as a prompt is, then
//! again packet by packet with a stream encoder, and decodes it packet by
//! packet; prints the time of each and the microseconds per 20 ms packet.

// A benchmark reads the clock.
#![allow(clippy::disallowed_methods)]

use std::time::Instant;

use media::Codec;
use media::codec::{Decoder, Encoder, FRAME_SAMPLES};

fn main() {
    let seconds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("SECONDS is a whole number"))
        .unwrap_or(30);
    let pcm: Vec<i16> = (0..8_000 * seconds)
        .map(|n| (n as f64 * 1_000.0 * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0)
        .map(|s| s as i16)
        .collect();
    let packets = pcm.len() / FRAME_SAMPLES;
    println!("{seconds} s of audio, {packets} packets of 20 ms");
    println!("codec  prompt coded once   stream encode   stream decode");
    for codec in Codec::ALL {
        let started = Instant::now();
        let mut whole = Vec::new();
        codec.encode(&pcm, &mut whole);
        let once = started.elapsed();

        let mut encoder = Encoder::new(codec);
        let mut coded = Vec::with_capacity(whole.len());
        let started = Instant::now();
        for frame in pcm.chunks(FRAME_SAMPLES) {
            encoder.encode(frame, &mut coded);
        }
        let encode = started.elapsed();

        let mut decoder = Decoder::new(codec);
        let mut decoded = Vec::with_capacity(pcm.len());
        let started = Instant::now();
        for packet in coded.chunks(FRAME_SAMPLES) {
            decoder.decode(packet, &mut decoded);
        }
        let decode = started.elapsed();
        assert_eq!((coded.len(), decoded.len()), (pcm.len(), pcm.len()));
        let per_packet = |d: std::time::Duration| d.as_secs_f64() * 1e6 / packets as f64;
        println!(
            "{:<5}  {:>8.2} ms ({:.2} ms/s)  {:>6.2} µs/packet  {:>6.2} µs/packet",
            codec.name(),
            once.as_secs_f64() * 1e3,
            once.as_secs_f64() * 1e3 / seconds as f64,
            per_packet(encode),
            per_packet(decode),
        );
    }
}
