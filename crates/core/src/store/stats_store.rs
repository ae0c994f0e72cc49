//! What the viewer stats engine needs from its storage: PeerTube's viewer set and JSON values,
//! plus this engine's claims. `RedisStatsStore` (viewer_stats.rs) is the real one;
//! `MemoryStatsStore` (memory.rs) keeps the same rules in memory, so that the engine's claim,
//! merge-back, exactly-once and outage rules are unit-tested without Redis.

use super::packed::PackedViewers;
use crate::error::Result;
use std::future::Future;

/// Storage of viewer stats. Members are un-prefixed viewer keys
/// (`local-video-viewer-stats-{session}-{video}`); every operation on several members is atomic.
pub trait StatsStore: Send + Sync + 'static {
  /// The JSON value of one viewer.
  fn get(&self, member: &str) -> impl Future<Output = Result<Option<String>>> + Send;

  /// The JSON values of many viewers, in order.
  fn get_many(&self, members: &[&str]) -> impl Future<Output = Result<Vec<Option<String>>>> + Send;

  /// Every member of the viewer set.
  fn members(&self) -> impl Future<Output = Result<Vec<String>>> + Send;

  /// Adds the members and sets their values, in one transaction.
  fn write(&self, viewers: &PackedViewers) -> impl Future<Output = Result<()>> + Send;

  /// Adds the members and sets the values of those whose key does not exist yet; returns the
  /// indices (in `viewers`) of the keys that existed, left as they were.
  fn write_new(&self, viewers: &PackedViewers) -> impl Future<Output = Result<Vec<usize>>> + Send;

  /// Claims each member under `token` for `ttl_ms` unless another claim holds it, and reads its
  /// value in the same transaction: per member, whether the claim was taken and the value.
  fn claim_read(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> impl Future<Output = Result<Vec<(bool, Option<String>)>>> + Send;

  /// Gives back the claims held under `token` on these members.
  fn release(&self, members: &[&str], token: &str) -> impl Future<Output = Result<()>> + Send;

  /// Removes the members, their values and their claims, in one transaction.
  fn delete(&self, members: &[&str]) -> impl Future<Output = Result<()>> + Send;

  /// Removes the members whose value is missing; returns how many were removed.
  fn remove_orphans(&self, members: &[&str]) -> impl Future<Output = Result<u64>> + Send;

  /// Counts the connections made so far: when it changes, the storage may have lost what it
  /// acknowledged before (a Redis restart without persistence, a failover).
  fn generation(&self) -> u64;
}
