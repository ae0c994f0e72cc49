//! Returning freed memory to the OS after large batches.

use std::sync::atomic::{AtomicBool, Ordering};

/// Batches at least this large trigger [`release_free_memory`].
pub const LARGE_BATCH: u64 = 10_000;

/// glibc keeps freed heap memory (per-thread arenas included) for reuse, so the transient
/// buffers of a 100k-viewer sync would stay in the process RSS; `malloc_trim` gives free pages
/// back. A no-op on other C libraries.
pub fn release_free_memory() {
  #[cfg(all(target_os = "linux", target_env = "gnu"))]
  // SAFETY: malloc_trim only releases memory that is free; it locks the arenas itself.
  unsafe {
    libc::malloc_trim(0);
  }
}

/// Whether a [`release_free_memory_soon`] is running.
static RUNNING: AtomicBool = AtomicBool::new(false);

/// [`release_free_memory`] on a blocking thread, so that the sync or pass that freed the memory
/// resolves without waiting for it (it takes 1-2 ms after a 100k-viewer sync). At most one runs
/// at a time; outside a tokio runtime it runs here.
pub fn release_free_memory_soon() {
  if RUNNING.swap(true, Ordering::AcqRel) {
    return;
  }
  let run = || {
    release_free_memory();
    RUNNING.store(false, Ordering::Release);
  };
  match tokio::runtime::Handle::try_current() {
    Ok(handle) => drop(handle.spawn_blocking(run)),
    Err(_) => run(),
  }
}

/// Bytes of the C heap in use (glibc's `mallinfo2().uordblks`): native memory held by the
/// engines and everything else in the process. `None` where the C library cannot tell.
pub fn native_heap_in_use() -> Option<u64> {
  #[cfg(all(target_os = "linux", target_env = "gnu"))]
  {
    // SAFETY: mallinfo2 only reads allocator statistics.
    let info = unsafe { libc::mallinfo2() };
    Some(info.uordblks as u64 + info.hblkhd as u64)
  }
  #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
  {
    None
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::time::{Duration, Instant};

  #[test]
  fn release_soon_runs_inline_outside_a_runtime_and_in_the_background_inside_one() {
    release_free_memory_soon();
    assert!(!RUNNING.load(Ordering::Acquire), "inline run finished");
    let runtime = tokio::runtime::Builder::new_multi_thread()
      .worker_threads(1)
      .enable_time()
      .build()
      .unwrap();
    runtime.block_on(async {
      release_free_memory_soon();
      let deadline = Instant::now() + Duration::from_secs(5);
      while RUNNING.load(Ordering::Acquire) {
        assert!(Instant::now() < deadline, "background trim never finished");
        tokio::time::sleep(Duration::from_millis(1)).await;
      }
    });
  }
}
