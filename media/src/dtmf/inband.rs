//! In-band DTMF: key presses heard in the audio itself.
//!
//! Not every trunk turns key presses into RFC 4733 events; behind an old
//! exchange or a cheap gateway the debtor's keys arrive only as the Q.23 tone
//! pairs inside the G.711 audio. This detector listens to a call's decoded
//! 8 kHz audio and reports each key press once, with the sample where it
//! began. It is sans-IO and reads no clock: time is the number of samples fed
//! so far, so the same audio fed in any chunk sizes gives the same digits.
//!
//! Each 16 ms window (128 samples, a new one every 8 ms) is tested against
//! the ITU-T Q.24 limits:
//!
//! * Goertzel filters at the eight nominal frequencies pick the strongest row
//!   and column tone, each at least 8 dB above the others of its group;
//! * the frequency of each is measured from the phase the tone turns between
//!   the two halves of the window, and must lie within 2.5% of nominal (Q.24:
//!   accept ±1.5%, reject ±3.5%);
//! * at the measured frequencies, each tone must reach the minimum level, the
//!   twist must be within limits, the two tones together must carry most of
//!   the window's energy (speech and music spread theirs), and neither may
//!   have a strong second harmonic nor be the other's (voices are rich in
//!   harmonics; Q.23 chose the key frequencies to have none in common).
//!
//! Three windows in a row must agree on the key, with frequencies that hold
//! still (a voice's glide) and an average twist within limits, before the key
//! counts: tones of 36 ms or more always give them, tones of 23 ms or less
//! never do, and one noisy window is never enough. Four windows without the
//! key end the press, so a 10 ms dropout does not split one press in two
//! while a 40 ms pause between presses does.
//!
//! Our own prompt echoes back from the far end's hybrid. While the caller
//! says a prompt is playing ([`InbandDetector::set_playing`]) the minimum
//! level rises by [`InbandConfig::echo_guard_db`]: echo arrives attenuated,
//! a real key press is as loud as ever. The price is that a key pressed
//! softly over a prompt is missed.

#![deny(clippy::disallowed_methods)]

use std::collections::VecDeque;
use std::f32::consts::TAU;

use thiserror::Error;

use goertzel::{Complex, TABLES, goertzel, tone_power};
use presses::{Heard, Presses};

mod goertzel;
mod presses;

const SAMPLE_RATE: f32 = 8_000.0;
/// Samples between the starts of two windows (8 ms).
const HOP: usize = 64;
/// Samples in one analysis window (16 ms): long enough to tell 697 Hz from
/// 770 Hz, short enough that three windows fit in a 40 ms tone.
const WINDOW: usize = 2 * HOP;
/// Windows in a row that must hear the same key before it counts.
const WINDOWS_TO_PRESS: u32 = 3;
/// Windows in a row without the key that end a press.
const WINDOWS_TO_RELEASE: u32 = 4;
/// How far the strongest tone of a group must stand above the others.
const RELATIVE_PEAK_DB: f32 = 8.0;
/// The twist limits are what must be accepted; a press is refused only this
/// far beyond them, room for what noise and G.711 do to the measurement. A
/// press's twist is the average over its windows: one window's wanders by
/// ±0.5 dB with noise 15 dB down, the average of three by ±0.3 dB.
const TWIST_ALLOWANCE_DB: f32 = 1.0;
/// One window's twist may stray this much further before the window is
/// refused outright.
const WINDOW_TWIST_SLACK_DB: f32 = 2.0;
/// How far a tone's frequency may move from one window to the next, as a
/// fraction: noise moves a key's by a few hertz; a voice's harmonics glide.
const MAX_DRIFT: f32 = 0.0075;
/// A low-group tone's second harmonic lies among the high-group frequencies;
/// it is measured only when the key's high tone is at least this far from it,
/// otherwise the high tone's own energy would be taken for a harmonic.
const HARMONIC_CLEARANCE_HZ: f32 = 160.0;
/// How far below the minimum level a tone may measure at its nominal
/// frequency and still be looked at more closely (-9 dB).
const PREFILTER_MARGIN: f32 = 0.125;
/// Closest a key's high tone comes to twice its low tone (770 Hz - 1.5%
/// doubled against 1477 Hz + 1.5%: 17.7 Hz), less room for measurement error.
const MIN_HARMONIC_GAP_HZ: f32 = 8.0;
/// How far above the noise floor a second harmonic must stand to count: a
/// bin of white noise exceeds six times its mean once in 400 windows.
const HARMONIC_OVER_FLOOR: f32 = 6.0;
/// Peak of a 0 dBm0 sine in 16-bit linear PCM: 3.17 dB below the µ-law
/// maximum of 32 124 (G.711).
const DBM0_PEAK: f32 = 22_306.0;

