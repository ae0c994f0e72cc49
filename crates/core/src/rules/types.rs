//! The value types every layer shares: who a viewer is, what a video is, one heartbeat, and the
//! record of an expired viewer that the host stores.

use super::keys::push_viewer_stats_key;
use super::sections::{ViewEvent, WatchSection};
use super::session::SessionKey;
use super::shape::record;
use super::user_agent::{Device, UserAgentInput};
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
  /// User agent and the body's fields, for user-agent stats when the viewer is new.
  pub agent: Option<UserAgentInput>,
}

impl Heartbeat {
  /// A heartbeat with what every heartbeat has; the optional fields are set by their readers
  /// (`Heartbeat { ip, ..Heartbeat::new(...) }`), so adding one changes no other constructor.
  pub fn new(viewer: ViewerId, current_time: u32, event: Option<ViewEvent>) -> Self {
    Heartbeat {
      viewer,
      current_time,
      event,
      ip: None,
      video_uuid: None,
      agent: None,
    }
  }
}

record! {
  /// An expired viewer handed to `saveViewerStats` (a `localVideoViewer` row and its sections).
  pub struct ViewerRecord as "ViewerStatsRecord" {
    /// Local video id.
    video_id: u64 = "videoId",
    /// Viewer identity (session id or hashed IP).
    session_id: String = "sessionId",
    /// First heartbeat, ms since the epoch: the row's `startDate`.
    first_updated: u64 = "firstUpdated",
    /// Last heartbeat, ms since the epoch: the row's `endDate`.
    last_updated: u64 = "lastUpdated",
    /// Watched sections.
    watch_sections: Vec<WatchSection> = "watchSections",
    /// Sum of the sections, seconds; always > 0 here.
    watch_time: u64 = "watchTime",
    /// Country ISO code.
    country: Option<Arc<str>> = "country",
    /// English name of the most precise subdivision.
    subdivision_name: Option<Arc<str>> = "subdivisionName",
    /// Browser or app (PeerTube >= 7.2, the row's `client`; absent before).
    client: Option<Option<Arc<str>>> = "client",
    /// Device type (PeerTube >= 7.2, the row's `device`; absent before).
    device: Option<Option<Device>> = "device",
    /// Operating system (PeerTube >= 7.2, the row's `operatingSystem`; absent before).
    operating_system: Option<Option<Arc<str>>> = "operatingSystem",
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
      client: None,
      device: None,
      operating_system: None,
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

  #[test]
  fn user_agent_fields_are_written_only_when_present() {
    let record = ViewerRecord {
      video_id: 1,
      session_id: "s".into(),
      first_updated: 1,
      last_updated: 2,
      watch_sections: vec![],
      watch_time: 1,
      country: None,
      subdivision_name: None,
      client: Some(Some(Arc::from("Firefox"))),
      device: Some(Some(Device::SmartTv)),
      operating_system: Some(None),
    };
    let mut out = String::new();
    record.write_json(&mut out);
    assert!(
      out.ends_with(
        r#""subdivisionName":null,"client":"Firefox","device":"smarttv","operatingSystem":null}"#
      ),
      "{out}"
    );
    let optional: Vec<_> = ViewerRecord::SHAPE
      .fields
      .iter()
      .filter(|f| f.optional)
      .map(|f| f.name)
      .collect();
    assert_eq!(optional, ["client", "device", "operatingSystem"]);
  }
}
