//! `VideoViewerStats` (spec section 1): per-viewer watch sections in a cache in front of Redis,
//! written behind to Redis, handed to the host after `lifetime` of inactivity.
//!
//! Differences from PeerTube (decision D3), none of which changes the data format:
//! - writes are atomic (`MULTI { SADD, MSET }`, `MULTI { SREM, DEL }`) and a failed write stays
//!   pending for the next sync instead of being dropped;
//! - a viewer being persisted is *claimed*: a heartbeat arriving meanwhile starts a fresh object
//!   that Redis only receives once the claim is settled, and a failed persistence merges the
//!   claimed sections back, so every section reaches the host exactly once (Q7);
//! - a set member whose value is missing is removed (after two passes) instead of aborting (Q6);
//! - a heartbeat never fails because Redis is down: the viewer is kept in memory and merged with
//!   what Redis holds at the next successful sync.

use super::clock::now_ms;
use super::host::{StatsHost, ViewerRecord};
use super::outgoing::OutgoingChunk;
use crate::core::fxhash::{FxBuild, FxHasher};
use crate::core::keys::{parse_viewer_stats_key, push_viewer_stats_key};
use crate::core::sections::ViewEvent;
use crate::core::session::SessionKey;
use crate::core::stats::{HeartbeatOutcome, ViewerStats};
use crate::error::{Error, ErrorCode, Result};
use crate::geoip::{GeoIp, GeoIpState};
use crate::log::{Logger, Meta};
use crate::store::viewer_stats::ViewerStatsStore;
use crate::store::RedisConnection;
use std::collections::{HashMap, HashSet};
use std::hash::Hasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How many viewers go into one Redis transaction.
const REDIS_BATCH: usize = 1_000;
/// Viewers handed to the host per call of the batch dispatcher.
const HOST_BATCH: usize = 1_024;
/// How much longer than its batch's host calls may take a Redis claim lives.
const CLAIM_TTL_MARGIN_MS: u64 = 60_000;
/// Longest a Redis claim lives, whatever `callbackTimeout` says (Redis refuses huge `PX`).
const MAX_CLAIM_TTL_MS: u64 = 30 * 24 * 3_600_000;
/// Transactions of one sync in flight at once (the connection pipelines them).
const SYNC_PARALLELISM: usize = 4;

/// Which viewers a batch writes, and how.
#[derive(Clone, Copy, PartialEq, Eq)]
enum WriteMode {
  /// Dirty viewers known to Redis (or merged with it): `MSET`.
  Overwrite,
  /// Dirty viewers believed new: `MSETNX`, and `SET NX` to find which existed.
  IfAbsent,
  /// Clean viewers that Redis may have lost (after a reconnection): `SET NX`, so a key
  /// Redis kept is left as it is.
  Restore,
}

/// Hash of a viewer as a Redis member (`session`, `video`), for the known-member set.
fn member_hash(session_id: &str, video_id: u64) -> u64 {
  let mut hasher = FxHasher::default();
  hasher.write(session_id.as_bytes());
  hasher.write_u64(video_id);
  hasher.finish()
}

/// [`member_hash`] of a viewer id, without allocating.
fn viewer_hash(id: &ViewerId) -> u64 {
  id.session_id
    .with_str(|session| member_hash(session, id.video_id))
}

/// Settings of the viewer stats engine.
#[derive(Clone, Debug)]
pub struct StatsConfig {
  /// Redis key prefix, `redis-{webserverHost}-`.
  pub prefix: String,
  /// Inactivity after which a viewer is persisted (PeerTube `VIEW_LIFETIME.VIEWER_STATS`).
  pub lifetime_ms: u64,
  /// Period of the write-behind sync (PeerTube `VIEWER_SYNC_REDIS`).
  pub sync_interval_ms: u64,
  /// Most watch sections kept per viewer (PeerTube `MAX_LOCAL_VIEWER_WATCH_SECTIONS`).
  pub max_sections: usize,
  /// Longest a host callback may take before it counts as failed.
  pub callback_timeout_ms: u64,
  /// Host persistence calls in flight at once during processing.
  pub process_concurrency: usize,
  /// Most viewers waiting for Redis: beyond it (Redis down for long), heartbeats of new viewers
  /// are dropped with a warning and counted, so memory stays bounded.
  pub max_pending_writes: usize,
  /// How often the GeoIP database files are checked for a new version (PeerTube downloads
  /// them after start).
  pub geoip_check_interval_ms: u64,
}

/// One viewer of one video.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ViewerId {
  /// Session id (or hashed IP), packed.
  pub session_id: SessionKey,
  /// Local video id.
  pub video_id: u64,
}

impl ViewerId {
  /// Un-prefixed Redis key / set member.
  pub fn member(&self) -> String {
    let mut member = String::with_capacity(64);
    self.write_member(&mut member);
    member
  }

  /// Appends the un-prefixed Redis key / set member to `out`.
  pub fn write_member(&self, out: &mut String) {
    self
      .session_id
      .with_str(|session| push_viewer_stats_key(out, session, self.video_id));
  }
}

/// One validated heartbeat.
#[derive(Clone, Debug)]
pub struct Heartbeat {
  /// Who.
  pub viewer: ViewerId,
  /// Position in seconds.
  pub current_time: u32,
  /// Player event.
  pub event: Option<ViewEvent>,
  /// Client IP, for GeoIP when the viewer is new.
  pub ip: Option<String>,
  /// Video uuid, for log tags.
  pub video_uuid: Option<String>,
}

