//! The in-band detector against generated audio: every key, the Q.24 limits
//! of frequency, twist, level and duration, noise, synthetic speech, prompt
//! echo, G.711 and chunking.

use super::*;
use crate::codec::Codec;

const KEYS_ALL: &str = "123A456B789C*0#D";

/// Samples in `ms` milliseconds at 8 kHz.
fn ms(ms: u32) -> usize {
    ms as usize * 8
}

/// Amplitude of a sine at `dbm0`.
fn amplitude(dbm0: f32) -> f32 {
    DBM0_PEAK * 10f32.powf(dbm0 / 20.0)
}

/// A deterministic generator (xorshift64*), so every run hears the same noise.
struct Noise(u64);

impl Noise {
    /// Any seed, zero included (xorshift's state must not be zero).
    fn new(seed: u64) -> Noise {
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn uniform(&mut self) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40;
        bits as f32 / (1u64 << 24) as f32
    }

    /// Unit-variance Gaussian, by summing twelve uniforms.
    fn gaussian(&mut self) -> f32 {
        (0..12).map(|_| self.uniform()).sum::<f32>() - 6.0
    }
}

/// Audio being built, in floating point until it is sent.
#[derive(Default, Clone)]
struct Audio(Vec<f32>);

impl Audio {
    fn silence(self, millis: u32) -> Audio {
        self.silence_samples(ms(millis))
    }

    fn silence_samples(mut self, n: usize) -> Audio {
        self.0.extend(std::iter::repeat_n(0.0, n));
        self
    }

    /// One tone at `hz` and `dbm0` for `millis`.
    fn tone(mut self, hz: f32, dbm0: f32, millis: u32) -> Audio {
        let start = self.0.len();
        self.0.extend((0..ms(millis)).map(|n| {
            let t = (start + n) as f32 / SAMPLE_RATE;
            amplitude(dbm0) * (TAU * hz * t).sin()
        }));
        self
    }

    /// Two tones: `(hz, dBm0)` each, for `millis`.
    fn pair(mut self, low: (f32, f32), high: (f32, f32), millis: u32) -> Audio {
        let start = self.0.len();
        self.0.extend((0..ms(millis)).map(|n| {
            let t = (start + n) as f32 / SAMPLE_RATE;
            amplitude(low.1) * (TAU * low.0 * t).sin()
                + amplitude(high.1) * (TAU * high.0 * t + 1.0).sin()
        }));
        self
    }

    /// `key` at `dbm0` per tone for `millis`.
    fn key(self, key: char, dbm0: f32, millis: u32) -> Audio {
        let (low, high) = key_frequencies(key).unwrap();
        self.pair((low, dbm0), (high, dbm0), millis)
    }

    /// Adds `other` sample by sample, from `offset` on.
    fn mix(mut self, other: &Audio, offset: usize) -> Audio {
        let end = offset + other.0.len();
        if self.0.len() < end {
            self.0.resize(end, 0.0);
        }
        for (a, b) in self.0[offset..].iter_mut().zip(&other.0) {
            *a += b;
        }
        self
    }

    /// Adds white Gaussian noise of mean-square `power` throughout.
    fn noise(mut self, power: f32, seed: u64) -> Audio {
        let mut noise = Noise::new(seed);
        let sigma = power.sqrt();
        for x in &mut self.0 {
            *x += sigma * noise.gaussian();
        }
        self
    }

    fn gain_db(mut self, db: f32) -> Audio {
        let g = 10f32.powf(db / 20.0);
        self.0.iter_mut().for_each(|x| *x *= g);
        self
    }

    fn pcm(&self) -> Vec<i16> {
        self.0
            .iter()
            .map(|x| x.round().clamp(-32_768.0, 32_767.0) as i16)
            .collect()
    }
}

/// Feeds `pcm` in 20 ms frames, as RTP delivers it.
fn detect(pcm: &[i16]) -> Vec<InbandDigit> {
    detect_with(&mut InbandDetector::default(), pcm, 160)
}

fn detect_with(detector: &mut InbandDetector, pcm: &[i16], chunk: usize) -> Vec<InbandDigit> {
    let mut digits = Vec::new();
    for frame in pcm.chunks(chunk) {
        detector.handle_samples(frame);
        digits.extend(std::iter::from_fn(|| detector.poll_digit()));
    }
    digits
}

fn keys(pcm: &[i16]) -> String {
    detect(pcm).iter().map(|d| d.key).collect()
}

