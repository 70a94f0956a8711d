//! The device's live status and its two actions, as the vendor's device has them:
//! `GET /api/v1/status` (the network and Console LEDs, USB, device components),
//! identify (the bars light their LEDs for a while) and calibrate (a room
//! recalibration that runs for a realistic time). None of it is persisted: a real
//! device reads it from its hardware. Every change is announced on the change
//! stream with the vendor's event names: `ledStateUpdated`, `usbConnection`,
//! `deviceComponentsConnection`, `/api/v1/audio/calibrate`.
//!
//! The reference device has no LEDs, USB port or bars: what it reports follows the
//! `[device]` config (`device_status`, `usb_status`) and what its actions do.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use serde::Serialize;

use crate::config::DeviceInfo;
use crate::error::ApiError;
use crate::events::EventBus;
use crate::http_util::to_json_bytes;

/// Vendor event: the LEDs changed.
pub(crate) const LED_EVENT: &str = "ledStateUpdated";
/// Vendor event: the USB connection changed.
pub(crate) const USB_EVENT: &str = "usbConnection";
/// Vendor event: the device components' connection changed.
pub(crate) const COMPONENTS_EVENT: &str = "deviceComponentsConnection";
/// Vendor event: calibration started or completed.
pub(crate) const CALIBRATE_EVENT: &str = "/api/v1/audio/calibrate";

/// One LED: the vendor's colours and states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Led {
    /// `green`, `yellow`, `red` or `none`.
    colour: &'static str,
    /// `solid`, `pulsing`, `blinking` or `off`.
    state: &'static str,
}

impl Led {
    const OFF: Led = Led {
        colour: "none",
        state: "off",
    };
    const GREEN: Led = Led {
        colour: "green",
        state: "solid",
    };
    const IDENTIFYING: Led = Led {
        colour: "green",
        state: "blinking",
    };
}

/// The two status LEDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Leds {
    /// Nureva Console connection: this device is not cloud-managed, so off.
    console: Led,
    /// Network: connected with an address.
    network_a: Led,
}

/// `{status}` of the USB connection or the device components.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Connection {
    status: &'static str,
}

/// `GET /api/v1/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StatusDocument {
    leds: Leds,
    usb: Connection,
    device_components: Connection,
}

/// The device's live state: what it reports now and whether an action runs.
#[derive(Debug)]
pub(crate) struct DeviceLive {
    inner: Mutex<LiveState>,
}

#[derive(Debug, Default)]
struct LiveState {
    /// Identify requests in progress (each lights the LEDs for its duration).
    identifying: u32,
    calibrating: bool,
    /// The USB and components status last announced, from the config.
    usb: &'static str,
    components: &'static str,
}

fn usb_status(info: &DeviceInfo) -> &'static str {
    if info.usb_connected {
        "connected"
    } else {
        "disconnected"
    }
}

fn components_status(info: &DeviceInfo) -> &'static str {
    if info.device_status == "Ok" {
        "connected"
    } else {
        "disconnected"
    }
}

