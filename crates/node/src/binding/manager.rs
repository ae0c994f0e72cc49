//! `VideoViewsManager`: one object PeerTube can use instead of its own `lib/views`, with viewer
//! stats, viewer counters and views sharing one Redis connection.

use super::callbacks::Raw;
use super::errors::to_napi;
use super::js::{Builder, Js};
use super::options::{self, input};
use super::promise::{ready, rejected, resolved, spawn};
use super::requests::LocalViewArgs;
use super::setup::read_shared;
use super::shapes::report;
use super::user_agent::user_agent_input;
use super::uuid_cache::UuidCache;
use super::viewer_counters as counters_ops;
use super::viewer_counters::{
  build_counters_engine, remote_view_request, send_view_fn, JsCountersHost, RemoteRule,
};
use super::viewer_stats as stats_ops;
use super::viewer_stats::{build_stats_engine, JsStatsHost};
use super::views::{buffer_drain, build_views_engine, hourly_drain, JsViewsHost};
use napi::bindgen_prelude::{Env, Unknown};
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
use views_core::engine::manager::{FastPath, LocalViewRequest, Manager};
use views_core::error::Result;

type Engines = Manager<JsStatsHost, JsCountersHost, JsViewsHost>;

/// The request's user-agent fields, read only for a release with user-agent stats.
const USER_AGENT_PATHS: [&str; 4] = ["userAgent", "client", "device", "operatingSystem"];

/// `sessionId` (when session ids are not trusted) and [`USER_AGENT_PATHS`].
const SESSION_AND_USER_AGENT_PATHS: [&str; 5] = [
  "sessionId",
  USER_AGENT_PATHS[0],
  USER_AGENT_PATHS[1],
  USER_AGENT_PATHS[2],
  USER_AGENT_PATHS[3],
];

/// The request's `sessionId`: not read at all when session ids are not trusted (PeerTube then
/// ignores it), else [`input::view_session_id_value`].
/// Reads a local view: by its object when `object` is given (the object path), else from the
/// positional arguments. An untrusted `sessionId` is not read at all (PeerTube ignores it).
fn read_request(
  env: &Env,
  engines: &Engines,
  value: Unknown,
  uuids: &UuidCache,
) -> Result<LocalViewRequest> {
  let skip: &[&str] = match (
    engines.identity.trust_session_id,
    engines.stats.user_agent_stats(),
  ) {
    (true, true) => &[],
    (true, false) => &USER_AGENT_PATHS,
    (false, true) => &["sessionId"],
    (false, false) => &SESSION_AND_USER_AGENT_PATHS,
  };
  let args = LocalViewArgs::from_object_skipping(Js::new(env.raw(), value.raw()), skip)?;
  local_view_request(args, engines, uuids)
}

/// PeerTube's `VideoViewsManager`, natively: `processLocalView` for player heartbeats,
/// `processRemoteView` for View activities, viewer totals, and the periodic jobs, with
/// persistence and federation left to the `host` callbacks.
#[napi]
pub struct VideoViewsManager {
  engines: Arc<Engines>,
  uuids: Arc<UuidCache>,
}

/// What the bound `processLocalView` holds (see [`super::entry`]).
struct LocalViewEntry {
  engines: Arc<Engines>,
  uuids: Arc<UuidCache>,
}

/// Validates a local view's fields ([`LocalViewArgs`]).
fn local_view_request(
  args: LocalViewArgs,
  engines: &Engines,
  uuids: &UuidCache,
) -> Result<LocalViewRequest> {
  let info = input::video_info_values(args.video_id, args.video_uuid, args.video_remote, uuids)?;
  let (duration, is_live) = input::duration_and_live(args.video_duration, args.video_is_live)?;
  Ok(LocalViewRequest {
    video: views_core::engine::views::VideoForView {
      info,
      duration,
      is_live,
    },
    current_time: views_core::rules::validate::current_time(
      "currentTime",
      args.current_time.number("currentTime")?,
    )?,
    session_id: if engines.identity.trust_session_id {
      input::view_session_id_value(args.session_id)?
    } else {
      None
    },
    event: input::view_event_value(args.view_event)?,
    ip: args.ip.optional(|v| v.string("ip", 128))?,
    agent: user_agent_input(
      engines.stats.user_agent_stats(),
      args.user_agent,
      args.client,
      args.device,
      args.operating_system,
    )?,
  })
}

