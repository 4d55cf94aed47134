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
use super::rtcp::Rtcp;
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
    /// The RTCP socket and where the far end's RTCP goes, if the call has them.
    pub rtcp: Option<(UdpSocket, SocketAddr)>,
    pub session: RtpSession,
    pub controls: mpsc::UnboundedReceiver<Control>,
    pub events: mpsc::UnboundedSender<MediaEvent>,
    /// Names the call in its thread's [`Inbox`].
    pub key: u64,
}

/// Which calls of a media thread have controls waiting. A thread reads a
/// call's control channel only when its handle says so here: reading
/// every call's channel at every packet cost a cache miss each (half of a
/// visit's time at 4,000 calls).
#[derive(Debug, Default)]
pub(super) struct Inbox {
    any: std::sync::atomic::AtomicBool,
    keys: std::sync::Mutex<Vec<u64>>,
}

impl Inbox {
    /// The call `key` has something in its control channel (or its handle
    /// is gone).
    pub(super) fn mark(&self, key: u64) {
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(key);
        self.any.store(true, Ordering::Release);
    }

    fn take(&self, into: &mut Vec<u64>) {
        if self.any.swap(false, Ordering::Acquire) {
            let mut keys = self
                .keys
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            into.append(&mut keys);
        }
    }
}

/// A fresh key for [`Adopt::key`].
pub(super) fn next_key() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The media threads of the process.
struct Engine {
    threads: Vec<(std_mpsc::Sender<Adopt>, Arc<AtomicUsize>, Arc<Inbox>)>,
}

static ENGINE: OnceLock<Engine> = OnceLock::new();

/// How the media threads run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EngineSettings {
    /// Run the media threads under the real-time policy `SCHED_FIFO` at
    /// this priority (1-99), so no ordinary thread of the machine delays a
    /// packet; `None`: the ordinary policy.
    pub realtime_priority: Option<u8>,
}

/// What [`start`] could not do.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the media threads had already started (with {0:?})")]
    Started(EngineSettings),
    #[error(
        "the media threads run at the ordinary priority: the system refused real-time priority {priority}: {source} \
         (it needs CAP_SYS_NICE, or an RLIMIT_RTPRIO of at least {priority}: LimitRTPRIO= in a systemd unit, `ulimit -r`)"
    )]
    Realtime {
        priority: u8,
        source: std::io::Error,
    },
}

/// The settings the media threads started with.
static STARTED_WITH: OnceLock<EngineSettings> = OnceLock::new();

/// Starts the media threads (one per core) with `settings`, before any
/// call. Without it they start at the first call, with the defaults. An
/// error that is not [`StartError::Started`] leaves them running at the
/// ordinary priority.
pub fn start(settings: EngineSettings) -> Result<(), StartError> {
    let mut refused = None;
    let mut fresh = false;
    ENGINE.get_or_init(|| {
        fresh = true;
        let (engine, error) = spawn_engine(settings);
        refused = error;
        engine
    });
    if !fresh {
        return Err(StartError::Started(
            STARTED_WITH.get().copied().unwrap_or_default(),
        ));
    }
    match (refused, settings.realtime_priority) {
        (Some(source), Some(priority)) => Err(StartError::Realtime { priority, source }),
        _ => Ok(()),
    }
}

/// The engine's threads, and the error of the first that could not take
/// the real-time priority asked for.
fn spawn_engine(settings: EngineSettings) -> (Engine, Option<std::io::Error>) {
    let _ = STARTED_WITH.set(settings);
    let n = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 16));
    let (told, priorities) = std_mpsc::channel();
    let engine = Engine {
        threads: (0..n)
            .map(|i| spawn_thread(i, settings, told.clone()))
            .collect(),
    };
    drop(told);
    // Each thread says whether it took the policy before it serves a call.
    let refused = priorities.iter().find_map(Result::err);
    (engine, refused)
}

