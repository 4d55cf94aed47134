//! `[amd]`: the dialer listens before it speaks. A machine (a long
//! greeting, with or without a beep) gets the message for machines once
//! the beep ends or the greeting falls quiet, and never the campaign's
//! message; a person who says "¿Bueno?" hears the campaign's message the
//! moment the verdict is in; a silent answer is taken for a person. All
//! against the simulated carrier speaking espeak-ng greetings over RTP,
//! checked on the dialer's own two-channel recordings.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use dialer_tests::agents::{first_loud, stereo_wav, tone_windows};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, json_field, text, time};

const MACHINE: &str = "Hola, has llamado a Juan Pérez. En este momento no puedo atender tu llamada. \
                       Deja tu mensaje después del tono.";
const MACHINE_NO_BEEP: &str =
    "Hola, soy Ana. No estoy disponible, deja tu nombre y tu número y te llamo más tarde.";

fn plan() -> String {
    format!(
        r#"[default]
ring_s = 0.2
greeting = "¿Bueno?"
hangup_after_s = 20

[[number]]
number = "+525512340001"
ring_s = 0.2
greeting = "{MACHINE}"
beep_hz = 1000
hangup_after_s = 30

[[number]]
number = "+525512340002"
ring_s = 0.2
greeting = "{MACHINE_NO_BEEP}"
hangup_after_s = 30

[[number]]
number = "+525512340003"
ring_s = 0.2
greeting = "¿Bueno?"
digits = [{{ at_s = 5.0, key = "1" }}]
hangup_after_s = 20

[[number]]
number = "+525512340004"
ring_s = 0.2
hangup_after_s = 20
"#
    )
}

const AMD: &str = r#"
[amd]
message = ["tts:Hola {nombre}, le llamamos de Cobranza Demo. Por favor llámenos al cincuenta y cinco noventa y nueve noventa y nueve. Gracias."]

[tts]
engine = "espeak"
"#;

/// `dialer prompts render --machine`: what `contact`'s answering machine gets.
fn render_for_machine(campaign: &Campaign, contact: &str, out: &Path) -> std::process::Output {
    dialer_tests::dialer(
        campaign.dir.path(),
        &[
            "prompts",
            "render",
            campaign.config.to_str().unwrap(),
            "--contact",
            contact,
            "--machine",
            "--out",
            out.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    )
}

fn by_contact(rows: Vec<BTreeMap<String, String>>) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.into_iter()
        .map(|r| (r["contact_id"].clone(), r))
        .collect()
}

