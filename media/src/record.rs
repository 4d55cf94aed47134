//! Call recordings: one two-channel WAV per call, left the debtor (what
//! the far end sent), right what the debtor heard (our prompts, or the
//! agent once bridged).
//!
//! The media tasks only hand over chunks of samples, each with its place
//! on the call's timeline ([`Tap`]); one writer thread ([`Recorder`])
//! assembles the two channels and writes them to disk, so no media task
//! ever waits on a file. The assembly ([`Stereo`]) is pure: chunks arrive
//! in any order within a channel (late or reordered packets land where
//! they belong, gaps stay silent), and the file is written as far as both
//! channels are known, or as far as one is when the other has been silent
//! for [`MAX_SKEW`] samples (a far end that sends nothing must not hold the
//! recording in memory).

#![deny(clippy::disallowed_methods)]

use std::collections::{HashMap, VecDeque};
use std::io::BufWriter;
use std::path::PathBuf;
use std::sync::mpsc;

use tokio::sync::oneshot;

use crate::codec::SAMPLE_RATE;

/// Which side of the call a chunk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// What the far end (the debtor) sent.
    FarEnd,
    /// What we sent them.
    Sent,
}

/// A channel may run this far (2 s) ahead of the other before the other is
/// taken as silent up to it.
pub const MAX_SKEW: u64 = 2 * SAMPLE_RATE as u64;

/// The two channels of one recording, between chunks and the file.
#[derive(Debug, Default)]
pub struct Stereo {
    /// Samples of each channel from `written` on (index 0 = far end).
    pending: [VecDeque<i16>; 2],
    /// How far each channel is known (absolute sample index).
    known: [u64; 2],
    /// Everything before this is in the file.
    written: u64,
}

impl Stereo {
    pub fn new() -> Stereo {
        Stereo::default()
    }

    /// Places `samples` of `channel` starting at absolute sample `at`;
    /// returns the interleaved frames (left, right) now ready to write.
    pub fn add(&mut self, channel: Channel, at: u64, samples: &[i16]) -> Vec<i16> {
        let c = channel as usize;
        if at + samples.len() as u64 <= self.written {
            return Vec::new(); // too late: already written as silence
        }
        let skip = self.written.saturating_sub(at) as usize;
        let start = (at.max(self.written) - self.written) as usize;
        let buf = &mut self.pending[c];
        let end = start + samples.len() - skip;
        if buf.len() < end {
            buf.resize(end, 0);
        }
        for (slot, &s) in buf.range_mut(start..end).zip(&samples[skip..]) {
            *slot = s;
        }
        self.known[c] = self.known[c].max(at + samples.len() as u64);
        let other = 1 - c;
        if self.known[c] > self.known[other] + MAX_SKEW {
            self.known[other] = self.known[c] - MAX_SKEW;
        }
        self.take(self.known[0].min(self.known[1]))
    }

    /// Everything left, the shorter channel padded with silence.
    pub fn finish(&mut self) -> Vec<i16> {
        self.take(self.known[0].max(self.known[1]))
    }

    fn take(&mut self, until: u64) -> Vec<i16> {
        if until <= self.written {
            return Vec::new();
        }
        let n = (until - self.written) as usize;
        let mut frames = Vec::with_capacity(n * 2);
        for _ in 0..n {
            for c in 0..2 {
                frames.push(self.pending[c].pop_front().unwrap_or(0));
            }
        }
        self.written = until;
        frames
    }
}

/// A message to the writer thread.
#[derive(Debug)]
enum Job {
    Start {
        id: u64,
        path: PathBuf,
        done: oneshot::Sender<Written>,
    },
    Chunk {
        id: u64,
        channel: Channel,
        at: u64,
        samples: Vec<i16>,
    },
    Finish {
        id: u64,
    },
}

/// How a finished recording went.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub path: PathBuf,
    pub seconds: f64,
    pub error: Option<String>,
}

