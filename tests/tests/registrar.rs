//! The registrar agents' softphones register with, against attackers.
//!
//! A source guessing passwords gets 401 then 403 each time, and after five
//! failures it is locked out (refused without a challenge) and the lockout
//! is logged, however it disguises its Via; a softphone on another address still registers and gets
//! keep-alive OPTIONS. Nobody can place a call through the dialer: an
//! INVITE from outside gets 403.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use dialer_tests::agents::{SippAgent, sipp_client};
use dialer_tests::{Campaign, CampaignSpec, SimCarrier, text, wait_with_timeout};

const PLAN: &str = r#"
[default]
action = "no_answer"
"#;

#[test]
fn guessed_passwords_are_locked_out_and_calls_through_the_dialer_refused() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    // One debtor who never answers keeps the dialer up for the test.
    spec.ring_timeout_s = 25.0;
    spec.sections = r#"
[registrar]
min_expires_s = 30
lockout_failures = 5
lockout_s = 600
keepalive_s = 2

[[agent]]
login = "agent1001"
password = "secret1001"
"#
    .into();
    let campaign = Campaign::write(&spec);
    let mut dialer = campaign.spawn();
    wait_for_sip(&mut dialer, campaign.sip_port);

    let (refused, trace) = sipp_client(
        "uac_invite_refused.xml",
        campaign.sip_port,
        &["-s", "0019005551234"],
    );
    assert!(refused, "an INVITE from outside must get 403: {trace}");

    let (locked, trace) = sipp_client(
        "uac_register_guess.xml",
        campaign.sip_port,
        // Over TCP, where answers come back on the connection whatever the
        // Via claims: the forged received= of each try must not help.
        &[
            "-s",
            "agent1001",
            "-au",
            "agent1001",
            "-ap",
            "adivina",
            "-t",
            "t1",
        ],
    );
    assert!(
        locked,
        "five wrong passwords, then refused without a challenge: {trace}"
    );

    // The right password from another address works, and gets keep-alives.
    let agent = SippAgent::start_at(
        "127.0.0.2",
        campaign.sip_port,
        "agent1001",
        "secret1001",
        1_000.0,
        1.0,
        30,
    );
    assert!(
        agent.wait_for("OPTIONS sip:agent1001@127.0.0.2", Duration::from_secs(10)),
        "no keep-alive OPTIONS reached the registered softphone: {}",
        agent.messages()
    );
    assert!(
        agent.messages().contains("SIP/2.0 200 OK"),
        "{}",
        agent.messages()
    );
    drop(agent);

    let out = wait_with_timeout(dialer, Duration::from_secs(60));
    carrier.stop();
    let log = text(&out);
    assert!(out.status.success(), "{log}");
    assert!(
        log.contains("source locked out after repeated failed REGISTER authentications"),
        "{log}"
    );
    assert!(log.contains("wrong password for agent"), "{log}");
    assert!(log.contains("REGISTER accepted"), "{log}");
    assert!(log.contains("127.0.0.2"), "{log}");
}

#[test]
fn a_softphone_that_unregisters_logs_its_agent_out() {
    let mut carrier = SimCarrier::start(PLAN);
    let mut spec = CampaignSpec::new(carrier.port);
    spec.ring_timeout_s = 8.0;
    spec.sections = r#"
[registrar]
min_expires_s = 30

[[agent]]
login = "agent1001"
password = "secret1001"
"#
    .into();
    let campaign = Campaign::write(&spec);
    let mut dialer = campaign.spawn();
    wait_for_sip(&mut dialer, campaign.sip_port);
    let (ok, trace) = sipp_client(
        "uac_agent_unregister.xml",
        campaign.sip_port,
        &["-s", "agent1001", "-au", "agent1001", "-ap", "secret1001"],
    );
    assert!(ok, "registered, then unregistered: {trace}");
    let out = wait_with_timeout(dialer, Duration::from_secs(60));
    carrier.stop();
    let log = dialer_tests::agents::without_colors(&text(&out));
    let ready = log.find("agent=agent1001 state=\"ready\"").expect(&log);
    let gone = log
        .find("no softphone registered any more agent=agent1001 expired=false")
        .expect(&log);
    let logged_out = gone
        + log[gone..]
            .find("agent=agent1001 state=\"logged_out\"")
            .expect(&log);
    assert!(ready < gone, "{log}");
    // Logged out when the softphone left (not when the run ended, ~5 s later).
    let time_of = |at: usize| {
        let line_start = log[..at].rfind('\n').map_or(0, |i| i + 1);
        chrono::DateTime::parse_from_rfc3339(log[line_start..].split_whitespace().next().unwrap())
            .unwrap()
    };
    let delay = time_of(logged_out) - time_of(gone);
    assert!(delay.num_milliseconds() < 500, "{delay:?}\n{log}");
}

/// Waits until the dialer listens on its SIP port (or says why it stopped).
fn wait_for_sip(dialer: &mut std::process::Child, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while UdpSocket::bind(("127.0.0.1", port)).is_ok() {
        if let Ok(Some(status)) = dialer.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = dialer.stderr.take() {
                use std::io::Read;
                let _ = e.read_to_string(&mut err);
            }
            panic!("the dialer stopped before listening ({status}): {err}");
        }
        assert!(
            Instant::now() < deadline,
            "the dialer did not open its SIP port"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
