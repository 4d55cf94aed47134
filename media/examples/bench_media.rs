//! How many calls can play a prompt at once, and at what cost per packet:
//! the media engine (a few threads, phase slots) side by side with a
//! tokio task and timer per call, in the same run.
//!
//! ```sh
//! cargo run -p media --release --example bench_media -- [SECONDS] [CALLS...] [--only tokio|engine|rtp-only|floor] [--realtime PRIORITY]
//! ```
//!
//! `--realtime PRIORITY` runs every way's senders (the media threads, the
//! tokio workers, the floor's threads) under `SCHED_FIFO` at PRIORITY, as
//! `[media] realtime_priority` does for the dialer; the receiver stays at
//! the ordinary priority. Its arrival stamps are the kernel's, taken as
//! each packet is sent, so its own delays do not count; but senders that
//! keep both cores busy starve it, and its socket buffer then overflows:
//! those packets count lost. (A real-time receiver fared worse in a trial:
//! with the senders it can use up the kernel's real-time budget, 95% of
//! the CPU time, and every real-time thread then waits out the second.)
//!
//! Four ways: a tokio task and timer per call; the engine as the dialer
//! runs calls (RTP and RTCP sockets); the engine with RTP sockets only (as
//! the baseline has); and the floor: a thread per core sending ready-made
//! packets from the same sockets on the same phase slots, with nothing
//! else (no session, no reads, no commands), which is what the kernel's
//! UDP path costs on this machine. Each count ends with each way's cost
//! per packet over the floor's.
//!
//! Every call has its own socket (its own port, as with a carrier) and
//! plays a long prompt to one receiver socket on loopback. The receiver
//! thread timestamps every packet; for each call, each packet's deviation
//! from that call's 20 ms grid is measured (the grid placed at the call's
//! median offset, so a late first packet does not skew it). CPU is the
//! process's minus the receiver's, from /proc, over the measured seconds;
//! memory per call is the growth of the process's resident memory and of
//! the kernel's slab while the calls are up, divided by the calls.

// A benchmark reads the clock.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use media::Codec;
use media::rtp::{MediaSession, RtpSession, SessionConfig};

const RAMP: Duration = Duration::from_secs(1);
const WARM_UP: Duration = Duration::from_secs(2);

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `--only MODE` runs one of them (for profiling).
    let only = args.iter().position(|a| a == "--only").map(|i| {
        args.remove(i);
        args.remove(i)
    });
    let realtime: Option<u8> = args.iter().position(|a| a == "--realtime").map(|i| {
        args.remove(i);
        args.remove(i).parse().expect("--realtime PRIORITY (1-99)")
    });
    if let Err(e) = media::rtp::engine::start(media::rtp::engine::EngineSettings {
        realtime_priority: realtime,
    }) {
        panic!("--realtime: {e}");
    }
    let seconds: u64 = args.first().map_or(10, |s| s.parse().expect("SECONDS"));
    let counts: Vec<usize> = if args.len() > 1 {
        args[1..]
            .iter()
            .map(|s| s.parse().expect("CALLS"))
            .collect()
    } else {
        vec![500, 1_000, 2_000, 4_000]
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "{cores} cores, {seconds} s measured per run after {} s of ramp and warm-up, senders {}",
        (RAMP + WARM_UP).as_secs(),
        realtime.map_or("at the ordinary priority".to_string(), |p| format!(
            "under SCHED_FIFO {p}"
        ))
    );
    println!(
        "{:<7} {:>6} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8}",
        "mode",
        "calls",
        "packets",
        "lost",
        "cpu %",
        "µs/pkt",
        "p50 ms",
        "p99 ms",
        "max ms",
        "KB/call"
    );
    for &n in &counts {
        let mut costs = Vec::new();
        for mode in [Mode::Tokio, Mode::Engine, Mode::EngineRtpOnly, Mode::Floor] {
            if only.as_ref().is_some_and(|o| o != mode.name()) {
                continue;
            }
            let r = run(mode, n, Duration::from_secs(seconds), cores, realtime);
            costs.push((mode, r.us_per_packet));
            println!(
                "{:<7} {:>6} {:>9} {:>8} {:>9.1} {:>9.2} {:>9.3} {:>9.3} {:>8.2} {:>8.1}",
                mode.name(),
                n,
                r.packets,
                r.lost,
                r.cpu_share * 100.0,
                r.us_per_packet,
                r.p50_ms,
                r.p99_ms,
                r.max_ms,
                r.kb_per_call
            );
        }
        if let Some(&(_, floor)) = costs.iter().find(|(m, _)| *m == Mode::Floor) {
            let ratios: Vec<String> = costs
                .iter()
                .filter(|(m, _)| *m != Mode::Floor)
                .map(|(m, us)| format!("{} {:.2}x", m.name(), us / floor))
                .collect();
            if !ratios.is_empty() {
                println!(
                    "{n} calls, cost per packet over the floor's: {}",
                    ratios.join(", ")
                );
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Tokio,
    /// As the dialer runs calls: RTP and RTCP sockets.
    Engine,
    /// RTP sockets only, as the tokio baseline has.
    EngineRtpOnly,
    /// Ready-made packets sent on the phase slots, nothing else.
    Floor,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Tokio => "tokio",
            Mode::Engine => "engine",
            Mode::EngineRtpOnly => "rtp-only",
            Mode::Floor => "floor",
        }
    }
}

