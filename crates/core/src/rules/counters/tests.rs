//! The counters' rules, and their totals against a full recount (proptest).
use super::*;
use proptest::prelude::*;

const LIFE: u64 = 120_000;

fn video(id: u64, remote: bool) -> VideoInfo {
  VideoInfo {
    id,
    uuid: Arc::from(format!("uuid-{id}")),
    remote,
  }
}

#[test]
fn local_viewer_is_added_once_and_refreshed() {
  let mut c = Counters::new(LIFE, true);
  let v = video(1, false);
  let first = c.add_local_viewer(&v, &"s1".into(), 1_000);
  assert!(first.added);
  assert_eq!(first.notify_total, Some(1));
  assert_eq!(
    first.federate, None,
    "v2: local viewers of local videos are not federated"
  );
  let again = c.add_local_viewer(&v, &"s1".into(), 2_000);
  assert_eq!((again.added, again.notify_total), (false, None));
  assert_eq!(c.total_of(1), 1);
  // Refreshed: still alive just before 2_000 + LIFE, gone at it.
  c.clean(2_000 + LIFE - 1);
  assert_eq!(c.total_of(1), 1);
  c.clean(2_000 + LIFE);
  assert_eq!(c.total_of(1), 0);
  assert_eq!(c.entries(), 0);
}

#[test]
fn v1_federates_local_viewers_of_local_videos_at_most_every_three_quarters_of_the_lifetime() {
  let mut c = Counters::new(LIFE, false);
  let v = video(1, false);
  let sent = c.add_local_viewer(&v, &"s".into(), 0).federate.unwrap();
  assert_eq!(sent.viewers_count, Some(1));
  assert_eq!(&*sent.viewer_identifier, "s-uuid-1");
  // PeerTube skips while `lastFederation > now - 0.75 * lifetime`.
  assert_eq!(c.add_local_viewer(&v, &"s".into(), 89_999).federate, None);
  assert!(c
    .add_local_viewer(&v, &"s".into(), 90_000)
    .federate
    .is_some());
  assert_eq!(c.add_local_viewer(&v, &"s".into(), 100_000).federate, None);
}

#[test]
fn local_viewers_of_remote_videos_are_federated_in_v1_and_v2() {
  for v2 in [false, true] {
    let mut c = Counters::new(LIFE, v2);
    let v = video(2, true);
    let sent = c.add_local_viewer(&v, &"s".into(), 0).federate.unwrap();
    assert_eq!(
      (sent.viewers_count, &*sent.viewer_identifier),
      (Some(1), "s-uuid-2")
    );
    assert_eq!(c.total(Scope::Local, Scope::Remote), 1);
  }
}

#[test]
fn remote_viewers_on_local_videos_are_deduplicated_and_keep_their_expiry() {
  let mut c = Counters::new(LIFE, true);
  let v = video(3, false);
  assert!(
    c.add_remote_viewer_on_local_video(&v, "https://b/views/videos/9/s", 50_000)
      .added
  );
  let again = c.add_remote_viewer_on_local_video(&v, "https://b/views/videos/9/s", 90_000);
  assert!(!again.added);
  assert_eq!(c.total_of(3), 1);
  assert_eq!(c.total(Scope::Remote, Scope::Local), 1);
  c.clean(89_999);
  assert_eq!(c.total_of(3), 1);
  c.clean(90_000);
  assert_eq!(c.total_of(3), 0);
}

#[test]
fn a_result_counter_replaces_every_viewer_of_a_remote_video_and_forgets_their_ids() {
  let mut c = Counters::new(LIFE, true);
  let v = video(4, true);
  c.add_local_viewer(&v, &"local".into(), 0);
  c.add_remote_viewer_on_remote_video(&v, "https://c/views/videos/1/x", 100_000, None);
  assert_eq!(c.total_of(4), 2);
  let out = c.add_remote_viewer_on_remote_video(
    &v,
    "https://origin/views/videos/4/uuid-4",
    100_000,
    Some(7),
  );
  assert_eq!(out.notify_total, Some(7));
  assert_eq!(c.total_of(4), 7);
  assert_eq!(c.entries(), 1, "replaced ids are forgotten (Q9)");
  assert_eq!(c.total(Scope::Local, Scope::Remote), 0);
  assert_eq!(c.total(Scope::Remote, Scope::Remote), 7);
  // A counter of 0 still replaces.
  c.add_remote_viewer_on_remote_video(&v, "https://origin/views/videos/4/uuid-4", 100_000, Some(0));
  assert_eq!(c.total_of(4), 0);
  // The forgotten local viewer is a new viewer again.
  assert!(c.add_local_viewer(&v, &"local".into(), 1).added);
}

