//! The stats engine's state machine on the in-memory store: claims, merge back, exactly-once,
//! outage, reconnection and close (the jest suites check the same against a real Redis).

use super::*;
use crate::engine::host::StatsHost;
use crate::rules::sections::{ViewEvent, WatchSection};
use crate::rules::types::ViewerRecord;
use crate::store::memory::MemoryStatsStore;
use std::sync::atomic::AtomicUsize;
use std::time::Duration;
use tokio::sync::Notify;

/// A host that records what it stores; it can fail its next calls, or wait until released.
#[derive(Default)]
struct TestHost {
  stored: Mutex<Vec<ViewerRecord>>,
  calls: AtomicUsize,
  fail_next: AtomicUsize,
  gate: Mutex<Option<Arc<Notify>>>,
  entered: Notify,
}

impl StatsHost for Arc<TestHost> {
  async fn save_viewer_stats(&self, records: Vec<ViewerRecord>) -> Result<Vec<Result<()>>> {
    self.calls.fetch_add(1, Ordering::SeqCst);
    self.entered.notify_one();
    let gate = self.gate.lock().unwrap().clone();
    if let Some(gate) = gate {
      gate.notified().await;
    }
    let failing = self
      .fail_next
      .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
      .is_ok();
    if failing {
      return Ok(
        records
          .iter()
          .map(|_| Err(Error::new(ErrorCode::CallbackFailed, "host failed")))
          .collect(),
      );
    }
    let outcomes = records.iter().map(|_| Ok(())).collect();
    self.stored.lock().unwrap().extend(records);
    Ok(outcomes)
  }
}

const LIFETIME_MS: u64 = 30;

fn config() -> StatsConfig {
  let mut config = StatsConfig::default();
  config.options.lifetime_ms = LIFETIME_MS;
  config.options.max_pending_writes = 1_000;
  config.calls.callback_timeout_ms = 5_000;
  config
}

type Engine = ViewerStatsEngine<Arc<TestHost>, MemoryStatsStore>;

fn engine() -> (Arc<Engine>, Arc<TestHost>) {
  let host = Arc::new(TestHost::default());
  let engine = Arc::new(ViewerStatsEngine::new(
    config(),
    MemoryStatsStore::new(),
    None,
    host.clone(),
    Logger::none(),
  ));
  (engine, host)
}

fn viewer(session: &str) -> ViewerId {
  ViewerId {
    session_id: session.into(),
    video_id: 7,
  }
}

fn beat(session: &str, t: u32, seek: bool) -> Heartbeat {
  Heartbeat::new(viewer(session), t, seek.then_some(ViewEvent::Seek))
}

fn sections(pairs: &[(u32, u32)]) -> Vec<WatchSection> {
  pairs
    .iter()
    .map(|&(start, end)| WatchSection { start, end })
    .collect()
}

/// The watch sections stored in the store for `session`.
fn stored_sections(engine: &Engine, session: &str) -> Option<Vec<WatchSection>> {
  let json = engine.store.value(&viewer(session).member())?;
  let stats = crate::rules::stats::ViewerStats::from_json(&json).ok()?;
  Some(stats.watch_sections.as_slice().to_vec())
}

async fn expire() {
  tokio::time::sleep(Duration::from_millis(LIFETIME_MS + 20)).await;
}

#[tokio::test]
async fn heartbeats_are_written_behind_then_persisted_once_and_deleted() {
  let (engine, host) = engine();
  engine.heartbeat(beat("a", 1, true)).await.unwrap();
  engine.heartbeat(beat("a", 4, false)).await.unwrap();
  // Nothing reaches the store before the sync.
  assert_eq!(engine.store.member_list(), Vec::<String>::new());
  assert_eq!(engine.sync().await.unwrap(), SyncReport { written: 1 });
  assert_eq!(stored_sections(&engine, "a"), Some(sections(&[(1, 4)])));
  assert_eq!(engine.sync().await.unwrap(), SyncReport { written: 0 });

  expire().await;
  let report = engine.process().await.unwrap();
  assert_eq!(
    (report.scanned, report.expired, report.persisted),
    (1, 1, 1)
  );
  let stored = host.stored.lock().unwrap().clone();
  assert_eq!(stored.len(), 1);
  assert_eq!(stored[0].watch_sections, sections(&[(1, 4)]));
  assert_eq!(
    (stored[0].session_id.as_str(), stored[0].watch_time),
    ("a", 3)
  );
  assert!(engine.store.member_list().is_empty());
  assert!(!engine.store.lease_held(), "the lease is given back");
  assert_eq!(engine.health().cached_viewers, 0);
}

