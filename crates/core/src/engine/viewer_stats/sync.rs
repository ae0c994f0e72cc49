//! The write-behind sync (B26): pending viewers to the store in transactions, new viewers
//! merged with what another writer stored meanwhile, everything rewritten after a reconnection.

use super::{SyncReport, ViewerId, ViewerStatsEngine, REDIS_BATCH};
use crate::engine::host::StatsHost;
use crate::engine::outgoing::OutgoingChunk;
use crate::error::{Error, ErrorCode, Result};
use crate::log::Meta;
use crate::rules::stats::ViewerStats;
use crate::store::stats_store::StatsStore;
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Instant;

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

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
  /// Writes every pending viewer to Redis (B26). A failed write stays pending.
  pub async fn sync(&self) -> Result<SyncReport> {
    let _guard = self.sync_lock.lock().await;
    self.sync_locked().await
  }

  pub(super) async fn sync_locked(&self) -> Result<SyncReport> {
    let started = Instant::now();
    let result = self.write_pending().await;
    if matches!(&result, Ok(report) if report.written >= crate::engine::memory::LARGE_BATCH) {
      crate::engine::memory::release_free_memory_soon();
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
    let now = self.store.generation();
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
        let store = self.store.clone();
        let packed = chunk.packed;
        let handle = writes.spawn(async move {
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
      stored.extend(self.store.get_many(&refs).await?);
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
    match self.store.delete(&refs).await {
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
}