/// What a sync wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
  /// Viewers written to Redis.
  pub written: u64,
}

/// What a processing pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcessReport {
  /// Members found in the Redis set.
  pub scanned: u64,
  /// Viewers inactive for at least the lifetime.
  pub expired: u64,
  /// Viewers handed to the host and deleted.
  pub persisted: u64,
  /// Viewers with `watchTime == 0`, deleted without a host call.
  pub discarded: u64,
  /// Viewers whose host call failed (kept for the next pass).
  pub failed: u64,
  /// Set members without value, removed.
  pub orphans_removed: u64,
}

/// Health counters (see `getInternalStats`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsHealth {
  /// Viewers in the cache.
  pub cached_viewers: u64,
  /// Viewers waiting to be written to Redis.
  pub pending_writes: u64,
  /// Viewers being persisted right now.
  pub in_flight: u64,
  /// Duration of the last sync, ms.
  pub last_sync_ms: u64,
  /// Duration of the last processing pass, ms.
  pub last_process_ms: u64,
  /// Redis errors since start.
  pub redis_errors: u64,
  /// Host callback failures since start.
  pub callback_errors: u64,
  /// Heartbeats of new viewers dropped because `max_pending_writes` viewers waited for Redis.
  pub dropped_heartbeats: u64,
}

struct Entry {
  stats: ViewerStats,
  /// Must be written to Redis.
  dirty: bool,
  /// Created while Redis could not be read: merge with Redis' value before writing.
  unverified: bool,
}

#[derive(Default)]
struct State {
  cache: HashMap<ViewerId, Entry, FxBuild>,
  /// Entries with `dirty` set.
  dirty_count: usize,
  /// Viewers claimed by a processing pass.
  in_flight: HashSet<ViewerId, FxBuild>,
  /// Hashes of the viewers in Redis ([`member_hash`]) as of the last listing, kept up to date
  /// by this engine; `None` until listed. A cache miss absent from it is a new viewer: no `GET`.
  known: Option<HashSet<u64, FxBuild>>,
  /// Persisted viewers whose Redis deletion failed: retried before anything else.
  pending_deletes: Vec<ViewerId>,
  /// Set members seen without value in the previous pass.
  orphan_candidates: HashSet<String>,
}

impl State {
  fn mark_dirty(&mut self, id: &ViewerId) {
    if let Some(entry) = self.cache.get_mut(id) {
      if !entry.dirty {
        entry.dirty = true;
        self.dirty_count += 1;
      }
    }
  }

  /// Whether a viewer that is not cached is known to be absent from Redis.
  fn surely_new(&self, id: &ViewerId) -> bool {
    self
      .known
      .as_ref()
      .is_some_and(|known| !known.contains(&viewer_hash(id)))
  }

  /// Puts a claimed viewer back in the cache as its entry, dirty again if it held changes
  /// that never reached Redis; `unverified`: merge with what Redis holds before writing.
  fn put_back(&mut self, claim: Claim, unverified: bool) {
    let dirty = claim.was_dirty;
    self.cache.insert(
      claim.id.clone(),
      Entry {
        stats: claim.stats,
        dirty: false,
        unverified,
      },
    );
    if dirty {
      self.mark_dirty(&claim.id);
    }
  }

  /// Viewers whose key Redis now holds (written with `MSETNX`): no merge before writing.
  fn mark_verified(&mut self, ids: &[ViewerId]) {
    for id in ids {
      if let Some(entry) = self.cache.get_mut(id) {
        entry.unverified = false;
      }
    }
  }

  fn forget_member(&mut self, id: &ViewerId) {
    if let Some(known) = self.known.as_mut() {
      known.remove(&viewer_hash(id));
    }
  }
}

/// A claimed viewer and what to restore if its persistence fails.
struct Claim {
  id: ViewerId,
  stats: ViewerStats,
  was_cached: bool,
  was_dirty: bool,
}

/// The viewer stats engine.
pub struct ViewerStatsEngine<H: StatsHost> {
  config: StatsConfig,
  connection: Arc<RedisConnection>,
  geoip: Option<Arc<GeoIp>>,
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
  /// This engine's name on its Redis claims.
  claim_token: String,
  /// [`RedisConnection::connections`] as of the last sync.
  seen_connections: AtomicU64,
}

impl<H: StatsHost> ViewerStatsEngine<H> {
  /// A new engine; call [`Self::run_timers`] to start the periodic sync and processing.
  pub fn new(
    config: StatsConfig,
    connection: Arc<RedisConnection>,
    geoip: Option<GeoIp>,
    host: H,
    logger: Logger,
  ) -> Self {
    ViewerStatsEngine {
      config,
      connection,
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
      claim_token: super::claim_token::new_token(),
      seen_connections: AtomicU64::new(0),
    }
  }

  fn store(&self) -> ViewerStatsStore<'_> {
    ViewerStatsStore::new(&self.connection, &self.config.prefix)
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

  /// Applies a heartbeat when the viewer is in memory (no I/O). Returns `false` when the
  /// viewer must be read from Redis first: call [`Self::heartbeat`] then.
  pub fn heartbeat_in_memory(&self, beat: &mut Heartbeat) -> Result<bool> {
    self.heartbeat_in_memory_lazy(beat, &mut |_| {})
  }

