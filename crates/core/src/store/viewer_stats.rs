//! Redis commands of the viewer stats (B26, B27, B32), atomic where PeerTube is not (Q5).

use super::connection::RedisConnection;
use super::packed::{Concat, PackedViewers};
use super::stats_store::StatsStore;
use crate::error::{Error, ErrorCode, Result};
use crate::rules::keys::{CLAIM_KEY_PREFIX, VIEWER_STATS_SET};
use once_cell::sync::Lazy;
use redis::{AsyncCommands, Cmd, Script};
use std::sync::Arc;

/// Deletes the set members whose value key no longer exists (Q6), atomically per member.
const REMOVE_ORPHANS: &str = r"
local removed = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    removed = removed + redis.call('SREM', KEYS[1], ARGV[i - 1])
  end
end
return removed
";

/// Gives back the claims this process holds (KEYS: claim keys; ARGV[1]: token).
static RELEASE: Lazy<Script> = Lazy::new(|| {
  Script::new(
    r"
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
  end
end
return 0
",
  )
});

/// A viewer's value key, `{prefix}{member}`, as one argument built in place.
fn key_arg<'a>(prefix: &'a str, member: &'a str) -> Concat<'a, 2> {
  Concat([prefix, member])
}

/// A viewer's claim key, `{prefix}native-views-claim-{member}` (not a PeerTube key: PeerTube
/// never reads it), as one argument built in place.
fn claim_arg<'a>(prefix: &'a str, member: &'a str) -> Concat<'a, 3> {
  Concat([prefix, CLAIM_KEY_PREFIX, member])
}

/// Viewer stats in Redis, with PeerTube's prefix.
pub struct RedisStatsStore {
  conn: Arc<RedisConnection>,
  prefix: String,
}

impl RedisStatsStore {
  /// Commands on `conn` with keys prefixed by `prefix` (`redis-{webserverHost}-`).
  pub fn new(conn: Arc<RedisConnection>, prefix: String) -> Self {
    RedisStatsStore { conn, prefix }
  }

  fn key(&self, member: &str) -> String {
    let mut key = String::with_capacity(self.prefix.len() + member.len());
    key.push_str(&self.prefix);
    key.push_str(member);
    key
  }

  /// `SADD set members...` (ignored reply) into `pipe`.
  fn add_members(&self, pipe: &mut redis::Pipeline, viewers: &PackedViewers) {
    let set = self.key(VIEWER_STATS_SET);
    let (member_bytes, _) = viewers.bytes();
    let mut sadd = Cmd::with_capacity(2 + viewers.len(), 4 + set.len() + member_bytes);
    sadd.arg("SADD").arg(set);
    for member in viewers.members() {
      sadd.arg(member);
    }
    pipe.add_command(sadd).ignore();
  }

  /// `name key json key json ...` (`MSET`, `MSETNX`), sized exactly, keys prefixed in place.
  fn set_values(&self, name: &str, viewers: &PackedViewers) -> Cmd {
    let (member_bytes, value_bytes) = viewers.bytes();
    let mut cmd = Cmd::with_capacity(
      1 + 2 * viewers.len(),
      name.len() + viewers.len() * self.prefix.len() + member_bytes + value_bytes,
    );
    cmd.arg(name);
    for (member, json) in viewers.iter() {
      cmd.arg(key_arg(&self.prefix, member)).arg(json);
    }
    cmd
  }
}

impl StatsStore for RedisStatsStore {
  fn generation(&self) -> u64 {
    self.conn.connections()
  }

  /// `GET` of one viewer (`member` is the un-prefixed viewer key).
  async fn get(&self, member: &str) -> Result<Option<String>> {
    let key = self.key(member);
    self
      .conn
      .run("Cannot read viewer from Redis", |mut c| async move {
        c.get(key).await
      })
      .await
  }

  /// `MGET` of many viewers, in order.
  async fn get_many(&self, members: &[&str]) -> Result<Vec<Option<String>>> {
    if members.is_empty() {
      return Ok(Vec::new());
    }
    let keys: Vec<String> = members.iter().map(|m| self.key(m)).collect();
    self
      .conn
      .run("Cannot read viewers from Redis", |mut c| async move {
        redis::cmd("MGET").arg(&keys).query_async(&mut c).await
      })
      .await
  }

  /// `SMEMBERS` of the viewer set.
  async fn members(&self) -> Result<Vec<String>> {
    let key = self.key(VIEWER_STATS_SET);
    self
      .conn
      .run("Cannot list viewers in Redis", |mut c| async move {
        c.smembers(key).await
      })
      .await
  }

  /// Writes viewers atomically: one `MULTI { SADD set members..., MSET key json ... }`.
  async fn write(&self, viewers: &PackedViewers) -> Result<()> {
    if viewers.is_empty() {
      return Ok(());
    }
    let mut pipe = redis::Pipeline::with_capacity(2);
    pipe.atomic();
    self.add_members(&mut pipe, viewers);
    pipe.add_command(self.set_values("MSET", viewers)).ignore();
    self
      .conn
      .run("Cannot write viewers into Redis", |mut c| async move {
        pipe.query_async::<()>(&mut c).await
      })
      .await
  }

