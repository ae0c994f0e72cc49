//! The injected winston-compatible logger: `{ debug, info, warn, error }(message, meta)` with
//! `meta = { tags: ['views', videoUuid?], ...fields, err? }`. An optional `level` property
//! (winston's) disables the levels below it without crossing into JavaScript.

use super::callbacks::{fire, pair_fn, PairFn};
use super::errors::js_cause;
use super::js::{Builder, Js, Kind};
use napi::sys;
use std::sync::Arc;
use views_core::error::{Error, Result};
use views_core::log::{Level, LogSink, Logger, Meta};

struct Record {
  message: String,
  meta: Meta,
}

struct JsLogger {
  methods: [Option<PairFn<Record>>; 4],
  min_level: Level,
}

impl LogSink for JsLogger {
  fn enabled(&self, level: Level) -> bool {
    level >= self.min_level && self.methods[level as usize].is_some()
  }

  fn log(&self, level: Level, message: &str, meta: Meta) {
    if let Some(method) = &self.methods[level as usize] {
      let record = Record {
        message: message.to_string(),
        meta,
      };
      let _ = fire(method, record);
    }
  }
}

/// Reads the `logger` option (`undefined`/`null`: no logging).
pub fn read_logger(value: Js) -> Result<Logger> {
  if value.kind().is_nullish() {
    return Ok(Logger::none());
  }
  let logger = value.expect_object("logger")?;
  let mut methods: [Option<PairFn<Record>>; 4] = [None, None, None, None];
  for (slot, name) in methods.iter_mut().zip(["debug", "info", "warn", "error"]) {
    let field = format!("logger.{name}");
    let method = logger.get(name, &field)?;
    match method.kind() {
      Kind::Function => {
        // Called as `logger[name](message, meta)`: a method may use `this`.
        let method = method.bind(logger, &field)?;
        let built = pair_fn(value.env, method.raw, build_log_args)
          .map_err(|e| Error::invalid_type(&field, &format!("a usable function ({})", e.reason)))?;
        *slot = Some(built);
      }
      kind if kind.is_nullish() => {}
      other => {
        return Err(Error::invalid_type(
          &field,
          &format!("a function (got {})", other.describe()),
        ))
      }
    }
  }
  let level = logger.get("level", "logger.level")?;
  let min_level = match level.optional(|v| v.string("logger.level", 32))? {
    None => Level::Debug,
    Some(name) => match name.as_str() {
      "error" => Level::Error,
      "warn" => Level::Warn,
      "info" | "http" | "verbose" => Level::Info,
      _ => Level::Debug,
    },
  };
  Ok(Logger::new(Arc::new(JsLogger { methods, min_level })))
}

fn build_log_args(
  env: sys::napi_env,
  record: Record,
) -> Result<(sys::napi_value, sys::napi_value)> {
  let b = Builder::new(env);
  let message = b.string(&record.message)?;
  let meta = b.object()?;
  let tags = b.array(2)?;
  b.set_element(tags, 0, b.string("views")?)?;
  if let Some(uuid) = &record.meta.video_uuid {
    b.set_element(tags, 1, b.string(uuid)?)?;
  }
  b.set(meta, "tags", tags)?;
  for (name, value) in &record.meta.fields {
    b.set(meta, name, json_to_js(&b, value)?)?;
  }
  if let Some(cause) = &record.meta.err {
    let carrier =
      Error::new(views_core::error::ErrorCode::CallbackFailed, "").with_cause(cause.clone());
    if let Some(err) = js_cause(env, &carrier) {
      b.set(meta, "err", err)?;
    }
  }
  Ok((message, meta))
}

fn json_to_js(b: &Builder, value: &serde_json::Value) -> Result<sys::napi_value> {
  use serde_json::Value;
  match value {
    Value::Null => b.null(),
    Value::Bool(v) => b.boolean(*v),
    Value::Number(n) => b.number(n.as_f64().unwrap_or(0.0)),
    Value::String(s) => b.string(s),
    Value::Array(items) => {
      let array = b.array(items.len())?;
      for (i, item) in items.iter().enumerate() {
        b.set_element(array, i as u32, json_to_js(b, item)?)?;
      }
      Ok(array)
    }
    Value::Object(map) => {
      let object = b.object()?;
      for (k, v) in map {
        b.set(object, k, json_to_js(b, v)?)?;
      }
      Ok(object)
    }
  }
}
