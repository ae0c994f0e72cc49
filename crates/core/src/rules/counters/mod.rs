//! Concurrent viewer counters (B17-B24), with totals maintained
//! incrementally: a join, a total per video and a total per scope all cost O(1).
//!
//! Fixes over PeerTube 6.1 (decision D3): remote viewers are deduplicated by id on local and
//! remote videos (Q8), and replacing the viewers of a remote video forgets their ids (Q9).

use super::fxhash::FxBuild;
use super::session::SessionKey;
pub use super::types::{Scope, VideoInfo};
use std::collections::HashMap;
use std::sync::Arc;

/// A View activity the host must send (ActivityPub).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewerView {
  /// The video.
  pub video: VideoInfo,
  /// Viewers this View stands for (1 for one viewer, the total for an origin's summary);
  /// `None` for the plain View of a counted view.
  pub viewers_count: Option<u64>,
  /// Last part of the View id: the viewer id, or the video uuid for a total.
  pub viewer_identifier: Arc<str>,
}

/// A viewer entry's identity. Local viewers are keyed by video and packed session (their
/// PeerTube id `{sessionId}-{uuid}` is only built when federated); remote viewers by the id of
/// their View activity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ViewerKey {
  /// A viewer of this instance.
  Local(u64, SessionKey),
  /// A viewer another instance told us about.
  Remote(Arc<str>),
}

/// What an add did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddOutcome {
  /// A new entry was created (PeerTube's return value).
  pub added: bool,
  /// The video's total after the add, when clients must be notified (new entries only).
  pub notify_total: Option<u64>,
  /// A View to federate, if any.
  pub federate: Option<ViewerView>,
}

struct Entry {
  expires: u64,
  viewer_scope: Scope,
  count: u64,
  last_federation: Option<u64>,
}

struct VideoViewers {
  video: VideoInfo,
  entries: HashMap<ViewerKey, Entry, FxBuild>,
  total: u64,
}

/// Counts `count` more viewers of `viewer_scope` on the video of `viewers`: in its total and in
/// `totals` (viewer scope x video scope). Returns the video's new total.
fn count_in(
  totals: &mut [[u64; 2]; 2],
  viewers: &mut VideoViewers,
  viewer_scope: Scope,
  count: u64,
) -> u64 {
  viewers.total = viewers.total.saturating_add(count);
  let slot = &mut totals[viewer_scope.index()][viewers.video.scope().index()];
  *slot = slot.saturating_add(count);
  viewers.total
}

/// Per-video viewer entries, with running totals.
pub struct Counters {
  lifetime_ms: u64,
  federation_v2: bool,
  videos: HashMap<u64, VideoViewers, FxBuild>,
  /// Remote viewer id -> video id (PeerTube's `idToViewer`). Local keys embed their video id,
  /// so they need no entry here.
  ids: HashMap<ViewerKey, u64, FxBuild>,
  /// Entries over every video.
  entry_count: usize,
  /// Sum of counts by `[viewer scope][video scope]`.
  totals: [[u64; 2]; 2],
}

/// One video after a cleanup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CleanedVideo {
  /// The video (as last seen by the counters).
  pub video: VideoInfo,
  /// Its total after the cleanup (0 when every entry expired).
  pub total: u64,
  /// Entries removed.
  pub expired: u64,
}

impl Counters {
  /// Empty counters. `lifetime_ms` is PeerTube's `VIEW_LIFETIME.VIEWER_COUNTER`.
  pub fn new(lifetime_ms: u64, federation_v2: bool) -> Self {
    Counters {
      lifetime_ms,
      federation_v2,
      videos: HashMap::default(),
      ids: HashMap::default(),
      entry_count: 0,
      totals: [[0; 2]; 2],
    }
  }

  /// A local viewer's heartbeat (B17, B23): a new entry, or a refreshed `expires`.
  pub fn add_local_viewer(
    &mut self,
    video: &VideoInfo,
    session: &SessionKey,
    now: u64,
  ) -> AddOutcome {
    let viewer_id = ViewerKey::Local(video.id, session.clone());
    let expires = now.saturating_add(self.lifetime_ms);
    // v2: local viewers of local videos are not federated one by one (no key kept for it).
    let may_federate = video.remote || !self.federation_v2;
    if !may_federate {
      if let Some(viewers) = self
        .videos
        .get_mut(&video.id)
        .filter(|viewers| viewers.video == *video)
      {
        // The common case of a popular local video: one hash of the key, refresh or add.
        return match viewers.entries.entry(viewer_id) {
          std::collections::hash_map::Entry::Occupied(mut entry) => {
            entry.get_mut().expires = expires;
            AddOutcome {
              added: false,
              notify_total: None,
              federate: None,
            }
          }
          std::collections::hash_map::Entry::Vacant(slot) => {
            slot.insert(Entry {
              expires,
              viewer_scope: Scope::Local,
              count: 1,
              last_federation: None,
            });
            self.entry_count += 1;
            AddOutcome {
              added: true,
              notify_total: Some(count_in(&mut self.totals, viewers, Scope::Local, 1)),
              federate: None,
            }
          }
        };
      }
    }
    let (added, notify_total, kept) = if self.refresh(video, &viewer_id, expires) {
      (false, None, Some(viewer_id))
    } else {
      let kept = may_federate.then(|| viewer_id.clone());
      let total = self.insert(video, viewer_id, Scope::Local, 1, expires);
      (true, Some(total), kept)
    };
    let federate = match (may_federate, kept) {
      (true, Some(viewer_id)) => self.federate_if_needed(video, &viewer_id, now),
      _ => None,
    };
    AddOutcome {
      added,
      notify_total,
      federate,
    }
  }

