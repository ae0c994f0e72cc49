//! The processing pass (B27): every viewer inactive for the lifetime is claimed in the store,
//! so that two processes never persist one viewer twice, then handed to the host (settle.rs).

use super::state::{member_hash, Claim};
use super::{ProcessReport, ViewerId, ViewerStatsEngine};
use crate::engine::clock::now_ms;
use crate::engine::host::StatsHost;
use crate::error::Result;
use crate::log::Meta;
use crate::rules::keys::parse_viewer_stats_key;
use crate::rules::stats::ViewerStats;
use crate::store::stats_store::StatsStore;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Viewers handed to the host per call of the batch dispatcher.
const HOST_BATCH: usize = 1_024;
/// How much longer than its batch's host calls may take a claim lives.
const CLAIM_TTL_MARGIN_MS: u64 = 60_000;
/// Longest a claim lives, whatever `callbackTimeout` says (Redis refuses huge `PX`).
const MAX_CLAIM_TTL_MS: u64 = 30 * 24 * 3_600_000;

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

  async fn process_locked(&self) -> Result<ProcessReport> {
    let mut report = ProcessReport::default();
    let now = now_ms();
    let members = {
      let _sync = self.sync_lock.lock().await;
      // Pending writes must reach Redis first (PeerTube does the same); if Redis is down the
      // listing below fails as well.
      let _ = self.sync_locked().await;
      let members = match self.store.members().await {
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
        .calls
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
  /// value ([`StatsStore::claim_read`]). Viewers that are not expired, changed, missing or
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
      .store
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
      if let Err(err) = self.store.release(&release, &self.claim_token).await {
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
    match self.store.remove_orphans(&confirmed).await {
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