  /// [`Self::heartbeat_in_memory`] for a heartbeat whose `ip` and `video_uuid` are filled by
  /// `complete` only when needed (a new viewer's GeoIP, a warning's tag): a cached viewer's
  /// heartbeat never copies them.
  pub fn heartbeat_in_memory_lazy(
    &self,
    beat: &mut Heartbeat,
    complete: &mut dyn FnMut(&mut Heartbeat),
  ) -> Result<bool> {
    let now = now_ms();
    let mut guard = self.lock();
    // Checked under the state lock, which close() also holds to set the flag: a heartbeat is
    // either refused or applied before the final sync takes its snapshot.
    self.ensure_open()?;
    let state = &mut *guard;
    if let Some(entry) = state.cache.get_mut(&beat.viewer) {
      if self.apply_to(entry, &mut state.dirty_count, beat, now)
        == HeartbeatOutcome::SectionCapReached
      {
        drop(guard);
        complete(beat);
        self.warn_section_cap(beat);
      }
      return Ok(true);
    }
    let unverified = if state.in_flight.contains(&beat.viewer) {
      // Being persisted (Q7): a fresh object that must not be merged with the claimed one.
      false
    } else if state.surely_new(&beat.viewer) {
      // Not in Redis when listed: a fresh object without a `GET`. It is still merged with what
      // Redis holds at the sync (`unverified`), so a writer we do not know of loses nothing.
      true
    } else {
      return Ok(false);
    };
    if self.refuse_new_viewer(state) {
      return Ok(true);
    }
    complete(beat);
    let fresh = self.new_stats(beat, now);
    self.apply(state, beat, now, Some((fresh, unverified)));
    Ok(true)
  }

  /// Applies a heartbeat, reading the viewer from Redis on a cache miss.
  pub async fn heartbeat(&self, mut beat: Heartbeat) -> Result<()> {
    if self.heartbeat_in_memory(&mut beat)? {
      return Ok(());
    }
    let loaded = self.store().get(&beat.viewer.member()).await;
    let now = now_ms();
    let (stats, unverified) = match loaded {
      Ok(Some(json)) => match ViewerStats::from_json(&json) {
        Ok(stats) => (Some(stats), false),
        Err(err) => {
          self.logger.error(
            "Invalid viewer stats in Redis, starting a new object.",
            || Meta::field("key", beat.viewer.member()).and("error", err),
          );
          (None, false)
        }
      },
      Ok(None) => (None, false),
      Err(err) => {
        self.redis_failed(&err, "Cannot read viewer from Redis, keeping it in memory.");
        (None, true)
      }
    };
    let mut state = self.lock();
    self.ensure_open()?;
    state.forget_member(&beat.viewer);
    if state.cache.contains_key(&beat.viewer) {
      // Another heartbeat of this viewer loaded it meanwhile.
      self.apply(&mut state, &beat, now, None);
    } else if state.in_flight.contains(&beat.viewer) {
      let fresh = self.new_stats(&beat, now);
      self.apply(&mut state, &beat, now, Some((fresh, false)));
    } else if !self.refuse_new_viewer(&state) {
      let stats = stats.unwrap_or_else(|| self.new_stats(&beat, now));
      self.apply(&mut state, &beat, now, Some((stats, unverified)));
    }
    Ok(())
  }

  /// Whether a new viewer must be refused because too many viewers wait for Redis; counts and
  /// warns (the first time, then every 10,000 drops).
  fn refuse_new_viewer(&self, state: &State) -> bool {
    if state.dirty_count < self.config.max_pending_writes {
      return false;
    }
    let dropped = self.dropped_heartbeats.fetch_add(1, Ordering::Relaxed) + 1;
    if dropped == 1 || dropped.is_multiple_of(10_000) {
      self.logger.warn(
        "Too many viewer stats waiting for Redis, dropping heartbeats of new viewers.",
        || {
          Meta::field("pendingWrites", state.dirty_count as u64)
            .and("maxPendingWrites", self.config.max_pending_writes as u64)
            .and("droppedHeartbeats", dropped)
        },
      );
    }
    true
  }

  fn new_stats(&self, beat: &Heartbeat, now: u64) -> ViewerStats {
    let location = match (&self.geoip, &beat.ip) {
      (Some(geoip), Some(ip)) => geoip.lookup(ip),
      _ => None,
    };
    ViewerStats::new(now, beat.viewer.video_id, location)
  }

  /// Applies `beat` to the cached entry, inserting `new` first when given.
  fn apply(&self, state: &mut State, beat: &Heartbeat, now: u64, new: Option<(ViewerStats, bool)>) {
    if let Some((stats, unverified)) = new {
      state.cache.insert(
        beat.viewer.clone(),
        Entry {
          stats,
          dirty: false,
          unverified,
        },
      );
    }
    if let Some(entry) = state.cache.get_mut(&beat.viewer) {
      if self.apply_to(entry, &mut state.dirty_count, beat, now)
        == HeartbeatOutcome::SectionCapReached
      {
        self.warn_section_cap(beat);
      }
    }
  }

