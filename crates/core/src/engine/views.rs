//! `VideoViews` (B10-B16): view decisions, the local view buffer and hourly stats, and
//! their drains to the host.
//!
//! A counted view is one atomic script (`SET NX PX` dedup key, then the increments), so two
//! concurrent requests of one viewer never count twice. Drains take counters atomically and a
//! host that refuses a count gets it put back. While Redis is down a view is still decided (by
//! the in-memory dedup set) and its increments are kept in memory until Redis is back.

use super::clock::now_ms;
use super::options::{EngineConfig, ViewsOptions};
use crate::error::{Error, ErrorCode, Result};
use crate::log::{Logger, Meta};
use crate::rules::counters::{VideoInfo, ViewerView};
use crate::rules::expiring_set::ExpiringSet;
use crate::rules::local_time::{local_hour, local_hour_bounds};
use crate::rules::shape::report;
use crate::rules::views::{has_enough_watch_time, view_key};
use crate::store::views::{Counter, ViewsStore};
use crate::store::RedisConnection;
use std::collections::HashMap;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Drained counters handed to the host per Redis batch.
const DRAIN_BATCH: usize = 1_000;

/// View counting's settings: [`ViewsOptions`] and what every engine shares.
pub type ViewsConfig = EngineConfig<ViewsOptions>;

/// Capacity of the in-memory dedup set in front of Redis (PeerTube's LRU: 10,000).
const DEDUP_CAPACITY: usize = 10_000;

/// A video as view counting needs it.
#[derive(Clone, Debug, PartialEq)]
pub struct VideoForView {
  /// Identity.
  pub info: VideoInfo,
  /// Duration in seconds (VOD); `None` for lives.
  pub duration: Option<f64>,
  /// Whether it is a live.
  pub is_live: bool,
}

/// Views of one video over one hour, for the host's `videoView` row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HourlyViews {
  /// Video id.
  pub video_id: u64,
  /// Views during the hour.
  pub views: u64,
  /// Start of the hour (ms).
  pub start_ms: u64,
  /// Last ms of the hour.
  pub end_ms: u64,
}

/// What the views engine needs from the host.
pub trait ViewsHost: Send + Sync + 'static {
  /// Sends a View activity (a counted view: no `viewersCount`).
  fn send_view(&self, view: ViewerView) -> impl Future<Output = Result<()>> + Send;
  /// `video.views += views` and federate the video (PeerTube: `VideoModel.incrementViews`).
  fn increment_video_views(
    &self,
    video_id: u64,
    views: u64,
  ) -> impl Future<Output = Result<()>> + Send;
  /// Stores one hourly `videoView` row.
  fn save_hourly_views(&self, record: HourlyViews) -> impl Future<Output = Result<()>> + Send;
}

report! {
  /// What a drain of view counters did.
  pub struct DrainReport as "DrainReport" {
    /// Videos with views handed to the host.
    videos: u64 = "videos",
    /// Views handed to the host.
    views: u64 = "views",
    /// Videos whose host call failed (their views were put back).
    failed: u64 = "failed",
  }
}

report! {
  /// Health of view counting (`getInternalStats()`).
  pub struct ViewsHealth as "ViewsInternalStats" {
    /// Views decided while Redis was unreachable, waiting to be written.
    pending_views: u64 = "pendingViews",
    /// Failed host calls since start.
    callback_errors: u64 = "callbackErrors",
    /// Redis errors since start.
    redis_errors: u64 = "redisErrors",
  }
}

/// Increments decided while Redis was unreachable: `(video id, owned, hour) -> views`.
type PendingIncrements = HashMap<(u64, bool, u32), u64>;

/// The views engine.
pub struct ViewsEngine<H: ViewsHost> {
  config: ViewsConfig,
  /// Redis key prefix, `redis-{webserverHost}-`.
  prefix: String,
  connection: Arc<RedisConnection>,
  host: Arc<H>,
  logger: Logger,
  seen: Mutex<ExpiringSet>,
  pending: Mutex<PendingIncrements>,
  /// Counts drained but neither accepted by the host nor put back (Redis down).
  pending_put_back: Mutex<HashMap<(Counter, u64), u64>>,
  buffer_lock: tokio::sync::Mutex<()>,
  closed: AtomicBool,
  stop: watch::Sender<bool>,
  callback_errors: AtomicU64,
  redis_errors: AtomicU64,
  /// Permits for `sendView` calls in flight (`federationConcurrency`).
  federation_sends: Arc<tokio::sync::Semaphore>,
}

