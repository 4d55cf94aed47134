//! `[tts] engine = "http"` from a campaign's TOML, end to end: a local HTTP
//! speech service the test starts checks the configured headers, records
//! the text and voice it was asked for, and answers a WAV (16 kHz tone); the
//! debtors hear that audio, resampled to 8 kHz, over SIP and RTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::{Router, routing::post};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, json_field, text};

const TONE_HZ: f64 = 440.0;
const TONE_S: f64 = 1.5;

/// A 16 kHz, 16-bit mono WAV of a 440 Hz tone.
fn tone_wav() -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 16_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    for i in 0..(16_000.0 * TONE_S) as usize {
        let t = i as f64 / 16_000.0;
        let s = 8000.0 * (2.0 * std::f64::consts::PI * TONE_HZ * t).sin();
        writer.write_sample(s as i16).unwrap();
    }
    writer.finalize().unwrap();
    out.into_inner()
}

/// What the service was asked: (text, voice) per request it accepted.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

fn service(runtime: &tokio::runtime::Runtime, seen: Seen, refused: Arc<Mutex<usize>>) -> String {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}/v1/voz", listener.local_addr().unwrap());
    let wav = tone_wav();
    let app = Router::new().route(
        "/v1/voz",
        post(move |headers: HeaderMap, body: String| {
            let (seen, refused, wav) = (seen.clone(), refused.clone(), wav.clone());
            async move {
                let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
                if header("authorization") != Some("Bearer secreto-123")
                    || header("x-cliente") != Some("cobranza")
                    || header("content-type") != Some("application/json")
                {
                    *refused.lock().unwrap() += 1;
                    return (StatusCode::UNAUTHORIZED, b"falta la llave".to_vec());
                }
                let json: serde_json::Value = serde_json::from_str(&body).unwrap();
                seen.lock().unwrap().push((
                    json["texto"].as_str().unwrap_or_default().to_owned(),
                    json["voz"].as_str().unwrap_or_default().to_owned(),
                ));
                (StatusCode::OK, wav)
            }
        }),
    );
    runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Zero crossings per second over the loud part of a recording.
fn crossings_per_s(samples: &[i16]) -> f64 {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    crossings as f64 / (samples.len() as f64 / 8000.0)
}

#[test]
fn an_http_speech_service_from_the_config_voices_the_message() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let seen: Seen = Arc::default();
    let refused = Arc::new(Mutex::new(0));
    let url = service(&runtime, seen.clone(), refused.clone());

    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("C-1".into(), "55 1234 0001".into(), "Juan Pérez".into()),
        ("C-2".into(), "55 1234 0002".into(), "Ana López".into()),
    ];
    spec.wait_for_digits_s = 0.3;
    spec.campaign_extra =
        "message = [\"tts:Hola {name}, le llamamos de Cobranza Pruebas.\"]\n".into();
    spec.sections = format!(
        r#"[tts]
engine = "http"
url = "{url}"
headers = {{ Authorization = "Bearer secreto-123", X-Cliente = "cobranza" }}
body = '{{"texto": {{text_json}}, "voz": {{voice_json}}}}'
timeout_s = 5
"#
    );
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    let log = carrier.stop();

    assert_eq!(*refused.lock().unwrap(), 0, "requests without the headers");
    let mut asked = seen.lock().unwrap().clone();
    asked.sort();
    assert_eq!(
        asked,
        vec![
            (
                "Hola Ana López, le llamamos de Cobranza Pruebas.".to_owned(),
                "es-MX".to_owned()
            ),
            (
                "Hola Juan Pérez, le llamamos de Cobranza Pruebas.".to_owned(),
                "es-MX".to_owned()
            ),
        ],
        "one request per debtor, with the campaign language's voice\n{}",
        text(&out)
    );

    let rows = campaign.report();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r["disposition"] == "answered"),
        "{rows:?}"
    );
    assert_eq!(log.len(), 2, "{log:?}");
    for call in &log {
        let path = json_field(call, "recording").expect("a recording");
        let heard = media::prompt::Prompt::load(std::path::Path::new(&path)).unwrap();
        let loud: Vec<i16> = heard
            .samples()
            .iter()
            .copied()
            .skip_while(|s| s.abs() < 1000)
            .take((8000.0 * (TONE_S - 0.2)) as usize)
            .collect();
        assert_eq!(
            loud.len(),
            (8000.0 * (TONE_S - 0.2)) as usize,
            "{path}: less than {TONE_S} s of the service's audio"
        );
        let rms =
            (loud.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / loud.len() as f64).sqrt();
        assert!(
            (4500.0..6800.0).contains(&rms),
            "{path}: RMS {rms:.0}, the tone's is 5657"
        );
        let rate = crossings_per_s(&loud);
        assert!(
            (rate - 2.0 * TONE_HZ).abs() < 40.0,
            "{path}: {rate:.0} zero crossings/s, a {TONE_HZ} Hz tone has {}",
            2.0 * TONE_HZ
        );
    }
}