  fn apply_to(
    &self,
    entry: &mut Entry,
    dirty_count: &mut usize,
    beat: &Heartbeat,
    now: u64,
  ) -> HeartbeatOutcome {
    let outcome =
      entry
        .stats
        .heartbeat(now, beat.current_time, beat.event, self.config.max_sections);
    if outcome == HeartbeatOutcome::Updated && !entry.dirty {
      entry.dirty = true;
      *dirty_count += 1;
    }
    outcome
  }

  fn warn_section_cap(&self, beat: &Heartbeat) {
    self.logger.warn(
      "Too much watch section to store for a viewer, skipping this one",
      || Meta {
        video_uuid: beat.video_uuid.clone(),
        ..Meta::field("sessionId", beat.viewer.session_id.to_string())
          .and("videoId", beat.viewer.video_id)
      },
    );
  }

  /// Watch time of a cached viewer, without I/O. `None`: ask Redis ([`Self::watch_time`]).
  pub fn watch_time_in_memory(&self, viewer: &ViewerId) -> Option<u64> {
    let state = self.lock();
    match state.cache.get(viewer) {
      Some(entry) => Some(entry.stats.watch_time()),
      None if state.in_flight.contains(viewer) => Some(0),
      None => None,
    }
  }

  /// Watch time in seconds, 0 if the viewer is unknown (spec 1.4).
  pub async fn watch_time(&self, viewer: &ViewerId) -> Result<u64> {
    if let Some(seconds) = self.watch_time_in_memory(viewer) {
      return Ok(seconds);
    }
    let json = self.store().get(&viewer.member()).await?;
    Ok(
      json
        .and_then(|j| ViewerStats::from_json(&j).ok())
        .map_or(0, |s| s.watch_time()),
    )
  }

  /// Writes every pending viewer to Redis (spec 1.5). A failed write stays pending.
  pub async fn sync(&self) -> Result<SyncReport> {
    let _guard = self.sync_lock.lock().await;
    self.sync_locked().await
  }

  async fn sync_locked(&self) -> Result<SyncReport> {
    let started = Instant::now();
    let result = self.write_pending().await;
    if matches!(&result, Ok(report) if report.written >= super::memory::LARGE_BATCH) {
      super::memory::release_free_memory_soon();
    }
    self
      .last_sync_ms
      .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    if let Err(err) = &result {
      self.redis_failed(err, "Cannot write viewer into redis");
    }
    result
  }

  /// Whether the connection was re-established since the last sync.
  fn reconnected(&self) -> bool {
    let now = self.connection.connections();
    let seen = self.seen_connections.swap(now, Ordering::AcqRel);
    seen != 0 && seen != now
  }

  async fn write_pending(&self) -> Result<SyncReport> {
    self.retry_pending_deletes().await?;
    // After a reconnection Redis may have lost what it acknowledged (a restart without
    // persistence, a failover before the replica caught up): every cached viewer is written
    // again where its key is missing.
    let reconnected = self.reconnected();
    // Only ids here: each transaction's JSON is written when it is about to be sent, under a
    // short lock, so heartbeats are not held up by a large sync and Redis starts early.
    let (mut ready, fresh, restores) = {
      let state = self.lock();
      let mut ready = Vec::with_capacity(state.dirty_count);
      let mut fresh = Vec::new();
      let mut restores = Vec::new();
      if state.dirty_count > 0 || reconnected {
        for (id, entry) in state.cache.iter() {
          if state.in_flight.contains(id) {
            continue;
          }
          match (entry.dirty, entry.unverified) {
            (true, true) => fresh.push(id.clone()),
            (true, false) => ready.push(id.clone()),
            (false, false) if reconnected => restores.push(id.clone()),
            (false, _) => {}
          }
        }
      }
      (ready, fresh, restores)
    };
    let mut written = 0;
    let mut restore_failure = None;
    if !restores.is_empty() {
      let count = restores.len() as u64;
      let (restored, _kept, failure) = self.write_batches(restores, WriteMode::Restore).await;
      let restored = restored.len() as u64;
      written += restored;
      self.logger.info(
        "Redis reconnected: rewrote cached viewers it had lost.",
        || Meta::field("restored", restored).and("cached", count),
      );
      restore_failure = failure;
    }
    // Each transaction's viewers are marked verified as it completes (see `write_batches`).
    let (written_fresh, conflicts, fresh_failure) =
      self.write_batches(fresh, WriteMode::IfAbsent).await;
    written += written_fresh.len() as u64;
    // Keys that existed although we believed them new: put what Redis holds in front, rewrite.
    if !conflicts.is_empty() {
      match self.merge_unverified(&conflicts).await {
        Ok(merged) => ready.extend(merged),
        Err(err) => {
          let mut state = self.lock();
          for id in &conflicts {
            state.mark_dirty(id);
          }
          return Err(err);
        }
      }
    }
    let (written_ready, _, failure) = self.write_batches(ready, WriteMode::Overwrite).await;
    written += written_ready.len() as u64;
    match restore_failure.or(fresh_failure).or(failure) {
      Some(err) => Err(err),
      None => Ok(SyncReport { written }),
    }
  }

  /// The next transaction of `mode` from `ids`: the current JSON of those that still qualify
  /// (cached, not being persisted, dirty unless restoring); a dirty viewer taken is clean now.
  fn take_chunk(&self, ids: &[ViewerId], mode: WriteMode) -> OutgoingChunk {
    let mut chunk = OutgoingChunk::with_capacity(ids.len());
    let mut guard = self.lock();
    let state = &mut *guard;
    for id in ids {
      if state.in_flight.contains(id) {
        continue;
      }
      let Some(entry) = state.cache.get_mut(id) else {
        continue;
      };
      if mode != WriteMode::Restore {
        if !entry.dirty {
          continue;
        }
        entry.dirty = false;
        state.dirty_count -= 1;
      }
      chunk.push(id, &entry.stats);
    }
    chunk
  }

