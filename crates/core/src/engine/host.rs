//! What the engines need from the host (PeerTube's JavaScript): persistence and federation.

use crate::core::keys::push_u64;
use crate::core::sections::WatchSection;
use crate::core::stats::{write_json_string_or_null, write_sections_json};
use crate::error::Result;
use std::future::Future;
use std::sync::Arc;

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

/// Persistence of viewer stats.
pub trait StatsHost: Send + Sync + 'static {
  /// Stores each viewer of a batch (the host stores them one by one, concurrently): one outcome
  /// per record, in order; `Ok` means stored and the engine then deletes it from Redis. An outer
  /// `Err` means the batch could not run at all (every record counts as failed).
  fn save_viewer_stats(
    &self,
    records: Vec<ViewerRecord>,
  ) -> impl Future<Output = Result<Vec<Result<()>>>> + Send;
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
