//! `VideoViewsManager.processLocalView` (B1-B5): identity, then stats, counter,
//! watch time and view decision, in PeerTube's order, over the three engines.

use super::host::StatsHost;
use super::options::IdentityOptions;
use super::viewer_counters::{CountersHost, ViewerCountersEngine};
use super::viewer_stats::{Heartbeat, ViewerId, ViewerStatsEngine};
use super::views::{VideoForView, ViewsEngine, ViewsHost};
use crate::error::{Error, Result};
use crate::rules::identity::viewer_identity;
use crate::rules::sections::ViewEvent;
use crate::rules::shape::report;
use crate::rules::types::VideoInfo;
use crate::rules::user_agent::UserAgentInput;
use std::sync::Arc;

/// One request of `POST /api/v1/videos/:id/views`, validated field by field.
#[derive(Clone, Debug)]
pub struct LocalViewRequest {
  /// The video.
  pub video: VideoForView,
  /// Position in seconds.
  pub current_time: u32,
  /// Client IP.
  pub ip: Option<String>,
  /// Client session id (validated), if any.
  pub session_id: Option<String>,
  /// Player event.
  pub event: Option<ViewEvent>,
  /// User agent and the body's fields (read only for a release with user-agent stats).
  pub agent: Option<UserAgentInput>,
}

/// A View activity from another instance (`processRemoteView`): a viewer when it has an
/// expiry, else a view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteViewRequest {
  /// The video.
  pub video: VideoInfo,
  /// The viewer it announces, if it carries `expires`.
  pub viewer: Option<RemoteViewer>,
}

/// The viewer a View activity with `expires` announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteViewer {
  /// The activity's id.
  pub id: String,
  /// When it stops counting, ms since the epoch.
  pub expires_ms: u64,
  /// The origin's total (federation v2), read on remote videos only.
  pub result_counter: Option<u64>,
}

report! {
  /// PeerTube's answer to a heartbeat: whether it counted a view, and whether it added a viewer.
  pub struct ViewOutcome as "ViewOutcome" {
    /// A view was counted (PeerTube then fires `action:api.video.viewed`).
    success_view: bool = "successView",
    /// A new viewer was added to the counters.
    success_viewer: bool = "successViewer",
  }
}

/// How far a request got without I/O.
pub enum FastPath {
  /// Fully answered in memory.
  Done(ViewOutcome),
  /// Stats and counter done; the view decision needs Redis.
  NeedsView {
    /// The counter's answer.
    success_viewer: bool,
    /// The viewer's watch time.
    watch_time: u64,
  },
  /// The viewer's stats must be read from Redis first.
  NeedsStats,
}

report! {
  /// Health of the three engines of `VideoViewsManager` (`getInternalStats()`).
  pub struct ManagerHealth as "ManagerInternalStats" {
    /// Viewer stats held in memory.
    cached_viewers: u64 = "cachedViewers",
    /// Viewer stats waiting to be written to Redis.
    pending_writes: u64 = "pendingWrites",
    /// Viewer stats being persisted.
    in_flight: u64 = "inFlight",
    /// Duration of the last stats sync, ms.
    last_sync_ms: u64 = "lastSyncMs",
    /// Duration of the last stats processing, ms.
    last_process_ms: u64 = "lastProcessMs",
    /// Viewer counter entries.
    viewers: u64 = "viewers",
    /// Views decided while Redis was down, not yet written.
    pending_views: u64 = "pendingViews",
    /// View activities waiting for `sendView`.
    pending_federation: u64 = "pendingFederation",
    /// Redis errors since start.
    redis_errors: u64 = "redisErrors",
    /// Host callback failures since start.
    callback_errors: u64 = "callbackErrors",
    /// Heartbeats of new viewers dropped because `maxPendingWrites` viewers waited for Redis.
    dropped_heartbeats: u64 = "droppedHeartbeats",
  }
}

/// A request with its identity resolved.
pub struct Prepared {
  request: LocalViewRequest,
  /// The identity as text (view dedup keys).
  identity: String,
  /// The identity packed, with the video: the viewer stats key (also the counters' key).
  viewer: ViewerId,
}

/// The three engines of one PeerTube instance.
pub struct Manager<S: StatsHost, C: CountersHost, V: ViewsHost> {
  /// Viewer stats.
  pub stats: Arc<ViewerStatsEngine<S>>,
  /// Viewer counters.
  pub counters: Arc<ViewerCountersEngine<C>>,
  /// Views.
  pub views: Arc<ViewsEngine<V>>,
  /// How viewers are identified.
  pub identity: IdentityOptions,
}

impl<S: StatsHost, C: CountersHost, V: ViewsHost> Manager<S, C, V> {
  /// B5 and B1-B2: rejects a position beyond a VOD's duration, resolves the identity.
  pub fn prepare(&self, request: LocalViewRequest) -> Result<Prepared> {
    if let (false, Some(duration)) = (request.video.is_live, request.video.duration) {
      if f64::from(request.current_time) > duration {
        return Err(Error::invalid_range(
          "currentTime",
          format!(
            "{} is invalid (video {} duration: {duration})",
            request.current_time, request.video.info.uuid
          ),
        ));
      }
    }
    let identity = viewer_identity(
      request.session_id.as_deref(),
      self.identity.trust_session_id,
      request.ip.as_deref(),
      &self.identity.identity_salt,
    );
    let viewer = ViewerId {
      session_id: identity.as_str().into(),
      video_id: request.video.info.id,
    };
    Ok(Prepared {
      request,
      identity,
      viewer,
    })
  }

