//! `VideoViewerCounters` (B17-B24, docs/behaviour.md): native viewer counters, client notifications and the
//! viewers federation protocol (v1 and v2).
//!
//! Joins are synchronous and do no I/O: notifications go to the host right away (the binding
//! coalesces them per video) and Views to federate go through a queue that a worker drains, so
//! a join never waits for a callback.

use super::clock::now_ms;
use super::options::{CountersOptions, EngineConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::log::{Logger, Meta};
use crate::rules::counters::{Counters, Scope, VideoInfo, ViewerView};
use crate::rules::session::SessionKey;
use crate::rules::shape::report;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

/// The counters' settings: [`CountersOptions`] and what every engine shares.
pub type CountersConfig = EngineConfig<CountersOptions>;

/// What the counters need from the host.
pub trait CountersHost: Send + Sync + 'static {
  /// The video as it is now (`None`: deleted).
  fn load_video(&self, id: u64) -> impl Future<Output = Result<Option<VideoInfo>>> + Send;
  /// Pushes the video's viewer total to its clients (Socket.IO `views-change`). Must not block.
  fn notify_clients(&self, video: &VideoInfo, total: u64);
  /// Sends a View activity.
  fn send_view(&self, view: ViewerView) -> impl Future<Output = Result<()>> + Send;
}

report! {
  /// What a counters cleanup did.
  pub struct CleanReport as "CleanReport" {
    /// Videos that had viewers before the cleanup.
    videos: u64 = "videos",
    /// Entries that expired.
    expired: u64 = "expired",
    /// Totals federated (v2).
    federated: u64 = "federated",
  }
}

report! {
  /// Health of the viewer counters (`getInternalStats()`).
  pub struct CountersHealth as "ViewerCountersInternalStats" {
    /// Viewer entries tracked (local and remote).
    viewers: u64 = "viewers",
    /// View activities waiting for `sendView`.
    pending_federation: u64 = "pendingFederation",
    /// Failed `loadVideo`/`sendView` calls since start.
    callback_errors: u64 = "callbackErrors",
  }
}

/// The counters engine.
pub struct ViewerCountersEngine<H: CountersHost> {
  config: CountersConfig,
  counters: Mutex<Counters>,
  host: Arc<H>,
  logger: Logger,
  federation: mpsc::UnboundedSender<ViewerView>,
  federation_queue: Mutex<Option<mpsc::UnboundedReceiver<ViewerView>>>,
  pending_federation: AtomicU64,
  clean_lock: tokio::sync::Mutex<()>,
  closed: AtomicBool,
  stop: watch::Sender<bool>,
  worker_done: watch::Sender<bool>,
  callback_errors: AtomicU64,
}

impl<H: CountersHost> ViewerCountersEngine<H> {
  /// A new engine; spawn [`Self::run`] once to start its worker (and timer).
  pub fn new(config: CountersConfig, host: H, logger: Logger) -> Self {
    let (federation, queue) = mpsc::unbounded_channel();
    ViewerCountersEngine {
      counters: Mutex::new(Counters::new(config.lifetime_ms, config.federation_v2)),
      config,
      host: Arc::new(host),
      logger,
      federation,
      federation_queue: Mutex::new(Some(queue)),
      pending_federation: AtomicU64::new(0),
      clean_lock: tokio::sync::Mutex::new(()),
      closed: AtomicBool::new(false),
      stop: watch::channel(false).0,
      worker_done: watch::channel(false).0,
      callback_errors: AtomicU64::new(0),
    }
  }

