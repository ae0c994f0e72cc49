//! Strict reading and building of JS values on the JS thread, without coercion.
//!
//! Every read checks the type first and turns any failing napi call (a getter that throws, a
//! Proxy, a detached env) into an `INVALID_ARGUMENT` error: nothing here can panic or leave a
//! pending exception behind. All functions take the `napi_env` of the current callback; values
//! are only used during that callback.

use napi::sys;
use std::ffi::{CStr, CString};
use std::ptr;
use views_core::error::{Error, Result};

/// A JS value of the current callback.
#[derive(Clone, Copy)]
pub struct Js {
  /// The env of the callback.
  pub env: sys::napi_env,
  /// The value.
  pub raw: sys::napi_value,
}

/// The JS type of a value (`typeof`, with `null` and arrays told apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
  /// `undefined`.
  Undefined,
  /// `null`.
  Null,
  /// A boolean.
  Boolean,
  /// A number.
  Number,
  /// A string.
  String,
  /// An array.
  Array,
  /// Any other object.
  Object,
  /// A function.
  Function,
  /// symbol, bigint, external.
  Other,
}

impl Kind {
  /// Absent (`undefined` or `null`).
  pub fn is_nullish(self) -> bool {
    matches!(self, Kind::Undefined | Kind::Null)
  }

  /// The name used in error messages.
  pub fn describe(self) -> &'static str {
    match self {
      Kind::Undefined => "undefined",
      Kind::Null => "null",
      Kind::Boolean => "a boolean",
      Kind::Number => "a number",
      Kind::String => "a string",
      Kind::Array => "an array",
      Kind::Object => "an object",
      Kind::Function => "a function",
      Kind::Other => "an unsupported value",
    }
  }
}

/// Clears a pending JS exception (e.g. thrown by a getter) and returns it.
fn take_exception(env: sys::napi_env) -> Option<sys::napi_value> {
  let mut pending = false;
  // SAFETY: `env` is the live env of the current callback.
  unsafe {
    if sys::napi_is_exception_pending(env, &mut pending) != sys::Status::napi_ok || !pending {
      return None;
    }
    let mut exception = ptr::null_mut();
    if sys::napi_get_and_clear_last_exception(env, &mut exception) != sys::Status::napi_ok {
      return None;
    }
    Some(exception)
  }
}

fn check(env: sys::napi_env, status: sys::napi_status, field: &str) -> Result<()> {
  if status == sys::Status::napi_ok {
    return Ok(());
  }
  let threw = take_exception(env).is_some();
  Err(Error::invalid_type(
    field,
    if threw {
      "readable (reading it threw)"
    } else {
      "a readable value"
    },
  ))
}

fn internal(status: sys::napi_status, what: &str) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(
      views_core::error::ErrorCode::Internal,
      format!("napi call failed while {what} (status {status})"),
    ))
  }
}

impl Js {
  /// Wraps a value of the current callback.
  pub fn new(env: sys::napi_env, raw: sys::napi_value) -> Self {
    Js { env, raw }
  }

  /// The value's kind.
  pub fn kind(self) -> Kind {
    let mut t = 0;
    // SAFETY: env and raw belong to the current callback.
    if unsafe { sys::napi_typeof(self.env, self.raw, &mut t) } != sys::Status::napi_ok {
      take_exception(self.env);
      return Kind::Other;
    }
    match t {
      sys::ValueType::napi_undefined => Kind::Undefined,
      sys::ValueType::napi_null => Kind::Null,
      sys::ValueType::napi_boolean => Kind::Boolean,
      sys::ValueType::napi_number => Kind::Number,
      sys::ValueType::napi_string => Kind::String,
      sys::ValueType::napi_function => Kind::Function,
      sys::ValueType::napi_object => {
        let mut is_array = false;
        // SAFETY: as above.
        unsafe { sys::napi_is_array(self.env, self.raw, &mut is_array) };
        if is_array {
          Kind::Array
        } else {
          Kind::Object
        }
      }
      _ => Kind::Other,
    }
  }