  /// Writes `ids` in transactions of [`REDIS_BATCH`], [`SYNC_PARALLELISM`] at a time, each
  /// taken ([`Self::take_chunk`]) just before it is sent. Returns the ids written, the ids that
  /// already existed (`IfAbsent`, `Restore`) and the first error; the viewers of a failed
  /// transaction are marked dirty again.
  async fn write_batches(
    &self,
    ids: Vec<ViewerId>,
    mode: WriteMode,
  ) -> (Vec<ViewerId>, Vec<ViewerId>, Option<Error>) {
    let mut written = Vec::with_capacity(ids.len());
    let mut conflicts = Vec::new();
    let mut failed: Vec<ViewerId> = Vec::new();
    let mut first_error = None;
    // The ids stay here, not in the tasks: a task that panics still gets its viewers re-marked.
    let mut running: HashMap<tokio::task::Id, Vec<ViewerId>> = HashMap::new();
    let mut writes = tokio::task::JoinSet::new();
    let mut pending = ids.chunks(REDIS_BATCH);
    loop {
      while writes.len() < SYNC_PARALLELISM {
        let Some(next) = pending.next() else {
          break;
        };
        let chunk = self.take_chunk(next, mode);
        if chunk.is_empty() {
          continue;
        }
        let connection = self.connection.clone();
        let prefix = self.config.prefix.clone();
        let packed = chunk.packed;
        let handle = writes.spawn(async move {
          let store = ViewerStatsStore::new(&connection, &prefix);
          match mode {
            WriteMode::Overwrite => store.write(&packed).await.map(|()| Vec::new()),
            WriteMode::IfAbsent | WriteMode::Restore => store.write_new(&packed).await,
          }
        });
        running.insert(handle.id(), chunk.ids);
      }
      let Some(joined) = writes.join_next_with_id().await else {
        break;
      };
      let (task, outcome) = match joined {
        Ok((task, outcome)) => (task, outcome),
        Err(join_error) => (
          join_error.id(),
          Err(Error::new(ErrorCode::Internal, join_error.to_string())),
        ),
      };
      let ids = running.remove(&task).unwrap_or_default();
      match outcome {
        Ok(existing) => {
          let first = written.len();
          let mut existing = existing.into_iter().peekable();
          for (i, id) in ids.into_iter().enumerate() {
            if existing.peek() == Some(&i) {
              existing.next();
              conflicts.push(id);
            } else {
              written.push(id);
            }
          }
          // Redis holds these now: later writes overwrite them (`MSET`). Done here, while the
          // next transactions run, rather than in one long lock hold after the last one.
          if mode == WriteMode::IfAbsent {
            self.lock().mark_verified(&written[first..]);
          }
        }
        Err(err) => {
          failed.extend(ids);
          first_error.get_or_insert(err);
        }
      }
    }
    if first_error.is_some() {
      let mut state = self.lock();
      for id in &failed {
        state.mark_dirty(id);
      }
    }
    (written, conflicts, first_error)
  }

  /// Entries created while Redis was unreachable: put what Redis holds in front of them.
  /// Returns the ids merged, dirty again, to be written with `MSET`.
  async fn merge_unverified(&self, ids: &[ViewerId]) -> Result<Vec<ViewerId>> {
    let members: Vec<String> = ids.iter().map(ViewerId::member).collect();
    let mut stored = Vec::with_capacity(ids.len());
    for chunk in members.chunks(REDIS_BATCH) {
      let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
      stored.extend(self.store().get_many(&refs).await?);
    }
    let mut state = self.lock();
    let mut merged = Vec::with_capacity(ids.len());
    for (id, json) in ids.iter().zip(stored) {
      let Some(entry) = state.cache.get_mut(id) else {
        continue;
      };
      if let Some(older) = json.and_then(|j| ViewerStats::from_json(&j).ok()) {
        entry.stats.prepend(older);
      }
      entry.unverified = false;
      state.mark_dirty(id);
      merged.push(id.clone());
    }
    Ok(merged)
  }

  async fn retry_pending_deletes(&self) -> Result<()> {
    let ids = std::mem::take(&mut self.lock().pending_deletes);
    if ids.is_empty() {
      return Ok(());
    }
    let members: Vec<String> = ids.iter().map(ViewerId::member).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    match self.store().delete(&refs).await {
      Ok(()) => {
        let mut state = self.lock();
        for id in &ids {
          state.in_flight.remove(id);
        }
        Ok(())
      }
      Err(err) => {
        self.lock().pending_deletes.extend(ids);
        Err(err)
      }
    }
  }

  /// Hands every viewer inactive for `lifetime` to the host and deletes it (spec 1.6).
  /// A second call while a pass runs waits for it and then runs its own pass.
  pub async fn process(&self) -> Result<ProcessReport> {
    let _pass = self.process_lock.lock().await;
    let started = Instant::now();
    let result = self.process_locked().await;
    if matches!(&result, Ok(report) if report.scanned >= super::memory::LARGE_BATCH) {
      super::memory::release_free_memory_soon();
    }
    self
      .last_process_ms
      .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    result
  }

