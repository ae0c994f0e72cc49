//! View counting rules (B10-B13) and their Redis keys (B12, B13).

/// Whether `watch_time` seconds make a view (B10, B11):
/// - a live, or a VOD at least `count_view_after` long: `watch_time >= count_view_after`;
/// - a shorter VOD: more than half of it watched (`duration / watch_time < 2`), never with 0.
pub fn has_enough_watch_time(
  duration: Option<f64>,
  is_live: bool,
  watch_time: u64,
  count_view_after_ms: u64,
) -> bool {
  let threshold = count_view_after_ms as f64 / 1000.0;
  let watched = watch_time as f64;
  match duration {
    _ if is_live => watched >= threshold,
    Some(duration) if duration >= threshold => watched >= threshold,
    Some(duration) => watch_time > 0 && duration / watched < 2.0,
    // A VOD of unknown duration: the absolute threshold.
    None => watched >= threshold,
  }
}

/// `views-{videoUUID}-{identity}`: a counted view of this viewer, with `PX view_expiration`.
pub fn view_key(video_uuid: &str, identity: &str) -> String {
  format!("views-{video_uuid}-{identity}")
}

/// Set of owned videos with buffered views.
pub const LOCAL_VIEWS_BUFFER_SET: &str = "local-video-views-buffer";

/// Buffered view counter of one owned video.
pub fn local_views_buffer_key(video_id: u64) -> String {
  format!("local-video-views-buffer-{video_id}")
}

/// Set of videos viewed during local hour `hour` (0-23).
pub fn hourly_views_set(hour: u32) -> String {
  format!("videos-view-h{hour}")
}

/// View counter of one video during local hour `hour`.
pub fn hourly_views_key(video_id: u64, hour: u32) -> String {
  format!("video-view-{video_id}-h{hour}")
}

#[cfg(test)]
mod tests {
  use super::*;

  const TEN_S: u64 = 10_000;

  #[test]
  fn peertube_view_counter_scenarios() {
    // 5 s VOD: [1,2] watched 1 s -> no view; [1,4] watched 3 s -> a view (50 % rule).
    assert!(!has_enough_watch_time(Some(5.0), false, 1, TEN_S));
    assert!(has_enough_watch_time(Some(5.0), false, 3, TEN_S));
    // Exactly half is not enough: strictly more than half.
    assert!(!has_enough_watch_time(Some(6.0), false, 3, TEN_S));
    assert!(!has_enough_watch_time(Some(5.0), false, 0, TEN_S));
    // count_view_after: '1 second' makes [1,2] count on the 5 s video.
    assert!(has_enough_watch_time(Some(5.0), false, 1, 1_000));
    // Lives and long VODs: absolute threshold.
    assert!(!has_enough_watch_time(None, true, 9, TEN_S));
    assert!(has_enough_watch_time(None, true, 10, TEN_S));
    assert!(!has_enough_watch_time(Some(600.0), false, 9, TEN_S));
    assert!(has_enough_watch_time(Some(10.0), false, 10, TEN_S));
    // Quirk Q13, kept: a 9 s video counts after > 4.5 s, a 10 s video only after 10 s.
    assert!(has_enough_watch_time(Some(9.0), false, 5, TEN_S));
    assert!(!has_enough_watch_time(Some(10.0), false, 9, TEN_S));
  }

  #[test]
  fn keys() {
    assert_eq!(view_key("uuid", "sess"), "views-uuid-sess");
    assert_eq!(local_views_buffer_key(4), "local-video-views-buffer-4");
    assert_eq!(hourly_views_set(0), "videos-view-h0");
    assert_eq!(hourly_views_key(4, 23), "video-view-4-h23");
  }
}
