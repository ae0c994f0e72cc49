//! Viewers to write in one transaction, packed: every member in one buffer and every JSON
//! value in another, so a batch of a thousand viewers costs a handful of allocations instead of
//! thousands, and the Redis command is sized exactly before it is written.

use redis::{RedisWrite, ToRedisArgs};
use std::io::Write;

/// Typical un-prefixed member (`local-video-viewer-stats-{32 hex}-{id}`), bytes.
const MEMBER_BYTES: usize = 64;
/// Typical viewer JSON value with one section and no location, bytes.
const VALUE_BYTES: usize = 176;

/// Un-prefixed viewer keys (set members) and their JSON values, in order.
#[derive(Debug, Default)]
pub struct PackedViewers {
  members: String,
  member_ends: Vec<usize>,
  values: String,
  value_ends: Vec<usize>,
}

impl PackedViewers {
  /// Room for `viewers` typical viewers.
  pub fn with_capacity(viewers: usize) -> Self {
    PackedViewers {
      members: String::with_capacity(viewers * MEMBER_BYTES),
      member_ends: Vec::with_capacity(viewers),
      values: String::with_capacity(viewers * VALUE_BYTES),
      value_ends: Vec::with_capacity(viewers),
    }
  }

  /// Appends one viewer: `member` writes its un-prefixed key, `value` its JSON.
  pub fn push(&mut self, member: impl FnOnce(&mut String), value: impl FnOnce(&mut String)) {
    member(&mut self.members);
    self.member_ends.push(self.members.len());
    value(&mut self.values);
    self.value_ends.push(self.values.len());
  }

  /// Viewers in the batch.
  pub fn len(&self) -> usize {
    self.member_ends.len()
  }

  /// Whether the batch holds no viewer.
  pub fn is_empty(&self) -> bool {
    self.member_ends.is_empty()
  }

  /// Bytes of all members, of all values.
  pub fn bytes(&self) -> (usize, usize) {
    (self.members.len(), self.values.len())
  }

  /// The members, in order.
  pub fn members(&self) -> impl Iterator<Item = &str> {
    slices(&self.members, &self.member_ends)
  }

  /// `(member, value)` of each viewer, in order.
  pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
    self.members().zip(slices(&self.values, &self.value_ends))
  }
}

fn slices<'a>(text: &'a str, ends: &'a [usize]) -> impl Iterator<Item = &'a str> {
  let mut start = 0;
  ends.iter().map(move |&end| {
    let slice = text.get(start..end).unwrap_or_default();
    start = end;
    slice
  })
}

/// One Redis argument made of several strings (a prefix, a member...), written straight into
/// the command buffer without building the key first.
pub struct Concat<'a, const N: usize>(pub [&'a str; N]);

impl<const N: usize> ToRedisArgs for Concat<'_, N> {
  fn write_redis_args<W>(&self, out: &mut W)
  where
    W: ?Sized + RedisWrite,
  {
    let mut arg = out.writer_for_next_arg();
    for part in self.0 {
      // The command buffer is a Vec: writing cannot fail.
      let _ = arg.write_all(part.as_bytes());
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn keeps_members_and_values_in_order() {
    let mut packed = PackedViewers::with_capacity(1);
    assert!(packed.is_empty());
    for (member, value) in [("a", "{}"), ("", "null"), ("ccc", "")] {
      packed.push(|m| m.push_str(member), |v| v.push_str(value));
    }
    assert_eq!(packed.len(), 3);
    assert_eq!(packed.bytes(), (4, 6));
    assert_eq!(packed.members().collect::<Vec<_>>(), ["a", "", "ccc"]);
    assert_eq!(
      packed.iter().collect::<Vec<_>>(),
      [("a", "{}"), ("", "null"), ("ccc", "")]
    );
  }

  #[test]
  fn concat_is_one_argument() {
    let mut cmd = redis::cmd("SET");
    cmd
      .arg(Concat(["redis-h-", "key"]))
      .arg(Concat(["a", "", "bc"]));
    assert_eq!(
      cmd.get_packed_command(),
      b"*3\r\n$3\r\nSET\r\n$11\r\nredis-h-key\r\n$3\r\nabc\r\n"
    );
  }
}
