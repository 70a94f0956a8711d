//! Which device this is: the model (HDL310 or HDL410) and the firmware version, the
//! two facts that decide which vendor features exist. A leaf: the configuration
//! parses `[device] model` and `firmware_version` straight into these types.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The vendor's device models this reference device can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// One microphone-and-speaker bar.
    Hdl310,
    /// Two bars (ports 1 and 2): sound-location coordinates, zones, camera
    /// switching and room profiles.
    Hdl410,
}

impl Model {
    /// The vendor's spelling (`hdl310`, `hdl410`).
    pub fn as_str(self) -> &'static str {
        match self {
            Model::Hdl310 => "hdl310",
            Model::Hdl410 => "hdl410",
        }
    }

    /// Microphone-and-speaker bars the model has.
    pub fn bars(self) -> u8 {
        match self {
            Model::Hdl310 => 1,
            Model::Hdl410 => 2,
        }
    }

    /// Whether the model has the HDL410's features (coordinates, zones, camera
    /// switching, room profiles).
    pub fn is_hdl410(self) -> bool {
        self == Model::Hdl410
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A firmware version in the vendor's format, `MAJOR.MINOR.BUILD-REVISION`
/// (e.g. `1.9.278056-0`). Features are gated by major and minor only; the build
/// and revision are reported as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Firmware {
    text: String,
    release: Release,
}

/// The `MAJOR.MINOR` part of a firmware version: what features are gated by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release(pub u16, pub u16);

impl Release {
    /// As one number (major in the high half), for an atomic.
    pub(crate) fn packed(self) -> u32 {
        (u32::from(self.0) << 16) | u32::from(self.1)
    }

    /// From [`Release::packed`].
    pub(crate) fn unpacked(packed: u32) -> Release {
        Release((packed >> 16) as u16, packed as u16)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

/// Why a firmware version was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a firmware version like 1.9.278056-0")]
pub struct BadFirmware(String);

impl Firmware {
    /// Parse `MAJOR.MINOR.BUILD-REVISION`; `MAJOR.MINOR.BUILD` and `MAJOR.MINOR`
    /// are accepted too (and reported as written).
    pub fn parse(text: &str) -> Result<Firmware, BadFirmware> {
        let bad = || BadFirmware(text.chars().filter(|c| !c.is_control()).take(40).collect());
        let (numbers, revision) = text.split_once('-').unwrap_or((text, "0"));
        let parts: Vec<&str> = numbers.split('.').collect();
        let number = |s: &str| -> Result<u32, BadFirmware> {
            if s.is_empty() || s.len() > 9 || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            s.parse().map_err(|_| bad())
        };
        if !(2..=3).contains(&parts.len()) {
            return Err(bad());
        }
        for p in &parts[2..] {
            number(p)?;
        }
        number(revision)?;
        let small = |s: &str| number(s).and_then(|n| u16::try_from(n).map_err(|_| bad()));
        Ok(Firmware {
            text: text.to_string(),
            release: Release(small(parts[0])?, small(parts[1])?),
        })
    }

    /// Major and minor.
    pub fn release(&self) -> Release {
        self.release
    }

    /// As configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this firmware has a feature that came with `since`.
    pub fn has(&self, since: Release) -> bool {
        self.release >= since
    }
}

impl TryFrom<String> for Firmware {
    type Error = BadFirmware;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Firmware::parse(&s)
    }
}

impl From<Firmware> for String {
    fn from(f: Firmware) -> String {
        f.text
    }
}

impl fmt::Display for Firmware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vendor_versions_parse_and_compare_by_release() {
        let f = Firmware::parse("1.9.278056-0").unwrap();
        assert_eq!(f.release(), Release(1, 9));
        assert_eq!(f.as_str(), "1.9.278056-0");
        assert!(f.has(Release(1, 9)) && f.has(Release(0, 9)) && !f.has(Release(2, 0)));
        assert!(Firmware::parse("2.0").unwrap().has(Release(1, 10)));
        assert_eq!(Firmware::parse("1.10.5").unwrap().release(), Release(1, 10));
        for bad in [
            "",
            "1",
            "1.x.3",
            "1.9.3.4",
            "1.9.-0",
            "1.9.3-",
            "v1.9",
            "1.9.3-0-1",
            "99999.1",
        ] {
            assert!(Firmware::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn models_spell_like_the_vendor() {
        assert_eq!(serde_json::to_value(Model::Hdl410).unwrap(), "hdl410");
        assert_eq!(Model::Hdl310.bars(), 1);
        assert!(serde_json::from_value::<Model>("HDL310".into()).is_err());
    }
}
