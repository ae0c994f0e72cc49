//! Redis key names, byte-compatible with PeerTube's `server/core/lib/redis.ts` (v6.1).
//!
//! Every key is prefixed with `redis-{webserverHost}-`; set members are stored without prefix.

/// The set of viewer stats keys (members are un-prefixed viewer keys).
pub const VIEWER_STATS_SET: &str = "local-video-viewer-stats-keys";

const VIEWER_STATS_KEY_PREFIX: &str = "local-video-viewer-stats-";

/// This engine's processing lease, one per viewer set (not a PeerTube key: PeerTube never
/// reads it).
pub const PROCESS_LEASE_KEY: &str = "native-views-process-lease";

/// PeerTube's Redis prefix: `redis-{webserverHost}-`.
pub fn redis_prefix(webserver_host: &str) -> String {
  format!("redis-{webserver_host}-")
}

/// Un-prefixed viewer stats key: `local-video-viewer-stats-{sessionId}-{videoId}`.
pub fn viewer_stats_key(session_id: &str, video_id: u64) -> String {
  let mut key = String::with_capacity(VIEWER_STATS_KEY_PREFIX.len() + session_id.len() + 21);
  push_viewer_stats_key(&mut key, session_id, video_id);
  key
}

/// Appends the un-prefixed viewer stats key [`viewer_stats_key`] to `out`.
pub fn push_viewer_stats_key(out: &mut String, session_id: &str, video_id: u64) {
  out.push_str(VIEWER_STATS_KEY_PREFIX);
  out.push_str(session_id);
  out.push('-');
  push_u64(out, video_id);
}

/// Splits an un-prefixed viewer stats key back into `(sessionId, videoId)`.
///
/// Session ids may contain `-`, video ids never do, so the split is on the last `-`.
pub fn parse_viewer_stats_key(key: &str) -> Option<(&str, u64)> {
  let rest = key.strip_prefix(VIEWER_STATS_KEY_PREFIX)?;
  let (session, video) = rest.rsplit_once('-')?;
  if session.is_empty() || video.is_empty() || !video.bytes().all(|b| b.is_ascii_digit()) {
    return None;
  }
  Some((session, video.parse().ok()?))
}

/// Appends `value` in decimal (no `core::fmt`: this runs for every viewer written).
pub fn push_u64(out: &mut String, value: u64) {
  out.push_str(itoa::Buffer::new().format(value));
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn keys_match_peertube() {
    assert_eq!(redis_prefix("127.0.0.1:9001"), "redis-127.0.0.1:9001-");
    assert_eq!(redis_prefix("tube.example"), "redis-tube.example-");
    assert_eq!(
      viewer_stats_key("a1b2-c3", 42),
      "local-video-viewer-stats-a1b2-c3-42"
    );
  }

  #[test]
  fn parse_round_trips_and_rejects_garbage() {
    assert_eq!(
      parse_viewer_stats_key("local-video-viewer-stats-a1b2-c3-42"),
      Some(("a1b2-c3", 42))
    );
    assert_eq!(parse_viewer_stats_key("local-video-viewer-stats--42"), None);
    assert_eq!(
      parse_viewer_stats_key("local-video-viewer-stats-abc-"),
      None
    );
    assert_eq!(
      parse_viewer_stats_key("local-video-viewer-stats-abc-4x"),
      None
    );
    assert_eq!(parse_viewer_stats_key("views-abc-42"), None);
  }
}