  /// A View with `expires` from another instance on a local video (B18, deduplicated: Q8).
  pub fn add_remote_viewer_on_local_video(
    &mut self,
    video: &VideoInfo,
    viewer_id: &str,
    expires: u64,
  ) -> AddOutcome {
    self.add_remote(video, ViewerKey::Remote(Arc::from(viewer_id)), expires)
  }

  fn add_remote(&mut self, video: &VideoInfo, viewer_id: ViewerKey, expires: u64) -> AddOutcome {
    if self.refresh(video, &viewer_id, expires) {
      return AddOutcome {
        added: false,
        notify_total: None,
        federate: None,
      };
    }
    let total = self.insert(video, viewer_id, Scope::Remote, 1, expires);
    AddOutcome {
      added: true,
      notify_total: Some(total),
      federate: None,
    }
  }

  /// A View with `expires` from another instance on a remote video (B19): with a result
  /// counter (the origin's total) every entry of the video is replaced by one entry carrying
  /// it, and the replaced ids are forgotten (Q9); without one, one viewer is added (deduplicated).
  pub fn add_remote_viewer_on_remote_video(
    &mut self,
    video: &VideoInfo,
    viewer_id: &str,
    expires: u64,
    result_counter: Option<u64>,
  ) -> AddOutcome {
    let viewer_id = ViewerKey::Remote(Arc::from(viewer_id));
    match result_counter {
      Some(count) => {
        self.remove_video(video.id);
        let total = self.insert(video, viewer_id, Scope::Remote, count, expires);
        AddOutcome {
          added: true,
          notify_total: Some(total),
          federate: None,
        }
      }
      None => self.add_remote(video, viewer_id, expires),
    }
  }

  /// Σ counts of the video's entries, including expired ones not yet cleaned (B20).
  pub fn total_of(&self, video_id: u64) -> u64 {
    self.videos.get(&video_id).map_or(0, |v| v.total)
  }

  /// Σ counts over every video for one pair of scopes.
  pub fn total(&self, viewer_scope: Scope, video_scope: Scope) -> u64 {
    self.totals[viewer_scope.index()][video_scope.index()]
  }

  /// Number of entries (viewer ids) tracked.
  pub fn entries(&self) -> usize {
    self.entry_count
  }

  /// Drops entries with `expires <= now` (B21); returns every video that was in the map.
  pub fn clean(&mut self, now: u64) -> Vec<CleanedVideo> {
    let mut cleaned = Vec::with_capacity(self.videos.len());
    let mut emptied = Vec::new();
    for (video_id, viewers) in self.videos.iter_mut() {
      let video_scope = viewers.video.scope().index();
      let before = viewers.entries.len();
      viewers.entries.retain(|id, entry| {
        let keep = entry.expires > now;
        if !keep {
          self.entry_count -= 1;
          if matches!(id, ViewerKey::Remote(_)) {
            self.ids.remove(id);
          }
          viewers.total = viewers.total.saturating_sub(entry.count);
          let slot = &mut self.totals[entry.viewer_scope.index()][video_scope];
          *slot = slot.saturating_sub(entry.count);
        }
        keep
      });
      if viewers.entries.is_empty() {
        emptied.push(*video_id);
      }
      cleaned.push(CleanedVideo {
        video: viewers.video.clone(),
        total: viewers.total,
        expired: (before - viewers.entries.len()) as u64,
      });
    }
    for video_id in emptied {
      self.videos.remove(&video_id);
    }
    cleaned
  }

  /// The origin's periodic summary (v2): local video, at least one viewer.
  pub fn total_to_federate(&self, video: &VideoInfo, total: u64) -> Option<ViewerView> {
    (self.federation_v2 && !video.remote && total > 0).then(|| ViewerView {
      video: video.clone(),
      viewers_count: Some(total),
      viewer_identifier: video.uuid.clone(),
    })
  }

