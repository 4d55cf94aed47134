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
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use media::prompt::template::{Part, ResolveError, Segment, Template};
use media::prompt::{Fragments, Manifest, Prompt, RenderError, Renderer, SayVoice};
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
        // A prompts folder may hold just NAME.wav phrases, without a manifest.
        let manifest = match &message.prompts {
            Some(dir) if dir.join(Manifest::FILE).exists() => {
                Some(Manifest::load(dir).map_err(anyhow::Error::msg)?)
            }
            _ => None,
        };
        let mut phrases = HashMap::new();
        for name in message.template.files() {
            let path = phrase_path(message, manifest.as_ref(), name)?;
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

/// Where a `file:` part's audio is: a path (relative to the config), or a
/// phrase of the prompts folder (by its manifest, or NAME.wav).
fn phrase_path(
    message: &MessageConfig,
    manifest: Option<&Manifest>,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let looks_like_path = name.contains('/') || name.contains('.');
    if looks_like_path {
        let path = Path::new(name);
        return Ok(if path.is_absolute() {
            path.to_owned()
        } else {
            message.base_dir.join(path)
        });
    }
    let dir = message
        .prompts
        .as_deref()
        .with_context(|| format!("campaign.message: file:{name} names a phrase, but campaign.prompts (the prompts folder) is not set"))?;
    if let Some(path) = manifest.and_then(|m| m.phrase(dir, name)) {
        return Ok(path);
    }
    let path = dir.join(format!("{name}.wav"));
    if !path.exists() {
        bail!(
            "campaign.message: file:{name}: {} lists no phrase '{name}' and {} does not exist",
            dir.join(Manifest::FILE).display(),
            path.display()
        );
    }
    Ok(path)
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
