use super::*;
use crate::tts::{Espeak, Tts, TtsEngine};

/// The lab's answering machine (shared/lab/gen_media.sh) and person.
const MACHINE_GREETING: &str = "Hola, has llamado a Juan Pérez. En este momento no puedo atender tu llamada. \
     Por favor deja tu nombre, tu número y un breve mensaje después del tono, y te llamaré lo antes posible. Gracias.";
const PERSON: &str = "¿Bueno? ¿Sí, diga?";

fn silence(ms: u32) -> Vec<i16> {
    vec![0; (ms * 8) as usize]
}

fn tone(hz: f32, ms: u32, amplitude: f32) -> Vec<i16> {
    (0..ms * 8)
        .map(|n| (amplitude * (TAU * hz * n as f32 / SAMPLE_RATE).sin()) as i16)
        .collect()
}

/// Voice-like sound: a 130 Hz buzz rich in harmonics, shaped into
/// syllables of `syllable_ms` with 30 ms dips between them.
fn speech(ms: u32, syllable_ms: u32) -> Vec<i16> {
    (0..ms * 8)
        .map(|n| {
            let t = n as f32 / SAMPLE_RATE;
            let in_syllable = (n / 8) % (syllable_ms + 30) < syllable_ms;
            if !in_syllable {
                return 0;
            }
            let buzz: f32 = (1..=20)
                .map(|h| (TAU * 130.0 * h as f32 * t).sin() / h as f32)
                .sum();
            (buzz * 3_000.0) as i16
        })
        .collect()
}

/// Deterministic white noise of this mean absolute level (about).
fn noise(ms: u32, level: f32, seed: u32) -> Vec<i16> {
    let mut x = seed.max(1);
    (0..ms * 8)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x as f32 / u32::MAX as f32 - 0.5) * 4.0 * level) as i16
        })
        .collect()
}

fn run(audio: &[i16], chunk: usize) -> AmdDetector {
    let mut d = AmdDetector::new(AmdSettings::default());
    for piece in audio.chunks(chunk) {
        d.push(piece);
    }
    d
}

fn concat(parts: &[Vec<i16>]) -> Vec<i16> {
    parts.concat()
}

#[test]
fn a_short_hello_then_quiet_is_a_person() {
    let audio = concat(&[silence(400), speech(500, 220), silence(3_000)]);
    let d = run(&audio, 160);
    let decision = d.decision().expect("a verdict");
    assert_eq!(decision.verdict, Verdict::Person, "{decision:?}");
    // The word ends at 0.9 s; 0.8 s of quiet later.
    assert!((1_650..=1_800).contains(&decision.at_ms), "{decision:?}");
    assert!(
        decision.reason.contains("then quiet"),
        "{}",
        decision.reason
    );
    assert_eq!(d.cue(), None, "no message for a person");
}

#[test]
fn long_speech_is_a_machine_and_its_beep_is_the_cue() {
    let audio = concat(&[
        silence(300),
        speech(4_000, 250),
        silence(300),
        tone(1_000.0, 600, 8_000.0),
        silence(5_000),
    ]);
    let d = run(&audio, 160);
    let decision = d.decision().unwrap();
    assert_eq!(decision.verdict, Verdict::Machine, "{decision:?}");
    assert!(decision.at_ms < 2_500, "{decision:?}");
    let cue = d.cue().expect("a cue");
    assert_eq!(cue.kind, CueKind::Beep);
    // The beep ends at 5.2 s; the first frame without it says so.
    assert!((5_200..=5_260).contains(&cue.at_ms), "{cue:?}");
}

#[test]
fn many_short_words_are_a_machine() {
    // Four words of 200 ms with 150 ms between: 0.8 s voiced, but 4 words.
    let word = speech(200, 200);
    let mut audio = silence(200);
    for _ in 0..4 {
        audio.extend(&word);
        audio.extend(silence(150));
    }
    audio.extend(silence(2_000));
    let decision = run(&audio, 160).decision().cloned().unwrap();
    assert_eq!(decision.verdict, Verdict::Machine, "{decision:?}");
    assert_eq!(decision.reason, "4 words");
}

#[test]
fn silence_and_endless_murmur_are_unsure() {
    let d = run(&silence(6_000), 160);
    let decision = d.decision().unwrap();
    assert_eq!(decision.verdict, Verdict::Unsure);
    assert_eq!(decision.at_ms, 2_500);
    // Quiet line noise under the speech level is silence too.
    let d = run(&noise(6_000, 100.0, 7), 160);
    assert_eq!(d.decision().unwrap().verdict, Verdict::Unsure);
    // A word, then words at a steady trickle that never stops nor reaches
    // the greeting's length: no verdict before the total time.
    let mut audio = silence(100);
    for _ in 0..3 {
        audio.extend(speech(120, 120));
        audio.extend(silence(700));
    }
    audio.extend(silence(3_000));
    let settings = AmdSettings {
        max_words: 10,
        after_greeting_silence_ms: 1_000,
        total_ms: 2_000,
        ..AmdSettings::default()
    };
    let mut d = AmdDetector::new(settings);
    d.push(&audio);
    let decision = d.decision().unwrap();
    assert_eq!(decision.verdict, Verdict::Unsure, "{decision:?}");
    assert_eq!(decision.at_ms, 2_000);
}

