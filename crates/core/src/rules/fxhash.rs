//! The Fx hash (rustc's): a fast non-cryptographic hasher for in-process maps whose keys come
//! from validated input. Maps keyed by it never leave the process.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// Rustc's FxHasher.
#[derive(Default, Clone, Copy)]
pub struct FxHasher {
  hash: u64,
}

impl FxHasher {
  #[inline]
  fn add(&mut self, word: u64) {
    self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
  }
}

impl Hasher for FxHasher {
  #[inline]
  fn write(&mut self, bytes: &[u8]) {
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
      let mut word = [0u8; 8];
      word.copy_from_slice(chunk);
      self.add(u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
      let mut word = [0u8; 8];
      word[..rest.len()].copy_from_slice(rest);
      self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
    }
  }

  #[inline]
  fn write_u8(&mut self, i: u8) {
    self.add(u64::from(i));
  }

  #[inline]
  fn write_u32(&mut self, i: u32) {
    self.add(u64::from(i));
  }

  #[inline]
  fn write_u64(&mut self, i: u64) {
    self.add(i);
  }

  #[inline]
  fn write_usize(&mut self, i: usize) {
    self.add(i as u64);
  }

  #[inline]
  fn finish(&self) -> u64 {
    self.hash
  }
}

/// `HashMap`/`HashSet` builder for [`FxHasher`].
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// 64-bit Fx hash of a string (used to remember Redis members compactly).
pub fn hash_str(text: &str) -> u64 {
  let mut hasher = FxHasher::default();
  hasher.write(text.as_bytes());
  hasher.finish()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn distinct_and_stable() {
    assert_eq!(
      hash_str("local-video-viewer-stats-a-1"),
      hash_str("local-video-viewer-stats-a-1")
    );
    assert_ne!(
      hash_str("local-video-viewer-stats-a-1"),
      hash_str("local-video-viewer-stats-a-2")
    );
    assert_ne!(hash_str("ab"), hash_str("ab\0"));
  }
}