  /// `undefined` in `env` (a field a request does not read).
  pub fn undefined_in(env: sys::napi_env) -> Result<Js> {
    let mut out = ptr::null_mut();
    // SAFETY: a live env of the current callback.
    let status = unsafe { sys::napi_get_undefined(env, &mut out) };
    check(env, status, "undefined")?;
    Ok(Js::new(env, out))
  }

  /// `self[name]` (the caller checked that `self` is an object).
  pub fn get(self, name: &str, field: &str) -> Result<Js> {
    let key =
      CString::new(name).map_err(|_| Error::invalid_type(field, "a valid property name"))?;
    self.get_c(&key, field)
  }

  /// `self[name]` with a static C string name (no allocation: the hot paths use this).
  pub fn get_c(self, name: &CStr, field: &str) -> Result<Js> {
    let mut out = ptr::null_mut();
    // SAFETY: env/raw from the current callback, name is NUL-terminated.
    let status =
      unsafe { sys::napi_get_named_property(self.env, self.raw, name.as_ptr(), &mut out) };
    check(self.env, status, field)?;
    Ok(Js::new(self.env, out))
  }

  /// `self.bind(this)` for a function: a function that calls `self` with `this` bound, as JS
  /// callers of a method expect (a logger method may use `this`).
  pub fn bind(self, this: Js, field: &str) -> Result<Js> {
    let bind = self.get("bind", field)?;
    if bind.kind() != Kind::Function {
      return Err(Error::invalid_type(field, "a function with bind()"));
    }
    let mut out = ptr::null_mut();
    let args = [this.raw];
    // SAFETY: env and values belong to the current callback; args outlives the call.
    let status =
      unsafe { sys::napi_call_function(self.env, self.raw, bind.raw, 1, args.as_ptr(), &mut out) };
    check(self.env, status, field)?;
    Ok(Js::new(self.env, out))
  }

  /// Requires an object (not an array, not null).
  pub fn expect_object(self, field: &str) -> Result<Js> {
    match self.kind() {
      Kind::Object => Ok(self),
      other => Err(Error::invalid_type(
        field,
        &format!("an object (got {})", other.describe()),
      )),
    }
  }

  /// A number, strictly (no string coercion). One napi call: its status is the type check.
  pub fn number(self, field: &str) -> Result<f64> {
    let mut value = 0.0;
    // SAFETY: env/raw from the current callback; napi checks the type.
    let status = unsafe { sys::napi_get_value_double(self.env, self.raw, &mut value) };
    match status {
      sys::Status::napi_ok => Ok(value),
      sys::Status::napi_number_expected => Err(self.type_error(field, "a number")),
      _ => check(self.env, status, field).map(|()| value),
    }
  }

  /// A boolean, strictly.
  pub fn boolean(self, field: &str) -> Result<bool> {
    let mut value = false;
    // SAFETY: as above.
    let status = unsafe { sys::napi_get_value_bool(self.env, self.raw, &mut value) };
    match status {
      sys::Status::napi_ok => Ok(value),
      sys::Status::napi_boolean_expected => Err(self.type_error(field, "a boolean")),
      _ => check(self.env, status, field).map(|()| value),
    }
  }

  /// Checks that the value is a string of at most `max_bytes` UTF-8 bytes, without copying it;
  /// returns its length.
  pub fn string_len(self, field: &str, max_bytes: usize) -> Result<usize> {
    let mut len = 0usize;
    // SAFETY: a null buffer asks for the length; napi checks the type.
    let status =
      unsafe { sys::napi_get_value_string_utf8(self.env, self.raw, ptr::null_mut(), 0, &mut len) };
    self.string_status(status, field)?;
    if len > max_bytes {
      return Err(Error::invalid_range(
        field,
        format!("must be at most {max_bytes} bytes long (got {len})"),
      ));
    }
    Ok(len)
  }

