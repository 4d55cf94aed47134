//! Answering-machine detection: did a person answer, or a machine?
//!
//! A person answers with a word or two ("¿Bueno?", "¿Aló? ¿Sí?") and waits
//! to hear who calls; a machine talks on ("Hola, has llamado a Juan Pérez.
//! En este momento no puedo atender...") and ends with a beep. The detector
//! follows the debtor's voice activity after the answer, 20 ms at a time,
//! by the rules that Asterisk's AMD made the industry's habit:
//!
//! * speech that runs past [`AmdSettings::greeting_ms`] (voiced time, the
//!   pauses between words not counted), or [`AmdSettings::max_words`]
//!   words, or a beep: a **machine**;
//! * a shorter greeting followed by [`AmdSettings::after_greeting_silence_ms`]
//!   of quiet: a **person**, waiting for us to speak;
//! * nobody speaking for [`AmdSettings::initial_silence_ms`], or no verdict
//!   within [`AmdSettings::total_ms`]: **unsure** (the caller decides: many
//!   people answer a number they do not know and say nothing).
//!
//! A word is at least [`AmdSettings::min_word_ms`] of frames whose mean
//! absolute level reaches [`AmdSettings::speech_level`]; quiet of
//! [`AmdSettings::between_words_ms`] ends it. A click of 20 ms is no word
//! and does not break a silence.
//!
//! After a machine verdict the detector goes on listening for the moment
//! to leave a message: the end of the beep; for machines without one,
//! [`AmdSettings::message_after_silence_ms`] of quiet after the greeting;
//! at the latest [`AmdSettings::max_beep_wait_ms`] after the verdict.
//!
//! A beep is a pure tone (300-3,000 Hz) held for [`BEEP_MIN_MS`]: the
//! frequency is read from the zero crossings of each voiced frame, and a
//! Goertzel filter near it must find most of the frame's power (a voice
//! spreads its power over many harmonics). Frames must hold the frequency
//! within [`BEEP_DRIFT_HZ`] until the tone is a beep; tones of any pitch
//! right after it are the same beep (two-tone beeps end after the second).
//!
//! Sans-IO: time is the number of samples fed, so the same audio fed in any
//! chunk sizes gives the same verdict at the same moment.

#![deny(clippy::disallowed_methods)]

use std::f32::consts::TAU;

/// Samples per analysis frame (20 ms at 8 kHz).
const FRAME: usize = 160;
const FRAME_MS: u32 = 20;
const SAMPLE_RATE: f32 = 8_000.0;
/// A tone held this long is a beep.
pub const BEEP_MIN_MS: u32 = 120;
/// How far a beep's frequency may wander from frame to frame.
pub const BEEP_DRIFT_HZ: f32 = 40.0;
/// The share of a frame's power a tone must carry to be a beep's.
const TONE_SHARE: f32 = 0.7;

/// The thresholds, in milliseconds of the debtor's audio after the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AmdSettings {
    pub initial_silence_ms: u32,
    pub greeting_ms: u32,
    pub after_greeting_silence_ms: u32,
    pub total_ms: u32,
    pub min_word_ms: u32,
    pub between_words_ms: u32,
    pub max_words: u32,
    /// Mean absolute amplitude (of 32,767) at which a frame is speech.
    pub speech_level: u16,
    pub message_after_silence_ms: u32,
    pub max_beep_wait_ms: u32,
}

impl Default for AmdSettings {
    fn default() -> AmdSettings {
        AmdSettings {
            initial_silence_ms: 2_500,
            greeting_ms: 1_500,
            after_greeting_silence_ms: 800,
            total_ms: 5_000,
            min_word_ms: 100,
            between_words_ms: 50,
            max_words: 4,
            speech_level: 256,
            message_after_silence_ms: 2_000,
            max_beep_wait_ms: 30_000,
        }
    }
}

/// Who answered, as far as the detector can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Person,
    Machine,
    Unsure,
}

impl Verdict {
    pub const fn as_str(self) -> &'static str {
        match self {
            Verdict::Person => "person",
            Verdict::Machine => "machine",
            Verdict::Unsure => "unsure",
        }
    }
}

/// A verdict, when it came (ms of audio) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub verdict: Verdict,
    pub at_ms: u32,
    pub reason: String,
}

