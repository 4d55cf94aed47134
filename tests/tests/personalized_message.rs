//! Each debtor hears their own message: name, balance and due date said in
//! Spanish, between recorded phrases. What the simulated carrier recorded
//! on the call is exactly what `dialer prompts render` renders for that
//! contact, with TTS words or with recorded fragments (es-MX, and en-US);
//! an unreadable balance is a skipped row, never a silent call.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, json_field, repo_root, text};

const CONTACTS: &str = "id,telefono,nombre,saldo,vencimiento,cuenta\n\
    A,55 1234 0001,Juan Pérez,\"1,234.50\",15/12/2026,0412\n\
    B,55 1234 0002,Ana López,sin dato,2026-12-01,9981\n\
    C,55 1234 0003,Luis Gómez,21000,2027-01-01,7730\n";

fn campaign(carrier: &SimCarrier, say_with: &str) -> Campaign {
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts_csv = Some(CONTACTS.as_bytes().to_vec());
    spec.wait_for_digits_s = 0.5;
    spec.campaign_extra = format!(
        "language = \"es-MX\"\nprompts = \"{}\"\nsay_with = \"{say_with}\"\nmessage = [\n  \
         \"file:saludo\",\n  \"tts:{{nombre}}, su saldo de\",\n  \"say:currency:{{saldo}}\",\n  \
         \"tts:vence\",\n  \"say:date:{{vencimiento}}\",\n  \"tts:Su cuenta termina en\",\n  \
         \"say:digits:{{cuenta}}\",\n  \"file:despedida\",\n]\n",
        repo_root().join("prompts/es-MX").display()
    );
    Campaign::write(&spec)
}

fn samples(path: &std::path::Path) -> Vec<i16> {
    media::prompt::Prompt::load(path)
        .unwrap()
        .samples()
        .to_vec()
}

fn check(say_with: &str) {
    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let campaign = campaign(&carrier, say_with);
    let out = campaign.run(Duration::from_secs(120));
    let log = carrier.stop();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("contacts.csv:3: saldo: 'sin dato' is not an amount"),
        "{}",
        text(&out)
    );
    assert_eq!(
        log.len(),
        2,
        "only the two readable contacts were called: {log:?}\n{}",
        text(&out)
    );

    for (id, words) in [
        (
            "A",
            "mil doscientos treinta y cuatro pesos con cincuenta centavos vence el quince de diciembre",
        ),
        (
            "C",
            "veintiún mil pesos vence el primero de enero de dos mil veintisiete",
        ),
    ] {
        let expected = campaign.dir.path().join(format!("{id}.wav"));
        let render = dialer(
            campaign.dir.path(),
            &[
                "prompts",
                "render",
                campaign.config.to_str().unwrap(),
                "--contact",
                id,
                "--out",
                expected.to_str().unwrap(),
            ],
            Duration::from_secs(60),
        );
        assert!(render.status.success(), "{}", text(&render));
        let line = String::from_utf8_lossy(&render.stdout);
        assert!(line.contains(words), "{line}");
        let phone = if id == "A" {
            "+525512340001"
        } else {
            "+525512340003"
        };
        let call = log
            .iter()
            .find(|l| json_field(l, "dialed").as_deref() == Some(phone))
            .unwrap();
        let heard = samples(std::path::Path::new(
            &json_field(call, "recording").unwrap(),
        ));
        let message = samples(&expected);
        // The call plays the message, then waits 0.5 s for keys in silence.
        assert!(
            heard.len() >= message.len(),
            "{id}: heard {} samples of a {} sample message",
            heard.len(),
            message.len()
        );
        assert!(
            heard[..message.len()] == message[..],
            "{id}: the call did not play the rendered message"
        );
        let tail = &heard[message.len()..];
        assert!(
            tail.iter().all(|s| s.abs() < 16),
            "{id}: only silence after the message"
        );
        let seconds = message.len() as f64 / 8000.0;
        assert!(
            seconds > 6.0,
            "{id}: a {seconds:.1} s message is too short for its words"
        );
    }
}

#[test]
fn tts_words_are_what_the_debtor_hears() {
    check("tts");
}

#[test]
fn recorded_fragments_are_what_the_debtor_hears() {
    check("fragments");
}

#[test]
fn message_mistakes_are_named_before_any_call() {
    let carrier = SimCarrier::start("");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts_csv = Some(CONTACTS.as_bytes().to_vec());
    spec.campaign_extra = "message = [\"tts:Hola {apodo}\"]\n".into();
    let out = Campaign::write(&spec).run_unchecked(Duration::from_secs(30));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("campaign.message uses {apodo}") && err.contains("its columns: id, telefono"),
        "{err}"
    );

    spec.campaign_extra =
        "message = [\n  \"tts:Hola\",\n  \"say:fecha:{vencimiento}\",\n]\n".into();
    let campaign = Campaign::write(&spec);
    let config = std::fs::read_to_string(&campaign.config).unwrap();
    let line = config
        .lines()
        .position(|l| l.contains("say:fecha"))
        .unwrap()
        + 1;
    let err = String::from_utf8_lossy(&campaign.run_unchecked(Duration::from_secs(30)).stderr)
        .into_owned();
    assert!(
        err.contains(&format!(
            ":{line}: `campaign.message[1]`: unknown kind 'fecha'"
        )),
        "{err}"
    );
}

#[test]
fn an_english_campaign_speaks_with_the_en_us_fragments() {
    let mut carrier = SimCarrier::start("[default]\nring_s = 0.2\n");
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = vec![("E-1".into(), "55 1234 0101".into(), "John Smith".into())];
    spec.wait_for_digits_s = 0.3;
    spec.campaign_extra = format!(
        "language = \"en-US\"\nprompts = \"{}\"\nsay_with = \"fragments\"\nmessage = [\"file:saludo\", \"say:currency:{{balance}}\", \"say:date:{{due_date}}\", \"file:despedida\"]\n",
        repo_root().join("prompts/en-US").display()
    );
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(120));
    let log = carrier.stop();
    assert_eq!(log.len(), 1, "{log:?}\n{}", text(&out));
    let expected = campaign.dir.path().join("E-1.wav");
    let render = dialer(
        campaign.dir.path(),
        &[
            "prompts",
            "render",
            campaign.config.to_str().unwrap(),
            "--contact",
            "E-1",
            "--out",
            expected.to_str().unwrap(),
        ],
        Duration::from_secs(60),
    );
    assert!(render.status.success(), "{}", text(&render));
    let line = String::from_utf8_lossy(&render.stdout);
    assert!(
        line.contains("one thousand two hundred thirty-four dollars and fifty cents")
            && line.contains("December fifteenth"),
        "{line}"
    );
    let heard = samples(std::path::Path::new(
        &json_field(&log[0], "recording").unwrap(),
    ));
    let message = samples(&expected);
    assert!(message.len() > 8000 * 4, "a message of words, not a beep");
    assert!(
        heard.len() >= message.len() && heard[..message.len()] == message[..],
        "the call did not play the en-US message ({} heard, {} rendered)",
        heard.len(),
        message.len()
    );
}
