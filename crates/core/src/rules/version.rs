//! `peertubeVersion`: the PeerTube release whose protocol and data shapes the engine speaks.
//!
//! What changes with the release (see `docs/behaviour.md`, "PeerTube releases"):
//! - from 7.1, viewers federation v2 is PeerTube's only protocol (`USE_VIEWERS_FEDERATION_V2` is
//!   gone): it is the default unless `viewersFederationV2` is given;
//! - from 7.2, user-agent stats: the viewer's Redis JSON and its record carry `client`,
//!   `device` and `operatingSystem`. Never before: a 6.1 or 7.0 value stays byte for byte
//!   PeerTube's.

use super::options::{FromOption, OptionValue, ToOption};
use crate::error::{Error, Result};
use std::fmt;

/// A PeerTube release line, `major.minor` (the patch number changes nothing here).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeerTubeVersion {
  /// Major version.
  pub major: u16,
  /// Minor version.
  pub minor: u16,
}

impl PeerTubeVersion {
  /// PeerTube 6.1, the engine's reference (and the default).
  pub const V6_1: PeerTubeVersion = PeerTubeVersion::new(6, 1);
  /// The first release with viewers federation v2 only.
  pub const FEDERATION_V2_ONLY: PeerTubeVersion = PeerTubeVersion::new(7, 1);
  /// The first release with user-agent stats.
  pub const USER_AGENT_STATS: PeerTubeVersion = PeerTubeVersion::new(7, 2);

  /// `major.minor`.
  pub const fn new(major: u16, minor: u16) -> Self {
    PeerTubeVersion { major, minor }
  }

  /// Parses `'6.1'`, `'7.0.1'`, `'v8.0'`, `'8'`, `'7.1.0-rc.1'`; refuses anything before 6.1.
  pub fn parse(text: &str) -> Result<Self> {
    let bad = || {
      Error::invalid_range(
        "peertubeVersion",
        format!("must be a PeerTube version like '6.1' or '7.0.1' (got '{text}')"),
      )
    };
    let trimmed = text.trim();
    let trimmed = trimmed.strip_prefix(['v', 'V']).unwrap_or(trimmed);
    let release = trimmed.split(['-', '+']).next().unwrap_or("");
    let mut parts = release.split('.');
    let mut number = |required: bool| -> Result<u16> {
      match parts.next() {
        None if !required => Ok(0),
        Some(part) if !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()) => {
          part.parse().map_err(|_| bad())
        }
        _ => Err(bad()),
      }
    };
    let major = number(true)?;
    let minor = number(false)?;
    number(false)?; // patch: checked, not kept
    if parts.next().is_some() {
      return Err(bad());
    }
    let version = PeerTubeVersion::new(major, minor);
    if version < PeerTubeVersion::V6_1 {
      return Err(Error::invalid_range(
        "peertubeVersion",
        format!("must be 6.1 or later (got '{text}'): the engine speaks PeerTube 6.1's protocol and newer ones"),
      ));
    }
    Ok(version)
  }

  /// Whether PeerTube speaks only viewers federation v2 (7.1 and later).
  pub fn federation_v2_only(self) -> bool {
    self >= PeerTubeVersion::FEDERATION_V2_ONLY
  }

  /// Whether viewers carry user-agent stats (7.2 and later).
  pub fn user_agent_stats(self) -> bool {
    self >= PeerTubeVersion::USER_AGENT_STATS
  }
}

impl Default for PeerTubeVersion {
  fn default() -> Self {
    PeerTubeVersion::V6_1
  }
}

impl fmt::Display for PeerTubeVersion {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}.{}", self.major, self.minor)
  }
}

impl FromOption for PeerTubeVersion {
  fn from_option(name: &str, value: OptionValue) -> Result<Self> {
    PeerTubeVersion::parse(&String::from_option(name, value)?)
  }
}

impl ToOption for PeerTubeVersion {
  fn to_option(&self) -> OptionValue {
    OptionValue::Text(self.to_string())
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn parses_release_names() {
    let v = |s| PeerTubeVersion::parse(s).map(|v| v.to_string());
    assert_eq!(v("6.1").unwrap(), "6.1");
    assert_eq!(v("6.1.0").unwrap(), "6.1");
    assert_eq!(v(" v7.0.1 ").unwrap(), "7.0");
    assert_eq!(v("7.1.0-rc.1").unwrap(), "7.1");
    assert_eq!(v("8").unwrap(), "8.0");
    assert_eq!(v("10.12").unwrap(), "10.12");
    for bad in [
      "", "6", "6.0.4", "seven", "7..1", "7.1.0.3", "7.x", "-7.1", "99999.1",
    ] {
      assert!(v(bad).is_err(), "{bad}");
    }
  }

  #[test]
  fn features_by_release() {
    let p = |s| PeerTubeVersion::parse(s).unwrap();
    assert!(!p("6.1").federation_v2_only() && !p("7.0.1").federation_v2_only());
    assert!(p("7.1").federation_v2_only() && p("8.0").federation_v2_only());
    assert!(!p("7.1").user_agent_stats());
    assert!(p("7.2").user_agent_stats() && p("8.2.3").user_agent_stats());
    assert_eq!(PeerTubeVersion::default(), p("6.1"));
  }
}