/// Low-group (row) frequencies, ITU-T Q.23.
pub const ROW_HZ: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High-group (column) frequencies, ITU-T Q.23.
pub const COLUMN_HZ: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
const KEYS: [[char; 4]; 4] = [
    ['1', '2', '3', 'A'],
    ['4', '5', '6', 'B'],
    ['7', '8', '9', 'C'],
    ['*', '0', '#', 'D'],
];

/// The frequencies `(row, column)` of a key's tone pair, if it is a key.
pub fn key_frequencies(key: char) -> Option<(f32, f32)> {
    let key = key.to_ascii_uppercase();
    KEYS.iter().enumerate().find_map(|(r, row)| {
        let c = row.iter().position(|&k| k == key)?;
        Some((ROW_HZ[r], COLUMN_HZ[c]))
    })
}

/// The thresholds of the detector. The defaults are the limits commonly
/// drawn from ITU-T Q.24: frequencies accepted within ±1.5% and rejected
/// beyond ±3.5%, 8 dB normal and 4 dB reverse twist.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InbandConfig {
    /// The weakest tone accepted, per frequency, in dBm0 (default -30: some
    /// margin under the -25 dBm0 per tone detectors are commonly asked to
    /// hear).
    pub min_tone_dbm0: f32,
    /// How much louder the low-group tone may be than the high-group one, in
    /// dB: "normal" twist, as lines lose more at high frequencies (default 8).
    pub max_normal_twist_db: f32,
    /// How much louder the high-group tone may be than the low-group one, in
    /// dB: "reverse" twist (default 4).
    pub max_reverse_twist_db: f32,
    /// How far a tone may be from its nominal frequency, as a fraction
    /// (default 0.025: halfway between Q.24's must-accept 1.5% and
    /// must-reject 3.5%).
    pub max_frequency_deviation: f32,
    /// The share of the window's energy the two tones must carry together
    /// (default 0.85). Noise 15 dB below the key leaves them about 0.97,
    /// 10 dB below about 0.9; a tone cut short by the window's edge, speech
    /// and music carry less (a sustained vowel whose two strongest harmonics
    /// fall on a key's frequencies, about 0.8).
    pub min_tone_energy_ratio: f32,
    /// How strong either tone's second harmonic may be, in dB relative to the
    /// tone (default -15). Generated keys have almost none; voices do.
    pub max_second_harmonic_db: f32,
    /// Added to `min_tone_dbm0` while our prompt is playing (default 12 dB),
    /// so the prompt's echo is not taken for a key: with the default, keys
    /// over a prompt must reach -18 dBm0 per tone.
    pub echo_guard_db: f32,
}

impl Default for InbandConfig {
    fn default() -> InbandConfig {
        InbandConfig {
            min_tone_dbm0: -30.0,
            max_normal_twist_db: 8.0,
            max_reverse_twist_db: 4.0,
            max_frequency_deviation: 0.025,
            min_tone_energy_ratio: 0.85,
            max_second_harmonic_db: -15.0,
            echo_guard_db: 12.0,
        }
    }
}

/// A threshold the detector cannot work with.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum InbandConfigError {
    #[error("in-band DTMF setting `{field}` is {value}, outside {min}..={max}")]
    OutOfRange {
        field: &'static str,
        value: f32,
        min: f32,
        max: f32,
    },
}

impl InbandConfig {
    /// Checks every threshold is one the detector can honour.
    pub fn validate(&self) -> Result<(), InbandConfigError> {
        let check = |field, value: f32, min, max| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(InbandConfigError::OutOfRange {
                    field,
                    value,
                    min,
                    max,
                })
            }
        };
        check("min_tone_dbm0", self.min_tone_dbm0, -60.0, 0.0)?;
        check("max_normal_twist_db", self.max_normal_twist_db, 0.0, 20.0)?;
        check("max_reverse_twist_db", self.max_reverse_twist_db, 0.0, 20.0)?;
        // Beyond 5% the tolerance reaches the next key's frequency, and the
        // phase measurement (unambiguous to ±62.5 Hz) would alias.
        check(
            "max_frequency_deviation",
            self.max_frequency_deviation,
            0.0,
            0.05,
        )?;
        check(
            "min_tone_energy_ratio",
            self.min_tone_energy_ratio,
            0.0,
            1.0,
        )?;
        check(
            "max_second_harmonic_db",
            self.max_second_harmonic_db,
            -60.0,
            0.0,
        )?;
        check("echo_guard_db", self.echo_guard_db, 0.0, 40.0)
    }
}

