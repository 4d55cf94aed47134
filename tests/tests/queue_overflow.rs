//! Debtors who ask for an agent when nobody can take them.
//!
//! The campaign has agents, but none is logged in. A debtor who waits hears
//! the hold prompt and their place in the queue; one who hangs up while
//! waiting is an abandon in queue; one who waits the queue's maximum gets
//! the overflow: a scheduled callback, or (through a second queue) a
//! voicemail, where what they say is kept as a WAV file.

use std::path::Path;
use std::time::Duration;

use dialer_tests::agents::{tone_windows, wav_samples};
use dialer_tests::audio::{heard, occurrences};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, json_field, repo_root, text};

const PLAN: &str = r#"
[[number]]
number = "+525512340011"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 5

[[number]]
number = "+525512340012"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "1" }]
hangup_after_s = 40

[[number]]
number = "+525512340013"
ring_s = 0.2
digits = [{ at_s = 0.5, key = "2" }]
tone_hz = 400
tone_at_s = 8.0
tone_s = 5
hangup_after_s = 40
"#;

fn flow(dir: &Path) -> std::path::PathBuf {
    let text = format!(
        r#"name = "colas"
language = "es-MX"
prompts = "{prompts}"
start = "menu"

[node.menu]
type = "menu"
prompt = ["file:menu-asesor"]
choices = {{ "1" = "temprana", "2" = "tardia" }}
timeout_s = 8
retries = 0
on_no_input = "hangup:no_input"

[node.temprana]
type = "transfer"
queue = "temprana"

[node.tardia]
type = "transfer"
queue = "tardia"
"#,
        prompts = repo_root().join("prompts/es-MX").display()
    );
    let path = dir.join("colas.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn waiting_debtors_hear_their_place_abandon_or_overflow_to_callback_and_voicemail() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![
        ("Q-1".into(), "55 1234 0011".into(), "Abandona".into()),
        ("Q-2".into(), "55 1234 0012".into(), "Espera".into()),
        ("Q-3".into(), "55 1234 0013".into(), "Deja Mensaje".into()),
    ];
    let dir = tempfile::tempdir().unwrap();
    spec.campaign_extra = format!(
        "flow = \"{}\"\nmax_call_s = 60\n",
        flow(dir.path()).display()
    );
    spec.sections = r#"
[[agent]]
login = "nadie"
password = "nunca-registra"
skills = ["cobranza"]

[[queue]]
name = "temprana"
max_wait_s = 12
announce_every_s = 8
overflow = "callback"
callback_after_s = 600

[[queue]]
name = "tardia"
max_wait_s = 3
overflow = "queue:general"

[[queue]]
name = "general"
max_wait_s = 3
overflow = "voicemail"
overflow_prompt = ["tts:Deje su mensaje."]
voicemail_max_s = 5
"#
    .into();
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(90));
    assert!(out.status.success(), "{}", text(&out));
    let calls = carrier.stop();

    let rows = campaign.report();
    let outcome = |id: &str| {
        let row = rows.iter().find(|r| r["contact_id"] == id).unwrap();
        (row["outcome"].clone(), row["queue"].clone())
    };
    assert_eq!(
        outcome("Q-1"),
        ("abandoned_in_queue".into(), "temprana".into())
    );
    assert_eq!(
        outcome("Q-2"),
        ("callback_scheduled".into(), "temprana".into())
    );
    assert_eq!(outcome("Q-3"), ("voicemail".into(), "tardia".into()));

    // The one who waited heard the hold prompt and their place (first).
    let waited = calls
        .iter()
        .find(|c| json_field(c, "dialed").as_deref() == Some("+525512340012"))
        .unwrap();
    let audio = heard(waited);
    let phrase = |name: &str| {
        media::prompt::Prompt::load(&repo_root().join(format!("prompts/es-MX/{name}.wav")))
            .unwrap()
            .samples()
            .to_vec()
    };
    assert!(
        !occurrences(&audio, &phrase("espera")).is_empty(),
        "no hold prompt"
    );
    let places = occurrences(&audio, &phrase("posicion-fila")).len();
    assert!(
        places >= 1,
        "the place in the queue was announced {places} times"
    );
    assert_eq!(
        occurrences(&audio, &phrase("devolveremos-llamada")).len(),
        1,
        "the callback message"
    );

    // The callback is in the export, ten minutes after the call.
    let callbacks = dialer(
        campaign.dir.path(),
        &[
            "report",
            "--db",
            "dialer.db",
            "--callbacks",
            "--format",
            "csv",
        ],
        Duration::from_secs(20),
    );
    let callbacks = String::from_utf8_lossy(&callbacks.stdout).to_string();
    assert_eq!(callbacks.lines().count(), 2, "{callbacks}");
    assert!(
        callbacks.contains("Q-2,Espera,+525512340012,temprana,"),
        "{callbacks}"
    );

    // The message left in the voicemail is the debtor's tone.
    let voicemail = std::fs::read_dir(campaign.dir.path().join("voicemail"))
        .expect("a voicemail folder next to the database")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "wav"))
        .expect("a voicemail WAV");
    let message = wav_samples(&voicemail);
    assert!(message.len() >= 2 * 8_000, "{} samples", message.len());
    let voiced = tone_windows(&message, 400.0, 800);
    assert!(
        voiced >= 15,
        "the debtor's voice is in the voicemail: {voiced} windows of 0.1 s in {:.1} s; {:?}",
        message.len() as f64 / 8_000.0,
        rows.iter()
            .find(|r| r["contact_id"] == "Q-3")
            .map(|r| r["note"].clone())
    );

    // Queue figures: by the queue first entered.
    let queues = dialer(
        campaign.dir.path(),
        &["report", "--db", "dialer.db", "--queues", "--format", "csv"],
        Duration::from_secs(20),
    );
    let queues = String::from_utf8_lossy(&queues.stdout).to_string();
    assert!(queues.contains("temprana,2,0,1,1,"), "{queues}");
    assert!(queues.contains("tardia,1,0,0,1,"), "{queues}");
}
