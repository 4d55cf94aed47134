//! The campaign's message and the TTS engine that voices it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use media::prompt::template::Template;
use media::say::Language;
use media::tts::HttpTtsConfig;
use serde::Deserialize;

use super::raw::{RawCampaign, RawTts, TtsEngineKind};
use super::{ConfigError, Validator};

/// How say values are voiced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SayWith {
    /// The words, as one line of TTS text.
    #[default]
    Tts,
    /// Recorded fragments from the prompts folder, one per word.
    Fragments,
}

/// What answered calls do: say a message, or run a flow.
#[derive(Debug, Clone)]
pub enum ScriptConfig {
    Message(MessageConfig),
    /// An IVR flow file (docs/flows.md); it sets its own language and prompts.
    Flow(PathBuf),
}

/// What a call says.
#[derive(Debug, Clone)]
pub struct MessageConfig {
    pub language: Language,
    pub template: Template,
    /// Folder with `manifest.toml`: phrases for `file:NAME`, and fragments.
    pub prompts: Option<PathBuf>,
    pub say_with: SayWith,
    /// Where `file:` paths are relative to (the config's folder).
    pub base_dir: PathBuf,
}

/// The speech engine and its cache.
#[derive(Debug, Clone)]
pub struct TtsConfig {
    pub engine: TtsEngineConfig,
    /// The voice; the language's default when not set.
    pub voice: Option<String>,
    pub cache_dir: PathBuf,
    pub cache_max_bytes: u64,
}

#[derive(Debug, Clone)]
pub enum TtsEngineConfig {
    Espeak { program: String, speed: u32 },
    Http(HttpTtsConfig),
}

impl TtsConfig {
    /// The voice for `language` (the configured one, or the language's default).
    pub fn voice_for(&self, language: Language) -> String {
        match (&self.voice, &self.engine) {
            (Some(voice), _) => voice.clone(),
            (None, TtsEngineConfig::Espeak { .. }) => language.espeak_voice().to_owned(),
            (None, TtsEngineConfig::Http(_)) => language.tag().to_owned(),
        }
    }
}

