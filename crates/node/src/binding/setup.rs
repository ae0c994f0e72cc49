//! Options shared by every class: `logger`, `redis`, `webserverHost`, and [`HostCallOptions`].

use super::js::Js;
use super::logger::read_logger;
use super::options;
use std::sync::Arc;
use views_core::engine::options::HostCallOptions;
use views_core::error::Result;
use views_core::log::Logger;
use views_core::rules::keys::redis_prefix;
use views_core::store::RedisConnection;

/// What every engine of one object shares.
pub struct Shared {
  /// The injected logger.
  pub logger: Logger,
  /// `redis-{webserverHost}-`.
  pub prefix: String,
  /// One Redis connection for all engines.
  pub connection: Arc<RedisConnection>,
  /// `autoStart` and `callbackTimeout`.
  pub calls: HostCallOptions,
}

/// Reads the shared options of `object` (does not connect).
pub fn read_shared(object: Js) -> Result<Shared> {
  let logger = read_logger(options::prop(object, "logger", "logger")?)?;
  let redis = options::redis_config(options::prop(object, "redis", "redis")?)?;
  let host = options::required_string(object, "webserverHost", 512)?;
  Ok(Shared {
    logger,
    prefix: redis_prefix(&host),
    connection: Arc::new(RedisConnection::new(&redis)?),
    calls: options::read_options(object)?,
  })
}

/// Reads only the logger and the shared options (engines without Redis).
pub fn read_logger_and_calls(object: Js) -> Result<(Logger, HostCallOptions)> {
  Ok((
    read_logger(options::prop(object, "logger", "logger")?)?,
    options::read_options(object)?,
  ))
}

/// A callback option turned into a host function; any failure is an `INVALID_ARGUMENT`.
pub fn usable(name: &str, err: napi::Error) -> views_core::error::Error {
  views_core::error::Error::invalid_type(name, &format!("a usable function ({})", err.reason))
}
