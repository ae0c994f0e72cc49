//! `LocalViewerStats`: the per-(session, video) statistics object and its Redis JSON.
//!
//! The JSON is byte-compatible with PeerTube's `JSON.stringify` of the object literal, field order
//! `firstUpdated, lastUpdated, watchSections, watchTime, country, subdivisionName, videoId`.
//! From PeerTube 7.2 the object also carries `client, device, operatingSystem` (before
//! `videoId`; see `docs/behaviour.md`, "User-agent stats"): written only for a viewer that has
//! them ([`ViewerStats::agent`]), so a 6.1 value never changes.

use super::json::JsonObject;
use super::sections::{apply_heartbeat, watch_time, Sections, ViewEvent, WatchSection};
use super::types::{Heartbeat, ViewerId, ViewerRecord};
use super::user_agent::{Device, UserAgentStats};
use serde::Deserialize;
use std::sync::Arc;

/// Where a viewer is, from GeoIP. Both fields are `None` when GeoIP is disabled or failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GeoLocation {
  /// ISO 3166-1 country code from the country database.
  pub country: Option<Arc<str>>,
  /// English name of the most precise subdivision from the city database.
  pub subdivision_name: Option<Arc<str>>,
}

/// A viewer's location: `None` when unknown, else shared by every viewer of that place.
pub type Location = Option<Arc<GeoLocation>>;

/// A viewer's user-agent stats: `None` for a release without them (the JSON has no such
/// fields), else shared by every viewer of that user agent.
pub type Agent = Option<Arc<UserAgentStats>>;

/// What a heartbeat did to a stats object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeartbeatOutcome {
  /// Sections and `lastUpdated` were updated.
  Updated,
  /// The viewer already has the maximum number of sections: nothing was changed (B8).
  SectionCapReached,
}

/// One viewer's statistics for one video.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewerStats {
  /// First heartbeat, ms since the epoch.
  pub first_updated: u64,
  /// Last heartbeat, ms since the epoch.
  pub last_updated: u64,
  /// Watched sections, in order of creation.
  pub watch_sections: Sections,
  /// GeoIP result, looked up once when the object was created.
  pub location: Location,
  /// User-agent stats (PeerTube >= 7.2), derived once when the object was created.
  pub agent: Agent,
  /// Local database id of the video.
  pub video_id: u64,
}

impl ViewerStats {
  /// A fresh stats object, as PeerTube creates it on the first heartbeat (no user-agent
  /// stats: set [`Self::agent`] for a release that has them).
  pub fn new(now_ms: u64, video_id: u64, location: Location) -> Self {
    ViewerStats {
      first_updated: now_ms,
      last_updated: now_ms,
      watch_sections: Sections::Empty,
      location,
      agent: None,
      video_id,
    }
  }

  /// The stats a viewer's first heartbeat creates (GeoIP gave `location`, the user agent
  /// `agent`).
  pub fn from_heartbeat(now_ms: u64, beat: &Heartbeat, location: Location, agent: Agent) -> Self {
    ViewerStats {
      agent,
      ..ViewerStats::new(now_ms, beat.viewer.video_id, location)
    }
  }

  /// The record the host stores for this viewer once it expired (B28).
  pub fn to_record(&self, viewer: &ViewerId) -> ViewerRecord {
    ViewerRecord {
      video_id: self.video_id,
      session_id: viewer.session_id.to_string(),
      first_updated: self.first_updated,
      last_updated: self.last_updated,
      watch_sections: self.watch_sections.as_slice().to_vec(),
      watch_time: self.watch_time(),
      country: self.location.as_ref().and_then(|l| l.country.clone()),
      subdivision_name: self
        .location
        .as_ref()
        .and_then(|l| l.subdivision_name.clone()),
      client: self.agent.as_ref().map(|a| a.client.clone()),
      device: self.agent.as_ref().map(|a| a.device),
      operating_system: self.agent.as_ref().map(|a| a.operating_system.clone()),
    }
  }

