//! Answering-machine detection against sipp playing the lab's answering
//! machine (a 15 s espeak-ng greeting, a 300 ms gap, a 600 ms 1 kHz beep,
//! then silence) and the lab's person ("¿Bueno? ¿Sí, diga?" after 0.4 s,
//! then silence), as RTP from pcaps written the way the lab's
//! gen_media.sh writes them.

use std::path::Path;
use std::process::Command;

use dialer_tests::agents::{first_loud, stereo_wav};
use dialer_tests::{SingleCall, SippOptions, require_tool, single_call, text};

const GREETING: &str = "Hola, has llamado a Juan Pérez. En este momento no puedo atender tu llamada. \
    Por favor deja tu nombre, tu número y un breve mensaje después del tono, y te llamaré lo antes posible. Gracias.";
const PERSON: &str = "¿Bueno? ¿Sí, diga?";

/// espeak-ng's voice at 8 kHz.
fn speak(text: &str) -> Vec<i16> {
    let espeak = require_tool("espeak-ng", "espeak-ng");
    let out = Command::new(espeak)
        .args(["-v", "es-419", "-s", "150", "--stdout", text])
        .output()
        .expect("run espeak-ng");
    assert!(
        out.status.success(),
        "espeak-ng: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    media::prompt::samples_8k_from_wav(&out.stdout).expect("espeak-ng writes a WAV")
}

const AMD: &str = r#"
[amd]
message = ["tts:Hola {nombre}, le llamamos de Cobranza Demo. Por favor llámenos. Gracias."]

[tts]
engine = "espeak"
"#;

/// One call to sipp playing `audio` (8 kHz) from the answer with the lab's
/// `scenario` (its pcap under `key`); the attempt, and the recording's
/// channel of what the dialer sent.
fn call(scenario: &'static str, key: &str, audio: &[i16]) -> (SingleCall, Vec<i16>) {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join(format!("{key}.pcap"));
    dialer_tests::pcap::write_audio(&pcap, audio).unwrap();
    let call = single_call(
        SippOptions {
            ring_ms: Some(300),
            keys: vec![(key.into(), pcap.display().to_string())],
            timeout_s: 90,
            ..SippOptions::new(scenario)
        },
        |spec| {
            // The campaign's folder goes with the call; the recordings stay.
            spec.campaign_extra =
                format!("record = true\nrecordings = \"{}\"\n", dir.path().display());
            spec.sections = AMD.into();
        },
    );
    assert!(call.sipp_ok, "{}", call.sipp_messages);
    let (_, sent) = stereo_wav(Path::new(&call.row["recording"]));
    (call, sent)
}

#[test]
fn the_labs_answering_machine_gets_the_message_after_its_beep() {
    let mut audio = speak(GREETING);
    audio.extend(std::iter::repeat_n(0, 2_400));
    audio.extend(
        (0..4_800).map(|i| {
            ((i as f64 * 1_000.0 * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16
        }),
    );
    let beep_end = audio.len() as f64 / 8_000.0;
    audio.extend(std::iter::repeat_n(0, 30 * 8_000));
    let (call, sent) = call("uas_machine.xml", "machine_pcap", &audio);
    let row = &call.row;
    assert_eq!(
        row["disposition"],
        "machine",
        "{row:?}\n{}",
        text(&call.dialer)
    );
    assert_eq!(row["amd"], "machine", "{row:?}");
    assert!(row["amd_ms"].parse::<u32>().unwrap() < 3_000, "{row:?}");
    assert!(row["note"].contains("message after the beep"), "{row:?}");
    let spoke = first_loud(&sent).expect("a message");
    assert!(
        spoke > beep_end && spoke < beep_end + 0.5,
        "the message begins {spoke:.2} s in; the beep ended at {beep_end:.2} s"
    );
}

#[test]
fn the_labs_person_hears_the_campaigns_message() {
    let mut audio = vec![0i16; 3_200];
    audio.extend(speak(PERSON));
    audio.extend(std::iter::repeat_n(0, 20 * 8_000));
    let (call, sent) = call("uas_human.xml", "human_pcap", &audio);
    let row = &call.row;
    assert_eq!(
        row["disposition"],
        "answered",
        "{row:?}\n{}",
        text(&call.dialer)
    );
    assert_eq!(row["amd"], "person", "{row:?}");
    let amd_s = row["amd_ms"].parse::<f64>().unwrap() / 1000.0;
    let spoke = first_loud(&sent).expect("the message");
    assert!(
        spoke > amd_s - 0.1 && spoke < amd_s + 0.4,
        "the message begins {spoke:.2} s in; the verdict came at {amd_s:.2} s"
    );
}
