//! A user agent prepared for matching: cut where ua-parser-js cuts it, with an ASCII-lowercase
//! copy that every rule searches (ua-parser-js matches case-insensitively).

use memchr::{memchr, memrchr};

/// ua-parser-js reads at most this many UTF-16 code units (`UA_MAX_LENGTH`).
pub const MAX_UTF16_UNITS: usize = 500;

/// First offset of `needle` in `haystack`: the needle's first byte by `memchr` (SIMD), then a
/// compare. A parse runs a few hundred searches of short needles over one short text; std's
/// `str::find` (a Two-Way searcher built per call) and `memmem::find` (a searcher built per
/// call) spent most of a parse building searchers.
fn find_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
  let (&first, rest) = needle.split_first()?;
  let mut from = 0;
  while let Some(found) = memchr(first, haystack.get(from..)?) {
    let at = from + found;
    if haystack.get(at + 1..)?.starts_with(rest) {
      return Some(at);
    }
    from = at + 1;
  }
  None
}

/// Last offset of `needle` in `haystack` (see [`find_bytes`]).
fn rfind_bytes(haystack: &[u8], needle: &[u8]) -> Option<usize> {
  let (&first, rest) = needle.split_first()?;
  let mut end = haystack.len();
  while let Some(at) = memrchr(first, haystack.get(..end)?) {
    if haystack.get(at + 1..)?.starts_with(rest) {
      return Some(at);
    }
    end = at;
  }
  None
}

/// The text the rules look at.
pub struct Text<'a> {
  /// As sent (cut), for names ua-parser-js copies from the user agent with their case.
  original: &'a str,
  /// ASCII-lowercase copy, same byte offsets as `original`.
  lower: String,
  /// Which byte pairs occur in `lower` (a 2,048-bit filter): most of a parse's searches are for
  /// words the user agent does not hold, and a pair the filter lacks answers them at once.
  pairs: [u64; PAIR_WORDS],
}

/// 64-bit words of [`Text::pairs`].
const PAIR_WORDS: usize = 32;

/// The filter bit of the byte pair `a`, `b` (a multiplicative hash to 11 bits).
fn pair_bit(a: u8, b: u8) -> usize {
  ((((u32::from(a) << 8) | u32::from(b)).wrapping_mul(0x9E37_79B1)) >> 21) as usize
}

/// `[A-Za-z0-9_]`: a word character of a regular expression.
pub fn is_word(byte: u8) -> bool {
  byte.is_ascii_alphanumeric() || byte == b'_'
}

/// A version character as ua-parser-js reads them (`[\w.]`).
pub fn is_version(byte: u8) -> bool {
  is_word(byte) || byte == b'.'
}

impl<'a> Text<'a> {
  /// Leading whitespace dropped, then the first [`MAX_UTF16_UNITS`] code units kept.
  pub fn new(user_agent: &'a str) -> Self {
    let trimmed = user_agent.trim_start();
    let mut units = 0;
    let mut end = trimmed.len();
    for (at, ch) in trimmed.char_indices() {
      units += ch.len_utf16();
      if units > MAX_UTF16_UNITS {
        end = at;
        break;
      }
    }
    let original = &trimmed[..end];
    let lower = original.to_ascii_lowercase();
    let mut pairs = [0u64; PAIR_WORDS];
    for pair in lower.as_bytes().windows(2) {
      let bit = pair_bit(pair[0], pair[1]);
      pairs[bit / 64] |= 1 << (bit % 64);
    }
    Text {
      original,
      lower,
      pairs,
    }
  }

  /// `false` when `needle` surely does not occur (one of its byte pairs never does).
  fn may_hold(&self, needle: &[u8]) -> bool {
    needle.windows(2).all(|pair| {
      let bit = pair_bit(pair[0], pair[1]);
      self.pairs[bit / 64] & (1 << (bit % 64)) != 0
    })
  }

  /// Byte length.
  pub fn len(&self) -> usize {
    self.lower.len()
  }

