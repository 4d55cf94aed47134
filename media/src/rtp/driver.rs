//! The tokio side of a call's media: one task owns the socket and the clock.
//!
//! The task sends one packet every 20 ms on a fixed schedule (a late tick is
//! caught up, so the average rate holds), reads whatever arrives, and talks
//! to the call through two channels: commands in, events out. Dropping the
//! [`MediaSession`] or calling [`MediaSession::finish`] ends it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::session::{Received, RtpSession, RtpStats};
use crate::codec::PTIME_MS;

/// What the call asks of its media.
#[derive(Debug, Clone)]
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
}

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
}

/// A running media task for one call.
#[derive(Debug)]
pub struct MediaSession {
    commands: mpsc::UnboundedSender<MediaCommand>,
    events: mpsc::UnboundedReceiver<MediaEvent>,
    task: JoinHandle<MediaReport>,
    next_playback: u64,
}

impl MediaSession {
    /// Starts sending to `remote` from `socket` at once (the first packet
    /// leaves immediately) and reading what arrives.
    pub fn start(socket: UdpSocket, remote: SocketAddr, session: RtpSession) -> MediaSession {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(socket, remote, session, command_rx, event_tx));
        MediaSession {
            commands,
            events,
            task,
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

    pub fn send(&self, command: MediaCommand) {
        // The task only ends when this handle goes away, so it is listening.
        let _ = self.commands.send(command);
    }

    /// The next event; pending forever once the task has ended.
    pub async fn event(&mut self) -> MediaEvent {
        match self.events.recv().await {
            Some(event) => event,
            None => std::future::pending().await,
        }
    }

    /// Stops the task and returns what it saw.
    pub async fn finish(self) -> MediaReport {
        drop(self.commands);
        self.task.await.unwrap_or_else(|e| MediaReport {
            first_send_error: Some(format!("media task failed: {e}")),
            ..MediaReport::default()
        })
    }
}

async fn run(
    socket: UdpSocket,
    remote: SocketAddr,
    mut session: RtpSession,
    mut commands: mpsc::UnboundedReceiver<MediaCommand>,
    events: mpsc::UnboundedSender<MediaEvent>,
) -> MediaReport {
    let mut tick = tokio::time::interval(Duration::from_millis(u64::from(PTIME_MS)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut report = MediaReport::default();
    let mut packet = Vec::with_capacity(256);
    let mut buf = vec![0u8; 2048];
    let mut foreign_reported = false;
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                None => break,
                Some(MediaCommand::Play(audio, id)) => session.play(audio, id),
                Some(MediaCommand::StopPlayback) => session.stop_playback(),
                Some(MediaCommand::Press { key, duration_ms }) => {
                    session.press(key, duration_ms);
                }
            },
            _ = tick.tick() => {
                let finished = session.next_packet(&mut packet);
                if let Err(e) = socket.send_to(&packet, remote).await {
                    report.send_errors += 1;
                    report.first_send_error.get_or_insert_with(|| e.to_string());
                }
                if let Some(id) = finished {
                    let _ = events.send(MediaEvent::PlaybackFinished(id));
                }
            }
            received = socket.recv_from(&mut buf) => {
                // Errors here are ICMP reports of earlier sends; the next
                // tick tries again.
                let Ok((len, from)) = received else { continue };
                match session.handle_datagram(from, &buf[..len]) {
                    Received::Digit(key) => {
                        let _ = events.send(MediaEvent::Digit(key));
                    }
                    Received::Foreign(addr) if !foreign_reported => {
                        foreign_reported = true;
                        let _ = events.send(MediaEvent::ForeignSource(addr));
                    }
                    _ => {}
                }
            }
        }
    }
    report.stats = session.stats();
    report.recording = session.take_recording();
    report
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
        }
    }

    /// Two media tasks over loopback: one plays 200 ms of audio and presses
    /// a key, the other hears the audio and the digit once.
    #[tokio::test]
    async fn two_sessions_talk_over_loopback() {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
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
