//! PeerTube duration values (`parseDurationToMs`): milliseconds as a number, a numeric string, or
//! `"<number> <unit>"` such as `'10 seconds'`, `'1 hour'`, `'30 minutes'`.
//!
//! Differences from PeerTube's baseline (decision D5): an unknown unit is an error instead of `0`,
//! and `'0 seconds'` is `0` instead of `1000` (quirk Q15).

const UNITS: [(&str, f64); 7] = [
  ("ms", 1.0),
  ("second", 1_000.0),
  ("minute", 60_000.0),
  ("hour", 3_600_000.0),
  ("day", 86_400_000.0),
  ("week", 604_800_000.0),
  ("month", 2_592_000_000.0),
];

/// Milliseconds as the shortest PeerTube duration string that says them exactly: `'1 hour'`,
/// `'30 minutes'`, `'10 seconds'`, `'250 ms'` (the docs of the defaults).
pub fn format_duration_ms(ms: u64) -> String {
  for (unit, factor) in UNITS.iter().rev() {
    let factor = *factor as u64;
    if *unit != "ms" && ms > 0 && ms.is_multiple_of(factor) {
      let n = ms / factor;
      return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    }
  }
  format!("{ms} ms")
}

/// Parses a PeerTube duration string into milliseconds.
pub fn parse_duration_ms(input: &str) -> Result<f64, String> {
  let text = input.trim();
  if let Ok(ms) = text.parse::<f64>() {
    return check(ms, input);
  }
  let split = text
    .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == ','))
    .ok_or_else(|| format!("'{input}' is not a duration"))?;
  let (number, rest) = text.split_at(split);
  let unit = rest.strip_prefix(' ').unwrap_or(rest);
  if number.is_empty() || unit.is_empty() || !unit.chars().all(|c| c.is_alphanumeric() || c == '_')
  {
    return Err(format!(
      "'{input}' is not a duration (expected e.g. '10 seconds')"
    ));
  }
  let lower = unit.to_ascii_lowercase();
  let singular = lower.strip_suffix('s').unwrap_or(&lower);
  let singular = if singular == "m" { "ms" } else { singular };
  let factor = UNITS
    .iter()
    .find(|(name, _)| *name == singular)
    .map(|(_, factor)| *factor)
    .ok_or_else(|| format!("'{input}' has an unknown duration unit '{unit}'"))?;
  check(leading_float(number) * factor, input)
}

/// `parseFloat` on the digits part: stops at the first character that cannot continue a number.
fn leading_float(number: &str) -> f64 {
  let mut end = 0;
  let mut seen_dot = false;
  for (i, c) in number.char_indices() {
    match c {
      '0'..='9' => end = i + 1,
      '.' if !seen_dot => seen_dot = true,
      _ => break,
    }
  }
  number[..end].parse().unwrap_or(0.0)
}

fn check(ms: f64, input: &str) -> Result<f64, String> {
  if ms.is_finite() {
    Ok(ms)
  } else {
    Err(format!("'{input}' is not a finite duration"))
  }
}

#[cfg(test)]
mod tests {
  use super::parse_duration_ms as p;

  #[test]
  fn peertube_values() {
    assert_eq!(p("10 seconds"), Ok(10_000.0));
    assert_eq!(p("1 hour"), Ok(3_600_000.0));
    assert_eq!(p("30 minutes"), Ok(1_800_000.0));
    assert_eq!(p("2 minutes"), Ok(120_000.0));
    assert_eq!(p("5 seconds"), Ok(5_000.0));
    assert_eq!(p("1 second"), Ok(1_000.0));
    assert_eq!(p("30 days"), Ok(2_592_000_000.0));
    assert_eq!(p("1 week"), Ok(604_800_000.0));
    assert_eq!(p("2 months"), Ok(5_184_000_000.0));
    assert_eq!(p("500ms"), Ok(500.0));
    assert_eq!(p("500 m"), Ok(500.0));
    assert_eq!(p("1.5 hours"), Ok(5_400_000.0));
    assert_eq!(p("10 Seconds"), Ok(10_000.0));
    assert_eq!(p("1500"), Ok(1_500.0));
    assert_eq!(p("0 seconds"), Ok(0.0));
  }

  #[test]
  fn rejects_unknown_units_and_garbage() {
    assert!(p("10 parsecs").is_err());
    assert!(p("ten seconds").is_err());
    assert!(p("").is_err());
    assert!(p("seconds").is_err());
    assert!(p("10  seconds").is_err());
    assert!(p("inf").is_err());
  }
}