  /// [`Self::string_len`] as a check only: a string of at most `max_bytes / 3` UTF-16 units is
  /// at most `max_bytes` UTF-8 bytes, and V8 knows that length without scanning the string, so
  /// only longer strings are measured in UTF-8. Same errors.
  pub fn check_string_len(self, field: &str, max_bytes: usize) -> Result<()> {
    let mut units = 0usize;
    // SAFETY: a null buffer asks for the length in UTF-16 units; napi checks the type.
    let status = unsafe {
      sys::napi_get_value_string_utf16(self.env, self.raw, ptr::null_mut(), 0, &mut units)
    };
    self.string_status(status, field)?;
    if units.saturating_mul(3) <= max_bytes {
      return Ok(());
    }
    self.string_len(field, max_bytes).map(|_| ())
  }

  /// A string of at most `max_bytes` UTF-8 bytes (longer strings are rejected before copying).
  pub fn string(self, field: &str, max_bytes: usize) -> Result<String> {
    let len = self.string_len(field, max_bytes)?;
    let mut buf = vec![0u8; len + 1];
    let written = self.read_utf8(&mut buf, field)?;
    buf.truncate(written);
    // napi writes lone surrogates as U+FFFD, so this is valid UTF-8; be safe anyway.
    String::from_utf8(buf).map_err(|_| Error::invalid_range(field, "must be valid UTF-8"))
  }

