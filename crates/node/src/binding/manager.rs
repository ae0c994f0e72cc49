//! `VideoViewsManager`: one object PeerTube can use instead of its own `lib/views`, with viewer
//! stats, viewer counters and views sharing one Redis connection.

use super::callbacks::Raw;
use super::errors::to_napi;
use super::js::{Builder, Js};
use super::options::{self, input};
use super::promise::{ready, rejected, resolved, spawn};
use super::setup::read_shared;
use super::uuid_cache::UuidCache;
use super::viewer_counters::{
  build_counters_engine, clean_report, remote_input, result_counter, scopes, send_view_fn,
  video_id, JsCountersHost,
};
use super::viewer_stats::{build_stats_engine, process_report, JsStatsHost};
use super::views::{buffer_drain, build_views_engine, hourly_drain, remote_view, JsViewsHost};
use napi::bindgen_prelude::{Env, Unknown};
use napi::sys;
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
use views_core::engine::manager::{FastPath, LocalViewRequest, Manager, ViewOutcome};
use views_core::error::{Error, Result};
use views_core::rules::identity::PEERTUBE_SALT;

type Engines = Manager<JsStatsHost, JsCountersHost, JsViewsHost>;

fn outcome_to_js(b: &Builder, outcome: ViewOutcome) -> Result<sys::napi_value> {
  let object = b.object()?;
  b.set(object, "successView", b.boolean(outcome.success_view)?)?;
  b.set(object, "successViewer", b.boolean(outcome.success_viewer)?)?;
  Ok(object)
}

/// The request's `sessionId`: not read at all when session ids are not trusted (PeerTube then
/// ignores it), else [`input::view_session_id_value`].
fn request_session_id(
  engines: &Engines,
  value: impl FnOnce() -> Result<Js>,
) -> Result<Option<String>> {
  if engines.trust_session_id {
    input::view_session_id_value(value()?)
  } else {
    Ok(None)
  }
}

fn read_request(env: &Env, engines: &Engines, value: Unknown) -> Result<LocalViewRequest> {
  let object = Js::new(env.raw(), value.raw()).expect_object("input")?;
  Ok(LocalViewRequest {
    video: input::video_for_view(input::video_object(object)?)?,
    current_time: input::current_time(object)?,
    session_id: request_session_id(engines, || object.get_c(c"sessionId", "sessionId"))?,
    event: input::view_event(object)?,
    ip: input::ip(object)?,
  })
}

/// Health of the three engines.
#[napi(object)]
pub struct ManagerInternalStats {
  /// Viewer stats held in memory.
  pub cached_viewers: f64,
  /// Viewer stats waiting to be written to Redis.
  pub pending_writes: f64,
  /// Viewer stats being persisted.
  pub in_flight: f64,
  /// Duration of the last stats sync, ms.
  pub last_sync_ms: f64,
  /// Duration of the last stats processing, ms.
  pub last_process_ms: f64,
  /// Viewer counter entries.
  pub viewers: f64,
  /// Views decided while Redis was down, not yet written.
  pub pending_views: f64,
  /// View activities waiting for `sendView`.
  pub pending_federation: f64,
  /// Redis errors since start.
  pub redis_errors: f64,
  /// Host callback failures since start.
  pub callback_errors: f64,
  /// Heartbeats of new viewers dropped because `maxPendingWrites` viewers waited for Redis.
  pub dropped_heartbeats: f64,
}

/// PeerTube's `VideoViewsManager`, natively: `processLocalView` for player heartbeats,
/// `processRemoteView` for View activities, viewer totals, and the periodic jobs, with
/// persistence and federation left to the `host` callbacks.
#[napi]
pub struct VideoViewsManager {
  engines: Arc<Engines>,
  uuids: Arc<UuidCache>,
}

/// What the bound `processLocalViewArgs` holds (see [`super::entry`]).
struct LocalViewEntry {
  engines: Arc<Engines>,
  uuids: Arc<UuidCache>,
}

/// Reads the arguments of `processLocalViewArgs`.
fn local_view_args(
  args: [Js; 9],
  engines: &Engines,
  uuids: &UuidCache,
) -> Result<LocalViewRequest> {
  let [video_id, video_uuid, video_remote, video_duration, video_is_live, current_time, ip, session_id, view_event] =
    args;
  let info = input::video_info_values(video_id, video_uuid, video_remote, uuids)?;
  let (duration, is_live) = input::duration_and_live(video_duration, video_is_live)?;
  Ok(LocalViewRequest {
    video: views_core::engine::views::VideoForView {
      info,
      duration,
      is_live,
    },
    current_time: views_core::rules::validate::current_time(
      "currentTime",
      current_time.number("currentTime")?,
    )?,
    session_id: request_session_id(engines, || Ok(session_id))?,
    event: input::view_event_value(view_event)?,
    ip: ip.optional(|v| v.string("ip", 128))?,
  })
}