/// `key` alone: 100 ms of silence, the tone pair, 100 ms of silence.
fn lone(low: (f32, f32), high: (f32, f32), millis: u32) -> Vec<i16> {
    Audio::default()
        .silence(100)
        .pair(low, high, millis)
        .silence(100)
        .pcm()
}

fn frequencies(key: char) -> (f32, f32) {
    key_frequencies(key).unwrap()
}

#[test]
fn every_key_is_heard_once_where_it_starts() {
    for key in KEYS_ALL.chars() {
        let pcm = Audio::default()
            .silence(100)
            .key(key, -10.0, 60)
            .silence(100)
            .pcm();
        let digits = detect(&pcm);
        assert_eq!(digits.len(), 1, "{key}: {digits:?}");
        assert_eq!(digits[0].key, key);
        let onset = ms(100) as i64;
        let error = digits[0].start_sample as i64 - onset;
        assert!(error.abs() <= ms(10) as i64, "{key} starts {error} off");
    }
}

#[test]
fn keys_map_to_their_q23_frequencies() {
    assert_eq!(key_frequencies('5'), Some((770.0, 1336.0)));
    assert_eq!(key_frequencies('d'), Some((941.0, 1633.0)));
    assert_eq!(key_frequencies('#'), Some((941.0, 1477.0)));
    assert_eq!(key_frequencies('x'), None);
}

#[test]
fn frequencies_off_by_1_5_percent_are_accepted() {
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        for (dl, dh) in [(1.015, 1.0), (0.985, 1.0), (1.0, 1.015), (1.0, 0.985)]
            .into_iter()
            .chain([
                (1.015, 1.015),
                (0.985, 0.985),
                (1.015, 0.985),
                (0.985, 1.015),
            ])
        {
            let pcm = lone((low * dl, -10.0), (high * dh, -10.0), 60);
            assert_eq!(keys(&pcm), key.to_string(), "{key} at x{dl} / x{dh}");
        }
    }
}

#[test]
fn frequencies_off_by_3_5_percent_or_more_are_rejected() {
    // 6% off, a high tone is beyond the ±62.5 Hz the phase measurement
    // tells apart and wraps around: the power at the frequency it then
    // reports rejects it. (Further off, tones near the next key's are
    // that key.)
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        for off in [0.035, 0.05, 0.06] {
            for (dl, dh) in [
                (1.0 + off, 1.0),
                (1.0 - off, 1.0),
                (1.0, 1.0 + off),
                (1.0, 1.0 - off),
            ] {
                let pcm = lone((low * dl, -10.0), (high * dh, -10.0), 200);
                assert_eq!(keys(&pcm), "", "{key} at x{dl} / x{dh}");
            }
        }
    }
}

#[test]
fn tones_that_glide_like_a_voice_are_not_a_key() {
    // The low tone sweeps 755-785 Hz and back, always within 2% of 770 Hz.
    let sweep = |hz_per_ms: f32| {
        let mut phase = 0.0f32;
        let audio: Vec<f32> = (0..ms(300))
            .map(|n| {
                let t_ms = n as f32 / 8.0;
                let span = 30.0 / hz_per_ms;
                let up = (t_ms % (2.0 * span)) < span;
                let into = t_ms % span;
                let hz = if up {
                    755.0 + into * hz_per_ms
                } else {
                    785.0 - into * hz_per_ms
                };
                phase = (phase + TAU * hz / SAMPLE_RATE) % TAU;
                let t = n as f32 / SAMPLE_RATE;
                amplitude(-10.0) * (phase.sin() + (TAU * 1477.0 * t).sin())
            })
            .collect();
        Audio(audio).silence(100).pcm()
    };
    // 1 Hz per ms is 8 Hz (1%) from one window to the next: a voice.
    assert_eq!(keys(&sweep(1.0)), "");
    // A quarter of that is a key's oscillator drifting, or noise.
    assert_eq!(keys(&sweep(0.25)), "6");
}

#[test]
fn tones_that_are_harmonics_of_each_other_are_not_a_key() {
    // Each within 2.5% of a key's (6 and 2), but the high tone is exactly
    // twice the low one: two harmonics of one voice.
    assert_eq!(keys(&lone((754.0, -10.0), (1508.0, -10.0), 200)), "");
    assert_eq!(keys(&lone((682.0, -10.0), (1364.0, -10.0), 200)), "");
    // The same low tones with high tones 18 Hz off the harmonic are keys.
    assert_eq!(keys(&lone((754.0, -10.0), (1490.0, -10.0), 200)), "6");
    assert_eq!(keys(&lone((682.0, -10.0), (1346.0, -10.0), 200)), "2");
}

