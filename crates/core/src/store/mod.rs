//! Redis access: connection (standalone, unix socket or Sentinel) and the commands of each
//! subsystem, with PeerTube's key prefix applied.

pub mod config;
pub mod connection;
pub mod memory;
pub mod packed;
pub mod stats_store;
pub mod viewer_stats;
pub mod views;

pub use config::{RedisConfig, SentinelConfig, TlsConfig};
pub use connection::RedisConnection;
