//! Every SIP port we open survives the 49 torture messages of RFC 4475:
//! the dialer's port in the middle of a call, and the simulated carrier's.
//!
//! The messages carry documentation addresses in their Via headers, where
//! replies would go, so the test runs everything in a network namespace of
//! its own with only loopback up: nothing leaves the machine.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use dialer_tests::{dialer_bin, repo_root, require_tool, text, wait_with_timeout};

struct Namespace(String);

impl Namespace {
    fn create() -> Namespace {
        let ip = require_tool("ip", "iproute2");
        let name = format!("dialer-rfc4475-{}", std::process::id());
        let _ = Command::new(&ip).args(["netns", "del", &name]).status();
        let ok = Command::new(&ip)
            .args(["netns", "add", &name])
            .status()
            .unwrap()
            .success();
        assert!(
            ok,
            "cannot create a network namespace (the tests run as root)"
        );
        assert!(
            Command::new(&ip)
                .args(["-n", &name, "link", "set", "lo", "up"])
                .status()
                .unwrap()
                .success()
        );
        Namespace(name)
    }

    fn command(&self, program: &std::path::Path) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).arg(program);
        c
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn sip_send() -> PathBuf {
    dialer_bin().with_file_name("sip-send")
}

fn torture_files() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/rfc4475");
    let index = std::fs::read_to_string(dir.join("index.tsv")).unwrap();
    let files: Vec<PathBuf> = index
        .lines()
        .skip(1)
        .map(|l| dir.join(format!("{}.dat", l.split('\t').next().unwrap())))
        .collect();
    assert_eq!(files.len(), 49);
    files
}

#[test]
fn dialer_and_carrier_ports_survive_all_torture_messages() {
    let ns = Namespace::create();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("plan.toml"),
        "[default]\nring_s = 0.2\nhangup_after_s = 8.0\ndigits = [{ at_s = 6.0, key = \"7\" }]\n",
    )
    .unwrap();
    let mut carrier = ns
        .command(&dialer_bin())
        .args([
            "carrier",
            "--listen",
            "127.0.0.1:5070",
            "--duration-s",
            "60",
            "--plan",
            "plan.toml",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::fs::write(
        dir.path().join("contacts.csv"),
        "id,phone,name,balance,due_date\nC-1,5512345678,Ana,1,2026-12-01\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("run.toml"),
        format!(
            "[database]\npath = \"dialer.db\"\n[sip]\nbind = \"127.0.0.1:5060\"\n\
             [[trunk]]\nname = \"sim\"\naddress = \"127.0.0.1:5070\"\ncaller_id = \"+525599990000\"\n\
             [campaign]\nname = \"tortura\"\ncontacts = \"contacts.csv\"\nprompt = \"{}\"\ntrunk = \"sim\"\n\
             [compliance]\nenabled = false\n",
            repo_root().join("prompts/es-MX/recordatorio.wav").display()
        ),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let run = ns
        .command(&dialer_bin())
        .args(["run", "run.toml", "--no-progress"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The call is up after about 0.3 s; torture both ports while it lasts.
    std::thread::sleep(Duration::from_millis(1000));
    for port in ["5060", "5070"] {
        let out = ns
            .command(&sip_send())
            .args(["127.0.0.1", port])
            .args(torture_files())
            .output()
            .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{report}");
        assert_eq!(report.lines().count(), 49, "{report}");
        for response in ["unreason", "noreason", "scalarlg", "bigcode", "bcast"] {
            let line = report
                .lines()
                .find(|l| l.starts_with(&format!("{response}\t")))
                .unwrap();
            assert!(
                line.ends_with("no reply"),
                "a response was answered: {line}"
            );
        }
        let alive = ns
            .command(&sip_send())
            .args(["127.0.0.1", port, "--options"])
            .output()
            .unwrap();
        assert!(
            alive.status.success(),
            "port {port} stopped answering OPTIONS: {}",
            String::from_utf8_lossy(&alive.stdout)
        );
    }
    let out = wait_with_timeout(run, Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    let report = ns
        .command(&dialer_bin())
        .args(["report", "--db", "dialer.db", "--format", "csv"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&report.stdout);
    let row = csv.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains(",answered,7,"),
        "the call went on through the torture: {csv}"
    );
    assert!(carrier.try_wait().unwrap().is_none(), "the carrier died");
    let _ = carrier.kill();
    let _ = carrier.wait();
}
