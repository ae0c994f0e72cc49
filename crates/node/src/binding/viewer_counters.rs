//! `VideoViewerCounters`: the JS class around [`ViewerCountersEngine`].

use super::callbacks::{call_host, fire, host_fn, pair_fn, HostFn, PairFn, Raw};
use super::errors::to_napi;
use super::js::{Builder, Js, Kind};
use super::options::{self, input};
use super::promise::{ready, rejected, spawn};
use super::requests::{JoinArgs, RemoteViewArgs};
use super::setup::{read_logger_and_calls, usable};
use super::shapes::report;
use super::uuid_cache::UuidCache;
use napi::bindgen_prelude::{Env, FromNapiValue, Unknown};
use napi::sys;
use napi::JsValue;
use napi_derive::napi;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use views_core::engine::manager::{RemoteViewRequest, RemoteViewer};
use views_core::engine::options::HostCallOptions;
use views_core::engine::viewer_counters::{CountersConfig, CountersHost, ViewerCountersEngine};
use views_core::error::{Error, Result};
use views_core::rules::counters::{Scope, VideoInfo, ViewerView};
use views_core::rules::session::SessionKey;

/// `loadVideo`'s answer: `{ id, uuid, remote }` or `null`.
pub struct LoadedVideo(Option<VideoInfo>);

impl FromNapiValue for LoadedVideo {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    let js = Js::new(env, value);
    if js.kind().is_nullish() {
      return Ok(LoadedVideo(None));
    }
    js.expect_object("loadVideo() result")
      .and_then(input::video_info_object)
      .map(|video| LoadedVideo(Some(video)))
      .map_err(|e| napi::Error::from_reason(e.message))
  }
}

/// Latest total per video waiting to be pushed: one JS call per video however many joins
/// happen before the JS thread runs it.
#[derive(Default)]
struct PendingNotifications(
  Mutex<HashMap<u64, (VideoInfo, u64), views_core::rules::fxhash::FxBuild>>,
);

impl PendingNotifications {
  /// Records the total; `true` when no call for this video is queued yet.
  fn put(&self, video: &VideoInfo, total: u64) -> bool {
    let Ok(mut pending) = self.0.lock() else {
      return false;
    };
    match pending.entry(video.id) {
      Entry::Occupied(mut slot) => {
        *slot.get_mut() = (video.clone(), total);
        false
      }
      Entry::Vacant(slot) => {
        slot.insert((video.clone(), total));
        true
      }
    }
  }

  fn take(&self, video_id: u64) -> Option<(VideoInfo, u64)> {
    self.0.lock().ok()?.remove(&video_id)
  }
}

/// The host side of the counters: `loadVideo`, `notifyClients`, `sendView`.
pub struct JsCountersHost {
  load: HostFn<u64, LoadedVideo>,
  notify: PairFn<u64>,
  pending: Arc<PendingNotifications>,
  send: Arc<HostFn<ViewerView>>,
}

impl CountersHost for JsCountersHost {
  async fn load_video(&self, id: u64) -> Result<Option<VideoInfo>> {
    Ok(call_host(&self.load, "loadVideo", id).await?.0)
  }

  fn notify_clients(&self, video: &VideoInfo, total: u64) {
    if self.pending.put(video, total) {
      let status = fire(&self.notify, video.id);
      if status != napi::Status::Ok {
        self.pending.take(video.id);
      }
    }
  }

  async fn send_view(&self, view: ViewerView) -> Result<()> {
    call_host(self.send.as_ref(), "sendView", view).await?;
    Ok(())
  }
}

pub fn video_to_js(b: &Builder, video: &VideoInfo) -> Result<sys::napi_value> {
  let object = b.object()?;
  b.set(object, "id", b.number(video.id as f64)?)?;
  b.set(object, "uuid", b.string(&video.uuid)?)?;
  b.set(object, "remote", b.boolean(video.remote)?)?;
  Ok(object)
}