impl Validator<'_> {
    pub(super) fn script(&self, c: &RawCampaign, base: &Path) -> Result<ScriptConfig, ConfigError> {
        let Some(flow) = &c.flow else {
            return Ok(ScriptConfig::Message(self.message(c, base)?));
        };
        if c.prompt.is_some() || c.message.is_some() {
            return Err(self.invalid(
                flow,
                "campaign.flow",
                "set one of flow, message and prompt".into(),
            ));
        }
        if let Some(language) = &c.language {
            return Err(self.invalid(
                language,
                "campaign.language",
                "the flow file sets its language".into(),
            ));
        }
        if c.prompts.is_some() || c.say_with != SayWith::Tts {
            return Err(self.invalid(
                flow,
                "campaign.prompts",
                "the flow file sets prompts and say_with".into(),
            ));
        }
        let path = flow.get_ref();
        Ok(ScriptConfig::Flow(if path.is_absolute() {
            path.clone()
        } else {
            base.join(path)
        }))
    }

    fn message(&self, c: &RawCampaign, base: &Path) -> Result<MessageConfig, ConfigError> {
        let language = match &c.language {
            None => Language::EsMx,
            Some(tag) => Language::parse(tag.get_ref()).ok_or_else(|| {
                self.invalid(
                    tag,
                    "campaign.language",
                    format!(
                        "'{}' is not one of es-MX, es-CO, es-PE, es-CL, es-419, en-US",
                        tag.get_ref()
                    ),
                )
            })?,
        };
        let resolve = |p: &Path| {
            if p.is_absolute() {
                p.to_owned()
            } else {
                base.join(p)
            }
        };
        let template = match (&c.prompt, &c.message) {
            (Some(prompt), None) => {
                let path = resolve(prompt.get_ref());
                Template::parse(&[format!("file:{}", path.display())])
                    .map_err(|e| self.invalid(prompt, "campaign.prompt", e.reason))?
            }
            (None, Some(parts)) => {
                let texts: Vec<&str> = parts
                    .get_ref()
                    .iter()
                    .map(|p| p.get_ref().as_str())
                    .collect();
                Template::parse(&texts).map_err(|e| match parts.get_ref().get(e.index) {
                    Some(part) => {
                        self.invalid(part, &format!("campaign.message[{}]", e.index), e.reason)
                    }
                    None => self.invalid(parts, "campaign.message", e.reason),
                })?
            }
            (Some(prompt), Some(_)) => {
                return Err(self.invalid(
                    prompt,
                    "campaign.prompt",
                    "set either prompt or message, not both".into(),
                ));
            }
            (None, None) => {
                return Err(self.invalid(
                    &c.name,
                    "campaign.message",
                    "the campaign says nothing: set message, flow, or prompt for a single recording"
                        .into(),
                ));
            }
        };
        if c.say_with == SayWith::Fragments && c.prompts.is_none() {
            return Err(self.invalid(
                &c.name,
                "campaign.prompts",
                "say_with = \"fragments\" needs the prompts folder holding the fragments".into(),
            ));
        }
        Ok(MessageConfig {
            language,
            template,
            prompts: c.prompts.as_deref().map(resolve),
            say_with: c.say_with,
            base_dir: base.to_owned(),
        })
    }

    pub(super) fn tts(
        &self,
        raw: Option<RawTts>,
        base: &Path,
        database: &Path,
    ) -> Result<TtsConfig, ConfigError> {
        let t = raw.unwrap_or_default();
        let engine = match t.engine {
            TtsEngineKind::Espeak => {
                let speed = *t.speed.get_ref();
                if !(80..=450).contains(&speed) {
                    return Err(self.invalid(
                        &t.speed,
                        "tts.speed",
                        format!("{speed} is outside 80-450 words per minute"),
                    ));
                }
                TtsEngineConfig::Espeak {
                    program: t.program,
                    speed,
                }
            }
            TtsEngineKind::Http => {
                let url = t.url.as_ref().ok_or_else(|| {
                    self.invalid(
                        &t.timeout_s,
                        "tts.url",
                        "engine = \"http\" needs url".into(),
                    )
                })?;
                if !(url.get_ref().starts_with("http://") || url.get_ref().starts_with("https://"))
                {
                    return Err(self.invalid(
                        url,
                        "tts.url",
                        format!("'{}' is not an http:// or https:// URL", url.get_ref()),
                    ));
                }
                let mut headers = Vec::new();
                for (name, value) in t.headers.get_ref() {
                    let value = expand_env(value).map_err(|reason| {
                        self.invalid(&t.headers, &format!("tts.headers.{name}"), reason)
                    })?;
                    headers.push((name.clone(), value));
                }
                TtsEngineConfig::Http(HttpTtsConfig {
                    url: url.get_ref().clone(),
                    headers,
                    content_type: t.content_type,
                    body: t
                        .body
                        .unwrap_or_else(|| HttpTtsConfig::DEFAULT_BODY.to_owned()),
                    timeout: Duration::from_secs_f64(self.seconds(
                        &t.timeout_s,
                        "tts.timeout_s",
                        1.0,
                        300.0,
                    )?),
                })
            }
        };
        let cache_dir = match t.cache_dir {
            Some(dir) if dir.is_absolute() => dir,
            Some(dir) => base.join(dir),
            None => database
                .parent()
                .unwrap_or(Path::new("."))
                .join("tts-cache"),
        };
        Ok(TtsConfig {
            engine,
            voice: t.voice,
            cache_dir,
            cache_max_bytes: t.cache_max_mb.saturating_mul(1024 * 1024),
        })
    }
}

