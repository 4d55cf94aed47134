//! What plays when the far end's audio is missing, stretched or squeezed.
//!
//! A lost packet must not play as a click of silence in the middle of a
//! word, nor as a frozen loop: the last 20 ms of real audio is repeated and
//! faded out over 60 ms (G.711 Appendix I does the same with pitch periods;
//! this is the simple form), after which the gap is silent. Changing the
//! delay inside speech cross-fades instead of cutting, so that neither a
//! repeated nor a dropped frame starts or ends with a jump. Only samples
//! live here; the buffer decides when each of these is called for.

#![deny(clippy::disallowed_methods)]

use crate::codec::FRAME_SAMPLES;

/// Concealment fades to silence over this many samples (60 ms).
pub(super) const FADE_SAMPLES: usize = 3 * FRAME_SAMPLES;

#[derive(Debug, Clone)]
pub(super) struct Concealer {
    /// The last real samples played, oldest at `write`.
    history: [i16; FRAME_SAMPLES],
    write: usize,
    /// Samples concealed since the last real audio; `FADE_SAMPLES` once the
    /// fade is over (or when there is nothing worth repeating).
    run: usize,
    /// The frame last handed out, whatever it was, for stretching.
    last_out: [i16; FRAME_SAMPLES],
}

impl Default for Concealer {
    fn default() -> Concealer {
        Concealer {
            history: [0; FRAME_SAMPLES],
            write: 0,
            run: FADE_SAMPLES,
            last_out: [0; FRAME_SAMPLES],
        }
    }
}

impl Concealer {
    /// Real audio was played: it is what a later gap repeats.
    pub(super) fn remember_audio(&mut self, samples: &[i16]) {
        for &s in samples {
            self.history[self.write] = s;
            self.write = (self.write + 1) % FRAME_SAMPLES;
        }
        self.run = 0;
    }

    pub(super) fn remember_output(&mut self, frame: &[i16; FRAME_SAMPLES]) {
        self.last_out = *frame;
    }

    /// The gap is intended silence (the sender paused): repeating the talk
    /// before it would be wrong, so concealment is over.
    pub(super) fn quiet(&mut self) {
        self.run = FADE_SAMPLES;
    }

    pub(super) fn is_faded(&self) -> bool {
        self.run >= FADE_SAMPLES
    }

    /// Fills `out` with the repeated, fading last frame (silence once the
    /// fade is over). True if any of it is concealment rather than silence.
    pub(super) fn conceal(&mut self, out: &mut [i16]) -> bool {
        let mut concealed = false;
        for slot in out {
            if self.run >= FADE_SAMPLES {
                *slot = 0;
                continue;
            }
            let sample = i32::from(self.history[(self.write + self.run) % FRAME_SAMPLES]);
            let gain = (FADE_SAMPLES - self.run) as i32;
            // |sample * gain| / FADE_SAMPLES <= |sample|: it fits in i16.
            *slot = (sample * gain / FADE_SAMPLES as i32) as i16;
            self.run += 1;
            concealed = true;
        }
        concealed
    }

    /// A frame that adds 20 ms of delay: it starts as `next` (the frame
    /// that would have played, continuing the last one) and ends as the
    /// last frame played, whose end `next` follows again on the next tick.
    pub(super) fn stretch(&self, next: &[i16; FRAME_SAMPLES], out: &mut [i16; FRAME_SAMPLES]) {
        crossfade(next, &self.last_out, out);
    }
}

/// `out` starts as `from` and ends as `to`, linearly.
pub(super) fn crossfade(from: &[i16], to: &[i16], out: &mut [i16]) {
    let n = out.len() as i32;
    for (i, ((slot, &a), &b)) in out.iter_mut().zip(from).zip(to).enumerate() {
        let w = i as i32;
        // A weighted mean of two i16 values is an i16.
        *slot = ((i32::from(a) * (n - w) + i32::from(b) * w) / n) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone() -> [i16; FRAME_SAMPLES] {
        std::array::from_fn(|n| ((n as f32 * 0.4).sin() * 10_000.0) as i16)
    }

    fn energy(s: &[i16]) -> i64 {
        s.iter().map(|&x| i64::from(x).pow(2)).sum()
    }

    #[test]
    fn concealment_repeats_the_last_frame_fading_to_silence() {
        let mut c = Concealer::default();
        let t = tone();
        c.remember_audio(&t);
        let mut frames = [[0i16; FRAME_SAMPLES]; 4];
        let concealed: Vec<bool> = frames.iter_mut().map(|f| c.conceal(f)).collect();
        assert_eq!(concealed, [true, true, true, false]);
        assert_eq!(frames[0][0], t[0], "starts at full level");
        let e: Vec<i64> = frames.iter().map(|f| energy(f)).collect();
        assert!(e[0] > energy(&t) / 3 && e[0] > e[1] && e[1] > e[2] && e[2] > 0);
        assert_eq!(e[3], 0);
        assert!(c.is_faded());
        c.remember_audio(&t[..10]);
        assert!(!c.is_faded(), "real audio starts a new concealment");
    }

    #[test]
    fn nothing_heard_yet_conceals_as_silence() {
        let mut c = Concealer::default();
        let mut f = [1i16; FRAME_SAMPLES];
        assert!(!c.conceal(&mut f));
        assert!(f.iter().all(|&s| s == 0));
    }

    #[test]
    fn crossfade_runs_from_one_to_the_other() {
        let from = [1000i16; 160];
        let to = [-1000i16; 160];
        let mut out = [0i16; 160];
        crossfade(&from, &to, &mut out);
        assert_eq!(out[0], 1000);
        assert!(out[159] < -980);
        assert!(out.windows(2).all(|w| w[1] <= w[0]));
    }
}