#[test]
fn a_strong_second_harmonic_is_not_a_key() {
    // Key 1 (697 + 1209 Hz), whose second harmonics 1394 and 2418 Hz are
    // clear of both tones, with one harmonic added at `db` below its tone.
    let with_harmonic = |hz: f32, db: f32| {
        let tones = Audio::default().key('1', -10.0, 200);
        let harmonic = Audio::default().tone(2.0 * hz, -10.0 + db, 200);
        Audio::default()
            .silence(100)
            .mix(&tones, ms(100))
            .mix(&harmonic, ms(100))
            .silence(100)
            .pcm()
    };
    for hz in [697.0, 1209.0] {
        assert_eq!(keys(&with_harmonic(hz, -10.0)), "", "{hz} Hz");
        assert_eq!(keys(&with_harmonic(hz, -25.0)), "1", "{hz} Hz");
    }
}

#[test]
fn twist_at_the_limits_is_accepted() {
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        // Normal twist: the low tone 8 dB louder; reverse: the high 4 dB.
        let normal = lone((low, -6.0), (high, -14.0), 60);
        assert_eq!(keys(&normal), key.to_string(), "{key}, normal twist 8 dB");
        let reverse = lone((low, -10.0), (high, -6.0), 60);
        assert_eq!(keys(&reverse), key.to_string(), "{key}, reverse twist 4 dB");
    }
}

#[test]
fn twist_beyond_the_limits_is_rejected() {
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        let normal = lone((low, -6.0), (high, -15.5), 200);
        assert_eq!(keys(&normal), "", "{key}, normal twist 9.5 dB");
        let reverse = lone((low, -11.5), (high, -6.0), 200);
        assert_eq!(keys(&reverse), "", "{key}, reverse twist 5.5 dB");
    }
}

#[test]
fn keys_down_to_minus_25_dbm0_are_heard_and_fainter_ones_are_not() {
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        assert_eq!(
            keys(&lone((low, -25.0), (high, -25.0), 60)),
            key.to_string()
        );
        assert_eq!(keys(&lone((low, -36.0), (high, -36.0), 200)), "", "{key}");
    }
}

#[test]
fn forty_ms_and_36_ms_are_accepted_wherever_they_fall_in_the_windows() {
    for millis in [36, 40] {
        for (i, key) in KEYS_ALL.chars().enumerate() {
            for offset in (0..HOP as u32).step_by(4) {
                let pcm = Audio::default()
                    .silence(100)
                    .silence_samples(offset as usize + i)
                    .key(key, -10.0, millis)
                    .silence(100)
                    .pcm();
                let heard = keys(&pcm);
                assert_eq!(
                    heard,
                    key.to_string(),
                    "{key}, {millis} ms, offset {offset}"
                );
            }
        }
    }
}

#[test]
fn twenty_ms_and_23_ms_are_rejected_wherever_they_fall_in_the_windows() {
    for millis in [20, 23] {
        for (i, key) in KEYS_ALL.chars().enumerate() {
            for offset in (0..HOP as u32).step_by(4) {
                let pcm = Audio::default()
                    .silence(100)
                    .silence_samples(offset as usize + i)
                    .key(key, -10.0, millis)
                    .silence(100)
                    .pcm();
                assert_eq!(keys(&pcm), "", "{key}, {millis} ms, offset {offset}");
            }
        }
    }
}

/// The sixteen keys, 50 ms each with 50 ms pauses, at `dbm0` per tone.
fn all_keys(dbm0: f32) -> Audio {
    KEYS_ALL
        .chars()
        .fold(Audio::default().silence(60), |a, key| {
            a.key(key, dbm0, 50).silence(50)
        })
}

#[test]
fn keys_are_heard_through_white_noise_at_15_db_snr() {
    // Each tone at -10 dBm0: the pair's power is 3 dB above one tone's.
    let key_power = 2.0 * dbm0_to_power(-10.0);
    for seed in 1..=4 {
        let pcm = all_keys(-10.0)
            .noise(key_power / 10f32.powf(1.5), seed)
            .pcm();
        assert_eq!(keys(&pcm), KEYS_ALL, "seed {seed}");
    }
}

#[test]
fn keys_at_the_twist_limit_are_heard_through_noise_at_20_db_snr() {
    for key in KEYS_ALL.chars() {
        let (low, high) = frequencies(key);
        let power = dbm0_to_power(-6.0) + dbm0_to_power(-14.0);
        let pcm = Audio::default()
            .silence(100)
            .pair((low, -6.0), (high, -14.0), 60)
            .silence(100)
            .noise(power / 100.0, u64::from(key))
            .pcm();
        assert_eq!(keys(&pcm), key.to_string());
    }
}