  async fn process_locked(&self) -> Result<ProcessReport> {
    let mut report = ProcessReport::default();
    let now = now_ms();
    let members = {
      let _sync = self.sync_lock.lock().await;
      // Pending writes must reach Redis first (PeerTube does the same); if Redis is down the
      // listing below fails as well.
      let _ = self.sync_locked().await;
      let members = match self.store().members().await {
        Ok(members) => members,
        Err(err) => {
          self.redis_failed(&err, "Cannot list viewers to process.");
          return Err(err);
        }
      };
      report.scanned = members.len() as u64;
      self.lock().known = Some(
        members
          .iter()
          .filter_map(|m| parse_viewer_stats_key(m))
          .map(|(session, video)| member_hash(session, video))
          .collect(),
      );
      members
    };
    self.logger.debug("Processing viewer statistics.", || {
      Meta::field("scanned", report.scanned)
    });
    // Each host call settles within the callback timeout and at most `process_concurrency` run
    // at once, so a batch settles within this bound (plus the slack of the hop).
    let waves = HOST_BATCH.div_ceil(self.config.process_concurrency.max(1)) as u64;
    let limit = Duration::from_millis(
      self
        .config
        .callback_timeout_ms
        .saturating_mul(waves)
        .saturating_add(5_000),
    );
    // A claim taken while the previous batch is stored outlives both batches' host calls;
    // after a crash it frees itself.
    let claim_ttl_ms = (limit.as_millis() as u64)
      .saturating_mul(2)
      .saturating_add(CLAIM_TTL_MARGIN_MS)
      .min(MAX_CLAIM_TTL_MS);
    // Stream the members: each chunk is claimed and read in one transaction, and the host
    // stores one chunk while the next is claimed.
    let mut orphans = Vec::new();
    let mut chunks = members.chunks(HOST_BATCH);
    let mut claimed = match chunks.next() {
      Some(chunk) => {
        self
          .claim_chunk(chunk, now, claim_ttl_ms, &mut orphans)
          .await
      }
      None => Ok(Vec::new()),
    };
    loop {
      let batch = claimed?;
      report.expired += batch.len() as u64;
      let next = chunks.next();
      let orphans = &mut orphans;
      let (settled, next_claimed) = tokio::join!(self.settle(batch, limit), async move {
        match next {
          Some(chunk) => Some(self.claim_chunk(chunk, now, claim_ttl_ms, orphans).await),
          None => None,
        }
      });
      report.discarded += settled.discarded;
      report.persisted += settled.persisted;
      report.failed += settled.failed;
      match next_claimed {
        Some(next) => claimed = next,
        None => break,
      }
    }
    report.orphans_removed = self.remove_orphans(orphans).await;
    Ok(report)
  }

