//! Wall clock in milliseconds since the epoch, like `Date.now()`.

/// `Date.now()`: one vDSO `clock_gettime` and integer arithmetic (every heartbeat reads it).
#[cfg(unix)]
pub fn now_ms() -> u64 {
  let mut ts = libc::timespec {
    tv_sec: 0,
    tv_nsec: 0,
  };
  // SAFETY: `ts` is a valid out-pointer; CLOCK_REALTIME is always available.
  if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) } != 0 || ts.tv_sec < 0 {
    return 0;
  }
  ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// `Date.now()`.
#[cfg(not(unix))]
pub fn now_ms() -> u64 {
  use std::time::{SystemTime, UNIX_EPOCH};
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_millis() as u64)
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::time::{SystemTime, UNIX_EPOCH};

  #[test]
  fn agrees_with_system_time() {
    let before = SystemTime::now()
      .duration_since(UNIX_EPOCH)
      .unwrap()
      .as_millis() as u64;
    let now = now_ms();
    let after = SystemTime::now()
      .duration_since(UNIX_EPOCH)
      .unwrap()
      .as_millis() as u64;
    assert!(
      before <= now && now <= after,
      "{before} <= {now} <= {after}"
    );
  }
}
