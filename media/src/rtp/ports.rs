//! Local RTP ports: one even port per call from a configured range, and
//! the odd port above it for RTCP (RFC 3550's pair).
//!
//! Carriers latch onto the port they were given in SDP, so every call gets
//! its own sockets. The pool walks the range round-robin so a port just freed
//! is not handed out again at once (late packets of the old call would land
//! in the new one).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

use std::net::UdpSocket;

/// A call's sockets: RTP on an even port, RTCP on the port above it.
#[derive(Debug)]
pub struct PortPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
}

impl PortPair {
    /// The RTP port (what SDP announces).
    pub fn port(&self) -> u16 {
        self.rtp.local_addr().map_or(0, |a| a.port())
    }
}

/// Hands out UDP socket pairs bound to even ports of `[first, last]` (and
/// the odd port above each) on one address.
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

    /// Binds the next free pair of the range (non-blocking); a pair whose
    /// odd port is taken is skipped like a taken even one.
    pub fn bind(&self) -> io::Result<PortPair> {
        let bind = |port: u16| -> io::Result<Option<UdpSocket>> {
            match UdpSocket::bind(SocketAddr::new(self.ip, port)) {
                Ok(socket) => {
                    socket.set_nonblocking(true)?;
                    Ok(Some(socket))
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => Ok(None),
                Err(e) => Err(e),
            }
        };
        for _ in 0..self.slots {
            let slot = self.cursor.fetch_add(1, Ordering::Relaxed) % self.slots;
            let port = self.first + (slot * 2) as u16;
            let Some(rtp) = bind(port)? else { continue };
            let Some(rtcp) = bind(port.wrapping_add(1))? else {
                continue;
            };
            return Ok(PortPair { rtp, rtcp });
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
        let ports: Vec<u16> = [&a, &b, &c].iter().map(|p| p.port()).collect();
        assert_eq!(ports, vec![21_002, 21_004, 21_006]);
        assert_eq!(b.rtcp.local_addr().unwrap().port(), 21_005);
        let err = pool.bind().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(b);
        assert_eq!(pool.bind().unwrap().port(), 21_004);
    }

    #[test]
    fn a_pair_whose_rtcp_port_is_taken_is_skipped() {
        let taken = UdpSocket::bind("127.0.0.1:21023").unwrap();
        let pool = PortPool::new("127.0.0.1".parse().unwrap(), 21_022, 21_025).unwrap();
        let pair = pool.bind().unwrap();
        assert_eq!(pair.port(), 21_024);
        drop(taken);
    }

    #[test]
    fn empty_range_is_an_error() {
        assert!(PortPool::new("127.0.0.1".parse().unwrap(), 21_011, 21_011).is_err());
    }
}
