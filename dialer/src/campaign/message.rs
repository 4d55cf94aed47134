//! What answered calls say, made personal for every contact: a message, or
//! the prompts of an IVR flow.
//!
//! At start the script is prepared once: the flow loaded and checked, the
//! recorded phrases loaded, the TTS engine checked (voice installed), the
//! fragment set checked for completeness. Each contact's values are then
//! resolved when the list loads, so a balance or date that cannot be read
//! is a skipped row with its line and column, not silence on the call; the
//! opening prompt is rendered ahead of the dialing front, so a call starts
//! speaking the moment it is answered. A flow's later prompts are rendered
//! when the flow reaches them (cached by the TTS engine).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use media::prompt::template::{Part, ResolveError, Segment, Template};
use media::prompt::{Fragments, Prompt, RenderError, Renderer, SayVoice, phrase_file};
use media::say::{Date, Language};
use media::tts::{Espeak, HttpTts, Tts, TtsCache, TtsEngine};

use super::Contact;
use super::contacts::required_column_names;
use crate::config::{SayWith, ScriptConfig, TtsConfig, TtsEngineConfig};
use crate::ivr::interp::Vars;
use crate::ivr::{self, Flow, NodeKind};

/// A script ready to be resolved and rendered for contacts.
pub struct PreparedScript {
    flow: Option<Arc<Flow>>,
    /// The script's own templates come first; extra ones follow.
    own: usize,
    templates: Vec<Template>,
    /// The prompt rendered for each contact before the call (the message,
    /// or the flow's first prompt).
    opening: Option<usize>,
    language: Language,
    renderer: Renderer,
}

/// The prompt a flow starts with, if its first node plays one.
fn opening_prompt(flow: &Flow) -> Option<usize> {
    match &flow.node(flow.start).kind {
        NodeKind::Play { prompt, .. }
        | NodeKind::Menu { prompt, .. }
        | NodeKind::Gather { prompt, .. } => Some(*prompt),
        NodeKind::PromiseToPay { ask, .. } => Some(*ask),
        _ => None,
    }
}

impl PreparedScript {
    /// Loads the flow (if any), the phrases, and builds and checks the TTS
    /// engine and the fragment set.
    pub async fn prepare(script: &ScriptConfig, tts: &TtsConfig) -> anyhow::Result<PreparedScript> {
        PreparedScript::prepare_with(script, tts, &[]).await
    }

    /// As [`PreparedScript::prepare`], with more prompts in the script's
    /// language and prompts folder (the queues' hold music and
    /// announcements); they are rendered with [`PreparedScript::render`]
    /// by index, the first one at [`PreparedScript::extra_base`].
    pub async fn prepare_with(
        script: &ScriptConfig,
        tts: &TtsConfig,
        extra: &[Template],
    ) -> anyhow::Result<PreparedScript> {
        let (flow, mut templates, opening, language, say_with, prompts_dir, base_dir) = match script
        {
            ScriptConfig::Message(m) => (
                None,
                vec![m.template.clone()],
                Some(0),
                m.language,
                m.say_with,
                m.prompts.clone(),
                m.base_dir.clone(),
            ),
            ScriptConfig::Flow(path) => {
                let flow = Arc::new(ivr::load(path)?);
                let base = path.parent().unwrap_or(Path::new(".")).to_owned();
                (
                    Some(flow.clone()),
                    flow.prompts.clone(),
                    opening_prompt(&flow),
                    flow.language,
                    flow.say_with,
                    flow.prompts_dir.clone(),
                    base,
                )
            }
        };
        let own = templates.len();
        templates.extend(extra.iter().cloned());
        let mut phrases = HashMap::new();
        for name in templates.iter().flat_map(|t| t.files()) {
            if phrases.contains_key(name) {
                continue;
            }
            let path = phrase_file(name, &base_dir, prompts_dir.as_deref())
                .map_err(|e| anyhow::anyhow!("campaign: {e}"))?;
            let prompt = Prompt::load(&path)?;
            phrases.insert(name.to_owned(), Arc::from(prompt.samples()));
        }
        let speaks = templates.iter().flat_map(|t| t.parts()).any(|p| match p {
            Part::Tts(_) => true,
            Part::Say { .. } => say_with == SayWith::Tts,
            Part::File(_) => false,
        });
        let voice = tts.voice_for(language);
        let engine = if speaks {
            Some(Arc::new(build_tts(tts, &voice).await?))
        } else {
            None
        };
        let say_voice = match say_with {
            SayWith::Tts => SayVoice::Tts,
            SayWith::Fragments => {
                let dir = prompts_dir
                    .as_deref()
                    .context("say_with = \"fragments\" needs the prompts folder")?;
                SayVoice::Fragments(Fragments::load(dir, language).map_err(anyhow::Error::msg)?)
            }
        };
        Ok(PreparedScript {
            flow,
            own,
            templates,
            opening,
            language,
            renderer: Renderer::new(engine, voice, say_voice, phrases),
        })
    }