/// Replaces `${NAME}` with the environment variable NAME, so secrets stay
/// out of configuration files.
fn expand_env(value: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find('}')
            .ok_or_else(|| format!("'{value}': '${{' is not closed"))?
            + start;
        let name = &rest[start + 2..end];
        let found =
            std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))?;
        out.push_str(&found);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use media::say::Language;

    use super::TtsEngineConfig;
    use crate::config::Config;

    fn config(tts: &str) -> String {
        format!(
            r#"
[database]
path = "dialer.db"

[[trunk]]
name = "carrier"
address = "127.0.0.1:5070"
caller_id = "+525512345678"

[campaign]
name = "recordatorio"
contacts = "contacts.csv"
message = ["tts:Hola {{name}}"]
trunk = "carrier"

{tts}
"#
        )
    }

    fn parse(tts: &str) -> Result<Config, String> {
        Config::parse(Path::new("/etc/dialer/run.toml"), &config(tts)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_voice_comes_from_the_language_unless_one_is_set() {
        let espeak = parse("").unwrap().tts;
        assert_eq!(espeak.voice_for(Language::EsMx), "es-419");
        assert_eq!(espeak.voice_for(Language::EsCo), "es-419");
        assert_eq!(espeak.voice_for(Language::EsCl), "es-419");
        assert_eq!(espeak.voice_for(Language::EnUs), "en-us");
        let http = parse("[tts]\nengine = \"http\"\nurl = \"http://127.0.0.1:9/tts\"")
            .unwrap()
            .tts;
        assert_eq!(http.voice_for(Language::EsMx), "es-MX");
        assert_eq!(http.voice_for(Language::EsPe), "es-PE");
        assert_eq!(http.voice_for(Language::EnUs), "en-US");
        for engine in ["espeak", "http"] {
            let chosen = parse(&format!(
                "[tts]\nengine = \"{engine}\"\nurl = \"http://127.0.0.1:9/tts\"\nvoice = \"es-MX-DaliaNeural\""
            ))
            .unwrap()
            .tts;
            assert_eq!(chosen.voice_for(Language::EnUs), "es-MX-DaliaNeural");
        }
    }

    #[test]
    fn the_http_engine_takes_url_headers_body_and_timeout() {
        let home = std::env::var("HOME").expect("HOME is set for tests");
        let c = parse(
            r#"[tts]
engine = "http"
url = "https://tts.example.com/v1/synthesize"
headers = { Authorization = "Bearer ${HOME}", X-Cliente = "cobranza" }
content_type = "application/ssml+xml"
body = '<speak><voice name="{voice}">{text_xml}</voice></speak>'
timeout_s = 4
cache_dir = "cache-voz"
cache_max_mb = 2
"#,
        )
        .unwrap();
        let TtsEngineConfig::Http(http) = &c.tts.engine else {
            panic!("not the HTTP engine: {:?}", c.tts.engine);
        };
        assert_eq!(http.url, "https://tts.example.com/v1/synthesize");
        assert_eq!(
            http.headers,
            vec![
                ("Authorization".to_owned(), format!("Bearer {home}")),
                ("X-Cliente".to_owned(), "cobranza".to_owned()),
            ]
        );
        assert_eq!(http.content_type, "application/ssml+xml");
        assert!(http.body.starts_with("<speak><voice name=\"{voice}\">"));
        assert_eq!(http.timeout.as_secs(), 4);
        assert_eq!(c.tts.cache_dir, Path::new("/etc/dialer/cache-voz"));
        assert_eq!(c.tts.cache_max_bytes, 2 * 1024 * 1024);

        let err = parse("[tts]\nengine = \"http\"").unwrap_err();
        assert!(err.contains("`tts.url`"), "{err}");
        let err = parse("[tts]\nengine = \"http\"\nurl = \"ftp://x\"").unwrap_err();
        assert!(
            err.contains("`tts.url`") && err.contains("ftp://x"),
            "{err}"
        );
        let err = parse(
            "[tts]\nengine = \"http\"\nurl = \"http://x\"\nheaders = { Authorization = \"${NO_SUCH_VARIABLE_4471}\" }",
        )
        .unwrap_err();
        assert!(
            err.contains("tts.headers.Authorization") && err.contains("NO_SUCH_VARIABLE_4471"),
            "{err}"
        );
    }
}