#[tokio::test]
async fn a_viewer_without_watch_time_is_deleted_without_a_host_call() {
  let (engine, host) = engine();
  engine.heartbeat(beat("z", 5, true)).await.unwrap();
  expire().await;
  let report = engine.process().await.unwrap();
  assert_eq!(
    (report.expired, report.discarded, report.persisted),
    (1, 1, 0)
  );
  assert_eq!(host.calls.load(Ordering::SeqCst), 0);
  assert!(engine.store.member_list().is_empty());
}

#[tokio::test]
async fn a_failed_host_call_keeps_the_viewer_for_the_next_pass() {
  let (engine, host) = engine();
  engine.heartbeat(beat("f", 0, true)).await.unwrap();
  engine.heartbeat(beat("f", 6, false)).await.unwrap();
  host.fail_next.store(1, Ordering::SeqCst);
  expire().await;
  let report = engine.process().await.unwrap();
  assert_eq!((report.expired, report.failed, report.persisted), (1, 1, 0));
  assert_eq!(stored_sections(&engine, "f"), Some(sections(&[(0, 6)])));
  assert!(!engine.store.lease_held(), "the lease is given back");
  let report = engine.process().await.unwrap();
  assert_eq!(report.persisted, 1);
  assert_eq!(host.stored.lock().unwrap().len(), 1);
  assert!(engine.store.member_list().is_empty());
}