#[test]
fn cleanup_reports_every_video_and_the_origin_total() {
  let mut c = Counters::new(LIFE, true);
  let a = video(5, false);
  let b = video(6, true);
  c.add_local_viewer(&a, &"x".into(), 0);
  c.add_local_viewer(&a, &"y".into(), 60_000);
  c.add_local_viewer(&b, &"x".into(), 0);
  let mut cleaned = c.clean(LIFE);
  cleaned.sort_by_key(|v| v.video.id);
  assert_eq!(
    cleaned
      .iter()
      .map(|v| (v.video.id, v.total, v.expired))
      .collect::<Vec<_>>(),
    vec![(5, 1, 1), (6, 0, 1)]
  );
  assert_eq!(
    c.total_to_federate(&a, 1).and_then(|v| v.viewers_count),
    Some(1)
  );
  assert_eq!(
    c.total_to_federate(&b, 1),
    None,
    "remote videos are not summarised"
  );
  assert_eq!(c.total_to_federate(&a, 0), None);
  assert_eq!(
    Counters::new(LIFE, false).total_to_federate(&a, 3),
    None,
    "v1 sends no totals"
  );
  assert_eq!(c.clean(LIFE).len(), 1, "emptied videos leave the map");
}

#[derive(Clone, Debug)]
enum Op {
  Local(u64, u8, bool),
  RemoteOnLocal(u64, u8, u64),
  RemoteOnRemote(u64, u8, u64, Option<u64>),
  Clean(u64),
}

fn op() -> impl Strategy<Value = Op> {
  prop_oneof![
    (0u64..4, 0u8..6, any::<bool>()).prop_map(|(v, s, r)| Op::Local(v, s, r)),
    (0u64..4, 0u8..6, 0u64..300_000).prop_map(|(v, s, e)| Op::RemoteOnLocal(v, s, e)),
    (
      0u64..4,
      0u8..6,
      0u64..300_000,
      proptest::option::of(0u64..50)
    )
      .prop_map(|(v, s, e, c)| Op::RemoteOnRemote(v, s, e, c)),
    (0u64..300_000).prop_map(Op::Clean),
  ]
}

proptest! {
  /// The running totals always equal a full recount.
  #[test]
  fn totals_always_match_a_recount(ops in proptest::collection::vec(op(), 1..200)) {
    let mut c = Counters::new(LIFE, true);
    let mut now = 0;
    for op in ops {
      now += 1_000;
      match op {
        Op::Local(v, s, remote) => { c.add_local_viewer(&video(v + 1, remote), &format!("s{s}").as_str().into(), now); }
        Op::RemoteOnLocal(v, s, e) => { c.add_remote_viewer_on_local_video(&video(v + 1, false), &format!("r{s}"), e); }
        Op::RemoteOnRemote(v, s, e, counter) => { c.add_remote_viewer_on_remote_video(&video(v + 1, true), &format!("o{s}"), e, counter); }
        Op::Clean(t) => { c.clean(t); }
      }
      let mut by_scope = [[0u64; 2]; 2];
      let mut ids = 0;
      let mut remote_ids = 0;
      for viewers in c.videos.values() {
        let sum: u64 = viewers.entries.values().map(|e| e.count).sum();
        prop_assert_eq!(sum, viewers.total);
        for entry in viewers.entries.values() {
          by_scope[entry.viewer_scope.index()][viewers.video.scope().index()] += entry.count;
        }
        ids += viewers.entries.len();
        remote_ids += viewers.entries.keys().filter(|k| matches!(k, ViewerKey::Remote(_))).count();
        prop_assert!(!viewers.entries.is_empty());
      }
      prop_assert_eq!(by_scope, c.totals);
      prop_assert_eq!(ids, c.entries());
      prop_assert_eq!(remote_ids, c.ids.len());
    }
  }
}
