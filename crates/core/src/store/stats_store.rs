//! What the viewer stats engine needs from its storage: PeerTube's viewer set and JSON values,
//! plus this engine's processing lease. `RedisStatsStore` (viewer_stats.rs) is the real one;
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

  /// One step of a listing of the viewer set (Redis' `SSCAN` guarantees): from `cursor` (0 to
  /// start), about `count` members and the cursor of the next step, 0 when the listing is done.
  /// A member present for the whole listing is returned at least once; one added or removed
  /// meanwhile may or may not be.
  fn scan_members(
    &self,
    cursor: u64,
    count: usize,
  ) -> impl Future<Output = Result<(u64, Vec<String>)>> + Send;

  /// Adds the members and sets their values, in one transaction.
  fn write(&self, viewers: &PackedViewers) -> impl Future<Output = Result<()>> + Send;

  /// Adds the members and sets the values of those whose key does not exist yet; returns the
  /// indices (in `viewers`) of the keys that existed, left as they were.
  fn write_new(&self, viewers: &PackedViewers) -> impl Future<Output = Result<Vec<usize>>> + Send;

  /// Takes the processing lease for `token` for `ttl_ms` if nobody holds it, or renews it if
  /// `token` holds it: whether `token` holds it now. One lease per viewer set: while a
  /// process holds it, no other hands the set's viewers to its host.
  fn take_lease(&self, token: &str, ttl_ms: u64) -> impl Future<Output = Result<bool>> + Send;

  /// [`Self::take_lease`] and, in the same transaction, the values of `members` in order;
  /// `None` when another token holds the lease (the values are not returned then).
  fn read_leased(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> impl Future<Output = Result<Option<Vec<Option<String>>>>> + Send;

  /// Gives the lease back if `token` holds it.
  fn release_lease(&self, token: &str) -> impl Future<Output = Result<()>> + Send;

  /// Removes the members and their values, in one transaction.
  fn delete(&self, members: &[&str]) -> impl Future<Output = Result<()>> + Send;

  /// Removes the members whose value is missing; returns how many were removed.
  fn remove_orphans(&self, members: &[&str]) -> impl Future<Output = Result<u64>> + Send;

  /// Counts the connections made so far: when it changes, the storage may have lost what it
  /// acknowledged before (a Redis restart without persistence, a failover).
  fn generation(&self) -> u64;
}
