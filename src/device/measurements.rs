//! The reference device's measurements for `GET /api/v1/data`: `soundLocation`
//! (the vendor's rate, about every 200 ms) and `deviceMetrics` (every 5 s). It has
//! no microphones, so both are simulated and documented as such: a talker who walks
//! about the room and speaks in bursts, and a background-noise figure (dB SPL) that
//! drifts in a bounded random walk. A real device's audio daemon serves this stream
//! instead.
//!
//! The sound-location body has the vendor's fields: `azimuth` (−70…70°, from the
//! primary bar), `powerLevel` (dB; 0 when nothing meaningful is heard), `time`
//! (ISO 8601 with milliseconds), `version` 3 and `flags`; an HDL410 adds
//! `coordinates` (mm from the primary bar) and `triggeredZones` (0 or 1 of the
//! zones that are on and contain the talker).

use std::time::Duration;

use serde_json::{Value, json};

use crate::events::{self, Source};

/// Event names of the device data stream.
pub(crate) const DATA_EVENTS: [&str; 2] = ["soundLocation", "deviceMetrics"];

/// The sound-location body's format version (the vendor's current one).
const SOUND_LOCATION_VERSION: u8 = 3;

fn random_below(n: u32) -> u32 {
    getrandom::u32().unwrap_or(0) % n.max(1)
}

/// A uniform integer in `lo..=hi`.
fn random_in(lo: i32, hi: i32) -> i32 {
    if hi <= lo {
        return lo;
    }
    let span = u32::try_from(i64::from(hi) - i64::from(lo) + 1).unwrap_or(u32::MAX);
    lo.saturating_add(i32::try_from(random_below(span)).unwrap_or(0))
}

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
        self.level = (self.level + random_in(-2, 2)).clamp(25, 55);
        self.level
    }
}

/// What the simulation needs to know about the room, read again at every tick so
/// that a layout change applies at once.
#[derive(Debug, Clone)]
pub(crate) struct RoomView {
    /// `[xMin, xMax, yMin, yMax]`, millimetres, origin at the primary bar.
    pub(crate) bounds: [i32; 4],
    /// Whether voice amplification is on (`flags.voiceAmpModeActive`).
    pub(crate) voice_amplification: bool,
    /// HDL410: report coordinates and triggered zones.
    pub(crate) coordinates: bool,
}

/// A simulated talker: walks towards a random spot at a walking pace, speaks in
/// bursts of 1–8 s with pauses of 0.4–3 s between them.
#[derive(Debug, Clone)]
struct Talker {
    x: i32,
    y: i32,
    target: (i32, i32),
    speaking: bool,
    ticks_left: u32,
}

/// Millimetres a talker moves per tick at most (≈ 0.5 m/s at 200 ms).
const STEP_MM: i32 = 100;

impl Talker {
    fn new(room: &RoomView) -> Talker {
        let spot = Self::spot(room);
        Talker {
            x: spot.0,
            y: spot.1,
            target: Self::spot(room),
            speaking: true,
            ticks_left: 10,
        }
    }

    /// A random spot in the room, in front of the bar (y > 0) where there is room.
    fn spot(room: &RoomView) -> (i32, i32) {
        let [x_min, x_max, y_min, y_max] = room.bounds;
        (random_in(x_min, x_max), random_in(y_min.max(300), y_max.max(300)))
    }

    fn walk(&mut self, room: &RoomView) {
        let (dx, dy) = (self.target.0 - self.x, self.target.1 - self.y);
        if dx.abs() <= STEP_MM && dy.abs() <= STEP_MM {
            self.target = Self::spot(room);
        }
        self.x += dx.clamp(-STEP_MM, STEP_MM);
        self.y += dy.clamp(-STEP_MM, STEP_MM);
        let [x_min, x_max, y_min, y_max] = room.bounds;
        self.x = self.x.clamp(x_min, x_max.max(x_min));
        self.y = self.y.clamp(y_min, y_max.max(y_min));
    }

