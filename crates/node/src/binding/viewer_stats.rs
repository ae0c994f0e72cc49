//! `VideoViewerStats`: the JS class around [`ViewerStatsEngine`].

use super::batch::{batch_fn, call_batch, BatchFn};
use super::callbacks::Raw;
use super::js::{Builder, Js};
use super::options::{self, input};
use super::promise::{ready, rejected, spawn};
use super::requests::LocalViewerArgs;
use super::setup::{read_shared, usable, Shared};
use super::shapes::report;
use super::user_agent::user_agent_input;
use napi::bindgen_prelude::{Env, Unknown};
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
use views_core::engine::host::StatsHost;
use views_core::engine::viewer_stats::{Heartbeat, StatsConfig, ViewerId, ViewerStatsEngine};
use views_core::error::Result;
use views_core::geoip::GeoIp;
use views_core::rules::types::ViewerRecord;
use views_core::store::viewer_stats::RedisStatsStore;

/// The host side of viewer stats: a JS `saveViewerStats(viewer)` callback, called through the
/// batch dispatcher.
pub struct JsStatsHost {
  save: BatchFn<ViewerRecord>,
}

impl StatsHost for JsStatsHost {
  async fn save_viewer_stats(&self, records: Vec<ViewerRecord>) -> Result<Vec<Result<()>>> {
    call_batch(&self.save, "saveViewerStats", records).await
  }
}

/// PeerTube's `VideoViewerStats`: watch sections, watch time and GeoIP of every viewer, in a
/// native cache written behind to Redis (byte-compatible with PeerTube's keys and JSON) and
/// handed to `saveViewerStats` after `viewerStatsLifetime` of inactivity.
///
/// Methods returning a Promise never throw: invalid input rejects with a `TypeError` or
/// `RangeError` whose `code` is `'INVALID_ARGUMENT'`, and nothing changes.
#[napi]
pub struct VideoViewerStats {
  engine: Arc<ViewerStatsEngine<JsStatsHost>>,
}

/// Builds the stats engine: settings from `object`, `saveViewerStats` from `callbacks`.
pub fn build_stats_engine(
  env: &Env,
  object: Js,
  callbacks: Js,
  shared: &Shared,
) -> Result<ViewerStatsEngine<JsStatsHost>> {
  let geoip = options::geoip_config(options::prop(object, "geoIp", "geoIp")?)?;
  let save = options::function(callbacks, "saveViewerStats")?;
  let config = StatsConfig {
    options: options::read_options(object)?,
    calls: shared.calls.clone(),
  };
  let save = batch_fn(
    env.raw(),
    save.raw,
    "saveViewerStats",
    config.calls.callback_timeout_ms,
    config.process_concurrency,
    ViewerRecord::write_json,
  )
  .map_err(|e| usable("saveViewerStats", e))?;
  let geoip = geoip.map(|config| GeoIp::open(&config, shared.logger.clone()));
  Ok(ViewerStatsEngine::new(
    config,
    RedisStatsStore::new(shared.connection.clone(), shared.prefix.clone()),
    geoip,
    JsStatsHost { save },
    shared.logger.clone(),
  ))
}

/// A heartbeat whose `ip` and `video.uuid` are validated but copied only when needed.
struct LazyHeartbeat {
  beat: Heartbeat,
  ip: Option<Js>,
  uuid: Option<Js>,
}

/// Copies the validated `ip` and `video.uuid` into `beat` (they can only fail to copy while the
/// env shuts down, and then stay absent).
fn fill(beat: &mut Heartbeat, ip: Option<Js>, uuid: Option<Js>) {
  if beat.ip.is_none() {
    beat.ip = ip.and_then(|v| v.string("ip", 128).ok());
  }
  if beat.video_uuid.is_none() {
    beat.video_uuid = uuid.and_then(|v| v.string("video.uuid", 128).ok());
  }
}

/// Validates a heartbeat's fields ([`LocalViewerArgs`]); `ip` and `video.uuid` are checked now
/// and copied only when needed.
fn lazy_heartbeat(args: LocalViewerArgs, user_agent_stats: bool) -> Result<LazyHeartbeat> {
  let video_id =
    views_core::rules::validate::database_id("video.id", args.video_id.number("video.id")?)?;
  let uuid = args
    .video_uuid
    .optional(|v| v.check_string_len("video.uuid", 128).map(|()| v))?;
  let current_time = views_core::rules::validate::current_time(
    "currentTime",
    args.current_time.number("currentTime")?,
  )?;
  let session_id = input::session_key_value(args.session_id)?;
  let event = input::view_event_value(args.view_event)?;
  let ip = args
    .ip
    .optional(|v| v.check_string_len("ip", 128).map(|()| v))?;
  let agent = user_agent_input(
    user_agent_stats,
    args.user_agent,
    args.client,
    args.device,
    args.operating_system,
  )?;
  Ok(LazyHeartbeat {
    beat: Heartbeat {
      agent,
      ..Heartbeat::new(
        ViewerId {
          session_id,
          video_id,
        },
        current_time,
        event,
      )
    },
    ip,
    uuid,
  })
}