    pub fn flow(&self) -> Option<&Arc<Flow>> {
        self.flow.as_ref()
    }

    /// Fails when the script uses a column the list does not have.
    pub fn check_columns(&self, list: &Path, columns: &[String]) -> anyhow::Result<()> {
        let (what, used): (&str, Vec<String>) = match &self.flow {
            Some(flow) => ("the flow's variables", flow.variables.clone()),
            None => (
                "campaign.message",
                self.templates[..self.own]
                    .iter()
                    .flat_map(|t| t.variables())
                    .collect(),
            ),
        };
        check_known(what, used, list, columns)
    }

    /// Fails when extra template `index` (`what`, for the error) uses a
    /// column the list does not have: for prompts said with the contact's
    /// values only, outside the flow.
    pub fn check_extra_columns(
        &self,
        index: usize,
        what: &str,
        list: &Path,
        columns: &[String],
    ) -> anyhow::Result<()> {
        check_known(
            what,
            self.templates[index].variables().into_iter().collect(),
            list,
            columns,
        )
    }

    /// A contact's values under every name a script may use: the standard
    /// names, the list's own column names and their Spanish aliases, and
    /// `days_past_due`.
    pub fn contact_vars(&self, contact: &Contact, today: Date) -> Vars {
        let mut vars: Vars = contact.vars.clone();
        for name in required_column_names() {
            if let Some(value) = contact.value(name) {
                vars.entry(name.to_owned())
                    .or_insert_with(|| value.to_owned());
            }
        }
        if let Ok(due) =
            media::say::input::parse_date(&contact.due_date, self.language.date_order())
        {
            vars.insert(
                "days_past_due".into(),
                (today.days() - due.days()).to_string(),
            );
        }
        vars
    }

    /// Reads every value the script will say for this contact: the opening
    /// prompt's segments, ready to render, or the first value that cannot
    /// be said. Flow prompts that use only the contact's values are checked
    /// too, so no call reaches a value it cannot say.
    pub fn resolve(&self, vars: &Vars, today: Date) -> Result<Option<Vec<Segment>>, ResolveError> {
        let value_of = |name: &str| vars.get(name).map(String::as_str);
        if self.flow.is_some() {
            for template in &self.templates[..self.own] {
                if template.variables().iter().all(|v| vars.contains_key(v)) {
                    template.resolve(&value_of, self.language, today)?;
                }
            }
        }
        self.opening
            .map(|prompt| self.templates[prompt].resolve(&value_of, self.language, today))
            .transpose()
    }

    /// Renders resolved segments.
    pub async fn render_segments(
        &self,
        name: &str,
        segments: &[Segment],
    ) -> Result<Prompt, RenderError> {
        self.renderer.prompt(name, segments).await
    }