/// Runs a pass whose host call waits; `during` runs while the viewer is claimed.
async fn pass_with_heartbeat_during(engine: &Arc<Engine>, host: &Arc<TestHost>, fail: bool) {
  let gate = Arc::new(Notify::new());
  *host.gate.lock().unwrap() = Some(gate.clone());
  if fail {
    host.fail_next.store(1, Ordering::SeqCst);
  }
  let pass = tokio::spawn({
    let engine = engine.clone();
    async move { engine.process().await }
  });
  host.entered.notified().await;
  // Q7: the viewer is being persisted; this heartbeat starts a fresh object.
  engine.heartbeat(beat("q", 50, true)).await.unwrap();
  assert_eq!(engine.health().in_flight, 1);
  *host.gate.lock().unwrap() = None;
  gate.notify_one();
  pass.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_heartbeat_during_persistence_is_stored_once_after_success() {
  let (engine, host) = engine();
  engine.heartbeat(beat("q", 1, true)).await.unwrap();
  engine.heartbeat(beat("q", 9, false)).await.unwrap();
  expire().await;
  pass_with_heartbeat_during(&engine, &host, false).await;
  assert_eq!(
    host.stored.lock().unwrap()[0].watch_sections,
    sections(&[(1, 9)])
  );
  // The fresh object reaches the store only now, alone.
  engine.sync().await.unwrap();
  assert_eq!(stored_sections(&engine, "q"), Some(sections(&[(50, 50)])));
  engine.heartbeat(beat("q", 55, false)).await.unwrap();
  expire().await;
  engine.process().await.unwrap();
  let stored = host.stored.lock().unwrap().clone();
  assert_eq!(stored.len(), 2);
  assert_eq!(stored[1].watch_sections, sections(&[(50, 55)]));
}

#[tokio::test]
async fn a_heartbeat_during_a_failed_persistence_is_merged_behind_the_claimed_sections() {
  let (engine, host) = engine();
  engine.heartbeat(beat("q", 1, true)).await.unwrap();
  engine.heartbeat(beat("q", 9, false)).await.unwrap();
  expire().await;
  pass_with_heartbeat_during(&engine, &host, true).await;
  assert!(host.stored.lock().unwrap().is_empty());
  engine.heartbeat(beat("q", 52, false)).await.unwrap();
  expire().await;
  assert_eq!(engine.process().await.unwrap().persisted, 1);
  let stored = host.stored.lock().unwrap().clone();
  assert_eq!(stored.len(), 1, "every section exactly once");
  assert_eq!(stored[0].watch_sections, sections(&[(1, 9), (50, 52)]));
}

#[tokio::test]
async fn while_the_store_is_down_heartbeats_succeed_and_are_merged_with_another_writer_after() {
  let (engine, _host) = engine();
  engine.store.set_down(true);
  engine.heartbeat(beat("o", 20, true)).await.unwrap();
  engine.heartbeat(beat("o", 25, false)).await.unwrap();
  assert!(engine.sync().await.is_err());
  assert_eq!(engine.health().pending_writes, 1, "kept, not dropped");
  assert!(engine.health().redis_errors >= 2);
  // Meanwhile another writer (PeerTube) stored this viewer's earlier sections.
  engine.store.set_down(false);
  let earlier = r#"{"firstUpdated":1,"lastUpdated":2,"watchSections":[{"start":0,"end":10}],"watchTime":10,"country":null,"subdivisionName":null,"videoId":7}"#;
  engine.store.put(&viewer("o").member(), earlier);
  assert_eq!(engine.sync().await.unwrap().written, 1);
  assert_eq!(
    stored_sections(&engine, "o"),
    Some(sections(&[(0, 10), (20, 25)]))
  );
}

#[tokio::test]
async fn after_the_store_restarts_empty_every_cached_viewer_is_written_again() {
  let (engine, _host) = engine();
  engine.heartbeat(beat("r", 3, true)).await.unwrap();
  engine.sync().await.unwrap();
  engine.store.restart_empty();
  assert_eq!(stored_sections(&engine, "r"), None);
  assert_eq!(engine.sync().await.unwrap().written, 1);
  assert_eq!(stored_sections(&engine, "r"), Some(sections(&[(3, 3)])));
}

#[tokio::test]
async fn while_another_process_holds_the_lease_the_pass_leaves_every_viewer_to_it() {
  let (engine, host) = engine();
  let other = r#"{"firstUpdated":1,"lastUpdated":2,"watchSections":[{"start":0,"end":10}],"watchTime":10,"country":null,"subdivisionName":null,"videoId":7}"#;
  engine.store.put(&viewer("c").member(), other);
  // One of this process's own viewers, expired and written: Redis holds it for the holder.
  engine.heartbeat(beat("own", 0, true)).await.unwrap();
  engine.heartbeat(beat("own", 8, false)).await.unwrap();
  expire().await;
  engine
    .store
    .lease_as("other-process", Duration::from_millis(150));
  let report = engine.process().await.unwrap();
  assert!(report.skipped);
  assert_eq!((report.scanned, report.persisted), (0, 0));
  assert_eq!(host.calls.load(Ordering::SeqCst), 0);
  assert!(engine.store.value(&viewer("c").member()).is_some());
  assert_eq!(stored_sections(&engine, "own"), Some(sections(&[(0, 8)])));
  assert_eq!(
    engine.health().cached_viewers,
    0,
    "the expired, written viewer left the cache"
  );
  // The other process stopped renewing: its lease expires, this process takes over.
  tokio::time::sleep(Duration::from_millis(200)).await;
  let report = engine.process().await.unwrap();
  assert!(!report.skipped);
  assert_eq!((report.scanned, report.persisted), (2, 2));
  assert_eq!(host.stored.lock().unwrap().len(), 2);
  assert!(engine.store.member_list().is_empty());
}

#[tokio::test]
async fn a_listing_in_steps_sees_every_member_once_and_builds_the_known_members() {
  let (engine, host) = engine();
  let old = r#"{"firstUpdated":1,"lastUpdated":2,"watchSections":[{"start":0,"end":10}],"watchTime":10,"country":null,"subdivisionName":null,"videoId":7}"#;
  for i in 0..2_500 {
    engine.store.put(&viewer(&format!("s{i}")).member(), old);
  }
  let report = engine.process().await.unwrap();
  assert_eq!(
    (report.scanned, report.expired, report.persisted),
    (2_500, 2_500, 2_500)
  );
  let stored = host.stored.lock().unwrap().clone();
  let sessions: std::collections::HashSet<&str> =
    stored.iter().map(|r| r.session_id.as_str()).collect();
  assert_eq!((stored.len(), sessions.len()), (2_500, 2_500));
  assert!(engine.store.member_list().is_empty());
  // The first complete listing became the known members, minus the persisted ones: a new
  // viewer now costs no read.
  let calls = engine.store.calls();
  engine.heartbeat(beat("s1", 3, true)).await.unwrap();
  assert_eq!(engine.store.calls(), calls);
}

#[tokio::test]
async fn a_member_without_value_is_removed_on_the_second_pass() {
  let (engine, _host) = engine();
  engine.store.put_member_only(&viewer("gone").member());
  assert_eq!(engine.process().await.unwrap().orphans_removed, 0);
  assert_eq!(engine.process().await.unwrap().orphans_removed, 1);
  assert!(engine.store.member_list().is_empty());
}

#[tokio::test]
async fn close_writes_what_is_pending_and_refuses_later_heartbeats() {
  let (engine, _host) = engine();
  engine.heartbeat(beat("k", 2, true)).await.unwrap();
  assert_eq!(engine.close().await.unwrap().written, 1);
  assert_eq!(stored_sections(&engine, "k"), Some(sections(&[(2, 2)])));
  let err = engine.heartbeat(beat("k", 3, false)).await.unwrap_err();
  assert_eq!(err.code, ErrorCode::Closed);
  assert_eq!(engine.close().await.unwrap().written, 0, "idempotent");
}

#[tokio::test]
async fn a_cached_viewer_costs_no_store_call() {
  let (engine, _host) = engine();
  engine.heartbeat(beat("m", 1, true)).await.unwrap();
  let calls = engine.store.calls();
  for t in 2..50 {
    let mut b = beat("m", t, false);
    assert!(engine.heartbeat_in_memory(&mut b).unwrap());
  }
  assert_eq!(engine.watch_time_in_memory(&viewer("m")), Some(48));
  assert_eq!(engine.store.calls(), calls);
}