  fn refresh(&mut self, video: &VideoInfo, viewer_id: &ViewerKey, expires: u64) -> bool {
    if matches!(viewer_id, ViewerKey::Remote(_)) && self.ids.get(viewer_id) != Some(&video.id) {
      return false;
    }
    let Some(viewers) = self.videos.get_mut(&video.id) else {
      return false;
    };
    match viewers.entries.get_mut(viewer_id) {
      Some(entry) => {
        entry.expires = expires;
        true
      }
      None => false,
    }
  }

  fn insert(
    &mut self,
    video: &VideoInfo,
    viewer_id: ViewerKey,
    viewer_scope: Scope,
    count: u64,
    expires: u64,
  ) -> u64 {
    // A remote id known for another video is moved (local keys embed their video).
    let remote = matches!(viewer_id, ViewerKey::Remote(_));
    if remote {
      if let Some(previous) = self.ids.get(&viewer_id).copied() {
        self.remove_entry(previous, &viewer_id);
      }
      self.ids.insert(viewer_id.clone(), video.id);
    }
    let viewers = self.videos.entry(video.id).or_insert_with(|| VideoViewers {
      video: video.clone(),
      entries: HashMap::default(),
      total: 0,
    });
    if viewers.video != *video {
      // Keep totals by scope right if the host now says otherwise about the video.
      let old_scope = viewers.video.scope().index();
      let new_scope = video.scope().index();
      for entry in viewers.entries.values() {
        let scope = entry.viewer_scope.index();
        self.totals[scope][old_scope] = self.totals[scope][old_scope].saturating_sub(entry.count);
        self.totals[scope][new_scope] = self.totals[scope][new_scope].saturating_add(entry.count);
      }
      viewers.video = video.clone();
    }
    let replaced = viewers.entries.insert(
      viewer_id,
      Entry {
        expires,
        viewer_scope,
        count,
        last_federation: None,
      },
    );
    match replaced {
      // Callers insert only absent keys; should one be present, its count is replaced.
      Some(old) => {
        viewers.total = viewers.total.saturating_sub(old.count);
        let slot = &mut self.totals[old.viewer_scope.index()][video.scope().index()];
        *slot = slot.saturating_sub(old.count);
      }
      None => self.entry_count += 1,
    }
    count_in(&mut self.totals, viewers, viewer_scope, count)
  }

  fn remove_entry(&mut self, video_id: u64, viewer_id: &ViewerKey) {
    self.ids.remove(viewer_id);
    let Some(viewers) = self.videos.get_mut(&video_id) else {
      return;
    };
    if let Some(entry) = viewers.entries.remove(viewer_id) {
      self.entry_count -= 1;
      viewers.total = viewers.total.saturating_sub(entry.count);
      let slot = &mut self.totals[entry.viewer_scope.index()][viewers.video.scope().index()];
      *slot = slot.saturating_sub(entry.count);
    }
    if viewers.entries.is_empty() {
      self.videos.remove(&video_id);
    }
  }

  fn remove_video(&mut self, video_id: u64) {
    let Some(viewers) = self.videos.remove(&video_id) else {
      return;
    };
    let video_scope = viewers.video.scope().index();
    for (id, entry) in viewers.entries {
      self.entry_count -= 1;
      if matches!(id, ViewerKey::Remote(_)) {
        self.ids.remove(&id);
      }
      let slot = &mut self.totals[entry.viewer_scope.index()][video_scope];
      *slot = slot.saturating_sub(entry.count);
    }
  }

  /// B23: a local viewer is re-federated at most once per `0.75 × lifetime`; in v2 viewers of
  /// local videos are not federated one by one (the periodic total covers them).
  fn federate_if_needed(
    &mut self,
    video: &VideoInfo,
    viewer_id: &ViewerKey,
    now: u64,
  ) -> Option<ViewerView> {
    if !video.remote && self.federation_v2 {
      return None;
    }
    let window = self.lifetime_ms.saturating_mul(3) / 4;
    let entry = self.videos.get_mut(&video.id)?.entries.get_mut(viewer_id)?;
    // PeerTube: skip while `lastFederation > now - window`, i.e. while less than `window` passed.
    if entry
      .last_federation
      .is_some_and(|last| now.saturating_sub(last) < window)
    {
      return None;
    }
    entry.last_federation = Some(now);
    Some(ViewerView {
      video: video.clone(),
      viewers_count: Some(1),
      viewer_identifier: match viewer_id {
        ViewerKey::Local(_, session) => Arc::from(format!("{session}-{}", video.uuid)),
        ViewerKey::Remote(id) => id.clone(),
      },
    })
  }
}

#[cfg(test)]
mod tests;
