//! Sends SIP messages from files as single UDP datagrams to a loopback
//! port, and checks that the port still answers a plain OPTIONS.
//!
//!     sip-send HOST PORT FILE...      one datagram per file, first reply line printed
//!     sip-send HOST PORT --options    exit 0 when an OPTIONS gets 200
//!
//! HOST must be 127.0.0.0/8 or ::1. Used by the RFC 4475 test inside a
//! network namespace of its own.

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::process::ExitCode;
use std::time::Duration;

fn first_reply(socket: &UdpSocket, wait: Duration) -> Option<String> {
    socket.set_read_timeout(Some(wait)).ok()?;
    let mut buf = vec![0u8; 65_535];
    let (n, _) = socket.recv_from(&mut buf).ok()?;
    let text = String::from_utf8_lossy(&buf[..n]);
    Some(text.lines().next().unwrap_or("").to_owned())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [host, port, rest @ ..] = args.as_slice() else {
        eprintln!("usage: sip-send HOST PORT (FILE... | --options)");
        return ExitCode::from(2);
    };
    let ip = match host.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => ip,
        _ => {
            eprintln!("sip-send: {host} is not a loopback address");
            return ExitCode::from(2);
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("sip-send: bad port {port}");
        return ExitCode::from(2);
    };
    let target = SocketAddr::new(ip, port);
    let bind = SocketAddr::new(ip, 0);
    if rest == ["--options"] {
        let socket = UdpSocket::bind(bind).expect("bind a loopback socket");
        let local = socket.local_addr().expect("local address");
        let request = format!(
            "OPTIONS sip:probe@{target} SIP/2.0\r\nVia: SIP/2.0/UDP {local};rport;branch=z9hG4bK-probe-{}\r\n\
             Max-Forwards: 70\r\nFrom: <sip:probe@{local}>;tag=probe\r\nTo: <sip:probe@{target}>\r\n\
             Call-ID: probe-{}@{local}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
            std::process::id(),
            std::process::id()
        );
        socket
            .send_to(request.as_bytes(), target)
            .expect("send OPTIONS");
        return match first_reply(&socket, Duration::from_secs(3)) {
            Some(line) if line.starts_with("SIP/2.0 200") => {
                println!("OPTIONS\t{line}");
                ExitCode::SUCCESS
            }
            other => {
                println!("OPTIONS\t{other:?}");
                ExitCode::FAILURE
            }
        };
    }
    for file in rest {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("sip-send: {file}: {e}");
                return ExitCode::from(2);
            }
        };
        let socket = UdpSocket::bind(bind).expect("bind a loopback socket");
        let sent = socket
            .send_to(&bytes, target)
            .map(|n| n.to_string())
            .unwrap_or_else(|e| e.to_string());
        let reply =
            first_reply(&socket, Duration::from_millis(200)).unwrap_or_else(|| "no reply".into());
        let name = std::path::Path::new(file)
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or(file);
        println!("{name}\t{sent}\t{reply}");
    }
    ExitCode::SUCCESS
}
