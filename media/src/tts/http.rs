//! Any HTTP speech service: POST text (or SSML) and a voice, get WAV back.
//!
//! Services differ in their request bodies, so the body is a template with
//! placeholders: `{text}`, `{text_json}` (a JSON string, quotes included),
//! `{text_xml}` (escaped for SSML), `{voice}` and `{voice_json}`.

use std::time::Duration;

use super::TtsError;

/// How to reach and ask the service.
#[derive(Debug, Clone)]
pub struct HttpTtsConfig {
    pub url: String,
    /// Sent with every request (e.g. `Authorization`).
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    pub body: String,
    pub timeout: Duration,
}

impl HttpTtsConfig {
    /// The default body: `{"text": ..., "voice": ...}` as JSON.
    pub const DEFAULT_BODY: &'static str = r#"{"text": {text_json}, "voice": {voice_json}}"#;
}

#[derive(Debug)]
pub struct HttpTts {
    config: HttpTtsConfig,
    client: reqwest::Client,
}

impl HttpTts {
    pub fn new(config: HttpTtsConfig) -> Result<HttpTts, TtsError> {
        // reqwest's rustls needs a process-wide crypto provider; installing
        // it twice is harmless (the second attempt is refused).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| TtsError::Http {
                url: config.url.clone(),
                detail: e.to_string(),
            })?;
        Ok(HttpTts { config, client })
    }

    pub fn url(&self) -> &str {
        &self.config.url
    }

    pub(super) fn cache_id(&self) -> String {
        format!("http/{}/{}", self.config.url, self.config.body)
    }

    pub(super) async fn synthesize(&self, text: &str, voice: &str) -> Result<Vec<u8>, TtsError> {
        let failed = |detail: String| TtsError::Http {
            url: self.config.url.clone(),
            detail,
        };
        let body = fill(&self.config.body, text, voice);
        let mut request = self
            .client
            .post(&self.config.url)
            .header("Content-Type", &self.config.content_type)
            .body(body);
        for (name, value) in &self.config.headers {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| failed(e.to_string()))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| failed(e.to_string()))?;
        if !status.is_success() {
            let snippet: String = String::from_utf8_lossy(&bytes).chars().take(200).collect();
            return Err(failed(format!("answered {status}: {snippet}")));
        }
        if !bytes.starts_with(b"RIFF") {
            return Err(failed(format!(
                "answered {status} but the body is not a WAV file ({} bytes)",
                bytes.len()
            )));
        }
        Ok(bytes.to_vec())
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn xml_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// Fills the body template. Placeholders are replaced in one pass, so text
/// that itself contains `{voice}` stays as written.
fn fill(template: &str, text: &str, voice: &str) -> String {
    let values = [
        ("{text_json}", json_string(text)),
        ("{text_xml}", xml_escaped(text)),
        ("{text}", text.to_owned()),
        ("{voice_json}", json_string(voice)),
        ("{voice}", voice.to_owned()),
    ];
    let mut out = String::with_capacity(template.len() + text.len());
    let mut rest = template;
    'outer: while !rest.is_empty() {
        for (name, value) in &values {
            if let Some(after) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("rest is not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_escape_for_json_and_ssml() {
        let body = fill(
            HttpTtsConfig::DEFAULT_BODY,
            "Hola \"Pepe\"\n{voice}",
            "es-MX-Dalia",
        );
        assert_eq!(
            body,
            r#"{"text": "Hola \"Pepe\"\n{voice}", "voice": "es-MX-Dalia"}"#
        );
        let ssml = fill(
            "<speak><voice name=\"{voice}\">{text_xml}</voice></speak>",
            "Muñoz & Hijos <S.A.>",
            "v",
        );
        assert_eq!(
            ssml,
            "<speak><voice name=\"v\">Muñoz &amp; Hijos &lt;S.A.&gt;</voice></speak>"
        );
    }
}