#[test]
fn clicks_are_no_words_and_do_not_break_a_silence() {
    let mut audio = silence(300);
    audio.extend(speech(400, 400));
    // 20 ms clicks every 200 ms during the quiet after the greeting.
    for _ in 0..6 {
        audio.extend(silence(180));
        audio.extend(tone(500.0, 20, 5_000.0));
    }
    audio.extend(silence(1_000));
    let decision = run(&audio, 160).decision().cloned().unwrap();
    assert_eq!(decision.verdict, Verdict::Person, "{decision:?}");
    assert!(decision.reason.contains("1 word"), "{}", decision.reason);
}

#[test]
fn dips_inside_a_word_do_not_split_it_nor_lose_its_start() {
    // One 600 ms word with a 20 ms dip every 100 ms, the first 40 ms in.
    let mut word = Vec::new();
    for i in 0..6 {
        word.extend(speech(if i == 0 { 40 } else { 80 }, 400));
        word.extend(silence(20));
    }
    let audio = concat(&[silence(300), word, silence(2_000)]);
    let decision = run(&audio, 160).decision().cloned().unwrap();
    assert_eq!(decision.verdict, Verdict::Person, "{decision:?}");
    assert!(decision.reason.contains("of 1 word"), "{}", decision.reason);
    // The word ends at 0.82 s; 0.8 s of quiet after its last frame.
    assert!((1_600..=1_660).contains(&decision.at_ms), "{decision:?}");
}

#[test]
fn an_unsure_call_taken_for_a_machine_gets_its_cue_and_two_tones_are_one_beep() {
    // Nobody speaks for 3 s (unsure at 2.5 s), then a two-tone beep.
    let audio = concat(&[
        silence(3_000),
        tone(1_400.0, 200, 6_000.0),
        tone(2_100.0, 200, 6_000.0),
        silence(1_000),
    ]);
    let d = run(&audio, 160);
    assert_eq!(d.decision().unwrap().verdict, Verdict::Unsure);
    let cue = d.cue().unwrap();
    assert_eq!(cue.kind, CueKind::Beep);
    assert!((3_400..=3_460).contains(&cue.at_ms), "{cue:?}");
}

#[test]
fn the_verdict_does_not_depend_on_chunk_sizes() {
    let audio = concat(&[
        silence(250),
        speech(3_000, 180),
        silence(250),
        tone(1_400.0, 400, 6_000.0),
        silence(1_000),
    ]);
    let whole = run(&audio, audio.len());
    for chunk in [1, 7, 160, 333] {
        let d = run(&audio, chunk);
        assert_eq!(d.decision(), whole.decision(), "chunks of {chunk}");
        assert_eq!(d.cue(), whole.cue(), "chunks of {chunk}");
    }
    assert_eq!(whole.cue().unwrap().kind, CueKind::Beep);
}

#[test]
fn beeps_are_heard_at_any_usual_pitch_and_through_noise_but_a_voice_is_no_beep() {
    for hz in [400.0, 440.0, 850.0, 1_000.0, 1_330.0, 2_000.0, 2_800.0] {
        let mut audio = concat(&[speech(2_000, 300), silence(200)]);
        let beep = tone(hz, 300, 5_000.0);
        // 20 dB under the tone.
        let hiss = noise(300, 350.0, hz as u32);
        audio.extend(beep.iter().zip(&hiss).map(|(a, b)| a.saturating_add(*b)));
        audio.extend(silence(500));
        let d = run(&audio, 160);
        assert_eq!(
            d.cue().map(|c| c.kind),
            Some(CueKind::Beep),
            "{hz} Hz: {:?}",
            d.decision()
        );
    }
    // A beep too short (a click of a tone) is not one; the quiet after the
    // greeting is the cue then.
    let audio = concat(&[
        speech(2_000, 300),
        tone(1_000.0, 80, 5_000.0),
        silence(3_000),
    ]);
    assert_eq!(run(&audio, 160).cue().unwrap().kind, CueKind::Quiet);
    // Sustained vowels of a voice at many pitches: never a beep.
    for f0 in [90.0, 130.0, 180.0, 240.0, 310.0] {
        let vowel: Vec<i16> = (0..8_000 * 3)
            .map(|n| {
                let t = n as f32 / SAMPLE_RATE;
                let v: f32 = (1..=12)
                    .map(|h| (TAU * f0 * h as f32 * t).sin() * (1.0 / h as f32))
                    .sum();
                (v * 4_000.0) as i16
            })
            .collect();
        let mut d = AmdDetector::new(AmdSettings::default());
        d.push(&vowel);
        d.push(&silence(2_500));
        let decision = d.decision().unwrap();
        assert_ne!(decision.reason, "a beep", "{f0} Hz vowel");
        assert_eq!(d.cue().map(|c| c.kind), Some(CueKind::Quiet), "{f0} Hz");
    }
}

