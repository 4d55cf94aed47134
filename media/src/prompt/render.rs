//! Voicing a resolved message as one 8 kHz clip.
//!
//! Recorded phrases are used as they are; TTS text goes through [`Tts`]
//! (cached); say words are spoken by the TTS engine as one line, or
//! concatenated from recorded fragments when the campaign uses a fragment
//! set. Segments are joined with short pauses, as a person would speak them.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;

use super::template::Segment;
use super::{Prompt, PromptError, trim_silence};
use crate::codec::SAMPLE_RATE;
use crate::say::{self, Language};
use crate::tts::{Tts, TtsError};

/// Pause between the parts of a message.
const PART_GAP_MS: usize = 150;
/// Pause between recorded fragments of one value.
const WORD_GAP_MS: usize = 30;

fn silence(ms: usize) -> impl Iterator<Item = i16> {
    std::iter::repeat_n(0, ms * SAMPLE_RATE as usize / 1000)
}

/// `manifest.toml` of a prompts folder: its recorded phrases and fragments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub language: Option<String>,
    /// Where the files came from (a TTS voice, a studio).
    pub source: Option<String>,
    /// Phrase name -> file, relative to the folder.
    #[serde(default)]
    pub phrases: BTreeMap<String, String>,
    /// Fragment name (see `say::fragment_name`) -> file.
    #[serde(default)]
    pub fragments: BTreeMap<String, String>,
}

impl Manifest {
    pub const FILE: &'static str = "manifest.toml";

    pub fn load(dir: &Path) -> Result<Manifest, String> {
        let path = dir.join(Manifest::FILE);
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| format!("{}: {}", path.display(), e.message()))
    }

    /// The file of a phrase, if the manifest lists it.
    pub fn phrase(&self, dir: &Path, name: &str) -> Option<PathBuf> {
        self.phrases.get(name).map(|file| dir.join(file))
    }
}

/// The formats a phrase file may have, tried in this order.
const PHRASE_EXTENSIONS: [&str; 4] = ["wav", "mp3", "ogg", "flac"];

/// Where a `file:NAME` part's audio is: a path (a name with `/` or `.`,
/// relative to `base_dir`), or a phrase of the prompts folder (listed in
/// its manifest, or `NAME.wav`, `.mp3`, `.ogg`, `.flac`). The error says
/// what was looked for.
pub fn phrase_file(
    name: &str,
    base_dir: &Path,
    prompts_dir: Option<&Path>,
) -> Result<PathBuf, String> {
    if name.contains('/') || name.contains('.') {
        let path = Path::new(name);
        let path = if path.is_absolute() {
            path.to_owned()
        } else {
            base_dir.join(path)
        };
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("file:{name}: {} does not exist", path.display()))
        };
    }
    let Some(dir) = prompts_dir else {
        return Err(format!(
            "file:{name} names a phrase, but no prompts folder is set"
        ));
    };
    let manifest = if dir.join(Manifest::FILE).exists() {
        Some(Manifest::load(dir)?)
    } else {
        None
    };
    let listed = manifest.as_ref().and_then(|m| m.phrase(dir, name));
    // Not listed: the phrase's file by name, in any format prompts load from.
    let path = listed.clone().unwrap_or_else(|| {
        PHRASE_EXTENSIONS
            .iter()
            .map(|ext| dir.join(format!("{name}.{ext}")))
            .find(|p| p.is_file())
            .unwrap_or_else(|| dir.join(format!("{name}.wav")))
    });
    if path.is_file() {
        return Ok(path);
    }
    Err(match listed {
        Some(_) => format!(
            "file:{name}: {} lists {}, which does not exist",
            dir.join(Manifest::FILE).display(),
            path.display()
        ),
        None => format!(
            "file:{name}: no phrase '{name}' in {} (no {name}.wav, .mp3, .ogg or .flac, not in its manifest)",
            dir.display(),
        ),
    })
}

/// A loaded fragment set that covers every word of its language.
#[derive(Debug)]
pub struct Fragments {
    clips: HashMap<String, Arc<[i16]>>,
}

impl Fragments {
    /// Checks that the manifest of `dir` lists a fragment for every word
    /// `language` can say, without loading the audio; the missing ones are named.
    pub fn check(dir: &Path, language: Language) -> Result<(), String> {
        let manifest = Manifest::load(dir)?;
        Fragments::missing(dir, &manifest, language)
    }