  /// ISO country code, if known.
  pub fn country(&self) -> Option<&str> {
    self.location.as_ref()?.country.as_deref()
  }

  /// Subdivision name, if known.
  pub fn subdivision_name(&self) -> Option<&str> {
    self.location.as_ref()?.subdivision_name.as_deref()
  }

  /// Watch time in seconds (sum of the sections).
  pub fn watch_time(&self) -> u64 {
    watch_time(self.watch_sections.as_slice())
  }

  /// Applies a heartbeat (B6-B8).
  pub fn heartbeat(
    &mut self,
    now_ms: u64,
    current_time: u32,
    event: Option<ViewEvent>,
    max_sections: usize,
  ) -> HeartbeatOutcome {
    if self.watch_sections.len() >= max_sections {
      return HeartbeatOutcome::SectionCapReached;
    }
    self.last_updated = now_ms;
    apply_heartbeat(&mut self.watch_sections, current_time, event);
    HeartbeatOutcome::Updated
  }

  /// True when the viewer has been inactive for at least `lifetime_ms` (B27).
  pub fn is_expired(&self, now_ms: u64, lifetime_ms: u64) -> bool {
    self.last_updated <= now_ms.saturating_sub(lifetime_ms)
  }

  /// Puts an older object of the same viewer in front of this one: its sections come first,
  /// its `firstUpdated` is kept, and so are its location and user agent when it has them. Used when two objects of one viewer must become one again.
  pub fn prepend(&mut self, older: ViewerStats) {
    let mut sections = older.watch_sections.as_slice().to_vec();
    sections.extend_from_slice(self.watch_sections.as_slice());
    self.watch_sections = Sections::from(sections);
    self.first_updated = self.first_updated.min(older.first_updated);
    self.last_updated = self.last_updated.max(older.last_updated);
    // What the first heartbeat found (GeoIP, the user agent) belongs to the older object.
    if older.location.is_some() {
      self.location = older.location;
    }
    if older.agent.is_some() {
      self.agent = older.agent;
    }
  }

  /// The Redis value, byte for byte what PeerTube's `JSON.stringify` writes.
  pub fn to_json(&self) -> String {
    let mut out = String::with_capacity(160 + self.watch_sections.len() * 24);
    self.write_json(&mut out);
    out
  }

  /// Appends the Redis value to `out`, fields in PeerTube's order.
  pub fn write_json(&self, out: &mut String) {
    let mut object = JsonObject::new(out);
    object
      .field("firstUpdated", &self.first_updated)
      .field("lastUpdated", &self.last_updated)
      .field("watchSections", self.watch_sections.as_slice())
      .field("watchTime", &self.watch_time())
      .field("country", &self.country())
      .field("subdivisionName", &self.subdivision_name());
    if let Some(agent) = &self.agent {
      object
        .field("client", &agent.client)
        .field("device", &agent.device)
        .field("operatingSystem", &agent.operating_system);
    }
    object.field("videoId", &self.video_id);
    object.end();
  }