/// The bound `processLocalViewArgs`.
fn local_view_entry(env: &Env, entry: &Arc<LocalViewEntry>, args: [Js; 9]) -> napi::Result<Raw> {
  local_view(
    env,
    &entry.engines,
    local_view_args(args, &entry.engines, &entry.uuids),
  )
}

/// Runs a read heartbeat: in memory when possible (a plain object), else through a Promise;
/// invalid input rejects.
fn local_view(
  env: &Env,
  engines: &Arc<Engines>,
  request: Result<LocalViewRequest>,
) -> napi::Result<Raw> {
  let prepared = request.and_then(|request| engines.prepare(request));
  let prepared = match prepared {
    Ok(prepared) => prepared,
    Err(err) => return rejected(env, &err),
  };
  match engines.process_in_memory(&prepared) {
    Ok(FastPath::Done(outcome)) => ready(env, |b| outcome_to_js(b, outcome)),
    Ok(FastPath::NeedsView {
      success_viewer,
      watch_time,
    }) => spawn(
      env,
      {
        let engines = engines.clone();
        async move {
          engines
            .decide_view(&prepared, success_viewer, watch_time)
            .await
        }
      },
      outcome_to_js,
    ),
    Ok(FastPath::NeedsStats) => spawn(
      env,
      {
        let engines = engines.clone();
        async move { engines.process(&prepared).await }
      },
      outcome_to_js,
    ),
    Err(err) => rejected(env, &err),
  }
}

