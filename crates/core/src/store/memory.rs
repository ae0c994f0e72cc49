//! [`StatsStore`] in memory, with Redis' semantics for what the engine relies on: atomic
//! multi-member operations, `SET NX` claims that expire, a viewer set separate from the values.
//! It can also be made unavailable (every call fails as Redis down would) and be restarted
//! empty, so the engine's outage and reconnection rules are tested without a server.

use super::packed::PackedViewers;
use super::stats_store::StatsStore;
use crate::error::{Error, ErrorCode, Result};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Data {
  set: BTreeSet<String>,
  values: HashMap<String, String>,
  claims: HashMap<String, (String, Instant)>,
}

/// Viewer stats kept in memory.
pub struct MemoryStatsStore {
  data: Mutex<Data>,
  down: AtomicBool,
  generation: AtomicU64,
  calls: AtomicU64,
}

impl Default for MemoryStatsStore {
  fn default() -> Self {
    MemoryStatsStore {
      data: Mutex::new(Data::default()),
      down: AtomicBool::new(false),
      generation: AtomicU64::new(1),
      calls: AtomicU64::new(0),
    }
  }
}

impl MemoryStatsStore {
  /// An empty, available store.
  pub fn new() -> Self {
    Self::default()
  }

  /// Makes every call fail (`down`), or work again.
  pub fn set_down(&self, down: bool) {
    self.down.store(down, Ordering::SeqCst);
  }

  /// Loses everything and counts a new connection, as a Redis restarted without persistence.
  pub fn restart_empty(&self) {
    *self.lock() = Data::default();
    self.generation.fetch_add(1, Ordering::SeqCst);
  }

  /// Writes a viewer as another writer (PeerTube's TypeScript) would: member and value.
  pub fn put(&self, member: &str, json: &str) {
    let mut data = self.lock();
    data.set.insert(member.to_string());
    data.values.insert(member.to_string(), json.to_string());
  }

  /// Adds a set member without value (an evicted or deleted value, Q6).
  pub fn put_member_only(&self, member: &str) {
    self.lock().set.insert(member.to_string());
  }

  /// Claims a member as another engine process would.
  pub fn claim_as(&self, member: &str, token: &str, ttl: Duration) {
    let expires = Instant::now() + ttl;
    self
      .lock()
      .claims
      .insert(member.to_string(), (token.to_string(), expires));
  }

  /// The value of one viewer, unless the store is down.
  pub fn value(&self, member: &str) -> Option<String> {
    self.lock().values.get(member).cloned()
  }

  /// The viewer set.
  pub fn member_list(&self) -> Vec<String> {
    self.lock().set.iter().cloned().collect()
  }

  /// Claims currently held (not expired).
  pub fn live_claims(&self) -> usize {
    let now = Instant::now();
    self
      .lock()
      .claims
      .values()
      .filter(|(_, e)| *e > now)
      .count()
  }

  /// Calls made so far (a call that needed no I/O makes none).
  pub fn calls(&self) -> u64 {
    self.calls.load(Ordering::SeqCst)
  }

  fn lock(&self) -> std::sync::MutexGuard<'_, Data> {
    self.data.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// The data, or the error Redis down would give.
  fn open(&self, what: &str) -> Result<std::sync::MutexGuard<'_, Data>> {
    self.calls.fetch_add(1, Ordering::SeqCst);
    if self.down.load(Ordering::SeqCst) {
      return Err(Error::new(
        ErrorCode::RedisUnavailable,
        format!("{what}: the store is down"),
      ));
    }
    Ok(self.lock())
  }
}

impl StatsStore for MemoryStatsStore {
  async fn get(&self, member: &str) -> Result<Option<String>> {
    Ok(self.open("get")?.values.get(member).cloned())
  }

  async fn get_many(&self, members: &[&str]) -> Result<Vec<Option<String>>> {
    let data = self.open("get_many")?;
    Ok(
      members
        .iter()
        .map(|m| data.values.get(*m).cloned())
        .collect(),
    )
  }

  async fn members(&self) -> Result<Vec<String>> {
    Ok(self.open("members")?.set.iter().cloned().collect())
  }

  async fn write(&self, viewers: &PackedViewers) -> Result<()> {
    let mut data = self.open("write")?;
    for (member, json) in viewers.iter() {
      data.set.insert(member.to_string());
      data.values.insert(member.to_string(), json.to_string());
    }
    Ok(())
  }

  async fn write_new(&self, viewers: &PackedViewers) -> Result<Vec<usize>> {
    let mut data = self.open("write_new")?;
    let mut existing = Vec::new();
    for (i, (member, json)) in viewers.iter().enumerate() {
      data.set.insert(member.to_string());
      if data.values.contains_key(member) {
        existing.push(i);
      } else {
        data.values.insert(member.to_string(), json.to_string());
      }
    }
    Ok(existing)
  }

  async fn claim_read(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> Result<Vec<(bool, Option<String>)>> {
    let mut data = self.open("claim_read")?;
    let now = Instant::now();
    let expires = now + Duration::from_millis(ttl_ms.max(1));
    let mut replies = Vec::with_capacity(members.len());
    for member in members {
      let free = data.claims.get(*member).is_none_or(|(_, e)| *e <= now);
      if free {
        data
          .claims
          .insert(member.to_string(), (token.to_string(), expires));
      }
      replies.push((free, data.values.get(*member).cloned()));
    }
    Ok(replies)
  }

  async fn release(&self, members: &[&str], token: &str) -> Result<()> {
    let mut data = self.open("release")?;
    for member in members {
      if data.claims.get(*member).is_some_and(|(t, _)| t == token) {
        data.claims.remove(*member);
      }
    }
    Ok(())
  }

  async fn delete(&self, members: &[&str]) -> Result<()> {
    let mut data = self.open("delete")?;
    for member in members {
      data.set.remove(*member);
      data.values.remove(*member);
      data.claims.remove(*member);
    }
    Ok(())
  }

  async fn remove_orphans(&self, members: &[&str]) -> Result<u64> {
    let mut data = self.open("remove_orphans")?;
    let mut removed = 0;
    for member in members {
      if !data.values.contains_key(*member) && data.set.remove(*member) {
        removed += 1;
      }
    }
    Ok(removed)
  }

  fn generation(&self) -> u64 {
    self.generation.load(Ordering::SeqCst)
  }
}
