//! `VideoViews`: the JS class around [`ViewsEngine`].

use super::callbacks::{call_host, host_fn, HostFn, Raw};
use super::errors::to_napi;
use super::js::{Builder, Js};
use super::options::{self, input};
use super::promise::{ready, rejected, spawn};
use super::requests::ViewArgs;
use super::setup::{read_shared, usable, Shared};
use super::shapes::report;
use super::viewer_counters::send_view_fn;
use napi::bindgen_prelude::{Env, Unknown};
use napi::JsValue;
use napi_derive::napi;
use std::sync::Arc;
use views_core::engine::clock::now_ms;
use views_core::engine::views::{HourlyViews, VideoForView, ViewsConfig, ViewsEngine, ViewsHost};
use views_core::error::{Error, Result};
use views_core::rules::counters::ViewerView;
use views_core::rules::local_time::local_hour;

/// The host side of view counting.
pub struct JsViewsHost {
  send: Arc<HostFn<ViewerView>>,
  increment: HostFn<(u64, u64)>,
  hourly: HostFn<HourlyViews>,
}

impl ViewsHost for JsViewsHost {
  async fn send_view(&self, view: ViewerView) -> Result<()> {
    call_host(self.send.as_ref(), "sendView", view).await?;
    Ok(())
  }

  async fn increment_video_views(&self, video_id: u64, views: u64) -> Result<()> {
    call_host(&self.increment, "incrementVideoViews", (video_id, views)).await?;
    Ok(())
  }

  async fn save_hourly_views(&self, record: HourlyViews) -> Result<()> {
    call_host(&self.hourly, "saveHourlyViews", record).await?;
    Ok(())
  }
}

/// Builds the views engine: settings from `object`, `sendView`, `incrementVideoViews` and
/// `saveHourlyViews` from `callbacks` (`send` is shared with the counters).
pub fn build_views_engine(
  env: &Env,
  object: Js,
  callbacks: Js,
  shared: &Shared,
  send: Arc<HostFn<ViewerView>>,
) -> Result<ViewsEngine<JsViewsHost>> {
  let config = ViewsConfig {
    options: options::read_options(object)?,
    calls: shared.calls.clone(),
  };
  let increment = options::function(callbacks, "incrementVideoViews")?;
  let hourly = options::function(callbacks, "saveHourlyViews")?;
  let host = JsViewsHost {
    send,
    increment: host_fn(
      env.raw(),
      increment.raw,
      |env, (video_id, views): (u64, u64)| {
        let b = Builder::new(env);
        let object = b.object()?;
        b.set(object, "videoId", b.number(video_id as f64)?)?;
        b.set(object, "views", b.number(views as f64)?)?;
        Ok(object)
      },
    )
    .map_err(|e| usable("incrementVideoViews", e))?,
    hourly: host_fn(env.raw(), hourly.raw, |env, record: HourlyViews| {
      let b = Builder::new(env);
      let object = b.object()?;
      b.set(object, "videoId", b.number(record.video_id as f64)?)?;
      b.set(object, "views", b.number(record.views as f64)?)?;
      b.set(object, "startDate", b.date(record.start_ms as f64)?)?;
      b.set(object, "endDate", b.date(record.end_ms as f64)?)?;
      Ok(object)
    })
    .map_err(|e| usable("saveHourlyViews", e))?,
  };
  Ok(ViewsEngine::new(
    config,
    shared.prefix.clone(),
    shared.connection.clone(),
    host,
    shared.logger.clone(),
  ))
}

/// The hour to process: `0`-`23`, or the previous local hour when absent.
pub fn read_hour(env: &Env, hour: Option<Unknown>) -> Result<u32> {
  let value = hour.map(|h| Js::new(env.raw(), h.raw()));
  match value
    .map(|v| v.optional(|v| v.number("hour")))
    .transpose()?
    .flatten()
  {
    None => Ok((local_hour(now_ms()) + 23) % 24),
    Some(h) if h.fract() == 0.0 && (0.0..=23.0).contains(&h) => Ok(h as u32),
    Some(h) => Err(Error::invalid_range(
      "hour",
      format!("must be an integer from 0 to 23 (got {h})"),
    )),
  }
}

/// `processViewsBuffer` on `engine`, as a Promise of its report.
pub fn buffer_drain(env: &Env, engine: Arc<ViewsEngine<JsViewsHost>>) -> napi::Result<Raw> {
  spawn(
    env,
    async move { engine.process_views_buffer().await },
    report,
  )
}

/// `processHourlyViewStats(hour?)` on `engine`, as a Promise of its report.
pub fn hourly_drain(
  env: &Env,
  engine: Arc<ViewsEngine<JsViewsHost>>,
  hour: Option<Unknown>,
) -> napi::Result<Raw> {
  match read_hour(env, hour) {
    Ok(hour) => spawn(
      env,
      async move { engine.process_hourly_view_stats(hour).await },
      report,
    ),
    Err(err) => rejected(env, &err),
  }
}

