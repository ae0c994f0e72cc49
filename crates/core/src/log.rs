//! Logging through a host-provided logger (PeerTube's winston). Nothing is ever printed.

use crate::error::Cause;
use std::sync::Arc;

/// Log levels, ordered from the most verbose.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
  /// Details useful while debugging.
  Debug,
  /// Normal but significant events.
  Info,
  /// Something went wrong and was handled (retried, skipped).
  Warn,
  /// Something went wrong and needs attention.
  Error,
}

/// A log record's extra fields, winston style: `{ tags: ['views', uuid?], ...fields, err? }`.
#[derive(Clone, Default)]
pub struct Meta {
  /// Extra tag after `'views'` (PeerTube tags logs with the video uuid).
  pub video_uuid: Option<String>,
  /// Extra fields, as JSON.
  pub fields: serde_json::Map<String, serde_json::Value>,
  /// The original error (a JS error from a host callback, for instance).
  pub err: Option<Cause>,
}

impl Meta {
  /// Meta with one field.
  pub fn field(name: &str, value: impl Into<serde_json::Value>) -> Self {
    Meta::default().and(name, value)
  }

  /// Adds a field.
  pub fn and(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
    self.fields.insert(name.to_string(), value.into());
    self
  }

  /// Attaches the original error.
  pub fn with_err(mut self, err: Option<Cause>) -> Self {
    self.err = err;
    self
  }
}

/// Where log records go.
pub trait LogSink: Send + Sync {
  /// Whether records at `level` are wanted (so callers can skip building them).
  fn enabled(&self, level: Level) -> bool;
  /// Writes one record.
  fn log(&self, level: Level, message: &str, meta: Meta);
}

/// A sink that drops everything (no logger configured).
pub struct NoLog;

impl LogSink for NoLog {
  fn enabled(&self, _: Level) -> bool {
    false
  }
  fn log(&self, _: Level, _: &str, _: Meta) {}
}

/// Shared logger handle.
#[derive(Clone)]
pub struct Logger(Arc<dyn LogSink>);

impl Logger {
  /// Wraps a sink.
  pub fn new(sink: Arc<dyn LogSink>) -> Self {
    Logger(sink)
  }

  /// A logger that drops everything.
  pub fn none() -> Self {
    Logger(Arc::new(NoLog))
  }

  /// Logs `message` if `level` is enabled; `meta` is only built in that case.
  pub fn log(&self, level: Level, message: &str, meta: impl FnOnce() -> Meta) {
    if self.0.enabled(level) {
      self.0.log(level, message, meta());
    }
  }

  /// Debug record.
  pub fn debug(&self, message: &str, meta: impl FnOnce() -> Meta) {
    self.log(Level::Debug, message, meta)
  }
  /// Info record.
  pub fn info(&self, message: &str, meta: impl FnOnce() -> Meta) {
    self.log(Level::Info, message, meta)
  }
  /// Warning record.
  pub fn warn(&self, message: &str, meta: impl FnOnce() -> Meta) {
    self.log(Level::Warn, message, meta)
  }
  /// Error record.
  pub fn error(&self, message: &str, meta: impl FnOnce() -> Meta) {
    self.log(Level::Error, message, meta)
  }
}
