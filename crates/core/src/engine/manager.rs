//! `VideoViewsManager.processLocalView` (spec 3.1, B1-B5): identity, then stats, counter,
//! watch time and view decision, in PeerTube's order, over the three engines.

use super::host::StatsHost;
use super::viewer_counters::{CountersHost, ViewerCountersEngine};
use super::viewer_stats::{Heartbeat, ViewerId, ViewerStatsEngine};
use super::views::{VideoForView, ViewsEngine, ViewsHost};
use crate::error::{Error, Result};
use crate::rules::identity::viewer_identity;
use crate::rules::sections::ViewEvent;
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
}

/// PeerTube's answer: whether this request counted a view, and whether it added a viewer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ViewOutcome {
  /// A view was counted (PeerTube then fires `action:api.video.viewed`).
  pub success_view: bool,
  /// A new viewer was added to the counters.
  pub success_viewer: bool,
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
  /// `views.videos.trust_viewer_session_id`.
  pub trust_session_id: bool,
  /// Salt of the IP hash (PeerTube: `[object Object]`).
  pub identity_salt: String,
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
      self.trust_session_id,
      request.ip.as_deref(),
      &self.identity_salt,
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
    Heartbeat {
      viewer: prepared.viewer.clone(),
      current_time: prepared.request.current_time,
      event: prepared.request.event,
      ip: None,
      video_uuid: None,
    }
  }

  fn complete(prepared: &Prepared, beat: &mut Heartbeat) {
    beat.ip.clone_from(&prepared.request.ip);
    beat.video_uuid = Some(prepared.request.video.info.uuid.to_string());
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
