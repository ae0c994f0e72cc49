//! The processing pass (B27): under the store's processing lease, so that two processes never
//! persist one viewer twice, the viewer set is listed in steps and every viewer inactive for the
//! lifetime is read and handed to the host (settle.rs), one chunk while the next is read.
//!
//! Why one lease per pass and not one claim per viewer: a claim per viewer cost Redis a `SET NX
//! PX` per viewer and its deletion afterwards, about half of the pass's Redis time; the lease
//! costs one script per chunk (renewed with the chunk's read) and one every
//! [`LEASE_RENEW_MS`] while the pass runs. A live holder keeps it however long its host takes;
//! a crashed one loses it after [`LEASE_TTL_MS`], and the viewers it had not deleted are still in
//! Redis for the next holder.

use super::state::{member_hash, Claim};
use super::{ProcessReport, ViewerId, ViewerStatsEngine};
use crate::engine::clock::now_ms;
use crate::engine::host::StatsHost;
use crate::error::Result;
use crate::log::Meta;
use crate::rules::fxhash::FxBuild;
use crate::rules::keys::parse_viewer_stats_key;
use crate::rules::stats::ViewerStats;
use crate::store::stats_store::StatsStore;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Viewers handed to the host per call of the batch dispatcher, and listed per step.
const HOST_BATCH: usize = 1_024;
/// How long the lease lives unless renewed: how long processing waits after a holder crashed.
const LEASE_TTL_MS: u64 = 60_000;
/// How often a running pass renews its lease (three chances before it expires).
const LEASE_RENEW_MS: u64 = LEASE_TTL_MS / 4;

/// A chunk read under the lease, or the lease lost to another process.
enum Read {
  Held(Vec<Claim>),
  LeaseLost,
}

