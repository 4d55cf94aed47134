//! The media scheduler: a few threads, each serving many calls' RTP.
//!
//! Every call's session lives on one media thread (about one per core)
//! instead of in a task with a timer of its own. A thread ticks every
//! millisecond and serves one of [`SLOTS`] phase slots per tick, so its
//! calls are spread over the 20 ms packet time rather than all sent in one
//! burst (which would make the last packet of the burst leave late). On
//! its visit a call's commands are applied, what arrived on its socket is
//! read, and its packet is built and sent; a thread that fell behind
//! catches up tick by tick, so every call still averages one packet per
//! 20 ms. Each call keeps its own socket and port: carriers latch to it.
//!
//! Nothing here blocks: sockets are non-blocking, commands and events go
//! through channels, recordings are handed to the recorder thread. A panic
//! while serving one call ends that call's media only.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc as std_mpsc};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::error::TryRecvError;
use tokio::sync::{mpsc, oneshot};

use super::driver::{MediaCommand, MediaEvent, MediaReport};
use super::poll::Readable;
use super::session::{Received, RtpSession};
use crate::codec::PTIME_MS;

/// Phase slots per packet time: one per millisecond tick.
pub const SLOTS: usize = PTIME_MS as usize;

/// How far (ms) a new call's second packet may move from the 20 ms grid
/// its first set, to land in a less crowded slot.
const MAX_SHIFT: u64 = 3;

/// Calls a slot may gain before new calls move off the grid (about 40 µs
/// of sending): few calls stay exactly on their grid.
const SHIFT_BATCH: usize = 8;

/// Readable sockets taken per tick, at most (the rest are reported at
/// the next tick).
const READY_PER_TICK: usize = 1024;

/// What the call's handle sends its session.
#[derive(Debug)]
pub(super) enum Control {
    Command(MediaCommand),
    /// End the media and send back what it saw.
    Finish(oneshot::Sender<MediaReport>),
}

/// A new call for a media thread.
pub(super) struct Adopt {
    pub socket: UdpSocket,
    pub remote: SocketAddr,
    pub session: RtpSession,
    pub controls: mpsc::UnboundedReceiver<Control>,
    pub events: mpsc::UnboundedSender<MediaEvent>,
}

/// The media threads of the process.
struct Engine {
    threads: Vec<(std_mpsc::Sender<Adopt>, Arc<AtomicUsize>)>,
}

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// Hands a call to the least loaded media thread (starting them on first use).
pub(super) fn adopt(call: Adopt) {
    let engine = ENGINE.get_or_init(|| {
        let n = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 16));
        Engine {
            threads: (0..n).map(spawn_thread).collect(),
        }
    });
    let (adopt, load) = engine
        .threads
        .iter()
        .min_by_key(|(_, load)| load.load(Ordering::Relaxed))
        .expect("at least one media thread");
    load.fetch_add(1, Ordering::Relaxed);
    if let Err(std_mpsc::SendError(call)) = adopt.send(call) {
        // The thread is gone (it never ends by itself): the call gets no
        // media, and its handle sees the channels closed.
        drop(call);
    }
}

fn spawn_thread(i: usize) -> (std_mpsc::Sender<Adopt>, Arc<AtomicUsize>) {
    let (tx, rx) = std_mpsc::channel();
    let load = Arc::new(AtomicUsize::new(0));
    let counted = load.clone();
    std::thread::Builder::new()
        .name(format!("media-{i}"))
        .spawn(move || match MediaThread::new(counted) {
            Ok(thread) => thread.run(rx),
            // Dropping rx: calls sent here see their channels closed.
            Err(e) => tracing::error!("media thread {i} cannot start: {e}"),
        })
        .expect("a media thread starts");
    (tx, load)
}

struct MediaThread {
    /// Every call on the thread; a slot and the epoll set name it by index.
    calls: Vec<Option<Call>>,
    free: Vec<usize>,
    /// Indices of the calls served at each phase slot.
    slots: Vec<Vec<usize>>,
    readable: Readable,
    /// Calls on this thread, for the engine's balancing.
    load: Arc<AtomicUsize>,
    packet: Vec<u8>,
    buf: Vec<u8>,
}

impl MediaThread {
    fn new(load: Arc<AtomicUsize>) -> std::io::Result<MediaThread> {
        Ok(MediaThread {
            calls: Vec::new(),
            free: Vec::new(),
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            readable: Readable::new(READY_PER_TICK)?,
            load,
            packet: Vec::with_capacity(256),
            buf: vec![0u8; 2048],
        })
    }

    fn count(&self) -> usize {
        self.calls.len() - self.free.len()
    }

