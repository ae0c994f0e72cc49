//! One transaction's viewers on their way to Redis: the members and JSON values it sends
//! (packed, see [`PackedViewers`]) beside the ids its outcome is reported for.

use crate::rules::stats::ViewerStats;
use crate::rules::types::ViewerId;
use crate::store::packed::PackedViewers;

/// What one transaction sends, and whose it is.
pub struct OutgoingChunk {
  /// Members and values, in the order of `ids`.
  pub packed: PackedViewers,
  /// The viewers.
  pub ids: Vec<ViewerId>,
}

impl OutgoingChunk {
  /// Room for `viewers` typical viewers.
  pub fn with_capacity(viewers: usize) -> Self {
    OutgoingChunk {
      packed: PackedViewers::with_capacity(viewers),
      ids: Vec::with_capacity(viewers),
    }
  }

  /// Adds a viewer with its current stats (written as JSON now).
  pub fn push(&mut self, id: &ViewerId, stats: &ViewerStats) {
    self.packed.push(
      |member| id.write_member(member),
      |json| stats.write_json(json),
    );
    self.ids.push(id.clone());
  }

  /// Whether no viewer was added.
  pub fn is_empty(&self) -> bool {
    self.ids.is_empty()
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::rules::session::SessionKey;

  fn id(n: u64) -> ViewerId {
    ViewerId {
      session_id: SessionKey::from(format!("{n:032x}")),
      video_id: n,
    }
  }

  #[test]
  fn keeps_ids_members_and_json_in_order() {
    let mut chunk = OutgoingChunk::with_capacity(1);
    assert!(chunk.is_empty());
    let stats = ViewerStats::new(1_000, 7, None);
    for n in 1..=3 {
      chunk.push(&id(n), &stats);
    }
    assert_eq!(chunk.ids, (1..=3).map(id).collect::<Vec<_>>());
    let sent: Vec<(String, String)> = chunk
      .packed
      .iter()
      .map(|(m, j)| (m.to_string(), j.to_string()))
      .collect();
    let expected: Vec<(String, String)> =
      (1..=3).map(|n| (id(n).member(), stats.to_json())).collect();
    assert_eq!(sent, expected);
  }
}