/// A random UUIDv4 (the id suffix of a counted view's View activity), from std's random hasher
/// keys and a counter: unique, not meant to be a secret.
pub fn random_uuid_v4() -> String {
  static COUNTER: AtomicU64 = AtomicU64::new(0);
  let state = std::collections::hash_map::RandomState::new();
  let mut bytes = [0u8; 16];
  for (i, chunk) in bytes.chunks_mut(8).enumerate() {
    let mut hasher = state.build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u64(now_ms());
    hasher.write_usize(i);
    chunk.copy_from_slice(&hasher.finish().to_le_bytes());
  }
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
  format!(
    "{}-{}-{}-{}-{}",
    &hex[0..8],
    &hex[8..12],
    &hex[12..16],
    &hex[16..20],
    &hex[20..32]
  )
}

impl<H: ViewsHost> ViewsEngine<H> {
  /// A new engine; spawn [`Self::run_timers`] for the periodic drains.
  pub fn new(
    config: ViewsConfig,
    prefix: String,
    connection: Arc<RedisConnection>,
    host: H,
    logger: Logger,
  ) -> Self {
    ViewsEngine {
      seen: Mutex::new(ExpiringSet::new(DEDUP_CAPACITY)),
      federation_sends: Arc::new(tokio::sync::Semaphore::new(
        config.calls.federation_concurrency.max(1),
      )),
      config,
      prefix,
      connection,
      host: Arc::new(host),
      logger,
      pending: Mutex::new(HashMap::new()),
      pending_put_back: Mutex::new(HashMap::new()),
      buffer_lock: tokio::sync::Mutex::new(()),
      closed: AtomicBool::new(false),
      stop: watch::channel(false).0,
      callback_errors: AtomicU64::new(0),
      redis_errors: AtomicU64::new(0),
    }
  }

