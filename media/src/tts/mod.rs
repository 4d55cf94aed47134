//! Text to speech: engines behind one type, and a disk cache in front.
//!
//! [`TtsEngine`] is the swappable strategy (enum dispatch): `espeak-ng` as a
//! subprocess, the default that every Debian machine can install, or any
//! HTTP service that turns text (or SSML) into WAV, for neural and cloud
//! voices. [`Tts`] puts the cache in front: audio is converted to 8 kHz once
//! and kept on disk under a key of engine, settings, voice and text, so a
//! restart or a second campaign does not synthesize it again.

mod cache;
mod espeak;
mod http;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use cache::TtsCache;
pub use espeak::Espeak;
pub use http::{HttpTts, HttpTtsConfig};

use crate::prompt::samples_8k_from_wav;

/// Why speech could not be produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TtsError {
    #[error("{program} is not installed (on Debian: apt-get install espeak-ng)")]
    NotInstalled { program: String },
    #[error("{engine}: {detail}")]
    Failed { engine: String, detail: String },
    #[error("TTS service {url}: {detail}")]
    Http { url: String, detail: String },
    #[error("{engine} returned audio we cannot use: {detail}")]
    Audio { engine: String, detail: String },
    #[error("TTS cache {path}: {source}")]
    Cache {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

/// A speech engine.
#[derive(Debug)]
pub enum TtsEngine {
    Espeak(Espeak),
    Http(HttpTts),
}

impl TtsEngine {
    /// Everything that changes the audio besides voice and text, for cache keys.
    pub fn cache_id(&self) -> String {
        match self {
            TtsEngine::Espeak(e) => e.cache_id(),
            TtsEngine::Http(h) => h.cache_id(),
        }
    }

    /// Speaks `text` with `voice`; returns a WAV file's bytes at any rate.
    pub async fn synthesize(&self, text: &str, voice: &str) -> Result<Vec<u8>, TtsError> {
        match self {
            TtsEngine::Espeak(e) => e.synthesize(text, voice).await,
            TtsEngine::Http(h) => h.synthesize(text, voice).await,
        }
    }

    fn name(&self) -> String {
        match self {
            TtsEngine::Espeak(e) => e.program().to_owned(),
            TtsEngine::Http(h) => h.url().to_owned(),
        }
    }
}

/// An engine with its cache: text in, 8 kHz samples out.
#[derive(Debug)]
pub struct Tts {
    engine: TtsEngine,
    cache: Option<TtsCache>,
    engine_calls: AtomicU64,
}

impl Tts {
    pub fn new(engine: TtsEngine, cache: Option<TtsCache>) -> Tts {
        Tts {
            engine,
            cache,
            engine_calls: AtomicU64::new(0),
        }
    }

    /// 8 kHz mono samples of `text` spoken by `voice`, from the cache when
    /// it was rendered before.
    pub async fn render(&self, text: &str, voice: &str) -> Result<Arc<[i16]>, TtsError> {
        let key = TtsCache::key(&self.engine.cache_id(), voice, text);
        if let Some(cache) = &self.cache
            && let Some(samples) = cache.get(&key).await?
        {
            return Ok(samples.into());
        }
        self.engine_calls.fetch_add(1, Ordering::Relaxed);
        let wav = self.engine.synthesize(text, voice).await?;
        let engine = self.engine.name();
        let samples = tokio::task::spawn_blocking(move || samples_8k_from_wav(&wav))
            .await
            .map_err(|e| TtsError::Failed {
                engine: engine.clone(),
                detail: format!("conversion task failed: {e}"),
            })?
            .map_err(|e| TtsError::Audio {
                engine,
                detail: e.to_string(),
            })?;
        if let Some(cache) = &self.cache {
            cache.put(&key, &samples).await?;
        }
        Ok(samples.into())
    }

    /// How many times the engine itself was asked (cache misses).
    pub fn engine_calls(&self) -> u64 {
        self.engine_calls.load(Ordering::Relaxed)
    }

    pub fn cache(&self) -> Option<&TtsCache> {
        self.cache.as_ref()
    }
}

#[cfg(test)]
mod tests;
