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

/// The watch sections of one viewer, 16 bytes: the common single section is stored inline,
/// more sections in a boxed vector (a cached viewer usually has exactly one).
#[derive(Clone, Default, PartialEq, Eq)]
pub enum Sections {
  /// No section yet.
  #[default]
  Empty,
  /// One section, inline.
  One(WatchSection),
  /// Two or more.
  Many(Box<Vec<WatchSection>>),
}

impl Sections {
  /// The sections in order.
  pub fn as_slice(&self) -> &[WatchSection] {
    match self {
      Sections::Empty => &[],
      Sections::One(section) => std::slice::from_ref(section),
      Sections::Many(sections) => sections,
    }
  }

  /// Number of sections.
  pub fn len(&self) -> usize {
    self.as_slice().len()
  }

  /// Whether there is no section.
  pub fn is_empty(&self) -> bool {
    matches!(self, Sections::Empty)
  }

  /// Appends a section.
  pub fn push(&mut self, section: WatchSection) {
    *self = match std::mem::take(self) {
      Sections::Empty => Sections::One(section),
      Sections::One(first) => Sections::Many(Box::new(vec![first, section])),
      Sections::Many(mut all) => {
        all.push(section);
        Sections::Many(all)
      }
    };
  }

  /// The last section.
  pub fn last_mut(&mut self) -> Option<&mut WatchSection> {
    match self {
      Sections::Empty => None,
      Sections::One(section) => Some(section),
      Sections::Many(sections) => sections.last_mut(),
    }
  }
}

impl From<Vec<WatchSection>> for Sections {
  fn from(mut sections: Vec<WatchSection>) -> Self {
    match sections.len() {
      0 => Sections::Empty,
      1 => Sections::One(sections[0]),
      _ => {
        sections.shrink_to_fit();
        Sections::Many(Box::new(sections))
      }
    }
  }
}

impl PartialEq<Vec<WatchSection>> for Sections {
  fn eq(&self, other: &Vec<WatchSection>) -> bool {
    self.as_slice() == other.as_slice()
  }
}

impl std::fmt::Debug for Sections {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_list().entries(self.as_slice()).finish()
  }
}

/// Applies one heartbeat at `current_time` to `sections`, exactly as PeerTube does:
/// - a `seek`, or no section yet: a new section `[t, t]`;
/// - the last section starts after `t` (the viewer went back): a new section `[t, t]`;
/// - otherwise the last section now ends at `t`.
pub fn apply_heartbeat(sections: &mut Sections, current_time: u32, event: Option<ViewEvent>) {
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
  fn sections_are_small_and_round_trip() {
    assert_eq!(std::mem::size_of::<Sections>(), 16);
    let all = vec![s(0, 1), s(2, 3), s(4, 5)];
    let mut v = Sections::default();
    for x in &all {
      v.push(*x);
    }
    assert_eq!(v, all);
    assert_eq!(Sections::from(all.clone()), all);
    assert_eq!(Sections::from(vec![s(1, 2)]), Sections::One(s(1, 2)));
    assert!(Sections::from(vec![]).is_empty());
  }

  #[test]
  fn first_heartbeat_opens_a_section() {
    let mut v = Sections::default();
    apply_heartbeat(&mut v, 7, None);
    assert_eq!(v, vec![s(7, 7)]);
  }

  #[test]
  fn heartbeats_extend_the_last_section() {
    let mut v = Sections::default();
    for t in [0, 5, 10, 15] {
      apply_heartbeat(&mut v, t, None);
    }
    assert_eq!(v, vec![s(0, 15)]);
    assert_eq!(watch_time(v.as_slice()), 15);
  }

  #[test]
  fn seek_opens_a_new_section() {
    let mut v = Sections::default();
    apply_heartbeat(&mut v, 0, None);
    apply_heartbeat(&mut v, 5, None);
    apply_heartbeat(&mut v, 30, Some(ViewEvent::Seek));
    apply_heartbeat(&mut v, 35, None);
    assert_eq!(v, vec![s(0, 5), s(30, 35)]);
    assert_eq!(watch_time(v.as_slice()), 10);
  }

  #[test]
  fn going_back_before_the_start_opens_a_new_section() {
    let mut v = Sections::from(vec![s(10, 20)]);
    apply_heartbeat(&mut v, 4, None);
    assert_eq!(v, vec![s(10, 20), s(4, 4)]);
  }

  #[test]
  fn end_can_move_backwards_down_to_start() {
    let mut v = Sections::from(vec![s(10, 20)]);
    apply_heartbeat(&mut v, 12, None);
    assert_eq!(v, vec![s(10, 12)]);
    apply_heartbeat(&mut v, 10, None);
    assert_eq!(v, vec![s(10, 10)]);
    assert_eq!(watch_time(v.as_slice()), 0);
  }

  proptest! {
    #[test]
    fn sections_are_never_inverted_and_watch_time_is_their_sum(
      beats in proptest::collection::vec((0u32..10_000, any::<bool>()), 1..200)
    ) {
      let mut v = Sections::default();
      for (t, seek) in &beats {
        let before = v.len();
        apply_heartbeat(&mut v, *t, seek.then_some(ViewEvent::Seek));
        prop_assert!(v.len() == before || v.len() == before + 1);
        let last = v.as_slice().last().copied().unwrap_or(s(0, 0));
        prop_assert_eq!(last.end, *t);
      }
      prop_assert!(v.as_slice().iter().all(|x| x.start <= x.end));
      let sum: u64 = v.as_slice().iter().map(|x| u64::from(x.end - x.start)).sum();
      prop_assert_eq!(watch_time(v.as_slice()), sum);
      let seeks = beats.iter().skip(1).filter(|(_, seek)| *seek).count();
      prop_assert!(v.len() > seeks);
    }
  }
}