pub fn view_to_js(env: sys::napi_env, view: ViewerView) -> Result<sys::napi_value> {
  let b = Builder::new(env);
  let object = b.object()?;
  b.set(object, "video", video_to_js(&b, &view.video)?)?;
  if let Some(count) = view.viewers_count {
    b.set(object, "viewersCount", b.number(count as f64)?)?;
  }
  b.set(
    object,
    "viewerIdentifier",
    b.string(&view.viewer_identifier)?,
  )?;
  Ok(object)
}

fn scope(value: Js, field: &str) -> Result<Scope> {
  match value.string(field, 16)?.as_str() {
    "local" => Ok(Scope::Local),
    "remote" => Ok(Scope::Remote),
    other => Err(Error::invalid_range(
      field,
      format!("must be 'local' or 'remote' (got '{other}')"),
    )),
  }
}

/// PeerTube's `VideoViewerCounters`: concurrent viewers per video with native state, client
/// notifications and the viewers federation protocol (v1, or v2 where the origin sends one
/// total instead of one View per viewer). Totals are maintained incrementally: the getters are
/// synchronous and O(1).
///
/// Synchronous methods throw, and Promise-returning methods reject, a `TypeError`/`RangeError`
/// with `code: 'INVALID_ARGUMENT'` on bad input; nothing changes then.
#[napi]
pub struct VideoViewerCounters {
  engine: Arc<ViewerCountersEngine<JsCountersHost>>,
  uuids: Arc<UuidCache>,
}

/// What the bound `addLocalViewer` holds (see [`super::entry`]).
struct JoinEntry {
  engine: Arc<ViewerCountersEngine<JsCountersHost>>,
  uuids: Arc<UuidCache>,
}

/// Validates a local viewer's fields ([`JoinArgs`]).
fn join_args(args: JoinArgs, uuids: &UuidCache) -> Result<(VideoInfo, SessionKey)> {
  let video = input::video_info_values(args.video_id, args.video_uuid, args.video_remote, uuids)?;
  Ok((video, input::session_key_value(args.session_id)?))
}

/// Adds a read local viewer: `true` when new (synchronous); invalid input rejects.
fn join(
  env: &Env,
  engine: &ViewerCountersEngine<JsCountersHost>,
  read: Result<(VideoInfo, SessionKey)>,
) -> napi::Result<Raw> {
  match read.and_then(|(video, session)| engine.add_local_viewer(&video, &session)) {
    Ok(added) => ready(env, |b| b.boolean(added)),
    Err(err) => rejected(env, &err),
  }
}

/// The bound `addLocalViewer`: the positional path.
fn add_local_viewer_entry(
  env: &Env,
  entry: &Arc<JoinEntry>,
  args: [Js; JoinArgs::LEN],
) -> napi::Result<Raw> {
  join(
    env,
    &entry.engine,
    join_args(JoinArgs::from_array(args), &entry.uuids),
  )
}

/// Builds the counters engine: settings from `object`, `loadVideo`, `notifyClients` and
/// `sendView` from `callbacks`.
pub fn build_counters_engine(
  env: &Env,
  object: Js,
  callbacks: Js,
  calls: &HostCallOptions,
  logger: views_core::log::Logger,
  send: &Arc<HostFn<ViewerView>>,
) -> Result<ViewerCountersEngine<JsCountersHost>> {
  let mut config = CountersConfig {
    options: options::read_options(object)?,
    calls: calls.clone(),
  };
  // PeerTube 7.1 speaks only viewers federation v2: the default there, unless given.
  if options::prop(object, "viewersFederationV2", "viewersFederationV2")?
    .kind()
    .is_nullish()
  {
    config.options.federation_v2 = calls.peertube_version.federation_v2_only();
  }
  let load = options::function(callbacks, "loadVideo")?;
  let notify = options::function(callbacks, "notifyClients")?;
  let pending = Arc::new(PendingNotifications::default());
  let pending_for_js = pending.clone();
  let host = JsCountersHost {
    load: host_fn(env.raw(), load.raw, |env, id: u64| {
      Builder::new(env).number(id as f64)
    })
    .map_err(|e| usable("loadVideo", e))?,
    notify: pair_fn(env.raw(), notify.raw, move |env, video_id: u64| {
      let b = Builder::new(env);
      match pending_for_js.take(video_id) {
        Some((video, total)) => Ok((video_to_js(&b, &video)?, b.number(total as f64)?)),
        None => Err(Error::new(
          views_core::error::ErrorCode::Internal,
          "no pending notification",
        )),
      }
    })
    .map_err(|e| usable("notifyClients", e))?,
    pending,
    send: send.clone(),
  };
  Ok(ViewerCountersEngine::new(config, host, logger))
}

