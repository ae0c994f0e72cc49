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