    fn missing(dir: &Path, manifest: &Manifest, language: Language) -> Result<(), String> {
        let vocabulary = say::vocabulary(language);
        let missing: Vec<&String> = vocabulary
            .keys()
            .filter(|w| {
                !manifest
                    .fragments
                    .get(*w)
                    .is_some_and(|f| dir.join(f).is_file())
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let shown: Vec<String> = missing
            .iter()
            .take(12)
            .map(|w| format!("{w} (fragments/{w}.wav)"))
            .collect();
        // A set recorded for another language is missing most words; say
        // that first, not only the words.
        let other = match manifest.language.as_deref() {
            Some(tag) if Language::parse(tag) != Some(language) => {
                format!(" the set is for {tag}, not {language};")
            }
            _ => String::new(),
        };
        Err(format!(
            "{}:{other} {} of the {} fragments {language} needs are missing: {}{}",
            dir.join(Manifest::FILE).display(),
            missing.len(),
            vocabulary.len(),
            shown.join(", "),
            if missing.len() > shown.len() {
                ", ..."
            } else {
                ""
            }
        ))
    }

    /// Loads the fragments `manifest.toml` of `dir` lists and checks that
    /// every word `language` can say has one; the missing ones are named.
    pub fn load(dir: &Path, language: Language) -> Result<Fragments, String> {
        let manifest = Manifest::load(dir)?;
        Fragments::missing(dir, &manifest, language)?;
        let vocabulary = say::vocabulary(language);
        let mut clips = HashMap::new();
        for word in vocabulary.keys() {
            let path = dir.join(&manifest.fragments[word]);
            let prompt = Prompt::load(&path).map_err(|e| e.to_string())?;
            clips.insert(word.clone(), Arc::from(trim_silence(prompt.samples(), 40)));
        }
        Ok(Fragments { clips })
    }

    fn voice(&self, words: &[String], out: &mut Vec<i16>) -> Result<(), String> {
        for (i, name) in say::fragments(words).iter().enumerate() {
            let clip = self
                .clips
                .get(name)
                .ok_or_else(|| format!("no recorded fragment '{name}'"))?;
            if i > 0 {
                out.extend(silence(WORD_GAP_MS));
            }
            out.extend_from_slice(clip);
        }
        Ok(())
    }
}

/// How say values are voiced.
#[derive(Debug)]
pub enum SayVoice {
    /// The words as one line of TTS text.
    Tts,
    /// Recorded fragments, one per word.
    Fragments(Fragments),
}

/// Why a message could not be voiced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("speaking '{text}': {source}")]
    Tts { text: String, source: TtsError },
    #[error("the message needs a TTS engine for '{0}'")]
    NoTts(String),
    #[error("phrase '{0}' was not loaded")]
    UnknownPhrase(String),
    #[error("{0}")]
    Fragments(String),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

/// Turns resolved messages into audio.
#[derive(Debug)]
pub struct Renderer {
    tts: Option<Arc<Tts>>,
    voice: String,
    say_voice: SayVoice,
    phrases: HashMap<String, Arc<[i16]>>,
}

impl Renderer {
    /// `phrases` holds the audio of every `file:` part, by the name the
    /// message uses.
    pub fn new(
        tts: Option<Arc<Tts>>,
        voice: impl Into<String>,
        say_voice: SayVoice,
        phrases: HashMap<String, Arc<[i16]>>,
    ) -> Renderer {
        Renderer {
            tts,
            voice: voice.into(),
            say_voice,
            phrases,
        }
    }

    async fn speak(&self, text: &str, out: &mut Vec<i16>) -> Result<(), RenderError> {
        let tts = self
            .tts
            .as_ref()
            .ok_or_else(|| RenderError::NoTts(text.to_owned()))?;
        let samples = tts
            .render(text, &self.voice)
            .await
            .map_err(|source| RenderError::Tts {
                text: text.to_owned(),
                source,
            })?;
        out.extend_from_slice(trim_silence(&samples, 80));
        Ok(())
    }

    /// One contact's message as 8 kHz samples.
    pub async fn render(&self, segments: &[Segment]) -> Result<Vec<i16>, RenderError> {
        let mut out = Vec::new();
        for (i, segment) in segments.iter().enumerate() {
            if i > 0 {
                out.extend(silence(PART_GAP_MS));
            }
            match segment {
                Segment::File(name) => {
                    let clip = self
                        .phrases
                        .get(name)
                        .ok_or_else(|| RenderError::UnknownPhrase(name.clone()))?;
                    out.extend_from_slice(clip);
                }
                Segment::Speak(text) => self.speak(text, &mut out).await?,
                Segment::Words(words) => match &self.say_voice {
                    SayVoice::Tts => self.speak(&say::text(words), &mut out).await?,
                    SayVoice::Fragments(fragments) => fragments
                        .voice(words, &mut out)
                        .map_err(RenderError::Fragments)?,
                },
            }
        }
        Ok(out)
    }

    /// One contact's message as a prompt ready to play.
    pub async fn prompt(&self, name: &str, segments: &[Segment]) -> Result<Prompt, RenderError> {
        Ok(Prompt::from_samples(name, self.render(segments).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::write_mulaw_wav;
    use crate::tts::{Espeak, TtsEngine};

    /// A fragment set of tones, each word as long as its name (20 ms a letter).
    fn tone_fragments(dir: &Path, language: Language, skip: &[&str]) {
        std::fs::create_dir_all(dir.join("fragments")).unwrap();
        let mut manifest = String::from("language = \"es-MX\"\n[fragments]\n");
        for word in say::vocabulary(language).into_keys() {
            if skip.contains(&word.as_str()) {
                continue;
            }
            let samples: Vec<i16> = (0..word.len() * 160)
                .map(|n| ((n as f32 * 0.4).sin() * 9000.0) as i16)
                .collect();
            write_mulaw_wav(&dir.join(format!("fragments/{word}.wav")), &samples).unwrap();
            manifest.push_str(&format!("{word} = \"fragments/{word}.wav\"\n"));
        }
        std::fs::write(dir.join(Manifest::FILE), manifest).unwrap();
    }

    #[tokio::test]
    async fn fragments_are_concatenated_word_by_word() {
        let dir = tempfile::tempdir().unwrap();
        tone_fragments(dir.path(), Language::EsMx, &[]);
        let fragments = Fragments::load(dir.path(), Language::EsMx).unwrap();
        let renderer = Renderer::new(None, "", SayVoice::Fragments(fragments), HashMap::new());
        let words: Vec<String> = ["mil", "pesos"].map(String::from).to_vec();
        let audio = renderer.render(&[Segment::Words(words)]).await.unwrap();
        // Each tone has no silence to trim; 30 ms (240 samples) between words.
        let expected = 3 * 160 + 240 + 5 * 160;
        assert!(
            (audio.len() as i64 - expected as i64).abs() <= 4,
            "{} vs {expected}",
            audio.len()
        );
        let err = renderer
            .render(&[Segment::Speak("Hola".into())])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("needs a TTS engine"), "{err}");
    }

    #[tokio::test]
    async fn a_fragment_set_with_gaps_names_what_is_missing() {
        let dir = tempfile::tempdir().unwrap();
        tone_fragments(dir.path(), Language::EsMx, &["veintiun", "millones"]);
        let err = Fragments::load(dir.path(), Language::EsMx).unwrap_err();
        assert!(
            err.contains("2 of the")
                && err.contains("millones (fragments/millones.wav)")
                && err.contains("veintiun"),
            "{err}"
        );
        assert!(!err.contains("the set is for"), "{err}");
        let err = Fragments::load(&dir.path().join("nowhere"), Language::EsMx).unwrap_err();
        assert!(err.contains("manifest.toml"), "{err}");
        // The shipped English set, asked for Spanish words.
        let english = Path::new(env!("CARGO_MANIFEST_DIR")).join("../prompts/en-US");
        let err = Fragments::load(&english, Language::EsMx).unwrap_err();
        assert!(
            err.contains("the set is for en-US, not es-MX;") && err.contains("missing"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn tts_and_phrases_make_one_message() {
        let tts = Arc::new(Tts::new(
            TtsEngine::Espeak(Espeak::new("espeak-ng", 165)),
            None,
        ));
        let beep: Arc<[i16]> = (0..1600)
            .map(|n| ((n as f32 * 0.5).sin() * 8000.0) as i16)
            .collect::<Vec<_>>()
            .into();
        let renderer = Renderer::new(
            Some(tts),
            "es-419",
            SayVoice::Tts,
            HashMap::from([("beep".to_string(), beep)]),
        );
        let short = renderer
            .render(&[Segment::File("beep".into())])
            .await
            .unwrap();
        assert_eq!(short.len(), 1600);
        let full = renderer
            .render(&[
                Segment::File("beep".into()),
                Segment::Speak("Hola Juan Pérez".into()),
                Segment::Words(vec!["mil".into(), "pesos".into()]),
            ])
            .await
            .unwrap();
        assert!(full.len() > 1600 + 8000, "{} samples", full.len());
        let err = renderer
            .render(&[Segment::File("nada".into())])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("phrase 'nada'"), "{err}");
    }
}
