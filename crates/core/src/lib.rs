//! PeerTube's view and viewer pipeline without Node: the core crate of `peertube-native-views`.
//! Its `Cargo.toml` has no napi dependency, so nothing here can depend on the binding.
//!
//! Layers, each depending only on those before it: [`rules`] (pure rules, no I/O), [`error`] and
//! [`log`], [`geoip`], [`store`] (Redis), [`engine`] (state, cache, timers, host calls behind
//! traits). See `docs/ARCHITECTURE.md`.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod engine;
pub mod error;
pub mod geoip;
pub mod log;
pub mod rules;
pub mod store;
