//! One multiplexed connection shared by every caller, re-established after failures.
//!
//! A dropped connection (Redis restart, Sentinel failover making the old master read-only) is
//! discarded and the next command reconnects; for Sentinel, reconnecting asks the sentinels for
//! the current master. After a failed connection attempt, commands fail fast for
//! [`RECONNECT_BACKOFF`] instead of piling up connection attempts.

use super::config::{RedisConfig, TlsConfig};
use crate::error::{Error, Result};
use redis::aio::MultiplexedConnection;
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
  AsyncConnectionConfig, Client, ClientTlsConfig, ConnectionAddr, ConnectionInfo,
  IntoConnectionInfo, RedisConnectionInfo, TlsCertificates, TlsMode,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long commands fail fast after a failed connection attempt.
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(250);

enum Target {
  // Boxed: a TLS client carries its certificates inline.
  Direct(Box<Client>),
  Sentinel(Box<tokio::sync::Mutex<SentinelClient>>),
}

/// A lazily (re)connected Redis connection.
pub struct RedisConnection {
  target: Target,
  config: AsyncConnectionConfig,
  current: Mutex<Option<MultiplexedConnection>>,
  connecting: tokio::sync::Mutex<Option<Instant>>,
  /// Connections established so far.
  connections: AtomicU64,
  description: String,
}

impl RedisConnection {
  /// Validates the configuration; does not connect yet.
  pub fn new(config: &RedisConfig) -> Result<Self> {
    let redis_info = {
      let mut info = RedisConnectionInfo::default().set_db(config.db);
      if let Some(auth) = config.auth.as_deref().filter(|a| !a.is_empty()) {
        info = info.set_password(auth);
      }
      info.set_lib_name("peertube-native-views", env!("CARGO_PKG_VERSION"))
    };
    let (target, description) = if let Some(sentinel) = &config.sentinel {
      if sentinel.sentinels.is_empty() || sentinel.master_name.is_empty() {
        return Err(Error::invalid_range(
          "redis.sentinel",
          "needs master_name and at least one sentinel",
        ));
      }
      let addrs = sentinel
        .sentinels
        .iter()
        .map(|(host, port)| tcp_addr(host, *port, sentinel.tls.as_ref()));
      let mut builder =
        SentinelClientBuilder::new(addrs, &sentinel.master_name, SentinelServerType::Master)
          .map_err(|e| Error::invalid_range("redis.sentinel", e))?
          .set_client_to_redis_db(config.db);
      if let Some(tls) = &sentinel.tls {
        builder = builder
          .set_client_to_sentinel_tls_mode(tls_mode(tls))
          .set_client_to_sentinel_certificates(certificates(tls));
      }
      if let Some(tls) = &config.tls {
        builder = builder
          .set_client_to_redis_tls_mode(tls_mode(tls))
          .set_client_to_redis_certificates(certificates(tls));
      }
      if let Some(auth) = config.auth.as_deref().filter(|a| !a.is_empty()) {
        builder = builder.set_client_to_redis_password(auth);
      }
      let sentinel_password = sentinel.password.as_deref().or(config.auth.as_deref());
      if let Some(password) = sentinel_password.filter(|p| !p.is_empty()) {
        builder = builder.set_client_to_sentinel_password(password);
      }
      if config.tls.is_some() || sentinel.tls.is_some() {
        install_crypto_provider();
      }
      let client = builder
        .build()
        .map_err(|e| Error::invalid_range("redis.sentinel", e))?;
      (
        Target::Sentinel(Box::new(tokio::sync::Mutex::new(client))),
        format!("sentinel master '{}'", sentinel.master_name),
      )
    } else {
      let (addr, description) = match (&config.socket, &config.hostname, config.port) {
        (Some(socket), _, _) if !socket.is_empty() => (
          ConnectionAddr::Unix(socket.into()),
          format!("unix:{socket}"),
        ),
        (_, Some(host), Some(port)) if !host.is_empty() => (
          tcp_addr(host, port, config.tls.as_ref()),
          format!(
            "{}{host}:{port}",
            if config.tls.is_some() { "tls:" } else { "" }
          ),
        ),
        _ => {
          return Err(Error::invalid_range(
            "redis",
            "needs either socket, or hostname and port",
          ))
        }
      };
      let info: ConnectionInfo = addr
        .into_connection_info()
        .map_err(|e| Error::invalid_range("redis", e))?
        .set_redis_settings(redis_info);
      let client = match &config.tls {
        Some(tls) if config.socket.as_deref().is_none_or(str::is_empty) => {
          install_crypto_provider();
          Client::build_with_tls(info, certificates(tls))
        }
        _ => Client::open(info),
      }
      .map_err(|e| Error::invalid_range("redis", e))?;
      (Target::Direct(Box::new(client)), description)
    };
    Ok(RedisConnection {
      target,
      config: AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(config.connect_timeout_ms)))
        .set_response_timeout(Some(Duration::from_millis(config.response_timeout_ms))),
      current: Mutex::new(None),
      connecting: tokio::sync::Mutex::new(None),
      connections: AtomicU64::new(0),
      description,
    })
  }

  /// How many connections were established so far: a change means the connection was lost
  /// and re-established, possibly to a Redis that lost data (restart without persistence,
  /// Sentinel failover before replication caught up).
  pub fn connections(&self) -> u64 {
    self.connections.load(Ordering::Acquire)
  }

  /// A connection handle (cheap clone of the shared multiplexed connection).
  pub async fn get(&self) -> Result<MultiplexedConnection> {
    if let Some(conn) = self.cached() {
      return Ok(conn);
    }
    let mut last_failure = self.connecting.lock().await;
    if let Some(conn) = self.cached() {
      return Ok(conn);
    }
    if let Some(at) = *last_failure {
      if at.elapsed() < RECONNECT_BACKOFF {
        return Err(Error::redis(
          &format!("Redis {} unavailable", self.description),
          "last connection attempt failed moments ago",
        ));
      }
    }
    let connected = match &self.target {
      Target::Direct(client) => {
        client
          .get_multiplexed_async_connection_with_config(&self.config)
          .await
      }
      Target::Sentinel(sentinel) => {
        sentinel
          .lock()
          .await
          .get_async_connection_with_config(&self.config)
          .await
      }
    };
    match connected {
      Ok(conn) => {
        *last_failure = None;
        self.connections.fetch_add(1, Ordering::AcqRel);
        if let Ok(mut current) = self.current.lock() {
          *current = Some(conn.clone());
        }
        Ok(conn)
      }
      Err(err) => {
        *last_failure = Some(Instant::now());
        Err(Error::redis(
          &format!("Cannot connect to Redis {}", self.description),
          err,
        ))
      }
    }
  }

  /// Runs `f` with a connection; a connection-level failure discards the connection.
  pub async fn run<T, F, Fut>(&self, context: &str, f: F) -> Result<T>
  where
    F: FnOnce(MultiplexedConnection) -> Fut,
    Fut: std::future::Future<Output = redis::RedisResult<T>>,
  {
    let conn = self.get().await?;
    match f(conn).await {
      Ok(value) => Ok(value),
      Err(err) => {
        if must_reconnect(&err) {
          self.discard();
        }
        Err(Error::redis(context, err))
      }
    }
  }

  fn cached(&self) -> Option<MultiplexedConnection> {
    self.current.lock().ok().and_then(|c| c.clone())
  }

  fn discard(&self) {
    if let Ok(mut current) = self.current.lock() {
      *current = None;
    }
  }
}

