//! The value types every layer shares: who a viewer is, what a video is, one heartbeat, and the
//! record of an expired viewer that the host stores.

use super::keys::{push_u64, push_viewer_stats_key};
use super::sections::{ViewEvent, WatchSection};
use super::session::SessionKey;
use super::stats::{write_json_string_or_null, write_sections_json};
use std::sync::Arc;

/// Where a viewer or a video comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
  /// This instance.
  Local,
  /// Another instance.
  Remote,
}

impl Scope {
  pub(crate) fn index(self) -> usize {
    match self {
      Scope::Local => 0,
      Scope::Remote => 1,
    }
  }

  /// `'local'` / `'remote'`.
  pub fn as_str(self) -> &'static str {
    match self {
      Scope::Local => "local",
      Scope::Remote => "remote",
    }
  }
}

/// The video as the counters know it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VideoInfo {
  /// Local database id.
  pub id: u64,
  /// Video uuid.
  pub uuid: Arc<str>,
  /// Whether another instance owns the video.
  pub remote: bool,
}

impl VideoInfo {
  /// `'local'` or `'remote'`.
  pub fn scope(&self) -> Scope {
    if self.remote {
      Scope::Remote
    } else {
      Scope::Local
    }
  }
}

/// One viewer of one video.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewerId {
  /// Session id (or hashed IP), packed.
  pub session_id: SessionKey,
  /// Local video id.
  pub video_id: u64,
}

impl ViewerId {
  /// Un-prefixed Redis key / set member.
  pub fn member(&self) -> String {
    let mut member = String::with_capacity(64);
    self.write_member(&mut member);
    member
  }

  /// Appends the un-prefixed Redis key / set member to `out`.
  pub fn write_member(&self, out: &mut String) {
    self
      .session_id
      .with_str(|session| push_viewer_stats_key(out, session, self.video_id));
  }
}

/// One validated heartbeat.
#[derive(Clone, Debug)]
pub struct Heartbeat {
  /// Who.
  pub viewer: ViewerId,
  /// Position in seconds.
  pub current_time: u32,
  /// Player event.
  pub event: Option<ViewEvent>,
  /// Client IP, for GeoIP when the viewer is new.
  pub ip: Option<String>,
  /// Video uuid, for log tags.
  pub video_uuid: Option<String>,
}

/// An expired viewer handed to the host for persistence (`localVideoViewer` row + sections).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewerRecord {
  /// Local video id.
  pub video_id: u64,
  /// Viewer identity (session id or hashed IP).
  pub session_id: String,
  /// First heartbeat (ms since the epoch): the row's `startDate`.
  pub first_updated: u64,
  /// Last heartbeat: the row's `endDate`.
  pub last_updated: u64,
  /// Watched sections.
  pub watch_sections: Vec<WatchSection>,
  /// Sum of the sections, in seconds.
  pub watch_time: u64,
  /// Country ISO code.
  pub country: Option<Arc<str>>,
  /// Subdivision English name.
  pub subdivision_name: Option<Arc<str>>,
}

impl ViewerRecord {
  /// Appends the record as the JSON of the object the host receives:
  /// `{ videoId, sessionId, firstUpdated, lastUpdated, watchSections: [{ start, end }],
  /// watchTime, country, subdivisionName }`.
  pub fn write_json(&self, out: &mut String) {
    out.push_str("{\"videoId\":");
    push_u64(out, self.video_id);
    out.push_str(",\"sessionId\":");
    write_json_string_or_null(out, Some(&self.session_id));
    out.push_str(",\"firstUpdated\":");
    push_u64(out, self.first_updated);
    out.push_str(",\"lastUpdated\":");
    push_u64(out, self.last_updated);
    out.push_str(",\"watchSections\":[");
    write_sections_json(out, &self.watch_sections);
    out.push_str("],\"watchTime\":");
    push_u64(out, self.watch_time);
    out.push_str(",\"country\":");
    write_json_string_or_null(out, self.country.as_deref());
    out.push_str(",\"subdivisionName\":");
    write_json_string_or_null(out, self.subdivision_name.as_deref());
    out.push('}');
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn record_json_is_the_host_object() {
    let record = ViewerRecord {
      video_id: 7,
      session_id: "s-\"1".into(),
      first_updated: 1,
      last_updated: 2,
      watch_sections: vec![
        WatchSection { start: 3, end: 9 },
        WatchSection { start: 20, end: 20 },
      ],
      watch_time: 6,
      country: Some(Arc::from("FR")),
      subdivision_name: None,
    };
    let mut out = String::new();
    record.write_json(&mut out);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
      parsed,
      serde_json::json!({ "videoId": 7, "sessionId": "s-\"1", "firstUpdated": 1, "lastUpdated": 2,
        "watchSections": [{ "start": 3, "end": 9 }, { "start": 20, "end": 20 }], "watchTime": 6,
        "country": "FR", "subdivisionName": null })
    );
  }
}