    fn talk(&mut self) {
        if self.ticks_left == 0 {
            self.speaking = !self.speaking;
            self.ticks_left = if self.speaking {
                5 + random_below(36)
            } else {
                2 + random_below(14)
            };
        }
        self.ticks_left -= 1;
    }

    /// The direction of the talker from the primary bar, in whole degrees,
    /// 0 straight ahead, positive to the right, within the vendor's −70…70.
    fn azimuth(&self) -> i32 {
        let degrees = f64::from(self.x).atan2(f64::from(self.y.max(1))).to_degrees();
        // Rounded and clamped to ±70, so the conversion cannot overflow.
        (degrees.round() as i32).clamp(-70, 70)
    }

    /// The next sound-location body; `zones_at` gives the zones (`{type, label, id}`)
    /// that are on and hold a point.
    fn next_sample(&mut self, room: &RoomView, zones_at: &ZonesAt, now: std::time::SystemTime) -> Value {
        self.walk(room);
        self.talk();
        let power = if self.speaking { random_in(48, 72) } else { 0 };
        let mut body = serde_json::Map::new();
        body.insert("azimuth".into(), json!(self.azimuth()));
        body.insert("powerLevel".into(), json!(power));
        body.insert("time".into(), json!(iso8601_millis(now)));
        if room.coordinates {
            body.insert("coordinates".into(), json!({"x": self.x, "y": self.y}));
            body.insert("triggeredZones".into(), Value::Array(self.triggered(zones_at)));
        }
        body.insert("version".into(), json!(SOUND_LOCATION_VERSION));
        body.insert(
            "flags".into(),
            json!({
                "powerZeroedReason": 0,
                "speakerActive": false,
                "voiceAmpModeActive": room.voice_amplification,
                "voiceDetected": self.speaking,
            }),
        );
        Value::Object(body)
    }

    /// The zone the talker is in, if speaking (0 or 1 entries, as the vendor).
    fn triggered(&self, zones_at: &ZonesAt) -> Vec<Value> {
        if !self.speaking {
            return Vec::new();
        }
        zones_at(self.x, self.y).into_iter().take(1).collect()
    }
}

/// `2024-11-01T18:08:24.834Z`
fn iso8601_millis(t: std::time::SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The look at the room the sound-location simulation takes at every tick.
pub(crate) type LookAtRoom = Box<dyn Fn() -> RoomView + Send + Sync>;
/// The zones that are on and hold a point, as `triggeredZones` entries.
pub(crate) type ZonesAt = Box<dyn Fn(i32, i32) -> Vec<Value> + Send + Sync>;

/// The periods of the data stream's events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rates {
    /// `soundLocation`
    pub(crate) sound_location: Duration,
    /// `deviceMetrics`
    pub(crate) device_metrics: Duration,
}

/// The vendor's per-event error frame for an unknown event name: `event: error
/// (<name>)` with `{statusCode: 404, event, message}`; the other events keep
/// flowing.
pub(crate) fn unknown_event_frame(name: &str) -> bytes::Bytes {
    let shown = crate::util::shown(name);
    let data = json!({
        "statusCode": 404,
        "event": shown,
        "message": format!("unknown event `{shown}`; known: {}", DATA_EVENTS.join(", ")),
    });
    events::frame(&format!("error ({shown})"), data.to_string().as_bytes(), None)
}

