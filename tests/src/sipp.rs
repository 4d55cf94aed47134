//! sipp as the far end: a carrier trunk scenario on loopback.

use std::net::{TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::{free_port, repo_root, require_tool, wait_with_timeout};

/// How to run one sipp UAS scenario from `tests/sipp/`.
#[derive(Debug, Clone)]
pub struct SippOptions {
    pub scenario: &'static str,
    /// Ring time before answering/rejecting (rewrites the CANCEL wait).
    pub ring_ms: Option<u32>,
    /// sipp sends BYE this long after answering (rewrites the BYE wait).
    pub hold_ms: Option<u32>,
    pub tcp: bool,
    /// Calls to serve before exiting.
    pub calls: u32,
    /// Extra text replacements in the scenario (e.g. another SDP).
    pub rewrites: Vec<(String, String)>,
    pub keys: Vec<(String, String)>,
    /// sipp's own time limit.
    pub timeout_s: u32,
}

impl SippOptions {
    pub fn new(scenario: &'static str) -> SippOptions {
        SippOptions {
            scenario,
            ring_ms: None,
            hold_ms: None,
            tcp: false,
            calls: 1,
            rewrites: Vec::new(),
            keys: Vec::new(),
            timeout_s: 120,
        }
    }
}

/// A running sipp; killed when dropped.
pub struct Sipp {
    child: Option<Child>,
    pub port: u16,
    pub media_port: u16,
    pub dir: tempfile::TempDir,
}

impl Sipp {
    pub fn start(options: SippOptions) -> Sipp {
        let sipp = require_tool("sipp", "sip-tester");
        let dir = tempfile::tempdir().expect("temporary folder");
        let source = repo_root().join("tests/sipp").join(options.scenario);
        let mut xml = std::fs::read_to_string(&source)
            .unwrap_or_else(|e| panic!("{}: {e}", source.display()));
        if let Some(ms) = options.ring_ms {
            xml = rewrite_timeout(&xml, "CANCEL", ms.max(1));
        }
        if let Some(ms) = options.hold_ms {
            xml = rewrite_timeout(&xml, "BYE", ms.max(1));
        }
        for (from, to) in &options.rewrites {
            assert!(
                xml.contains(from.as_str()),
                "{}: no '{from}' to rewrite",
                options.scenario
            );
            xml = xml.replace(from.as_str(), to);
        }
        let scenario = dir.path().join(options.scenario);
        std::fs::write(&scenario, xml).expect("write scenario");
        let port = free_port();
        let media_port = crate::free_media_port(port);
        let mut command = Command::new(sipp);
        command
            .arg("-sf")
            .arg(&scenario)
            .args(["-i", "127.0.0.1", "-mi", "127.0.0.1"])
            .args(["-p", &port.to_string(), "-mp", &media_port.to_string()])
            .args(["-m", &options.calls.to_string()])
            .args(["-timeout", &format!("{}s", options.timeout_s)])
            .args(["-aa", "-nostdin", "-deadcall_wait", "2000"])
            .args(["-trace_err", "-error_file"])
            .arg(dir.path().join("errors.log"))
            .args(["-trace_msg", "-message_file"])
            .arg(dir.path().join("messages.log"));
        if options.tcp {
            command.args(["-t", "t1"]);
        }
        for (key, value) in &options.keys {
            command.args(["-key", key, value]);
        }
        let child = command
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start sipp");
        let sipp = Sipp {
            child: Some(child),
            port,
            media_port,
            dir,
        };
        sipp.wait_listening(options.tcp);
        sipp
    }

    fn wait_listening(&self, tcp: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let up = if tcp {
                TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            } else {
                UdpSocket::bind(("127.0.0.1", self.port)).is_err()
            };
            if up {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "sipp did not start listening on port {}: {}",
            self.port,
            self.messages()
        );
    }

    /// What sipp sent and received, for assertion messages.
    pub fn messages(&self) -> String {
        let read =
            |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
        format!(
            "--- sipp messages ---\n{}\n--- sipp errors ---\n{}",
            read("messages.log"),
            read("errors.log")
        )
    }

    /// Waits for sipp to finish its calls and exit.
    pub fn finish(mut self, limit: Duration) -> Output {
        let child = self.child.take().expect("sipp is running");
        wait_with_timeout(child, limit)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn rewrite_timeout(xml: &str, request: &str, ms: u32) -> String {
    let prefix = format!("<recv request=\"{request}\" timeout=\"");
    let start = xml
        .find(&prefix)
        .unwrap_or_else(|| panic!("scenario has no timed {request} wait"))
        + prefix.len();
    let end = start + xml[start..].find('"').expect("closing quote");
    format!("{}{ms}{}", &xml[..start], &xml[end..])
}

/// The path of a DTMF pcap, generated once per test process.
pub fn dtmf_pcap(dir: &Path, digits: &str, lead_s: f64) -> PathBuf {
    let path = dir.join(format!("dtmf-{digits}.pcap"));
    crate::pcap::write_dtmf(&path, digits, lead_s, 5.0, 101).expect("write DTMF pcap");
    path
}