impl DeviceLive {
    /// The live state of a device configured as `info`.
    pub(crate) fn new(info: &DeviceInfo) -> DeviceLive {
        DeviceLive {
            inner: Mutex::new(LiveState {
                usb: usb_status(info),
                components: components_status(info),
                ..LiveState::default()
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LiveState> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn leds(state: &LiveState) -> Leds {
        Leds {
            console: Led::OFF,
            network_a: if state.identifying > 0 {
                Led::IDENTIFYING
            } else {
                Led::GREEN
            },
        }
    }

    /// The status document now.
    pub(crate) fn status(&self) -> StatusDocument {
        let s = self.lock();
        StatusDocument {
            leds: Self::leds(&s),
            usb: Connection { status: s.usb },
            device_components: Connection { status: s.components },
        }
    }

    /// The config was reloaded: announce what changed in USB and components.
    pub(crate) fn reconfigured(&self, bus: &EventBus, info: &DeviceInfo) {
        let (usb, components) = (usb_status(info), components_status(info));
        let mut s = self.lock();
        if s.usb != usb {
            s.usb = usb;
            bus.publish(USB_EVENT, to_json_bytes(&Connection { status: usb }));
        }
        if s.components != components {
            s.components = components;
            bus.publish(COMPONENTS_EVENT, to_json_bytes(&Connection { status: components }));
        }
    }

    fn publish_leds(&self, bus: &EventBus, change: impl FnOnce(&mut LiveState)) {
        let mut s = self.lock();
        let before = Self::leds(&s);
        change(&mut s);
        let after = Self::leds(&s);
        drop(s);
        if before != after {
            bus.publish(LED_EVENT, leds_json(after));
        }
    }

    /// Identify: the LEDs light for `duration` (on an HDL410 the port-1 bar shows
    /// one LED and the port-2 bar two, which the network LED's blinking stands
    /// for here); `ledStateUpdated` announces the start and the end.
    pub(crate) fn identify(self: &std::sync::Arc<Self>, bus: &EventBus, duration: Duration) {
        self.publish_leds(bus, |s| s.identifying += 1);
        let (me, bus) = (std::sync::Arc::clone(self), bus.clone());
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            me.publish_leds(&bus, |s| s.identifying = s.identifying.saturating_sub(1));
        });
    }

    /// Start a calibration that runs for `duration`; 409 while one runs.
    /// `/api/v1/audio/calibrate` announces `started`, then `completed`.
    pub(crate) fn calibrate(self: &std::sync::Arc<Self>, bus: &EventBus, duration: Duration) -> Result<(), ApiError> {
        {
            let mut s = self.lock();
            if s.calibrating {
                return Err(ApiError::conflict(
                    "calibration_in_progress",
                    "a calibration is already running; wait for /api/v1/audio/calibrate {\"status\":\"completed\"}",
                ));
            }
            s.calibrating = true;
        }
        bus.publish(CALIBRATE_EVENT, calibration_json("started"));
        let (me, bus) = (std::sync::Arc::clone(self), bus.clone());
        tokio::spawn(async move {
            tokio::time::sleep(duration).await;
            me.lock().calibrating = false;
            bus.publish(CALIBRATE_EVENT, calibration_json("completed"));
        });
        Ok(())
    }

    /// Whether a calibration is running.
    #[cfg(test)]
    pub(crate) fn calibrating(&self) -> bool {
        self.lock().calibrating
    }
}

fn leds_json(leds: Leds) -> Bytes {
    to_json_bytes(&serde_json::json!({ "leds": leds }))
}

/// The calibration event's data and the calibrate answer: `{"status": …}`.
pub(crate) fn calibration_json(status: &str) -> Bytes {
    to_json_bytes(&serde_json::json!({ "status": status }))
}

/// The schema of the status document.
pub(crate) fn status_schema() -> serde_json::Value {
    crate::util::named_json(include_str!("schemas.json"), "status")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn identify_and_calibrate_announce_start_and_end() {
        let config = crate::config::Config::from_toml("", std::path::Path::new("/"), "test.toml").unwrap();
        let live = std::sync::Arc::new(DeviceLive::new(&config.device));
        let bus = EventBus::new();
        let mut rx = bus.subscribe();
        live.identify(&bus, Duration::from_millis(50));
        let e = rx.recv().await.unwrap();
        assert_eq!(e.name, LED_EVENT);
        assert!(std::str::from_utf8(&e.data).unwrap().contains("blinking"));
        assert_eq!(live.status().leds.network_a, Led::IDENTIFYING);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(rx.recv().await.unwrap().name, LED_EVENT);
        assert_eq!(live.status().leds.network_a, Led::GREEN);

        live.calibrate(&bus, Duration::from_millis(50)).unwrap();
        assert_eq!(
            live.calibrate(&bus, Duration::from_millis(50)).unwrap_err().code(),
            "calibration_in_progress"
        );
        let started = rx.recv().await.unwrap();
        assert_eq!(
            (started.name, &started.data[..]),
            (CALIBRATE_EVENT, &br#"{"status":"started"}"#[..])
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let done = rx.recv().await.unwrap();
        assert_eq!(&done.data[..], br#"{"status":"completed"}"#);
        assert!(!live.calibrating());
    }
}