  /// Parses a Redis value written by PeerTube or by this engine.
  pub fn from_json(json: &str) -> Result<Self, String> {
    let raw: RawStats = serde_json::from_str(json).map_err(|e| format!("invalid JSON: {e}"))?;
    let sections = raw
      .watch_sections
      .into_iter()
      .map(|s| {
        let start = seconds(s.start, "watchSections[].start")?;
        let end = seconds(s.end, "watchSections[].end")?;
        Ok(WatchSection {
          start,
          end: end.max(start),
        })
      })
      .collect::<Result<Vec<_>, String>>()?;
    Ok(ViewerStats {
      first_updated: timestamp(raw.first_updated, "firstUpdated")?,
      last_updated: timestamp(raw.last_updated, "lastUpdated")?,
      watch_sections: Sections::from(sections),
      location: match (raw.country, raw.subdivision_name) {
        (None, None) => None,
        (country, subdivision_name) => Some(Arc::new(GeoLocation {
          country: country.map(Arc::from),
          subdivision_name: subdivision_name.map(Arc::from),
        })),
      },
      agent: match (raw.client, raw.device, raw.operating_system) {
        (None, None, None) => None,
        (client, device, operating_system) => Some(Arc::new(UserAgentStats {
          client: client.flatten().map(Arc::from),
          device: device.flatten().as_deref().and_then(Device::from_name),
          operating_system: operating_system.flatten().map(Arc::from),
        })),
      },
      video_id: integer(raw.video_id, "videoId", u64::MAX as f64)?,
    })
  }
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or a value.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
  deserializer: D,
) -> Result<Option<Option<T>>, D::Error> {
  Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStats {
  first_updated: f64,
  last_updated: f64,
  #[serde(default)]
  watch_sections: Vec<RawSection>,
  #[serde(default)]
  country: Option<String>,
  #[serde(default)]
  subdivision_name: Option<String>,
  #[serde(default, deserialize_with = "present")]
  client: Option<Option<String>>,
  #[serde(default, deserialize_with = "present")]
  device: Option<Option<String>>,
  #[serde(default, deserialize_with = "present")]
  operating_system: Option<Option<String>>,
  video_id: f64,
}

#[derive(Deserialize)]
struct RawSection {
  #[serde(default)]
  start: Option<f64>,
  #[serde(default)]
  end: Option<f64>,
}

fn integer(value: f64, field: &str, max: f64) -> Result<u64, String> {
  if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= max {
    Ok(value as u64)
  } else {
    Err(format!("{field} is not a valid integer: {value}"))
  }
}

fn timestamp(value: f64, field: &str) -> Result<u64, String> {
  integer(value, field, 9_007_199_254_740_991.0)
}

/// PeerTube stores `start || 0`: a missing section bound counts as 0.
fn seconds(value: Option<f64>, field: &str) -> Result<u32, String> {
  let value = value.unwrap_or(0.0);
  integer(value, field, f64::from(u32::MAX)).map(|v| v as u32)
}

#[cfg(test)]
mod tests {
  use super::*;

  const PEERTUBE_JSON: &str = r#"{"firstUpdated":1712240000000,"lastUpdated":1712240035000,"watchSections":[{"start":0,"end":35}],"watchTime":35,"country":"FR","subdivisionName":"Brittany","videoId":42}"#;

  fn geo(country: &str, sub: &str) -> Location {
    Some(Arc::new(GeoLocation {
      country: Some(country.into()),
      subdivision_name: Some(sub.into()),
    }))
  }

  #[test]
  fn json_is_byte_compatible_with_peertube() {
    let stats = ViewerStats {
      first_updated: 1_712_240_000_000,
      last_updated: 1_712_240_035_000,
      watch_sections: vec![WatchSection { start: 0, end: 35 }].into(),
      location: geo("FR", "Brittany"),
      agent: None,
      video_id: 42,
    };
    assert_eq!(stats.to_json(), PEERTUBE_JSON);
    assert_eq!(ViewerStats::from_json(PEERTUBE_JSON).unwrap(), stats);
  }

  #[test]
  fn user_agent_fields_before_video_id_and_read_back_in_any_order() {
    let mut stats = ViewerStats::new(5, 7, None);
    stats.agent = Some(Arc::new(UserAgentStats {
      client: Some("Firefox".into()),
      device: Some(Device::Desktop),
      operating_system: None,
    }));
    let json = stats.to_json();
    assert_eq!(
      json,
      r#"{"firstUpdated":5,"lastUpdated":5,"watchSections":[],"watchTime":0,"country":null,"subdivisionName":null,"client":"Firefox","device":"desktop","operatingSystem":null,"videoId":7}"#
    );
    assert_eq!(ViewerStats::from_json(&json).unwrap(), stats);
    let other =
      r#"{"videoId":7,"device":"fridge","firstUpdated":5,"lastUpdated":5,"watchSections":[]}"#;
    let parsed = ViewerStats::from_json(other).unwrap();
    assert_eq!(parsed.agent.as_deref(), Some(&UserAgentStats::default()));
    assert_eq!(ViewerStats::from_json(PEERTUBE_JSON).unwrap().agent, None);
  }

  #[test]
  fn json_of_a_new_viewer_without_geoip() {
    let stats = ViewerStats::new(5, 7, None);
    assert_eq!(
      stats.to_json(),
      r#"{"firstUpdated":5,"lastUpdated":5,"watchSections":[],"watchTime":0,"country":null,"subdivisionName":null,"videoId":7}"#
    );
  }

  #[test]
  fn json_escapes_like_json_stringify() {
    let stats = ViewerStats::new(1, 1, geo("X\"Y", "Île-de-France\u{1}\n"));
    let json = stats.to_json();
    assert!(json.contains(r#""country":"X\"Y""#), "{json}");
    assert!(
      json.contains(r#""subdivisionName":"Île-de-France\u0001\n""#),
      "{json}"
    );
  }

  #[test]
  fn parses_other_field_orders_and_missing_bounds() {
    let json = r#"{"videoId":3,"watchTime":9,"watchSections":[{"start":4},{"end":2,"start":1}],"lastUpdated":2,"firstUpdated":1,"country":null}"#;
    let stats = ViewerStats::from_json(json).unwrap();
    assert_eq!(
      stats.watch_sections,
      vec![
        WatchSection { start: 4, end: 4 },
        WatchSection { start: 1, end: 2 }
      ]
    );
    assert_eq!(stats.watch_time(), 1);
    assert_eq!(stats.location, None);
  }

  #[test]
  fn rejects_corrupt_values() {
    assert!(ViewerStats::from_json("not json").is_err());
    assert!(ViewerStats::from_json("null").is_err());
    assert!(ViewerStats::from_json(r#"{"firstUpdated":1}"#).is_err());
    assert!(ViewerStats::from_json(
      r#"{"firstUpdated":1,"lastUpdated":1,"watchSections":[{"start":-1,"end":2}],"videoId":1}"#
    )
    .is_err());
    assert!(ViewerStats::from_json(
      r#"{"firstUpdated":1,"lastUpdated":1,"watchSections":[{"start":1.5,"end":2}],"videoId":1}"#
    )
    .is_err());
  }

  #[test]
  fn section_cap_leaves_everything_untouched() {
    let mut stats = ViewerStats::new(1, 1, None);
    for t in 0..3 {
      assert_eq!(
        stats.heartbeat(10 + t, t as u32, Some(ViewEvent::Seek), 3),
        HeartbeatOutcome::Updated
      );
    }
    let before = stats.clone();
    assert_eq!(
      stats.heartbeat(99, 50, None, 3),
      HeartbeatOutcome::SectionCapReached
    );
    assert_eq!(stats, before);
  }

  #[test]
  fn expiry_is_inclusive() {
    let mut stats = ViewerStats::new(1_000, 1, None);
    stats.last_updated = 1_000;
    assert!(!stats.is_expired(1_999, 1_000));
    assert!(stats.is_expired(2_000, 1_000));
  }

  #[test]
  fn prepend_keeps_every_section_once() {
    let mut old = ViewerStats::new(10, 1, geo("FR", "Brittany"));
    old.heartbeat(20, 0, None, 100);
    old.heartbeat(30, 5, None, 100);
    let mut new = ViewerStats::new(100, 1, None);
    new.heartbeat(100, 8, None, 100);
    new.heartbeat(110, 12, None, 100);
    new.prepend(old);
    assert_eq!(new.first_updated, 10);
    assert_eq!(new.last_updated, 110);
    assert_eq!(new.watch_time(), 9);
    assert_eq!(new.watch_sections.len(), 2);
    assert_eq!(new.location, geo("FR", "Brittany"));
  }
}