  /// Writes viewers believed new and returns the indices of those whose key already existed
  /// (not written: the caller merges them). Common case, one command for all values:
  /// `MULTI { SADD set members..., MSETNX key json ... }`; only if some key exists (MSETNX
  /// writes nothing then) each value is written with `SET NX` to find which.
  async fn write_new(&self, viewers: &PackedViewers) -> Result<Vec<usize>> {
    if viewers.is_empty() {
      return Ok(Vec::new());
    }
    let mut pipe = redis::Pipeline::with_capacity(2);
    pipe.atomic();
    self.add_members(&mut pipe, viewers);
    pipe.add_command(self.set_values("MSETNX", viewers));
    let (all_written,): (bool,) = self
      .conn
      .run("Cannot write viewers into Redis", |mut c| async move {
        pipe.query_async(&mut c).await
      })
      .await?;
    if all_written {
      return Ok(Vec::new());
    }
    let mut pipe = redis::Pipeline::with_capacity(viewers.len());
    pipe.atomic();
    for (member, json) in viewers.iter() {
      pipe
        .cmd("SET")
        .arg(key_arg(&self.prefix, member))
        .arg(json)
        .arg("NX");
    }
    let replies: Vec<Option<String>> = self
      .conn
      .run("Cannot write viewers into Redis", |mut c| async move {
        pipe.query_async(&mut c).await
      })
      .await?;
    Ok(
      replies
        .iter()
        .enumerate()
        .filter(|(_, reply)| reply.is_none())
        .map(|(i, _)| i)
        .collect(),
    )
  }

  /// Claims viewers for persistence and reads them, so that two engine processes never hand
  /// one viewer to their hosts twice: one `MULTI { SET claim token NX PX ttl ..., MGET keys }`.
  /// Returns, per member in order, whether the claim was taken and the value read atomically
  /// with it. A holder deletes the value and its claim in one transaction, so a claim taken
  /// after that finds no value; the caller gives back the claims it does not keep.
  async fn claim_read(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> Result<Vec<(bool, Option<String>)>> {
    if members.is_empty() {
      return Ok(Vec::new());
    }
    let ttl = ttl_ms.max(1);
    let mut pipe = redis::Pipeline::with_capacity(members.len() + 1);
    pipe.atomic();
    for member in members {
      pipe
        .cmd("SET")
        .arg(claim_arg(&self.prefix, member))
        .arg(token)
        .arg("NX")
        .arg("PX")
        .arg(ttl);
    }
    let key_bytes: usize = members.iter().map(|m| self.prefix.len() + m.len()).sum();
    let mut mget = Cmd::with_capacity(1 + members.len(), 4 + key_bytes);
    mget.arg("MGET");
    for member in members {
      mget.arg(key_arg(&self.prefix, member));
    }
    pipe.add_command(mget);
    let mut replies: Vec<redis::Value> = self
      .conn
      .run("Cannot claim viewers in Redis", |mut c| async move {
        pipe.query_async(&mut c).await
      })
      .await?;
    let wrong = || {
      Error::new(
        ErrorCode::Internal,
        "Redis answered the claim transaction with unexpected replies",
      )
    };
    if replies.len() != members.len() + 1 {
      return Err(wrong());
    }
    let values: Vec<Option<String>> = replies
      .pop()
      .and_then(|mget| redis::from_redis_value(mget).ok())
      .filter(|values: &Vec<Option<String>>| values.len() == members.len())
      .ok_or_else(wrong)?;
    Ok(
      replies
        .iter()
        .map(|claim| matches!(claim, redis::Value::Okay))
        .zip(values)
        .collect(),
    )
  }

  /// Gives back the claims held under `token` on these members.
  async fn release(&self, members: &[&str], token: &str) -> Result<()> {
    if members.is_empty() {
      return Ok(());
    }
    let mut invocation = RELEASE.prepare_invoke();
    invocation.arg(token);
    for member in members {
      invocation.key(claim_arg(&self.prefix, member));
    }
    self
      .conn
      .run(
        "Cannot release viewer claims in Redis",
        |mut c| async move { invocation.invoke_async::<()>(&mut c).await },
      )
      .await
  }

  /// Deletes viewers and their claims atomically: one
  /// `MULTI { SREM set members..., DEL keys... claim keys... }`.
  async fn delete(&self, members: &[&str]) -> Result<()> {
    if members.is_empty() {
      return Ok(());
    }
    let mut pipe = redis::pipe();
    pipe.atomic();
    let srem = pipe.cmd("SREM").arg(self.key(VIEWER_STATS_SET));
    for member in members {
      srem.arg(*member);
    }
    srem.ignore();
    let del = pipe.cmd("DEL");
    for member in members {
      del
        .arg(key_arg(&self.prefix, member))
        .arg(claim_arg(&self.prefix, member));
    }
    del.ignore();
    self
      .conn
      .run("Cannot delete viewers from Redis", |mut c| async move {
        pipe.query_async::<()>(&mut c).await
      })
      .await
  }

  /// Removes set members whose value is missing; returns how many were removed.
  async fn remove_orphans(&self, members: &[&str]) -> Result<u64> {
    if members.is_empty() {
      return Ok(0);
    }
    let script = Script::new(REMOVE_ORPHANS);
    let mut invocation = script.prepare_invoke();
    invocation.key(self.key(VIEWER_STATS_SET));
    for member in members {
      invocation.key(self.key(member)).arg(*member);
    }
    self
      .conn
      .run("Cannot clean viewer set in Redis", |mut c| async move {
        invocation.invoke_async(&mut c).await
      })
      .await
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn value_and_claim_keys() {
    let member = "local-video-viewer-stats-a1b2-c3-42";
    let mut cmd = redis::cmd("DEL");
    cmd
      .arg(key_arg("redis-h-", member))
      .arg(claim_arg("redis-h-", member));
    let packed = String::from_utf8(cmd.get_packed_command()).unwrap_or_default();
    assert_eq!(
      packed,
      "*3\r\n$3\r\nDEL\r\n\
       $43\r\nredis-h-local-video-viewer-stats-a1b2-c3-42\r\n\
       $62\r\nredis-h-native-views-claim-local-video-viewer-stats-a1b2-c3-42\r\n"
    );
  }
}