/// Applies a read heartbeat: in memory when the engine holds the viewer (`undefined`), else
/// through a Promise; invalid input rejects.
fn record(
  env: &Env,
  engine: &Arc<ViewerStatsEngine<JsStatsHost>>,
  lazy: Result<LazyHeartbeat>,
) -> napi::Result<Raw> {
  let mut lazy = match lazy {
    Ok(lazy) => lazy,
    Err(err) => return rejected(env, &err),
  };
  let (ip, uuid) = (lazy.ip, lazy.uuid);
  match engine.heartbeat_in_memory_lazy(&mut lazy.beat, &mut |beat| fill(beat, ip, uuid)) {
    Ok(true) => ready(env, Builder::undefined),
    Ok(false) => {
      fill(&mut lazy.beat, ip, uuid);
      let beat = lazy.beat;
      let engine = engine.clone();
      spawn(env, async move { engine.heartbeat(beat).await }, |b, ()| {
        b.undefined()
      })
    }
    Err(err) => rejected(env, &err),
  }
}

/// The bound `addLocalViewer` (see [`super::entry`]): the positional path.
fn add_local_viewer_entry(
  env: &Env,
  engine: &Arc<ViewerStatsEngine<JsStatsHost>>,
  args: [Js; LocalViewerArgs::LEN],
) -> napi::Result<Raw> {
  record(
    env,
    engine,
    lazy_heartbeat(LocalViewerArgs::from_array(args), engine.user_agent_stats()),
  )
}

/// The stats operations `VideoViewerStats` and `VideoViewsManager` both expose, written once.
type StatsEngine = Arc<ViewerStatsEngine<JsStatsHost>>;

/// `getWatchTime(videoId, sessionId)`: from memory when cached (a number), else a Promise.
pub fn watch_time(
  env: &Env,
  engine: &StatsEngine,
  video_id: Unknown,
  session_id: Unknown,
) -> napi::Result<Raw> {
  let viewer = (|| -> Result<ViewerId> {
    let video_id = views_core::rules::validate::database_id(
      "videoId",
      Js::new(env.raw(), video_id.raw()).number("videoId")?,
    )?;
    let session_id = input::session_id_value(Js::new(env.raw(), session_id.raw()))?;
    Ok(ViewerId {
      session_id: session_id.into(),
      video_id,
    })
  })();
  let viewer = match viewer {
    Ok(viewer) => viewer,
    Err(err) => return rejected(env, &err),
  };
  if let Some(seconds) = engine.watch_time_in_memory(&viewer) {
    return ready(env, |b| b.number(seconds as f64));
  }
  let engine = engine.clone();
  spawn(
    env,
    async move { engine.watch_time(&viewer).await },
    |b, s| b.number(s as f64),
  )
}

/// `syncRedisWrites()`.
pub fn sync(env: &Env, engine: &StatsEngine) -> napi::Result<Raw> {
  let engine = engine.clone();
  spawn(env, async move { engine.sync().await }, report)
}

/// `processViewerStats()`.
pub fn process(env: &Env, engine: &StatsEngine) -> napi::Result<Raw> {
  let engine = engine.clone();
  spawn(env, async move { engine.process().await }, report)
}

/// `reloadGeoIp()`.
pub fn reload_geoip(env: &Env, engine: &StatsEngine) -> napi::Result<Raw> {
  let engine = engine.clone();
  spawn(
    env,
    async move { Ok(engine.reload_geoip().await.unwrap_or_default()) },
    report,
  )
}

