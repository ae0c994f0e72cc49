//! Bound entries: plain JS functions that carry their engine as napi callback `data`.
//!
//! A `#[napi]` method reaches its Rust `&self` through the class machinery on every call: a type
//! tag check and `napi_unwrap` (two private-property lookups in V8) and napi-rs's native borrow
//! scope (a mutex-guarded registry). On a heartbeat that is answered from memory, that was about
//! 40 % of the call (`perf`; 0.6 -> 0.34 us per call without it). A bound entry skips all of it: its state is an `Arc` owned by the
//! function object (released by a finalizer when the function is collected), so the callback
//! finds it with the one `napi_get_cb_info` it needs for its arguments anyway.
//!
//! The callback never lets a panic reach Node: one is caught and thrown as an `INTERNAL` error.

use super::callbacks::Raw;
use super::errors::{to_js_error, to_napi};
use super::js::Js;
use napi::bindgen_prelude::Env;
use napi::sys;
use std::ffi::{c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::Arc;
use views_core::error::{Error, ErrorCode};

/// What a bound entry runs on each call, with exactly `N` arguments (missing ones are
/// `undefined`, extra ones are ignored).
pub type EntryFn<T, const N: usize> = fn(&Env, &Arc<T>, [Js; N]) -> napi::Result<Raw>;

struct Bound<T, const N: usize> {
  state: Arc<T>,
  call: EntryFn<T, N>,
}

/// A JS function named `name` whose every call runs `call` on `state`, as the return value of
/// a `#[napi]` method (a failure becomes a thrown JS error with `code`).
pub fn bound_function<T: Send + Sync + 'static, const N: usize>(
  env: &Env,
  name: &CStr,
  state: Arc<T>,
  call: EntryFn<T, N>,
) -> napi::Result<Raw> {
  create(env.raw(), name, state, call)
    .map(Raw)
    .map_err(|e| to_napi(env.raw(), &e))
}

fn create<T: Send + Sync + 'static, const N: usize>(
  env: sys::napi_env,
  name: &CStr,
  state: Arc<T>,
  call: EntryFn<T, N>,
) -> views_core::error::Result<sys::napi_value> {
  let data = Box::into_raw(Box::new(Bound { state, call })).cast::<c_void>();
  let mut function = ptr::null_mut();
  // SAFETY: live env; `name` is NUL-terminated; `data` stays valid until the finalizer below
  // (or the error path) frees it.
  let status = unsafe {
    sys::napi_create_function(
      env,
      name.as_ptr(),
      name.to_bytes().len() as isize,
      Some(trampoline::<T, N>),
      data,
      &mut function,
    )
  };
  if status == sys::Status::napi_ok {
    // SAFETY: `function` was just created; the finalizer owns `data` from here on.
    let status = unsafe {
      sys::napi_add_finalizer(
        env,
        function,
        data,
        Some(finalize::<T, N>),
        ptr::null_mut(),
        ptr::null_mut(),
      )
    };
    if status == sys::Status::napi_ok {
      return Ok(function);
    }
  }
  // SAFETY: no finalizer took `data`, so it is still ours alone.
  drop(unsafe { Box::from_raw(data.cast::<Bound<T, N>>()) });
  Err(Error::new(
    ErrorCode::Internal,
    format!("napi could not create the function {name:?} (status {status})"),
  ))
}

unsafe extern "C" fn finalize<T, const N: usize>(
  _env: sys::napi_env,
  data: *mut c_void,
  _hint: *mut c_void,
) {
  if !data.is_null() {
    // SAFETY: `data` is the Box leaked by `create`; napi calls this once.
    drop(unsafe { Box::from_raw(data.cast::<Bound<T, N>>()) });
  }
}

unsafe extern "C" fn trampoline<T, const N: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let outcome = catch_unwind(AssertUnwindSafe(|| {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let mut data = ptr::null_mut();
    // SAFETY: `info` is this callback's; `argv` has room for `argc` values.
    let status = unsafe {
      sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        &mut data,
      )
    };
    if status != sys::Status::napi_ok || data.is_null() {
      return Err(Error::new(
        ErrorCode::Internal,
        format!("napi could not read the call's arguments (status {status})"),
      ));
    }
    // SAFETY: `data` is the `Bound` this function was created with, alive while the function is.
    let bound = unsafe { &*data.cast::<Bound<T, N>>() };
    // napi fills the arguments that were not passed with `undefined`.
    let args = argv.map(|raw| Js::new(env, raw));
    let env = Env::from_raw(env);
    (bound.call)(&env, &bound.state, args)
      .map_err(|e| Error::new(ErrorCode::Internal, e.reason.clone()))
  }));
  let err = match outcome {
    Ok(Ok(Raw(value))) => return value,
    Ok(Err(err)) => err,
    Err(_) => Error::new(
      ErrorCode::Internal,
      "internal error in peertube-native-views (a Rust panic was caught)",
    ),
  };
  let error = to_js_error(env, &err);
  // SAFETY: live env; a null error (napi misbehaving) is not thrown.
  unsafe {
    if !error.is_null() {
      sys::napi_throw(env, error);
    }
  }
  ptr::null_mut()
}
