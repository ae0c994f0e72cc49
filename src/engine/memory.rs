//! Returning freed memory to the OS after large batches.

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