  /// The lowercase byte at `at` (0 past the end).
  pub fn byte(&self, at: usize) -> u8 {
    self.lower.as_bytes().get(at).copied().unwrap_or(0)
  }

  /// The lowercase text from `at`.
  pub fn rest(&self, at: usize) -> &str {
    self.lower.get(at..).unwrap_or("")
  }

  /// The original text of `at..at + len`, case kept.
  pub fn original(&self, at: usize, len: usize) -> &'a str {
    self.original.get(at..at + len).unwrap_or("")
  }

  /// Whether `needle` (lowercase) occurs.
  pub fn has(&self, needle: &str) -> bool {
    self.find(needle).is_some()
  }

  /// First offset of `needle` (lowercase).
  pub fn find(&self, needle: &str) -> Option<usize> {
    if !self.may_hold(needle.as_bytes()) {
      return None;
    }
    find_bytes(self.lower.as_bytes(), needle.as_bytes())
  }

  /// First offset of `needle` at or after `from`.
  pub fn find_from(&self, from: usize, needle: &str) -> Option<usize> {
    if !self.may_hold(needle.as_bytes()) {
      return None;
    }
    let rest = self.lower.as_bytes().get(from..)?;
    find_bytes(rest, needle.as_bytes()).map(|at| at + from)
  }

  /// Last offset of `needle`.
  pub fn rfind(&self, needle: &str) -> Option<usize> {
    if !self.may_hold(needle.as_bytes()) {
      return None;
    }
    rfind_bytes(self.lower.as_bytes(), needle.as_bytes())
  }

  /// First offset of `needle` that starts a word (`\bneedle`).
  pub fn find_word(&self, needle: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = self.find_from(from, needle) {
      if at == 0 || !is_word(self.byte(at - 1)) {
        return Some(at);
      }
      from = at + 1;
    }
    None
  }

  /// Offset just after `name/` followed by at least one version character (`name\/[\w.]+`).
  pub fn product(&self, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = self.find_from(from, name) {
      let slash = at + name.len();
      if self.byte(slash) == b'/' && is_version(self.byte(slash + 1)) {
        return Some(slash + 1);
      }
      from = at + 1;
    }
    None
  }

  /// [`Self::product`] where `name` starts a word.
  pub fn product_word(&self, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = self.find_from(from, name) {
      let slash = at + name.len();
      let starts = at == 0 || !is_word(self.byte(at - 1));
      if starts && self.byte(slash) == b'/' && is_version(self.byte(slash + 1)) {
        return Some(slash + 1);
      }
      from = at + 1;
    }
    None
  }

  /// End of the run of version characters starting at `at`.
  pub fn version_end(&self, at: usize) -> usize {
    let mut end = at;
    while is_version(self.byte(end)) {
      end += 1;
    }
    end
  }

  /// Whether `needle` occurs after `needle_before` (both lowercase).
  pub fn has_after(&self, needle_before: &str, needle: &str) -> bool {
    self
      .find(needle_before)
      .is_some_and(|at| self.find_from(at + needle_before.len(), needle).is_some())
  }
}

/// Offset of `token` followed by `/` or a space and a version.
pub fn versioned_token(t: &Text, token: &str) -> Option<usize> {
  let at = t.find(token)?;
  let sep = t.byte(at + token.len());
  ((sep == b'/' || sep == b' ') && is_version(t.byte(at + token.len() + 1))).then_some(at)
}

/// `name`, an optional `/` or space, then a version (`Minimo/0.02`, `Fennec 1.0`).
pub fn named_with_version<'a>(t: &Text<'a>, name: &str) -> Option<&'a str> {
  let mut from = 0;
  while let Some(at) = t.find_from(from, name) {
    from = at + 1;
    let mut v = at + name.len();
    if matches!(t.byte(v), b'/' | b' ') {
      v += 1;
    }
    if is_version(t.byte(v)) || t.byte(v) == b'+' {
      return Some(t.original(at, name.len()));
    }
  }
  None
}