#[napi]
impl VideoViewerStats {
  /// Creates the engine and, unless `autoStart: false`, starts its sync and processing timers.
  /// Does not connect to Redis yet (the first command does). Throws `INVALID_ARGUMENT` on bad options.
  #[napi(
    catch_unwind,
    constructor,
    ts_args_type = "options: VideoViewerStatsOptions"
  )]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let engine = (|| -> Result<_> {
      let object = Js::new(env.raw(), options.raw()).expect_object("options")?;
      let shared = read_shared(object)?;
      Ok((
        build_stats_engine(&env, object, object, &shared)?,
        shared.calls.auto_start,
      ))
    })();
    let (engine, auto_start) = engine.map_err(|e| super::errors::to_napi(env.raw(), &e))?;
    let engine = Arc::new(engine);
    napi::bindgen_prelude::spawn(engine.clone().load_known_members());
    if auto_start {
      napi::bindgen_prelude::spawn(engine.clone().run_timers());
    }
    Ok(VideoViewerStats { engine })
  }

  /// Records one heartbeat (PeerTube's `addLocalViewer`); use `await`. When the viewer is in
  /// memory it is updated synchronously and `undefined` is returned (no Promise is created);
  /// otherwise a Promise resolves once it is loaded. Redis receives it at the next sync. A
  /// viewer the cache does not hold is read from Redis first (continuing what PeerTube or a
  /// previous process wrote), unless the engine knows it is new. Never fails because of Redis:
  /// with Redis down the viewer is kept in memory and merged later.
  #[napi(
    catch_unwind,
    ts_args_type = "input: LocalViewerInput",
    ts_return_type = "Promise<void> | void"
  )]
  pub fn add_local_viewer(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let user_agent_stats = self.engine.user_agent_stats();
    let lazy = LocalViewerArgs::from_object(Js::new(env.raw(), input.raw()))
      .and_then(|args| lazy_heartbeat(args, user_agent_stats));
    record(&env, &self.engine, lazy)
  }

  /// `addLocalViewer` as a plain function bound to this engine, taking the fields as arguments
  /// in the order of `requestFields()['VideoViewerStats.addLocalViewer']`: same validation,
  /// errors and result, no property read through napi and no per-call class dispatch
  /// (type-tag check, unwrap, borrow tracking: about 40 % of a heartbeat answered from memory).
  /// The JS wrapper's `addLocalViewer` calls it. It keeps the engine alive while reachable.
  #[napi(
    catch_unwind,
    ts_return_type = "(...args: LocalViewerInputArgs) => Promise<void> | void"
  )]
  pub fn add_local_viewer_function(&self, env: Env) -> napi::Result<Raw> {
    super::entry::bound_function(
      &env,
      c"addLocalViewer",
      self.engine.clone(),
      add_local_viewer_entry,
    )
  }

  /// Watch time in seconds of `sessionId` on `videoId` (0 if unknown): cache, then Redis.
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
    watch_time(&env, &self.engine, video_id, session_id)
  }

  /// Writes every pending viewer to Redis now (one `MULTI { SADD, MSET }` per 1000 viewers).
  /// Rejects with `REDIS_UNAVAILABLE` if Redis fails; the viewers stay pending.
  #[napi(catch_unwind, ts_return_type = "Promise<SyncReport>")]
  pub fn sync_redis_writes(&self, env: Env) -> napi::Result<Raw> {
    sync(&env, &self.engine)
  }

  /// Runs one processing pass: syncs, then hands every viewer inactive for
  /// `viewerStatsLifetime` to `saveViewerStats` and deletes it from Redis (viewers with no watch
  /// time are deleted without a call). A failed callback keeps the viewer for the next pass.
  #[napi(catch_unwind, ts_return_type = "Promise<ProcessReport>")]
  pub fn process_viewer_stats(&self, env: Env) -> napi::Result<Raw> {
    process(&env, &self.engine)
  }

  /// Reopens the GeoIP databases whose files appeared or changed since they were opened (the
  /// engine also checks every `geoIpCheckInterval`); resolves with which are open now.
  #[napi(catch_unwind, ts_return_type = "Promise<GeoIpState>")]
  pub fn reload_geo_ip(&self, env: Env) -> napi::Result<Raw> {
    reload_geoip(&env, &self.engine)
  }

  /// Health snapshot (synchronous, no I/O).
  #[napi(catch_unwind, ts_return_type = "ViewerStatsInternalStats")]
  pub fn get_internal_stats(&self, env: Env) -> napi::Result<Raw> {
    ready(&env, |b| report(b, self.engine.health()))
  }

  /// Stops the timers, waits for a running processing pass and writes every pending viewer to
  /// Redis. Idempotent; after it, `addLocalViewer` rejects with `code: 'CLOSED'`. Rejects with
  /// `REDIS_UNAVAILABLE` if the final write failed (call it again to retry).
  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(&env, async move { engine.close().await }, |b, _| {
      b.undefined()
    })
  }
}
