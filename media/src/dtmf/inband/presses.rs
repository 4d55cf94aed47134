//! From windows to key presses: a key counts once enough windows in a row
//! hear the same steady tones, and is not counted again until enough windows
//! in a row have not heard it.

use super::{
    InbandConfig, InbandDigit, MAX_DRIFT, WINDOWS_TO_PRESS, WINDOWS_TO_RELEASE, twist_within,
};

/// What one window heard: a key, its tones' frequencies and powers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Heard {
    pub(super) key: char,
    pub(super) row_hz: f32,
    pub(super) col_hz: f32,
    pub(super) row_power: f32,
    pub(super) col_power: f32,
}

impl Heard {
    /// Whether `next` continues the same tones: a key's oscillators hold
    /// still, a voice's harmonics glide with its pitch.
    fn held_by(&self, next: &Heard) -> bool {
        let steady = |a: f32, b: f32| (a - b).abs() <= MAX_DRIFT * a;
        self.key == next.key && steady(self.row_hz, next.row_hz) && steady(self.col_hz, next.col_hz)
    }
}

/// Windows in a row that heard the same tones.
#[derive(Debug, Clone, Copy)]
struct Run {
    last: Heard,
    windows: u32,
    /// The first sample of the first window.
    start: u64,
    row_power_sum: f32,
    col_power_sum: f32,
}

/// Turns what each window heard into key presses, once each.
#[derive(Debug, Clone, Default)]
pub(super) struct Presses {
    run: Option<Run>,
    /// The key reported and not yet released.
    held: Option<char>,
    /// Windows in a row without the held key.
    misses: u32,
}

impl Presses {
    pub(super) fn handle_window(
        &mut self,
        config: &InbandConfig,
        heard: Option<Heard>,
        start: u64,
    ) -> Option<InbandDigit> {
        self.run = match (self.run, heard) {
            (Some(run), Some(h)) if run.last.held_by(&h) => Some(Run {
                last: h,
                windows: run.windows + 1,
                start: run.start,
                row_power_sum: run.row_power_sum + h.row_power,
                col_power_sum: run.col_power_sum + h.col_power,
            }),
            (_, heard) => heard.map(|h| Run {
                last: h,
                windows: 1,
                start,
                row_power_sum: h.row_power,
                col_power_sum: h.col_power,
            }),
        };
        let key = heard.map(|h| h.key);
        if let Some(held) = self.held {
            if key == Some(held) {
                self.misses = 0;
            } else {
                self.misses += 1;
                if self.misses >= WINDOWS_TO_RELEASE {
                    self.held = None;
                }
            }
        }
        let run = self.run.filter(|run| {
            run.windows >= WINDOWS_TO_PRESS
                && twist_within(config, run.row_power_sum, run.col_power_sum, 0.0)
        })?;
        if self.held.is_some() {
            return None;
        }
        self.held = Some(run.last.key);
        self.misses = 0;
        Some(InbandDigit {
            key: run.last.key,
            start_sample: run.start,
        })
    }
}
