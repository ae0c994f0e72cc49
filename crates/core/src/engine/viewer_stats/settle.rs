//! A claimed batch's way out: the host call, then deletion of what was stored, and the rest
//! given back (merged with any heartbeat that came meanwhile, Q7).

use super::state::Claim;
use super::{ProcessReport, ViewerId, ViewerStatsEngine, REDIS_BATCH};
use crate::engine::host::StatsHost;
use crate::error::{Error, ErrorCode, Result};
use crate::log::Meta;
use crate::store::stats_store::StatsStore;
use std::sync::atomic::Ordering;
use std::time::Duration;

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
  /// Hands one claimed batch to the host, deletes what settled, gives back what failed.
  pub(super) async fn settle(&self, batch: Vec<Claim>, limit: Duration) -> ProcessReport {
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
    self.restore(failed);
    report
  }

  /// One host call for a batch: an outcome per claim, in order.
  async fn save(&self, claims: &[Claim], limit: Duration) -> Vec<Result<()>> {
    if claims.is_empty() {
      return Vec::new();
    }
    let records = claims.iter().map(|c| c.stats.to_record(&c.id)).collect();
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
  pub(super) fn let_go(&self, lost: Vec<Claim>) {
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

  /// Puts failed claims back so the next pass retries them, merging with any fresh object.
  pub(super) fn restore(&self, failed: Vec<Claim>) {
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
      match self.store.delete(&refs).await {
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
}