/// The process's recording writer: one thread, every call's recordings.
#[derive(Debug, Clone)]
pub struct Recorder {
    jobs: mpsc::SyncSender<Job>,
    next_id: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// Chunks waiting for the writer at most; when it falls this far behind
/// (a stalled disk), chunks are dropped and the recording gets a gap
/// rather than the calls waiting.
const BACKLOG: usize = 20_000;

impl Recorder {
    /// Starts the writer thread (it ends when the last handle and tap go).
    pub fn start() -> Recorder {
        let (jobs, rx) = mpsc::sync_channel(BACKLOG);
        std::thread::Builder::new()
            .name("recorder".into())
            .spawn(move || write_all(rx))
            .expect("the recorder thread starts");
        Recorder {
            jobs,
            next_id: Default::default(),
        }
    }

    /// Opens a recording at `path`; feed it through the [`Tap`], and read
    /// how it went from the receiver once the tap is finished.
    pub fn open(&self, path: PathBuf) -> (Tap, oneshot::Receiver<Written>) {
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (done, rx) = oneshot::channel();
        // A writer a whole backlog behind drops the start: the receiver then
        // reports the recording as not written, and the chunks are ignored.
        let _ = self.jobs.try_send(Job::Start { id, path, done });
        (
            Tap {
                id,
                jobs: self.jobs.clone(),
                dropped: 0,
            },
            rx,
        )
    }
}

/// One call's way into the recorder (held by its media task).
#[derive(Debug)]
pub struct Tap {
    id: u64,
    jobs: mpsc::SyncSender<Job>,
    /// Chunks lost because the writer was behind.
    pub dropped: u64,
}

impl Tap {
    pub fn chunk(&mut self, channel: Channel, at: u64, samples: Vec<i16>) {
        let job = Job::Chunk {
            id: self.id,
            channel,
            at,
            samples,
        };
        if self.jobs.try_send(job).is_err() {
            self.dropped += 1;
        }
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        // The finish must get through: it closes the file. When the writer
        // is behind, a thread waits for room so the media task does not.
        if let Err(mpsc::TrySendError::Full(job)) = self.jobs.try_send(Job::Finish { id: self.id })
        {
            let jobs = self.jobs.clone();
            let _ = std::thread::Builder::new()
                .name("recorder-finish".into())
                .spawn(move || jobs.send(job));
        }
    }
}

type Wav = hound::WavWriter<BufWriter<std::fs::File>>;

/// An open recording: where, the file (or why not), the assembly, frames written, whom to tell.
struct Open {
    path: PathBuf,
    wav: Result<Wav, String>,
    stereo: Stereo,
    frames: u64,
    done: oneshot::Sender<Written>,
}

fn write_all(jobs: mpsc::Receiver<Job>) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: SAMPLE_RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut open: HashMap<u64, Open> = HashMap::new();
    let write = |wav: &mut Result<Wav, String>, frames: &[i16]| {
        if let Ok(w) = wav {
            for &s in frames {
                if let Err(e) = w.write_sample(s) {
                    *wav = Err(e.to_string());
                    return;
                }
            }
        }
    };
    while let Ok(job) = jobs.recv() {
        match job {
            Job::Start { id, path, done } => {
                let wav = path
                    .parent()
                    .map_or(Ok(()), std::fs::create_dir_all)
                    .map_err(|e| e.to_string())
                    .and_then(|()| {
                        hound::WavWriter::create(&path, spec).map_err(|e| e.to_string())
                    });
                open.insert(
                    id,
                    Open {
                        path,
                        wav,
                        stereo: Stereo::new(),
                        frames: 0,
                        done,
                    },
                );
            }
            Job::Chunk {
                id,
                channel,
                at,
                samples,
            } => {
                if let Some(o) = open.get_mut(&id) {
                    let ready = o.stereo.add(channel, at, &samples);
                    o.frames += ready.len() as u64 / 2;
                    write(&mut o.wav, &ready);
                }
            }
            Job::Finish { id } => {
                let Some(mut o) = open.remove(&id) else {
                    continue;
                };
                let rest = o.stereo.finish();
                o.frames += rest.len() as u64 / 2;
                write(&mut o.wav, &rest);
                let error = match o.wav {
                    Ok(w) => w.finalize().err().map(|e| e.to_string()),
                    Err(e) => Some(e),
                };
                let _ = o.done.send(Written {
                    path: o.path,
                    seconds: o.frames as f64 / f64::from(SAMPLE_RATE),
                    error,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn left_right(frames: &[i16]) -> (Vec<i16>, Vec<i16>) {
        (
            frames.iter().step_by(2).copied().collect(),
            frames.iter().skip(1).step_by(2).copied().collect(),
        )
    }

    #[test]
    fn channels_are_written_as_far_as_both_are_known() {
        let mut s = Stereo::new();
        assert!(
            s.add(Channel::Sent, 0, &[1; 160]).is_empty(),
            "the far end is not known yet"
        );
        let ready = s.add(Channel::FarEnd, 0, &[2; 100]);
        let (l, r) = left_right(&ready);
        assert_eq!((l.len(), r.len()), (100, 100));
        assert!(l.iter().all(|&x| x == 2) && r.iter().all(|&x| x == 1));
        // A reordered packet lands in its place; the gap before it is silent.
        assert!(
            s.add(Channel::FarEnd, 200, &[3; 60]).len() == 60 * 2,
            "up to 160 on the right"
        );
        let rest = s.finish();
        let (l, r) = left_right(&rest);
        assert_eq!(l.len(), 100, "160..260 remains");
        assert!(l[..40].iter().all(|&x| x == 0), "lost between 160 and 200");
        assert!(l[40..].iter().all(|&x| x == 3));
        assert!(r.iter().all(|&x| x == 0), "nothing sent after 160");
    }

    #[test]
    fn late_packets_fill_gaps_until_written_and_a_silent_side_does_not_hold_memory() {
        let mut s = Stereo::new();
        s.add(Channel::FarEnd, 0, &[5; 160]);
        s.add(Channel::FarEnd, 320, &[6; 160]);
        let ready = s.add(Channel::Sent, 0, &[7; 480]);
        let (l, _) = left_right(&ready);
        assert_eq!(l.len(), 480);
        assert!(
            l[160..320].iter().all(|&x| x == 0),
            "the lost packet is silence"
        );
        // Too late now: ignored.
        assert!(s.add(Channel::FarEnd, 160, &[9; 160]).is_empty());

        // The far end goes silent: after 2 s the sent side is written anyway.
        let mut written = 0;
        for i in 0..200u64 {
            written += s.add(Channel::Sent, 480 + i * 160, &[1; 160]).len() / 2;
        }
        let sent_end = 480 + 200 * 160;
        assert_eq!(written as u64, sent_end - MAX_SKEW - 480);
        assert!(
            s.pending[1].len() as u64 <= MAX_SKEW,
            "held back at most 2 s"
        );
    }

    #[test]
    fn the_writer_thread_makes_a_two_channel_wav() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("llamadas/1.wav");
        let recorder = Recorder::start();
        let (mut tap, done) = recorder.open(path.clone());
        for i in 0..50u64 {
            tap.chunk(Channel::FarEnd, i * 160, vec![1000; 160]);
            tap.chunk(Channel::Sent, i * 160, vec![-1000; 160]);
        }
        drop(tap);
        let written = done.blocking_recv().unwrap();
        assert_eq!(written.error, None);
        assert!((written.seconds - 1.0).abs() < 1e-9, "{written:?}");
        let mut reader = hound::WavReader::open(&path).unwrap();
        let spec = reader.spec();
        assert_eq!((spec.channels, spec.sample_rate), (2, 8_000));
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(samples.len(), 16_000);
        assert!(samples.chunks(2).all(|f| f == [1000, -1000]));
    }
}