/// A TCP address, over TLS when `tls` is given (`reject_unauthorized: false` skips the
/// certificate and name checks, as Node's TLS does).
fn tcp_addr(host: &str, port: u16, tls: Option<&TlsConfig>) -> ConnectionAddr {
  match tls {
    None => ConnectionAddr::Tcp(host.to_string(), port),
    Some(tls) => ConnectionAddr::TcpTls {
      host: host.to_string(),
      port,
      insecure: !tls.reject_unauthorized,
      tls_params: None,
    },
  }
}

fn tls_mode(tls: &TlsConfig) -> TlsMode {
  if tls.reject_unauthorized {
    TlsMode::Secure
  } else {
    TlsMode::Insecure
  }
}

/// The CA and client certificate of `tls`, as redis-rs takes them (no CA: the system's roots).
fn certificates(tls: &TlsConfig) -> TlsCertificates {
  TlsCertificates {
    client_tls: tls.client.as_ref().map(|(cert, key)| ClientTlsConfig {
      client_cert: cert.clone(),
      client_key: key.clone(),
    }),
    root_cert: tls.ca.clone(),
  }
}

/// rustls needs a process-wide crypto provider; `ring` is the one compiled in. Another
/// library of the process may have installed one first, which is as good.
fn install_crypto_provider() {
  let _ = rustls::crypto::ring::default_provider().install_default();
}

fn must_reconnect(err: &redis::RedisError) -> bool {
  err.is_io_error()
    || err.is_timeout()
    || err.is_connection_dropped()
    || err.is_connection_refusal()
    || err.is_unrecoverable_error()
    || err.code() == Some("READONLY")
    || err.code() == Some("LOADING")
    || err.code() == Some("MASTERDOWN")
}