struct Measured {
    packets: u64,
    /// Sequence numbers never seen, over the measured window.
    lost: u64,
    /// Senders' CPU time over wall time of all cores.
    cpu_share: f64,
    us_per_packet: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    kb_per_call: f64,
}

fn session(ssrc: u32) -> RtpSession {
    RtpSession::new(SessionConfig {
        codec: Codec::Pcmu,
        dtmf_payload_type: Some(101),
        offered_dtmf_payload_type: Some(101),
        remote_ip: "127.0.0.1".parse().expect("ip"),
        record_limit: None,
        ssrc,
        inband_dtmf: false,
        ptime_ms: 20,
    })
}

/// A minute of a tone, coded once and shared by every call.
fn prompt() -> Arc<[u8]> {
    let pcm: Vec<i16> = (0..8_000 * 60)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16)
        .collect();
    let mut coded = Vec::new();
    Codec::Pcmu.encode(&pcm, &mut coded);
    coded.into()
}

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind a call's socket");
    s.set_nonblocking(true).expect("non-blocking");
    s
}

fn run(mode: Mode, n: usize, measure: Duration, cores: usize, realtime: Option<u8>) -> Measured {
    // The receiver, and a socket on the port above it that takes the
    // calls' RTCP reports, as a carrier would (a closed port would answer
    // each with an ICMP error). Ports are tried until both are free.
    let (receiver, _rtcp) = (0..100)
        .find_map(|_| {
            let rtp = UdpSocket::bind("127.0.0.1:0").ok()?;
            let port = rtp.local_addr().ok()?.port();
            let rtcp = UdpSocket::bind(("127.0.0.1", port.checked_add(1)?)).ok()?;
            Some((rtp, rtcp))
        })
        .expect("a free pair of ports for the receiver");
    let to = receiver.local_addr().expect("receiver address");
    let started = Instant::now();
    let measure_from = started + RAMP + WARM_UP;
    let measure_to = measure_from + measure;
    let stop = Arc::new(AtomicBool::new(false));
    let rx = {
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("receiver".into())
            .spawn(move || receive(receiver, measure_from, measure_to, &stop))
            .expect("receiver thread")
    };
    let (rss0, slab0) = (rss_kb(), slab_kb());
    let audio = prompt();
    let mut held_kb = (0_i64, 0_i64);
    let cpu_window;
    match mode {
        Mode::Engine | Mode::EngineRtpOnly => {
            let mut calls = Vec::with_capacity(n);
            for i in 0..n {
                pace(started, i, n);
                let mut s = session(i as u32);
                s.play(audio.clone(), 0);
                // As a call has them: RTP and RTCP sockets (the receiver's
                // port above takes the few reports, or refuses them).
                calls.push(if mode == Mode::Engine {
                    let pair = media::rtp::PortPair {
                        rtp: socket(),
                        rtcp: socket(),
                    };
                    MediaSession::start_pair(pair, to, s)
                } else {
                    MediaSession::start(socket(), to, s)
                });
            }
            cpu_window = window(measure_from, measure_to, || {
                held_kb = (rss_kb() - rss0, slab_kb() - slab0);
            });
            drop(calls);
        }
        Mode::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(cores)
                .on_thread_start(move || {
                    if let Some(p) = realtime {
                        media::rtp::engine::make_realtime(p).expect("a real-time tokio worker");
                    }
                })
                .enable_all()
                .build()
                .expect("runtime");
            let done = Arc::new(tokio::sync::Notify::new());
            for i in 0..n {
                pace(started, i, n);
                let (audio, done) = (audio.clone(), done.clone());
                let std = socket();
                rt.spawn(async move {
                    let socket = tokio::net::UdpSocket::from_std(std).expect("tokio socket");
                    let mut s = session(i as u32);
                    s.play(audio, 0);
                    let mut tick = tokio::time::interval(Duration::from_millis(20));
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
                    let mut packet = Vec::with_capacity(256);
                    let mut buf = [0u8; 2048];
                    let ended = done.notified();
                    tokio::pin!(ended);
                    loop {
                        tokio::select! {
                            _ = &mut ended => break,
                            _ = tick.tick() => {
                                s.next_packet(&mut packet);
                                let _ = socket.send_to(&packet, to).await;
                            }
                            got = socket.recv_from(&mut buf) => {
                                if let Ok((len, from)) = got {
                                    s.handle_datagram(std::time::Instant::now(), from, &buf[..len]);
                                }
                            }
                        }
                    }
                });
            }
            cpu_window = window(measure_from, measure_to, || {
                held_kb = (rss_kb() - rss0, slab_kb() - slab0);
            });
            done.notify_waiters();
            rt.shutdown_timeout(Duration::from_secs(2));
        }
        Mode::Floor => {
            let mut shares: Vec<Vec<UdpSocket>> = (0..cores).map(|_| Vec::new()).collect();
            for i in 0..n {
                pace(started, i, n);
                shares[i % cores].push(socket());
            }
            let done = Arc::new(AtomicBool::new(false));
            let senders: Vec<_> = shares
                .into_iter()
                .enumerate()
                .map(|(t, share)| {
                    let (audio, done) = (audio.clone(), done.clone());
                    std::thread::spawn(move || {
                        if let Some(p) = realtime {
                            media::rtp::engine::make_realtime(p).expect("a real-time floor thread");
                        }
                        floor(share, t, cores, to, &audio, &done)
                    })
                })
                .collect();
            cpu_window = window(measure_from, measure_to, || {
                held_kb = (rss_kb() - rss0, slab_kb() - slab0);
            });
            done.store(true, Ordering::Relaxed);
            for s in senders {
                s.join().expect("floor sender");
            }
        }
    }
    stop.store(true, Ordering::Relaxed);
    let got = rx.join().expect("receiver");
    let (process_cpu, wall) = cpu_window;
    let sender_cpu = (process_cpu - got.cpu).max(0.0);
    let mut deviations = got.deviations;
    deviations.sort_by(f64::total_cmp);
    let at = |q: f64| {
        deviations
            .get(((deviations.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(f64::NAN)
    };
    Measured {
        packets: got.packets,
        lost: got.lost,
        cpu_share: sender_cpu / (wall * cores as f64),
        us_per_packet: sender_cpu * 1e6 / got.packets.max(1) as f64,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
        max_ms: deviations.last().copied().unwrap_or(f64::NAN),
        kb_per_call: (held_kb.0 + held_kb.1) as f64 / n as f64,
    }
}

/// The floor's sender thread `t` of `threads`: the calls `t`, `t +
/// threads`, ... each send a packet every 20 ms in their phase slot of a
/// 1 ms tick, a PCMU header and 160 bytes of the prompt, and nothing more.
fn floor(
    sockets: Vec<UdpSocket>,
    t: usize,
    threads: usize,
    to: std::net::SocketAddr,
    audio: &[u8],
    done: &AtomicBool,
) {
    let mut slots: Vec<Vec<(UdpSocket, u32, u16)>> = (0..20).map(|_| Vec::new()).collect();
    for (k, s) in sockets.into_iter().enumerate() {
        let ssrc = (k * threads + t) as u32;
        slots[ssrc as usize % 20].push((s, ssrc, 0));
    }
    let mut packet = [0u8; 12 + 160];
    packet[0] = 0x80;
    let started = Instant::now();
    let mut tick: usize = 0;
    while !done.load(Ordering::Relaxed) {
        for (socket, ssrc, seq) in &mut slots[tick % 20] {
            let at = (usize::from(*seq) * 160) % (audio.len() - 160);
            packet[2..4].copy_from_slice(&seq.to_be_bytes());
            packet[4..8].copy_from_slice(&(u32::from(*seq) * 160).to_be_bytes());
            packet[8..12].copy_from_slice(&ssrc.to_be_bytes());
            packet[12..].copy_from_slice(&audio[at..at + 160]);
            let _ = socket.send_to(&packet, to);
            *seq = seq.wrapping_add(1);
        }
        tick += 1;
        let next = started + Duration::from_millis(tick as u64);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}

/// Starts calls evenly over the ramp, as a campaign start would.
fn pace(started: Instant, i: usize, n: usize) {
    let at = started + RAMP.mul_f64(i as f64 / n as f64);
    let now = Instant::now();
    if at > now {
        std::thread::sleep(at - now);
    }
}

/// Waits for the measured window; returns the process's CPU seconds over
/// it and its wall seconds. `during` runs in the middle of it.
fn window(from: Instant, to: Instant, mut during: impl FnMut()) -> (f64, f64) {
    std::thread::sleep(from.saturating_duration_since(Instant::now()));
    let (cpu0, t0) = (process_cpu(), Instant::now());
    std::thread::sleep(to.saturating_duration_since(Instant::now()) / 2);
    during();
    std::thread::sleep(to.saturating_duration_since(Instant::now()));
    (process_cpu() - cpu0, t0.elapsed().as_secs_f64())
}

struct Received {
    packets: u64,
    lost: u64,
    /// |deviation| from each call's grid, ms, of every packet in the window.
    deviations: Vec<f64>,
    /// The receiver thread's CPU seconds over the window.
    cpu: f64,
}

fn receive(socket: UdpSocket, from: Instant, to: Instant, stop: &AtomicBool) -> Received {
    let mut kernel = KernelReceiver::new(&socket);
    // Per call: the first sequence number seen, and (sequence since, arrival) pairs.
    let mut calls: HashMap<u32, (u16, Vec<(u32, f64)>)> = HashMap::new();
    let mut cpu0 = None;
    let mut cpu = 0.0;
    while !stop.load(Ordering::Relaxed) {
        let got = kernel.receive();
        if got < BATCH {
            // Let packets gather rather than be woken for each: a sleeping
            // reader makes every sender pay for waking it. The stamps say
            // when each packet came.
            std::thread::sleep(Duration::from_micros(500));
        }
        let now = Instant::now();
        if now < from {
            continue;
        }
        if now >= to {
            if let Some(c0) = cpu0.take() {
                cpu = thread_cpu() - c0;
            }
            continue;
        }
        if cpu0.is_none() {
            cpu0 = Some(thread_cpu());
        }
        for i in 0..got {
            let (packet, at) = kernel.packet(i);
            if packet.len() < 12 || packet[1] & 0x7f != 0 {
                continue; // not a PCMU packet
            }
            let seq = u16::from_be_bytes([packet[2], packet[3]]);
            let ssrc = u32::from_be_bytes([packet[8], packet[9], packet[10], packet[11]]);
            let (first, arrivals) = calls.entry(ssrc).or_insert_with(|| (seq, Vec::new()));
            arrivals.push((u32::from(seq.wrapping_sub(*first)), at));
        }
    }
    let mut packets = 0;
    let mut lost = 0;
    let mut deviations = Vec::new();
    for (_, arrivals) in calls.values() {
        packets += arrivals.len() as u64;
        let last = arrivals.iter().map(|a| a.0).max().unwrap_or(0);
        lost += u64::from(last + 1).saturating_sub(arrivals.len() as u64);
        // Offset of each packet from its slot, relative to the first arrival.
        let t0 = arrivals[0].1;
        let mut offsets: Vec<f64> = arrivals
            .iter()
            .map(|(n, at)| (at - t0) * 1e3 - f64::from(*n) * 20.0)
            .collect();
        let mut sorted = offsets.clone();
        sorted.sort_by(f64::total_cmp);
        let median = sorted[sorted.len() / 2];
        for o in &mut offsets {
            *o = (*o - median).abs();
        }
        deviations.extend(offsets);
    }
    Received {
        packets,
        lost,
        deviations,
        cpu,
    }
}

/// Datagrams per `recvmmsg`.
const BATCH: usize = 64;

/// The measuring side: reads datagrams in batches with the kernel's
/// arrival stamp (`SO_TIMESTAMPNS`), so a receiver that was descheduled
/// for a moment does not count as late sending. On loopback the stamp is
/// taken as the sender's `sendto` delivers the packet.
struct KernelReceiver {
    fd: i32,
    bufs: Vec<[u8; 256]>,
    controls: Vec<[u8; 64]>,
    iovecs: Vec<libc::iovec>,
    headers: Vec<libc::mmsghdr>,
}

impl KernelReceiver {
    fn new(socket: &UdpSocket) -> KernelReceiver {
        use std::os::fd::AsRawFd;
        let fd = socket.as_raw_fd();
        let on: libc::c_int = 1;
        let buffer: libc::c_int = 64 << 20;
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: fd is an open socket; the option values live across the calls.
        unsafe {
            let p = |v: &libc::c_int| (v as *const libc::c_int).cast::<libc::c_void>();
            if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, p(&buffer), size) != 0 {
                libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, p(&buffer), size);
            }
            assert_eq!(
                libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, p(&on), size),
                0,
                "SO_TIMESTAMPNS"
            );
        }
        let mut r = KernelReceiver {
            fd,
            bufs: vec![[0; 256]; BATCH],
            controls: vec![[0; 64]; BATCH],
            // SAFETY: plain C structs, all-zero is a valid value.
            iovecs: vec![unsafe { std::mem::zeroed() }; BATCH],
            headers: vec![unsafe { std::mem::zeroed() }; BATCH],
        };
        for i in 0..BATCH {
            r.iovecs[i] = libc::iovec {
                iov_base: r.bufs[i].as_mut_ptr().cast(),
                iov_len: r.bufs[i].len(),
            };
        }
        r
    }

    /// Reads what is there without waiting; the number of datagrams read.
    fn receive(&mut self) -> usize {
        for i in 0..BATCH {
            let h = &mut self.headers[i].msg_hdr;
            h.msg_iov = &mut self.iovecs[i];
            h.msg_iovlen = 1;
            h.msg_control = self.controls[i].as_mut_ptr().cast();
            h.msg_controllen = self.controls[i].len() as _;
            h.msg_name = std::ptr::null_mut();
            h.msg_namelen = 0;
        }
        // SAFETY: every header points at buffers owned by self, sized as declared.
        let n = unsafe {
            libc::recvmmsg(
                self.fd,
                self.headers.as_mut_ptr(),
                BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        n.max(0) as usize
    }

    /// The i-th datagram of the last batch and its arrival, in seconds.
    fn packet(&self, i: usize) -> (&[u8], f64) {
        let header = &self.headers[i];
        let len = header.msg_len as usize;
        let mut at = f64::NAN;
        // SAFETY: the control buffer was filled by recvmmsg; the CMSG
        // macros walk it within msg_controllen.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&header.msg_hdr);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>());
                    at = ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9;
                }
                c = libc::CMSG_NXTHDR(&header.msg_hdr, c);
            }
        }
        (&self.bufs[i][..len.min(256)], at)
    }
}

/// utime + stime of a /proc stat line, in seconds.
fn stat_seconds(stat: &str) -> f64 {
    // Fields after the command name (which is in parentheses).
    let rest = &stat[stat.rfind(')').map_or(0, |i| i + 2)..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().unwrap_or(0.0) + fields[12].parse::<f64>().unwrap_or(0.0);
    ticks / 100.0 // USER_HZ
}

fn process_cpu() -> f64 {
    stat_seconds(&std::fs::read_to_string("/proc/self/stat").unwrap_or_default())
}

fn thread_cpu() -> f64 {
    stat_seconds(&std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default())
}

fn meminfo_kb(path: &str, key: &str) -> i64 {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_kb() -> i64 {
    meminfo_kb("/proc/self/status", "VmRSS:")
}

/// The kernel's slab (sockets, their files and buffers), machine-wide.
fn slab_kb() -> i64 {
    meminfo_kb("/proc/meminfo", "Slab:")
}
