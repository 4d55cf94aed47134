//! Talk-off and play-off: synthetic speech must give no digits, and our
//! prompt's echo none while it plays, while a real key over either is heard.

use super::*;

/// Parameters of one syllable of the synthetic voice.
#[derive(Clone, Copy)]
struct Syllable {
    pitch_hz: (f32, f32),
    /// F1, F2, F3 at the start; they glide to the next syllable's.
    formants_hz: [f32; 3],
    millis: u32,
}

/// Deterministic "speech": voiced syllables (harmonics of a pitch gliding
/// between 100 and 300 Hz, shaped by three gliding formants), separated by
/// pauses, fricative noise and plosive bursts. Its long-term level is about
/// `dbm0`.
fn speech(seconds: u32, dbm0: f32, seed: u64) -> Audio {
    voice(seconds, dbm0, seed, 1.0)
}

/// Like [`speech`], but each syllable's pitch ends within `glide` (a
/// fraction) of where it began: sustained, sung-like vowels.
fn voice(seconds: u32, dbm0: f32, seed: u64, glide: f32) -> Audio {
    let mut rng = Noise::new(seed);
    let mut pick = |lo: f32, hi: f32| lo + (hi - lo) * rng.uniform();
    let mut audio = Vec::new();
    let total = ms(seconds * 1_000);
    let mut next = Syllable {
        pitch_hz: (200.0, pick(100.0, 300.0)),
        formants_hz: [
            pick(300.0, 850.0),
            pick(850.0, 2_300.0),
            pick(2_300.0, 3_200.0),
        ],
        millis: pick(120.0, 350.0) as u32,
    };
    let mut phase = 0.0f32;
    let mut noise = Noise::new(seed ^ 0x5EED);
    while audio.len() < total {
        let this = next;
        let end = this.pitch_hz.1;
        next = Syllable {
            pitch_hz: (
                end,
                pick(end * (1.0 - glide), end * (1.0 + glide)).clamp(100.0, 300.0),
            ),
            formants_hz: [
                pick(300.0, 850.0),
                pick(850.0, 2_300.0),
                pick(2_300.0, 3_200.0),
            ],
            millis: pick(120.0, 350.0) as u32,
        };
        let n = ms(this.millis);
        for i in 0..n {
            let t = i as f32 / n as f32;
            let f0 = this.pitch_hz.0 + (this.pitch_hz.1 - this.pitch_hz.0) * t;
            // A little vibrato keeps harmonics from sitting still.
            let f0 = f0 * (1.0 + 0.01 * (TAU * 5.0 * i as f32 / SAMPLE_RATE).sin());
            let formants: [f32; 3] = std::array::from_fn(|k| {
                this.formants_hz[k] + (next.formants_hz[k] - this.formants_hz[k]) * t
            });
            phase = (phase + TAU * f0 / SAMPLE_RATE) % TAU;
            // sin(k·phase) by the Chebyshev recurrence.
            let two_cos = 2.0 * phase.cos();
            let (mut s_prev, mut s) = (0.0f32, phase.sin());
            let mut x = 0.0;
            let mut k = 1.0;
            while k * f0 < 3_800.0 {
                x += envelope(k * f0, &formants) * s;
                (s_prev, s) = (s, two_cos * s - s_prev);
                k += 1.0;
            }
            let attack_decay = (std::f32::consts::PI * t).sin().sqrt();
            audio.push(x * attack_decay);
        }
        // Between syllables: a pause, a fricative or a plosive.
        match (pick(0.0, 3.0)) as u32 {
            0 => audio.extend(std::iter::repeat_n(0.0, ms(pick(30.0, 120.0) as u32))),
            1 => {
                let mut last = 0.0;
                for _ in 0..ms(pick(40.0, 120.0) as u32) {
                    let white = noise.gaussian();
                    audio.push(0.6 * (white - last));
                    last = white;
                }
            }
            _ => audio.extend((0..ms(pick(8.0, 25.0) as u32)).map(|_| 1.5 * noise.gaussian())),
        }
    }
    audio.truncate(total);
    let power = audio.iter().map(|x| x * x).sum::<f32>() / audio.len() as f32;
    let scale = (dbm0_to_power(dbm0) / power).sqrt();
    Audio(audio.into_iter().map(|x| x * scale).collect())
}

