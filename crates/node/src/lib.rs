//! peertube-native-views: PeerTube's view and viewer pipeline as a Node native addon.
//!
//! This crate is the binding only: every `#[napi]` item lives in [`binding`], over the engines
//! of the core crate (`views_core`). See `docs/ARCHITECTURE.md`.
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod binding;
