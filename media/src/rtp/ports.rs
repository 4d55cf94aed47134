//! Local RTP ports: one even port per call from a configured range.
//!
//! Carriers latch onto the port they were given in SDP, so every call gets
//! its own socket. The pool walks the range round-robin so a port just freed
//! is not handed out again at once (late packets of the old call would land
//! in the new one).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use std::net::UdpSocket;

/// Hands out UDP sockets bound to even ports of `[first, last]` on one address.
#[derive(Debug)]
pub struct PortPool {
    ip: IpAddr,
    first: u16,
    slots: u32,
    cursor: AtomicU32,
}

impl PortPool {
    /// A pool over the even ports of `first..=last`. An empty range is an error.
    pub fn new(ip: IpAddr, first: u16, last: u16) -> io::Result<PortPool> {
        let first = first + first % 2;
        if last < first {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("RTP port range {first}-{last} holds no even port"),
            ));
        }
        Ok(PortPool {
            ip,
            first,
            slots: u32::from((last - first) / 2 + 1),
            cursor: AtomicU32::new(0),
        })
    }

    /// The address sockets are bound to (and SDP announces).
    pub fn ip(&self) -> IpAddr {
        self.ip
    }

    /// Binds the next free even port of the range (non-blocking).
    pub fn bind(&self) -> io::Result<UdpSocket> {
        for _ in 0..self.slots {
            let slot = self.cursor.fetch_add(1, Ordering::Relaxed) % self.slots;
            let port = self.first + (slot * 2) as u16;
            match UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(socket) => {
                    socket.set_nonblocking(true)?;
                    return Ok(socket);
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!(
                "every RTP port of {}-{} on {} is in use",
                self.first,
                self.first + (self.slots as u16 - 1) * 2,
                self.ip
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ports below the ephemeral range (32768-60999 here), where the
    // sockets other tests bind to port 0 never land.
    #[test]
    fn hands_out_distinct_even_ports_and_reports_exhaustion() {
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), 21_001, 21_006).unwrap();
        let a = pool.bind().unwrap();
        let b = pool.bind().unwrap();
        let c = pool.bind().unwrap();
        let ports: Vec<u16> = [&a, &b, &c]
            .iter()
            .map(|s| s.local_addr().unwrap().port())
            .collect();
        assert_eq!(ports, vec![21_002, 21_004, 21_006]);
        let err = pool.bind().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(b);
        assert_eq!(pool.bind().unwrap().local_addr().unwrap().port(), 21_004);
    }

    #[test]
    fn empty_range_is_an_error() {
        assert!(PortPool::new("127.0.0.1".parse().unwrap(), 21_011, 21_011).is_err());
    }
}