#[test]
fn a_machine_without_a_beep_gets_the_message_after_the_quiet_or_at_the_latest() {
    let audio = concat(&[silence(300), speech(3_000, 250), silence(4_000)]);
    let cue = run(&audio, 160).cue().unwrap();
    assert_eq!(cue.kind, CueKind::Quiet);
    // The last syllable ends at 3.3 s at the latest.
    assert!((5_000..=5_320).contains(&cue.at_ms), "{cue:?}");
    // A machine that talks on and on.
    let settings = AmdSettings {
        max_beep_wait_ms: 3_000,
        ..AmdSettings::default()
    };
    let mut d = AmdDetector::new(settings);
    d.push(&speech(10_000, 250));
    let cue = d.cue().unwrap();
    assert_eq!(cue.kind, CueKind::GaveUp);
    assert_eq!(cue.at_ms, d.decision().unwrap().at_ms + 3_000);
}

fn espeak() -> Tts {
    Tts::new(TtsEngine::Espeak(Espeak::new("espeak-ng", 150)), None)
}

async fn say(text: &str, voice: &str) -> Vec<i16> {
    espeak()
        .render(text, voice)
        .await
        .expect("espeak-ng is installed (deploy/test.sh installs it)")
        .to_vec()
}

/// Through G.711 as the trunk carries it.
fn over_the_line(pcm: &[i16]) -> Vec<i16> {
    let mut coded = Vec::new();
    crate::Codec::Pcmu.encode(pcm, &mut coded);
    let mut out = Vec::new();
    crate::Codec::Pcmu.decode(&coded, &mut out);
    out
}

#[tokio::test]
async fn spoken_greetings_of_people_and_machines_in_spanish_and_english() {
    for (text, voice) in [
        (PERSON, "es-419"),
        ("¿Bueno?", "es-419"),
        ("¿Aló?", "es-419"),
        ("¿Sí?", "es-419"),
        ("Hello?", "en-us"),
        ("Hello, who is this?", "en-us"),
    ] {
        let audio = over_the_line(&concat(&[
            silence(400),
            say(text, voice).await,
            silence(3_000),
        ]));
        let d = run(&audio, 160);
        let decision = d.decision().unwrap();
        assert_eq!(decision.verdict, Verdict::Person, "{text}: {decision:?}");
        assert!(decision.at_ms < 4_000, "{text}: {decision:?}");
    }
    for (text, voice) in [
        (MACHINE_GREETING, "es-419"),
        (
            "El número que usted marcó no está disponible. Deje su mensaje después del tono.",
            "es-419",
        ),
        ("Hola, soy Ana. Deja tu mensaje.", "es-419"),
        (
            "Hi, you have reached Ana. Please leave a message after the tone.",
            "en-us",
        ),
    ] {
        let greeting = say(text, voice).await;
        let greeting_ms = (greeting.len() / 8) as u32;
        let with_beep = over_the_line(&concat(&[
            silence(300),
            greeting.clone(),
            silence(300),
            tone(1_000.0, 600, 8_000.0),
            silence(3_000),
        ]));
        let d = run(&with_beep, 160);
        let decision = d.decision().unwrap();
        assert_eq!(decision.verdict, Verdict::Machine, "{text}: {decision:?}");
        assert!(decision.at_ms < 3_000, "{text}: {decision:?}");
        let cue = d.cue().unwrap();
        let beep_end = 300 + greeting_ms + 300 + 600;
        assert_eq!(cue.kind, CueKind::Beep, "{text}");
        assert!(
            (beep_end..=beep_end + 60).contains(&cue.at_ms),
            "{text}: {cue:?}, the beep ends at {beep_end} ms"
        );
        // Without the beep: the quiet after the greeting, never a beep
        // read into the voice.
        let without = over_the_line(&concat(&[silence(300), greeting, silence(4_000)]));
        let cue = run(&without, 160).cue().unwrap();
        assert_eq!(cue.kind, CueKind::Quiet, "{text}");
        assert!(
            cue.at_ms > 300 + greeting_ms && cue.at_ms <= 300 + greeting_ms + 2_100,
            "{text}: {cue:?}, the greeting ends at {} ms",
            300 + greeting_ms
        );
    }
}