/// The data stream's source: errors for `unknown` names first, then each wanted
/// event at its rate.
pub(crate) fn data_source(
    rates: Rates,
    wanted: &[&str],
    unknown: &[String],
    look: LookAtRoom,
    zones_at: ZonesAt,
) -> Source {
    let first = unknown.iter().map(|n| unknown_event_frame(n)).collect();
    let mut timers: Vec<events::Timer> = Vec::new();
    if wanted.contains(&"soundLocation") {
        let mut talker = Talker::new(&look());
        timers.push(events::timer(rates.sound_location, move || {
            let body = talker.next_sample(&look(), &zones_at, std::time::SystemTime::now());
            events::frame("soundLocation", body.to_string().as_bytes(), None)
        }));
    }
    if wanted.contains(&"deviceMetrics") {
        let mut noise = NoiseSimulator::default();
        timers.push(events::timer(rates.device_metrics, move || {
            let data = json!({"backgroundNoise": noise.next_reading()}).to_string();
            events::frame("deviceMetrics", data.as_bytes(), None)
        }));
    }
    events::scheduled(first, timers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(coordinates: bool) -> RoomView {
        RoomView {
            bounds: [-3000, 3000, 0, 6000],
            voice_amplification: true,
            coordinates,
        }
    }

    /// One zone covering the room.
    fn whole_room() -> ZonesAt {
        Box::new(|_, _| vec![json!({"type": "Switching", "label": "Whole room", "id": "z1"})])
    }

    #[test]
    fn simulated_noise_stays_plausible() {
        let mut n = NoiseSimulator::default();
        for _ in 0..10_000 {
            let v = n.next_reading();
            assert!((25..=55).contains(&v));
        }
    }

    #[test]
    fn the_talker_stays_in_the_room_and_reports_like_the_vendor() {
        let r = room(true);
        let mut t = Talker::new(&r);
        let (mut spoke, mut paused, mut last) = (0, 0, (t.x, t.y));
        for _ in 0..5_000 {
            let s = t.next_sample(&r, &whole_room(), std::time::SystemTime::UNIX_EPOCH);
            let (x, y) = (
                s["coordinates"]["x"].as_i64().unwrap(),
                s["coordinates"]["y"].as_i64().unwrap(),
            );
            assert!((-3000..=3000).contains(&x) && (0..=6000).contains(&y), "{s}");
            assert!(
                (i64::from(last.0) - x).abs() <= 100 && (i64::from(last.1) - y).abs() <= 100,
                "walks"
            );
            last = (t.x, t.y);
            let az = s["azimuth"].as_i64().unwrap();
            assert!((-70..=70).contains(&az));
            let zones = s["triggeredZones"].as_array().unwrap();
            if s["flags"]["voiceDetected"] == true {
                spoke += 1;
                assert!((48..=72).contains(&s["powerLevel"].as_i64().unwrap()));
                assert_eq!(zones.len(), 1, "the zone covers the room");
                assert_eq!(zones[0]["label"], "Whole room");
            } else {
                paused += 1;
                assert_eq!((s["powerLevel"].as_i64(), zones.len()), (Some(0), 0));
            }
            assert_eq!(
                (s["version"].as_i64(), s["flags"]["voiceAmpModeActive"].as_bool()),
                (Some(3), Some(true))
            );
            assert_eq!(s["time"], "1970-01-01T00:00:00.000Z");
        }
        assert!(spoke > 1000 && paused > 200, "speaks in bursts: {spoke} / {paused}");
    }

    #[test]
    fn an_hdl310_reports_no_coordinates_or_zones() {
        let r = room(false);
        let s = Talker::new(&r).next_sample(&r, &whole_room(), std::time::SystemTime::now());
        assert!(s.get("coordinates").is_none() && s.get("triggeredZones").is_none());
        let keys: Vec<_> = s.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 5, "{keys:?}");
    }

    #[test]
    fn an_unknown_event_gets_the_vendor_error_frame() {
        let f = unknown_event_frame("bogus\r\nevent: x");
        let text = std::str::from_utf8(&f).unwrap();
        assert!(text.starts_with("event: error (bogusevent: x)\ndata: {"), "{text}");
        assert!(text.contains(r#""statusCode":404"#) && text.contains(r#""event":"bogusevent: x""#));
        assert_eq!(text.matches('\n').count(), 3, "one event, no injected lines");
    }
}