  fn lock(&self) -> MutexGuard<'_, Counters> {
    // Counters are consistent between statements; a poisoned lock is still usable.
    self.counters.lock().unwrap_or_else(|p| p.into_inner())
  }

  fn ensure_open(&self) -> Result<()> {
    if self.closed.load(Ordering::Acquire) {
      Err(Error::new(
        ErrorCode::Closed,
        "VideoViewerCounters is closed",
      ))
    } else {
      Ok(())
    }
  }

  fn after_add(&self, video: &VideoInfo, outcome: crate::rules::counters::AddOutcome) -> bool {
    if let Some(total) = outcome.notify_total {
      self.host.notify_clients(video, total);
    }
    if let Some(view) = outcome.federate {
      self.pending_federation.fetch_add(1, Ordering::Relaxed);
      if self.federation.send(view).is_err() {
        self.pending_federation.fetch_sub(1, Ordering::Relaxed);
      }
    }
    outcome.added
  }

  /// A local viewer's heartbeat; `true` when it is a new viewer (B3, B17, B23).
  pub fn add_local_viewer(&self, video: &VideoInfo, session: &SessionKey) -> Result<bool> {
    self.ensure_open()?;
    let outcome = self.lock().add_local_viewer(video, session, now_ms());
    Ok(self.after_add(video, outcome))
  }

  /// A View with `expires` on a local video (B18).
  pub fn add_remote_viewer_on_local_video(
    &self,
    video: &VideoInfo,
    viewer_id: &str,
    expires: u64,
  ) -> Result<bool> {
    self.ensure_open()?;
    let outcome = self
      .lock()
      .add_remote_viewer_on_local_video(video, viewer_id, expires);
    Ok(self.after_add(video, outcome))
  }

  /// A View with `expires` on a remote video (B19).
  pub fn add_remote_viewer_on_remote_video(
    &self,
    video: &VideoInfo,
    viewer_id: &str,
    expires: u64,
    result_counter: Option<u64>,
  ) -> Result<bool> {
    self.ensure_open()?;
    let outcome =
      self
        .lock()
        .add_remote_viewer_on_remote_video(video, viewer_id, expires, result_counter);
    Ok(self.after_add(video, outcome))
  }

  /// Viewers of one video (O(1)).
  pub fn total_of(&self, video_id: u64) -> u64 {
    self.lock().total_of(video_id)
  }

  /// Viewers by scope over every video (O(1)).
  pub fn total(&self, viewer_scope: Scope, video_scope: Scope) -> u64 {
    self.lock().total(viewer_scope, video_scope)
  }

  /// Health snapshot.
  pub fn health(&self) -> CountersHealth {
    CountersHealth {
      viewers: self.lock().entries() as u64,
      pending_federation: self.pending_federation.load(Ordering::Relaxed),
      callback_errors: self.callback_errors.load(Ordering::Relaxed),
    }
  }

  async fn with_timeout<T>(&self, name: &str, fut: impl Future<Output = Result<T>>) -> Result<T> {
    let limit = Duration::from_millis(self.config.calls.callback_timeout_ms);
    match tokio::time::timeout(limit, fut).await {
      Ok(result) => result,
      Err(_) => Err(Error::new(
        ErrorCode::CallbackFailed,
        format!("{name} did not settle within {} ms", limit.as_millis()),
      )),
    }
  }

  fn callback_failed(&self, message: &str, uuid: &str, err: &Error) {
    self.callback_errors.fetch_add(1, Ordering::Relaxed);
    self.logger.error(message, || Meta {
      video_uuid: Some(uuid.to_string()),
      ..Meta::field("error", err.message.clone()).with_err(err.cause.clone())
    });
  }

  async fn send(&self, view: ViewerView) -> bool {
    let uuid = view.video.uuid.clone();
    match self
      .with_timeout("sendView", self.host.send_view(view))
      .await
    {
      Ok(()) => true,
      Err(err) => {
        self.callback_failed("Cannot send view to federation.", &uuid, &err);
        false
      }
    }
  }

  /// Drops expired entries, notifies clients of every video that had viewers and (v2) sends
  /// the total of each local video that still has some (B21). One failing video never stops
  /// the others.
  pub async fn clean(&self) -> CleanReport {
    let _pass = self.clean_lock.lock().await;
    let cleaned = self.lock().clean(now_ms());
    let mut report = CleanReport {
      videos: cleaned.len() as u64,
      ..CleanReport::default()
    };
    self.logger.debug("Updating video viewer counters.", || {
      Meta::field("videos", report.videos)
    });
    for entry in cleaned {
      report.expired += entry.expired;
      let loaded = self
        .with_timeout("loadVideo", self.host.load_video(entry.video.id))
        .await;
      let video = match loaded {
        Ok(Some(video)) => video,
        Ok(None) => continue,
        Err(err) => {
          self.callback_failed(
            "Cannot load video to update its viewers.",
            &entry.video.uuid,
            &err,
          );
          continue;
        }
      };
      // The total may have moved while the video was loading.
      let total = self.total_of(entry.video.id);
      self.host.notify_clients(&video, total);
      let summary = self.lock().total_to_federate(&video, total);
      if let Some(view) = summary {
        if self.send(view).await {
          report.federated += 1;
        }
      }
    }
    report
  }

  /// The federation worker and, with `auto_start`, the cleanup timer, until [`Self::close`].
  pub async fn run(self: Arc<Self>, auto_start: bool) {
    let queue = self.federation_queue.lock().ok().and_then(|mut q| q.take());
    let Some(mut queue) = queue else {
      return;
    };
    let mut stop = self.stop.subscribe();
    let period = Duration::from_millis(self.config.lifetime_ms);
    let mut timer = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sends = tokio::task::JoinSet::new();
    loop {
      if *stop.borrow_and_update() {
        break;
      }
      tokio::select! {
        _ = stop.changed() => break,
        // At most `federationConcurrency` sends in flight: the rest wait in the queue, so a
        // send's timeout measures the host, not the queue in front of it.
        Some(view) = queue.recv(), if sends.len() < self.config.calls.federation_concurrency.max(1) => {
          let engine = self.clone();
          sends.spawn(async move {
            engine.send(view).await;
            engine.pending_federation.fetch_sub(1, Ordering::Relaxed);
          });
        }
        Some(_) = sends.join_next(), if !sends.is_empty() => {}
        _ = timer.tick(), if auto_start => { self.clean().await; }
      }
    }
    // Views queued before close() are still sent.
    queue.close();
    while let Some(view) = queue.recv().await {
      self.send(view).await;
      self.pending_federation.fetch_sub(1, Ordering::Relaxed);
    }
    while sends.join_next().await.is_some() {}
    self.worker_done.send_replace(true);
  }

  /// Stops the timer, sends the Views still queued and waits for them. Idempotent.
  pub async fn close(&self) {
    self.closed.store(true, Ordering::Release);
    self.stop.send_replace(true);
    let mut done = self.worker_done.subscribe();
    let limit = Duration::from_millis(self.config.calls.callback_timeout_ms.saturating_add(1_000));
    let _ = tokio::time::timeout(limit, done.wait_for(|d| *d)).await;
  }
}
