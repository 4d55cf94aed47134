//! The campaign's message, made personal for every contact.
//!
//! At start the message is prepared once: its recorded phrases loaded, its
//! TTS engine checked (voice installed, service reachable when used), its
//! fragment set checked for completeness. Each contact's variables are then
//! resolved when the list loads, so a balance or date that cannot be read
//! is a skipped row with its line and column, not silence on the call; and
//! each contact's audio is rendered ahead of the dialing front, so a call
//! starts speaking the moment it is answered.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::bail;
use media::prompt::template::{Part, ResolveError, Segment, Template};
use media::prompt::{Fragments, Prompt, RenderError, Renderer, SayVoice, phrase_file};
use media::say::{Date, Language};
use media::tts::{Espeak, HttpTts, Tts, TtsCache, TtsEngine};

use super::Contact;
use crate::config::{MessageConfig, SayWith, TtsConfig, TtsEngineConfig};

/// A message ready to be resolved and rendered for contacts.
pub struct PreparedMessage {
    template: Template,
    language: Language,
    renderer: Renderer,
    tts: Option<Arc<Tts>>,
}

impl PreparedMessage {
    /// Loads phrases, builds and checks the TTS engine and the fragment set.
    pub async fn prepare(
        message: &MessageConfig,
        tts: &TtsConfig,
    ) -> anyhow::Result<PreparedMessage> {
        let mut phrases = HashMap::new();
        for name in message.template.files() {
            let path = phrase_file(name, &message.base_dir, message.prompts.as_deref())
                .map_err(|e| anyhow::anyhow!("campaign.message: {e}"))?;
            let prompt = Prompt::load(&path)?;
            phrases.insert(name.to_owned(), Arc::from(prompt.samples()));
        }
        let speaks = message.template.parts().iter().any(|p| match p {
            Part::Tts(_) => true,
            Part::Say { .. } => message.say_with == SayWith::Tts,
            Part::File(_) => false,
        });
        let voice = tts.voice_for(message.language);
        let engine = if speaks {
            Some(Arc::new(build_tts(tts, &voice).await?))
        } else {
            None
        };
        let say_voice = match message.say_with {
            SayWith::Tts => SayVoice::Tts,
            SayWith::Fragments => {
                let dir = message
                    .prompts
                    .as_deref()
                    .expect("validated: fragments need the prompts folder");
                SayVoice::Fragments(
                    Fragments::load(dir, message.language).map_err(anyhow::Error::msg)?,
                )
            }
        };
        Ok(PreparedMessage {
            template: message.template.clone(),
            language: message.language,
            renderer: Renderer::new(engine.clone(), voice, say_voice, phrases),
            tts: engine,
        })
    }

    /// Fails when the message uses a variable the list does not have.
    pub fn check_variables(&self, list: &Path, columns: &[String]) -> anyhow::Result<()> {
        let known = |v: &str| {
            columns.iter().any(|c| c == v)
                || super::contacts::required_column_names().any(|c| c == v)
        };
        let unknown: Vec<String> = self
            .template
            .variables()
            .into_iter()
            .filter(|v| !known(v))
            .collect();
        if !unknown.is_empty() {
            bail!(
                "campaign.message uses {{{}}}, but {} has no such column (its columns: {})",
                unknown.join("}, {"),
                list.display(),
                columns.join(", ")
            );
        }
        Ok(())
    }

    /// The contact's message with its values read; an unreadable value is the error.
    pub fn resolve(&self, contact: &Contact, today: Date) -> Result<Vec<Segment>, ResolveError> {
        self.template
            .resolve(&|name| contact.value(name), self.language, today)
    }

    /// The contact's message as audio.
    pub async fn render(
        &self,
        contact: &Contact,
        segments: &[Segment],
    ) -> Result<Prompt, RenderError> {
        self.renderer.prompt(&contact.id, segments).await
    }

    pub fn tts(&self) -> Option<&Tts> {
        self.tts.as_deref()
    }
}

/// The configured engine with its cache, checked before any call.
pub async fn build_tts(config: &TtsConfig, voice: &str) -> anyhow::Result<Tts> {
    let engine = match &config.engine {
        TtsEngineConfig::Espeak { program, speed } => {
            let espeak = Espeak::new(program.clone(), *speed);
            espeak.check_voice(voice).await?;
            TtsEngine::Espeak(espeak)
        }
        TtsEngineConfig::Http(http) => TtsEngine::Http(HttpTts::new(http.clone())?),
    };
    let cache = TtsCache::open(&config.cache_dir, config.cache_max_bytes)?;
    Ok(Tts::new(engine, Some(cache)))
}