/// One key press heard in the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InbandDigit {
    /// `0`-`9`, `*`, `#` or `A`-`D`.
    pub key: char,
    /// Where the press began, counted in samples from the first one fed: the
    /// first sample of the first window that heard it, within about 8 ms of
    /// the tone's onset.
    pub start_sample: u64,
}

/// Hears DTMF key presses in 8 kHz linear PCM. Feed it with
/// [`handle_samples`](Self::handle_samples), drain it with
/// [`poll_digit`](Self::poll_digit).
#[derive(Debug, Clone)]
pub struct InbandDetector {
    config: InbandConfig,
    playing: bool,
    /// The last two half-windows: `[previous | current]`.
    window: [i16; WINDOW],
    /// Samples of the current half-window received so far.
    filled: usize,
    /// Whether `window`'s first half holds a whole half-window.
    have_previous: bool,
    /// Goertzel state `(s[n-1], s[n-2])` per nominal frequency, current half.
    goertzel: [(f32, f32); 8],
    /// The previous half's Goertzel outputs, to combine into a whole window.
    previous: [Complex; 8],
    samples: u64,
    presses: Presses,
    digits: VecDeque<InbandDigit>,
}

impl Default for InbandDetector {
    fn default() -> InbandDetector {
        InbandDetector::with_valid_config(InbandConfig::default())
    }
}

impl InbandDetector {
    pub fn new(config: InbandConfig) -> Result<InbandDetector, InbandConfigError> {
        config.validate()?;
        Ok(InbandDetector::with_valid_config(config))
    }

    fn with_valid_config(config: InbandConfig) -> InbandDetector {
        InbandDetector {
            config,
            playing: false,
            window: [0; WINDOW],
            filled: 0,
            have_previous: false,
            goertzel: [(0.0, 0.0); 8],
            previous: [Complex::ZERO; 8],
            samples: 0,
            presses: Presses::default(),
            digits: VecDeque::new(),
        }
    }

    /// Tells the detector whether our prompt is playing, so its echo is not
    /// taken for a key (see [`InbandConfig::echo_guard_db`]).
    pub fn set_playing(&mut self, playing: bool) {
        self.playing = playing;
    }

    /// Samples fed so far: the detector's clock.
    pub fn samples_seen(&self) -> u64 {
        self.samples
    }

    /// Feeds the next received samples (8 kHz, any count).
    pub fn handle_samples(&mut self, pcm: &[i16]) {
        let tables = &*TABLES;
        let mut rest = pcm;
        while !rest.is_empty() {
            let take = rest.len().min(HOP - self.filled);
            let (now, later) = rest.split_at(take);
            for &sample in now {
                let x = f32::from(sample);
                for (state, tone) in self.goertzel.iter_mut().zip(&tables.nominal) {
                    let s = x + tone.coeff * state.0 - state.1;
                    *state = (s, state.0);
                }
            }
            self.window[HOP + self.filled..HOP + self.filled + take].copy_from_slice(now);
            self.filled += take;
            self.samples += take as u64;
            rest = later;
            if self.filled == HOP {
                self.end_half_window();
            }
        }
    }

    /// The next key press heard, oldest first.
    pub fn poll_digit(&mut self) -> Option<InbandDigit> {
        self.digits.pop_front()
    }

    fn end_half_window(&mut self) {
        let tables = &*TABLES;
        let mut current = [Complex::ZERO; 8];
        for ((out, state), tone) in current
            .iter_mut()
            .zip(&mut self.goertzel)
            .zip(&tables.nominal)
        {
            *out = tone.finish(*state);
            *state = (0.0, 0.0);
        }
        if self.have_previous {
            // The whole window's sum is the first half's plus the second's
            // turned back by the phase the frequency covers in half a window.
            let mut power = [0.0; 8];
            for (i, tone) in tables.nominal.iter().enumerate() {
                let sum = self.previous[i] + tone.half_shift * current[i];
                power[i] = 2.0 * sum.norm_sqr() / (WINDOW * WINDOW) as f32;
            }
            let heard = self.analyze(&power);
            let start = self.samples - WINDOW as u64;
            if let Some(digit) = self.presses.handle_window(&self.config, heard, start) {
                self.digits.push_back(digit);
            }
        }
        self.previous = current;
        self.have_previous = true;
        self.window.copy_within(HOP.., 0);
        self.filled = 0;
    }