    fn run(mut self, adopt: std_mpsc::Receiver<Adopt>) {
        let origin = Instant::now();
        let ticks = |at: Instant| (at - origin).as_millis() as u64;
        let mut tick = 0;
        loop {
            if self.count() == 0 {
                // Idle: sleep until a call comes, then count ticks from then.
                let Ok(call) = adopt.recv() else { return };
                tick = ticks(Instant::now());
                self.adopt(call, tick);
            }
            while let Ok(call) = adopt.try_recv() {
                self.adopt(call, tick);
            }
            self.receive();
            let now_tick = ticks(Instant::now());
            while tick <= now_tick {
                self.serve_slot(tick);
                tick += 1;
            }
            self.load.store(self.count(), Ordering::Relaxed);
            let next = origin + Duration::from_millis(tick);
            let now = Instant::now();
            if next > now {
                std::thread::sleep(next - now);
            }
        }
    }

    /// Sends the call's first packet at once (an answered call's message
    /// starts within a tick of the answer), then puts it in the emptiest
    /// of the slots 17 to 23 ms later: the stream keeps within 3 ms of the
    /// grid its first packet set (a far end's jitter buffer starts from
    /// it), and calls that start together are spread.
    fn adopt(&mut self, adopt: Adopt, tick: u64) {
        let mut call = Call::new(adopt, tick);
        if !self.serve(&mut call, tick) {
            return;
        }
        let index = self.free.pop().unwrap_or_else(|| {
            self.calls.push(None);
            self.calls.len() - 1
        });
        if let Err(e) = self.readable.add(call.socket.as_raw_fd(), index as u64) {
            // Without it the call would never hear the far end: end it.
            tracing::error!(remote = %call.remote, "cannot watch a call's RTP socket: {e}");
            call.close();
            self.free.push(index);
            return;
        }
        // On the grid unless a slot nearby is less crowded by a batch or
        // more (ties go to the smaller shift).
        let on_grid = tick + SLOTS as u64;
        let due = std::iter::once(on_grid)
            .chain((1..=MAX_SHIFT).flat_map(|d| [on_grid - d, on_grid + d]))
            .min_by_key(|&t| self.slots[t as usize % SLOTS].len() / SHIFT_BATCH)
            .expect("a non-empty range");
        let slot = due as usize % SLOTS;
        call.due = due;
        self.calls[index] = Some(call);
        self.slots[slot].push(index);
    }

    /// One datagram from every socket that has one, as soon as it is
    /// there: arrival times stay exact to the tick, and a flood on one
    /// port costs one read per tick.
    fn receive(&mut self) {
        let (calls, buf) = (&mut self.calls, &mut self.buf);
        for index in self.readable.ready() {
            let Some(Some(call)) = calls.get_mut(index as usize) else {
                continue;
            };
            if call.failed {
                continue;
            }
            if catch_unwind(AssertUnwindSafe(|| call.receive(buf))).is_err() {
                tracing::error!(remote = %call.remote, "media of a call failed; it gets no more RTP");
                call.failed = true;
            }
        }
    }

    fn serve_slot(&mut self, tick: u64) {
        let slot = tick as usize % SLOTS;
        let mut indices = std::mem::take(&mut self.slots[slot]);
        indices.retain(|&index| {
            let mut call = self.calls[index].take().expect("a slot names a live call");
            if self.serve(&mut call, tick) {
                self.calls[index] = Some(call);
                true
            } else {
                self.readable.remove(call.socket.as_raw_fd());
                self.free.push(index);
                false
            }
        });
        self.slots[slot] = indices;
    }

    /// Serves one call's turn; false once its media has ended.
    fn serve(&mut self, call: &mut Call, tick: u64) -> bool {
        if call.failed {
            return false;
        }
        let packet = &mut self.packet;
        match catch_unwind(AssertUnwindSafe(|| call.serve(tick, packet))) {
            Ok(alive) => alive,
            Err(_) => {
                tracing::error!(remote = %call.remote, "media of a call failed; it gets no more RTP");
                false
            }
        }
    }
}

/// A bridged leg's other side: where our audio goes, where its audio comes from.
type Peer = (mpsc::Sender<Vec<i16>>, mpsc::Receiver<Vec<i16>>);

/// One call's media on its thread.
struct Call {
    socket: UdpSocket,
    remote: SocketAddr,
    session: RtpSession,
    controls: mpsc::UnboundedReceiver<Control>,
    events: mpsc::UnboundedSender<MediaEvent>,
    report: MediaReport,
    /// The tick of the next packet.
    due: u64,
    peer: Option<Peer>,
    /// (how long, since when) for the far end's silence watch.
    silence: Option<(Duration, Instant)>,
    tap: Option<crate::record::Tap>,
    foreign_reported: bool,
    /// Its media panicked: it is dropped at its next turn.
    failed: bool,
}

