//! Watch sections of one viewer (spec B6-B8).

/// A watched range of the video, in integer seconds. `end >= start` always holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchSection {
  /// Where the section starts.
  pub start: u32,
  /// Where the section ends (moves with the heartbeats, possibly backwards down to `start`).
  pub end: u32,
}

/// The optional player event sent with a heartbeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewEvent {
  /// The viewer jumped to another position: a new section starts.
  Seek,
}

/// Applies one heartbeat at `current_time` to `sections`, exactly as PeerTube does:
/// - a `seek`, or no section yet: a new section `[t, t]`;
/// - the last section starts after `t` (the viewer went back): a new section `[t, t]`;
/// - otherwise the last section now ends at `t`.
pub fn apply_heartbeat(
  sections: &mut Vec<WatchSection>,
  current_time: u32,
  event: Option<ViewEvent>,
) {
  let new_section = WatchSection {
    start: current_time,
    end: current_time,
  };
  match sections.last_mut() {
    Some(last) if event.is_none() && last.start <= current_time => last.end = current_time,
    _ => sections.push(new_section),
  }
}

/// Watch time in seconds: the sum of `end - start` over all sections (B7).
pub fn watch_time(sections: &[WatchSection]) -> u64 {
  sections
    .iter()
    .map(|s| u64::from(s.end.saturating_sub(s.start)))
    .sum()
}

#[cfg(test)]
mod tests {
  use super::*;
  use proptest::prelude::*;

  fn s(start: u32, end: u32) -> WatchSection {
    WatchSection { start, end }
  }

  #[test]
  fn first_heartbeat_opens_a_section() {
    let mut v = vec![];
    apply_heartbeat(&mut v, 7, None);
    assert_eq!(v, vec![s(7, 7)]);
  }

  #[test]
  fn heartbeats_extend_the_last_section() {
    let mut v = vec![];
    for t in [0, 5, 10, 15] {
      apply_heartbeat(&mut v, t, None);
    }
    assert_eq!(v, vec![s(0, 15)]);
    assert_eq!(watch_time(&v), 15);
  }

  #[test]
  fn seek_opens_a_new_section() {
    let mut v = vec![];
    apply_heartbeat(&mut v, 0, None);
    apply_heartbeat(&mut v, 5, None);
    apply_heartbeat(&mut v, 30, Some(ViewEvent::Seek));
    apply_heartbeat(&mut v, 35, None);
    assert_eq!(v, vec![s(0, 5), s(30, 35)]);
    assert_eq!(watch_time(&v), 10);
  }

  #[test]
  fn going_back_before_the_start_opens_a_new_section() {
    let mut v = vec![s(10, 20)];
    apply_heartbeat(&mut v, 4, None);
    assert_eq!(v, vec![s(10, 20), s(4, 4)]);
  }

  #[test]
  fn end_can_move_backwards_down_to_start() {
    let mut v = vec![s(10, 20)];
    apply_heartbeat(&mut v, 12, None);
    assert_eq!(v, vec![s(10, 12)]);
    apply_heartbeat(&mut v, 10, None);
    assert_eq!(v, vec![s(10, 10)]);
    assert_eq!(watch_time(&v), 0);
  }

  proptest! {
    #[test]
    fn sections_are_never_inverted_and_watch_time_is_their_sum(
      beats in proptest::collection::vec((0u32..10_000, any::<bool>()), 1..200)
    ) {
      let mut v = vec![];
      for (t, seek) in &beats {
        let before = v.len();
        apply_heartbeat(&mut v, *t, seek.then_some(ViewEvent::Seek));
        prop_assert!(v.len() == before || v.len() == before + 1);
        let last = v.last().copied().unwrap_or(s(0, 0));
        prop_assert_eq!(last.end, *t);
      }
      prop_assert!(v.iter().all(|x| x.start <= x.end));
      let sum: u64 = v.iter().map(|x| u64::from(x.end - x.start)).sum();
      prop_assert_eq!(watch_time(&v), sum);
      let seeks = beats.iter().skip(1).filter(|(_, seek)| *seek).count();
      prop_assert!(v.len() > seeks);
    }
  }
}