    /// The segments of template `prompt` with these variables.
    pub fn resolve_template(
        &self,
        prompt: usize,
        vars: &Vars,
        today: Date,
    ) -> Result<Vec<Segment>, ResolveError> {
        self.templates[prompt].resolve(
            &|name| vars.get(name).map(String::as_str),
            self.language,
            today,
        )
    }

    /// Renders a flow prompt with the call's variables, when the flow reaches it.
    pub async fn render(&self, prompt: usize, vars: &Vars, today: Date) -> Result<Prompt, String> {
        let segments = self
            .resolve_template(prompt, vars, today)
            .map_err(|e| e.to_string())?;
        self.renderer
            .prompt("flow", &segments)
            .await
            .map_err(|e| e.to_string())
    }

    /// The index of the first extra template given to `prepare_with`.
    pub fn extra_base(&self) -> usize {
        self.own
    }

    /// The prompt rendered before each call, if any.
    pub fn opening(&self) -> Option<usize> {
        self.opening
    }
}

/// Fails when `used` names a value that is neither a column of the list
/// nor built in.
fn check_known(
    what: &str,
    used: Vec<String>,
    list: &Path,
    columns: &[String],
) -> anyhow::Result<()> {
    let known = |v: &str| {
        columns.iter().any(|c| c == v)
            || required_column_names().any(|c| c == v)
            || ivr::BUILT_IN.contains(&v)
    };
    let unknown: Vec<String> = used.into_iter().filter(|v| !known(v)).collect();
    if !unknown.is_empty() {
        bail!(
            "{what} uses {{{}}}, but {} has no such column (its columns: {})",
            unknown.join("}, {"),
            list.display(),
            columns.join(", ")
        );
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MessageConfig;

    #[tokio::test]
    async fn contact_values_under_every_name_and_days_past_due() {
        let message = ScriptConfig::Message(MessageConfig {
            language: Language::EsMx,
            template: Template::parse(&["tts:Hola {nombre}"]).unwrap(),
            prompts: None,
            say_with: SayWith::Fragments,
            base_dir: ".".into(),
        });
        // Fragments with no prompts folder fail; a TTS script needs espeak.
        assert!(
            PreparedScript::prepare(&message, &test_tts())
                .await
                .is_err()
        );
        let script = PreparedScript {
            flow: None,
            own: 1,
            templates: vec![
                Template::parse(&["tts:Hola {nombre}", "say:currency:{saldo}"]).unwrap(),
            ],
            opening: Some(0),
            language: Language::EsMx,
            renderer: Renderer::new(None, "", SayVoice::Tts, HashMap::new()),
        };
        let contact = Contact {
            id: "C-1".into(),
            phone: "+525512345678".into(),
            name: "Ana".into(),
            balance: "1,234.50".into(),
            due_date: "15/11/2026".into(),
            vars: [("segmento".to_string(), "temprana".to_string())].into(),
            line: 2,
        };
        let today = Date {
            year: 2026,
            month: 11,
            day: 22,
        };
        let vars = script.contact_vars(&contact, today);
        assert_eq!(vars["nombre"], "Ana");
        assert_eq!(vars["name"], "Ana");
        assert_eq!(vars["saldo"], "1,234.50");
        assert_eq!(vars["segmento"], "temprana");
        assert_eq!(vars["days_past_due"], "7");
        let opening = script.resolve(&vars, today).unwrap().unwrap();
        assert_eq!(opening.len(), 2);
        let mut bad = vars.clone();
        bad.insert("saldo".into(), "N/D".into());
        assert_eq!(script.resolve(&bad, today).unwrap_err().variable, "saldo");
    }

    fn test_tts() -> TtsConfig {
        TtsConfig {
            engine: TtsEngineConfig::Espeak {
                program: "espeak-ng".into(),
                speed: 165,
            },
            voice: None,
            cache_dir: std::env::temp_dir().join("dialer-test-tts-cache"),
            cache_max_bytes: 1 << 20,
        }
    }
}
