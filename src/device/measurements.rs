//! The reference device's measurements for `GET /api/v1/data`. It has no
//! microphone: its background-noise figure (dB SPL) is a bounded random walk,
//! plausible for a meeting room, and documented as simulated. A real device's
//! daemon serves this stream instead.

use std::time::Duration;

use crate::events::{self, Source};

/// Event names of the device data stream. The reference device emits
/// `deviceMetrics`; `soundLocation` is known (a real device's microphone array
/// reports it) but never emitted by the simulation.
pub(crate) const DATA_EVENTS: [&str; 2] = ["deviceMetrics", "soundLocation"];

/// The simulated microphone's background-noise reading.
#[derive(Debug, Clone)]
struct NoiseSimulator {
    level: i32,
}

impl Default for NoiseSimulator {
    fn default() -> Self {
        NoiseSimulator { level: 38 }
    }
}

impl NoiseSimulator {
    /// The next reading: a step of -2 to +2 dB, kept within 25–55 dB.
    fn next_reading(&mut self) -> i32 {
        let step = i32::try_from(getrandom::u32().unwrap_or(2) % 5).unwrap_or(2) - 2;
        self.level = (self.level + step).clamp(25, 55);
        self.level
    }
}

/// The data stream's source for the `wanted` event names (known ones only): a
/// `deviceMetrics` event every `period` when asked for, else keep-alives only.
pub(crate) fn data_source(period: Duration, wanted: &[String]) -> Source {
    if !wanted.iter().any(|n| n == "deviceMetrics") {
        return Source::Quiet;
    }
    let mut noise = NoiseSimulator::default();
    events::periodic(period, move || {
        let data = serde_json::json!({"backgroundNoise": noise.next_reading()}).to_string();
        events::frame("deviceMetrics", data.as_bytes(), None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_noise_stays_plausible() {
        let mut n = NoiseSimulator::default();
        for _ in 0..10_000 {
            let v = n.next_reading();
            assert!((25..=55).contains(&v));
        }
    }
}
