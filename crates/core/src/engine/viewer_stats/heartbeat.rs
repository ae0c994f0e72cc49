//! Heartbeats: in memory when the viewer is cached (no I/O), else after one read of the store;
//! and the watch time the view decision reads.

use super::state::{Entry, State};
use super::{Heartbeat, ViewerId, ViewerStatsEngine};
use crate::engine::clock::now_ms;
use crate::engine::host::StatsHost;
use crate::error::Result;
use crate::log::Meta;
use crate::rules::stats::{HeartbeatOutcome, ViewerStats};
use crate::store::stats_store::StatsStore;
use std::sync::atomic::Ordering;

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
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
    let loaded = self.store.get(&beat.viewer.member()).await;
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
    let agent = self
      .agents
      .as_ref()
      .and_then(|agents| agents.resolve(beat.agent.as_ref()));
    ViewerStats::from_heartbeat(now, beat, location, agent)
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

  /// Watch time in seconds, 0 if the viewer is unknown (PeerTube's `stats?.watchTime || 0`).
  pub async fn watch_time(&self, viewer: &ViewerId) -> Result<u64> {
    if let Some(seconds) = self.watch_time_in_memory(viewer) {
      return Ok(seconds);
    }
    let json = self.store.get(&viewer.member()).await?;
    Ok(
      json
        .and_then(|j| ViewerStats::from_json(&j).ok())
        .map_or(0, |s| s.watch_time()),
    )
  }
}
