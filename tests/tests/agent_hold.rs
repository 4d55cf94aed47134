//! An agent presses hold on the softphone: a re-INVITE `a=sendonly`. The
//! dialer answers `a=recvonly` (sipp checks it) and stops sending the
//! debtor's voice to the agent until the agent takes the call back; the
//! attempt's note says so.

use std::time::Duration;

use dialer_tests::agents::{
    AgentBehaviour, SippAgent, one_agent_sections, pcmu_audio, tone_windows, transfer_spec,
};
use dialer_tests::capture::Capture;
use dialer_tests::{Campaign, SimCarrier, text};

// The debtor presses 1 at 1.5 s; the agent rings 1 s and answers at
// about 3 s; it holds 1 s later; the debtor talks (400 Hz) from 6 s to
// 12 s, all of it while held, and hangs up at 13 s.
const PLAN: &str = r#"
[[number]]
number = "+525512340007"
ring_s = 0.3
digits = [{ at_s = 1.5, key = "1" }]
tone_hz = 400
tone_at_s = 6.0
tone_s = 6
hangup_after_s = 13
"#;

#[test]
fn an_agent_who_holds_hears_nothing_of_the_debtor() {
    let mut carrier = SimCarrier::start(PLAN);
    let (mut spec, _flow) = transfer_spec(carrier.port, ("D-7", "55 1234 0007", "Rosa Díaz"));
    spec.sections = one_agent_sections(
        "agent5001",
        "secret5001",
        "wrap_up_s = 1\nmax_wait_s = 40\n",
    );
    let campaign = Campaign::write(&spec);
    let agent = SippAgent::start_as(
        campaign.sip_port,
        "agent5001",
        "secret5001",
        AgentBehaviour::AnswerThenHold(1_000),
    );
    let heard_by_agent = Capture::start(agent.media_port);
    let out = campaign.run(Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    carrier.stop();
    let datagrams = heard_by_agent.stop();
    let sipp = agent.messages();
    let rows = campaign.report();
    let row = &rows[0];
    assert_eq!(row["outcome"], "transferred", "{row:?}\n{sipp}");
    assert!(
        row["note"].contains("agent agent5001's softphone: put on hold by the far end 1 time(s)"),
        "{row:?}\n{sipp}"
    );
    // The dialer's answer to the hold, as sipp got it (only that SDP of
    // the call says recvonly).
    assert!(sipp.contains("a=recvonly"), "{sipp}");
    // The agent heard none of the debtor's words (all said while held).
    let agent_heard = pcmu_audio(&datagrams);
    let debtor_tone = tone_windows(&agent_heard, 400.0, 800);
    assert_eq!(
        debtor_tone,
        0,
        "the held agent heard the debtor in {debtor_tone} windows of 0.1 s ({} packets)",
        datagrams.len()
    );
}