/// The bound `processLocalView`: the positional path.
fn local_view_entry(
  env: &Env,
  entry: &Arc<LocalViewEntry>,
  args: [Js; LocalViewArgs::LEN],
) -> napi::Result<Raw> {
  local_view(
    env,
    &entry.engines,
    local_view_request(
      LocalViewArgs::from_array(args),
      &entry.engines,
      &entry.uuids,
    ),
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
    Ok(FastPath::Done(outcome)) => ready(env, |b| report(b, outcome)),
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
      report,
    ),
    Ok(FastPath::NeedsStats) => spawn(
      env,
      {
        let engines = engines.clone();
        async move { engines.process(&prepared).await }
      },
      report,
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
      let counters = build_counters_engine(
        &env,
        object,
        host,
        &shared.calls,
        shared.logger.clone(),
        &send,
      )?;
      let views = build_views_engine(&env, object, host, &shared, send)?;
      let engines = Manager {
        stats: Arc::new(stats),
        counters: Arc::new(counters),
        views: Arc::new(views),
        identity: options::read_options(object)?,
      };
      Ok((engines, shared.calls.auto_start))
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
    ts_return_type = "ViewOutcome | Promise<ViewOutcome>"
  )]
  pub fn process_local_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let request = read_request(&env, &self.engines, input, &self.uuids);
    local_view(&env, &self.engines, request)
  }

  /// `processLocalView` as a plain function bound to these engines, taking the fields as
  /// arguments in the order of `requestFields()['VideoViewsManager.processLocalView']` (same
  /// validation, errors and result), without the per-call class dispatch; the JS wrapper's
  /// `processLocalView` calls it. It keeps the engines alive as long as it is reachable.
  #[napi(
    catch_unwind,
    ts_return_type = "(...args: LocalViewRequestArgs) => ViewOutcome | Promise<ViewOutcome>"
  )]
  pub fn process_local_view_function(&self, env: Env) -> napi::Result<Raw> {
    let entry = Arc::new(LocalViewEntry {
      engines: self.engines.clone(),
      uuids: self.uuids.clone(),
    });
    super::entry::bound_function(&env, c"processLocalView", entry, local_view_entry)
  }

  /// A View activity from another instance. With `viewerExpires` it is a viewer (counters:
  /// one viewer on a local video, the origin's total or one viewer on a remote video) and no
  /// view is counted; without, it is a view (buffered if the video is ours, hourly stats).
  #[napi(
    catch_unwind,
    ts_args_type = "input: RemoteViewRequest",
    ts_return_type = "Promise<void>"
  )]
  pub fn process_remote_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let request = remote_view_request(&env, input, RemoteRule::ViewOrViewer);
    let in_memory = request
      .as_ref()
      .map_err(Clone::clone)
      .and_then(|request| self.engines.process_remote_view_in_memory(request));
    match (in_memory, request) {
      (Err(err), _) => rejected(&env, &err),
      (Ok(true), _) => resolved(&env, Builder::undefined),
      (Ok(false), Ok(request)) => {
        let engines = self.engines.clone();
        spawn(
          &env,
          async move { engines.process_remote_view(&request).await },
          |b, ()| b.undefined(),
        )
      }
      (Ok(false), Err(err)) => rejected(&env, &err),
    }
  }

  /// Viewers over every video for one pair of scopes. Synchronous, O(1).
  #[napi(
    catch_unwind,
    ts_args_type = "options: { viewerScope: 'local' | 'remote'; videoScope: 'local' | 'remote' }"
  )]
  pub fn get_total_viewers(&self, env: Env, options: Unknown) -> napi::Result<f64> {
    counters_ops::total_viewers(&env, &self.engines.counters, options)
  }

  /// Viewers of one video. Synchronous, O(1).
  #[napi(catch_unwind, ts_args_type = "video: { id: number }")]
  pub fn get_total_viewers_of(&self, env: Env, video: Unknown) -> napi::Result<f64> {
    counters_ops::total_viewers_of(&env, &self.engines.counters, video)
  }

  /// Watch time in seconds of a viewer identity on a video (0 if unknown): from memory when
  /// cached (a number), else a Promise. Use `await`.
  #[napi(
    catch_unwind,
    ts_args_type = "videoId: number, sessionId: string",
    ts_return_type = "Promise<number> | number"
  )]
  pub fn get_watch_time(
    &self,
    env: Env,
    video_id: Unknown,
    session_id: Unknown,
  ) -> napi::Result<Raw> {
    stats_ops::watch_time(&env, &self.engines.stats, video_id, session_id)
  }

  /// Persists expired viewer stats through `host.saveViewerStats` (PeerTube's debug command
  /// `process-video-viewers`).
  #[napi(catch_unwind, ts_return_type = "Promise<ProcessReport>")]
  pub fn process_viewer_stats(&self, env: Env) -> napi::Result<Raw> {
    stats_ops::process(&env, &self.engines.stats)
  }

  /// Writes pending viewer stats to Redis now.
  #[napi(catch_unwind, ts_return_type = "Promise<SyncReport>")]
  pub fn sync_redis_writes(&self, env: Env) -> napi::Result<Raw> {
    stats_ops::sync(&env, &self.engines.stats)
  }

  /// Drains the local view buffer into `host.incrementVideoViews` (PeerTube's debug command
  /// `process-video-views-buffer`).
  #[napi(catch_unwind, ts_return_type = "Promise<DrainReport>")]
  pub fn process_views_buffer(&self, env: Env) -> napi::Result<Raw> {
    buffer_drain(&env, self.engines.views.clone())
  }

  /// Drains the views of local hour `hour` (default: the previous hour) into
  /// `host.saveHourlyViews`.
  #[napi(
    catch_unwind,
    ts_args_type = "hour?: number",
    ts_return_type = "Promise<DrainReport>"
  )]
  pub fn process_hourly_view_stats(&self, env: Env, hour: Option<Unknown>) -> napi::Result<Raw> {
    hourly_drain(&env, self.engines.views.clone(), hour)
  }

  /// One viewer counters cleanup pass.
  #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
  pub fn clean_viewer_counters(&self, env: Env) -> napi::Result<Raw> {
    counters_ops::clean(&env, &self.engines.counters)
  }

  /// Reopens the GeoIP databases whose files appeared or changed (PeerTube downloads them after
  /// start; the engine also checks every `geoIpCheckInterval`); resolves with which are open.
  #[napi(catch_unwind, ts_return_type = "Promise<GeoIpState>")]
  pub fn reload_geo_ip(&self, env: Env) -> napi::Result<Raw> {
    stats_ops::reload_geoip(&env, &self.engines.stats)
  }

  /// Health of the three engines (synchronous).
  #[napi(catch_unwind, ts_return_type = "ManagerInternalStats")]
  pub fn get_internal_stats(&self, env: Env) -> napi::Result<Raw> {
    ready(&env, |b| report(b, self.engines.health()))
  }

  /// Stops every timer, sends queued Views and writes everything pending to Redis. Idempotent;
  /// rejects with `REDIS_UNAVAILABLE` if Redis could not take the final writes (call it again).
  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<Raw> {
    let engines = self.engines.clone();
    spawn(&env, async move { engines.close().await }, |b, ()| {
      b.undefined()
    })
  }
}
