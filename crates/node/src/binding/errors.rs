//! Turns the crate [`Error`] into a JS error: `TypeError`/`RangeError` for invalid arguments,
//! `Error` otherwise, always with `code` and, when known, the original error as `cause`.

use super::js::Builder;
use napi::bindgen_prelude::{JsError, Unknown};
use napi::sys;
use std::ptr;
use views_core::error::{ArgumentErrorKind, Error, ErrorCode};

/// The JS error object for `err` (falls back to a plain `Error` if napi misbehaves).
pub fn to_js_error(env: sys::napi_env, err: &Error) -> sys::napi_value {
  let builder = Builder::new(env);
  let (Ok(code), Ok(message)) = (
    builder.string(err.code.as_str()),
    builder.string(&err.message),
  ) else {
    return ptr::null_mut();
  };
  let mut out = ptr::null_mut();
  // SAFETY: live env, code and message are strings we just created.
  let status = unsafe {
    match (err.code, err.argument_kind) {
      (ErrorCode::InvalidArgument, ArgumentErrorKind::Type) => {
        sys::napi_create_type_error(env, code, message, &mut out)
      }
      (ErrorCode::InvalidArgument, ArgumentErrorKind::Range) => {
        sys::napi_create_range_error(env, code, message, &mut out)
      }
      _ => sys::napi_create_error(env, code, message, &mut out),
    }
  };
  if status != sys::Status::napi_ok {
    return ptr::null_mut();
  }
  if let Some(cause) = js_cause(env, err) {
    let _ = builder.set(out, "cause", cause);
  }
  out
}

/// The original JS error carried by `err`, if it came from JavaScript.
pub fn js_cause(env: sys::napi_env, err: &Error) -> Option<sys::napi_value> {
  let original = err.cause.as_ref()?.downcast_ref::<napi::Error>()?;
  let clone = original.try_clone().ok()?;
  // SAFETY: on the JS thread of `env`; reuses the retained JS object when it is readable here.
  let value = unsafe { JsError::from(clone).into_value(env) };
  (!value.is_null()).then_some(value)
}

/// A napi error that throws/rejects with exactly the JS object built by [`to_js_error`].
pub fn to_napi(env: sys::napi_env, err: &Error) -> napi::Error {
  let value = to_js_error(env, err);
  if value.is_null() {
    return napi::Error::new(
      napi::Status::GenericFailure,
      format!("{}: {}", err.code.as_str(), err.message),
    );
  }
  // SAFETY: `value` is a live JS value of this env.
  napi::Error::from(unsafe { Unknown::from_raw_unchecked(env, value) })
}