    /// The key the current window holds, if it passes every test.
    /// `power` is each nominal frequency's mean-square power in the
    /// (unweighted) window.
    fn analyze(&self, power: &[f32; 8]) -> Option<Heard> {
        let c = &self.config;
        let guard = if self.playing { c.echo_guard_db } else { 0.0 };
        let min_power = dbm0_to_power(c.min_tone_dbm0 + guard);
        let (row, col) = (strongest(&power[..4])?, strongest(&power[4..])?);
        // Silence and quiet speech end here, before the finer measurements.
        // A tone 2.5% off nominal loses up to 7 dB in the unweighted window.
        if power[row].min(power[4 + col]) < min_power * PREFILTER_MARGIN {
            return None;
        }
        let row_hz = self.measure_frequency(ROW_HZ[row])?;
        let col_hz = self.measure_frequency(COLUMN_HZ[col])?;
        let samples = &self.window;
        let tables = &*TABLES;
        let row_power = tone_power(samples, row_hz);
        let col_power = tone_power(samples, col_hz);
        if row_power < min_power || col_power < min_power {
            return None;
        }
        if !twist_within(c, row_power, col_power, WINDOW_TWIST_SLACK_DB) {
            return None;
        }
        let energy = samples
            .iter()
            .zip(&tables.hann)
            .map(|(&x, w)| (w * f32::from(x)).powi(2))
            .sum::<f32>()
            / tables.hann_energy;
        if row_power + col_power < c.min_tone_energy_ratio * energy {
            return None;
        }
        // A harmonic counts only if it stands out of the noise: what is not
        // the two tones, spread evenly, is what a bin holds of noise.
        let floor = tables.noise_per_bin * (energy - row_power - col_power).max(0.0);
        let harmonic_limit = 10f32.powf(c.max_second_harmonic_db / 10.0);
        let harmonic = |hz: f32, tone: f32| {
            let power = tone_power(samples, 2.0 * hz);
            power > harmonic_limit * tone && power > HARMONIC_OVER_FLOOR * floor
        };
        if harmonic(col_hz, col_power) {
            return None;
        }
        let gap_hz = (2.0 * row_hz - col_hz).abs();
        if gap_hz < HARMONIC_CLEARANCE_HZ {
            // The high tone sits near the low tone's second harmonic, where
            // that harmonic cannot be measured apart from it. A key's tones
            // are never harmonics of each other (Q.23 chose them so: within
            // ±1.5% they stay 17 Hz or more apart); a voice's are.
            if gap_hz < MIN_HARMONIC_GAP_HZ {
                return None;
            }
        } else if harmonic(row_hz, row_power) {
            return None;
        }
        Some(Heard {
            key: KEYS[row][col],
            row_hz,
            col_hz,
            row_power,
            col_power,
        })
    }

    /// The frequency of the tone near `nominal_hz`, from the phase it turns
    /// between the window's two halves, if within the tolerance.
    ///
    /// A tone at `nominal + δ` advances `2π (nominal + δ) HOP / rate` from
    /// one half to the next; what exceeds the nominal advance is `δ`,
    /// unambiguous to ±rate / (2 HOP) = ±62.5 Hz. Each half is Hann-weighted
    /// so the other group's tone, up to 8 dB louder, does not pull the phase.
    fn measure_frequency(&self, nominal_hz: f32) -> Option<f32> {
        let hann = &TABLES.hann_half;
        let theta = TAU * nominal_hz / SAMPLE_RATE;
        let first = goertzel(&self.window[..HOP], hann, theta);
        let second = goertzel(&self.window[HOP..], hann, theta);
        let turned = second * first.conj() * Complex::from_angle(-theta * HOP as f32);
        let deviation_hz = turned.arg() * SAMPLE_RATE / (TAU * HOP as f32);
        (deviation_hz.abs() <= self.config.max_frequency_deviation * nominal_hz)
            .then_some(nominal_hz + deviation_hz)
    }
}

/// The index of the strongest of a group's tones, if it stands out by
/// [`RELATIVE_PEAK_DB`] over the others.
fn strongest(group: &[f32]) -> Option<usize> {
    let (best, &peak) = group.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1))?;
    let margin = 10f32.powf(RELATIVE_PEAK_DB / 10.0);
    let stands_out = group
        .iter()
        .enumerate()
        .all(|(i, &p)| i == best || p * margin <= peak);
    (peak > 0.0 && stands_out).then_some(best)
}

/// Whether the twist of tones of these powers is within the limits, plus
/// [`TWIST_ALLOWANCE_DB`] and `slack_db`.
fn twist_within(c: &InbandConfig, row_power: f32, col_power: f32, slack_db: f32) -> bool {
    let twist_db = db(row_power / col_power);
    let room = TWIST_ALLOWANCE_DB + slack_db;
    twist_db <= c.max_normal_twist_db + room && -twist_db <= c.max_reverse_twist_db + room
}

fn dbm0_to_power(dbm0: f32) -> f32 {
    DBM0_PEAK * DBM0_PEAK / 2.0 * 10f32.powf(dbm0 / 10.0)
}

fn db(ratio: f32) -> f32 {
    10.0 * ratio.log10()
}

#[cfg(test)]
mod tests;
