//! The options of the engines, each declared once with its default (see
//! [`crate::rules::options::options`]): the binding reads them from JS by these declarations,
//! `header.d.ts` documents them from them, and `defaultOptions()` reports them.

use crate::rules::identity::PEERTUBE_SALT;
use crate::rules::options::options;
use crate::rules::options::OptionKind::{Count, Duration, Flag, Text};
use crate::rules::version::PeerTubeVersion;
use std::ops::Deref;

options! {
  /// Options of the viewer stats engine (`VideoViewerStats`, `VideoViewsManager`).
  pub struct StatsOptions as "ViewerStatsEngineOptions" {
    /// Inactivity after which a viewer is persisted (PeerTube's `VIEW_LIFETIME.VIEWER_STATS`); also the processing period.
    lifetime_ms: u64 = "viewerStatsLifetime", Duration, 3_600_000;
    /// Period of the write-behind sync to Redis (PeerTube's `VIEWER_SYNC_REDIS`).
    sync_interval_ms: u64 = "syncRedisInterval", Duration, 30_000;
    /// Most watch sections kept per viewer (PeerTube's `MAX_LOCAL_VIEWER_WATCH_SECTIONS`).
    max_sections: usize = "maxWatchSections", Count { max: 100_000 }, 100;
    /// Extra: `saveViewerStats` calls in flight at once while processing, handed to JavaScript as one batch.
    process_concurrency: usize = "processConcurrency", Count { max: 1_000 }, 8;
    /// Extra: most viewers waiting for Redis; beyond it (Redis down for long) heartbeats of new viewers are dropped with a warning and counted in `droppedHeartbeats`, so memory stays bounded (about 120 B per viewer).
    max_pending_writes: usize = "maxPendingWrites", Count { max: 1 << 40 }, 1_000_000;
    /// Extra: how often the GeoIP files are checked for a new version (PeerTube downloads them after start).
    geoip_check_interval_ms: u64 = "geoIpCheckInterval", Duration, 60_000;
  }
}

options! {
  /// Options of the viewer counters (`VideoViewerCounters`, `VideoViewsManager`).
  pub struct CountersOptions as "ViewerCountersEngineOptions" {
    /// How long a viewer counts after its last heartbeat (PeerTube's `VIEW_LIFETIME.VIEWER_COUNTER`); also the cleanup period.
    lifetime_ms: u64 = "viewerCounterLifetime", Duration, 120_000;
    /// Viewers federation protocol v2. Absent: `true` from `peertubeVersion` 7.1 (PeerTube's only protocol there), else `process.env.USE_VIEWERS_FEDERATION_V2 === 'true'` (the JS layer reads it).
    federation_v2: bool = "viewersFederationV2", Flag, false;
  }
}

options! {
  /// Options of view counting (`VideoViews`, `VideoViewsManager`).
  pub struct ViewsOptions as "ViewsEngineOptions" {
    /// One view per viewer per this long (`views.videos.view_expiration`).
    view_expiration_ms: u64 = "viewExpiration", Duration, 3_600_000;
    /// Minimum watch time of a view (`views.videos.count_view_after`).
    count_view_after_ms: u64 = "countViewAfter", Duration, 10_000;
    /// Period of the buffer drain (`views.videos.local_buffer_update_interval`).
    buffer_interval_ms: u64 = "localBufferUpdateInterval", Duration, 1_800_000;
    /// Extra: host calls in flight at once during a drain.
    drain_concurrency: usize = "drainConcurrency", Count { max: 1_000 }, 8;
  }
}

options! {
  /// Options every engine shares.
  pub struct HostCallOptions as "HostCallOptions" {
    /// Run the engine's timers (sync, processing, cleanup, drains). `false`: call them yourself (tests, cron).
    auto_start: bool = "autoStart", Flag, true;
    /// Extra: a host callback not settled after this long counts as failed.
    callback_timeout_ms: u64 = "callbackTimeout", Duration, 60_000;
    /// Extra: `sendView` calls in flight at once; the others wait in native memory, and a call's `callbackTimeout` starts when it is made (a join storm on PeerTube 6.1's federation v1 queues one per new viewer).
    federation_concurrency: usize = "federationConcurrency", Count { max: 10_000 }, 32;
    /// The host's PeerTube release (`'6.1'`, `'7.0.1'`, `'8.0'`): from 7.1 viewers federation v2 is the default of `viewersFederationV2`, from 7.2 viewers carry user-agent stats (`client`, `device`, `operatingSystem`) in Redis and in `saveViewerStats`.
    peertube_version: PeerTubeVersion = "peertubeVersion", Text { max: 32 }, PeerTubeVersion::V6_1;
  }
}

options! {
  /// How `VideoViewsManager` identifies a viewer.
  pub struct IdentityOptions as "IdentityOptions" {
    /// `views.videos.trust_viewer_session_id`: `false` identifies viewers by hashed IP only.
    trust_session_id: bool = "trustViewerSessionId", Flag, true;
    /// The salt of the IP hash; PeerTube's is literally `[object Object]` (Q1), another value changes every IP-based key.
    identity_salt: String = "identitySalt", Text { max: 1024 }, PEERTUBE_SALT.to_string();
  }
}

/// An engine's own options with the options every engine shares (`config.x` reads the former).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EngineConfig<O> {
  /// The engine's options.
  pub options: O,
  /// What every engine shares.
  pub calls: HostCallOptions,
}

impl<O> Deref for EngineConfig<O> {
  type Target = O;
  fn deref(&self) -> &O {
    &self.options
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::rules::options::{OptionValue, Options};

  #[test]
  fn defaults_are_peertube_s_and_documented_from_the_declaration() {
    assert_eq!(
      StatsOptions::default_texts(),
      vec![
        ("viewerStatsLifetime", "'1 hour'".to_string()),
        ("syncRedisInterval", "'30 seconds'".to_string()),
        ("maxWatchSections", "100".to_string()),
        ("processConcurrency", "8".to_string()),
        ("maxPendingWrites", "1000000".to_string()),
        ("geoIpCheckInterval", "'1 minute'".to_string()),
      ]
    );
    assert_eq!(ViewsOptions::default().buffer_interval_ms, 1_800_000);
    assert_eq!(HostCallOptions::SHAPE.fields[1].name, "callbackTimeout");
    assert_eq!(HostCallOptions::SHAPE.fields[1].ts, "Duration");
  }

  #[test]
  fn set_takes_values_by_name_and_refuses_unknown_names() {
    let mut options = CountersOptions::default();
    options
      .set("viewerCounterLifetime", OptionValue::Ms(5_000))
      .unwrap();
    options
      .set("viewersFederationV2", OptionValue::Flag(true))
      .unwrap();
    assert_eq!((options.lifetime_ms, options.federation_v2), (5_000, true));
    assert!(options.set("nope", OptionValue::Flag(true)).is_err());
    assert!(options
      .set("viewersFederationV2", OptionValue::Count(1))
      .is_err());
  }
}