/// The `sendView` callback, shared by counters and views.
pub fn send_view_fn(env: &Env, callbacks: Js) -> Result<Arc<HostFn<ViewerView>>> {
  let send = options::function(callbacks, "sendView")?;
  host_fn(env.raw(), send.raw, view_to_js)
    .map(Arc::new)
    .map_err(|e| usable("sendView", e))
}

/// `{ video, viewerId, viewerExpires }` of a remote View.
pub fn remote_view_request(
  env: &Env,
  value: Unknown,
  rule: RemoteRule,
) -> Result<RemoteViewRequest> {
  let input = Js::new(env.raw(), value.raw());
  // The fields a View does not need are not read (a throwing getter there changes nothing):
  // without `expires` it is a view, and the origin's counter means something on a remote video.
  let expires = input
    .expect_object("input")?
    .get("viewerExpires", "viewerExpires")?;
  let is_view = rule == RemoteRule::ViewOrViewer && expires.kind().is_nullish();
  let skip: &[&str] = if is_view {
    &["viewerId", "viewerExpires", "viewerResultCounter"]
  } else {
    &["viewerResultCounter"]
  };
  let args = RemoteViewArgs::from_object_skipping(input, skip)?;
  let video = input::video_info(args.video_id, args.video_uuid, args.video_remote)?;
  if is_view {
    return Ok(RemoteViewRequest {
      video,
      viewer: None,
    });
  }
  let id = args.viewer_id.string("viewerId", 2048)?;
  if id.is_empty() {
    return Err(Error::invalid_range("viewerId", "must not be empty"));
  }
  let expires_ms = args.viewer_expires.timestamp_ms("viewerExpires")?;
  let read_counter = match rule {
    RemoteRule::ViewOrViewer => video.remote,
    RemoteRule::ViewerOnLocalVideo => false,
    RemoteRule::ViewerOnRemoteVideo => true,
  };
  let result_counter = if read_counter {
    let others: Vec<&str> = RemoteViewArgs::PATHS
      .iter()
      .copied()
      .filter(|path| *path != "viewerResultCounter")
      .collect();
    result_counter(RemoteViewArgs::from_object_skipping(input, &others)?.viewer_result_counter)?
  } else {
    None
  };
  Ok(RemoteViewRequest {
    video,
    viewer: Some(RemoteViewer {
      id,
      expires_ms,
      result_counter,
    }),
  })
}

/// Which View a request is, so that only the fields it needs are read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum RemoteRule {
  /// PeerTube's `processRemoteView`: a viewer if it has `expires` (the counter on a remote
  /// video), else a view.
  ViewOrViewer,
  /// `addRemoteViewerOnLocalVideo`: a viewer, `expires` required, no counter.
  ViewerOnLocalVideo,
  /// `addRemoteViewerOnRemoteVideo`: a viewer, `expires` required, its counter.
  ViewerOnRemoteVideo,
}

/// `viewerResultCounter`: absent, or an integer `>= 0`.
fn result_counter(value: Js) -> Result<Option<u64>> {
  let field = "viewerResultCounter";
  value.optional(|v| {
    let n = v.number(field)?;
    if n.is_finite() && n.fract() == 0.0 && (0.0..=1e12).contains(&n) {
      Ok(n as u64)
    } else {
      Err(Error::invalid_range(
        field,
        format!("must be an integer >= 0 (got {n})"),
      ))
    }
  })
}

/// `{ viewerScope, videoScope }`.
pub fn scopes(env: &Env, options: Unknown) -> Result<(Scope, Scope)> {
  let object = Js::new(env.raw(), options.raw()).expect_object("options")?;
  let viewer = scope(
    options::prop(object, "viewerScope", "viewerScope")?,
    "viewerScope",
  )?;
  let video = scope(
    options::prop(object, "videoScope", "videoScope")?,
    "videoScope",
  )?;
  Ok((viewer, video))
}

