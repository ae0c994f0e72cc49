//! The engine's life: the known-member listing at start, its timers (sync, processing, GeoIP
//! file check) and close().

use super::state::member_hash;
use super::{SyncReport, ViewerStatsEngine};
use crate::engine::host::StatsHost;
use crate::error::Result;
use crate::geoip::GeoIpState;
use crate::rules::keys::parse_viewer_stats_key;
use crate::store::stats_store::StatsStore;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Members per listing step (`SSCAN ... COUNT`): Redis serves other clients between steps.
const LISTING_STEP: usize = 4_096;

impl<H: StatsHost, S: StatsStore> ViewerStatsEngine<H, S> {
  /// Lists the viewers in Redis once, so that new viewers need no `GET`. Spawn it at start;
  /// until it succeeds (or a processing pass lists them) cache misses read Redis.
  pub async fn load_known_members(self: Arc<Self>) {
    let mut known = HashSet::default();
    let mut cursor = 0;
    loop {
      let Ok((next, members)) = self.store.scan_members(cursor, LISTING_STEP).await else {
        return;
      };
      known.extend(
        members
          .iter()
          .filter_map(|m| parse_viewer_stats_key(m))
          .map(|(session, video)| member_hash(session, video)),
      );
      if next == 0 {
        break;
      }
      cursor = next;
    }
    let mut state = self.lock();
    if state.known.is_none() {
      state.known = Some(known);
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