impl Call {
    fn new(a: Adopt, tick: u64) -> Call {
        Call {
            socket: a.socket,
            remote: a.remote,
            session: a.session,
            controls: a.controls,
            events: a.events,
            report: MediaReport::default(),
            due: tick,
            peer: None,
            silence: None,
            tap: None,
            foreign_reported: false,
            failed: false,
        }
    }

    /// Commands, the other leg's audio, the packets due; in that order, so
    /// a packet carries the freshest of all of them.
    fn serve(&mut self, tick: u64, packet: &mut Vec<u8>) -> bool {
        loop {
            match self.controls.try_recv() {
                Ok(Control::Command(command)) => self.apply(command),
                Ok(Control::Finish(done)) => {
                    let _ = done.send(self.close());
                    return false;
                }
                Err(TryRecvError::Empty) => break,
                // The handle is gone without asking for the report.
                Err(TryRecvError::Disconnected) => {
                    self.close();
                    return false;
                }
            }
        }
        if let Some((_, from_peer)) = &mut self.peer {
            loop {
                match from_peer.try_recv() {
                    Ok(pcm) => self.session.feed(&pcm),
                    Err(TryRecvError::Empty) => break,
                    // The other leg ended: back to silence.
                    Err(TryRecvError::Disconnected) => {
                        self.session.set_relay(false);
                        self.peer = None;
                        break;
                    }
                }
            }
        }
        while self.due <= tick {
            self.send(packet);
            self.due += SLOTS as u64;
        }
        self.tape();
        if let Some((limit, since)) = self.silence
            && since.elapsed() >= limit
        {
            self.silence = None;
            let _ = self.events.send(MediaEvent::Silent(limit));
        }
        true
    }

    fn apply(&mut self, command: MediaCommand) {
        match command {
            MediaCommand::Play(audio, id) => self.session.play(audio, id),
            MediaCommand::StopPlayback => self.session.stop_playback(),
            MediaCommand::Press { key, duration_ms } => {
                self.session.press(key, duration_ms);
            }
            MediaCommand::Connect { to_peer, from_peer } => {
                self.session.stop_playback();
                self.session.set_relay(true);
                self.peer = Some((to_peer, from_peer));
            }
            MediaCommand::Disconnect => {
                self.session.set_relay(false);
                self.peer = None;
            }
            MediaCommand::WatchSilence(limit) => {
                self.silence = Some((limit, Instant::now()));
            }
            MediaCommand::Record(tap) => {
                if !self.session.is_taping() {
                    self.session.start_tape();
                }
                self.tap = Some(tap);
            }
        }
    }

    fn send(&mut self, packet: &mut Vec<u8>) {
        let finished = self.session.next_packet(packet);
        if let Err(e) = self.socket.send_to(packet, self.remote) {
            self.report.send_errors += 1;
            self.report
                .first_send_error
                .get_or_insert_with(|| e.to_string());
        }
        if let Some(id) = finished {
            let _ = self.events.send(MediaEvent::PlaybackFinished(id));
        }
    }

    /// Reads one datagram (the socket said it has one).
    fn receive(&mut self, buf: &mut [u8]) {
        let (len, from) = match self.socket.recv_from(buf) {
            Ok(got) => got,
            // WouldBlock, or an ICMP report of an earlier send: the next
            // packet tries again.
            Err(_) => return,
        };
        let received = self.session.handle_datagram(from, &buf[..len]);
        while let Some(key) = self.session.take_inband_digit() {
            let _ = self.events.send(MediaEvent::InbandDigit(key));
        }
        if !matches!(received, Received::Foreign(_))
            && let Some((_, since)) = self.silence.as_mut()
        {
            *since = Instant::now();
        }
        if let Some((to_peer, _)) = &self.peer {
            while let Some(pcm) = self.session.take_relayed() {
                // A full channel means the other leg is behind: drop.
                let _ = to_peer.try_send(pcm);
            }
        }
        match received {
            Received::Digit(key) => {
                let _ = self.events.send(MediaEvent::Digit(key));
            }
            Received::Foreign(addr) if !self.foreign_reported => {
                self.foreign_reported = true;
                let _ = self.events.send(MediaEvent::ForeignSource(addr));
            }
            _ => {}
        }
    }

    fn tape(&mut self) {
        if let Some(tap) = &mut self.tap {
            while let Some((channel, at, pcm)) = self.session.take_taped() {
                tap.chunk(channel, at, pcm);
            }
        }
    }

