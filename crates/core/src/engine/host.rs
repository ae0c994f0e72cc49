//! What the engines need from the host (PeerTube's JavaScript): persistence and federation.

use crate::error::Result;
use crate::rules::types::ViewerRecord;
use std::future::Future;

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
