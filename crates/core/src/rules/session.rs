//! A viewer identity stored compactly: lowercase 32-hex ids (and the IP-hash prefix form) or
//! canonical lowercase UUIDs pack into 16 bytes inline; anything else keeps its text. Packing is
//! canonical, so two keys are equal exactly when their texts are.

use std::fmt;

/// A validated session id or viewer identity.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum SessionKey {
  /// 32 lowercase hex digits.
  Hex32([u8; 16]),
  /// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase hex.
  Uuid([u8; 16]),
  /// Any other text.
  Text(Box<str>),
}

/// Lowercase hex digit -> its value; anything else -> 0xFF.
const HEX_VALUE: [u8; 256] = {
  let mut table = [0xFFu8; 256];
  let mut c = 0;
  while c < 10 {
    table[b'0' as usize + c] = c as u8;
    c += 1;
  }
  let mut c = 0;
  while c < 6 {
    table[b'a' as usize + c] = 10 + c as u8;
    c += 1;
  }
  table
};

/// Packs 32 lowercase hex digits (two per byte); `None` if any is not one. One table lookup
/// per digit and a single check at the end (this runs on every heartbeat).
fn pack(hex: &[u8; 32]) -> Option<[u8; 16]> {
  let mut out = [0u8; 16];
  let mut invalid = 0u8;
  for (i, pair) in hex.chunks_exact(2).enumerate() {
    let (high, low) = (
      HEX_VALUE[usize::from(pair[0])],
      HEX_VALUE[usize::from(pair[1])],
    );
    invalid |= high | low;
    out[i] = (high << 4) | (low & 15);
  }
  (invalid & 0xF0 == 0).then_some(out)
}

impl From<&str> for SessionKey {
  fn from(text: &str) -> Self {
    let b = text.as_bytes();
    if let Ok(hex) = <&[u8; 32]>::try_from(b) {
      if let Some(bytes) = pack(hex) {
        return SessionKey::Hex32(bytes);
      }
    }
    if b.len() == 36 && b[8] == b'-' && b[13] == b'-' && b[18] == b'-' && b[23] == b'-' {
      let mut digits = [0u8; 32];
      digits[..8].copy_from_slice(&b[..8]);
      digits[8..12].copy_from_slice(&b[9..13]);
      digits[12..16].copy_from_slice(&b[14..18]);
      digits[16..20].copy_from_slice(&b[19..23]);
      digits[20..].copy_from_slice(&b[24..]);
      if let Some(bytes) = pack(&digits) {
        return SessionKey::Uuid(bytes);
      }
    }
    SessionKey::Text(text.into())
  }
}

impl From<String> for SessionKey {
  fn from(text: String) -> Self {
    SessionKey::from(text.as_str())
  }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl fmt::Display for SessionKey {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    self.with_str(|text| f.write_str(text))
  }
}

impl SessionKey {
  /// Calls `f` with the session id as text, without allocating: packed ids are rendered on the
  /// stack with one table lookup per digit (hot paths hash, compare and write them).
  pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
    let mut out = StackText {
      buf: [0; 36],
      len: 0,
    };
    match self {
      SessionKey::Text(text) => return f(text),
      SessionKey::Hex32(bytes) => out.push_hex(bytes),
      SessionKey::Uuid(bytes) => {
        for (i, group) in [
          &bytes[0..4],
          &bytes[4..6],
          &bytes[6..8],
          &bytes[8..10],
          &bytes[10..16],
        ]
        .into_iter()
        .enumerate()
        {
          if i > 0 {
            out.push_byte(b'-');
          }
          out.push_hex(group);
        }
      }
    }
    f(out.as_str())
  }
}

/// A 36-byte text buffer on the stack (a packed session id rendered).
struct StackText {
  buf: [u8; 36],
  len: usize,
}

impl StackText {
  fn as_str(&self) -> &str {
    std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
  }

  /// Appends one ASCII byte (a packed id renders to at most 36: callers stay within).
  fn push_byte(&mut self, byte: u8) {
    if let Some(slot) = self.buf.get_mut(self.len) {
      *slot = byte;
      self.len += 1;
    }
  }

  fn push_hex(&mut self, bytes: &[u8]) {
    for byte in bytes {
      self.push_byte(HEX[usize::from(byte >> 4)]);
      self.push_byte(HEX[usize::from(byte & 15)]);
    }
  }
}

impl fmt::Debug for SessionKey {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{self}")
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  #[test]
  fn with_str_renders_like_display() {
    for text in [
      "0123456789abcdef0123456789abcdef",
      "01234567-89ab-cdef-0123-456789abcdef",
      "my-session",
    ] {
      let key = SessionKey::from(text);
      assert_eq!(key.with_str(str::to_string), text);
    }
  }

  #[test]
  fn packs_hex_and_uuids_and_keeps_other_text() {
    assert_eq!(std::mem::size_of::<SessionKey>(), 24);
    let hex = "0123456789abcdef0123456789abcdef";
    assert!(matches!(SessionKey::from(hex), SessionKey::Hex32(_)));
    let uuid = "f47ac10b-58cc-4372-a567-0e02b2c3d479";
    assert!(matches!(SessionKey::from(uuid), SessionKey::Uuid(_)));
    for other in [
      "0123456789ABCDEF0123456789ABCDEF",
      "abc",
      "f47ac10b58cc-4372-a567-0e02b2c3d4790",
      "session-1",
    ] {
      assert!(
        matches!(SessionKey::from(other), SessionKey::Text(_)),
        "{other}"
      );
    }
    for text in [hex, uuid, "abc", "A-b-C"] {
      assert_eq!(SessionKey::from(text).to_string(), text);
    }
  }

  proptest! {
    #[test]
    fn round_trips_and_equality_follows_the_text(a in "[0-9a-fA-F-]{1,40}", b in "[0-9a-f]{32}") {
      prop_assert_eq!(SessionKey::from(a.as_str()).to_string(), a.clone());
      prop_assert_eq!(SessionKey::from(b.as_str()).to_string(), b.clone());
      prop_assert_eq!(SessionKey::from(a.as_str()) == SessionKey::from(b.as_str()), a == b);
    }
  }
}
