//! `VideoViewerStats`: the JS class around [`ViewerStatsEngine`].

use super::batch::{batch_fn, call_batch, BatchFn};
use super::callbacks::Raw;
use super::js::{Builder, Js};
use super::options::{self, input};
use super::promise::{ready, rejected, spawn};
use super::setup::{read_shared, usable, Shared};
use napi::bindgen_prelude::{Env, Unknown};
use napi::sys;
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
use views_core::engine::host::StatsHost;
use views_core::engine::viewer_stats::{
  Heartbeat, ProcessReport, StatsConfig, SyncReport, ViewerId, ViewerStatsEngine,
};
use views_core::error::Result;
use views_core::geoip::{GeoIp, GeoIpState};
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

/// Health figures of the engine (see the README, "Guarantees").
#[napi(object)]
pub struct ViewerStatsInternalStats {
  /// Viewers held in memory.
  pub cached_viewers: f64,
  /// Viewers changed since the last successful write to Redis.
  pub pending_writes: f64,
  /// Viewers being persisted by a processing pass right now.
  pub in_flight: f64,
  /// Duration of the last sync, in ms.
  pub last_sync_ms: f64,
  /// Duration of the last processing pass, in ms.
  pub last_process_ms: f64,
  /// Redis errors since start.
  pub redis_errors: f64,
  /// Failed `saveViewerStats` calls since start.
  pub callback_errors: f64,
  /// Heartbeats of new viewers dropped because `maxPendingWrites` viewers waited for Redis.
  pub dropped_heartbeats: f64,
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
    lifetime_ms: options::duration(object, "viewerStatsLifetime", 3_600_000)?,
    sync_interval_ms: options::duration(object, "syncRedisInterval", 30_000)?,
    max_sections: options::positive_integer(object, "maxWatchSections", 100, 100_000)? as usize,
    callback_timeout_ms: options::duration(object, "callbackTimeout", 60_000)?,
    process_concurrency: options::positive_integer(object, "processConcurrency", 8, 1_000)?
      as usize,
    max_pending_writes: options::positive_integer(object, "maxPendingWrites", 1_000_000, 1 << 40)?
      as usize,
    geoip_check_interval_ms: options::duration(object, "geoIpCheckInterval", 60_000)?,
  };
  let save = batch_fn(
    env.raw(),
    save.raw,
    "saveViewerStats",
    config.callback_timeout_ms,
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

/// Reads a heartbeat whose `sessionId` is required (the standalone class).
fn read_heartbeat(env: &Env, value: Unknown) -> Result<LazyHeartbeat> {
  let object = Js::new(env.raw(), value.raw()).expect_object("input")?;
  let video = input::video_object(object)?;
  lazy_heartbeat(
    video.get_c(c"id", "video.id")?,
    video.get_c(c"uuid", "video.uuid")?,
    object.get_c(c"currentTime", "currentTime")?,
    object.get_c(c"ip", "ip")?,
    object.get_c(c"sessionId", "sessionId")?,
    object.get_c(c"viewEvent", "viewEvent")?,
  )
}

/// Validates the fields of a heartbeat, in the order of the object reader.
fn lazy_heartbeat(
  id: Js,
  uuid: Js,
  current_time: Js,
  ip: Js,
  session_id: Js,
  event: Js,
) -> Result<LazyHeartbeat> {
  let video_id = views_core::rules::validate::database_id("video.id", id.number("video.id")?)?;
  let uuid = uuid.optional(|v| v.check_string_len("video.uuid", 128).map(|()| v))?;
  let current_time =
    views_core::rules::validate::current_time("currentTime", current_time.number("currentTime")?)?;
  let session_id = input::session_key_value(session_id)?;
  let event = input::view_event_value(event)?;
  let ip = ip.optional(|v| v.check_string_len("ip", 128).map(|()| v))?;
  Ok(LazyHeartbeat {
    beat: Heartbeat {
      viewer: ViewerId {
        session_id,
        video_id,
      },
      current_time,
      event,
      ip: None,
      video_uuid: None,
    },
    ip,
    uuid,
  })
}

pub fn sync_report(b: &Builder, report: SyncReport) -> Result<sys::napi_value> {
  let object = b.object()?;
  b.set(object, "written", b.number(report.written as f64)?)?;
  Ok(object)
}

/// `{ country, city, reloaded }` of `reloadGeoIp()` (all false and 0 when GeoIP is disabled).
pub fn geoip_report(b: &Builder, state: Option<GeoIpState>) -> Result<sys::napi_value> {
  let state = state.unwrap_or_default();
  let object = b.object()?;
  b.set(object, "country", b.boolean(state.country)?)?;
  b.set(object, "city", b.boolean(state.city)?)?;
  b.set(object, "reloaded", b.number(f64::from(state.reloaded))?)?;
  Ok(object)
}

pub fn process_report(b: &Builder, report: ProcessReport) -> Result<sys::napi_value> {
  let object = b.object()?;
  for (name, value) in [
    ("scanned", report.scanned),
    ("expired", report.expired),
    ("persisted", report.persisted),
    ("discarded", report.discarded),
    ("failed", report.failed),
    ("orphansRemoved", report.orphans_removed),
  ] {
    b.set(object, name, b.number(value as f64)?)?;
  }
  Ok(object)
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

/// `addLocalViewerArgs`, as the method and as the bound function (see [`super::entry`]).
fn add_local_viewer_entry(
  env: &Env,
  engine: &Arc<ViewerStatsEngine<JsStatsHost>>,
  [video_id, video_uuid, current_time, ip, session_id, view_event]: [Js; 6],
) -> napi::Result<Raw> {
  let lazy = lazy_heartbeat(
    video_id,
    video_uuid,
    current_time,
    ip,
    session_id,
    view_event,
  );
  record(env, engine, lazy)
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
        shared.auto_start,
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
    let lazy = read_heartbeat(&env, input);
    record(&env, &self.engine, lazy)
  }

  /// `addLocalViewer` with the fields as arguments (`video.id, video.uuid, currentTime, ip,
  /// sessionId, viewEvent`): what the JS wrapper calls after reading the input object, so that
  /// no property is read through napi. Same validation, errors and result.
  #[napi(
    catch_unwind,
    ts_args_type = "videoId: number, videoUuid: string | null | undefined, currentTime: number, ip: string | null | undefined, sessionId: string, viewEvent: string | null | undefined",
    ts_return_type = "Promise<void> | void"
  )]
  // One argument per input field is the point of this entry (no property lookups).
  #[allow(clippy::too_many_arguments)]
  pub fn add_local_viewer_args(
    &self,
    env: Env,
    video_id: Unknown,
    video_uuid: Unknown,
    current_time: Unknown,
    ip: Unknown,
    session_id: Unknown,
    view_event: Unknown,
  ) -> napi::Result<Raw> {
    let js = |v: Unknown| Js::new(env.raw(), v.raw());
    let args = [
      js(video_id),
      js(video_uuid),
      js(current_time),
      js(ip),
      js(session_id),
      js(view_event),
    ];
    add_local_viewer_entry(&env, &self.engine, args)
  }

  /// `addLocalViewerArgs` as a plain function bound to this engine (same arguments, validation,
  /// errors and result). It skips the per-call class dispatch (type-tag check, unwrap, borrow
  /// tracking), about 40 % of a heartbeat answered from memory; the JS wrapper's
  /// `addLocalViewer` calls it. It keeps the engine alive as long as it is reachable.
  #[napi(
    catch_unwind,
    ts_return_type = "(videoId: number, videoUuid: string | null | undefined, currentTime: number, ip: string | null | undefined, sessionId: string, viewEvent: string | null | undefined) => Promise<void> | void"
  )]
  pub fn add_local_viewer_function(&self, env: Env) -> napi::Result<Raw> {
    super::entry::bound_function(
      &env,
      c"addLocalViewerArgs",
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
      Err(err) => return rejected(&env, &err),
    };
    if let Some(seconds) = self.engine.watch_time_in_memory(&viewer) {
      return ready(&env, |b| b.number(seconds as f64));
    }
    let engine = self.engine.clone();
    spawn(
      &env,
      async move { engine.watch_time(&viewer).await },
      |b, s| b.number(s as f64),
    )
  }

  /// Writes every pending viewer to Redis now (one `MULTI { SADD, MSET }` per 1000 viewers).
  /// Rejects with `REDIS_UNAVAILABLE` if Redis fails; the viewers stay pending.
  #[napi(catch_unwind, ts_return_type = "Promise<{ written: number }>")]
  pub fn sync_redis_writes(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(&env, async move { engine.sync().await }, sync_report)
  }

  /// Runs one processing pass: syncs, then hands every viewer inactive for
  /// `viewerStatsLifetime` to `saveViewerStats` and deletes it from Redis (viewers with no watch
  /// time are deleted without a call). A failed callback keeps the viewer for the next pass.
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ scanned: number; expired: number; persisted: number; discarded: number; failed: number; orphansRemoved: number }>"
  )]
  pub fn process_viewer_stats(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(&env, async move { engine.process().await }, process_report)
  }

  /// Reopens the GeoIP databases whose files appeared or changed since they were opened (the
  /// engine also checks every `geoIpCheckInterval`); resolves with which are open now.
  #[napi(
    catch_unwind,
    ts_return_type = "Promise<{ country: boolean; city: boolean; reloaded: number }>"
  )]
  pub fn reload_geo_ip(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(
      &env,
      async move { Ok(engine.reload_geoip().await) },
      geoip_report,
    )
  }

  /// Health snapshot (synchronous, no I/O).
  #[napi(catch_unwind)]
  pub fn get_internal_stats(&self) -> ViewerStatsInternalStats {
    let h = self.engine.health();
    ViewerStatsInternalStats {
      cached_viewers: h.cached_viewers as f64,
      pending_writes: h.pending_writes as f64,
      in_flight: h.in_flight as f64,
      last_sync_ms: h.last_sync_ms as f64,
      last_process_ms: h.last_process_ms as f64,
      redis_errors: h.redis_errors as f64,
      callback_errors: h.callback_errors as f64,
      dropped_heartbeats: h.dropped_heartbeats as f64,
    }
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
