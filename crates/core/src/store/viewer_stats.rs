//! Redis commands of the viewer stats (B26, B27, B32), atomic where PeerTube is not (Q5).

use super::connection::RedisConnection;
use super::packed::{Concat, PackedViewers};
use super::stats_store::StatsStore;
use crate::error::{Error, ErrorCode, Result};
use crate::rules::keys::{PROCESS_LEASE_KEY, VIEWER_STATS_SET};
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

/// Takes the lease if free, renews it if this token holds it (KEYS[1]: lease; ARGV: token,
/// ttl ms). Returns 1 when the token holds it afterwards, 0 when another does.
const TAKE_LEASE: &str = r"
local holder = redis.call('GET', KEYS[1])
if holder == false then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
elseif holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
";

/// Deletes the lease if this token holds it (KEYS[1]: lease; ARGV[1]: token).
static RELEASE_LEASE: Lazy<Script> = Lazy::new(|| {
  Script::new(
    r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
end
return 0
",
  )
});

/// [`TAKE_LEASE`] on its own (`EVALSHA`, loaded on first use).
static TAKE_LEASE_SCRIPT: Lazy<Script> = Lazy::new(|| Script::new(TAKE_LEASE));

/// A viewer's value key, `{prefix}{member}`, as one argument built in place.
fn key_arg<'a>(prefix: &'a str, member: &'a str) -> Concat<'a, 2> {
  Concat([prefix, member])
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

  /// `SSCAN set cursor COUNT count`.
  async fn scan_members(&self, cursor: u64, count: usize) -> Result<(u64, Vec<String>)> {
    let key = self.key(VIEWER_STATS_SET);
    let (next, members): (String, Vec<String>) = self
      .conn
      .run("Cannot list viewers in Redis", |mut c| async move {
        redis::cmd("SSCAN")
          .arg(key)
          .arg(cursor)
          .arg("COUNT")
          .arg(count.max(1))
          .query_async(&mut c)
          .await
      })
      .await?;
    let next = next.parse().map_err(|_| {
      Error::new(
        ErrorCode::Internal,
        "Redis answered SSCAN with a cursor that is not a number",
      )
    })?;
    Ok((next, members))
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

  /// [`TAKE_LEASE`] as a script of its own.
  async fn take_lease(&self, token: &str, ttl_ms: u64) -> Result<bool> {
    let mut invocation = TAKE_LEASE_SCRIPT.prepare_invoke();
    invocation
      .key(self.key(PROCESS_LEASE_KEY))
      .arg(token)
      .arg(ttl_ms.max(1));
    self
      .conn
      .run(
        "Cannot take the processing lease in Redis",
        |mut c| async move { invocation.invoke_async(&mut c).await },
      )
      .await
  }

  /// One transaction: `MULTI { EVAL take-lease, MGET keys... }`. The `MGET` has no effect, so
  /// its values are simply dropped when the lease is someone else's. (`EVAL` and not `EVALSHA`:
  /// inside a transaction a missing script could not be loaded and retried; Redis compiles the
  /// body once and keeps it.)
  async fn read_leased(
    &self,
    members: &[&str],
    token: &str,
    ttl_ms: u64,
  ) -> Result<Option<Vec<Option<String>>>> {
    let mut pipe = redis::Pipeline::with_capacity(2);
    pipe.atomic();
    pipe
      .cmd("EVAL")
      .arg(TAKE_LEASE)
      .arg(1)
      .arg(self.key(PROCESS_LEASE_KEY))
      .arg(token)
      .arg(ttl_ms.max(1));
    let key_bytes: usize = members.iter().map(|m| self.prefix.len() + m.len()).sum();
    let mut mget = Cmd::with_capacity(1 + members.len(), 4 + key_bytes);
    mget.arg("MGET");
    for member in members {
      mget.arg(key_arg(&self.prefix, member));
    }
    if !members.is_empty() {
      pipe.add_command(mget);
    }
    let mut replies: Vec<redis::Value> = self
      .conn
      .run(
        "Cannot read viewers to process from Redis",
        |mut c| async move { pipe.query_async(&mut c).await },
      )
      .await?;
    let wrong = || {
      Error::new(
        ErrorCode::Internal,
        "Redis answered the processing transaction with unexpected replies",
      )
    };
    let expected = if members.is_empty() { 1 } else { 2 };
    if replies.len() != expected {
      return Err(wrong());
    }
    let values: Vec<Option<String>> = if members.is_empty() {
      Vec::new()
    } else {
      replies
        .pop()
        .and_then(|mget| redis::from_redis_value(mget).ok())
        .filter(|values: &Vec<Option<String>>| values.len() == members.len())
        .ok_or_else(wrong)?
    };
    let held = replies
      .pop()
      .and_then(|lease| redis::from_redis_value::<i64>(lease).ok())
      .ok_or_else(wrong)?;
    Ok((held == 1).then_some(values))
  }

  /// Compare-and-delete of the lease.
  async fn release_lease(&self, token: &str) -> Result<()> {
    let mut invocation = RELEASE_LEASE.prepare_invoke();
    invocation.key(self.key(PROCESS_LEASE_KEY)).arg(token);
    self
      .conn
      .run(
        "Cannot release the processing lease in Redis",
        |mut c| async move { invocation.invoke_async::<()>(&mut c).await },
      )
      .await
  }

  /// Deletes viewers atomically: one `MULTI { SREM set members..., DEL keys... }`.
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
      del.arg(key_arg(&self.prefix, member));
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
  fn value_keys_are_built_in_place() {
    let member = "local-video-viewer-stats-a1b2-c3-42";
    let mut cmd = redis::cmd("DEL");
    cmd.arg(key_arg("redis-h-", member));
    let packed = String::from_utf8(cmd.get_packed_command()).unwrap_or_default();
    assert_eq!(
      packed,
      "*2\r\n$3\r\nDEL\r\n$43\r\nredis-h-local-video-viewer-stats-a1b2-c3-42\r\n"
    );
  }
}
