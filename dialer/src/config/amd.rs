//! The `[amd]` section: answering-machine detection, and what a machine gets.
//!
//! With the section present, an answered call first listens (the dialer
//! says nothing) until the detector tells a person from a machine; a person
//! then hears the campaign's message or flow, a machine gets the message
//! for machines after its beep, or a hang-up. Every key is checked with the
//! file, line and key in the error, like the rest of the file.

use media::amd::{AmdSettings, Verdict};
use media::prompt::template::Template;
use serde::Deserialize;
use toml::Spanned;

use super::{ConfigError, Validator};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAmd {
    #[serde(default = "yes")]
    enabled: bool,
    #[serde(default)]
    on_machine: OnMachine,
    message: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    on_unsure: Unsure,
    initial_silence_ms: Option<Spanned<u32>>,
    greeting_ms: Option<Spanned<u32>>,
    after_greeting_silence_ms: Option<Spanned<u32>>,
    total_ms: Option<Spanned<u32>>,
    min_word_ms: Option<Spanned<u32>>,
    between_words_ms: Option<Spanned<u32>>,
    max_words: Option<Spanned<u32>>,
    speech_level: Option<Spanned<u32>>,
    message_after_silence_ms: Option<Spanned<u32>>,
    max_beep_wait_s: Option<Spanned<u32>>,
}

fn yes() -> bool {
    true
}

/// What a call a machine answered gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OnMachine {
    /// The message for machines, after the beep.
    #[default]
    Message,
    /// A hang-up as soon as the machine is recognized.
    HangUp,
}

/// How a call the detector could not decide is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Unsure {
    /// As a person: the campaign's message or flow (a silent debtor who
    /// waits for the caller to speak is a person).
    #[default]
    Person,
    Machine,
}

/// A campaign's answering-machine detection.
#[derive(Debug, Clone)]
pub struct AmdConfig {
    pub settings: AmdSettings,
    pub on_machine: OnMachine,
    pub on_unsure: Unsure,
    /// What a machine records after its beep (with `on_machine = "message"`).
    pub message: Option<Template>,
}

impl AmdConfig {
    /// What the call does with a verdict: a person's, or a machine's.
    pub fn treat_as(&self, verdict: Verdict) -> Verdict {
        match (verdict, self.on_unsure) {
            (Verdict::Unsure, Unsure::Person) => Verdict::Person,
            (Verdict::Unsure, Unsure::Machine) => Verdict::Machine,
            (v, _) => v,
        }
    }
}

