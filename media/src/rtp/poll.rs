//! Which of a media thread's sockets have something to read: a
//! level-triggered epoll set, so a thread reads only the sockets that
//! received a datagram, and reads each once per tick (what is left is
//! reported again at the next tick, so there is no read that comes back
//! empty). mio is edge-triggered only, which costs an empty read per
//! datagram to learn the socket was drained.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub(super) struct Readable {
    epoll: OwnedFd,
    events: Vec<libc::epoll_event>,
}

impl Readable {
    pub fn new(capacity: usize) -> io::Result<Readable> {
        // SAFETY: epoll_create1 has no memory arguments; a valid fd is owned below.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(Readable {
            // SAFETY: fd was just created and is owned by nothing else.
            epoll: unsafe { OwnedFd::from_raw_fd(fd) },
            events: vec![libc::epoll_event { events: 0, u64: 0 }; capacity],
        })
    }

    /// Watches `fd` for reading; `key` comes back with it.
    pub fn add(&self, fd: RawFd, key: u64) -> io::Result<()> {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: key,
        };
        // SAFETY: both fds are open; event outlives the call.
        let r =
            unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        if r < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Stops watching `fd` (before it is closed or its key reused).
    pub fn remove(&self, fd: RawFd) {
        // SAFETY: a null event is allowed for EPOLL_CTL_DEL since Linux 2.6.9.
        unsafe {
            libc::epoll_ctl(
                self.epoll.as_raw_fd(),
                libc::EPOLL_CTL_DEL,
                fd,
                std::ptr::null_mut(),
            );
        }
    }

    /// The keys of the sockets with a datagram waiting, without waiting.
    pub fn ready(&mut self) -> impl Iterator<Item = u64> + '_ {
        // SAFETY: the buffer holds `len` events and lives across the call.
        let n = unsafe {
            libc::epoll_wait(
                self.epoll.as_raw_fd(),
                self.events.as_mut_ptr(),
                self.events.len() as i32,
                0,
            )
        };
        self.events[..n.max(0) as usize].iter().map(|e| e.u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::UdpSocket;

    #[test]
    fn reports_a_socket_while_it_holds_datagrams() {
        let mut readable = Readable::new(8).unwrap();
        let (a, b) = (
            UdpSocket::bind("127.0.0.1:0").unwrap(),
            UdpSocket::bind("127.0.0.1:0").unwrap(),
        );
        a.set_nonblocking(true).unwrap();
        readable.add(a.as_raw_fd(), 7).unwrap();
        assert_eq!(readable.ready().count(), 0);
        b.send_to(b"one", a.local_addr().unwrap()).unwrap();
        b.send_to(b"two", a.local_addr().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        let mut buf = [0u8; 16];
        assert_eq!(readable.ready().collect::<Vec<_>>(), vec![7]);
        a.recv_from(&mut buf).unwrap();
        // One left: reported again (level-triggered).
        assert_eq!(readable.ready().collect::<Vec<_>>(), vec![7]);
        a.recv_from(&mut buf).unwrap();
        assert_eq!(readable.ready().count(), 0);
        readable.remove(a.as_raw_fd());
        b.send_to(b"three", a.local_addr().unwrap()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(10));
        assert_eq!(readable.ready().count(), 0);
    }
}