#[test]
fn a_held_key_is_one_digit() {
    let pcm = Audio::default()
        .silence(50)
        .key('7', -8.0, 2_000)
        .silence(50)
        .pcm();
    assert_eq!(keys(&pcm), "7");
}

#[test]
fn a_10_ms_dropout_does_not_split_a_press() {
    for offset in (0..HOP).step_by(8) {
        let pcm = Audio::default()
            .silence(50)
            .silence_samples(offset)
            .key('3', -8.0, 200)
            .silence(10)
            .key('3', -8.0, 200)
            .silence(50)
            .pcm();
        assert_eq!(keys(&pcm), "3", "offset {offset}");
    }
}

#[test]
fn the_same_key_twice_60_ms_apart_is_two_digits() {
    let pcm = Audio::default()
        .silence(50)
        .key('5', -8.0, 100)
        .silence(60)
        .key('5', -8.0, 100)
        .silence(50)
        .pcm();
    let digits = detect(&pcm);
    assert_eq!(digits.iter().map(|d| d.key).collect::<String>(), "55");
    let apart = digits[1].start_sample - digits[0].start_sample;
    assert!((ms(150)..=ms(170)).contains(&(apart as usize)), "{apart}");
}

#[test]
fn keys_dialled_at_40_ms_on_40_ms_off_are_all_heard() {
    for offset in (0..HOP).step_by(16) {
        let audio = "1123581321345589*#0D"
            .chars()
            .fold(Audio::default().silence_samples(offset), |a, key| {
                a.key(key, -10.0, 40).silence(40)
            });
        assert_eq!(keys(&audio.pcm()), "1123581321345589*#0D", "{offset}");
    }
}

#[test]
fn a_key_changed_without_a_pause_is_reported_when_it_settles() {
    let pcm = Audio::default()
        .silence(50)
        .key('1', -8.0, 100)
        .key('9', -8.0, 100)
        .silence(50)
        .pcm();
    assert_eq!(keys(&pcm), "19");
}

#[test]
fn chunk_sizes_do_not_change_what_is_heard() {
    let key_power = 2.0 * dbm0_to_power(-12.0);
    let pcm = all_keys(-12.0).noise(key_power / 60.0, 99).pcm();
    let reference = detect_with(&mut InbandDetector::default(), &pcm, pcm.len());
    assert_eq!(reference.len(), 16);
    for chunk in [1, 7, 63, 64, 65, 160, 333] {
        let digits = detect_with(&mut InbandDetector::default(), &pcm, chunk);
        assert_eq!(digits, reference, "chunks of {chunk}");
    }
}

#[test]
fn keys_are_heard_through_g711() {
    let key_power = 2.0 * dbm0_to_power(-20.0);
    let audio = all_keys(-20.0).noise(key_power / 50.0, 7);
    for codec in Codec::ALL {
        let mut bytes = Vec::new();
        codec.encode(&audio.pcm(), &mut bytes);
        let mut pcm = Vec::new();
        codec.decode(&bytes, &mut pcm);
        assert_eq!(keys(&pcm), KEYS_ALL, "{codec}");
        // And the quietest keys Q.24 asks for.
        let mut bytes = Vec::new();
        codec.encode(&all_keys(-25.0).pcm(), &mut bytes);
        let mut pcm = Vec::new();
        codec.decode(&bytes, &mut pcm);
        assert_eq!(keys(&pcm), KEYS_ALL, "{codec} at -25 dBm0");
    }
}

#[test]
fn out_of_range_settings_are_refused() {
    let config = InbandConfig {
        max_frequency_deviation: 0.08,
        ..InbandConfig::default()
    };
    let err = InbandDetector::new(config).unwrap_err();
    assert!(matches!(
        err,
        InbandConfigError::OutOfRange {
            field: "max_frequency_deviation",
            ..
        }
    ));
    assert!(err.to_string().contains("max_frequency_deviation"), "{err}");
    assert!(InbandDetector::new(InbandConfig::default()).is_ok());
}

#[test]
fn counts_samples_fed() {
    let mut detector = InbandDetector::default();
    detector.handle_samples(&[0; 100]);
    detector.handle_samples(&[0; 61]);
    assert_eq!(detector.samples_seen(), 161);
}

mod speech;
