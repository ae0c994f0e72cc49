//! A bounded set whose entries expire: PeerTube's in-process `LRUCache({ max, ttl })` in front
//! of the `views-…` dedup keys. Entries are never refreshed, so insertion order is expiry order.

use std::collections::{HashMap, VecDeque};

/// Keys with an expiry time, at most `max` of them (the oldest go first).
pub struct ExpiringSet {
  max: usize,
  expires: HashMap<String, u64>,
  order: VecDeque<(String, u64)>,
}

impl ExpiringSet {
  /// An empty set of at most `max` keys.
  pub fn new(max: usize) -> Self {
    ExpiringSet {
      max: max.max(1),
      expires: HashMap::new(),
      order: VecDeque::new(),
    }
  }

  /// Whether `key` is present and not expired at `now`.
  pub fn contains(&self, key: &str, now: u64) -> bool {
    self.expires.get(key).is_some_and(|&at| at > now)
  }

  /// Inserts `key` until `expires_at`.
  pub fn insert(&mut self, key: String, expires_at: u64, now: u64) {
    self.evict(now);
    while self.expires.len() >= self.max {
      match self.order.pop_front() {
        Some((old, at)) => {
          if self.expires.get(&old) == Some(&at) {
            self.expires.remove(&old);
          }
        }
        None => break,
      }
    }
    self.expires.insert(key.clone(), expires_at);
    self.order.push_back((key, expires_at));
  }

  /// Number of live keys (expired ones may still be counted until the next insert).
  pub fn len(&self) -> usize {
    self.expires.len()
  }

  /// Whether the set is empty.
  pub fn is_empty(&self) -> bool {
    self.expires.is_empty()
  }

  fn evict(&mut self, now: u64) {
    while let Some((key, at)) = self.order.front() {
      if *at > now {
        break;
      }
      if self.expires.get(key) == Some(at) {
        self.expires.remove(key);
      }
      self.order.pop_front();
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn expires_and_stays_bounded() {
    let mut set = ExpiringSet::new(2);
    set.insert("a".into(), 100, 0);
    assert!(set.contains("a", 99));
    assert!(!set.contains("a", 100));
    set.insert("b".into(), 200, 10);
    set.insert("c".into(), 200, 20);
    assert!(!set.contains("a", 20), "evicted: max is 2");
    assert!(set.contains("b", 20) && set.contains("c", 20));
    set.insert("d".into(), 300, 250);
    assert_eq!(set.len(), 1, "b and c expired");
    // Re-inserting a key keeps one live entry.
    set.insert("d".into(), 400, 260);
    assert!(set.contains("d", 350));
  }
}
