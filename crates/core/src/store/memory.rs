//! [`StatsStore`] in memory, with Redis' semantics for what the engine relies on: atomic
//! multi-member operations, a processing lease that expires, a viewer set separate from the
//! values, a listing in steps.
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
  /// The processing lease: holder's token and expiry.
  lease: Option<(String, Instant)>,
  /// The members of the listing in progress, as of its first step (a step's cursor is an index
  /// into it); members removed since are skipped, as Redis' `SSCAN` would.
  listing: Vec<String>,
}

impl Data {
  fn take_lease(&mut self, token: &str, ttl_ms: u64) -> bool {
    let now = Instant::now();
    let free = self
      .lease
      .as_ref()
      .is_none_or(|(holder, expires)| holder == token || *expires <= now);
    if free {
      self.lease = Some((
        token.to_string(),
        now + Duration::from_millis(ttl_ms.max(1)),
      ));
    }
    free
  }
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

  /// Takes the processing lease as another engine process would.
  pub fn lease_as(&self, token: &str, ttl: Duration) {
    self.lock().lease = Some((token.to_string(), Instant::now() + ttl));
  }

  /// The value of one viewer, unless the store is down.
  pub fn value(&self, member: &str) -> Option<String> {
    self.lock().values.get(member).cloned()
  }

  /// The viewer set.
  pub fn member_list(&self) -> Vec<String> {
    self.lock().set.iter().cloned().collect()
  }

  /// Whether someone holds the processing lease (not expired).
  pub fn lease_held(&self) -> bool {
    let now = Instant::now();
    self.lock().lease.as_ref().is_some_and(|(_, e)| *e > now)
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

  async fn scan_members(&self, cursor: u64, count: usize) -> Result<(u64, Vec<String>)> {
    let mut data = self.open("scan_members")?;
    if cursor == 0 {
      data.listing = data.set.iter().cloned().collect();
    }
    let start = (cursor as usize).min(data.listing.len());
    let end = start.saturating_add(count.max(1)).min(data.listing.len());
    let step = data.listing[start..end]
      .iter()
      .filter(|m| data.set.contains(*m))
      .cloned()
      .collect();
    let next = if end == data.listing.len() {
      0
    } else {
      end as u64
    };
    Ok((next, step))
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

  async fn take_lease(&self, token: &str, ttl_ms: u64) -> Result<bool> {
    Ok(self.open("take_lease")?.take_lease(token, ttl_ms))
  }

  async fn read_leased(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> Result<Option<Vec<Option<String>>>> {
    let mut data = self.open("read_leased")?;
    if !data.take_lease(token, ttl_ms) {
      return Ok(None);
    }
    Ok(Some(
      members
        .iter()
        .map(|m| data.values.get(*m).cloned())
        .collect(),
    ))
  }

  async fn release_lease(&self, token: &str) -> Result<()> {
    let mut data = self.open("release_lease")?;
    if data
      .lease
      .as_ref()
      .is_some_and(|(holder, _)| holder == token)
    {
      data.lease = None;
    }
    Ok(())
  }

  async fn delete(&self, members: &[&str]) -> Result<()> {
    let mut data = self.open("delete")?;
    for member in members {
      data.set.remove(*member);
      data.values.remove(*member);
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
