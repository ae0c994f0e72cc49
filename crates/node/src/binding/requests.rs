//! The requests JavaScript sends, each declared once. A declaration gives:
//! - `XArgs`, the request's fields as JS values, named;
//! - `XArgs::from_object` (the object path: `input.video.id`...) and `XArgs::from_array` (the
//!   positional path the JS wrappers and the bound functions take), in the declared order;
//! - `XArgs::SHAPE`, from which `header.d.ts` gets the TypeScript interface;
//! - `XArgs::PATHS`, the field order `index.js` builds its positional calls from
//!   (`requestFields()`).
//!
//! The readers of each engine (viewer_stats.rs, viewer_counters.rs, manager.rs, views.rs) then
//! validate the named fields; a value is read once, whichever path it came by.

use super::js::Js;
use views_core::error::Result;
use views_core::rules::shape::{Field, Shape};

/// Reads dotted paths (`video.id`) of one input object, each intermediate object once.
struct PathReader {
  input: Js,
  objects: Vec<(&'static str, Js)>,
}

impl PathReader {
  fn new(input: Js) -> Result<Self> {
    Ok(PathReader {
      input: input.expect_object("input")?,
      objects: Vec::new(),
    })
  }

  /// The value at `path` (`name`, or `object.name` where `object` must be an object);
  /// `undefined`, without reading, when `path` is in `skip`.
  fn get(&mut self, path: &'static str, skip: &[&str]) -> Result<Js> {
    if skip.contains(&path) {
      return Js::undefined_in(self.input.env);
    }
    let Some((object, name)) = path.split_once('.') else {
      return self.input.get(path, path);
    };
    let parent = match self.objects.iter().find(|(n, _)| *n == object) {
      Some((_, js)) => *js,
      None => {
        let js = self.input.get(object, object)?.expect_object(object)?;
        self.objects.push((object, js));
        js
      }
    };
    parent.get(name, path)
  }
}

/// `true` when the declaration says `optional`.
macro_rules! is_optional {
  () => {
    false
  };
  (optional) => {
    true
  };
}

/// Declares a request (see the module doc).
macro_rules! request {
  (
    $(#[doc = $doc:literal])*
    $ts_name:literal => pub struct $args:ident {
      $( $(#[doc = $fdoc:literal])* $field:ident: $path:literal, $ts:literal $(, $opt:ident)?; )*
    }
  ) => {
    $(#[doc = $doc])*
    #[derive(Clone, Copy)]
    pub struct $args {
      $( $(#[doc = $fdoc])* pub $field: Js, )*
    }

    #[allow(dead_code)] // a request may be read by one path only
    impl $args {
      /// Number of fields (arguments of the positional path).
      pub const LEN: usize = <[&str]>::len(&[$($path),*]);
      /// The fields' JS paths, in the positional order.
      pub const PATHS: &'static [&'static str] = &[$($path),*];
      /// The TypeScript interface.
      pub const SHAPE: Shape = Shape {
        name: $ts_name,
        doc: concat!($($doc, "\n"),*),
        fields: &[$(Field { name: $path, ts: $ts, optional: is_optional!($($opt)?), doc: concat!($($fdoc, "\n"),*) }),*],
      };

      /// The positional path: one argument per field, in [`Self::PATHS`] order.
      pub fn from_array([$($field),*]: [Js; Self::LEN]) -> Self {
        $args { $($field),* }
      }

      /// The object path: `input` must be an object, and so must each object on a path.
      pub fn from_object(input: Js) -> Result<Self> {
        Self::from_object_skipping(input, &[])
      }

      /// [`Self::from_object`], leaving the paths in `skip` unread (`undefined`).
      pub fn from_object_skipping(input: Js, skip: &[&str]) -> Result<Self> {
        let mut reader = PathReader::new(input)?;
        Ok($args { $($field: reader.get($path, skip)?,)* })
      }
    }
  };
}

request! {
  /// One player heartbeat, as `VideoViewerStats.addLocalViewer` takes it.
  "LocalViewerInput" => pub struct LocalViewerArgs {
    /// Local database id of the video (positive integer).
    video_id: "video.id", "number";
    /// Video uuid (log tags).
    video_uuid: "video.uuid", "string | null", optional;
    /// Position in whole seconds, `>= 0`.
    current_time: "currentTime", "number";
    /// Client IP (for GeoIP, when the viewer is new).
    ip: "ip", "string | null", optional;
    /// The viewer: any text of 1 to 256 UTF-8 bytes (PeerTube 6.1 does not validate it).
    session_id: "sessionId", "string";
    /// `'seek'` when the viewer jumped to another position.
    view_event: "viewEvent", "'seek' | null", optional;
    /// The request's `User-Agent` header (PeerTube >= 7.2: parsed for a new viewer's user-agent stats; cut at 500 UTF-16 units, as ua-parser-js reads it). Not read for older releases.
    user_agent: "userAgent", "string | null", optional;
    /// The body's `client` (PeerTube >= 7.2), at most 256 bytes: wins over the user agent's.
    client: "client", "string | null", optional;
    /// The body's `device` (PeerTube >= 7.2): wins over the user agent's; a name that is not one of PeerTube's devices is `null`.
    device: "device", "string | null", optional;
    /// The body's `operatingSystem` (PeerTube >= 7.2), at most 256 bytes: wins over the user agent's.
    operating_system: "operatingSystem", "string | null", optional;
  }
}

request! {
  /// One local viewer, as `VideoViewerCounters.addLocalViewer` takes it.
  "LocalViewerJoin" => pub struct JoinArgs {
    /// Local database id of the video.
    video_id: "video.id", "number";
    /// Video uuid.
    video_uuid: "video.uuid", "string";
    /// Whether another instance owns the video.
    video_remote: "video.remote", "boolean | null", optional;
    /// The viewer (session id or hashed IP), 1 to 256 UTF-8 bytes.
    session_id: "sessionId", "string";
  }
}

request! {
  /// One player heartbeat as PeerTube's view controller receives it (`VideoViewsManager.processLocalView`).
  "LocalViewRequest" => pub struct LocalViewArgs {
    /// Local database id of the video.
    video_id: "video.id", "number";
    /// Video uuid.
    video_uuid: "video.uuid", "string";
    /// Whether another instance owns the video.
    video_remote: "video.remote", "boolean | null", optional;
    /// Duration of a VOD, seconds; a `currentTime` beyond it is refused.
    video_duration: "video.duration", "number | null", optional;
    /// Whether the video is a live.
    video_is_live: "video.isLive", "boolean | null", optional;
    /// Position in whole seconds, `>= 0`.
    current_time: "currentTime", "number";
    /// Client IP: the viewer's identity when there is no trusted session id, and GeoIP.
    ip: "ip", "string | null", optional;
    /// Absent or empty: the viewer is identified by a hash of `ip` (PeerTube's `!sessionId`). Any text of at most 256 UTF-8 bytes; not read at all when `trustViewerSessionId` is `false`.
    session_id: "sessionId", "string | null", optional;
    /// `'seek'` when the viewer jumped to another position.
    view_event: "viewEvent", "'seek' | null", optional;
    /// The request's `User-Agent` header (PeerTube >= 7.2: parsed for a new viewer's user-agent stats; cut at 500 UTF-16 units, as ua-parser-js reads it). Not read for older releases.
    user_agent: "userAgent", "string | null", optional;
    /// The body's `client` (PeerTube >= 7.2), at most 256 bytes: wins over the user agent's.
    client: "client", "string | null", optional;
    /// The body's `device` (PeerTube >= 7.2): wins over the user agent's; a name that is not one of PeerTube's devices is `null`.
    device: "device", "string | null", optional;
    /// The body's `operatingSystem` (PeerTube >= 7.2), at most 256 bytes: wins over the user agent's.
    operating_system: "operatingSystem", "string | null", optional;
  }
}

request! {
  /// A View activity from another instance (`processRemoteView`, `addRemoteViewerOn*Video`).
  "RemoteViewRequest" => pub struct RemoteViewArgs {
    /// Local database id of the video.
    video_id: "video.id", "number";
    /// Video uuid.
    video_uuid: "video.uuid", "string";
    /// Whether another instance owns the video.
    video_remote: "video.remote", "boolean | null", optional;
    /// The View activity's id (deduplicates viewers).
    viewer_id: "viewerId", "string";
    /// When the viewer stops counting: a `Date`, ms, or an ISO 8601 string; absent: a view, not a viewer.
    viewer_expires: "viewerExpires", "Date | number | string | null", optional;
    /// The origin's total (viewers federation v2) on a remote video (read there only).
    viewer_result_counter: "viewerResultCounter", "number | null", optional;
  }
}

request! {
  /// A local view to decide (`VideoViews.addLocalView`).
  "LocalViewInput" => pub struct ViewArgs {
    /// Local database id of the video.
    video_id: "video.id", "number";
    /// Video uuid.
    video_uuid: "video.uuid", "string";
    /// Whether another instance owns the video.
    video_remote: "video.remote", "boolean | null", optional;
    /// Duration of a VOD, seconds.
    video_duration: "video.duration", "number | null", optional;
    /// Whether the video is a live.
    video_is_live: "video.isLive", "boolean | null", optional;
    /// The viewer's identity (session id or hashed IP).
    session_id: "sessionId", "string";
    /// The viewer's watch time, seconds.
    watch_time: "watchTime", "number";
  }
}

/// One declared request: the entry that takes it, its shape, and its field order when the
/// entry has a positional form (an engine-bound function that `index.js` calls).
pub struct Request {
  /// `Class.method` (or the method, when several classes take it).
  pub entry: &'static str,
  /// Its TypeScript interface (read by typescript.rs, in tests).
  #[cfg_attr(not(test), allow(dead_code))]
  pub shape: Shape,
  /// The positional order, for the entries `index.js` calls positionally.
  pub positional: Option<&'static [&'static str]>,
}

/// Every request, for `header.d.ts` and `requestFields()`.
pub const REQUESTS: &[Request] = &[
  Request {
    entry: "VideoViewerStats.addLocalViewer",
    shape: LocalViewerArgs::SHAPE,
    positional: Some(LocalViewerArgs::PATHS),
  },
  Request {
    entry: "VideoViewerCounters.addLocalViewer",
    shape: JoinArgs::SHAPE,
    positional: Some(JoinArgs::PATHS),
  },
  Request {
    entry: "VideoViewsManager.processLocalView",
    shape: LocalViewArgs::SHAPE,
    positional: Some(LocalViewArgs::PATHS),
  },
  Request {
    entry: "processRemoteView",
    shape: RemoteViewArgs::SHAPE,
    positional: None,
  },
  Request {
    entry: "VideoViews.addLocalView",
    shape: ViewArgs::SHAPE,
    positional: None,
  },
];