    /// The report of the ended media; dropping the tap finishes the recording.
    fn close(&mut self) -> MediaReport {
        self.tape();
        let mut report = std::mem::take(&mut self.report);
        report.stats = self.session.stats();
        report.recording = self.session.take_recording();
        report.recording_gaps = self.tap.take().map_or(0, |t| t.dropped);
        report
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::codec::Codec;
    use crate::rtp::{MediaSession, SessionConfig};

    fn socket() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    }

    fn session(ssrc: u32) -> RtpSession {
        RtpSession::new(SessionConfig {
            codec: Codec::Pcmu,
            dtmf_payload_type: Some(101),
            offered_dtmf_payload_type: Some(101),
            remote_ip: "127.0.0.1".parse().unwrap(),
            record_limit: None,
            ssrc,
            inband_dtmf: false,
        })
    }

    /// Arrivals per SSRC at `receiver` for `span`.
    fn arrivals(receiver: &UdpSocket, span: Duration) -> HashMap<u32, Vec<Instant>> {
        receiver
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut seen: HashMap<u32, Vec<Instant>> = HashMap::new();
        let mut buf = [0u8; 512];
        let end = Instant::now() + span;
        while Instant::now() < end {
            if let Ok((len, _)) = receiver.recv_from(&mut buf)
                && len >= 12
            {
                let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
                seen.entry(ssrc).or_default().push(Instant::now());
            }
        }
        seen
    }

    /// Calls started together are spread over the slots near their start
    /// (up to 3 ms from their first packet's grid): their packets leave at
    /// several phases, not in one burst, and each call still sends one
    /// packet per 20 ms.
    #[tokio::test]
    async fn calls_are_spread_over_the_packet_time() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        let calls: Vec<MediaSession> = (0..100)
            .map(|i| MediaSession::start(socket(), to, session(1_000 + i)))
            .collect();
        let origin = Instant::now();
        let seen =
            tokio::task::spawn_blocking(move || arrivals(&receiver, Duration::from_millis(1_000)))
                .await
                .unwrap();
        for call in calls {
            call.finish().await;
        }
        assert_eq!(seen.len(), 100, "every call sent");
        for (ssrc, times) in &seen {
            // 50 in the second; a loaded machine may lose a few to timing.
            assert!(
                times.len() >= 40,
                "call {ssrc} sent {} packets in 1 s",
                times.len()
            );
        }
        // Each call's phase: its median arrival offset within 20 ms.
        let mut phases: HashMap<u128, usize> = HashMap::new();
        for times in seen.values() {
            let mut offsets: Vec<u128> = times
                .iter()
                .map(|t| (*t - origin).as_micros() % 20_000 / 1_000)
                .collect();
            offsets.sort_unstable();
            *phases.entry(offsets[offsets.len() / 2]).or_default() += 1;
        }
        // Started within a few ms, they fill up to 7 slots per thread, 8 calls each.
        assert!(
            phases.len() >= 5 && phases.values().all(|&n| n <= 34),
            "100 calls bunched on few phases: {phases:?}"
        );
    }

    /// A port flooded with junk costs its thread one read per tick: the
    /// other calls keep their pace, and the flooded call keeps sending.
    #[tokio::test]
    async fn a_flooded_port_does_not_stall_the_others() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let to = receiver.local_addr().unwrap();
        let flooded = socket();
        let target = flooded.local_addr().unwrap();
        let calls: Vec<MediaSession> =
            std::iter::once(MediaSession::start(flooded, to, session(1)))
                .chain((2..=20).map(|i| MediaSession::start(socket(), to, session(i))))
                .collect();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flood = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                let mut sent = 0u32;
                // Bounded: at most 200,000 datagrams or until told to stop.
                while !stop.load(Ordering::Relaxed) && sent < 200_000 {
                    let _ = s.send_to(&[0x80, 0, 0, 1, 0, 0, 0, 0, 9, 9, 9, 9], target);
                    sent += 1;
                }
                sent
            })
        };
        let seen =
            tokio::task::spawn_blocking(move || arrivals(&receiver, Duration::from_millis(1_000)))
                .await
                .unwrap();
        stop.store(true, Ordering::Relaxed);
        let sent = flood.join().unwrap();
        for call in calls {
            call.finish().await;
        }
        assert!(sent > 1_000, "the flood ran ({sent} datagrams)");
        for ssrc in 1..=20 {
            let n = seen.get(&ssrc).map_or(0, Vec::len);
            assert!(
                n >= 40,
                "call {ssrc} sent {n} packets in 1 s under the flood"
            );
        }
    }
}
