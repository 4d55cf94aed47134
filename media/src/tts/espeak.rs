//! espeak-ng as a subprocess: text on stdin, WAV on stdout.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;

use super::TtsError;

/// The espeak-ng program with its speaking rate.
#[derive(Debug, Clone)]
pub struct Espeak {
    program: String,
    /// Words per minute (espeak-ng's default is 175).
    speed: u32,
}

impl Espeak {
    pub fn new(program: impl Into<String>, speed: u32) -> Espeak {
        Espeak {
            program: program.into(),
            speed,
        }
    }

    pub fn program(&self) -> &str {
        &self.program
    }

    /// Fails unless espeak-ng has `voice` (espeak-ng itself silently falls
    /// back to another voice, which would put English on a Spanish call).
    pub async fn check_voice(&self, voice: &str) -> Result<(), TtsError> {
        let output = tokio::process::Command::new(&self.program)
            .arg("--voices")
            .output()
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TtsError::NotInstalled {
                    program: self.program.clone(),
                },
                _ => TtsError::Failed {
                    engine: self.program.clone(),
                    detail: e.to_string(),
                },
            })?;
        let listing = String::from_utf8_lossy(&output.stdout);
        let wanted = voice
            .split('+')
            .next()
            .unwrap_or(voice)
            .to_ascii_lowercase();
        let known = listing.lines().skip(1).any(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            let file = columns.get(4).copied().unwrap_or("");
            [
                columns.get(1).copied().unwrap_or(""),
                columns.get(3).copied().unwrap_or(""),
                file,
                file.rsplit('/').next().unwrap_or(""),
            ]
            .iter()
            .any(|name| name.eq_ignore_ascii_case(&wanted))
        });
        if known {
            Ok(())
        } else {
            Err(TtsError::Failed {
                engine: self.program.clone(),
                detail: format!(
                    "has no voice '{voice}' (espeak-ng --voices lists them; Spanish: es-419, English: en-us)"
                ),
            })
        }
    }

    pub(super) fn cache_id(&self) -> String {
        format!("espeak-ng/speed={}", self.speed)
    }

    pub(super) async fn synthesize(&self, text: &str, voice: &str) -> Result<Vec<u8>, TtsError> {
        let failed = |detail: String| TtsError::Failed {
            engine: self.program.clone(),
            detail,
        };
        // The text goes through stdin, never the command line: a debtor's
        // name that starts with '-' must not become an option.
        let mut child = tokio::process::Command::new(&self.program)
            .args(["-v", voice, "-s", &self.speed.to_string(), "--stdout"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => TtsError::NotInstalled {
                    program: self.program.clone(),
                },
                _ => failed(format!("cannot start: {e}")),
            })?;
        let mut stdin = child.stdin.take().expect("stdin is piped");
        stdin
            .write_all(text.as_bytes())
            .await
            .map_err(|e| failed(format!("writing the text: {e}")))?;
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
            .await
            .map_err(|_| failed("took more than 30 s".into()))?
            .map_err(|e| failed(e.to_string()))?;
        if !output.status.success() || !output.stdout.starts_with(b"RIFF") {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(failed(format!(
                "voice '{voice}' failed ({}): {}",
                output.status,
                stderr.trim()
            )));
        }
        Ok(output.stdout)
    }
}