/// Gain of a harmonic at `hz`: three formant resonances over a falling
/// spectral tilt.
fn envelope(hz: f32, formants: &[f32; 3]) -> f32 {
    let bandwidths = [90.0, 110.0, 170.0];
    let gains = [1.0, 0.6, 0.3];
    let resonance: f32 = (0..3)
        .map(|i| gains[i] / (1.0 + ((hz - formants[i]) / bandwidths[i]).powi(2)))
        .sum();
    resonance * (300.0 / hz.max(300.0))
}

#[test]
fn synthetic_speech_gives_no_digits() {
    for (seed, dbm0) in [(1, -10.0), (2, -15.0), (3, -20.0), (4, -25.0), (5, -5.0)] {
        let pcm = speech(8, dbm0, seed).pcm();
        let digits = detect(&pcm);
        assert!(digits.is_empty(), "seed {seed} at {dbm0} dBm0: {digits:?}");
    }
}

#[test]
fn sustained_vowels_give_no_digits() {
    // The hard case: a held pitch whose two strongest harmonics can sit
    // still on a key's frequencies, with little energy elsewhere.
    for (seed, dbm0) in [(41, -8.0), (42, -12.0), (43, -16.0), (44, -20.0)] {
        let pcm = voice(8, dbm0, seed, 0.03).pcm();
        let digits = detect(&pcm);
        assert!(digits.is_empty(), "seed {seed} at {dbm0} dBm0: {digits:?}");
    }
}

#[test]
fn synthetic_speech_through_g711_gives_no_digits() {
    for codec in Codec::ALL {
        let mut bytes = Vec::new();
        codec.encode(&speech(6, -12.0, 11).pcm(), &mut bytes);
        let mut pcm = Vec::new();
        codec.decode(&bytes, &mut pcm);
        assert_eq!(keys(&pcm), "", "{codec}");
    }
}

#[test]
fn a_key_pressed_while_the_debtor_talks_is_heard() {
    let talk = speech(3, -25.0, 21);
    let key = Audio::default().key('8', -8.0, 80);
    let pcm = talk.mix(&key, ms(1_500)).pcm();
    assert_eq!(keys(&pcm), "8");
}

/// A prompt with a jingle of DTMF-like chords in it (a music bed, or a
/// recording of someone pressing keys), at full level.
fn prompt_with_chords() -> Audio {
    let voice = speech(3, -12.0, 31);
    let jingle = ['1', '5', '9', '1', '5', '9']
        .into_iter()
        .fold(Audio::default(), |a, key| a.key(key, -3.0, 150).silence(30));
    voice.mix(&jingle, ms(1_000))
}

#[test]
fn the_prompts_echo_gives_no_digits_while_it_plays() {
    let echo = prompt_with_chords().gain_db(-20.0).pcm();
    let mut detector = InbandDetector::default();
    detector.set_playing(true);
    assert_eq!(detect_with(&mut detector, &echo, 160), vec![]);
    // Without being told, the detector takes the echoed chords for keys:
    // that is what set_playing is for.
    assert_ne!(keys(&echo), "");
}

#[test]
fn a_real_key_over_the_prompts_echo_is_heard() {
    let echo = prompt_with_chords().gain_db(-20.0);
    // Pressed during the echoed chords, and again during the voice.
    let press = Audio::default().key('#', -8.0, 80);
    let pcm = echo.mix(&press, ms(1_200)).mix(&press, ms(2_500)).pcm();
    let mut detector = InbandDetector::default();
    detector.set_playing(true);
    let heard: String = detect_with(&mut detector, &pcm, 160)
        .iter()
        .map(|d| d.key)
        .collect();
    assert_eq!(heard, "##");
}

#[test]
fn a_soft_key_over_a_prompt_is_the_price_of_the_echo_guard() {
    // -22 dBm0 per tone: above the -30 dBm0 floor, below the -18 dBm0 one
    // that holds while a prompt plays.
    let pcm = Audio::default()
        .silence(100)
        .key('0', -22.0, 100)
        .silence(100)
        .pcm();
    let mut playing = InbandDetector::default();
    playing.set_playing(true);
    assert_eq!(detect_with(&mut playing, &pcm, 160), vec![]);
    assert_eq!(keys(&pcm), "0");
    // Once the prompt ends, the same key is heard again.
    playing.set_playing(false);
    let heard = detect_with(&mut playing, &pcm, 160);
    assert_eq!(heard.iter().map(|d| d.key).collect::<String>(), "0");
}
