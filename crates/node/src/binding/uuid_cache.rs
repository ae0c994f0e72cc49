//! The video uuid last read from JS, kept to be shared: the heartbeats of a popular video all
//! carry the same uuid, and reusing it saves two allocations per call.

use std::sync::{Arc, Mutex};

/// One cached uuid (the last one seen).
#[derive(Default)]
pub struct UuidCache(Mutex<Option<Arc<str>>>);

impl UuidCache {
  /// `text` as a shared string: the cached one when equal, else a new one that is cached.
  pub fn get(&self, text: &str) -> Arc<str> {
    let Ok(mut last) = self.0.lock() else {
      return Arc::from(text);
    };
    match last.as_ref() {
      Some(uuid) if **uuid == *text => uuid.clone(),
      _ => {
        let uuid: Arc<str> = Arc::from(text);
        *last = Some(uuid.clone());
        uuid
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn shares_equal_uuids_and_replaces_others() {
    let cache = UuidCache::default();
    let a = cache.get("a");
    assert!(Arc::ptr_eq(&a, &cache.get("a")));
    let b = cache.get("b");
    assert_eq!(&*b, "b");
    assert!(!Arc::ptr_eq(&a, &cache.get("a")));
  }
}
