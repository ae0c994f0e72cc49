//! peertube-native-views: PeerTube's view and viewer pipeline as a Node native addon.
//!
//! Layers: [`core`] (pure rules, no I/O), [`geoip`], [`store`] (Redis), [`engine`] (state, cache,
//! timers, host calls) and `binding` (every `#[napi]` item).
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod binding;
pub mod core;
pub mod engine;
pub mod error;
pub mod geoip;
pub mod log;
pub mod store;
