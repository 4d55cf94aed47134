//! Benchmark: personalized messages rendered per second with espeak-ng,
//! without and with the TTS cache (docs/BENCHMARKS.md).
//!
//!     cargo build --release --workspace --bins
//!     target/release/bench-render [MESSAGES]
//!
//! Renders MESSAGES (default 200) different debtors' messages the way a
//! campaign does (the demo's template: TTS text, money and a date in words,
//! a recorded phrase), as many at a time as there are cores, three ways:
//! with no cache at all (every TTS part runs espeak-ng); into an empty
//! cache (cold: phrases shared by all debtors are rendered once, and every
//! rendering is written to disk); and the same messages again from that
//! cache (warm).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use media::prompt::template::Template;
use media::prompt::{Prompt, Renderer, SayVoice};
use media::say::{Date, Language};
use media::tts::{Espeak, Tts, TtsCache, TtsEngine};

const NAMES: [&str; 10] = [
    "María Guadalupe Hernández",
    "José Luis Martínez",
    "Ana Sofía Ramírez",
    "Juan Carlos López",
    "Verónica Torres",
    "Francisco Javier Díaz",
    "Guadalupe Sánchez",
    "Miguel Ángel Flores",
    "Rosa María Gómez",
    "Alejandro Cruz",
];

fn contact(i: usize) -> HashMap<&'static str, String> {
    HashMap::from([
        ("nombre", format!("{} {}", NAMES[i % NAMES.len()], i)),
        (
            "saldo",
            format!("{}.{:02}", 150 + (i * 7919) % 48_000, i % 100),
        ),
        ("vencimiento", format!("{:02}/12/2026", 1 + i % 28)),
    ])
}

async fn pass(
    renderer: &Arc<Renderer>,
    template: &Template,
    messages: usize,
    parallel: usize,
) -> (f64, f64) {
    let today = Date {
        year: 2026,
        month: 11,
        day: 22,
    };
    let started = Instant::now();
    let audio_s: f64 = futures::stream::iter(0..messages)
        .map(|i| {
            let renderer = renderer.clone();
            let vars = contact(i);
            let segments = template
                .resolve(
                    &|name| vars.get(name).map(String::as_str),
                    Language::EsMx,
                    today,
                )
                .expect("valid values");
            async move {
                let prompt: Prompt = renderer.prompt("bench", &segments).await.expect("render");
                prompt.duration().as_secs_f64()
            }
        })
        .buffer_unordered(parallel)
        .fold(0.0, |sum, s| async move { sum + s })
        .await;
    (started.elapsed().as_secs_f64(), audio_s)
}

fn renderer(tts: &Arc<Tts>, phrases: &HashMap<String, Arc<[i16]>>) -> Arc<Renderer> {
    Arc::new(Renderer::new(
        Some(tts.clone()),
        "es-419",
        SayVoice::Tts,
        phrases.clone(),
    ))
}

#[tokio::main]
async fn main() {
    let messages: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let espeak = || TtsEngine::Espeak(Espeak::new("espeak-ng", 165));
    let menu = Prompt::load(&dialer_tests::repo_root().join("prompts/es-MX/menu-asesor.wav"))
        .expect("phrase");
    let phrases = HashMap::from([("menu-asesor".to_string(), Arc::from(menu.samples()))]);
    let template = Template::parse(&[
        "tts:Hola {nombre}, le llamamos de Cobranza Demo. Le recordamos que su saldo de",
        "say:currency:{saldo}:MXN",
        "tts:vence",
        "say:date:{vencimiento}",
        "file:menu-asesor",
    ])
    .expect("template");
    println!("{messages} messages, {parallel} at a time, espeak-ng voice es-419");

    let uncached = Arc::new(Tts::new(espeak(), None));
    let (none_s, audio_s) = pass(
        &renderer(&uncached, &phrases),
        &template,
        messages,
        parallel,
    )
    .await;
    println!(
        "no cache:   {none_s:.2} s, {:.1} messages/s, {audio_s:.0} s of audio ({:.0}x real time), {} espeak-ng runs",
        messages as f64 / none_s,
        audio_s / none_s,
        uncached.engine_calls()
    );

    let cache_dir = tempfile::tempdir().expect("temporary folder");
    let tts = Arc::new(Tts::new(
        espeak(),
        Some(TtsCache::open(cache_dir.path(), u64::MAX).expect("cache")),
    ));
    let cached = renderer(&tts, &phrases);
    let (cold_s, _) = pass(&cached, &template, messages, parallel).await;
    let cold_calls = tts.engine_calls();
    let cache = tts.cache().expect("cache");
    println!(
        "cold cache: {cold_s:.2} s, {:.1} messages/s, {cold_calls} espeak-ng runs, {} hits / {} misses",
        messages as f64 / cold_s,
        cache.hits(),
        cache.misses()
    );
    let (hits, misses) = (cache.hits(), cache.misses());
    let (warm_s, _) = pass(&cached, &template, messages, parallel).await;
    println!(
        "warm cache: {warm_s:.2} s, {:.1} messages/s, {} espeak-ng runs, {} hits / {} misses",
        messages as f64 / warm_s,
        tts.engine_calls() - cold_calls,
        cache.hits() - hits,
        cache.misses() - misses
    );
    println!(
        "speed-up of the warm cache over no cache: {:.1}x; cache size {:.1} MB",
        none_s / warm_s,
        cache.size() as f64 / 1e6
    );
}
