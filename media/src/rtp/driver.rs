//! The call's side of its media: a handle to the session running on a
//! media thread ([`super::engine`]).
//!
//! The session sends one packet every 20 ms on a fixed schedule, reads
//! whatever arrives, and talks to the call through two channels: commands
//! in, events out. Dropping the [`MediaSession`] or calling
//! [`MediaSession::finish`] ends it.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use super::engine::{self, Adopt, Control};
use super::ports::PortPair;
use super::rtcp::CallQuality;
use super::session::{RtpSession, RtpStats};

/// What the call asks of its media.
#[derive(Debug)]
pub enum MediaCommand {
    /// Play coded audio from its start, replacing what is playing; the id
    /// comes back in [`MediaEvent::PlaybackFinished`].
    Play(Arc<[u8]>, u64),
    StopPlayback,
    /// Send a key press as RFC 4733 events.
    Press {
        key: char,
        duration_ms: u32,
    },
    /// Bridge to another leg: send its audio (`from_peer`) instead of
    /// prompts, and hand what this leg hears to it (`to_peer`).
    Connect {
        to_peer: mpsc::Sender<Vec<i16>>,
        from_peer: mpsc::Receiver<Vec<i16>>,
    },
    /// End the bridge; back to prompts and silence.
    Disconnect,
    /// Record both directions into this recording, from now or from when
    /// [`RtpSession::start_tape`] was called on the session before its task
    /// started (it is finished when the media ends).
    Record(crate::record::Tap),
    /// Report [`MediaEvent::Silent`] once if nothing comes from the far end
    /// for this long (measured from now and from each packet heard).
    WatchSilence(Duration),
    /// Build but do not send one packet in this many (the simulated
    /// carrier's bad line: the far end sees the gaps in the sequence).
    DropOneIn(u32),
    /// The far end moved its audio here (re-INVITE); RTCP goes to the
    /// port above.
    Retarget(SocketAddr),
    /// On hold (true): send nothing, keep the playback where it is, and do
    /// not count the far end's silence. Off hold: go on.
    Hold(bool),
}

/// Chunks of audio in flight between two bridged legs, at most (about
/// 0.3 s); a stalled leg drops audio rather than delaying it.
const BRIDGE_CHANNEL_FRAMES: usize = 16;

/// What the media tells the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The playback with this id played to its end (not when stopped or replaced).
    PlaybackFinished(u64),
    /// A new key press from the far end.
    Digit(char),
    /// The first packet from an address other than the far end's (later
    /// ones are only counted).
    ForeignSource(SocketAddr),
    /// No RTP from the far end for the watched time ([`MediaCommand::WatchSilence`]).
    Silent(Duration),
    /// A key press heard in the far end's audio (in-band DTMF).
    InbandDigit(char),
}

/// The media side of a finished call.
#[derive(Debug, Default)]
pub struct MediaReport {
    pub stats: RtpStats,
    /// The far end's audio, when the session was recording.
    pub recording: Option<Vec<i16>>,
    /// Sends that failed (the first error is kept for the log).
    pub send_errors: u64,
    pub first_send_error: Option<String>,
    /// Recorded chunks the writer was too far behind to take.
    pub recording_gaps: u64,
    /// Loss, jitter and round trip both ways, when the call had RTCP.
    pub quality: Option<CallQuality>,
    /// Where the far end's audio came from, when that was not the port its
    /// SDP gave and our audio went there instead (symmetric RTP, for a far
    /// end behind NAT).
    pub latched: Option<SocketAddr>,
}

/// A running media task for one call.
#[derive(Debug)]
pub struct MediaSession {
    controls: mpsc::UnboundedSender<Control>,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    next_playback: u64,
    /// The media thread reads `controls` when the call is marked here.
    inbox: Arc<engine::Inbox>,
    key: u64,
}

impl Drop for MediaSession {
    fn drop(&mut self) {
        // The thread sees the channel closed (and ends the call) once told.
        self.inbox.mark(self.key);
    }
}

impl MediaSession {
    /// Starts sending to `remote` from `socket` (non-blocking) at once
    /// (the first packet leaves within a millisecond) and reading what
    /// arrives, on a media thread.
    pub fn start(socket: UdpSocket, remote: SocketAddr, session: RtpSession) -> MediaSession {
        MediaSession::adopt(socket, None, remote, session)
    }