/// The listing of a pass: the store's cursor, and every member already returned (the store may
/// return one twice).
struct Listing {
  cursor: u64,
  done: bool,
  seen: HashSet<u64, FxBuild>,
}

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
  /// Hands every viewer inactive for `lifetime` to the host and deletes it (B27).
  /// A second call while a pass runs waits for it and then runs its own pass.
  pub async fn process(&self) -> Result<ProcessReport> {
    let _pass = self.process_lock.lock().await;
    let started = Instant::now();
    let result = self.process_locked().await;
    if matches!(&result, Ok(report) if report.scanned >= crate::engine::memory::LARGE_BATCH) {
      crate::engine::memory::release_free_memory_soon();
    }
    self
      .last_process_ms
      .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
    result
  }

  /// How long one batch's host calls may take.
  fn batch_limit(&self) -> Duration {
    // Each host call settles within the callback timeout and at most `process_concurrency` run
    // at once, so a batch settles within this bound (plus the slack of the hop).
    let waves = HOST_BATCH.div_ceil(self.config.process_concurrency.max(1)) as u64;
    Duration::from_millis(
      self
        .config
        .calls
        .callback_timeout_ms
        .saturating_mul(waves)
        .saturating_add(5_000),
    )
  }

  async fn process_locked(&self) -> Result<ProcessReport> {
    let limit = self.batch_limit();
    {
      let _sync = self.sync_lock.lock().await;
      // Pending writes must reach Redis first (PeerTube does the same), so that the holder of
      // the lease, this process or another, reads them.
      let _ = self.sync_locked().await;
    }
    match self.store.take_lease(&self.lease_token, LEASE_TTL_MS).await {
      Ok(true) => {}
      Ok(false) => return Ok(self.leave_to_lease_holder()),
      Err(err) => {
        self.redis_failed(&err, "Cannot take the viewer stats processing lease.");
        return Err(err);
      }
    }
    let result = self.renewing_lease(self.process_leased(limit)).await;
    // Persisted viewers whose deletion failed are deleted by the next sync (sooner than the
    // lease expires): until then the lease keeps other processes from persisting them again.
    if self.lock().pending_deletes.is_empty() {
      if let Err(err) = self.store.release_lease(&self.lease_token).await {
        self.redis_failed(&err, "Cannot release the processing lease, it will expire.");
      }
    }
    result
  }

  /// Runs `pass` while renewing the lease every [`LEASE_RENEW_MS`]. A renewal that finds the
  /// lease taken changes nothing here: the pass's next read finds it too and stops.
  async fn renewing_lease<T>(&self, pass: impl std::future::Future<Output = T>) -> T {
    tokio::pin!(pass);
    let period = Duration::from_millis(LEASE_RENEW_MS);
    let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
      tokio::select! {
        result = &mut pass => return result,
        _ = renew.tick() => {
          if let Err(err) = self.store.take_lease(&self.lease_token, LEASE_TTL_MS).await {
            self.redis_failed(&err, "Cannot renew the viewer stats processing lease.");
          }
        }
      }
    }
  }

  /// Another process holds the lease: it persists what Redis holds. Expired viewers this
  /// process cached and wrote (clean) are Redis' now and leave the cache; changes that never
  /// reached Redis stay for a later pass.
  fn leave_to_lease_holder(&self) -> ProcessReport {
    let now = now_ms();
    let lifetime = self.config.lifetime_ms;
    let mut state = self.lock();
    let state = &mut *state;
    let in_flight = &state.in_flight;
    let before = state.cache.len();
    state.cache.retain(|id, entry| {
      entry.dirty || in_flight.contains(id) || !entry.stats.is_expired(now, lifetime)
    });
    let evicted = (before - state.cache.len()) as u64;
    self.logger.debug(
      "Another process holds the viewer stats processing lease, pass skipped.",
      || Meta::field("evicted", evicted),
    );
    ProcessReport {
      skipped: true,
      ..ProcessReport::default()
    }
  }

  async fn process_leased(&self, limit: Duration) -> Result<ProcessReport> {
    self
      .logger
      .debug("Processing viewer statistics.", Meta::default);
    let mut report = ProcessReport::default();
    let now = now_ms();
    let mut listing = Listing {
      cursor: 0,
      done: false,
      seen: HashSet::default(),
    };
    // The known members are kept up to date as the listing goes; a first listing builds them.
    let first_listing = {
      let mut state = self.lock();
      let first = state.known.is_none();
      if first {
        state.listing = Some(HashSet::default());
      }
      first
    };
    let mut orphans = Vec::new();
    let mut next = self
      .next_chunk(&mut listing, now, &mut orphans, &mut report)
      .await;
    loop {
      let batch = match next {
        Ok(Some(Read::Held(batch))) => batch,
        Ok(Some(Read::LeaseLost)) => {
          self.logger.warn(
            "The viewer stats processing lease was taken over, pass stopped.",
            || Meta::field("scanned", report.scanned),
          );
          break;
        }
        Ok(None) => break,
        Err(err) => {
          self.end_listing(first_listing, false);
          return Err(err);
        }
      };
      report.expired += batch.len() as u64;
      let reading = self.next_chunk(&mut listing, now, &mut orphans, &mut report);
      let (settled, read) = tokio::join!(self.settle(batch, limit), reading);
      report.discarded += settled.discarded;
      report.persisted += settled.persisted;
      report.failed += settled.failed;
      next = read;
    }
    self.end_listing(first_listing, listing.done);
    report.orphans_removed = self.remove_orphans(orphans).await;
    Ok(report)
  }

  /// A first listing that went to its end becomes the known members.
  fn end_listing(&self, first_listing: bool, complete: bool) {
    if !first_listing {
      return;
    }
    let mut state = self.lock();
    let listed = state.listing.take();
    if complete && state.known.is_none() {
      state.known = listed;
    }
  }

  /// Lists members until some are new to this pass, then reads them: `None` when the listing
  /// is over.
  async fn next_chunk(
    &self,
    listing: &mut Listing,
    now: u64,
    orphans: &mut Vec<String>,
    report: &mut ProcessReport,
  ) -> Result<Option<Read>> {
    loop {
      if listing.done {
        return Ok(None);
      }
      let (cursor, step) = match self.store.scan_members(listing.cursor, HOST_BATCH).await {
        Ok(step) => step,
        Err(err) => {
          self.redis_failed(&err, "Cannot list viewers to process.");
          return Err(err);
        }
      };
      listing.cursor = cursor;
      listing.done = cursor == 0;
      let mut members = Vec::with_capacity(step.len());
      {
        let mut state = self.lock();
        for member in step {
          let Some((session, video)) = parse_viewer_stats_key(&member) else {
            self
              .logger
              .warn("Ignoring a viewer stats key of unknown format.", || {
                Meta::field("key", member.as_str())
              });
            continue;
          };
          let hash = member_hash(session, video);
          if !listing.seen.insert(hash) {
            continue;
          }
          state.remember_member(hash);
          let id = ViewerId {
            session_id: session.into(),
            video_id: video,
          };
          members.push((member, id));
        }
      }
      report.scanned += members.len() as u64;
      if !members.is_empty() {
        return self.read_chunk(members, now, orphans).await.map(Some);
      }
    }
  }

  /// Reads the expired viewers of one chunk of members: in memory first (a cached viewer wins
  /// over Redis), then in Redis, in one transaction that renews the lease
  /// ([`StatsStore::read_leased`]). Viewers that are not expired, changed or missing are let
  /// go. Set members without value go to `orphans`.
  async fn read_chunk(
    &self,
    members: Vec<(String, ViewerId)>,
    now: u64,
    orphans: &mut Vec<String>,
  ) -> Result<Read> {
    let lifetime = self.config.lifetime_ms;
    // Cached claims with the JSON this engine last wrote for them: Redis must still hold it.
    let mut cached: Vec<(String, String, Claim)> = Vec::new();
    let mut uncached: Vec<(String, ViewerId)> = Vec::new();
    {
      let mut state = self.lock();
      for (member, id) in members {
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
            cached.push((member, json, claim));
          }
          Some(_) => {}
          None => uncached.push((member, id)),
        }
      }
    }
    let refs: Vec<&str> = cached
      .iter()
      .map(|(member, _, _)| member.as_str())
      .chain(uncached.iter().map(|(member, _)| member.as_str()))
      .collect();
    if refs.is_empty() {
      return Ok(Read::Held(Vec::new()));
    }
    let replies = match self
      .store
      .read_leased(&refs, &self.lease_token, LEASE_TTL_MS)
      .await
    {
      Ok(Some(replies)) => replies,
      Ok(None) => {
        self.restore(cached.into_iter().map(|(_, _, claim)| claim).collect());
        return Ok(Read::LeaseLost);
      }
      Err(err) => {
        self.redis_failed(&err, "Cannot read viewers to process.");
        self.restore(cached.into_iter().map(|(_, _, claim)| claim).collect());
        return Err(err);
      }
    };
    drop(refs);
    let mut replies = replies.into_iter();
    let mut held = Vec::new();
    let mut lost = Vec::new();
    for ((_, json, claim), value) in cached.into_iter().zip(replies.by_ref()) {
      if value.as_deref() == Some(json.as_str()) {
        held.push(claim);
      } else {
        lost.push(claim);
      }
    }
    let mut fetched = Vec::new();
    for ((member, id), value) in uncached.into_iter().zip(replies) {
      let Some(json) = value else {
        orphans.push(member);
        continue;
      };
      match ViewerStats::from_json(&json) {
        Ok(stats) if stats.is_expired(now, lifetime) => fetched.push((id, stats)),
        Ok(_) => {}
        Err(err) => {
          self.logger.error(
            "Cannot process viewer stats for Redis key, invalid value kept.",
            || Meta::field("key", member.as_str()).and("error", err),
          );
        }
      }
    }
    {
      let mut state = self.lock();
      for (id, stats) in fetched {
        // A heartbeat loaded it since the listing: the cache wins, a later pass sees it.
        if state.cache.contains_key(&id) || state.in_flight.contains(&id) {
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
    Ok(Read::Held(held))
  }

  /// Members without value are removed when they were already orphans in the previous pass,
  /// so that a writer whose `SADD` lands before its `SET` (PeerTube) is never cut off.
  async fn remove_orphans(&self, orphans: Vec<String>) -> u64 {
    let confirmed: Vec<String> = {
      let mut state = self.lock();
      let previous = std::mem::take(&mut state.orphan_candidates);
      let (confirmed, fresh): (Vec<String>, Vec<String>) =
        orphans.into_iter().partition(|m| previous.contains(m));
      state.orphan_candidates = fresh.into_iter().collect();
      confirmed
    };
    if confirmed.is_empty() {
      return 0;
    }
    let refs: Vec<&str> = confirmed.iter().map(String::as_str).collect();
    match self.store.remove_orphans(&refs).await {
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
}
