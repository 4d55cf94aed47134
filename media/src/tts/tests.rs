use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::*;

fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64)
        .sqrt()
}

fn espeak() -> Tts {
    Tts::new(TtsEngine::Espeak(Espeak::new("espeak-ng", 160)), None)
}

#[tokio::test]
async fn espeak_speaks_longer_texts_longer_at_8khz() {
    let tts = espeak();
    let short = tts
        .render("Hola", "es-419")
        .await
        .expect("espeak-ng is installed (deploy/test.sh installs it)");
    let long = tts
        .render(
            "Hola Juan Pérez, le recordamos que su saldo vence el quince de diciembre.",
            "es-419",
        )
        .await
        .unwrap();
    assert!(
        rms(&short) > 500.0 && rms(&long) > 500.0,
        "the audio is not silent"
    );
    let (s, l) = (short.len() as f64 / 8000.0, long.len() as f64 / 8000.0);
    assert!(
        l > 2.0 * s && l > 2.0,
        "{s:.2} s for 'Hola', {l:.2} s for the sentence"
    );
    let espeak = Espeak::new("espeak-ng", 160);
    espeak.check_voice("es-419").await.unwrap();
    espeak.check_voice("en-us").await.unwrap();
    espeak.check_voice("es-419+f3").await.unwrap();
    let err = espeak
        .check_voice("no-such-voice")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no voice 'no-such-voice'"), "{err}");
    let missing = Tts::new(
        TtsEngine::Espeak(Espeak::new("espeak-ng-missing", 160)),
        None,
    );
    let err = match missing.render("x", "es").await {
        Ok(samples) => panic!("rendered {} samples without the program", samples.len()),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("not installed"), "{err}");
}

#[tokio::test]
async fn cache_hits_skip_the_engine_and_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let cached = |limit| {
        Tts::new(
            TtsEngine::Espeak(Espeak::new("espeak-ng", 160)),
            Some(TtsCache::open(dir.path(), limit).unwrap()),
        )
    };
    let tts = cached(u64::MAX);
    let first = tts
        .render("Su saldo es de cien pesos", "es-419")
        .await
        .unwrap();
    let again = tts
        .render("Su saldo es de cien pesos", "es-419")
        .await
        .unwrap();
    assert_eq!(first, again);
    assert_eq!(tts.engine_calls(), 1);
    assert_eq!(
        (tts.cache().unwrap().hits(), tts.cache().unwrap().misses()),
        (1, 1)
    );
    // Another voice or text is another entry.
    tts.render("Su saldo es de cien pesos", "en-us")
        .await
        .unwrap();
    assert_eq!(tts.engine_calls(), 2);
    drop(tts);

    let restarted = cached(u64::MAX);
    let after = restarted
        .render("Su saldo es de cien pesos", "es-419")
        .await
        .unwrap();
    assert_eq!(after, first);
    assert_eq!(
        restarted.engine_calls(),
        0,
        "the cache survived the restart"
    );
}

#[tokio::test]
async fn cache_stays_under_its_size_limit_dropping_the_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let cache = TtsCache::open(dir.path(), 120_000).unwrap();
    let clip = vec![1000i16; 16_000]; // 32 KB of WAV each
    for key in ["a", "b", "c"] {
        cache.put(key, &clip).await.unwrap();
    }
    assert!(
        cache.get("a").await.unwrap().is_some(),
        "'a' is now the most recent"
    );
    cache.put("d", &clip).await.unwrap();
    assert!(cache.size() <= 120_000, "{}", cache.size());
    assert!(
        cache.get("b").await.unwrap().is_none(),
        "'b' was the least recently used"
    );
    assert!(cache.get("a").await.unwrap().is_some());
    assert!(cache.get("d").await.unwrap().is_some());
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 3, "evicted files are deleted");
}

/// A local speech service: a tone as long as the text (50 ms a character),
/// 16 kHz; counts requests and checks the Authorization header.
async fn speech_server() -> (String, Arc<AtomicU64>) {
    use axum::{Router, body::Bytes, http::HeaderMap, http::StatusCode, routing::post};
    let requests = Arc::new(AtomicU64::new(0));
    let counter = requests.clone();
    let handler = move |headers: HeaderMap, body: Bytes| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::Relaxed);
            if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer s3cret") {
                return (StatusCode::UNAUTHORIZED, b"bad token".to_vec());
            }
            let request: serde_json::Value = serde_json::from_slice(&body).unwrap();
            let text = request["text"].as_str().unwrap().to_owned();
            assert_eq!(request["voice"], "es-MX-Dalia");
            if text.contains("fallar") {
                return (StatusCode::OK, b"<html>not audio</html>".to_vec());
            }
            let chars = text.chars().count() as u32;
            let mut wav = Vec::new();
            let spec = hound::WavSpec {
                channels: 1,
                sample_rate: 16_000,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::new(std::io::Cursor::new(&mut wav), spec).unwrap();
            for n in 0..chars * 800 {
                w.write_sample(((n as f32 * 0.2).sin() * 10_000.0) as i16)
                    .unwrap();
            }
            w.finalize().unwrap();
            (StatusCode::OK, wav)
        }
    };
    let app = Router::new().route("/tts", post(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/tts", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, requests)
}

fn http_engine(url: &str, token: &str) -> TtsEngine {
    TtsEngine::Http(
        HttpTts::new(HttpTtsConfig {
            url: url.to_owned(),
            headers: vec![("Authorization".into(), format!("Bearer {token}"))],
            content_type: "application/json".into(),
            body: HttpTtsConfig::DEFAULT_BODY.into(),
            timeout: Duration::from_secs(5),
        })
        .unwrap(),
    )
}

#[tokio::test]
async fn http_engine_posts_text_and_voice_and_is_cached() {
    let (url, requests) = speech_server().await;
    let dir = tempfile::tempdir().unwrap();
    let tts = Tts::new(
        http_engine(&url, "s3cret"),
        Some(TtsCache::open(dir.path(), u64::MAX).unwrap()),
    );
    let short = tts.render("Hola", "es-MX-Dalia").await.unwrap();
    let long = tts
        .render("Hola Juan, su saldo vence pronto", "es-MX-Dalia")
        .await
        .unwrap();
    assert!(
        long.len() > short.len() * 3,
        "{} vs {}",
        long.len(),
        short.len()
    );
    assert!(rms(&long) > 3000.0);
    tts.render("Hola", "es-MX-Dalia").await.unwrap();
    assert_eq!(
        requests.load(Ordering::Relaxed),
        2,
        "the third rendering came from the cache"
    );

    let denied = Tts::new(http_engine(&url, "wrong"), None);
    let err = denied
        .render("Hola", "es-MX-Dalia")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&url) && err.contains("401") && err.contains("bad token"),
        "{err}"
    );
    let err = Tts::new(http_engine(&url, "s3cret"), None)
        .render("fallar", "es-MX-Dalia")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a WAV file"), "{err}");
    let err = Tts::new(http_engine("http://127.0.0.1:9/tts", "x"), None)
        .render("x", "v")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("127.0.0.1:9"), "{err}");
}
