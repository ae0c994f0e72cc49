//! Stateful engines: the cache, write-behind sync, timers and host calls. No napi here either;
//! host callbacks come in through traits that the binding implements with JS functions.

pub mod clock;
pub mod host;
pub mod lease_token;
pub mod manager;
pub mod memory;
pub mod options;
pub mod outgoing;
pub mod user_agents;
pub mod viewer_counters;
pub mod viewer_stats;
pub mod views;