  fn store(&self) -> ViewsStore<'_> {
    ViewsStore::new(&self.connection, &self.prefix)
  }

  fn ensure_open(&self) -> Result<()> {
    if self.closed.load(Ordering::Acquire) {
      Err(Error::new(ErrorCode::Closed, "VideoViews is closed"))
    } else {
      Ok(())
    }
  }

  /// Whether a view of `identity` on `uuid` is already known in memory (no I/O).
  pub fn seen_recently(&self, uuid: &str, identity: &str) -> bool {
    let key = view_key(uuid, identity);
    self
      .seen
      .lock()
      .map(|s| s.contains(&key, now_ms()))
      .unwrap_or(false)
  }

  /// Whether `watch_time` is enough for a view of `video` (no I/O).
  pub fn has_enough_watch_time(&self, video: &VideoForView, watch_time: u64) -> bool {
    has_enough_watch_time(
      video.duration,
      video.is_live,
      watch_time,
      self.config.count_view_after_ms,
    )
  }

  /// PeerTube's `addLocalView`: `true` when this request counted a view (B10-B14).
  pub async fn add_local_view(
    &self,
    video: &VideoForView,
    identity: &str,
    watch_time: u64,
  ) -> Result<bool> {
    self.ensure_open()?;
    if !self.has_enough_watch_time(video, watch_time)
      || self.seen_recently(&video.info.uuid, identity)
    {
      return Ok(false);
    }
    let now = now_ms();
    let hour = local_hour(now);
    let owned = !video.info.remote;
    let counted = self
      .store()
      .count_view(
        &video.info.uuid,
        identity,
        video.info.id,
        owned,
        hour,
        self.config.view_expiration_ms,
      )
      .await;
    let counted = match counted {
      Ok(counted) => counted,
      Err(err) => {
        // Redis is down: decide with the in-memory set and keep the increments for later.
        self.redis_errors.fetch_add(1, Ordering::Relaxed);
        self
          .logger
          .warn("Cannot count view in Redis, keeping it in memory.", || {
            Meta {
              video_uuid: Some(video.info.uuid.to_string()),
              ..Meta::field("error", err.message.clone())
            }
          });
        if let Ok(mut pending) = self.pending.lock() {
          *pending.entry((video.info.id, owned, hour)).or_insert(0) += 1;
        }
        true
      }
    };
    if counted {
      if let Ok(mut seen) = self.seen.lock() {
        let key = view_key(&video.info.uuid, identity);
        seen.insert(key, now + self.config.view_expiration_ms, now);
      }
      self.spawn_send(ViewerView {
        video: video.info.clone(),
        viewers_count: None,
        viewer_identifier: random_uuid_v4().into(),
      });
    }
    Ok(counted)
  }

  /// A View without `expires` from another instance (B15): increments, no dedup.
  pub async fn add_remote_view(&self, video: &VideoInfo) -> Result<()> {
    self.ensure_open()?;
    let hour = local_hour(now_ms());
    let item = (video.id, !video.remote, hour, 1);
    if let Err(err) = self.store().add_views(&[item]).await {
      self.redis_errors.fetch_add(1, Ordering::Relaxed);
      self.logger.warn(
        "Cannot add remote view in Redis, keeping it in memory.",
        || Meta {
          video_uuid: Some(video.uuid.to_string()),
          ..Meta::field("error", err.message.clone())
        },
      );
      if let Ok(mut pending) = self.pending.lock() {
        *pending.entry((item.0, item.1, item.2)).or_insert(0) += 1;
      }
    }
    Ok(())
  }

  fn spawn_send(&self, view: ViewerView) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
      return;
    };
    let host = self.host.clone();
    let logger = self.logger.clone();
    let limit = Duration::from_millis(self.config.calls.callback_timeout_ms);
    let uuid = view.video.uuid.to_string();
    let sends = self.federation_sends.clone();
    runtime.spawn(async move {
      // At most `federationConcurrency` in flight; the timeout starts once the call is made.
      let Ok(_permit) = sends.acquire_owned().await else {
        return;
      };
      let outcome = match tokio::time::timeout(limit, host.send_view(view)).await {
        Ok(outcome) => outcome,
        Err(_) => Err(Error::new(
          ErrorCode::CallbackFailed,
          "sendView did not settle in time",
        )),
      };
      if let Err(err) = outcome {
        logger.error("Cannot send view to federation.", || Meta {
          video_uuid: Some(uuid),
          ..Meta::field("error", err.message.clone()).with_err(err.cause.clone())
        });
      }
    });
  }

  /// Writes increments kept in memory while Redis was down.
  pub async fn flush_pending(&self) -> Result<()> {
    let items: Vec<(u64, bool, u32, u64)> = match self.pending.lock() {
      Ok(mut pending) => pending
        .drain()
        .map(|((id, owned, hour), n)| (id, owned, hour, n))
        .collect(),
      Err(_) => return Ok(()),
    };
    let put_back: Vec<((Counter, u64), u64)> = match self.pending_put_back.lock() {
      Ok(mut pending) => pending.drain().collect(),
      Err(_) => Vec::new(),
    };
    let mut result = self.store().add_views(&items).await;
    if result.is_err() {
      if let Ok(mut pending) = self.pending.lock() {
        for (id, owned, hour, n) in items {
          *pending.entry((id, owned, hour)).or_insert(0) += n;
        }
      }
    }
    for ((counter, video_id), views) in put_back {
      if let Err(err) = self.store().put_back(counter, video_id, views).await {
        if let Ok(mut pending) = self.pending_put_back.lock() {
          *pending.entry((counter, video_id)).or_insert(0) += views;
        }
        result = Err(err);
      }
    }
    result
  }

  /// Hands the local view buffer to `incrementVideoViews` (B16).
  pub async fn process_views_buffer(&self) -> Result<DrainReport> {
    let _pass = self.buffer_lock.lock().await;
    self.drain(Counter::LocalBuffer, None).await
  }

  /// Hands the views of local hour `hour` to `saveHourlyViews`.
  pub async fn process_hourly_view_stats(&self, hour: u32) -> Result<DrainReport> {
    let bounds = local_hour_bounds(now_ms(), hour)
      .ok_or_else(|| Error::new(ErrorCode::Internal, "cannot compute the local hour bounds"))?;
    self.drain(Counter::Hourly(hour), Some(bounds)).await
  }

  async fn drain(&self, counter: Counter, bounds: Option<(u64, u64)>) -> Result<DrainReport> {
    let _ = self.flush_pending().await;
    let members = self.store().members(counter).await.inspect_err(|_| {
      self.redis_errors.fetch_add(1, Ordering::Relaxed);
    })?;
    let mut report = DrainReport::default();
    for chunk in members.chunks(DRAIN_BATCH) {
      let values = self.store().drain(counter, chunk).await?;
      let mut counts = Vec::with_capacity(chunk.len());
      for (member, value) in chunk.iter().zip(values) {
        match (member.parse::<u64>(), value.parse::<u64>()) {
          (Ok(id), Ok(views)) if id > 0 && views > 0 => counts.push((id, views)),
          (_, _) if value.is_empty() || value == "0" => {}
          _ => self.logger.error(
            "Cannot parse views of a video in Redis, dropping them.",
            || Meta::field("member", member.as_str()).and("value", value.as_str()),
          ),
        }
      }
      self.hand_over(counter, bounds, counts, &mut report).await;
    }
    Ok(report)
  }

  async fn hand_over(
    &self,
    counter: Counter,
    bounds: Option<(u64, u64)>,
    counts: Vec<(u64, u64)>,
    report: &mut DrainReport,
  ) {
    let limit = Duration::from_millis(self.config.calls.callback_timeout_ms);
    let mut calls = tokio::task::JoinSet::new();
    let mut queue = counts.into_iter();
    loop {
      while calls.len() < self.config.drain_concurrency.max(1) {
        let Some((video_id, views)) = queue.next() else {
          break;
        };
        let host = self.host.clone();
        calls.spawn(async move {
          let call = async {
            match bounds {
              None => host.increment_video_views(video_id, views).await,
              Some((start_ms, end_ms)) => {
                host
                  .save_hourly_views(HourlyViews {
                    video_id,
                    views,
                    start_ms,
                    end_ms,
                  })
                  .await
              }
            }
          };
          let outcome = match tokio::time::timeout(limit, call).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::new(
              ErrorCode::CallbackFailed,
              "host call did not settle in time",
            )),
          };
          (video_id, views, outcome)
        });
      }
      let Some(joined) = calls.join_next().await else {
        break;
      };
      let Ok((video_id, views, outcome)) = joined else {
        continue;
      };
      match outcome {
        Ok(()) => {
          report.videos += 1;
          report.views += views;
        }
        Err(err) => {
          report.failed += 1;
          self.callback_errors.fetch_add(1, Ordering::Relaxed);
          self
            .logger
            .error("Cannot hand views to the host, putting them back.", || {
              Meta::field("videoId", video_id)
                .and("views", views)
                .and("error", err.message.clone())
                .with_err(err.cause.clone())
            });
          if self
            .store()
            .put_back(counter, video_id, views)
            .await
            .is_err()
          {
            if let Ok(mut pending) = self.pending_put_back.lock() {
              *pending.entry((counter, video_id)).or_insert(0) += views;
            }
          }
        }
      }
    }
  }

  /// Health snapshot.
  pub fn health(&self) -> ViewsHealth {
    let pending = self.pending.lock().map(|p| p.values().sum()).unwrap_or(0)
      + self
        .pending_put_back
        .lock()
        .map(|p| p.values().sum::<u64>())
        .unwrap_or(0);
    ViewsHealth {
      pending_views: pending,
      callback_errors: self.callback_errors.load(Ordering::Relaxed),
      redis_errors: self.redis_errors.load(Ordering::Relaxed),
    }
  }

  /// Buffer drain every `buffer_interval`, hourly stats of the previous hour a few minutes after
  /// each hour, until [`Self::close`].
  pub async fn run_timers(self: Arc<Self>) {
    let mut stop = self.stop.subscribe();
    let period = Duration::from_millis(self.config.buffer_interval_ms);
    let mut buffer = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    buffer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
      if *stop.borrow_and_update() {
        break;
      }
      let now = now_ms();
      // PeerTube's cron runs at a random minute 1-20 of every hour: wait for minute 5.
      let into_hour = now % 3_600_000;
      let until_stats = (3_600_000 + 300_000 - into_hour) % 3_600_000;
      let stats_sleep = tokio::time::sleep(Duration::from_millis(until_stats.max(1_000)));
      tokio::select! {
        _ = stop.changed() => break,
        _ = buffer.tick() => { let _ = self.process_views_buffer().await; }
        _ = stats_sleep => {
          let previous = (local_hour(now_ms()) + 23) % 24;
          let _ = self.process_hourly_view_stats(previous).await;
        }
      }
    }
  }

  /// Stops the timers and writes increments kept in memory. Idempotent.
  pub async fn close(&self) -> Result<()> {
    self.closed.store(true, Ordering::Release);
    self.stop.send_replace(true);
    self.flush_pending().await
  }
}

#[cfg(test)]
mod tests {
  use super::random_uuid_v4;

  #[test]
  fn uuids_are_v4_and_distinct() {
    let a = random_uuid_v4();
    let b = random_uuid_v4();
    assert_ne!(a, b);
    assert_eq!(a.len(), 36);
    assert_eq!(&a[14..15], "4");
    assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
  }
}