/// Why it is time to leave the message on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CueKind {
    /// The beep ended.
    Beep,
    /// The greeting ended and the machine stayed quiet (no beep heard).
    Quiet,
    /// Waited [`AmdSettings::max_beep_wait_ms`] for either.
    GaveUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cue {
    pub kind: CueKind,
    pub at_ms: u32,
}

/// One call's detector.
#[derive(Debug, Clone)]
pub struct AmdDetector {
    settings: AmdSettings,
    frame: Vec<i16>,
    elapsed_ms: u32,
    /// Voiced time since the last `between_words_ms` of quiet (a word
    /// once it reaches `min_word_ms`).
    voice_run_ms: u32,
    /// Quiet frames in a row.
    quiet_run_ms: u32,
    /// Quiet since the last frame of a word (or since the start): voiced
    /// frames short of a word (clicks) neither add to it nor end it.
    silence_run_ms: u32,
    in_word: bool,
    words: u32,
    /// Voiced time since the first word began.
    voiced_ms: u32,
    /// A tone in progress: its frequency and how long it has held.
    tone: Option<(f32, u32)>,
    beeped: bool,
    decision: Option<Decision>,
    cue: Option<Cue>,
}

impl AmdDetector {
    pub fn new(settings: AmdSettings) -> AmdDetector {
        AmdDetector {
            settings,
            frame: Vec::with_capacity(FRAME),
            elapsed_ms: 0,
            voice_run_ms: 0,
            quiet_run_ms: 0,
            silence_run_ms: 0,
            in_word: false,
            words: 0,
            voiced_ms: 0,
            tone: None,
            beeped: false,
            decision: None,
            cue: None,
        }
    }

    /// Feeds the debtor's audio (8 kHz).
    pub fn push(&mut self, mut pcm: &[i16]) {
        while !pcm.is_empty() && self.cue.is_none() {
            let take = (FRAME - self.frame.len()).min(pcm.len());
            self.frame.extend_from_slice(&pcm[..take]);
            pcm = &pcm[take..];
            if self.frame.len() == FRAME {
                let frame = std::mem::take(&mut self.frame);
                self.analyze(&frame);
                self.frame = frame;
                self.frame.clear();
            }
        }
    }

    /// The verdict, once there is one.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// The moment to leave a message, after a machine verdict.
    pub fn cue(&self) -> Option<Cue> {
        self.cue
    }

    /// Milliseconds of audio fed so far (whole frames).
    pub fn elapsed_ms(&self) -> u32 {
        self.elapsed_ms
    }

    fn analyze(&mut self, frame: &[i16]) {
        let s = self.settings;
        self.elapsed_ms += FRAME_MS;
        let level = frame
            .iter()
            .map(|&x| u32::from(x.unsigned_abs()))
            .sum::<u32>()
            / FRAME as u32;
        let voiced = level >= u32::from(s.speech_level);
        if voiced {
            self.quiet_run_ms = 0;
            self.voice_run_ms += FRAME_MS;
            if self.in_word {
                self.voiced_ms += FRAME_MS;
                self.silence_run_ms = 0;
            } else if self.voice_run_ms >= s.min_word_ms {
                self.in_word = true;
                self.words += 1;
                self.voiced_ms += self.voice_run_ms;
                self.silence_run_ms = 0;
            }
        } else {
            self.quiet_run_ms += FRAME_MS;
            self.silence_run_ms += FRAME_MS;
            if self.quiet_run_ms >= s.between_words_ms {
                self.in_word = false;
                self.voice_run_ms = 0;
            }
        }
        let beep_ended = self.follow_tone(voiced.then_some(frame));
        if self.decision.is_none() {
            self.decide(beep_ended);
        }
        // An unsure call may be taken for a machine: it gets its cue too.
        if let Some(decision) = &self.decision
            && decision.verdict != Verdict::Person
            && self.cue.is_none()
        {
            let kind = if beep_ended {
                Some(CueKind::Beep)
            } else if self.words > 0 && self.silence_run_ms >= s.message_after_silence_ms {
                Some(CueKind::Quiet)
            } else if self.elapsed_ms - decision.at_ms >= s.max_beep_wait_ms {
                Some(CueKind::GaveUp)
            } else {
                None
            };
            self.cue = kind.map(|kind| Cue {
                kind,
                at_ms: self.elapsed_ms,
            });
        }
    }

