//! Input rules (decision D3). The binding reads JS values into Rust primitives and calls these,
//! so the rules are the same for every entry point and tested here.

use super::sections::ViewEvent;
use crate::error::{Error, Result};

/// Longest accepted session id, in UTF-8 bytes. PeerTube 6.1 accepts any `sessionId`; this
/// bound only keeps one viewer's key (Redis key, set member, cache entry) small.
pub const MAX_SESSION_ID_LENGTH: usize = 256;
/// Largest accepted `currentTime`, in seconds (about 136 years).
pub const MAX_CURRENT_TIME: f64 = u32::MAX as f64;
/// `Number.MAX_SAFE_INTEGER`.
pub const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A session id: any text of 1 to [`MAX_SESSION_ID_LENGTH`] bytes. PeerTube 6.1 does not
/// validate it (its tests send `'8.8.8.8,127.0.0.1'`), and Redis keys and the JSON writers take
/// any text, so only the length is bounded.
pub fn session_id(field: &str, value: &str) -> Result<()> {
  if value.is_empty() {
    return Err(Error::invalid_range(field, "must not be empty"));
  }
  if value.len() > MAX_SESSION_ID_LENGTH {
    return Err(Error::invalid_range(
      field,
      format!(
        "must be at most {MAX_SESSION_ID_LENGTH} bytes long (got {})",
        value.len()
      ),
    ));
  }
  Ok(())
}

/// A playback position in whole seconds: finite, `>= 0`, an integer (as PeerTube's validator).
pub fn current_time(field: &str, value: f64) -> Result<u32> {
  if !value.is_finite() {
    return Err(Error::invalid_range(
      field,
      format!("must be finite (got {value})"),
    ));
  }
  if value < 0.0 {
    return Err(Error::invalid_range(
      field,
      format!("must be >= 0 (got {value})"),
    ));
  }
  if value.fract() != 0.0 {
    return Err(Error::invalid_range(
      field,
      format!("must be an integer number of seconds (got {value})"),
    ));
  }
  if value > MAX_CURRENT_TIME {
    return Err(Error::invalid_range(
      field,
      format!("must be <= {MAX_CURRENT_TIME} (got {value})"),
    ));
  }
  Ok(value as u32)
}

/// A database id: a positive safe integer.
pub fn database_id(field: &str, value: f64) -> Result<u64> {
  if value.is_finite() && value.fract() == 0.0 && (1.0..=MAX_SAFE_INTEGER).contains(&value) {
    Ok(value as u64)
  } else {
    Err(Error::invalid_range(
      field,
      format!("must be a positive integer (got {value})"),
    ))
  }
}

/// The player event: absent, or `'seek'`.
pub fn view_event(field: &str, value: Option<&str>) -> Result<Option<ViewEvent>> {
  match value {
    None => Ok(None),
    Some("seek") => Ok(Some(ViewEvent::Seek)),
    Some(other) => Err(Error::invalid_range(
      field,
      format!("must be 'seek' or absent (got '{}')", truncate(other, 32)),
    )),
  }
}

/// A duration in milliseconds that must be positive (intervals, lifetimes).
pub fn positive_duration_ms(field: &str, ms: f64) -> Result<u64> {
  if (1.0..=MAX_SAFE_INTEGER).contains(&ms) {
    Ok(ms.round() as u64)
  } else {
    Err(Error::invalid_range(
      field,
      format!("must be a positive duration (got {ms} ms)"),
    ))
  }
}

/// Cuts a string for an error message, on a character boundary.
pub fn truncate(text: &str, max_chars: usize) -> String {
  match text.char_indices().nth(max_chars) {
    Some((i, _)) => format!("{}...", &text[..i]),
    None => text.to_string(),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::error::{ArgumentErrorKind, ErrorCode};

  #[test]
  fn session_ids() {
    // Whatever PeerTube 6.1 accepts, within the length bound.
    for good in [
      "abc-DEF-123",
      "8.8.8.8,127.0.0.1",
      "a b",
      "a_b",
      "é",
      "a\0",
      "../x",
      "a:b",
      "\"quoted\"\n",
    ] {
      assert!(session_id("s", good).is_ok(), "{good:?}");
    }
    assert!(session_id("s", &"a".repeat(MAX_SESSION_ID_LENGTH)).is_ok());
    for bad in [String::new(), "a".repeat(MAX_SESSION_ID_LENGTH + 1)] {
      let err = session_id("sessionId", &bad).unwrap_err();
      assert_eq!(err.code, ErrorCode::InvalidArgument);
      assert_eq!(err.argument_kind, ArgumentErrorKind::Range);
      assert!(err.message.starts_with("sessionId "), "{}", err.message);
    }
    // The bound is in bytes: 128 two-byte characters fit, one more does not.
    assert!(session_id("s", &"é".repeat(MAX_SESSION_ID_LENGTH / 2)).is_ok());
    assert!(session_id("s", &"é".repeat(MAX_SESSION_ID_LENGTH / 2 + 1)).is_err());
  }

  #[test]
  fn current_times() {
    assert_eq!(current_time("t", 0.0).unwrap(), 0);
    assert_eq!(current_time("t", 35.0).unwrap(), 35);
    assert_eq!(current_time("t", MAX_CURRENT_TIME).unwrap(), u32::MAX);
    for bad in [
      -1.0,
      5.5,
      f64::NAN,
      f64::INFINITY,
      f64::NEG_INFINITY,
      1e300,
      MAX_CURRENT_TIME + 1.0,
    ] {
      assert!(current_time("currentTime", bad).is_err(), "{bad}");
    }
  }

  #[test]
  fn ids_and_events() {
    assert_eq!(database_id("id", 42.0).unwrap(), 42);
    for bad in [0.0, -1.0, 1.5, f64::NAN, 1e17] {
      assert!(database_id("id", bad).is_err(), "{bad}");
    }
    assert_eq!(view_event("e", None).unwrap(), None);
    assert_eq!(
      view_event("e", Some("seek")).unwrap(),
      Some(ViewEvent::Seek)
    );
    assert!(view_event("e", Some("play")).is_err());
    assert!(view_event("e", Some("")).is_err());
  }

  #[test]
  fn truncate_respects_char_boundaries() {
    assert_eq!(truncate("ééé", 2), "éé...");
    assert_eq!(truncate("ab", 5), "ab");
  }
}
