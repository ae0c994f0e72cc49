//! ISO 8601 timestamps as ActivityPub sends them (`expires`), e.g. `2024-04-04T12:00:00.000Z`.

/// Milliseconds since the epoch of `YYYY-MM-DDTHH:MM:SS[.fff][Z|±HH:MM]` (`None` if malformed).
pub fn parse_iso8601_ms(text: &str) -> Option<u64> {
  let b = text.as_bytes();
  if b.len() < 19
    || b[4] != b'-'
    || b[7] != b'-'
    || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
  {
    return None;
  }
  if b[13] != b':' || b[16] != b':' {
    return None;
  }
  let num = |range: std::ops::Range<usize>| -> Option<i64> {
    let part = text.get(range)?;
    part
      .bytes()
      .all(|c| c.is_ascii_digit())
      .then(|| part.parse().ok())?
  };
  let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
  let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
  if !(1..=12).contains(&month)
    || day < 1
    || day > days_in_month(year, month)
    || hour > 23
    || minute > 59
    || second > 60
  {
    return None;
  }
  let mut rest = &text[19..];
  let mut millis = 0i64;
  if let Some(fraction) = rest.strip_prefix('.') {
    let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
      return None;
    }
    let first3 = &fraction[..digits.min(3)];
    millis = first3.parse::<i64>().ok()? * 10i64.pow(3 - first3.len() as u32);
    rest = &fraction[digits..];
  }
  let offset_minutes = match rest {
    "Z" | "z" => 0,
    "" => 0,
    _ => {
      let sign = match rest.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
      };
      let tz = &rest[1..];
      let (h, m) = match tz.len() {
        5 if tz.as_bytes()[2] == b':' => (tz.get(0..2)?, tz.get(3..5)?),
        4 => (tz.get(0..2)?, tz.get(2..4)?),
        _ => return None,
      };
      let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
      if h > 23 || m > 59 {
        return None;
      }
      sign * (h * 60 + m)
    }
  };
  let days = days_from_civil(year, month, day);
  let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
  let ms = seconds.checked_mul(1_000)?.checked_add(millis)?;
  u64::try_from(ms).ok()
}

fn is_leap(year: i64) -> bool {
  (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
  match month {
    2 if is_leap(year) => 29,
    2 => 28,
    4 | 6 | 9 | 11 => 30,
    _ => 31,
  }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
  let y = if month <= 2 { year - 1 } else { year };
  let era = y.div_euclid(400);
  let yoe = y - era * 400;
  let mp = (month + 9) % 12;
  let doy = (153 * mp + 2) / 5 + day - 1;
  let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
  use super::parse_iso8601_ms as p;

  #[test]
  fn parses_what_date_to_iso_string_writes() {
    assert_eq!(p("1970-01-01T00:00:00.000Z"), Some(0));
    assert_eq!(p("2024-04-04T12:00:00.000Z"), Some(1_712_232_000_000));
    assert_eq!(p("2024-02-29T23:59:59.999Z"), Some(1_709_251_199_999));
    assert_eq!(p("2024-04-04T12:00:00Z"), Some(1_712_232_000_000));
    assert_eq!(p("2024-04-04T14:00:00+02:00"), Some(1_712_232_000_000));
    assert_eq!(p("2024-04-04T12:00:00.5Z"), Some(1_712_232_000_500));
  }

  #[test]
  fn rejects_garbage() {
    for bad in [
      "",
      "2024-04-04",
      "2024-13-01T00:00:00Z",
      "2023-02-29T00:00:00Z",
      "2024-04-04T25:00:00Z",
      "yesterday",
      "2024-04-04T12:00:00.Z",
      "1969-12-31T23:59:59Z",
    ] {
      assert_eq!(p(bad), None, "{bad}");
    }
  }
}
