//! The one error type of the crate. The binding layer turns it into a JS error whose `code`
//! property is [`ErrorCode::as_str`]; nothing here depends on napi.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// Stable error codes, exposed to JavaScript as `err.code`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
  /// Bad input from the caller (wrong type, out of range, malformed). Nothing was changed.
  InvalidArgument,
  /// Redis could not be reached or answered with an error.
  RedisUnavailable,
  /// A host (JavaScript) callback threw, rejected or timed out.
  CallbackFailed,
  /// The engine was closed with `close()`.
  Closed,
  /// A bug: an invariant did not hold. Never expected.
  Internal,
}

impl ErrorCode {
  /// The string stored in `err.code`.
  pub fn as_str(self) -> &'static str {
    match self {
      ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
      ErrorCode::RedisUnavailable => "REDIS_UNAVAILABLE",
      ErrorCode::CallbackFailed => "CALLBACK_FAILED",
      ErrorCode::Closed => "CLOSED",
      ErrorCode::Internal => "INTERNAL",
    }
  }
}

/// Which JavaScript error class an invalid argument maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgumentErrorKind {
  /// The value has the wrong type (`TypeError`).
  Type,
  /// The value has the right type but is out of range or malformed (`RangeError`).
  Range,
}

/// An opaque cause carried along an error (the binding stores the original JS error here).
pub type Cause = Arc<dyn Any + Send + Sync>;

/// The crate's error.
#[derive(Clone)]
pub struct Error {
  /// Stable code.
  pub code: ErrorCode,
  /// Human readable message.
  pub message: String,
  /// For `InvalidArgument`: the JS error class to use.
  pub argument_kind: ArgumentErrorKind,
  /// The original error, if any (a JS error from a host callback, a Redis error message...).
  pub cause: Option<Cause>,
}

impl Error {
  /// A `TypeError` naming `field`.
  pub fn invalid_type(field: &str, expected: &str) -> Self {
    Error {
      code: ErrorCode::InvalidArgument,
      message: format!("{field} must be {expected}"),
      argument_kind: ArgumentErrorKind::Type,
      cause: None,
    }
  }

  /// A `RangeError` naming `field`.
  pub fn invalid_range(field: &str, detail: impl fmt::Display) -> Self {
    Error {
      code: ErrorCode::InvalidArgument,
      message: format!("{field} {detail}"),
      argument_kind: ArgumentErrorKind::Range,
      cause: None,
    }
  }

  /// Any other error.
  pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
    Error {
      code,
      message: message.into(),
      argument_kind: ArgumentErrorKind::Type,
      cause: None,
    }
  }

  /// Attaches an opaque cause.
  pub fn with_cause(mut self, cause: Cause) -> Self {
    self.cause = Some(cause);
    self
  }

  /// Redis failure.
  pub fn redis(context: &str, err: impl fmt::Display) -> Self {
    Error::new(ErrorCode::RedisUnavailable, format!("{context}: {err}"))
  }
}

impl fmt::Debug for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "{}: {}", self.code.as_str(), self.message)
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.message)
  }
}

impl std::error::Error for Error {}

/// Crate result.
pub type Result<T> = std::result::Result<T, Error>;
