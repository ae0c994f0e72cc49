//! The napi binding: every `#[napi]` item lives here. It reads JS input strictly, calls the
//! engines and turns results and errors into JS values.

pub mod batch;
pub mod callbacks;
pub mod diagnostics;
pub mod entry;
pub mod errors;
pub mod js;
pub mod logger;
pub mod manager;
pub mod options;
pub mod promise;
pub mod requests;
pub mod setup;
pub mod shapes;
#[cfg(test)]
mod typescript;
pub mod user_agent;
pub mod uuid_cache;
pub mod viewer_counters;
pub mod viewer_stats;
pub mod views;