  /// Claims the expired viewers of one chunk of members: in memory first (a cached viewer
  /// wins over Redis), then in Redis, where one transaction claims each viewer and reads its
  /// value ([`ViewerStatsStore::claim_read`]). Viewers that are not expired, changed, missing or
  /// claimed by another process are let go. Set members without value go to `orphans`.
  async fn claim_chunk<'m>(
    &self,
    members: &'m [String],
    now: u64,
    claim_ttl_ms: u64,
    orphans: &mut Vec<&'m str>,
  ) -> Result<Vec<Claim>> {
    let lifetime = self.config.lifetime_ms;
    // Cached claims with the JSON this engine last wrote for them: Redis must still hold it.
    let mut cached: Vec<(&str, String, Claim)> = Vec::new();
    let mut uncached: Vec<(&str, ViewerId)> = Vec::new();
    {
      let mut state = self.lock();
      for member in members {
        let Some((session, video_id)) = parse_viewer_stats_key(member) else {
          self
            .logger
            .warn("Ignoring a viewer stats key of unknown format.", || {
              Meta::field("key", member.as_str())
            });
          continue;
        };
        let id = ViewerId {
          session_id: session.into(),
          video_id,
        };
        if state.in_flight.contains(&id) {
          continue;
        }
        match state.cache.get(&id) {
          Some(entry) if entry.stats.is_expired(now, lifetime) => {
            let Some(entry) = state.cache.remove(&id) else {
              continue;
            };
            if entry.dirty {
              state.dirty_count -= 1;
            }
            state.in_flight.insert(id.clone());
            let json = entry.stats.to_json();
            let claim = Claim {
              id,
              stats: entry.stats,
              was_cached: true,
              was_dirty: entry.dirty,
            };
            cached.push((member.as_str(), json, claim));
          }
          Some(_) => {}
          None => uncached.push((member.as_str(), id)),
        }
      }
    }
    let refs: Vec<&str> = cached
      .iter()
      .map(|(member, _, _)| *member)
      .chain(uncached.iter().map(|(member, _)| *member))
      .collect();
    let replies = match self
      .store()
      .claim_read(&refs, &self.claim_token, claim_ttl_ms)
      .await
    {
      Ok(replies) => replies,
      Err(err) => {
        self.redis_failed(&err, "Cannot claim viewers to process.");
        self.restore(cached.into_iter().map(|(_, _, claim)| claim).collect());
        return Err(err);
      }
    };
    let mut replies = replies.into_iter();
    let mut held = Vec::new();
    let mut lost = Vec::new();
    let mut release: Vec<&str> = Vec::new();
    for ((member, json, claim), (took, value)) in cached.into_iter().zip(replies.by_ref()) {
      if took && value.as_deref() == Some(json.as_str()) {
        held.push(claim);
      } else {
        if took {
          release.push(member);
        }
        lost.push(claim);
      }
    }
    let mut fetched = Vec::new();
    for ((member, id), (took, value)) in uncached.into_iter().zip(replies) {
      if !took {
        continue; // another process is persisting it
      }
      let Some(json) = value else {
        release.push(member);
        orphans.push(member);
        continue;
      };
      match ViewerStats::from_json(&json) {
        Ok(stats) if stats.is_expired(now, lifetime) => fetched.push((member, id, stats)),
        Ok(_) => release.push(member),
        Err(err) => {
          self.logger.error(
            "Cannot process viewer stats for Redis key, invalid value kept.",
            || Meta::field("key", member).and("error", err),
          );
          release.push(member);
        }
      }
    }
    {
      let mut state = self.lock();
      for (member, id, stats) in fetched {
        // A heartbeat loaded it since the listing: the cache wins, a later pass sees it.
        if state.cache.contains_key(&id) || state.in_flight.contains(&id) {
          release.push(member);
          continue;
        }
        state.in_flight.insert(id.clone());
        held.push(Claim {
          id,
          stats,
          was_cached: false,
          was_dirty: false,
        });
      }
    }
    self.let_go(lost);
    if !release.is_empty() {
      if let Err(err) = self.store().release(&release, &self.claim_token).await {
        self.redis_failed(&err, "Cannot release viewer claims, they will expire.");
      }
    }
    Ok(held)
  }

  /// Members without value are removed when they were already orphans in the previous pass,
  /// so that a writer whose `SADD` lands before its `SET` (PeerTube) is never cut off.
  async fn remove_orphans(&self, orphans: Vec<&str>) -> u64 {
    let confirmed: Vec<&str> = {
      let mut state = self.lock();
      let previous = std::mem::take(&mut state.orphan_candidates);
      let (confirmed, fresh): (Vec<&str>, Vec<&str>) =
        orphans.into_iter().partition(|m| previous.contains(*m));
      state.orphan_candidates = fresh.into_iter().map(str::to_string).collect();
      confirmed
    };
    if confirmed.is_empty() {
      return 0;
    }
    match self.store().remove_orphans(&confirmed).await {
      Ok(removed) => {
        self
          .logger
          .warn("Removed viewer stats keys without value.", || {
            Meta::field("removed", removed)
          });
        removed
      }
      Err(err) => {
        self.redis_failed(&err, "Cannot remove viewer stats keys without value.");
        0
      }
    }
  }

  /// Hands one claimed batch to the host, deletes what settled, gives back what failed.
  async fn settle(&self, batch: Vec<Claim>, limit: Duration) -> ProcessReport {
    let mut report = ProcessReport::default();
    let (zero, to_save): (Vec<Claim>, Vec<Claim>) =
      batch.into_iter().partition(|c| c.stats.watch_time() == 0);
    report.discarded = zero.len() as u64;
    let mut settled: Vec<ViewerId> = zero.into_iter().map(|c| c.id).collect();
    let mut failed = Vec::new();
    let outcomes = self.save(&to_save, limit).await;
    for (claim, outcome) in to_save.into_iter().zip(outcomes) {
      match outcome {
        Ok(()) => {
          report.persisted += 1;
          settled.push(claim.id);
        }
        Err(err) => {
          self.callback_errors.fetch_add(1, Ordering::Relaxed);
          self
            .logger
            .error("Cannot process viewer stats for Redis key %s.", || {
              Meta::field("key", claim.id.member())
                .and("error", err.message.clone())
                .with_err(err.cause.clone())
            });
          failed.push(claim);
        }
      }
    }
    report.failed = failed.len() as u64;
    self.delete_settled(settled).await;
    self.release(&failed).await;
    self.restore(failed);
    report
  }

  /// One host call for a batch: an outcome per claim, in order.
  async fn save(&self, claims: &[Claim], limit: Duration) -> Vec<Result<()>> {
    if claims.is_empty() {
      return Vec::new();
    }
    let records = claims.iter().map(record_of).collect();
    match tokio::time::timeout(limit, self.host.save_viewer_stats(records)).await {
      Ok(Ok(outcomes)) if outcomes.len() == claims.len() => outcomes,
      Ok(Ok(_)) => vec![
        Err(Error::new(
          ErrorCode::Internal,
          "saveViewerStats batch returned a wrong number of outcomes"
        ));
        claims.len()
      ],
      Ok(Err(err)) => vec![Err(err); claims.len()],
      Err(_) => vec![
        Err(Error::new(
          ErrorCode::CallbackFailed,
          "saveViewerStats batch did not settle in time"
        ));
        claims.len()
      ],
    }
  }

  /// Claims lost to another writer: Redis (or the other process) has the viewer now. Only
  /// changes that never reached Redis are kept, and whatever is cached for these viewers is
  /// merged with what Redis holds before it is written (`unverified`).
  fn let_go(&self, lost: Vec<Claim>) {
    if lost.is_empty() {
      return;
    }
    self
      .logger
      .debug("Viewers claimed by another writer, skipped.", || {
        Meta::field("viewers", lost.len() as u64)
      });
    let mut state = self.lock();
    for claim in lost {
      state.in_flight.remove(&claim.id);
      state.forget_member(&claim.id);
      if let Some(fresh) = state.cache.get_mut(&claim.id) {
        if claim.was_dirty {
          fresh.stats.prepend(claim.stats);
        }
        fresh.unverified = true;
        state.mark_dirty(&claim.id);
      } else if claim.was_dirty {
        state.put_back(claim, true);
      }
    }
  }

  /// Gives back the Redis claims of viewers whose persistence failed (best effort: a claim
  /// that cannot be released expires by itself).
  async fn release(&self, failed: &[Claim]) {
    if failed.is_empty() {
      return;
    }
    let members: Vec<String> = failed.iter().map(|c| c.id.member()).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    if let Err(err) = self.store().release(&refs, &self.claim_token).await {
      self.redis_failed(&err, "Cannot release viewer claims, they will expire.");
    }
  }

  /// Puts failed claims back so the next pass retries them, merging with any fresh object.
  fn restore(&self, failed: Vec<Claim>) {
    if failed.is_empty() {
      return;
    }
    let mut state = self.lock();
    for claim in failed {
      state.in_flight.remove(&claim.id);
      if let Some(fresh) = state.cache.get_mut(&claim.id) {
        fresh.stats.prepend(claim.stats);
        state.mark_dirty(&claim.id);
      } else if claim.was_cached {
        state.put_back(claim, false);
      }
    }
  }

  async fn delete_settled(&self, ids: Vec<ViewerId>) {
    for chunk in ids.chunks(REDIS_BATCH) {
      let members: Vec<String> = chunk.iter().map(ViewerId::member).collect();
      let refs: Vec<&str> = members.iter().map(String::as_str).collect();
      match self.store().delete(&refs).await {
        Ok(()) => {
          let mut state = self.lock();
          for id in chunk {
            state.in_flight.remove(id);
            state.forget_member(id);
          }
        }
        Err(err) => {
          self.redis_failed(
            &err,
            "Cannot delete persisted viewers from Redis, will retry.",
          );
          self.lock().pending_deletes.extend(chunk.iter().cloned());
        }
      }
    }
  }

  /// Lists the viewers in Redis once, so that new viewers need no `GET`. Spawn it at start;
  /// until it succeeds (or a processing pass lists them) cache misses read Redis.
  pub async fn load_known_members(self: Arc<Self>) {
    let Ok(members) = self.store().members().await else {
      return;
    };
    let known = members
      .iter()
      .filter_map(|m| parse_viewer_stats_key(m))
      .map(|(session, video)| member_hash(session, video))
      .collect();
    let mut state = self.lock();
    if state.known.is_none() {
      state.known = Some(known);
    }
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
    }
  }

  /// Periodic sync and processing until [`Self::close`]. Spawn it once.
  pub async fn run_timers(self: Arc<Self>) {
    let mut stop = self.stop.subscribe();
    if *stop.borrow_and_update() {
      return;
    }
    let mut sync = tokio::time::interval(Duration::from_millis(self.config.sync_interval_ms));
    let mut process = tokio::time::interval(Duration::from_millis(self.config.lifetime_ms));
    let mut geoip =
      tokio::time::interval(Duration::from_millis(self.config.geoip_check_interval_ms));
    for timer in [&mut sync, &mut process, &mut geoip] {
      timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
      // Every interval ticks immediately once; PeerTube's setInterval does not.
      timer.tick().await;
    }
    loop {
      tokio::select! {
        _ = stop.changed() => break,
        _ = sync.tick() => { let _ = self.sync().await; }
        _ = process.tick() => { let _ = self.process().await; }
        _ = geoip.tick(), if self.geoip.is_some() => { self.reload_geoip().await; }
      }
    }
  }

  /// Reopens the GeoIP databases whose files appeared or changed (on a blocking thread: a
  /// database is read whole). `None` when GeoIP is disabled.
  pub async fn reload_geoip(&self) -> Option<GeoIpState> {
    let geoip = self.geoip.clone()?;
    // An error means the blocking task panicked or the runtime is shutting down: nothing was
    // swapped.
    tokio::task::spawn_blocking(move || geoip.reload_if_changed())
      .await
      .ok()
  }

  /// Stops the timers, waits for a running pass and writes everything pending to Redis.
  /// Idempotent: calling it again retries the final write if Redis was down.
  pub async fn close(&self) -> Result<SyncReport> {
    {
      // Under the state lock: no heartbeat can be half-way between its check and its update.
      let _state = self.lock();
      self.closed.store(true, Ordering::Release);
    }
    self.stop.send_replace(true);
    let _pass = self.process_lock.lock().await;
    self.sync().await
  }
}

fn record_of(claim: &Claim) -> ViewerRecord {
  let stats = &claim.stats;
  ViewerRecord {
    video_id: stats.video_id,
    session_id: claim.id.session_id.to_string(),
    first_updated: stats.first_updated,
    last_updated: stats.last_updated,
    watch_sections: stats.watch_sections.as_slice().to_vec(),
    watch_time: stats.watch_time(),
    country: stats.location.as_ref().and_then(|l| l.country.clone()),
    subdivision_name: stats
      .location
      .as_ref()
      .and_then(|l| l.subdivision_name.clone()),
  }
}
