//! How much CPU the in-band DTMF detector costs per call: feeds it 60 s of
//! audio in 20 ms frames, as a call's receive path would, and prints the
//! time per frame and the share of one core a call takes. Speed is measured here,
//! not asserted in tests (docs/BENCHMARKS.md).
//!
//! `cargo run -p media --release --example bench_inband`

// A benchmark reads the clock; the detector it measures does not.
#![allow(clippy::disallowed_methods)]

use std::hint::black_box;
use std::time::Instant;

use media::dtmf::InbandDetector;

const FRAME: usize = 160;

fn main() {
    let seconds = 60;
    // A voice-like signal (harmonics of a gliding pitch, which reaches the
    // detector's finer tests more often than silence does) with a key
    // pressed every second; then a key held throughout, the worst case:
    // every window goes through every test.
    for (name, key_every) in [
        ("voice, a key each second", 8_000),
        ("key held throughout", 1),
    ] {
        let pcm = audio(seconds, key_every);
        for run in 1..=3 {
            measure(name, run, seconds, &pcm);
        }
    }
}

fn audio(seconds: usize, key_every: usize) -> Vec<i16> {
    let tau = std::f32::consts::TAU;
    let mut phase = 0.0f32;
    (0..seconds * 8_000)
        .map(|n| {
            let t = n as f32 / 8_000.0;
            let pitch = 150.0 + 60.0 * (t * 1.3).sin();
            phase = (phase + tau * pitch / 8_000.0) % tau;
            let voice: f32 = (1..20).map(|k| (k as f32 * phase).sin() / k as f32).sum();
            let key = if key_every == 1 || n % key_every < 640 {
                (tau * 770.0 * t).sin() + (tau * 1336.0 * t).sin()
            } else {
                0.0
            };
            let voice_level = if key_every == 1 { 0.0 } else { 1_500.0 };
            (voice_level * voice + 7_000.0 * key) as i16
        })
        .collect()
}

fn measure(name: &str, run: u32, seconds: usize, pcm: &[i16]) {
    let frames = pcm.len() / FRAME;
    let mut detector = InbandDetector::default();
    let mut digits = 0;
    let start = Instant::now();
    for frame in pcm.chunks(FRAME) {
        detector.handle_samples(black_box(frame));
        while detector.poll_digit().is_some() {
            digits += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let core_share = elapsed / seconds as f64;
    println!(
        "{name}, run {run}: {seconds} s of audio in {:.1} ms, {:.2} µs per 20 ms frame, \
         {:.4}% of a core per call (~{:.0} calls per core), {digits} digits",
        elapsed * 1e3,
        elapsed * 1e6 / frames as f64,
        core_share * 100.0,
        1.0 / core_share,
    );
}