/// `video.id` of a `{ id }` object.
pub fn video_id(env: &Env, video: Unknown) -> Result<u64> {
  let object = Js::new(env.raw(), video.raw()).expect_object("video")?;
  let id_value = options::prop(object, "id", "video.id")?;
  if id_value.kind() != Kind::Number {
    return Err(Error::invalid_type("video.id", "a number"));
  }
  views_core::rules::validate::database_id("video.id", id_value.number("video.id")?)
}

/// The counters operations `VideoViewerCounters` and `VideoViewsManager` both expose, written
/// once.
type CountersEngine = Arc<ViewerCountersEngine<JsCountersHost>>;

/// `getTotalViewers({ viewerScope, videoScope })`: synchronous, O(1).
pub fn total_viewers(env: &Env, engine: &CountersEngine, options: Unknown) -> napi::Result<f64> {
  scopes(env, options)
    .map(|(viewer, video)| engine.total(viewer, video) as f64)
    .map_err(|e| to_napi(env.raw(), &e))
}

/// `getTotalViewersOf(video)`: synchronous, O(1).
pub fn total_viewers_of(env: &Env, engine: &CountersEngine, video: Unknown) -> napi::Result<f64> {
  video_id(env, video)
    .map(|id| engine.total_of(id) as f64)
    .map_err(|e| to_napi(env.raw(), &e))
}

/// `cleanViewerCounters()`.
pub fn clean(env: &Env, engine: &CountersEngine) -> napi::Result<Raw> {
  let engine = engine.clone();
  spawn(env, async move { Ok(engine.clean().await) }, report)
}

impl VideoViewerCounters {
  /// A View with `expires` (required here).
  fn remote_viewer(
    &self,
    env: &Env,
    input: Unknown,
    rule: RemoteRule,
  ) -> Result<(VideoInfo, RemoteViewer)> {
    let request = remote_view_request(env, input, rule)?;
    match request.viewer {
      Some(viewer) => Ok((request.video, viewer)),
      None => Err(Error::new(
        views_core::error::ErrorCode::Internal,
        "a required viewer was not read",
      )),
    }
  }
}