    /// [`MediaSession::start`] with RTCP too: reports go to the port above
    /// `remote`'s (RFC 3550's pair) from `ports.rtcp`, and the far end's
    /// are read there; [`MediaReport::quality`] has what they said.
    pub fn start_pair(ports: PortPair, remote: SocketAddr, session: RtpSession) -> MediaSession {
        let rtcp_remote = SocketAddr::new(remote.ip(), remote.port().wrapping_add(1));
        MediaSession::adopt(ports.rtp, Some((ports.rtcp, rtcp_remote)), remote, session)
    }

    fn adopt(
        socket: UdpSocket,
        rtcp: Option<(UdpSocket, SocketAddr)>,
        remote: SocketAddr,
        session: RtpSession,
    ) -> MediaSession {
        let (controls, control_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let key = engine::next_key();
        let inbox = engine::adopt(Adopt {
            socket,
            remote,
            rtcp,
            session,
            controls: control_rx,
            events: event_tx,
            key,
        });
        MediaSession {
            controls,
            events,
            inbox,
            key,
            // Ids of playbacks started on the session before it was handed
            // over (see `RtpSession::play`) are below this.
            next_playback: 1 << 32,
        }
    }

    /// Plays `audio`; returns the id its [`MediaEvent::PlaybackFinished`] will carry.
    pub fn play(&mut self, audio: Arc<[u8]>) -> u64 {
        self.next_playback += 1;
        self.send(MediaCommand::Play(audio, self.next_playback));
        self.next_playback
    }

    pub fn stop_playback(&self) {
        self.send(MediaCommand::StopPlayback);
    }

    pub fn press(&self, key: char, duration_ms: u32) {
        self.send(MediaCommand::Press { key, duration_ms });
    }

    /// Bridges two calls' media: each leg sends what the other hears,
    /// transcoded to its own codec. Media stays anchored here, so both legs
    /// keep their own RTP ports, sequence numbers and timestamps.
    pub fn bridge(a: &MediaSession, b: &MediaSession) {
        let (a_to_b, b_from_a) = mpsc::channel(BRIDGE_CHANNEL_FRAMES);
        let (b_to_a, a_from_b) = mpsc::channel(BRIDGE_CHANNEL_FRAMES);
        a.send(MediaCommand::Connect {
            to_peer: a_to_b,
            from_peer: a_from_b,
        });
        b.send(MediaCommand::Connect {
            to_peer: b_to_a,
            from_peer: b_from_a,
        });
    }

    /// Records both directions of the call from now on.
    pub fn record(&self, tap: crate::record::Tap) {
        self.send(MediaCommand::Record(tap));
    }

    pub fn disconnect(&self) {
        self.send(MediaCommand::Disconnect);
    }

    /// Reports [`MediaEvent::Silent`] after `limit` without a packet from the far end.
    pub fn watch_silence(&self, limit: Duration) {
        self.send(MediaCommand::WatchSilence(limit));
    }

    /// Simulates a lossy line: one packet in `n` is not sent (0 or 1: none).
    pub fn drop_one_in(&self, n: u32) {
        self.send(MediaCommand::DropOneIn(n));
    }

    /// See [`MediaCommand::Retarget`].
    pub fn retarget(&self, remote: SocketAddr) {
        self.send(MediaCommand::Retarget(remote));
    }

    /// See [`MediaCommand::Hold`].
    pub fn hold(&self, held: bool) {
        self.send(MediaCommand::Hold(held));
    }

    pub fn send(&self, command: MediaCommand) {
        // The session only ends when this handle goes away, so it is listening.
        let _ = self.controls.send(Control::Command(command));
        self.inbox.mark(self.key);
    }

    /// The next event; pending forever once the media has ended.
    pub async fn event(&mut self) -> MediaEvent {
        match self.events.recv().await {
            Some(event) => event,
            None => std::future::pending().await,
        }
    }

    /// Stops the task and returns what it saw.
    pub async fn finish(self) -> MediaReport {
        let (done, report) = oneshot::channel();
        let _ = self.controls.send(Control::Finish(done));
        self.inbox.mark(self.key);
        report.await.unwrap_or_else(|_| MediaReport {
            first_send_error: Some("the call's media failed (see the log)".into()),
            ..MediaReport::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Codec;
    use crate::rtp::SessionConfig;

    fn config(ssrc: u32, record: bool) -> SessionConfig {
        SessionConfig {
            codec: Codec::Pcmu,
            dtmf_payload_type: Some(101),
            offered_dtmf_payload_type: Some(101),
            remote_ip: "127.0.0.1".parse().unwrap(),
            record_limit: record.then_some(8_000 * 10),
            ssrc,
            inband_dtmf: false,
            ptime_ms: 20,
        }
    }

    fn socket() -> UdpSocket {
        let s = UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_nonblocking(true).unwrap();
        s
    }

    fn tone(hz: f64, codec: Codec, seconds: f64) -> Arc<[u8]> {
        let pcm: Vec<i16> = (0..(8_000.0 * seconds) as usize)
            .map(|i| ((i as f64 * hz * std::f64::consts::TAU / 8_000.0).sin() * 8_000.0) as i16)
            .collect();
        let mut coded = Vec::new();
        codec.encode(&pcm, &mut coded);
        coded.into()
    }

    /// The frequency of a recorded tone, from its zero crossings.
    fn frequency(samples: &[i16]) -> f64 {
        let crossings = samples
            .windows(2)
            .filter(|w| (w[0] < 0) != (w[1] < 0))
            .count();
        crossings as f64 / 2.0 / (samples.len() as f64 / 8_000.0)
    }

    /// A debtor on PCMU and an agent on PCMA, each behind its own leg: once
    /// the legs are bridged, each hears the other's tone (transcoded).
    #[tokio::test]
    async fn bridged_legs_carry_each_others_audio_across_codecs() {
        let (debtor, leg_a, leg_b, agent) = (socket(), socket(), socket(), socket());
        let addr = |s: &UdpSocket| s.local_addr().unwrap();
        let (debtor_at, a_at, b_at, agent_at) =
            (addr(&debtor), addr(&leg_a), addr(&leg_b), addr(&agent));
        let with = |codec, ssrc, record: bool| {
            RtpSession::new(SessionConfig {
                codec,
                ..config(ssrc, record)
            })
        };
        let mut debtor = MediaSession::start(debtor, a_at, with(Codec::Pcmu, 1, true));
        let leg_a = MediaSession::start(leg_a, debtor_at, with(Codec::Pcmu, 2, false));
        let leg_b = MediaSession::start(leg_b, agent_at, with(Codec::Pcma, 3, false));
        let mut agent = MediaSession::start(agent, b_at, with(Codec::Pcma, 4, true));
        MediaSession::bridge(&leg_a, &leg_b);
        debtor.play(tone(400.0, Codec::Pcmu, 1.0));
        agent.play(tone(1_000.0, Codec::Pcma, 1.0));
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let heard_by_debtor = debtor.finish().await.recording.unwrap();
        let heard_by_agent = agent.finish().await.recording.unwrap();
        drop((leg_a, leg_b));
        let loud = |s: &[i16]| s.iter().filter(|x| x.abs() > 2_000).count();
        assert!(
            loud(&heard_by_agent) > 4_000,
            "the debtor's tone reached the agent"
        );
        assert!(
            loud(&heard_by_debtor) > 4_000,
            "the agent's tone reached the debtor"
        );
        let middle = |s: &[i16]| s[s.len() / 4..s.len() / 2].to_vec();
        let f_agent = frequency(&middle(&heard_by_agent));
        let f_debtor = frequency(&middle(&heard_by_debtor));
        assert!(
            (350.0..450.0).contains(&f_agent),
            "agent heard {f_agent} Hz"
        );
        assert!(
            (900.0..1_100.0).contains(&f_debtor),
            "debtor heard {f_debtor} Hz"
        );
    }

    /// Two media tasks over loopback: one plays 200 ms of audio and presses
    /// a key, the other hears the audio and the digit once.
    #[tokio::test]
    async fn two_sessions_talk_over_loopback() {
        let (a, b) = (socket(), socket());
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        let mut sender = MediaSession::start(a, b_addr, RtpSession::new(config(1, false)));
        let mut receiver = MediaSession::start(b, a_addr, RtpSession::new(config(2, true)));
        let id = sender.play(vec![0x90u8; 1600].into());
        let finished = tokio::time::timeout(Duration::from_secs(2), sender.event()).await;
        assert_eq!(finished.unwrap(), MediaEvent::PlaybackFinished(id));
        sender.press('4', 100);
        let digit = tokio::time::timeout(Duration::from_secs(2), receiver.event()).await;
        assert_eq!(digit.unwrap(), MediaEvent::Digit('4'));
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = sender.finish().await;
        let got = receiver.finish().await;
        assert!(sent.stats.sent >= 10);
        assert_eq!(sent.send_errors, 0);
        let recording = got.recording.unwrap();
        let loud = recording.iter().filter(|s| s.abs() > 1000).count();
        assert!(
            loud >= 1500,
            "the 200 ms of audio arrived ({loud} loud samples)"
        );
    }
}