  /// The string value's first `max_bytes` UTF-8 bytes at most (whole characters); a longer
  /// string is cut, not refused.
  pub fn string_prefix(self, field: &str, max_bytes: usize) -> Result<String> {
    let len = self.string_len(field, usize::MAX)?.min(max_bytes);
    let mut buf = vec![0u8; len + 1];
    let written = self.read_utf8(&mut buf, field)?;
    buf.truncate(written);
    Ok(match String::from_utf8(buf) {
      Ok(text) => text,
      Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
  }

  /// Calls `f` with the string value when it is at most `MAX` bytes long, reading it with a
  /// single napi call into a stack buffer (no allocation). Longer strings are a `RangeError`.
  pub fn with_short_string<const MAX: usize, T>(
    self,
    field: &str,
    f: impl FnOnce(&str) -> Result<T>,
  ) -> Result<T> {
    // MAX + 2 bytes: one more than allowed, plus the NUL napi always writes.
    let mut buf = [0u8; 258];
    let capacity = MAX + 2;
    if capacity > buf.len() {
      // Too long for the stack buffer: the allocating reader enforces the same limit.
      return f(&self.string(field, MAX)?);
    }
    let written = self.read_utf8(&mut buf[..capacity], field)?;
    // napi writes at most `MAX + 1` bytes and cuts on a character boundary, so a longer string
    // can come back as few as `MAX - 2` bytes: near the limit, ask for the real length.
    if written + 2 >= MAX {
      let len = self.string_len(field, usize::MAX)?;
      if len > MAX {
        return Err(Error::invalid_range(
          field,
          format!("must be at most {MAX} bytes long (got {len})"),
        ));
      }
    }
    let text = std::str::from_utf8(&buf[..written])
      .map_err(|_| Error::invalid_range(field, "must be valid UTF-8"))?;
    f(text)
  }

  /// Copies the string into `buf` (NUL-terminated, truncated to fit); returns the bytes written
  /// without the NUL. A non-string is a `TypeError`.
  fn read_utf8(self, buf: &mut [u8], field: &str) -> Result<usize> {
    let mut written = 0usize;
    // SAFETY: `buf.len()` bytes are writable; napi writes at most that, NUL included.
    let status = unsafe {
      sys::napi_get_value_string_utf8(
        self.env,
        self.raw,
        buf.as_mut_ptr().cast(),
        buf.len(),
        &mut written,
      )
    };
    self.string_status(status, field)?;
    Ok(written)
  }

  /// The outcome of a `napi_get_value_string_utf8` call on this value.
  fn string_status(self, status: sys::napi_status, field: &str) -> Result<()> {
    match status {
      sys::Status::napi_ok => Ok(()),
      sys::Status::napi_string_expected => Err(self.type_error(field, "a string")),
      _ => check(self.env, status, field),
    }
  }

  fn type_error(self, field: &str, expected: &str) -> Error {
    Error::invalid_type(
      field,
      &format!("{expected} (got {})", self.kind().describe()),
    )
  }

  /// A point in time in ms since the epoch: a `Date`, a number of ms, or an ISO 8601 string.
  pub fn timestamp_ms(self, field: &str) -> Result<u64> {
    let ms = match self.kind() {
      Kind::Number => self.number(field)?,
      Kind::String => {
        let text = self.string(field, 64)?;
        return views_core::rules::time::parse_iso8601_ms(&text).ok_or_else(|| {
          Error::invalid_range(field, format!("must be an ISO 8601 date (got '{text}')"))
        });
      }
      Kind::Object => {
        let mut is_date = false;
        // SAFETY: live value of the current callback.
        let status = unsafe { sys::napi_is_date(self.env, self.raw, &mut is_date) };
        check(self.env, status, field)?;
        if !is_date {
          return Err(Error::invalid_type(
            field,
            "a Date, a number of ms or an ISO 8601 string",
          ));
        }
        let mut value = 0.0;
        // SAFETY: checked to be a Date.
        let status = unsafe { sys::napi_get_date_value(self.env, self.raw, &mut value) };
        check(self.env, status, field)?;
        value
      }
      other => {
        return Err(Error::invalid_type(
          field,
          &format!(
            "a Date, a number of ms or an ISO 8601 string (got {})",
            other.describe()
          ),
        ))
      }
    };
    if ms.is_finite() && (0.0..=views_core::rules::validate::MAX_SAFE_INTEGER).contains(&ms) {
      Ok(ms as u64)
    } else {
      Err(Error::invalid_range(
        field,
        format!("must be a valid date (got {ms})"),
      ))
    }
  }

  /// `undefined`/`null` → `None`, else `f(self)`.
  pub fn optional<T>(self, f: impl FnOnce(Js) -> Result<T>) -> Result<Option<T>> {
    if self.is_nullish() {
      Ok(None)
    } else {
      f(self).map(Some)
    }
  }

  /// `undefined` or `null` (one napi call, no array check).
  pub fn is_nullish(self) -> bool {
    let mut t = 0;
    // SAFETY: env/raw from the current callback.
    if unsafe { sys::napi_typeof(self.env, self.raw, &mut t) } != sys::Status::napi_ok {
      take_exception(self.env);
      return false;
    }
    t == sys::ValueType::napi_undefined || t == sys::ValueType::napi_null
  }

  /// Array elements (the caller checked it is an array), at most `max` of them.
  pub fn elements(self, field: &str, max: u32) -> Result<Vec<Js>> {
    let mut len = 0u32;
    // SAFETY: checked to be an array by the caller.
    let status = unsafe { sys::napi_get_array_length(self.env, self.raw, &mut len) };
    check(self.env, status, field)?;
    if len > max {
      return Err(Error::invalid_range(
        field,
        format!("must have at most {max} elements"),
      ));
    }
    (0..len)
      .map(|i| {
        let mut out = ptr::null_mut();
        // SAFETY: index within length; getters may throw, handled by check.
        let status = unsafe { sys::napi_get_element(self.env, self.raw, i, &mut out) };
        check(self.env, status, field)?;
        Ok(Js::new(self.env, out))
      })
      .collect()
  }
}

/// Builds JS values for results and callback payloads.
pub struct Builder {
  env: sys::napi_env,
}

impl Builder {
  /// A builder on the env of the current callback.
  pub fn new(env: sys::napi_env) -> Self {
    Builder { env }
  }

  /// Runs one napi constructor writing into an out-pointer.
  fn make(
    &self,
    what: &str,
    create: impl FnOnce(*mut sys::napi_value) -> sys::napi_status,
  ) -> Result<sys::napi_value> {
    let mut out = ptr::null_mut();
    internal(create(&mut out), what)?;
    Ok(out)
  }

  /// `{}`.
  pub fn object(&self) -> Result<sys::napi_value> {
    // SAFETY (all constructors below): `env` is the live env of the current callback and the
    // out-pointer is valid for the duration of the call.
    self.make("creating an object", |out| unsafe {
      sys::napi_create_object(self.env, out)
    })
  }

  /// `[]` of a given length.
  pub fn array(&self, len: usize) -> Result<sys::napi_value> {
    self.make("creating an array", |out| unsafe {
      sys::napi_create_array_with_length(self.env, len, out)
    })
  }

  /// A number.
  pub fn number(&self, value: f64) -> Result<sys::napi_value> {
    self.make("creating a number", |out| unsafe {
      sys::napi_create_double(self.env, value, out)
    })
  }

  /// A string.
  pub fn string(&self, value: &str) -> Result<sys::napi_value> {
    // Pointer and length describe valid UTF-8.
    self.make("creating a string", |out| unsafe {
      sys::napi_create_string_utf8(self.env, value.as_ptr().cast(), value.len() as isize, out)
    })
  }

  /// A boolean.
  pub fn boolean(&self, value: bool) -> Result<sys::napi_value> {
    self.make("creating a boolean", |out| unsafe {
      sys::napi_get_boolean(self.env, value, out)
    })
  }

  /// A `Date`.
  pub fn date(&self, epoch_ms: f64) -> Result<sys::napi_value> {
    self.make("creating a date", |out| unsafe {
      sys::napi_create_date(self.env, epoch_ms, out)
    })
  }

  /// `null`.
  pub fn null(&self) -> Result<sys::napi_value> {
    self.make("getting null", |out| unsafe {
      sys::napi_get_null(self.env, out)
    })
  }

  /// `undefined`.
  pub fn undefined(&self) -> Result<sys::napi_value> {
    self.make("getting undefined", |out| unsafe {
      sys::napi_get_undefined(self.env, out)
    })
  }

  /// `target[name] = value`.
  pub fn set(&self, target: sys::napi_value, name: &str, value: sys::napi_value) -> Result<()> {
    let key = CString::new(name).map_err(|_| {
      views_core::error::Error::new(views_core::error::ErrorCode::Internal, "bad key")
    })?;
    // SAFETY: live env, target is an object we created.
    internal(
      unsafe { sys::napi_set_named_property(self.env, target, key.as_ptr(), value) },
      "setting a property",
    )
  }

  /// `target[index] = value`.
  pub fn set_element(
    &self,
    target: sys::napi_value,
    index: u32,
    value: sys::napi_value,
  ) -> Result<()> {
    // SAFETY: live env, target is an array we created.
    internal(
      unsafe { sys::napi_set_element(self.env, target, index, value) },
      "setting an element",
    )
  }

  /// A Promise already resolved with `value`, created on the JS thread (no thread hop).
  pub fn resolved_promise(&self, value: sys::napi_value) -> Result<sys::napi_value> {
    self.settled_promise(value, true)
  }

  /// A Promise already rejected with `reason`.
  pub fn rejected_promise(&self, reason: sys::napi_value) -> Result<sys::napi_value> {
    self.settled_promise(reason, false)
  }

  fn settled_promise(&self, value: sys::napi_value, resolve: bool) -> Result<sys::napi_value> {
    let mut deferred = ptr::null_mut();
    let mut promise = ptr::null_mut();
    // SAFETY: live env; the deferred is settled right away, exactly once.
    unsafe {
      internal(
        sys::napi_create_promise(self.env, &mut deferred, &mut promise),
        "creating a promise",
      )?;
      let status = if resolve {
        sys::napi_resolve_deferred(self.env, deferred, value)
      } else {
        sys::napi_reject_deferred(self.env, deferred, value)
      };
      internal(status, "settling a promise")?;
    }
    Ok(promise)
  }
}
