//! Redis commands of view counting (B12-B16), atomic where PeerTube is not (Q5): a counted
//! view is one script (dedup key + increments), a drain is one script per batch.

use super::connection::RedisConnection;
use crate::error::Result;
use crate::rules::views::{
  hourly_views_key, hourly_views_set, local_views_buffer_key, view_key, LOCAL_VIEWS_BUFFER_SET,
};
use redis::Script;

/// `SET views-… 1 PX ttl NX`, and only if it was set: the hourly and (owned videos) buffer
/// increments. Returns 1 when the view was counted.
const COUNT_VIEW: &str = r"
if not redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 0 end
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('INCR', KEYS[3])
if ARGV[3] == '1' then
  redis.call('SADD', KEYS[4], ARGV[2])
  redis.call('INCR', KEYS[5])
end
return 1
";

/// For each member: GET its counter, DEL it, SREM the member; returns the values in order.
const DRAIN: &str = r"
local values = {}
for i = 1, #ARGV do
  values[i] = redis.call('GET', KEYS[i + 1]) or ''
  redis.call('DEL', KEYS[i + 1])
  redis.call('SREM', KEYS[1], ARGV[i])
end
return values
";

/// Which counters a drain reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
  /// `local-video-views-buffer` / `local-video-views-buffer-{id}`.
  LocalBuffer,
  /// `videos-view-h{hour}` / `video-view-{id}-h{hour}`.
  Hourly(u32),
}

impl Counter {
  fn set(self) -> String {
    match self {
      Counter::LocalBuffer => LOCAL_VIEWS_BUFFER_SET.to_string(),
      Counter::Hourly(hour) => hourly_views_set(hour),
    }
  }

  fn key(self, video_id: &str) -> String {
    let id = video_id.parse::<u64>().unwrap_or(0);
    match self {
      Counter::LocalBuffer if id > 0 => local_views_buffer_key(id),
      Counter::Hourly(hour) if id > 0 => hourly_views_key(id, hour),
      // A member that is not an id still gets drained from the set.
      Counter::LocalBuffer => format!("local-video-views-buffer-{video_id}"),
      Counter::Hourly(hour) => format!("video-view-{video_id}-h{hour}"),
    }
  }
}

/// View commands with PeerTube's prefix.
pub struct ViewsStore<'a> {
  conn: &'a RedisConnection,
  prefix: &'a str,
}

impl<'a> ViewsStore<'a> {
  /// Commands on `conn` with keys prefixed by `prefix`.
  pub fn new(conn: &'a RedisConnection, prefix: &'a str) -> Self {
    ViewsStore { conn, prefix }
  }

  fn key(&self, key: &str) -> String {
    format!("{}{key}", self.prefix)
  }

  /// Counts one local view unless `views-{uuid}-{identity}` exists; `true` when counted.
  pub async fn count_view(
    &self,
    uuid: &str,
    identity: &str,
    video_id: u64,
    owned: bool,
    hour: u32,
    ttl_ms: u64,
  ) -> Result<bool> {
    let script = Script::new(COUNT_VIEW);
    let mut invocation = script.prepare_invoke();
    invocation
      .key(self.key(&view_key(uuid, identity)))
      .key(self.key(&hourly_views_set(hour)))
      .key(self.key(&hourly_views_key(video_id, hour)))
      .key(self.key(LOCAL_VIEWS_BUFFER_SET))
      .key(self.key(&local_views_buffer_key(video_id)))
      .arg(ttl_ms)
      .arg(video_id)
      .arg(if owned { "1" } else { "0" });
    let counted: i64 = self
      .conn
      .run("Cannot count view in Redis", |mut c| async move {
        invocation.invoke_async(&mut c).await
      })
      .await?;
    Ok(counted == 1)
  }

  /// Adds views without dedup (remote views, and increments kept while Redis was down):
  /// `MULTI { SADD + INCRBY hourly, SADD + INCRBY buffer (owned) }` for each item.
  pub async fn add_views(&self, items: &[(u64, bool, u32, u64)]) -> Result<()> {
    if items.is_empty() {
      return Ok(());
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    for &(video_id, owned, hour, views) in items {
      pipe
        .cmd("SADD")
        .arg(self.key(&hourly_views_set(hour)))
        .arg(video_id)
        .ignore();
      pipe
        .cmd("INCRBY")
        .arg(self.key(&hourly_views_key(video_id, hour)))
        .arg(views)
        .ignore();
      if owned {
        pipe
          .cmd("SADD")
          .arg(self.key(LOCAL_VIEWS_BUFFER_SET))
          .arg(video_id)
          .ignore();
        pipe
          .cmd("INCRBY")
          .arg(self.key(&local_views_buffer_key(video_id)))
          .arg(views)
          .ignore();
      }
    }
    self
      .conn
      .run("Cannot add views in Redis", |mut c| async move {
        pipe.query_async::<()>(&mut c).await
      })
      .await
  }

  /// Members of a counter set.
  pub async fn members(&self, counter: Counter) -> Result<Vec<String>> {
    let key = self.key(&counter.set());
    self
      .conn
      .run("Cannot list views in Redis", |mut c| async move {
        redis::cmd("SMEMBERS").arg(key).query_async(&mut c).await
      })
      .await
  }

  /// Atomically takes the counters of `members` (GET + DEL + SREM); `""` for a missing value.
  pub async fn drain(&self, counter: Counter, members: &[String]) -> Result<Vec<String>> {
    if members.is_empty() {
      return Ok(Vec::new());
    }
    let script = Script::new(DRAIN);
    let mut invocation = script.prepare_invoke();
    invocation.key(self.key(&counter.set()));
    for member in members {
      invocation.key(self.key(&counter.key(member))).arg(member);
    }
    self
      .conn
      .run("Cannot drain views in Redis", |mut c| async move {
        invocation.invoke_async(&mut c).await
      })
      .await
  }

  /// Gives a drained count back (the host refused it): `MULTI { INCRBY counter, SADD set }`.
  pub async fn put_back(&self, counter: Counter, video_id: u64, views: u64) -> Result<()> {
    let member = video_id.to_string();
    let mut pipe = redis::pipe();
    pipe.atomic();
    pipe
      .cmd("INCRBY")
      .arg(self.key(&counter.key(&member)))
      .arg(views)
      .ignore();
    pipe
      .cmd("SADD")
      .arg(self.key(&counter.set()))
      .arg(&member)
      .ignore();
    self
      .conn
      .run("Cannot give views back to Redis", |mut c| async move {
        pipe.query_async::<()>(&mut c).await
      })
      .await
  }
}