impl Validator<'_> {
    pub(super) fn amd(&self, raw: Option<RawAmd>) -> Result<Option<AmdConfig>, ConfigError> {
        let Some(raw) = raw.filter(|r| r.enabled) else {
            return Ok(None);
        };
        let d = AmdSettings::default();
        let ms = |value: &Option<Spanned<u32>>, key: &str, default: u32, min: u32, max: u32| {
            let Some(v) = value else { return Ok(default) };
            let n = *v.get_ref();
            if !(min..=max).contains(&n) {
                return Err(self.invalid(
                    v,
                    &format!("amd.{key}"),
                    format!("{n} is outside {min}-{max}"),
                ));
            }
            Ok(n)
        };
        let settings = AmdSettings {
            initial_silence_ms: ms(
                &raw.initial_silence_ms,
                "initial_silence_ms",
                d.initial_silence_ms,
                500,
                10_000,
            )?,
            greeting_ms: ms(&raw.greeting_ms, "greeting_ms", d.greeting_ms, 300, 10_000)?,
            after_greeting_silence_ms: ms(
                &raw.after_greeting_silence_ms,
                "after_greeting_silence_ms",
                d.after_greeting_silence_ms,
                200,
                5_000,
            )?,
            total_ms: ms(&raw.total_ms, "total_ms", d.total_ms, 1_000, 15_000)?,
            min_word_ms: ms(&raw.min_word_ms, "min_word_ms", d.min_word_ms, 20, 1_000)?,
            between_words_ms: ms(
                &raw.between_words_ms,
                "between_words_ms",
                d.between_words_ms,
                20,
                1_000,
            )?,
            max_words: ms(&raw.max_words, "max_words", d.max_words, 1, 20)?,
            speech_level: ms(
                &raw.speech_level,
                "speech_level",
                u32::from(d.speech_level),
                16,
                8_000,
            )? as u16,
            message_after_silence_ms: ms(
                &raw.message_after_silence_ms,
                "message_after_silence_ms",
                d.message_after_silence_ms,
                200,
                10_000,
            )?,
            max_beep_wait_ms: ms(
                &raw.max_beep_wait_s,
                "max_beep_wait_s",
                d.max_beep_wait_ms / 1000,
                1,
                120,
            )? * 1000,
        };
        // Thresholds that would make a rule of another one unreachable.
        let conflict = |key: &str, raw: &Option<Spanned<u32>>, reason: String| {
            let line = raw
                .as_ref()
                .map(|r| super::line_of(self.text, r.span().start))
                .unwrap_or_else(|| line_of_section(self.text, "amd"));
            ConfigError::Invalid {
                path: self.path.to_owned(),
                line,
                key: format!("amd.{key}"),
                reason,
            }
        };
        if settings.min_word_ms >= settings.greeting_ms {
            return Err(conflict(
                "min_word_ms",
                &raw.min_word_ms,
                format!(
                    "{} is not below greeting_ms ({}): every first word would be a machine's greeting",
                    settings.min_word_ms, settings.greeting_ms
                ),
            ));
        }
        if settings.between_words_ms >= settings.after_greeting_silence_ms {
            return Err(conflict(
                "between_words_ms",
                &raw.between_words_ms,
                format!(
                    "{} is not below after_greeting_silence_ms ({}): a pause between words would end the greeting",
                    settings.between_words_ms, settings.after_greeting_silence_ms
                ),
            ));
        }
        if settings.initial_silence_ms > settings.total_ms {
            return Err(conflict(
                "initial_silence_ms",
                &raw.initial_silence_ms,
                format!(
                    "{} is above total_ms ({}): the detector gives up first",
                    settings.initial_silence_ms, settings.total_ms
                ),
            ));
        }
        let message = match (&raw.message, raw.on_machine) {
            (Some(parts), OnMachine::Message) => {
                let texts: Vec<&str> = parts
                    .get_ref()
                    .iter()
                    .map(|p| p.get_ref().as_str())
                    .collect();
                Some(
                    Template::parse(&texts).map_err(|e| match parts.get_ref().get(e.index) {
                        Some(part) => {
                            self.invalid(part, &format!("amd.message[{}]", e.index), e.reason)
                        }
                        None => self.invalid(parts, "amd.message", e.reason),
                    })?,
                )
            }
            (Some(parts), OnMachine::HangUp) => {
                return Err(self.invalid(
                    parts,
                    "amd.message",
                    "a machine hears nothing with on_machine = \"hang_up\"; leave message out, or use on_machine = \"message\"".into(),
                ));
            }
            (None, OnMachine::Message) => {
                return Err(ConfigError::Invalid {
                    path: self.path.to_owned(),
                    line: line_of_section(self.text, "amd"),
                    key: "amd.message".into(),
                    reason: "on_machine = \"message\" (the default) needs the message a machine records, e.g. message = [\"tts:Hola {nombre}, le llamamos de ...\"]; or set on_machine = \"hang_up\"".into(),
                });
            }
            (None, OnMachine::HangUp) => None,
        };
        Ok(Some(AmdConfig {
            settings,
            on_machine: raw.on_machine,
            on_unsure: raw.on_unsure,
            message,
        }))
    }
}

/// The line of a `[section]` header (1 when not found).
fn line_of_section(text: &str, section: &str) -> usize {
    let header = format!("[{section}]");
    text.lines()
        .position(|l| l.trim() == header)
        .map_or(1, |i| i + 1)
}
