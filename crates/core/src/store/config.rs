//! PeerTube's `redis` configuration section (D5), with PeerTube 8's TLS settings.

use crate::error::{Error, Result};

/// TLS settings (`enable_tls: true` with `tls_settings`, for Redis or for the sentinels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
  /// Verify the server's certificate and name (`reject_unauthorized`, default `true`).
  pub reject_unauthorized: bool,
  /// CA certificates, PEM (`ca`); `None`: the system's roots.
  pub ca: Option<Vec<u8>>,
  /// Client certificate and key, PEM (`cert` and `key`, both or neither): mutual TLS.
  pub client: Option<(Vec<u8>, Vec<u8>)>,
}

impl Default for TlsConfig {
  fn default() -> Self {
    TlsConfig {
      reject_unauthorized: true,
      ca: None,
      client: None,
    }
  }
}

/// A `tls_settings` value: PEM text as it is, anything else the path of a PEM file (PeerTube's
/// YAML may hold either).
pub fn pem_or_file(field: &str, value: &str) -> Result<Vec<u8>> {
  if value.contains("-----BEGIN") {
    return Ok(value.as_bytes().to_vec());
  }
  std::fs::read(value).map_err(|e| {
    Error::invalid_range(
      field,
      format!("is neither PEM text nor a readable file ({value}: {e})"),
    )
  })
}

/// Sentinel settings: `redis.sentinel` in PeerTube's YAML.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentinelConfig {
  /// Name of the monitored master (`master_name`).
  pub master_name: String,
  /// Sentinel nodes (`sentinels: [{ hostname, port }]`).
  pub sentinels: Vec<(String, u16)>,
  /// Password of the sentinels (`redis.sentinel.password`, PeerTube 8); defaults to `redis.auth`.
  pub password: Option<String>,
  /// TLS to the sentinels (`redis.sentinel.enable_tls`, `redis.sentinel.tls_settings`).
  pub tls: Option<TlsConfig>,
}

/// Where and how to connect.
#[derive(Clone, Debug, PartialEq)]
pub struct RedisConfig {
  /// Host name or IP (`redis.hostname`).
  pub hostname: Option<String>,
  /// TCP port (`redis.port`).
  pub port: Option<u16>,
  /// Unix socket path (`redis.socket`); used when set.
  pub socket: Option<String>,
  /// Password (`redis.auth`).
  pub auth: Option<String>,
  /// Database number (`redis.db`).
  pub db: i64,
  /// Sentinel mode (`redis.sentinel.enabled`).
  pub sentinel: Option<SentinelConfig>,
  /// TLS to Redis, the master in Sentinel mode (`redis.enable_tls`, `redis.tls_settings`).
  pub tls: Option<TlsConfig>,
  /// Connection timeout in ms.
  pub connect_timeout_ms: u64,
  /// Timeout of one command (or one pipeline) in ms.
  pub response_timeout_ms: u64,
}

impl Default for RedisConfig {
  fn default() -> Self {
    RedisConfig {
      hostname: Some("127.0.0.1".into()),
      port: Some(6379),
      socket: None,
      auth: None,
      db: 0,
      sentinel: None,
      tls: None,
      connect_timeout_ms: 5_000,
      response_timeout_ms: 10_000,
    }
  }
}
