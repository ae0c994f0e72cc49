//! The server's local time, as JS `Date#getHours()` sees it (hourly view stats use it, Q12).

/// Local hour (0-23) of `epoch_ms`.
pub fn local_hour(epoch_ms: u64) -> u32 {
  local_tm(epoch_ms).map_or(0, |tm| tm.tm_hour as u32)
}

/// Start and end (ms, inclusive) of local hour `hour` on the local day of `epoch_ms`; if that
/// hour is still to come today, the day before (processing the previous hour just after midnight).
pub fn local_hour_bounds(epoch_ms: u64, hour: u32) -> Option<(u64, u64)> {
  let now = local_tm(epoch_ms)?;
  let mut tm = now;
  tm.tm_hour = hour as libc::c_int;
  tm.tm_min = 0;
  tm.tm_sec = 0;
  tm.tm_isdst = -1;
  if hour as libc::c_int > now.tm_hour {
    tm.tm_mday -= 1;
  }
  // SAFETY: mktime reads and normalises a valid `tm`.
  let start = unsafe { libc::mktime(&mut tm) };
  if start < 0 {
    return None;
  }
  let start_ms = start as u64 * 1000;
  Some((start_ms, start_ms + 3_600_000 - 1))
}

fn local_tm(epoch_ms: u64) -> Option<libc::tm> {
  let seconds = (epoch_ms / 1000) as libc::time_t;
  // SAFETY: an all-zero `tm` is valid; localtime_r writes it and returns null on failure.
  unsafe {
    let mut tm: libc::tm = std::mem::zeroed();
    if libc::localtime_r(&seconds, &mut tm).is_null() {
      None
    } else {
      Some(tm)
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn bounds_contain_the_hour_and_last_one_hour() {
    let now = 1_712_232_000_000 + 25 * 60_000; // some time, 25 min into an hour
    let hour = local_hour(now);
    let (start, end) = local_hour_bounds(now, hour).unwrap();
    assert!(start <= now && now <= end);
    assert_eq!(end - start + 1, 3_600_000);
    assert_eq!(local_hour(start), hour);
    // An hour later today is taken from yesterday.
    if hour < 23 {
      let (later, _) = local_hour_bounds(now, hour + 1).unwrap();
      assert!(later < now);
    }
  }
}