/// `addRemoteView({ video })` on `engine`, as a Promise.
pub fn remote_view(
  env: &Env,
  engine: Arc<ViewsEngine<JsViewsHost>>,
  input: Unknown,
) -> napi::Result<Raw> {
  let video = Js::new(env.raw(), input.raw())
    .expect_object("input")
    .and_then(|o| input::video_info_object(input::video_object(o)?));
  match video {
    Ok(video) => spawn(
      env,
      async move { engine.add_remote_view(&video).await },
      |b, ()| b.undefined(),
    ),
    Err(err) => rejected(env, &err),
  }
}

/// PeerTube's `VideoViews`: decides when a heartbeat counts as a view (10 s threshold, 50 %
/// rule for short VODs, one view per viewer per `viewExpiration`), buffers views in Redis with
/// PeerTube's keys, and drains them to the host.
#[napi]
pub struct VideoViews {
  engine: Arc<ViewsEngine<JsViewsHost>>,
}

#[napi]
impl VideoViews {
  /// Creates the engine and, unless `autoStart: false`, its timers (buffer drain every
  /// `localBufferUpdateInterval`, previous hour's stats a few minutes after each hour).
  #[napi(catch_unwind, constructor, ts_args_type = "options: VideoViewsOptions")]
  pub fn new(env: Env, options: Unknown) -> napi::Result<Self> {
    let built = (|| -> Result<_> {
      let object = Js::new(env.raw(), options.raw()).expect_object("options")?;
      let shared = read_shared(object)?;
      let send = send_view_fn(&env, object)?;
      Ok((
        build_views_engine(&env, object, object, &shared, send)?,
        shared.calls.auto_start,
      ))
    })();
    let (engine, auto_start) = built.map_err(|e| to_napi(env.raw(), &e))?;
    let engine = Arc::new(engine);
    if auto_start {
      napi::bindgen_prelude::spawn(engine.clone().run_timers());
    }
    Ok(VideoViews { engine })
  }

  /// Resolves `true` when this watch time counts a view for `sessionId` (the viewer identity)
  /// on `video`; then the view is buffered in Redis and a View activity is sent.
  #[napi(
    catch_unwind,
    ts_args_type = "input: LocalViewInput",
    ts_return_type = "Promise<boolean>"
  )]
  pub fn add_local_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    let read = (|| -> Result<_> {
      let args = ViewArgs::from_object(Js::new(env.raw(), input.raw()))?;
      let info = input::video_info(args.video_id, args.video_uuid, args.video_remote)?;
      let (duration, is_live) = input::duration_and_live(args.video_duration, args.video_is_live)?;
      let identity = input::session_id_value(args.session_id)?;
      let watch_time = views_core::rules::validate::current_time(
        "watchTime",
        args.watch_time.number("watchTime")?,
      )?;
      let video = VideoForView {
        info,
        duration,
        is_live,
      };
      Ok((video, identity, u64::from(watch_time)))
    })();
    let (video, identity, watch_time) = match read {
      Ok(read) => read,
      Err(err) => return rejected(&env, &err),
    };
    let engine = self.engine.clone();
    spawn(
      &env,
      async move { engine.add_local_view(&video, &identity, watch_time).await },
      |b, counted| b.boolean(counted),
    )
  }

  /// A View without `expires` from another instance: buffered (owned videos) and counted in
  /// the hourly stats, without dedup.
  #[napi(
    catch_unwind,
    ts_args_type = "input: { video: VideoRef & { uuid: string } }",
    ts_return_type = "Promise<void>"
  )]
  pub fn add_remote_view(&self, env: Env, input: Unknown) -> napi::Result<Raw> {
    remote_view(&env, self.engine.clone(), input)
  }

  /// Drains the local view buffer into `incrementVideoViews({ videoId, views })`, atomically:
  /// a view counted during the drain is never lost, a rejected call puts its views back.
  #[napi(catch_unwind, ts_return_type = "Promise<DrainReport>")]
  pub fn process_views_buffer(&self, env: Env) -> napi::Result<Raw> {
    buffer_drain(&env, self.engine.clone())
  }

  /// Drains the views of local hour `hour` (default: the previous hour) into
  /// `saveHourlyViews({ videoId, views, startDate, endDate })`.
  #[napi(
    catch_unwind,
    ts_args_type = "hour?: number",
    ts_return_type = "Promise<DrainReport>"
  )]
  pub fn process_hourly_view_stats(&self, env: Env, hour: Option<Unknown>) -> napi::Result<Raw> {
    hourly_drain(&env, self.engine.clone(), hour)
  }

  /// Health snapshot (synchronous).
  #[napi(catch_unwind, ts_return_type = "ViewsInternalStats")]
  pub fn get_internal_stats(&self, env: Env) -> napi::Result<Raw> {
    ready(&env, |b| report(b, self.engine.health()))
  }

  /// Stops the timers and writes the views kept in memory. Idempotent.
  #[napi(catch_unwind, ts_return_type = "Promise<void>")]
  pub fn close(&self, env: Env) -> napi::Result<Raw> {
    let engine = self.engine.clone();
    spawn(&env, async move { engine.close().await }, |b, ()| {
      b.undefined()
    })
  }
}
