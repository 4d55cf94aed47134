//! `dialer prompts`: hear any rendering before a campaign, record fragment
//! sets and phrases, and render one contact's whole message.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use media::prompt::template::Segment;
use media::prompt::{Fragments, Manifest, Renderer, SayVoice, trim_silence, write_mulaw_wav};
use media::say::{self, Language, SayKind};
use media::tts::{Espeak, Tts, TtsEngine};

use crate::campaign::contacts;
use crate::campaign::message::PreparedScript;
use crate::campaign::runner::today;
use crate::config::Config;

#[derive(Subcommand)]
pub enum PromptsCommand {
    /// Say a value in words: print them (--text) or record them (--out).
    ///
    /// KIND is number, currency (OPTION: MXN, COP, PEN, CLP, USD, EUR),
    /// date (OPTION: auto, full, short), time, digits or ordinal.
    Say {
        #[arg(long, default_value = "es-MX")]
        lang: String,
        /// espeak-ng voice (default: the language's).
        #[arg(long)]
        voice: Option<String>,
        /// Voice the words with the recorded fragments of this prompts folder.
        #[arg(long)]
        fragments: Option<PathBuf>,
        kind: String,
        value: String,
        option: Option<String>,
        /// Print the words on one line.
        #[arg(long, conflicts_with = "out", required_unless_present = "out")]
        text: bool,
        /// Write an 8 kHz µ-law WAV.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Speak free text with espeak-ng into an 8 kHz µ-law WAV (a phrase).
    Speak {
        #[arg(long, default_value = "es-MX")]
        lang: String,
        #[arg(long)]
        voice: Option<String>,
        #[arg(long, default_value_t = 165)]
        speed: u32,
        #[arg(long)]
        out: PathBuf,
        #[arg(required = true)]
        text: Vec<String>,
    },
    /// Record every fragment a language needs with espeak-ng into
    /// DIR/fragments/, and write DIR/manifest.toml (fragments, and the
    /// phrases found in DIR).
    Fragments {
        #[arg(long, default_value = "es-MX")]
        lang: String,
        #[arg(long)]
        voice: Option<String>,
        #[arg(long, default_value_t = 165)]
        speed: u32,
        #[arg(long)]
        dir: PathBuf,
    },
    /// Render one contact's whole message, as a call would play it.
    Render {
        /// The campaign's configuration.
        config: PathBuf,
        /// The contact's id in the list.
        #[arg(long)]
        contact: String,
        /// The message an answering machine gets (`[amd] message`) instead.
        #[arg(long)]
        machine: bool,
        #[arg(long)]
        out: PathBuf,
    },
}

fn language(tag: &str) -> anyhow::Result<Language> {
    Language::parse(tag)
        .with_context(|| format!("--lang {tag}: use es-MX, es-CO, es-PE, es-CL, es-419 or en-US"))
}

async fn espeak(
    language: Language,
    voice: Option<String>,
    speed: u32,
) -> anyhow::Result<(Arc<Tts>, String)> {
    let voice = voice.unwrap_or_else(|| language.espeak_voice().to_owned());
    let espeak = Espeak::new("espeak-ng", speed);
    espeak.check_voice(&voice).await?;
    Ok((Arc::new(Tts::new(TtsEngine::Espeak(espeak), None)), voice))
}

pub async fn run(command: PromptsCommand) -> anyhow::Result<ExitCode> {
    match command {
        PromptsCommand::Say {
            lang,
            voice,
            fragments,
            kind,
            value,
            option,
            text,
            out,
        } => {
            let language = language(&lang)?;
            let kind = SayKind::parse(&kind, option.as_deref()).map_err(anyhow::Error::msg)?;
            let words = say::say(language, kind, &value, today()).map_err(anyhow::Error::msg)?;
            if text {
                println!("{}", say::text(&words));
                return Ok(ExitCode::SUCCESS);
            }
            let out = out.expect("clap requires --text or --out");
            let renderer = match fragments {
                Some(dir) => Renderer::new(
                    None,
                    "",
                    SayVoice::Fragments(
                        Fragments::load(&dir, language).map_err(anyhow::Error::msg)?,
                    ),
                    Default::default(),
                ),
                None => {
                    let (tts, voice) = espeak(language, voice, 165).await?;
                    Renderer::new(Some(tts), voice, SayVoice::Tts, Default::default())
                }
            };
            let audio = renderer.render(&[Segment::Words(words.clone())]).await?;
            write_mulaw_wav(&out, &audio).with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: {:.2} s: {}",
                out.display(),
                audio.len() as f64 / 8000.0,
                say::text(&words)
            );
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Speak {
            lang,
            voice,
            speed,
            out,
            text,
        } => {
            let (tts, voice) = espeak(language(&lang)?, voice, speed).await?;
            let text = text.join(" ");
            let audio = tts.render(&text, &voice).await?;
            let audio = trim_silence(&audio, 800);
            write_mulaw_wav(&out, audio).with_context(|| format!("writing {}", out.display()))?;
            println!("{}: {:.2} s", out.display(), audio.len() as f64 / 8000.0);
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Fragments {
            lang,
            voice,
            speed,
            dir,
        } => {
            let language = language(&lang)?;
            let (tts, voice) = espeak(language, voice, speed).await?;
            record_fragments(&tts, &voice, language, &dir).await?;
            Ok(ExitCode::SUCCESS)
        }
        PromptsCommand::Render {
            config: path,
            contact,
            machine,
            out,
        } => {
            let config = Config::load(&path)?;
            let campaign = &config.campaign;
            let machine_message = match (machine, config.amd.as_ref()) {
                (false, _) => None,
                (true, Some(amd)) => Some(amd.message.clone().with_context(|| {
                    format!(
                        "{}: [amd] hangs up on machines (on_machine = \"hang_up\"): there is no message to render",
                        path.display()
                    )
                })?),
                (true, None) => bail!(
                    "{}: no [amd] section: machines get no message of their own",
                    path.display()
                ),
            };
            let extra: Vec<_> = machine_message.into_iter().collect();
            let script =
                PreparedScript::prepare_with(&campaign.script, &config.tts, &extra).await?;
            let list = contacts::load(&campaign.contacts, campaign.default_region)?;
            script.check_columns(&campaign.contacts, &list.columns)?;
            let machine = (!extra.is_empty()).then(|| script.extra_base());
            if let Some(index) = machine {
                script.check_extra_columns(
                    index,
                    "amd.message",
                    &campaign.contacts,
                    &list.columns,
                )?;
            }
            let Some(found) = list.contacts.iter().find(|c| c.id == contact) else {
                bail!(
                    "{}: no contact with id '{contact}'",
                    campaign.contacts.display()
                );
            };
            let vars = script.contact_vars(found, today());
            let in_list = |e: media::prompt::template::ResolveError| {
                anyhow::anyhow!("{}:{}: {e}", campaign.contacts.display(), found.line)
            };
            let segments = match machine {
                Some(index) => script
                    .resolve_template(index, &vars, today())
                    .map_err(in_list)?,
                None => script
                    .resolve(&vars, today())
                    .map_err(in_list)?
                    .context("the flow does not start with a prompt")?,
            };
            let prompt = script.render_segments(&found.id, &segments).await?;
            write_mulaw_wav(&out, prompt.samples())
                .with_context(|| format!("writing {}", out.display()))?;
            let line: Vec<String> = segments.iter().map(ToString::to_string).collect();
            println!(
                "{}: {:.2} s: {}",
                out.display(),
                prompt.duration().as_secs_f64(),
                line.join(" ")
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Records every word of the language's vocabulary as its own clip and
/// writes the manifest, keeping the phrases already in the folder.
async fn record_fragments(
    tts: &Tts,
    voice: &str,
    language: Language,
    dir: &Path,
) -> anyhow::Result<()> {
    let fragments_dir = dir.join("fragments");
    std::fs::create_dir_all(&fragments_dir)
        .with_context(|| format!("creating {}", fragments_dir.display()))?;
    let vocabulary = say::vocabulary(language);
    let mut manifest = format!(
        "# Recorded prompts for {language}: phrases (file:NAME) and the fragments that\n\
         # voice numbers, money and dates word by word (say_with = \"fragments\").\n\
         # Replace any file with a studio recording of the same name.\n\
         language = \"{}\"\nsource = \"espeak-ng voice {voice}\"\n\n[phrases]\n",
        language.tag()
    );
    let mut phrases: Vec<String> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".wav"))
                .map(str::to_owned)
        })
        .collect();
    phrases.sort();
    for phrase in phrases {
        manifest.push_str(&format!("{phrase} = \"{phrase}.wav\"\n"));
    }
    manifest.push_str("\n[fragments]\n");
    for (name, word) in &vocabulary {
        let audio = tts.render(word, voice).await?;
        let clip = trim_silence(&audio, 40);
        if clip.is_empty() {
            bail!("espeak-ng said nothing for '{word}'");
        }
        write_mulaw_wav(&fragments_dir.join(format!("{name}.wav")), clip)?;
        manifest.push_str(&format!("{name} = \"fragments/{name}.wav\"\n"));
    }
    let path = dir.join(Manifest::FILE);
    std::fs::write(&path, manifest).with_context(|| format!("writing {}", path.display()))?;
    // The set must load back whole.
    Fragments::load(dir, language).map_err(anyhow::Error::msg)?;
    println!(
        "{}: {} fragments for {language}",
        path.display(),
        vocabulary.len()
    );
    Ok(())
}
