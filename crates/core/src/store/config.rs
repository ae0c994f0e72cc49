//! PeerTube's `redis` configuration section (D5).

/// Sentinel settings: `redis.sentinel` in PeerTube's YAML.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SentinelConfig {
  /// Name of the monitored master (`master_name`).
  pub master_name: String,
  /// Sentinel nodes (`sentinels: [{ hostname, port }]`).
  pub sentinels: Vec<(String, u16)>,
  /// Password of the sentinels; PeerTube sends `redis.auth` there (defaults to it).
  pub password: Option<String>,
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
      connect_timeout_ms: 5_000,
      response_timeout_ms: 10_000,
    }
  }
}