#[napi]
impl VideoViewsManager {
  /// Creates the three engines on one Redis connection and, unless `autoStart: false`, their
  /// timers. Throws `INVALID_ARGUMENT` on bad options.
  #[napi(
    catch_unwind,
    constructor,
    ts_args_type = "options: VideoViewsManagerOptions"
  )]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let built = (|| -> Result<(Engines, bool)> {
      let object = Js::new(env.raw(), options.raw()).expect_object("options")?;
      let host = options::prop(object, "host", "host")?.expect_object("host")?;
      let shared = read_shared(object)?;
      let send = send_view_fn(&env, host)?;
      let stats = build_stats_engine(&env, object, host, &shared)?;
      let counters = build_counters_engine(&env, object, host, shared.logger.clone(), &send)?;
      let views = build_views_engine(&env, object, host, &shared, send)?;
      let salt = options::prop(object, "identitySalt", "identitySalt")?
        .optional(|v| v.string("identitySalt", 1024))?
        .unwrap_or_else(|| PEERTUBE_SALT.to_string());
      let engines = Manager {
        stats: Arc::new(stats),
        counters: Arc::new(counters),
        views: Arc::new(views),
        trust_session_id: options::boolean(object, "trustViewerSessionId", true)?,
        identity_salt: salt,
      };
      Ok((engines, shared.auto_start))
    })();
    let (engines, auto_start) = built.map_err(|e| to_napi(env.raw(), &e))?;
    if auto_start {
      napi::bindgen_prelude::spawn(engines.stats.clone().run_timers());
      napi::bindgen_prelude::spawn(engines.views.clone().run_timers());
    }
    napi::bindgen_prelude::spawn(engines.counters.clone().run(auto_start));
    napi::bindgen_prelude::spawn(engines.stats.clone().load_known_members());
    Ok(VideoViewsManager {
      engines: Arc::new(engines),
      uuids: Arc::default(),
    })
  }

  /// One player heartbeat (`POST /api/v1/videos/:id/views`): viewer stats, viewer counter,
  /// watch time, view decision, in PeerTube's order. Without `sessionId` (or with
  /// `trustViewerSessionId: false`) the viewer is `sha256('[object Object]-' + ip)`. A
  /// `currentTime` beyond a VOD's `duration` rejects with `INVALID_ARGUMENT` before any change.
  /// Use `await`: when the answer is in memory it is returned as a plain object (no Promise, no
  /// thread hop); otherwise a Promise.
  #[napi(
    catch_unwind,
    ts_args_type = "input: LocalViewRequest",
    ts_return_type = "{ successView: boolean; successViewer: boolean } | Promise<{ successView: boolean; successViewer: boolean }>"
  )]
  pub fn process_local_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let request = read_request(&env, &self.engines, input);
    local_view(&env, &self.engines, request)
  }

  /// `processLocalView` with the fields as arguments (`video.id, video.uuid, video.remote,
  /// video.duration, video.isLive, currentTime, ip, sessionId, viewEvent`): what the JS wrapper
  /// calls after reading the input object. Same validation, errors and result.
  #[napi(
    catch_unwind,
    ts_args_type = "videoId: number, videoUuid: string, videoRemote: boolean | null | undefined, videoDuration: number | null | undefined, videoIsLive: boolean | null | undefined, currentTime: number, ip: string | null | undefined, sessionId: string | null | undefined, viewEvent: string | null | undefined",
    ts_return_type = "{ successView: boolean; successViewer: boolean } | Promise<{ successView: boolean; successViewer: boolean }>"
  )]
  #[allow(clippy::too_many_arguments)]
  pub fn process_local_view_args(
    &self,
    env: Env,
    video_id: Unknown,
    video_uuid: Unknown,
    video_remote: Unknown,
    video_duration: Unknown,
    video_is_live: Unknown,
    current_time: Unknown,
    ip: Unknown,
    session_id: Unknown,
    view_event: Unknown,
  ) -> napi::Result<Raw> {
    let js = |v: Unknown| Js::new(env.raw(), v.raw());
    let args = [
      js(video_id),
      js(video_uuid),
      js(video_remote),
      js(video_duration),
      js(video_is_live),
      js(current_time),
      js(ip),
      js(session_id),
      js(view_event),
    ];
    local_view(
      &env,
      &self.engines,
      local_view_args(args, &self.engines, &self.uuids),
    )
  }

  /// `processLocalViewArgs` as a plain function bound to these engines (same arguments,
  /// validation, errors and result), without the per-call class dispatch (type-tag check,
  /// unwrap, borrow tracking); the JS wrapper's `processLocalView` calls it. It keeps the
  /// engines alive as long as it is reachable.
  #[napi(
    catch_unwind,
    ts_return_type = "(videoId: number, videoUuid: string, videoRemote: boolean | null | undefined, videoDuration: number | null | undefined, videoIsLive: boolean | null | undefined, currentTime: number, ip: string | null | undefined, sessionId: string | null | undefined, viewEvent: string | null | undefined) => { successView: boolean; successViewer: boolean } | Promise<{ successView: boolean; successViewer: boolean }>"
  )]
  pub fn process_local_view_function(&self, env: Env) -> napi::Result<Raw> {
    let entry = Arc::new(LocalViewEntry {
      engines: self.engines.clone(),
      uuids: self.uuids.clone(),
    });
    super::entry::bound_function(&env, c"processLocalViewArgs", entry, local_view_entry)
  }

  /// A View activity from another instance. With `viewerExpires` it is a viewer (counters:
  /// one viewer on a local video, the origin's total or one viewer on a remote video) and no
  /// view is counted; without, it is a view (buffered if the video is ours, hourly stats).
  #[napi(
    catch_unwind,
    ts_args_type = "input: { video: VideoRef & { uuid: string }; viewerId: string; viewerExpires?: Date | number | string | null; viewerResultCounter?: number | null }",
    ts_return_type = "Promise<void>"
  )]
  pub fn process_remote_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let has_expires = Js::new(env.raw(), input.raw())
      .expect_object("input")
      .and_then(|o| options::prop(o, "viewerExpires", "viewerExpires"))
      .map(|v| !v.kind().is_nullish());
    match has_expires {
      Err(err) => rejected(&env, &err),
      Ok(true) => {
        let added = remote_input(&env, input).and_then(|(video, id, expires, object)| {
          if video.remote {
            let counter = result_counter(object)?;
            self
              .engines
              .counters
              .add_remote_viewer_on_remote_video(&video, &id, expires, counter)
          } else {
            self
              .engines
              .counters
              .add_remote_viewer_on_local_video(&video, &id, expires)
          }
        });
        match added {
          Ok(_) => resolved(&env, Builder::undefined),
          Err(err) => rejected(&env, &err),
        }
      }
      Ok(false) => remote_view(&env, self.engines.views.clone(), input),
    }
  }

  /// Viewers over every video for one pair of scopes. Synchronous, O(1).
  #[napi(
    catch_unwind,
    ts_args_type = "options: { viewerScope: 'local' | 'remote'; videoScope: 'local' | 'remote' }"
  )]
  pub fn get_total_viewers(&self, env: Env, options: Unknown) -> napi::Result<f64> {
    scopes(&env, options)
      .map(|(viewer, video)| self.engines.counters.total(viewer, video) as f64)
      .map_err(|e| to_napi(env.raw(), &e))
  }

  /// Viewers of one video. Synchronous, O(1).
  #[napi(catch_unwind, ts_args_type = "video: { id: number }")]
  pub fn get_total_viewers_of(&self, env: Env, video: Unknown) -> napi::Result<f64> {
    video_id(&env, video)
      .map(|id| self.engines.counters.total_of(id) as f64)
      .map_err(|e| to_napi(env.raw(), &e))
  }

  /// Watch time in seconds of a viewer identity on a video (0 if unknown).
  #[napi(
    catch_unwind,
    ts_args_type = "videoId: number, sessionId: string",
    ts_return_type = "Promise<number>"
  )]
  pub fn get_watch_time(
    &self,
    env: Env,
    video_id: Unknown,
    session_id: Unknown,
  ) -> napi::Result<Raw> {
    let viewer = (|| -> Result<_> {
      let video_id = views_core::rules::validate::database_id(
        "videoId",
        Js::new(env.raw(), video_id.raw()).number("videoId")?,
      )?;
      let session_id = input::session_id_value(Js::new(env.raw(), session_id.raw()))?;
      Ok(views_core::engine::viewer_stats::ViewerId {
        session_id: session_id.into(),
        video_id,
      })
    })();
    let viewer = match viewer {
      Ok(viewer) => viewer,
      Err(err) => return rejected(&env, &err),
    };
    let engines = self.engines.clone();
    spawn(
      &env,
      async move { engines.stats.watch_time(&viewer).await },
      |b, s| b.number(s as f64),
    )
  }

  /// Persists expired viewer stats through `host.saveViewerStats` (PeerTube's debug command
  /// `process-video-viewers`).
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ scanned: number; expired: number; persisted: number; discarded: number; failed: number; orphansRemoved: number }>"
  )]
  pub fn process_viewer_stats(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(
      &env,
      async move { engines.stats.process().await },
      process_report,
    )
  }

  /// Writes pending viewer stats to Redis now.
  #[napi(catch_unwind, ts_return_type = "Promise<{ written: number }>")]
  pub fn sync_redis_writes(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(
      &env,
      async move { engines.stats.sync().await },
      super::viewer_stats::sync_report,
    )
  }

  /// Drains the local view buffer into `host.incrementVideoViews` (PeerTube's debug command
  /// `process-video-views-buffer`).
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ videos: number; views: number; failed: number }>"
  )]
  pub fn process_views_buffer(&self, env: Env) -> napi::Result<Raw> {
    buffer_drain(&env, self.engines.views.clone())
  }

  /// Drains the views of local hour `hour` (default: the previous hour) into
  /// `host.saveHourlyViews`.
  #[napi(
    catch_unwind,
    ts_args_type = "hour?: number",
    ts_return_type = "Promise<{ videos: number; views: number; failed: number }>"
  )]
  pub fn process_hourly_view_stats(&self, env: Env, hour: Option<Unknown>) -> napi::Result<Raw> {
    hourly_drain(&env, self.engines.views.clone(), hour)
  }

  /// One viewer counters cleanup pass.
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ videos: number; expired: number; federated: number }>"
  )]
  pub fn clean_viewer_counters(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(
      &env,
      async move { Ok(engines.counters.clean().await) },
      clean_report,
    )
  }

  /// Reopens the GeoIP databases whose files appeared or changed (PeerTube downloads them after
  /// start; the engine also checks every `geoIpCheckInterval`); resolves with which are open.
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ country: boolean; city: boolean; reloaded: number }>"
  )]
  pub fn reload_geo_ip(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(
      &env,
      async move { Ok(engines.stats.reload_geoip().await) },
      super::viewer_stats::geoip_report,
    )
  }

  /// Health of the three engines (synchronous).
  #[napi(catch_unwind)]
  pub fn get_internal_stats(&self) -> ManagerInternalStats {
    let stats = self.engines.stats.health();
    let counters = self.engines.counters.health();
    let (pending_views, views_callback_errors, views_redis_errors) = self.engines.views.health();
    ManagerInternalStats {
      cached_viewers: stats.cached_viewers as f64,
      pending_writes: stats.pending_writes as f64,
      in_flight: stats.in_flight as f64,
      last_sync_ms: stats.last_sync_ms as f64,
      last_process_ms: stats.last_process_ms as f64,
      viewers: counters.viewers as f64,
      pending_views: pending_views as f64,
      pending_federation: counters.pending_federation as f64,
      redis_errors: (stats.redis_errors + views_redis_errors) as f64,
      callback_errors: (stats.callback_errors + counters.callback_errors + views_callback_errors)
        as f64,
      dropped_heartbeats: stats.dropped_heartbeats as f64,
    }
  }

  /// Stops every timer, sends queued Views and writes everything pending to Redis. Idempotent;
  /// rejects with `REDIS_UNAVAILABLE` if Redis could not take the final writes (call it again).
  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(
      &env,
      async move {
        engines.counters.close().await;
        let views = engines.views.close().await;
        let stats = engines.stats.close().await;
        stats.map(|_| ()).and(views).map_err(|e: Error| e)
      },
      |b, ()| b.undefined(),
    )
  }
}