    /// Follows a tone across frames; says when a beep just ended. Once a
    /// tone has held long enough to be a beep, tones of other pitches
    /// right after it are the same beep (two-tone beeps, a pitch jump).
    fn follow_tone(&mut self, voiced: Option<&[i16]>) -> bool {
        let hz = voiced.and_then(tone_hz);
        let held = match (self.tone, hz) {
            (Some((was, ms)), Some(hz))
                if ms >= BEEP_MIN_MS || (hz - was).abs() <= BEEP_DRIFT_HZ =>
            {
                Some((hz, ms + FRAME_MS))
            }
            (_, Some(hz)) => Some((hz, FRAME_MS)),
            (_, None) => None,
        };
        let ended = held.is_none() && self.tone.is_some_and(|(_, ms)| ms >= BEEP_MIN_MS);
        if held.is_some_and(|(_, ms)| ms >= BEEP_MIN_MS) {
            self.beeped = true;
        }
        self.tone = held;
        ended
    }

    fn decide(&mut self, beep_ended: bool) {
        let s = self.settings;
        let decided = |verdict, reason: String| Decision {
            verdict,
            at_ms: self.elapsed_ms,
            reason,
        };
        let seconds = |ms: u32| f64::from(ms) / 1000.0;
        self.decision = if self.beeped || beep_ended {
            Some(decided(Verdict::Machine, "a beep".into()))
        } else if self.voiced_ms >= s.greeting_ms {
            Some(decided(
                Verdict::Machine,
                format!("a greeting of over {:.1} s", seconds(s.greeting_ms)),
            ))
        } else if self.words >= s.max_words {
            Some(decided(Verdict::Machine, format!("{} words", self.words)))
        } else if self.words == 0 && self.elapsed_ms >= s.initial_silence_ms {
            Some(decided(
                Verdict::Unsure,
                format!("nobody spoke in {:.1} s", seconds(s.initial_silence_ms)),
            ))
        } else if self.words > 0
            && !self.in_word
            && self.silence_run_ms >= s.after_greeting_silence_ms
        {
            Some(decided(
                Verdict::Person,
                format!(
                    "a {:.1} s greeting of {} {}, then quiet",
                    seconds(self.voiced_ms),
                    self.words,
                    if self.words == 1 { "word" } else { "words" }
                ),
            ))
        } else if self.elapsed_ms >= s.total_ms {
            Some(decided(
                Verdict::Unsure,
                format!("no verdict in {:.1} s", seconds(s.total_ms)),
            ))
        } else {
            None
        };
    }
}

/// The frequency of a voiced frame that is one pure tone, if it is one.
fn tone_hz(frame: &[i16]) -> Option<f32> {
    let crossings = frame
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    let estimate = crossings as f32 * SAMPLE_RATE / (2.0 * frame.len() as f32);
    if !(300.0..=3_000.0).contains(&estimate) {
        return None;
    }
    let energy: f32 = frame.iter().map(|&x| f32::from(x).powi(2)).sum();
    if energy <= 0.0 {
        return None;
    }
    // The zero crossings put the tone within 25 Hz; look 30 Hz either side
    // in steps of 10.
    let (hz, power) = (-3..=3)
        .map(|k| {
            let hz = estimate + 10.0 * k as f32;
            (hz, goertzel_power(frame, hz))
        })
        .fold((0.0, 0.0), |best, c| if c.1 > best.1 { c } else { best });
    // A sine of amplitude A over N samples: |X|² = (N A / 2)², energy N A² / 2.
    let share = 2.0 * power / (frame.len() as f32 * energy);
    (share >= TONE_SHARE).then_some(hz)
}

/// |X|² of the frame at `hz` (the Goertzel recurrence).
fn goertzel_power(frame: &[i16], hz: f32) -> f32 {
    let coeff = 2.0 * (TAU * hz / SAMPLE_RATE).cos();
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &x in frame {
        let s = f32::from(x) + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - coeff * s1 * s2
}

#[cfg(test)]
mod tests;
