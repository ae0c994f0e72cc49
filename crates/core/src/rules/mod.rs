//! Pure logic of PeerTube's views subsystem: no I/O, no napi, no clock (callers pass `now`).

pub mod counters;
pub mod duration;
pub mod expiring_set;
pub mod fxhash;
pub mod identity;
pub mod json;
pub mod keys;
pub mod local_time;
pub mod options;
pub mod sections;
pub mod session;
pub mod shape;
pub mod stats;
pub mod time;
pub mod types;
pub mod user_agent;
pub mod validate;
pub mod version;
pub mod views;