#[napi]
impl VideoViewerCounters {
  /// Creates the counters and starts their federation worker and, unless `autoStart: false`,
  /// the cleanup timer (every `viewerCounterLifetime`). Throws `INVALID_ARGUMENT` on bad options.
  #[napi(
    catch_unwind,
    constructor,
    ts_args_type = "options: VideoViewerCountersOptions"
  )]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let engine = (|| -> Result<_> {
      let object = Js::new(env.raw(), options.raw()).expect_object("options")?;
      let (logger, calls) = read_logger_and_calls(object)?;
      let send = send_view_fn(&env, object)?;
      Ok((
        build_counters_engine(&env, object, object, &calls, logger, &send)?,
        calls.auto_start,
      ))
    })();
    let (engine, auto_start) = engine.map_err(|e| to_napi(env.raw(), &e))?;
    let engine = Arc::new(engine);
    napi::bindgen_prelude::spawn(engine.clone().run(auto_start));
    Ok(VideoViewerCounters {
      engine,
      uuids: Arc::default(),
    })
  }

  /// A local viewer's heartbeat: `true` when the viewer is new; use `await`. The viewer id is
  /// `{sessionId}-{video.uuid}`. Answered synchronously (no I/O, no Promise); a View to federate
  /// is queued. Bad input returns a rejected Promise.
  #[napi(
    catch_unwind,
    ts_args_type = "input: LocalViewerJoin",
    ts_return_type = "boolean | Promise<boolean>"
  )]
  pub fn add_local_viewer(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let read = JoinArgs::from_object(Js::new(env.raw(), input.raw()))
      .and_then(|args| join_args(args, &self.uuids));
    join(&env, &self.engine, read)
  }

  /// `addLocalViewer` as a plain function bound to this engine, taking the fields as arguments
  /// in the order of `requestFields()['VideoViewerCounters.addLocalViewer']` (same validation,
  /// errors and result), without the per-call class dispatch; the JS wrapper's
  /// `addLocalViewer` calls it. It keeps the engine alive as long as it is reachable.
  #[napi(
    catch_unwind,
    ts_return_type = "(...args: LocalViewerJoinArgs) => boolean | Promise<boolean>"
  )]
  pub fn add_local_viewer_function(&self, env: Env) -> napi::Result<Raw> {
    let entry = Arc::new(JoinEntry {
      engine: self.engine.clone(),
      uuids: self.uuids.clone(),
    });
    super::entry::bound_function(&env, c"addLocalViewer", entry, add_local_viewer_entry)
  }

  /// A View with `expires` from another instance on a local video: adds one viewer
  /// (deduplicated by `viewerId`). Returns `true` when the viewer is new.
  #[napi(catch_unwind, ts_args_type = "input: RemoteViewRequest")]
  pub fn add_remote_viewer_on_local_video(&self, env: Env, input: Unknown) -> napi::Result<bool> {
    self
      .remote_viewer(&env, input, RemoteRule::ViewerOnLocalVideo)
      .and_then(|(video, viewer)| {
        self
          .engine
          .add_remote_viewer_on_local_video(&video, &viewer.id, viewer.expires_ms)
      })
      .map_err(|e| to_napi(env.raw(), &e))
  }

  /// A View with `expires` from another instance on a remote video. With a
  /// `viewerResultCounter` (the origin's total, protocol v2) every viewer of the video is
  /// replaced by one entry carrying it; without one, one viewer is added (deduplicated).
  #[napi(catch_unwind, ts_args_type = "input: RemoteViewRequest")]
  pub fn add_remote_viewer_on_remote_video(&self, env: Env, input: Unknown) -> napi::Result<bool> {
    self
      .remote_viewer(&env, input, RemoteRule::ViewerOnRemoteVideo)
      .and_then(|(video, viewer)| {
        self.engine.add_remote_viewer_on_remote_video(
          &video,
          &viewer.id,
          viewer.expires_ms,
          viewer.result_counter,
        )
      })
      .map_err(|e| to_napi(env.raw(), &e))
  }

  /// Viewers over every video for one pair of scopes (PeerTube's `peertube_viewers_total`
  /// gauge). Synchronous, O(1).
  #[napi(
    catch_unwind,
    ts_args_type = "options: { viewerScope: 'local' | 'remote'; videoScope: 'local' | 'remote' }"
  )]
  pub fn get_total_viewers(&self, env: Env, options: Unknown) -> napi::Result<f64> {
    total_viewers(&env, &self.engine, options)
  }

  /// Viewers of one video (`video.id` is enough). Synchronous, O(1).
  #[napi(catch_unwind, ts_args_type = "video: { id: number }")]
  pub fn get_total_viewers_of(&self, env: Env, video: Unknown) -> napi::Result<f64> {
    total_viewers_of(&env, &self.engine, video)
  }

  /// One cleanup pass: drops expired viewers, notifies the clients of every video that had
  /// viewers (a video that drops to 0 gets one final 0) and, in v2, sends the total of each local
  /// video that still has viewers (`viewerIdentifier` = video uuid). Host failures are logged
  /// with the video uuid and never stop the other videos.
  #[napi(catch_unwind, ts_return_type = "Promise<CleanReport>")]
  pub fn clean_viewer_counters(&self, env: Env) -> napi::Result<Raw> {
    clean(&env, &self.engine)
  }

  /// Health snapshot (synchronous).
  #[napi(catch_unwind, ts_return_type = "ViewerCountersInternalStats")]
  pub fn get_internal_stats(&self, env: Env) -> napi::Result<Raw> {
    ready(&env, |b| report(b, self.engine.health()))
  }

  /// Stops the cleanup timer and sends the Views still queued. Idempotent; afterwards the add
  /// methods fail with `code: 'CLOSED'`.
  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(
      &env,
      async move {
        engine.close().await;
        Ok(())
      },
      |b, ()| b.undefined(),
    )
  }
}
