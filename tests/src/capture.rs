//! Packet capture on loopback with dumpcap, to see what a peer received.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::pcap::{Datagram, read_udp};
use crate::require_tool;

/// A running dumpcap on `lo`, filtered to UDP toward one port.
pub struct Capture {
    child: Option<Child>,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Capture {
    /// Starts capturing UDP datagrams sent to `dst_port` on loopback.
    pub fn start(dst_port: u16) -> Capture {
        Capture::start_filter(&format!("udp dst port {dst_port}"))
    }

    /// Starts capturing on loopback with a capture filter.
    pub fn start_filter(filter: &str) -> Capture {
        let dumpcap = require_tool("dumpcap", "tshark");
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("capture.pcap");
        let child = Command::new(dumpcap)
            .args(["-i", "lo", "-q", "-P", "-f"])
            .arg(filter)
            .arg("-w")
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start dumpcap");
        let capture = Capture {
            child: Some(child),
            path,
            _dir: dir,
        };
        // dumpcap writes the file header once it is capturing.
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::fs::metadata(&capture.path)
            .map(|m| m.len())
            .unwrap_or(0)
            < 24
        {
            assert!(
                Instant::now() < deadline,
                "dumpcap did not start capturing on lo (are we root?)"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        capture
    }

    /// Stops the capture and returns what it saw.
    pub fn stop(mut self) -> Vec<Datagram> {
        let mut child = self.child.take().expect("capture is running");
        // SIGINT lets dumpcap flush its buffers.
        crate::interrupt(&child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while child.try_wait().expect("wait for dumpcap").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.wait();
        read_udp(&self.path).expect("read the capture")
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
