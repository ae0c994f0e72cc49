//! `VideoViewerStats`: per-viewer watch sections in a cache in front of the store (PeerTube's
//! Redis data), written behind to it (B26), handed to the host after `lifetime` of inactivity
//! (B27). The work is split by concern: `state` (the cache), `heartbeat`, `sync`, `process`
//! (the lease and the reads), `settle` (host calls and what follows) and `timers`.
//!
//! Differences from PeerTube (decision D3), none of which changes the data format:
//! - writes are atomic (`MULTI { SADD, MSET }`, `MULTI { SREM, DEL }`) and a failed write stays
//!   pending for the next sync instead of being dropped;
//! - processing runs under a lease in Redis, so that two processes never persist one viewer
//!   twice, and lists the set in steps (`SSCAN`, Redis is never blocked by a whole listing);
//! - a viewer being persisted is *claimed* in memory: a heartbeat arriving meanwhile starts a fresh object
//!   that Redis only receives once the claim is settled, and a failed persistence merges the
//!   claimed sections back, so every section reaches the host exactly once (Q7);
//! - a set member whose value is missing is removed (after two passes) instead of aborting (Q6);
//! - a heartbeat never fails because Redis is down: the viewer is kept in memory and merged with
//!   what Redis holds at the next successful sync.

mod heartbeat;
mod process;
mod settle;
mod state;
mod sync;
#[cfg(test)]
mod tests;
mod timers;

use crate::engine::host::StatsHost;
use crate::engine::options::{EngineConfig, StatsOptions};
use crate::engine::user_agents::UserAgents;
use crate::error::{Error, ErrorCode, Result};
use crate::geoip::GeoIp;
use crate::log::{Logger, Meta};
use crate::rules::shape::report;
use crate::store::stats_store::StatsStore;
use crate::store::viewer_stats::RedisStatsStore;
use state::State;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

pub use crate::rules::types::{Heartbeat, ViewerId};

/// How many viewers go into one store transaction.
const REDIS_BATCH: usize = 1_000;

/// The viewer stats engine's settings: [`StatsOptions`] and what every engine shares.
pub type StatsConfig = EngineConfig<StatsOptions>;

report! {
  /// What a sync wrote.
  pub struct SyncReport as "SyncReport" {
    /// Viewers written to Redis.
    written: u64 = "written",
  }
}

report! {
  /// What a processing pass did.
  pub struct ProcessReport as "ProcessReport" {
    /// Members found in the Redis set.
    scanned: u64 = "scanned",
    /// Viewers inactive for at least the lifetime.
    expired: u64 = "expired",
    /// Viewers handed to the host and deleted.
    persisted: u64 = "persisted",
    /// Viewers with `watchTime == 0`, deleted without a host call.
    discarded: u64 = "discarded",
    /// Viewers whose host call failed (kept for the next pass).
    failed: u64 = "failed",
    /// Set members without value, removed.
    orphans_removed: u64 = "orphansRemoved",
    /// Another process held the processing lease: it persists the expired viewers, this pass
    /// did nothing in Redis (every count is 0).
    skipped: bool = "skipped",
  }
}

report! {
  /// Health of the viewer stats engine (`getInternalStats()`).
  pub struct StatsHealth as "ViewerStatsInternalStats" {
    /// Viewer stats held in memory.
    cached_viewers: u64 = "cachedViewers",
    /// Viewer stats waiting to be written to Redis.
    pending_writes: u64 = "pendingWrites",
    /// Viewer stats being persisted.
    in_flight: u64 = "inFlight",
    /// Duration of the last sync, ms.
    last_sync_ms: u64 = "lastSyncMs",
    /// Duration of the last processing pass, ms.
    last_process_ms: u64 = "lastProcessMs",
    /// Redis errors since start.
    redis_errors: u64 = "redisErrors",
    /// Host callback failures since start.
    callback_errors: u64 = "callbackErrors",
    /// Heartbeats of new viewers dropped because `maxPendingWrites` viewers waited for Redis.
    dropped_heartbeats: u64 = "droppedHeartbeats",
    /// Whether the viewers Redis holds have been listed once (at start, or by a pass): until
    /// then a viewer the cache does not hold costs a Redis read.
    members_listed: bool = "membersListed",
    /// Viewers this engine knows Redis holds (from that listing, kept up to date).
    known_members: u64 = "knownMembers",
  }
}

