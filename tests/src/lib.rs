//! Harness for the end-to-end tests: the built `dialer` binary against real
//! peers (sipp, the simulated carrier) over loopback.
//!
//! Every test writes its own campaign into a temporary folder, starts its
//! peer on free ports, runs `dialer run` with a time limit and reads the
//! result back through `dialer report --format csv`, as an operator would.
//! Missing tools fail the test with the command that installs them.

pub mod agents;
pub mod audio;
pub mod capture;
pub mod desktop;
pub mod pacing;
pub mod pcap;
pub mod rtp_timing;
pub mod sipp;

use std::collections::BTreeMap;
use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub use audio::{heard, occurrences, rendered};
pub use sipp::{Sipp, SippOptions};

/// The `dialer` binary of this build (`cargo build` puts it next to the tests).
pub fn dialer_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // Tests run from target/<profile>/deps/, helper binaries from target/<profile>/.
    let dir = exe.parent().expect("the executable is in a folder");
    let dir = if dir.ends_with("deps") {
        dir.parent().expect("deps is in the profile folder")
    } else {
        dir
    };
    let bin = dir.join("dialer");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build --workspace --bins` (deploy/test.sh does)",
        bin.display()
    );
    bin
}

/// The path of an external tool, or a failure saying how to install it.
pub fn require_tool(name: &str, package: &str) -> PathBuf {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|dir| dir.join(name))
        .find(|p| p.is_file());
    found.unwrap_or_else(|| {
        panic!("`{name}` is not installed: run deploy/test.sh, or `apt-get install {package}`")
    })
}

/// A free even port for sipp's media that keeps clear of `sip_port`: sipp
/// binds the port and the three above it (audio RTP and RTCP, video RTP
/// and RTCP), and a SIP port among them made sipp fail to start.
pub fn free_media_port(sip_port: u16) -> u16 {
    for _ in 0..100 {
        let port = free_port();
        let clear = !(port..=port.saturating_add(3)).contains(&sip_port)
            && (port.saturating_add(2)..=port.saturating_add(3))
                .all(|p| UdpSocket::bind(("127.0.0.1", p)).is_ok());
        if clear {
            return port;
        }
    }
    panic!("no four free UDP ports in a row on loopback for sipp's media");
}

/// A port free for both UDP and TCP on 127.0.0.1.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP on loopback");
        let port = udp.local_addr().expect("local addr").port();
        if port.is_multiple_of(2)
            && TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port + 1)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port pair on 127.0.0.1");
}

/// Sends SIGINT (Ctrl-C) to a child process.
pub fn interrupt(child: &Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    assert!(
        sent.is_ok_and(|s| s.success()),
        "could not interrupt process {}",
        child.id()
    );
}

/// Waits for a child with a deadline; kills it when the deadline passes.
/// Its stdout and stderr are read while it runs, so a chatty process never
/// blocks on a full pipe.
pub fn wait_with_timeout(mut child: Child, limit: Duration) -> Output {
    use std::io::Read;
    fn drain<R: Read + Send + 'static>(pipe: Option<R>) -> std::thread::JoinHandle<Vec<u8>> {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    }
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + limit;
    let (status, over) = loop {
        match child.try_wait().expect("wait for child") {
            Some(status) => break (status, false),
            None if Instant::now() > deadline => {
                let _ = child.kill();
                break (child.wait().expect("wait for child"), true);
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    let out = Output {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    };
    assert!(
        !over,
        "process ran over {limit:?}\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs the dialer with `args` in `dir` and returns its output.
pub fn dialer(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let child = Command::new(dialer_bin())
        .args(args)
        .current_dir(dir)
        .env("DIALER_LOG", "info,rsipstack=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dialer");
    wait_with_timeout(child, limit)
}

/// Runs the dialer with `args` in `dir` under a pseudo-terminal (util-linux
/// `script`), as an operator at a terminal would; stdout and stderr both
/// come back in the output's stdout, escape codes included.
pub fn dialer_in_terminal(dir: &Path, args: &[&str], limit: Duration) -> Output {
    let script = require_tool("script", "bsdutils");
    let quote = |s: &str| format!("'{}'", s.replace('\'', "'\\''"));
    let mut command = quote(dialer_bin().to_str().expect("utf-8 path"));
    for arg in args {
        command.push(' ');
        command.push_str(&quote(arg));
    }
    let child = Command::new(script)
        .args(["-qfec", &command, "/dev/null"])
        .current_dir(dir)
        .env("DIALER_LOG", "info,rsipstack=warn")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start script");
    wait_with_timeout(child, limit)
}

/// The trunk and timing a test campaign uses.
#[derive(Debug, Clone)]
pub struct CampaignSpec {
    pub trunk_port: u16,
    pub transport: &'static str,
    pub credentials: Option<(&'static str, &'static str)>,
    pub ring_timeout_s: f64,
    pub wait_for_digits_s: f64,
    pub response_timeout_s: f64,
    pub max_channels: u32,
    pub max_cps: f64,
    pub prompt: PathBuf,
    /// (id, phone, name)
    pub contacts: Vec<(String, String, String)>,
    /// Raw bytes for contacts.csv instead of `contacts`.
    pub contacts_csv: Option<Vec<u8>>,
    /// Extra `[campaign]` lines (e.g. `message = [...]` or `flow = ...`,
    /// which replace `prompt`).
    pub campaign_extra: String,
    /// The campaign's name.
    pub name: String,
    /// Extra sections at the end of the file (e.g. `[tts]`).
    pub sections: String,
    /// Extra lines of the `[[trunk]]` section (e.g. `dtmf = ["info"]`).
    pub trunk_extra: String,
    /// The `[compliance]` section. Tests dial fictitious numbers at any
    /// hour, so the checks are off unless a test turns them on.
    pub compliance: String,
    /// Extra lines of the `[media]` section (e.g. `realtime_priority = 10`).
    pub media_extra: String,
}

impl CampaignSpec {
    pub fn new(trunk_port: u16) -> CampaignSpec {
        CampaignSpec {
            trunk_port,
            transport: "udp",
            credentials: None,
            ring_timeout_s: 30.0,
            wait_for_digits_s: 1.0,
            response_timeout_s: 8.0,
            max_channels: 10,
            max_cps: 10.0,
            prompt: repo_root().join("prompts/es-MX/recordatorio.wav"),
            contacts: vec![("C-1".into(), "55 1234 5678".into(), "Juan Pérez".into())],
            contacts_csv: None,
            campaign_extra: String::new(),
            name: "prueba".into(),
            sections: String::new(),
            trunk_extra: String::new(),
            compliance: "[compliance]\nenabled = false\n".into(),
            media_extra: String::new(),
        }
    }
}

/// The list file of `contacts` (id, phone, name), each owing 1234.50 by
/// 2026-12-15.
pub fn contacts_csv(contacts: &[(String, String, String)]) -> String {
    let mut csv = String::from("id,phone,name,balance,due_date\n");
    for (id, phone, name) in contacts {
        csv.push_str(&format!("{id},{phone},{name},1234.50,2026-12-15\n"));
    }
    csv
}

/// A campaign written into its own temporary folder.
pub struct Campaign {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub sip_port: u16,
}

impl Campaign {
    pub fn write(spec: &CampaignSpec) -> Campaign {
        let dir = tempfile::tempdir().expect("temporary folder");
        let sip_port = free_port();
        let rtp_base = 30_000 + (sip_port % 300) * 100;
        let csv = spec
            .contacts_csv
            .clone()
            .unwrap_or_else(|| contacts_csv(&spec.contacts).into_bytes());
        std::fs::write(dir.path().join("contacts.csv"), csv).expect("write contacts");
        let credentials = match spec.credentials {
            Some((user, pass)) => format!("username = \"{user}\"\npassword = \"{pass}\"\n"),
            None => String::new(),
        };
        let config = format!(
            r#"[database]
path = "dialer.db"

[sip]
bind = "127.0.0.1:{sip_port}"

[media]
ip = "127.0.0.1"
rtp_port_min = {rtp_base}
rtp_port_max = {rtp_max}
{media_extra}
[[trunk]]
name = "sipp"
address = "127.0.0.1:{trunk_port}"
transport = "{transport}"
caller_id = "+525599990000"
caller_name = "Cobranza Pruebas"
max_channels = {channels}
max_cps = {cps}
response_timeout_s = {response}
{credentials}{trunk_extra}
[campaign]
name = "{name}"
contacts = "contacts.csv"
{prompt}trunk = "sipp"
ring_timeout_s = {ring}
wait_for_digits_s = {wait}
default_region = "MX"
{campaign_extra}
{compliance}
{sections}
"#,
            rtp_max = rtp_base + 99,
            trunk_port = spec.trunk_port,
            transport = spec.transport,
            channels = spec.max_channels,
            cps = spec.max_cps,
            response = spec.response_timeout_s,
            name = spec.name,
            prompt = if spec.campaign_extra.contains("message")
                || spec.campaign_extra.contains("flow =")
            {
                String::new()
            } else {
                format!("prompt = \"{}\"\n", spec.prompt.display())
            },
            campaign_extra = spec.campaign_extra,
            sections = spec.sections,
            trunk_extra = spec.trunk_extra,
            compliance = spec.compliance,
            media_extra = spec.media_extra,
            ring = spec.ring_timeout_s,
            wait = spec.wait_for_digits_s,
        );
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, config).expect("write config");
        Campaign {
            dir,
            config: path,
            sip_port,
        }
    }

    /// `dialer run` on this campaign; asserts it exits successfully.
    pub fn run(&self, limit: Duration) -> Output {
        let out = self.run_unchecked(limit);
        assert!(
            out.status.success(),
            "dialer run failed: {}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Starts `dialer run` without waiting for it.
    pub fn spawn(&self) -> Child {
        self.start(Command::new(dialer_bin()))
    }

    /// Starts `dialer run` through `wrapper` (`prlimit ...`, say: the
    /// dialer's path and arguments are added to it) without waiting.
    pub fn spawn_under(&self, mut wrapper: Command) -> Child {
        wrapper.arg(dialer_bin());
        self.start(wrapper)
    }

    /// `command` (the dialer, or a wrapper ending in its path) given the
    /// arguments, folder and environment of `dialer run` on this campaign.
    fn start(&self, mut command: Command) -> Child {
        command
            .args([
                "run",
                self.config.to_str().expect("utf-8 path"),
                "--no-progress",
            ])
            .current_dir(self.dir.path())
            .env("DIALER_LOG", "info,rsipstack=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dialer")
    }

    /// Polls the report until `done` holds for it.
    pub fn wait_report(
        &self,
        limit: Duration,
        done: impl Fn(&[BTreeMap<String, String>]) -> bool,
    ) -> Vec<BTreeMap<String, String>> {
        let deadline = Instant::now() + limit;
        loop {
            // The file appears a moment before the dialer has created its
            // tables in it; until then `dialer report` rightly refuses it.
            if let Some(rows) = try_report_csv(&self.dir.path().join("dialer.db"))
                && done(&rows)
            {
                return rows;
            }
            assert!(
                Instant::now() < deadline,
                "the report did not reach the expected state in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    pub fn run_unchecked(&self, limit: Duration) -> Output {
        dialer(
            self.dir.path(),
            &[
                "run",
                self.config.to_str().expect("utf-8 path"),
                "--no-progress",
            ],
            limit,
        )
    }

    /// Every attempt, through `dialer report --format csv`.
    pub fn report(&self) -> Vec<BTreeMap<String, String>> {
        report_csv(&self.dir.path().join("dialer.db"))
    }
}

/// Reads `dialer report --db DB --format csv` into rows keyed by column.
pub fn report_csv(db: &Path) -> Vec<BTreeMap<String, String>> {
    let out = report_output(db);
    assert!(
        out.status.success(),
        "dialer report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse_report(&out.stdout)
}

/// A time column of a report row.
pub fn time(row: &BTreeMap<String, String>, column: &str) -> chrono::DateTime<chrono::Utc> {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: {row:?}"))
}

/// The report, or `None` while the database is missing or not yet set up.
pub fn try_report_csv(db: &Path) -> Option<Vec<BTreeMap<String, String>>> {
    if !db.exists() {
        return None;
    }
    let out = report_output(db);
    out.status.success().then(|| parse_report(&out.stdout))
}

fn report_output(db: &Path) -> Output {
    let dir = db.parent().expect("database has a folder");
    dialer(
        dir,
        &[
            "report",
            "--db",
            db.to_str().expect("utf-8 path"),
            "--format",
            "csv",
        ],
        Duration::from_secs(30),
    )
}

/// The `Etc/GMT` zone where it is now about `hour` o'clock (POSIX signs:
/// `Etc/GMT-3` is three hours ahead of UTC).
pub fn zone_at_hour(now: chrono::DateTime<chrono::Utc>, hour: i64) -> String {
    let mut ahead = hour - i64::from(chrono::Timelike::hour(&now));
    if ahead < -12 {
        ahead += 24;
    }
    if ahead > 14 {
        ahead -= 24;
    }
    match ahead {
        0 => "Etc/GMT".into(),
        a if a > 0 => format!("Etc/GMT-{a}"),
        a => format!("Etc/GMT+{}", -a),
    }
}

/// CSV text (a report) into rows keyed by column.
pub fn parse_report(csv_text: &[u8]) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(csv_text);
    let headers = reader.headers().expect("CSV header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("CSV row");
            headers
                .iter()
                .zip(r.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The repository root (the workspace this crate is in).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is in the repository")
        .to_owned()
}

/// Text of a process's stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The PCMU bytes the dialer sends for a prompt file.
pub fn prompt_pcmu(path: &Path) -> Vec<u8> {
    let prompt = media::prompt::Prompt::load(path).expect("load prompt");
    prompt.encoded(media::Codec::Pcmu).to_vec()
}

/// RTP header facts of a datagram: (payload type, sequence, timestamp, payload).
pub fn rtp(datagram: &pcap::Datagram) -> Option<(u8, u16, u32, &[u8])> {
    let p = &datagram.payload;
    if p.len() < 12 || p[0] >> 6 != 2 {
        return None;
    }
    let cc = usize::from(p[0] & 0x0F);
    let start = 12 + 4 * cc;
    (p.len() >= start).then(|| {
        (
            p[1] & 0x7F,
            u16::from_be_bytes([p[2], p[3]]),
            u32::from_be_bytes([p[4], p[5], p[6], p[7]]),
            &p[start..],
        )
    })
}

/// What one single-contact campaign against sipp left behind.
pub struct SingleCall {
    pub row: BTreeMap<String, String>,
    /// sipp's message trace.
    pub sipp_messages: String,
    pub sipp_ok: bool,
    pub dialer: Output,
}

/// Runs a one-contact campaign against a sipp scenario and returns its only attempt.
pub fn single_call(options: SippOptions, adjust: impl FnOnce(&mut CampaignSpec)) -> SingleCall {
    let sipp = Sipp::start(options);
    let mut spec = CampaignSpec::new(sipp.port);
    adjust(&mut spec);
    let campaign = Campaign::write(&spec);
    let dialer = campaign.run(Duration::from_secs(120));
    let sipp_messages = sipp.messages();
    let sipp_ok = sipp.finish(Duration::from_secs(60)).status.success();
    let mut rows = campaign.report();
    assert_eq!(rows.len(), 1, "one attempt expected\n{}", text(&dialer));
    SingleCall {
        row: rows.remove(0),
        sipp_messages,
        sipp_ok,
        dialer,
    }
}

/// `dialer carrier` running as its own process; stopped when dropped.
pub struct SimCarrier {
    child: Option<Child>,
    pub port: u16,
    pub record_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl SimCarrier {
    /// Starts the simulated carrier with a plan (TOML text).
    pub fn start(plan: &str) -> SimCarrier {
        use std::io::BufRead;
        let dir = tempfile::tempdir().expect("temporary folder");
        let plan_path = dir.path().join("plan.toml");
        std::fs::write(&plan_path, plan).expect("write plan");
        let record_dir = dir.path().join("recordings");
        let rtp = 40_000 + (free_port() % 200) * 50;
        let mut child = Command::new(dialer_bin())
            .args(["carrier", "--listen", "127.0.0.1:0", "--duration-s", "300"])
            .arg("--plan")
            .arg(&plan_path)
            .arg("--record-dir")
            .arg(&record_dir)
            .args(["--rtp-ports", &format!("{rtp}-{}", rtp + 49)])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dialer carrier");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .expect("read carrier output");
        let addr = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected carrier output: {first:?}"));
        let port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        SimCarrier {
            child: Some(child),
            port,
            record_dir,
            _dir: dir,
        }
    }

    /// Stops the carrier (Ctrl-C) and returns its per-call log lines; the
    /// recordings stay until the carrier is dropped.
    pub fn stop(&mut self) -> Vec<String> {
        if let Some(child) = self.child.take() {
            crate::interrupt(&child);
            wait_with_timeout(child, Duration::from_secs(20));
        }
        std::fs::read_to_string(self.record_dir.join("calls.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl SimCarrier {
    /// The `calls.jsonl` line of one call, waiting for the carrier to write
    /// it (it does once the call's recording is on disk).
    pub fn call(&self, call_id: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let lines =
                std::fs::read_to_string(self.record_dir.join("calls.jsonl")).unwrap_or_default();
            if let Some(line) = lines
                .lines()
                .find(|l| json_field(l, "call_id").as_deref() == Some(call_id))
            {
                return line.to_owned();
            }
            assert!(
                Instant::now() < deadline,
                "the carrier logged no call {call_id} in {limit:?}:\n{lines}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for SimCarrier {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A JSON string field of a `calls.jsonl` line (the carrier writes flat objects).
pub fn json_field(line: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":");
    let rest = &line[line.find(&key)? + key.len()..];
    if let Some(quoted) = rest.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => return Some(out),
                '\\' => out.push(chars.next()?),
                c => out.push(c),
            }
        }
        None
    } else {
        Some(rest.split([',', '}']).next()?.trim().to_owned())
    }
}

/// One answered call of a one-contact campaign against the simulated
/// carrier with `plan`: the attempt's report row and the carrier's
/// `calls.jsonl` line for it. `edit` adjusts the campaign first.
pub fn carrier_call(
    plan: &str,
    edit: impl FnOnce(&mut CampaignSpec),
) -> (BTreeMap<String, String>, String) {
    let mut carrier = SimCarrier::start(plan);
    let mut spec = CampaignSpec::new(carrier.port);
    edit(&mut spec);
    let campaign = Campaign::write(&spec);
    let out = campaign.run(Duration::from_secs(60));
    assert!(out.status.success(), "{}", text(&out));
    let row = campaign
        .report()
        .into_iter()
        .next()
        .expect("the contact was called");
    let line = carrier.call(&row["call_id"], Duration::from_secs(10));
    carrier.stop();
    assert_eq!(row["disposition"], "answered", "{row:?}");
    (row, line)
}
