//! Host callbacks as weak `ThreadsafeFunction`s (they never keep Node alive) that accept a
//! Promise or a plain return value, and turn a throw or a rejection into `CALLBACK_FAILED`
//! with the original JS error as `cause`.

use super::js::Builder;
use napi::bindgen_prelude::{
  FnArgs, FromNapiValue, Function, JsValuesTupleIntoVec, Promise, ToNapiValue,
};
use napi::sys;
use napi::threadsafe_function::{
  ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use std::sync::Arc;
use views_core::error::{Error, ErrorCode, Result};

/// A raw JS value built inside a threadsafe-function callback.
pub struct Raw(pub sys::napi_value);

impl ToNapiValue for Raw {
  unsafe fn to_napi_value(_: sys::napi_env, val: Self) -> napi::Result<sys::napi_value> {
    Ok(val.0)
  }
}

/// Any resolved value (ignored).
pub struct Ignored;

impl FromNapiValue for Ignored {
  unsafe fn from_napi_value(_: sys::napi_env, _: sys::napi_value) -> napi::Result<Self> {
    Ok(Ignored)
  }
}

/// What a fire-and-forget callback returned. A Promise gets handlers (the rejection of a
/// Promise nobody handles can terminate Node); anything else is ignored.
pub struct Forgotten;

impl FromNapiValue for Forgotten {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    let mut is_promise = false;
    // SAFETY: called by napi on the JS thread with a live value.
    let status = unsafe { sys::napi_is_promise(env, value, &mut is_promise) };
    if status == sys::Status::napi_ok && is_promise {
      // Converting attaches `then`/`catch` handlers; the outcome is then dropped.
      // SAFETY: checked to be a promise.
      let _ = unsafe { Promise::<Ignored>::from_napi_value(env, value) };
    }
    Ok(Forgotten)
  }
}

/// What a host callback returned: a Promise to wait for, or a plain value (already done).
pub enum HostReturn<T: FromNapiValue + 'static> {
  /// A thenable Promise.
  Pending(Promise<T>),
  /// A plain value: the callback completed synchronously.
  Ready(T),
}

impl<T: FromNapiValue + 'static> FromNapiValue for HostReturn<T> {
  unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> napi::Result<Self> {
    let mut is_promise = false;
    // SAFETY: called by napi on the JS thread with a live value.
    let status = unsafe { sys::napi_is_promise(env, value, &mut is_promise) };
    if status == sys::Status::napi_ok && is_promise {
      // SAFETY: checked to be a promise.
      Ok(HostReturn::Pending(unsafe {
        Promise::from_napi_value(env, value)?
      }))
    } else {
      // SAFETY: a live value of this env.
      Ok(HostReturn::Ready(unsafe {
        T::from_napi_value(env, value)?
      }))
    }
  }
}

/// A host callback taking `T` (one argument) and resolving to `R`.
pub type HostFn<T, R = Ignored> =
  ThreadsafeFunction<T, HostReturn<R>, FnArgs<(Raw,)>, napi::Status, false, true>;

/// A fire-and-forget callback taking two arguments (logger methods, `notifyClients`).
pub type PairFn<T> =
  ThreadsafeFunction<T, Forgotten, FnArgs<(Raw, Raw)>, napi::Status, false, true>;

/// Wraps the JS function `func` (checked to be a function) as a weak threadsafe function whose
/// arguments `build` makes on the JS thread.
fn weak_fn<T, Args, R>(
  env: sys::napi_env,
  func: sys::napi_value,
  mut build: impl FnMut(sys::napi_env, T) -> Result<Args> + 'static,
) -> napi::Result<ThreadsafeFunction<T, R, Args, napi::Status, false, true>>
where
  T: 'static,
  Args: 'static + JsValuesTupleIntoVec,
  R: 'static + FromNapiValue,
{
  // SAFETY: `func` is a live function value of this env.
  let function: Function<'_, Args, R> = unsafe { Function::from_napi_value(env, func)? };
  function
    .build_threadsafe_function::<T>()
    .weak::<true>()
    .callee_handled::<false>()
    .build_callback(move |ctx: ThreadsafeCallContext<T>| {
      build(ctx.env.raw(), ctx.value).map_err(|e| napi::Error::from_reason(e.message))
    })
}

/// A host callback taking one argument built by `build`. A builder that fails (only when the
/// env is shutting down) passes `undefined` instead: napi turns a builder error into a fatal
/// exception.
pub fn host_fn<T: 'static, R: FromNapiValue + 'static>(
  env: sys::napi_env,
  func: sys::napi_value,
  mut build: impl FnMut(sys::napi_env, T) -> Result<sys::napi_value> + 'static,
) -> napi::Result<HostFn<T, R>> {
  weak_fn(env, func, move |env, value| {
    let arg = build(env, value).or_else(|_| Builder::new(env).undefined())?;
    Ok(FnArgs { data: (Raw(arg),) })
  })
}

/// A fire-and-forget callback taking the two arguments built by `build` (same fallback).
pub fn pair_fn<T: 'static>(
  env: sys::napi_env,
  func: sys::napi_value,
  mut build: impl FnMut(sys::napi_env, T) -> Result<(sys::napi_value, sys::napi_value)> + 'static,
) -> napi::Result<PairFn<T>> {
  weak_fn(env, func, move |env, value| {
    let (a, b) = build(env, value).or_else(|_| {
      let undefined = Builder::new(env).undefined()?;
      Ok::<_, views_core::error::Error>((undefined, undefined))
    })?;
    Ok(FnArgs {
      data: (Raw(a), Raw(b)),
    })
  })
}

/// Calls a fire-and-forget callback. Unlike `ThreadsafeFunction::call`, a JS throw is caught
/// (napi turns an uncaught throw of a direct call into a fatal exception) and dropped.
pub fn fire<T: 'static>(func: &PairFn<T>, value: T) -> napi::Status {
  func.call_with_return_value(
    value,
    ThreadsafeFunctionCallMode::NonBlocking,
    |_, _| Ok(()),
  )
}

/// Calls a host callback and waits for it (and for its Promise, if it returned one).
pub async fn call_host<T: 'static + Send, R: FromNapiValue + Send + 'static>(
  func: &HostFn<T, R>,
  name: &str,
  value: T,
) -> Result<R> {
  let returned = func
    .call_async_catch(value)
    .await
    .map_err(|e| callback_failed(name, e))?;
  match returned {
    HostReturn::Ready(value) => Ok(value),
    HostReturn::Pending(promise) => promise.await.map_err(|e| callback_failed(name, e)),
  }
}

fn callback_failed(name: &str, err: napi::Error) -> Error {
  let reason = if err.reason.is_empty() {
    "threw or rejected".to_string()
  } else {
    err.reason.clone()
  };
  Error::new(
    ErrorCode::CallbackFailed,
    format!("{name} failed: {reason}"),
  )
  .with_cause(Arc::new(err))
}
