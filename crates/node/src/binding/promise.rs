//! Promises returned to JS: settled on the JS thread right away when the answer is in memory,
//! or by a tokio task; errors always become JS errors with `code` (see [`super::errors`]).

use super::callbacks::Raw;
use super::errors::to_js_error;
use super::js::Builder;
use napi::bindgen_prelude::{Env, ToNapiValue};
use napi::sys;
use std::future::Future;
use views_core::error::Result;

/// A resolved Promise built with `value`.
pub fn resolved(
  env: &Env,
  value: impl FnOnce(&Builder) -> Result<sys::napi_value>,
) -> napi::Result<Raw> {
  let builder = Builder::new(env.raw());
  match value(&builder).and_then(|v| builder.resolved_promise(v)) {
    Ok(promise) => Ok(Raw(promise)),
    Err(err) => rejected(env, &err),
  }
}

/// The value itself, not a Promise: what an in-memory answer returns (`await` works on it and
/// it costs no Promise). A failure to build it becomes a rejected Promise.
pub fn ready(
  env: &Env,
  value: impl FnOnce(&Builder) -> Result<sys::napi_value>,
) -> napi::Result<Raw> {
  match value(&Builder::new(env.raw())) {
    Ok(value) => Ok(Raw(value)),
    Err(err) => rejected(env, &err),
  }
}

/// A rejected Promise carrying the JS error for `err`.
pub fn rejected(env: &Env, err: &views_core::error::Error) -> napi::Result<Raw> {
  let builder = Builder::new(env.raw());
  let reason = to_js_error(env.raw(), err);
  builder
    .rejected_promise(reason)
    .map(Raw)
    .map_err(|e| napi::Error::from_reason(e.message))
}

/// A Promise settled by `fut` on the tokio runtime; `to_js` builds the value on the JS thread.
pub fn spawn<T, F, C>(env: &Env, fut: F, to_js: C) -> napi::Result<Raw>
where
  T: Send + 'static,
  F: Future<Output = Result<T>> + Send + 'static,
  C: FnOnce(&Builder, T) -> Result<sys::napi_value> + 'static,
{
  let promise =
    env.spawn_future_with_callback(async move { Ok(fut.await) }, move |env, outcome| {
      let raw = env.raw();
      outcome
        .and_then(|value| to_js(&Builder::new(raw), value))
        .map(Raw)
        .map_err(|err| super::errors::to_napi(raw, &err))
    })?;
  // SAFETY: converting a PromiseRaw of this env to its raw value.
  Ok(Raw(unsafe {
    ToNapiValue::to_napi_value(env.raw(), promise)?
  }))
}
