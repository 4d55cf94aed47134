//! The filters under the in-band detector: the Goertzel recurrence (one DFT
//! bin at a time, cheaper than an FFT for the eight frequencies DTMF needs),
//! the Hann windows, and just enough complex arithmetic for phases.

use std::f32::consts::TAU;
use std::sync::LazyLock;

use super::{COLUMN_HZ, HOP, ROW_HZ, SAMPLE_RATE, WINDOW};

/// Mean-square power of the tone at `hz` in a Hann-weighted window: for a
/// sine of amplitude A at exactly `hz` it is A²/2. Hann keeps the other
/// group's tone (268 Hz away or more) from leaking in, so the twist and
/// level are measured to a few tenths of a dB.
pub(super) fn tone_power(samples: &[i16; WINDOW], hz: f32) -> f32 {
    let tables = &*TABLES;
    let y = goertzel(samples, &tables.hann, TAU * hz / SAMPLE_RATE);
    2.0 * y.norm_sqr() / (tables.hann_sum * tables.hann_sum)
}

/// The Goertzel recurrence over `samples · window` at `theta` radians per
/// sample. Returns `s[N-1] - e^{-jθ} s[N-2]`, the DFT at `theta` turned by
/// `e^{jθ(N-1)}`: the same turn for any two runs of equal length, so their
/// ratio and magnitudes are those of the DFT.
pub(super) fn goertzel(samples: &[i16], window: &[f32], theta: f32) -> Complex {
    let tone = GoertzelBin::new(theta);
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for (&x, w) in samples.iter().zip(window) {
        let s = w * f32::from(x) + tone.coeff * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    tone.finish((s1, s2))
}

/// Constants of the Goertzel filter at one frequency.
#[derive(Debug, Clone, Copy)]
pub(super) struct GoertzelBin {
    pub(super) coeff: f32,
    /// `e^{-jθ}`.
    pub(super) back: Complex,
    /// `e^{-jθ HOP}`: shifts a second half's output to the window's start.
    pub(super) half_shift: Complex,
}

impl GoertzelBin {
    pub(super) fn new(theta: f32) -> GoertzelBin {
        GoertzelBin {
            coeff: 2.0 * theta.cos(),
            back: Complex::from_angle(-theta),
            half_shift: Complex::from_angle(-theta * HOP as f32),
        }
    }

    pub(super) fn finish(&self, (s1, s2): (f32, f32)) -> Complex {
        Complex { re: s1, im: 0.0 } - self.back * Complex { re: s2, im: 0.0 }
    }
}

/// Tables shared by every detector: a call's detector holds only its state.
pub(super) struct Tables {
    pub(super) nominal: [GoertzelBin; 8],
    pub(super) hann: [f32; WINDOW],
    pub(super) hann_sum: f32,
    pub(super) hann_energy: f32,
    /// The share of white noise's mean-square power that [`tone_power`]
    /// finds in any one bin: `2 Σw² / (Σw)²`, about 3 / WINDOW.
    pub(super) noise_per_bin: f32,
    pub(super) hann_half: [f32; HOP],
}

pub(super) static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut nominal = [GoertzelBin::new(0.0); 8];
    for (tone, hz) in nominal.iter_mut().zip(ROW_HZ.iter().chain(&COLUMN_HZ)) {
        *tone = GoertzelBin::new(TAU * hz / SAMPLE_RATE);
    }
    let hann_of = |n: usize, len: usize| 0.5 - 0.5 * (TAU * (n as f32 + 0.5) / len as f32).cos();
    let hann: [f32; WINDOW] = std::array::from_fn(|n| hann_of(n, WINDOW));
    let hann_sum: f32 = hann.iter().sum();
    let hann_energy: f32 = hann.iter().map(|w| w * w).sum();
    Tables {
        nominal,
        hann_sum,
        hann_energy,
        noise_per_bin: 2.0 * hann_energy / (hann_sum * hann_sum),
        hann,
        hann_half: std::array::from_fn(|n| hann_of(n, HOP)),
    }
});

/// Just enough complex arithmetic for phases and powers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Complex {
    pub(super) re: f32,
    pub(super) im: f32,
}

impl Complex {
    pub(super) const ZERO: Complex = Complex { re: 0.0, im: 0.0 };

    pub(super) fn from_angle(angle: f32) -> Complex {
        let (im, re) = angle.sin_cos();
        Complex { re, im }
    }

    pub(super) fn conj(self) -> Complex {
        Complex {
            re: self.re,
            im: -self.im,
        }
    }

    pub(super) fn norm_sqr(self) -> f32 {
        self.re * self.re + self.im * self.im
    }

    pub(super) fn arg(self) -> f32 {
        self.im.atan2(self.re)
    }
}

impl std::ops::Add for Complex {
    type Output = Complex;
    fn add(self, o: Complex) -> Complex {
        Complex {
            re: self.re + o.re,
            im: self.im + o.im,
        }
    }
}

impl std::ops::Sub for Complex {
    type Output = Complex;
    fn sub(self, o: Complex) -> Complex {
        Complex {
            re: self.re - o.re,
            im: self.im - o.im,
        }
    }
}

impl std::ops::Mul for Complex {
    type Output = Complex;
    fn mul(self, o: Complex) -> Complex {
        Complex {
            re: self.re * o.re - self.im * o.im,
            im: self.re * o.im + self.im * o.re,
        }
    }
}