/// Puts the calling thread under `SCHED_FIFO` at `priority` (threads it
/// would start do not inherit it).
pub fn make_realtime(priority: u8) -> std::io::Result<()> {
    // SAFETY: sched_param is a plain C struct; all-zero is a valid value.
    let mut param: libc::sched_param = unsafe { std::mem::zeroed() };
    param.sched_priority = i32::from(priority);
    let policy = libc::SCHED_FIFO | libc::SCHED_RESET_ON_FORK;
    // SAFETY: `param` is a valid sched_param; pid 0 is the calling thread.
    if unsafe { libc::sched_setscheduler(0, policy, &param) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Hands a call to the least loaded media thread (starting them on first
/// use); returns that thread's inbox, to [`Inbox::mark`] the call in.
pub(super) fn adopt(call: Adopt) -> Arc<Inbox> {
    let engine = ENGINE.get_or_init(|| spawn_engine(EngineSettings::default()).0);
    let (adopt, load, inbox) = engine
        .threads
        .iter()
        .min_by_key(|(_, load, _)| load.load(Ordering::Relaxed))
        .expect("at least one media thread");
    load.fetch_add(1, Ordering::Relaxed);
    if let Err(std_mpsc::SendError(call)) = adopt.send(call) {
        // The thread is gone (it never ends by itself): the call gets no
        // media, and its handle sees the channels closed.
        drop(call);
    }
    inbox.clone()
}

fn spawn_thread(
    i: usize,
    settings: EngineSettings,
    told: std_mpsc::Sender<std::io::Result<()>>,
) -> (std_mpsc::Sender<Adopt>, Arc<AtomicUsize>, Arc<Inbox>) {
    let (tx, rx) = std_mpsc::channel();
    let load = Arc::new(AtomicUsize::new(0));
    let counted = load.clone();
    let inbox = Arc::new(Inbox::default());
    let read = inbox.clone();
    std::thread::Builder::new()
        .name(format!("media-{i}"))
        .spawn(move || {
            let took = settings.realtime_priority.map_or(Ok(()), make_realtime);
            let realtime = settings.realtime_priority.is_some() && took.is_ok();
            let _ = told.send(took);
            drop(told);
            match MediaThread::new(counted, read) {
                Ok(thread) => thread.run(rx, realtime),
                // Dropping rx: calls sent here see their channels closed.
                Err(e) => tracing::error!("media thread {i} cannot start: {e}"),
            }
        })
        .expect("a media thread starts");
    (tx, load, inbox)
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
    inbox: Arc<Inbox>,
    /// Each call's index in `calls`, by its key.
    keys: std::collections::HashMap<u64, usize>,
    marked: Vec<u64>,
    packet: Vec<u8>,
    buf: Vec<u8>,
}

impl MediaThread {
    fn new(load: Arc<AtomicUsize>, inbox: Arc<Inbox>) -> std::io::Result<MediaThread> {
        Ok(MediaThread {
            calls: Vec::new(),
            free: Vec::new(),
            slots: (0..SLOTS).map(|_| Vec::new()).collect(),
            readable: Readable::new(READY_PER_TICK)?,
            load,
            inbox,
            keys: std::collections::HashMap::new(),
            marked: Vec::new(),
            packet: Vec::with_capacity(256),
            buf: vec![0u8; 2048],
        })
    }

    /// Takes the controls of the calls marked in the inbox. A mark can
    /// come before its call (the handle marks right after handing the call
    /// over): the calls handed over are taken first.
    fn controls(&mut self, adopt: &std_mpsc::Receiver<Adopt>, tick: u64) {
        self.inbox.take(&mut self.marked);
        let mut marked = std::mem::take(&mut self.marked);
        for key in marked.drain(..) {
            if !self.keys.contains_key(&key) {
                while let Ok(call) = adopt.try_recv() {
                    self.adopt(call, tick);
                }
            }
            // Unknown still: the call has ended (its handle's last mark).
            if let Some(&index) = self.keys.get(&key)
                && let Some(call) = self.calls[index].as_mut()
                && !call.failed
                && catch_unwind(AssertUnwindSafe(|| call.take_controls())).is_err()
            {
                tracing::error!(remote = %call.remote, "media of a call failed; it gets no more RTP");
                call.failed = true;
            }
        }
        self.marked = marked;
    }

    fn count(&self) -> usize {
        self.calls.len() - self.free.len()
    }

    /// Serves the calls tick by tick. A `realtime` thread that has worked
    /// a whole packet time without sleeping (more calls than its core
    /// carries) still sleeps a tick now and then: under `SCHED_FIFO` no
    /// ordinary thread on its core (the SIP stack's, the store's) would
    /// run otherwise.
    fn run(mut self, adopt: std_mpsc::Receiver<Adopt>, realtime: bool) {
        let origin = Instant::now();
        let ticks = |at: Instant| (at - origin).as_millis() as u64;
        let mut tick = 0;
        let mut slept = Instant::now();
        loop {
            if self.count() == 0 {
                // Idle: sleep until a call comes, then count ticks from then.
                let Ok(call) = adopt.recv() else { return };
                tick = ticks(Instant::now());
                slept = Instant::now();
                self.adopt(call, tick);
            }
            while let Ok(call) = adopt.try_recv() {
                self.adopt(call, tick);
            }
            self.controls(&adopt, tick);
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
                slept = next;
            } else if realtime && now - slept >= Duration::from_millis(PTIME_MS as u64) {
                std::thread::sleep(Duration::from_millis(1));
                slept = Instant::now();
            }
        }
    }

    /// Sends the call's first packet at once (an answered call's message
    /// starts within a tick of the answer), then puts it in the emptiest
    /// of the slots 17 to 23 ms later: the stream keeps within 3 ms of the
    /// grid its first packet set (a far end's jitter buffer starts from
    /// it), and calls that start together are spread.
    fn adopt(&mut self, adopt: Adopt, tick: u64) {
        let key = adopt.key;
        let mut call = Call::new(adopt, tick);
        // What the handle sent before the call got here (its marks may
        // have been taken already).
        call.take_controls();
        if !serve(&mut call, tick, &mut self.packet) {
            return;
        }
        let index = self.free.pop().unwrap_or_else(|| {
            self.calls.push(None);
            self.calls.len() - 1
        });
        if let Err(e) = self.readable.add(call.socket.as_raw_fd(), rtp_key(index)) {
            // Without it the call would never hear the far end: end it.
            tracing::error!(remote = %call.remote, "cannot watch a call's RTP socket: {e}");
            call.close();
            self.free.push(index);
            return;
        }
        if let Some(rtcp) = &call.rtcp
            && let Err(e) = self.readable.add(rtcp.socket.as_raw_fd(), rtcp_key(index))
        {
            // The call goes on without the far end's reports.
            tracing::warn!(remote = %call.remote, "cannot watch a call's RTCP socket: {e}");
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
        call.key = key;
        self.calls[index] = Some(call);
        self.keys.insert(key, index);
        self.slots[slot].push(index);
    }

    /// One datagram from every socket that has one, as soon as it is
    /// there: arrival times stay exact to the tick, and a flood on one
    /// port costs one read per tick.
    fn receive(&mut self) {
        let (calls, buf) = (&mut self.calls, &mut self.buf);
        for key in self.readable.ready() {
            let Some(Some(call)) = calls.get_mut((key / 2) as usize) else {
                continue;
            };
            if call.failed {
                continue;
            }
            let read = || {
                if key % 2 == 0 {
                    call.receive(buf);
                } else {
                    call.receive_rtcp(buf);
                }
            };
            if catch_unwind(AssertUnwindSafe(read)).is_err() {
                tracing::error!(remote = %call.remote, "media of a call failed; it gets no more RTP");
                call.failed = true;
            }
        }
    }

    fn serve_slot(&mut self, tick: u64) {
        let slot = tick as usize % SLOTS;
        let mut indices = std::mem::take(&mut self.slots[slot]);
        let (calls, packet) = (&mut self.calls, &mut self.packet);
        let (readable, free, keys) = (&self.readable, &mut self.free, &mut self.keys);
        indices.retain(|&index| {
            // Served where it lies: a call is too big to move twice a visit.
            let call = calls[index].as_mut().expect("a slot names a live call");
            if serve(call, tick, packet) {
                return true;
            }
            readable.remove(call.socket.as_raw_fd());
            if let Some(rtcp) = &call.rtcp {
                readable.remove(rtcp.socket.as_raw_fd());
            }
            keys.remove(&call.key);
            calls[index] = None;
            free.push(index);
            false
        });
        self.slots[slot] = indices;
    }
}

/// Serves one call's turn; false once its media has ended.
fn serve(call: &mut Call, tick: u64, packet: &mut Vec<u8>) -> bool {
    if call.failed {
        return false;
    }
    match catch_unwind(AssertUnwindSafe(|| call.serve(tick, packet))) {
        Ok(alive) => alive,
        Err(_) => {
            tracing::error!(remote = %call.remote, "media of a call failed; it gets no more RTP");
            false
        }
    }
}

/// The epoll keys of a call's two sockets.
fn rtp_key(index: usize) -> u64 {
    index as u64 * 2
}

fn rtcp_key(index: usize) -> u64 {
    index as u64 * 2 + 1
}

/// RTCP's report interval (RFC 3550 6.2: 5 s at least, each randomized
/// over 0.5-1.5 of it); the first comes at half of it, so a call of a few
/// seconds still reports.
const RTCP_INTERVAL: Duration = Duration::from_secs(5);

fn rtcp_delay(base: Duration) -> Duration {
    base.mul_f64(rand::random_range(0.5..1.5))
}

/// A call's RTCP side.
struct RtcpLeg {
    socket: UdpSocket,
    remote: SocketAddr,
    /// A report came from the far end (its address is latched).
    heard: bool,
    state: Rtcp,
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
    /// The tick of the next RTCP report.
    rtcp_due: u64,
    peer: Option<Peer>,
    /// (how long, since when) for the far end's silence watch.
    silence: Option<(Duration, Instant)>,
    tap: Option<crate::record::Tap>,
    foreign_reported: bool,
    rtcp: Option<RtcpLeg>,
    /// One packet in this many is not sent (a simulated bad line).
    drop_one_in: Option<u32>,
    /// A packet of the far end's has come (the first one latches).
    heard: bool,
    /// On hold: nothing is sent.
    held: bool,
    /// Its media panicked: it is dropped at its next turn.
    failed: bool,
    /// Finished (or its handle is gone): it is dropped at its next turn.
    ended: bool,
    key: u64,
}

impl Call {
    fn new(a: Adopt, tick: u64) -> Call {
        let now = Instant::now();
        let rtcp = a.rtcp.map(|(socket, remote)| {
            let local = socket
                .local_addr()
                .map_or_else(|_| "dialer".into(), |l| l.ip().to_string());
            RtcpLeg {
                state: Rtcp::new(
                    a.session.ssrc(),
                    &format!("{:08x}@{local}", a.session.ssrc()),
                    now,
                ),
                socket,
                remote,
                heard: false,
            }
        });
        Call {
            // Kept in ticks beside `due`: checking it costs no clock read.
            rtcp_due: tick + rtcp_delay(RTCP_INTERVAL / 2).as_millis() as u64,
            rtcp,
            drop_one_in: None,
            heard: false,
            held: false,
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
            ended: false,
            key: 0,
        }
    }

    /// Applies what the handle sent; a finish (or the handle gone) ends
    /// the call, which leaves at its next turn.
    fn take_controls(&mut self) {
        while !self.ended {
            match self.controls.try_recv() {
                Ok(Control::Command(command)) => self.apply(command),
                Ok(Control::Finish(done)) => {
                    let _ = done.send(self.close());
                    self.ended = true;
                }
                Err(TryRecvError::Empty) => break,
                // The handle is gone without asking for the report.
                Err(TryRecvError::Disconnected) => {
                    self.close();
                    self.ended = true;
                }
            }
        }
    }

    /// Commands, the other leg's audio, the packets due; in that order, so
    /// a packet carries the freshest of all of them.
    fn serve(&mut self, tick: u64, packet: &mut Vec<u8>) -> bool {
        if self.ended {
            return false;
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
            if let Some((to_peer, _)) = &self.peer {
                // The far end's next 20 ms, out of the jitter buffer, to
                // the other leg; a full channel means it is behind: drop.
                self.session.relay_tick(Instant::now());
                while let Some(pcm) = self.session.take_relayed() {
                    let _ = to_peer.try_send(pcm);
                }
            }
            if self.held {
                self.session.hold_frame();
            } else {
                self.send(packet);
            }
            self.due += SLOTS as u64;
        }
        if self.held
            && let Some((_, since)) = self.silence.as_mut()
        {
            *since = Instant::now();
        }
        self.tape();
        if self.rtcp.is_some() && tick >= self.rtcp_due {
            self.rtcp_due = tick + rtcp_delay(RTCP_INTERVAL).as_millis() as u64;
            self.report_rtcp(false);
        }
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
            MediaCommand::DropOneIn(n) => self.drop_one_in = (n > 1).then_some(n),
            MediaCommand::Retarget(remote) => {
                self.remote = remote;
                self.session.set_remote_ip(remote.ip());
                // The new address's first packet may latch again (a NAT).
                self.heard = false;
                if let Some(rtcp) = &mut self.rtcp {
                    rtcp.remote = SocketAddr::new(remote.ip(), remote.port().saturating_add(1));
                    rtcp.heard = false;
                }
            }
            MediaCommand::Hold(held) => self.held = held,
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
        // Empty while a packet longer than 20 ms is still filling.
        if !packet.is_empty() {
            let dropped = self
                .drop_one_in
                .is_some_and(|n| self.session.stats().sent.is_multiple_of(u64::from(n)));
            if !dropped && let Err(e) = self.socket.send_to(packet, self.remote) {
                self.report.send_errors += 1;
                self.report
                    .first_send_error
                    .get_or_insert_with(|| e.to_string());
            }
        }
        // Only once its last packet is on the wire: a call that hangs up
        // when its message ends must not cut the message's end off.
        if let Some(id) = finished {
            let _ = self.events.send(MediaEvent::PlaybackFinished(id));
        }
    }

    /// Sends a report (at the end, the last one, with BYE).
    fn report_rtcp(&mut self, last: bool) {
        let Some(rtcp) = &mut self.rtcp else { return };
        let now = Instant::now();
        let stats = self.session.stats();
        let packet = rtcp.state.report(
            now,
            std::time::SystemTime::now(),
            (stats.sent, stats.sent_octets),
            self.session.next_timestamp(),
            last,
        );
        // Lost reports are not worth a retry: the next one says it all.
        let _ = rtcp.socket.send_to(&packet, rtcp.remote);
    }

    /// Reads one RTCP datagram.
    fn receive_rtcp(&mut self, buf: &mut [u8]) {
        let Some(rtcp) = &mut self.rtcp else { return };
        let Ok((len, from)) = rtcp.socket.recv_from(buf) else {
            return;
        };
        if from.ip() != self.remote.ip() {
            return;
        }
        // A report that does not parse is dropped; the call goes on.
        let taken = rtcp
            .state
            .on_rtcp(&buf[..len], Instant::now(), std::time::SystemTime::now());
        if taken.is_ok() && !rtcp.heard {
            // As for RTP: reports go back where the first real one came from.
            rtcp.heard = true;
            rtcp.remote = from;
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
        let arrived = Instant::now();
        let received = self.session.handle_datagram(arrived, from, &buf[..len]);
        let heard = matches!(
            received,
            Received::Audio | Received::Digit(_) | Received::DigitRepeat
        );
        if heard && !self.heard {
            self.heard = true;
            // Symmetric RTP: the far end's first packet says where it
            // really is (another port of its SDP's address, or with
            // `Latch::Address` another address: a NAT's). Our audio goes there.
            if from != self.remote && self.session.latch() != super::Latch::Off {
                self.remote = from;
                self.report.latched = Some(from);
            }
        }
        if let Some(rtcp) = &mut self.rtcp
            && heard
            && len >= 12
        {
            let b = &buf[..12];
            rtcp.state.on_rtp(
                u32::from_be_bytes([b[8], b[9], b[10], b[11]]),
                u16::from_be_bytes([b[2], b[3]]),
                u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
                arrived,
            );
        }
        while let Some(key) = self.session.take_inband_digit() {
            let _ = self.events.send(MediaEvent::InbandDigit(key));
        }
        if !matches!(received, Received::Foreign(_))
            && let Some((_, since)) = self.silence.as_mut()
        {
            *since = arrived;
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
        self.report_rtcp(true);
        let mut report = std::mem::take(&mut self.report);
        report.quality = self.rtcp.as_ref().map(|r| r.state.quality());
        report.stats = self.session.stats();
        report.recording = self.session.take_recording();
        report.recording_gaps = self.tap.take().map_or(0, |t| t.dropped);
        report
    }
}

#[cfg(test)]
mod tests;
