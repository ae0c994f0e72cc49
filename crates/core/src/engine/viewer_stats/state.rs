//! The viewer stats engine's state: the cache in front of the store, which viewers must be
//! written, which are being persisted, which members the store is known to hold.

use super::ViewerId;
use crate::rules::fxhash::{FxBuild, FxHasher};
use crate::rules::stats::ViewerStats;
use std::collections::{HashMap, HashSet};
use std::hash::Hasher;

/// Hash of a viewer as a Redis member (`session`, `video`), for the known-member set.
pub(super) fn member_hash(session_id: &str, video_id: u64) -> u64 {
  let mut hasher = FxHasher::default();
  hasher.write(session_id.as_bytes());
  hasher.write_u64(video_id);
  hasher.finish()
}

/// [`member_hash`] of a viewer id, without allocating.
pub(super) fn viewer_hash(id: &ViewerId) -> u64 {
  id.session_id
    .with_str(|session| member_hash(session, id.video_id))
}

pub(super) struct Entry {
  pub(super) stats: ViewerStats,
  /// Must be written to Redis.
  pub(super) dirty: bool,
  /// Created while Redis could not be read: merge with Redis' value before writing.
  pub(super) unverified: bool,
}

#[derive(Default)]
pub(super) struct State {
  pub(super) cache: HashMap<ViewerId, Entry, FxBuild>,
  /// Entries with `dirty` set.
  pub(super) dirty_count: usize,
  /// Viewers claimed by a processing pass.
  pub(super) in_flight: HashSet<ViewerId, FxBuild>,
  /// Hashes of the viewers in Redis ([`member_hash`]) as of the last listing, kept up to date
  /// by this engine; `None` until listed. A cache miss absent from it is a new viewer: no `GET`.
  pub(super) known: Option<HashSet<u64, FxBuild>>,
  /// Hashes listed by the running pass while `known` is `None`: they become `known` when
  /// the listing completes.
  pub(super) listing: Option<HashSet<u64, FxBuild>>,
  /// Persisted viewers whose Redis deletion failed: retried before anything else.
  pub(super) pending_deletes: Vec<ViewerId>,
  /// Set members seen without value in the previous pass.
  pub(super) orphan_candidates: HashSet<String>,
}

impl State {
  pub(super) fn mark_dirty(&mut self, id: &ViewerId) {
    if let Some(entry) = self.cache.get_mut(id) {
      if !entry.dirty {
        entry.dirty = true;
        self.dirty_count += 1;
      }
    }
  }

  /// Whether a viewer that is not cached is known to be absent from Redis.
  pub(super) fn surely_new(&self, id: &ViewerId) -> bool {
    self
      .known
      .as_ref()
      .is_some_and(|known| !known.contains(&viewer_hash(id)))
  }

  /// Puts a claimed viewer back in the cache as its entry, dirty again if it held changes
  /// that never reached Redis; `unverified`: merge with what Redis holds before writing.
  pub(super) fn put_back(&mut self, claim: Claim, unverified: bool) {
    let dirty = claim.was_dirty;
    self.cache.insert(
      claim.id.clone(),
      Entry {
        stats: claim.stats,
        dirty: false,
        unverified,
      },
    );
    if dirty {
      self.mark_dirty(&claim.id);
    }
  }

  /// Viewers whose key Redis now holds (written with `MSETNX`): no merge before writing.
  pub(super) fn mark_verified(&mut self, ids: &[ViewerId]) {
    for id in ids {
      if let Some(entry) = self.cache.get_mut(id) {
        entry.unverified = false;
      }
    }
  }

  /// A member the store holds ([`member_hash`]), just listed.
  pub(super) fn remember_member(&mut self, hash: u64) {
    if let Some(known) = self.known.as_mut().or(self.listing.as_mut()) {
      known.insert(hash);
    }
  }

  pub(super) fn forget_member(&mut self, id: &ViewerId) {
    let hash = viewer_hash(id);
    if let Some(known) = self.known.as_mut() {
      known.remove(&hash);
    }
    if let Some(listing) = self.listing.as_mut() {
      listing.remove(&hash);
    }
  }
}

/// A claimed viewer and what to restore if its persistence fails.
pub(super) struct Claim {
  pub(super) id: ViewerId,
  pub(super) stats: ViewerStats,
  pub(super) was_cached: bool,
  pub(super) was_dirty: bool,
}
