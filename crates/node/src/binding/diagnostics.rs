//! Process-wide diagnostics.
// In `cargo test` builds napi does not register exports, so these look unused there.
#![cfg_attr(test, allow(dead_code))]

use napi_derive::napi;

/// Native (C heap) memory of the process.
#[napi(object)]
pub struct NativeMemory {
  /// Bytes of the C heap in use (glibc `mallinfo2`), or `null` where the C library cannot tell.
  pub heap_in_use: Option<f64>,
}

/// Native memory in use in this process: what the engines hold outside the V8 heap (plus any
/// other native allocation). `process.memoryUsage()` does not show it except through `rss`.
#[napi(catch_unwind)]
pub fn get_native_memory() -> NativeMemory {
  NativeMemory {
    heap_in_use: views_core::engine::memory::native_heap_in_use().map(|b| b as f64),
  }
}