/// The viewer stats engine, on a store (Redis by default; [`crate::store::memory`] in tests).
pub struct ViewerStatsEngine<H: StatsHost, S: StatsStore = RedisStatsStore> {
  config: StatsConfig,
  store: Arc<S>,
  geoip: Option<Arc<GeoIp>>,
  /// User-agent stats of new viewers, for a PeerTube release that has them.
  agents: Option<UserAgents>,
  host: Arc<H>,
  logger: Logger,
  state: Mutex<State>,
  sync_lock: tokio::sync::Mutex<()>,
  process_lock: tokio::sync::Mutex<()>,
  closed: AtomicBool,
  stop: watch::Sender<bool>,
  last_sync_ms: AtomicU64,
  last_process_ms: AtomicU64,
  redis_errors: AtomicU64,
  callback_errors: AtomicU64,
  dropped_heartbeats: AtomicU64,
  /// This engine's name on its Redis processing lease.
  lease_token: String,
  /// [`StatsStore::generation`] as of the last sync.
  seen_connections: AtomicU64,
}

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
  /// A new engine; call [`Self::run_timers`] to start the periodic sync and processing.
  pub fn new(config: StatsConfig, store: S, geoip: Option<GeoIp>, host: H, logger: Logger) -> Self {
    ViewerStatsEngine {
      agents: config
        .calls
        .peertube_version
        .user_agent_stats()
        .then(UserAgents::new),
      config,
      store: Arc::new(store),
      geoip: geoip.map(Arc::new),
      host: Arc::new(host),
      logger,
      state: Mutex::new(State::default()),
      sync_lock: tokio::sync::Mutex::new(()),
      process_lock: tokio::sync::Mutex::new(()),
      closed: AtomicBool::new(false),
      stop: watch::channel(false).0,
      last_sync_ms: AtomicU64::new(0),
      last_process_ms: AtomicU64::new(0),
      redis_errors: AtomicU64::new(0),
      callback_errors: AtomicU64::new(0),
      dropped_heartbeats: AtomicU64::new(0),
      lease_token: super::lease_token::new_token(),
      seen_connections: AtomicU64::new(0),
    }
  }

  fn lock(&self) -> MutexGuard<'_, State> {
    // A poisoned lock only means another thread panicked while holding it; the state itself
    // is always left consistent between statements, so keep going.
    self
      .state
      .lock()
      .unwrap_or_else(|poisoned| poisoned.into_inner())
  }

  fn ensure_open(&self) -> Result<()> {
    if self.closed.load(Ordering::Acquire) {
      Err(Error::new(ErrorCode::Closed, "VideoViewerStats is closed"))
    } else {
      Ok(())
    }
  }

  fn redis_failed(&self, err: &Error, message: &str) {
    self.redis_errors.fetch_add(1, Ordering::Relaxed);
    self
      .logger
      .warn(message, || Meta::field("error", err.message.clone()));
  }

  /// Whether new viewers get user-agent stats (the host's PeerTube release has them).
  pub fn user_agent_stats(&self) -> bool {
    self.agents.is_some()
  }

  /// Health snapshot.
  pub fn health(&self) -> StatsHealth {
    let state = self.lock();
    StatsHealth {
      cached_viewers: state.cache.len() as u64,
      pending_writes: state.dirty_count as u64,
      in_flight: state.in_flight.len() as u64,
      last_sync_ms: self.last_sync_ms.load(Ordering::Relaxed),
      last_process_ms: self.last_process_ms.load(Ordering::Relaxed),
      redis_errors: self.redis_errors.load(Ordering::Relaxed),
      callback_errors: self.callback_errors.load(Ordering::Relaxed),
      dropped_heartbeats: self.dropped_heartbeats.load(Ordering::Relaxed),
      members_listed: state.known.is_some(),
      known_members: state.known.as_ref().map_or(0, |known| known.len() as u64),
    }
  }
}