#[test]
fn machines_get_their_message_after_the_beep_and_people_the_campaigns() {
    let mut carrier = SimCarrier::start(&plan());
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("M-BEEP".into(), "55 1234 0001".into(), "Juan Pérez".into()),
        ("M-QUIET".into(), "55 1234 0002".into(), "Ana Ruiz".into()),
        ("PERSON".into(), "55 1234 0003".into(), "Rosa Gómez".into()),
        ("SILENT".into(), "55 1234 0004".into(), "Luis Díaz".into()),
    ];
    spec.campaign_extra = "record = true\n".into();
    spec.wait_for_digits_s = 3.0;
    spec.sections = AMD.into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(90));
    assert!(out.status.success(), "{}", text(&out));
    let rows = by_contact(campaign.report());
    let greeting_ended = |row: &BTreeMap<String, String>| -> f64 {
        let line = carrier.call(&row["call_id"], Duration::from_secs(10));
        json_field(&line, "greeting_ended_s")
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("the carrier played a greeting: {line}"))
    };
    let mut prompt = Vec::new();
    media::Codec::Pcmu.decode(&dialer_tests::prompt_pcmu(&spec.prompt), &mut prompt);
    let recording = |row: &BTreeMap<String, String>| stereo_wav(Path::new(&row["recording"]));

    // A machine that beeps: known within 3 s, the message after the beep.
    let beep = &rows["M-BEEP"];
    assert_eq!(beep["disposition"], "machine", "{beep:?}");
    assert_eq!(beep["amd"], "machine", "{beep:?}");
    let amd_ms: f64 = beep["amd_ms"].parse().unwrap();
    assert!(amd_ms < 3_000.0, "{beep:?}");
    assert!(beep["note"].contains("message after the beep"), "{beep:?}");
    let beep_end = greeting_ended(beep);
    let (heard_from_machine, sent) = recording(beep);
    assert!(
        tone_windows(&heard_from_machine, 1_000.0, 400) >= 10,
        "the beep is on the debtor's channel"
    );
    let spoke = first_loud(&sent).expect("the dialer said something");
    assert!(
        spoke > beep_end && spoke < beep_end + 0.5,
        "the message begins {spoke:.2} s in; the beep ended at {beep_end:.2} s"
    );
    assert!(
        sent.len() < prompt.len()
            || sent
                .windows(prompt.len())
                .step_by(80)
                .all(|w| w != &prompt[..]),
        "the campaign's message never plays to a machine"
    );
    assert_eq!(beep["hangup_by"], "dialer", "{beep:?}");
    // What the machine got is its contact's message for machines, whole,
    // sample for sample as `dialer prompts render --machine` renders it.
    let rendered = campaign.dir.path().join("machine-message.wav");
    let render = render_for_machine(&campaign, "M-BEEP", &rendered);
    assert!(render.status.success(), "{}", text(&render));
    assert!(
        String::from_utf8_lossy(&render.stdout).contains("Juan Pérez"),
        "{}",
        text(&render)
    );
    let message = dialer_tests::agents::wav_samples(&rendered);
    // (The recording keeps the audio before coding; the rendered file is
    // µ-law: compare both as the line carries them.)
    let ulaw = |pcm: &[i16]| {
        let mut coded = Vec::new();
        media::Codec::Pcmu.encode(pcm, &mut coded);
        let mut out = Vec::new();
        media::Codec::Pcmu.decode(&coded, &mut out);
        out
    };
    let (message, sent) = (ulaw(&message), ulaw(&sent));
    let loud = message.iter().position(|s| s.abs() > 1_000).unwrap();
    let probe = &message[loud..loud + 800];
    let at = (0..sent.len().saturating_sub(loud + 800))
        .find(|&o| &sent[o + loud..o + loud + 800] == probe)
        .expect("the message for machines is in the recording");
    assert!(
        sent.len() >= at + message.len() && sent[at..at + message.len()] == message[..],
        "the whole message, as rendered"
    );

    // A machine without a beep: the message once its greeting falls quiet.
    let quiet = &rows["M-QUIET"];
    assert_eq!(quiet["disposition"], "machine", "{quiet:?}");
    assert!(
        quiet["note"].contains("after the greeting (no beep heard)"),
        "{quiet:?}"
    );
    let greeting_end = greeting_ended(quiet);
    let (_, sent) = recording(quiet);
    let spoke = first_loud(&sent).expect("the dialer said something");
    assert!(
        spoke > greeting_end + 1.5 && spoke < greeting_end + 3.0,
        "the message begins {spoke:.2} s in; the greeting ended at {greeting_end:.2} s"
    );

    // A person: "¿Bueno?", then the campaign's message at once.
    let person = &rows["PERSON"];
    assert_eq!(person["disposition"], "answered", "{person:?}");
    assert_eq!(person["amd"], "person", "{person:?}");
    assert_eq!(person["digits"], "1", "{person:?}");
    let amd_s = person["amd_ms"].parse::<f64>().unwrap() / 1000.0;
    assert!((1.0..3.0).contains(&amd_s), "{person:?}");
    let (_, sent) = recording(person);
    let spoke = first_loud(&sent).expect("the person heard the message");
    assert!(
        spoke > amd_s - 0.1 && spoke < amd_s + 0.4,
        "the message begins {spoke:.2} s in; the verdict came at {amd_s:.2} s"
    );

    // Silence: unsure, taken for a person (many answer and wait).
    let silent = &rows["SILENT"];
    assert_eq!(silent["disposition"], "answered", "{silent:?}");
    assert_eq!(silent["amd"], "unsure", "{silent:?}");
    assert!(
        silent["note"].contains("nobody spoke") && silent["note"].contains("taken for a person"),
        "{silent:?}"
    );
    let (_, sent) = recording(silent);
    let spoke = first_loud(&sent).unwrap();
    assert!((2.4..3.0).contains(&spoke), "{spoke}");
    carrier.stop();
}