  /// The heartbeat of a request, without its `ip` and `video_uuid` ([`Self::complete`] adds
  /// them when a new viewer needs them).
  fn heartbeat(&self, prepared: &Prepared) -> Heartbeat {
    Heartbeat::new(
      prepared.viewer.clone(),
      prepared.request.current_time,
      prepared.request.event,
    )
  }

  fn complete(prepared: &Prepared, beat: &mut Heartbeat) {
    beat.ip.clone_from(&prepared.request.ip);
    beat.video_uuid = Some(prepared.request.video.info.uuid.to_string());
    beat.agent.clone_from(&prepared.request.agent);
  }

  /// Answers from memory when possible (no Promise hop, no Redis round trip).
  pub fn process_in_memory(&self, prepared: &Prepared) -> Result<FastPath> {
    let mut beat = self.heartbeat(prepared);
    if !self
      .stats
      .heartbeat_in_memory_lazy(&mut beat, &mut |beat| Self::complete(prepared, beat))?
    {
      return Ok(FastPath::NeedsStats);
    }
    let video = &prepared.request.video;
    let success_viewer = self
      .counters
      .add_local_viewer(&video.info, &prepared.viewer.session_id)?;
    let watch_time = self
      .stats
      .watch_time_in_memory(&prepared.viewer)
      .unwrap_or(0);
    if !self.views.has_enough_watch_time(video, watch_time)
      || self
        .views
        .seen_recently(&video.info.uuid, &prepared.identity)
    {
      return Ok(FastPath::Done(ViewOutcome {
        success_view: false,
        success_viewer,
      }));
    }
    Ok(FastPath::NeedsView {
      success_viewer,
      watch_time,
    })
  }

  /// The view decision after [`FastPath::NeedsView`].
  pub async fn decide_view(
    &self,
    prepared: &Prepared,
    success_viewer: bool,
    watch_time: u64,
  ) -> Result<ViewOutcome> {
    let success_view = self
      .views
      .add_local_view(&prepared.request.video, &prepared.identity, watch_time)
      .await?;
    Ok(ViewOutcome {
      success_view,
      success_viewer,
    })
  }

  /// PeerTube's `processRemoteView` without I/O: a viewer on a local video (B18, deduplicated)
  /// or on a remote video (B19) is counted now and `true` is returned; a view (no `expires`)
  /// needs Redis: `false`, then call [`Self::process_remote_view`].
  pub fn process_remote_view_in_memory(&self, request: &RemoteViewRequest) -> Result<bool> {
    let Some(viewer) = &request.viewer else {
      return Ok(false);
    };
    let video = &request.video;
    if video.remote {
      self.counters.add_remote_viewer_on_remote_video(
        video,
        &viewer.id,
        viewer.expires_ms,
        viewer.result_counter,
      )?;
    } else {
      self
        .counters
        .add_remote_viewer_on_local_video(video, &viewer.id, viewer.expires_ms)?;
    }
    Ok(true)
  }

  /// PeerTube's `processRemoteView`: a viewer in the counters, or a view (B15).
  pub async fn process_remote_view(&self, request: &RemoteViewRequest) -> Result<()> {
    if !self.process_remote_view_in_memory(request)? {
      self.views.add_remote_view(&request.video).await?;
    }
    Ok(())
  }

  /// Stops every timer, sends queued Views and writes everything pending to Redis (the three
  /// engines' own `close`). Idempotent; an error means Redis did not take the final writes.
  pub async fn close(&self) -> Result<()> {
    self.counters.close().await;
    let views = self.views.close().await;
    let stats = self.stats.close().await;
    stats.map(|_| ()).and(views)
  }

  /// Health of the three engines, in one report.
  pub fn health(&self) -> ManagerHealth {
    let stats = self.stats.health();
    let counters = self.counters.health();
    let views = self.views.health();
    ManagerHealth {
      cached_viewers: stats.cached_viewers,
      pending_writes: stats.pending_writes,
      in_flight: stats.in_flight,
      last_sync_ms: stats.last_sync_ms,
      last_process_ms: stats.last_process_ms,
      viewers: counters.viewers,
      pending_views: views.pending_views,
      pending_federation: counters.pending_federation,
      redis_errors: stats.redis_errors + views.redis_errors,
      callback_errors: stats.callback_errors + counters.callback_errors + views.callback_errors,
      dropped_heartbeats: stats.dropped_heartbeats,
    }
  }

  /// The whole request with I/O (after [`FastPath::NeedsStats`]).
  pub async fn process(&self, prepared: &Prepared) -> Result<ViewOutcome> {
    let mut beat = self.heartbeat(prepared);
    Self::complete(prepared, &mut beat);
    self.stats.heartbeat(beat).await?;
    let video = &prepared.request.video;
    let success_viewer = self
      .counters
      .add_local_viewer(&video.info, &prepared.viewer.session_id)?;
    let watch_time = self.stats.watch_time(&prepared.viewer).await?;
    self.decide_view(prepared, success_viewer, watch_time).await
  }
}
