//! Progress bars: `dialer run` and `dialer demo` draw the messages-rendered
//! and calls-done bars on a terminal (a pseudo-terminal from util-linux
//! `script`), and draw nothing with `--no-progress` or when stderr is not a
//! terminal; the summary is printed either way.

use std::time::Duration;

use dialer_tests::{Campaign, CampaignSpec, SimCarrier, dialer, dialer_in_terminal, text};

const PLAN: &str = "[default]\naction = \"answer\"\nring_s = 0.2\nhangup_after_s = 1.2\n";

/// The bars' fixed text (see `Bars` in dialer/src/campaign/runner.rs). The
/// renderer finishes while calls are still up, so its last state is drawn;
/// the calls bar may be cleared before its last step is.
fn bars_drawn(output: &str, contacts: usize) -> bool {
    output.contains("messages [")
        && output.contains(&format!("{contacts}/{contacts} rendered"))
        && output.contains("calls    [")
        && output.contains(&format!("/{contacts} done"))
}

fn no_bars(output: &str) -> bool {
    !output.contains("messages [") && !output.contains("calls    [")
}

fn campaign(carrier: &SimCarrier) -> Campaign {
    let mut spec = CampaignSpec::new(carrier.port);
    spec.contacts = (1..=3)
        .map(|i| {
            (
                format!("C-{i}"),
                format!("55 1234 00{i:02}"),
                format!("Deudora {i}"),
            )
        })
        .collect();
    Campaign::write(&spec)
}

#[test]
fn run_draws_bars_only_on_a_terminal_and_without_no_progress() {
    let carrier = SimCarrier::start(PLAN);
    let summary = "Campaign 'prueba': 3 contacts in the list, 3 dialed";

    let on_terminal = campaign(&carrier);
    let config = on_terminal.config.to_str().unwrap();
    let out = dialer_in_terminal(
        on_terminal.dir.path(),
        &["run", config],
        Duration::from_secs(120),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        bars_drawn(&shown, 3),
        "no progress bars on a terminal\n{shown}"
    );
    assert!(shown.contains(summary), "{shown}");

    let quiet = campaign(&carrier);
    let config = quiet.config.to_str().unwrap();
    let out = dialer_in_terminal(
        quiet.dir.path(),
        &["run", config, "--no-progress"],
        Duration::from_secs(120),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(no_bars(&shown), "--no-progress drew a bar\n{shown}");
    assert!(shown.contains(summary), "{shown}");

    let piped = campaign(&carrier);
    let config = piped.config.to_str().unwrap();
    let out = dialer(piped.dir.path(), &["run", config], Duration::from_secs(120));
    assert!(out.status.success(), "{}", text(&out));
    let all = text(&out);
    assert!(no_bars(&all), "a bar drawn into a pipe\n{all}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(summary),
        "{all}"
    );
}

#[test]
fn demo_draws_bars_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = dialer_in_terminal(
        dir.path(),
        &["demo", "--dir", dir.path().to_str().unwrap()],
        Duration::from_secs(180),
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        bars_drawn(&shown, 20),
        "no progress bars in the demo\n{shown}"
    );
    assert!(shown.contains("20 attempts"), "the report follows\n{shown}");
}
