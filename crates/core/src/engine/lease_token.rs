//! A name for this engine's Redis processing lease, unique across processes and hosts.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::{SystemTime, UNIX_EPOCH};

/// `{pid}-{nanos since the epoch}-{random}`: the pid and clock tell processes of one host apart,
/// std's randomly seeded hasher tells hosts apart.
pub fn new_token() -> String {
  let nanos = SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_nanos())
    .unwrap_or_default();
  let mut hasher = RandomState::new().build_hasher();
  hasher.write_u128(nanos);
  format!("{}-{nanos:x}-{:016x}", std::process::id(), hasher.finish())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn tokens_differ() {
    let (a, b) = (new_token(), new_token());
    assert_ne!(a, b);
    assert!(a.starts_with(&format!("{}-", std::process::id())));
  }
}