#[test]
fn a_machine_hung_up_on_is_called_again_by_its_own_retry_rule() {
    // The first call reaches the machine, the second the debtor.
    let plan = format!(
        r#"[[number]]
number = "+525512345678"
ring_s = 0.2
greeting = "{MACHINE}"
beep_hz = 1000
hangup_after_s = 30
then = [{{ ring_s = 0.2, greeting = "¿Aló?", hangup_after_s = 8 }}]
"#
    );
    let mut carrier = SimCarrier::start(&plan);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.sections =
        "[amd]\non_machine = \"hang_up\"\n\n[retry]\nmachine = { after_s = 1, max = 1 }\n".into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    carrier.stop();
    assert!(out.status.success(), "{}", text(&out));
    let rows = campaign.report();
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (machine, person) = (&rows[0], &rows[1]);
    assert_eq!(machine["disposition"], "machine", "{machine:?}");
    assert_eq!(machine["hangup_by"], "dialer", "{machine:?}");
    assert!(
        machine["note"].contains("hung up on the machine"),
        "{machine:?}"
    );
    let talk: f64 = machine["talk_s"].parse().unwrap();
    assert!(talk < 3.5, "hung up as soon as known: {machine:?}");
    assert_eq!(person["attempt"], "2", "{person:?}");
    assert_eq!(person["disposition"], "answered", "{person:?}");
    assert_eq!(person["amd"], "person", "{person:?}");
    let summary = text(&out);
    assert!(summary.contains("machine"), "{summary}");
    // Nothing to render for a machine that is hung up on.
    let render = render_for_machine(&campaign, "C-1", Path::new("x.wav"));
    assert!(!render.status.success(), "{}", text(&render));
    assert!(
        String::from_utf8_lossy(&render.stderr)
            .contains("campaign.toml: [amd] hangs up on machines"),
        "{}",
        text(&render)
    );
}

#[test]
fn a_message_for_machines_with_a_column_the_list_lacks_stops_the_run_before_any_call() {
    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.sections =
        "[amd]\nmessage = [\"tts:Mensaje para {nombre}, sobre su folio {folio}.\"]\n".into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run_unchecked(Duration::from_secs(30));
    let calls = carrier.stop();
    assert!(!out.status.success(), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("amd.message uses {folio}") && stderr.contains("contacts.csv"),
        "{stderr}"
    );
    assert!(calls.is_empty(), "no call was placed: {calls:?}");
}

/// Progressive dialing with one agent: the machine's verdict frees the
/// agent's line at once, so the next debtor is called while the machine
/// still records its message, and reaches the agent.
#[test]
fn a_machine_does_not_hold_the_agent_the_pacer_dialed_for() {
    let plan = format!(
        r#"[[number]]
number = "+525512340001"
ring_s = 0.2
greeting = "{MACHINE}"
beep_hz = 1000
hangup_after_s = 40

[[number]]
number = "+525512340002"
ring_s = 0.2
greeting = "¿Bueno?"
hangup_after_s = 6
"#
    );
    let carrier = SimCarrier::start(&plan);
    let dir = tempfile::tempdir().unwrap();
    let flow = dialer_tests::agents::connect_flow(dir.path(), "cobranza");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("MACHINE".into(), "55 1234 0001".into(), "Juan Pérez".into()),
        ("PERSON".into(), "55 1234 0002".into(), "Rosa Gómez".into()),
    ];
    spec.campaign_extra = format!("flow = \"{}\"\nmax_call_s = 60\n", flow.display());
    spec.sections = format!(
        r#"{AMD}
[registrar]
min_expires_s = 30

[[agent]]
login = "agent1001"
password = "secret1001"
skills = ["cobranza"]

[[queue]]
name = "cobranza"
skills = ["cobranza"]
wrap_up_s = 1
max_wait_s = 60
overflow = "hangup"

[pacing]
mode = "progressive"
queue = "cobranza"
"#
    );
    let campaign = Campaign::write(&spec);
    let agent = dialer_tests::agents::Baresip::start(
        campaign.sip_port,
        "agent1001",
        "secret1001",
        "PCMU",
        1_000.0,
    );
    let out = campaign.run(Duration::from_secs(120));
    drop(agent);
    let rows = by_contact(campaign.report());
    let (machine, person) = (&rows["MACHINE"], &rows["PERSON"]);
    assert_eq!(
        machine["disposition"],
        "machine",
        "{machine:?}\n{}",
        text(&out)
    );
    assert_eq!(
        person["outcome"],
        "transferred",
        "{person:?}\n{}",
        text(&out)
    );
    assert_eq!(person["agent"], "agent1001", "{person:?}");
    let told = time(machine, "answered_at")
        + chrono::Duration::milliseconds(machine["amd_ms"].parse().unwrap());
    let next = time(person, "started_at");
    assert!(
        next < told + chrono::Duration::seconds(2),
        "the next call {next} came over 2 s after the machine was known ({told})"
    );
    assert!(
        next + chrono::Duration::seconds(5) < time(machine, "ended_at"),
        "the next call came while the machine still recorded: {machine:?} {person:?}"
    );
}
