//! What the engines need from the host (PeerTube's JavaScript): persistence and federation.

use crate::core::sections::WatchSection;
use crate::error::Result;
use std::future::Future;
use std::sync::Arc;

/// An expired viewer handed to the host for persistence (`localVideoViewer` row + sections).
#[derive(Clone, Debug, PartialEq)]
pub struct ViewerRecord {
  /// Local video id.
  pub video_id: u64,
  /// Viewer identity (session id or hashed IP).
  pub session_id: String,
  /// First heartbeat (ms since the epoch): the row's `startDate`.
  pub first_updated: u64,
  /// Last heartbeat: the row's `endDate`.
  pub last_updated: u64,
  /// Watched sections.
  pub watch_sections: Vec<WatchSection>,
  /// Sum of the sections, in seconds.
  pub watch_time: u64,
  /// Country ISO code.
  pub country: Option<Arc<str>>,
  /// Subdivision English name.
  pub subdivision_name: Option<Arc<str>>,
}

/// Persistence of viewer stats.
pub trait StatsHost: Send + Sync + 'static {
  /// Stores each viewer of a batch (the host stores them one by one, concurrently): one outcome
  /// per record, in order; `Ok` means stored and the engine then deletes it from Redis. An outer
  /// `Err` means the batch could not run at all (every record counts as failed).
  fn save_viewer_stats(
    &self,
    records: Vec<ViewerRecord>,
  ) -> impl Future<Output = Result<Vec<Result<()>>>> + Send;
}
