//! Readers for the options PeerTube passes as they are in its YAML (decision D5).

use super::js::{Js, Kind};
use views_core::error::{Error, Result};
use views_core::geoip::GeoIpConfig;
use views_core::rules::duration::parse_duration_ms;
use views_core::rules::options::{OptionKind, OptionValue, Options};
use views_core::rules::validate;
use views_core::store::config::pem_or_file;
use views_core::store::{RedisConfig, SentinelConfig, TlsConfig};

/// Longest string accepted in options (paths, host names, passwords).
const MAX_OPTION_STRING: usize = 4096;

/// A property of an options object.
pub fn prop(object: Js, name: &str, field: &str) -> Result<Js> {
  object.get(name, field)
}

/// Reads an option set declared in the core: each option by its [`OptionKind`], the declared
/// default for those absent (`undefined` or `null`).
pub fn read_options<O: Options>(object: Js) -> Result<O> {
  let mut options = O::default();
  for (field, kind) in O::SHAPE.fields.iter().zip(O::KINDS) {
    let name = field.name;
    let value = prop(object, name, name)?;
    if value.kind().is_nullish() {
      continue;
    }
    let value = match kind {
      OptionKind::Duration => OptionValue::Ms(duration_value(value, name)?),
      OptionKind::Count { max } => OptionValue::Count(count_value(value, name, *max)?),
      OptionKind::Flag => OptionValue::Flag(value.boolean(name)?),
      OptionKind::Text { max } => OptionValue::Text(value.string(name, *max)?),
    };
    options.set(name, value)?;
  }
  Ok(options)
}

/// A duration option: ms as a number, or a PeerTube duration string; `default_ms` if absent.
pub fn duration(object: Js, name: &str, default_ms: u64) -> Result<u64> {
  let value = prop(object, name, name)?;
  if value.kind().is_nullish() {
    Ok(default_ms)
  } else {
    duration_value(value, name)
  }
}

/// A duration value (present).
fn duration_value(value: Js, name: &str) -> Result<u64> {
  match value.kind() {
    Kind::Number => validate::positive_duration_ms(name, value.number(name)?),
    Kind::String => {
      let text = value.string(name, 64)?;
      let ms = parse_duration_ms(&text).map_err(|e| Error::invalid_range(name, e))?;
      validate::positive_duration_ms(name, ms)
    }
    other => Err(Error::invalid_type(
      name,
      &format!(
        "a number of ms or a duration string like '10 seconds' (got {})",
        other.describe()
      ),
    )),
  }
}

/// A positive integer value within `[1, max]`.
fn count_value(value: Js, name: &str, max: u64) -> Result<u64> {
  let n = value.number(name)?;
  if n.fract() == 0.0 && n >= 1.0 && n <= max as f64 {
    Ok(n as u64)
  } else {
    Err(Error::invalid_range(
      name,
      format!("must be an integer from 1 to {max} (got {n})"),
    ))
  }
}

/// A boolean option.
pub fn boolean(object: Js, name: &str, default: bool) -> Result<bool> {
  let value = prop(object, name, name)?;
  Ok(value.optional(|v| v.boolean(name))?.unwrap_or(default))
}

/// A required non-empty string option.
pub fn required_string(object: Js, name: &str, max: usize) -> Result<String> {
  let value = prop(object, name, name)?;
  if value.kind().is_nullish() {
    return Err(Error::invalid_type(
      name,
      "a non-empty string (it is required)",
    ));
  }
  let text = value.string(name, max)?;
  if text.is_empty() {
    return Err(Error::invalid_range(name, "must not be empty"));
  }
  Ok(text)
}

fn optional_string(object: Js, name: &str, field: &str) -> Result<Option<String>> {
  prop(object, name, field)?.optional(|v| v.string(field, MAX_OPTION_STRING))
}

fn port(value: Js, field: &str) -> Result<Option<u16>> {
  match value.optional(|v| v.number(field))? {
    None => Ok(None),
    Some(n) if n.fract() == 0.0 && (1.0..=65535.0).contains(&n) => Ok(Some(n as u16)),
    Some(n) => Err(Error::invalid_range(
      field,
      format!("must be a port number (got {n})"),
    )),
  }
}

/// PeerTube's `redis` section: `{ hostname, port, socket, auth, db, sentinel }`, plus
/// `connectTimeout` and `responseTimeout` (ms or duration strings).
pub fn redis_config(value: Js) -> Result<RedisConfig> {
  let defaults = RedisConfig::default();
  if value.kind().is_nullish() {
    return Ok(defaults);
  }
  let object = value.expect_object("redis")?;
  let socket = optional_string(object, "socket", "redis.socket")?;
  let hostname = optional_string(object, "hostname", "redis.hostname")?;
  let port = port(prop(object, "port", "redis.port")?, "redis.port")?;
  let db = match prop(object, "db", "redis.db")?.optional(|v| v.number("redis.db"))? {
    None => 0,
    Some(n) if n.fract() == 0.0 && (0.0..=1_000_000.0).contains(&n) => n as i64,
    Some(n) => {
      return Err(Error::invalid_range(
        "redis.db",
        format!("must be a database number (got {n})"),
      ))
    }
  };
  let sentinel_value = prop(object, "sentinel", "redis.sentinel")?;
  let sentinel = match sentinel_value.kind() {
    kind if kind.is_nullish() => None,
    _ => sentinel_config(sentinel_value.expect_object("redis.sentinel")?)?,
  };
  let has_socket = socket.as_deref().is_some_and(|s| !s.is_empty());
  let explicit = has_socket || hostname.is_some() || port.is_some();
  let tls = tls_config(object, "redis")?;
  let config = RedisConfig {
    tls,
    hostname: if explicit {
      hostname
    } else {
      defaults.hostname
    },
    port: if explicit {
      port.or(Some(6379))
    } else {
      defaults.port
    },
    socket,
    auth: optional_string(object, "auth", "redis.auth")?,
    db,
    sentinel,
    connect_timeout_ms: duration(object, "connectTimeout", defaults.connect_timeout_ms)?,
    response_timeout_ms: duration(object, "responseTimeout", defaults.response_timeout_ms)?,
  };
  if config.sentinel.is_none()
    && !has_socket
    && config.hostname.as_deref().is_none_or(str::is_empty)
  {
    return Err(Error::invalid_range(
      "redis",
      "needs either socket, or hostname and port",
    ));
  }
  Ok(config)
}

fn sentinel_config(object: Js) -> Result<Option<SentinelConfig>> {
  if !boolean(object, "enabled", false)? {
    return Ok(None);
  }
  let master_name =
    optional_string(object, "master_name", "redis.sentinel.master_name")?.unwrap_or_default();
  if master_name.is_empty() {
    return Err(Error::invalid_range(
      "redis.sentinel.master_name",
      "must not be empty",
    ));
  }
  let list = prop(object, "sentinels", "redis.sentinel.sentinels")?;
  if list.kind() != Kind::Array {
    return Err(Error::invalid_type(
      "redis.sentinel.sentinels",
      "an array of { hostname, port }",
    ));
  }
  let mut sentinels = Vec::new();
  for (i, item) in list
    .elements("redis.sentinel.sentinels", 64)?
    .into_iter()
    .enumerate()
  {
    let field = format!("redis.sentinel.sentinels[{i}]");
    let item = item.expect_object(&field)?;
    // PeerTube's YAML says `hostname`; ioredis (and later PeerTube) say `host`: accept both.
    let host = match optional_string(item, "hostname", &format!("{field}.hostname"))? {
      Some(host) => Some(host),
      None => optional_string(item, "host", &format!("{field}.host"))?,
    };
    let host = host
      .filter(|h| !h.is_empty())
      .ok_or_else(|| Error::invalid_type(&format!("{field}.hostname"), "a non-empty string"))?;
    let port = port(
      prop(item, "port", &format!("{field}.port"))?,
      &format!("{field}.port"),
    )?
    .unwrap_or(26379);
    sentinels.push((host, port));
  }
  if sentinels.is_empty() {
    return Err(Error::invalid_range(
      "redis.sentinel.sentinels",
      "must list at least one sentinel",
    ));
  }
  Ok(Some(SentinelConfig {
    master_name,
    sentinels,
    password: optional_string(object, "password", "redis.sentinel.password")?,
    tls: tls_config(object, "redis.sentinel")?,
  }))
}

/// PeerTube 8's `enable_tls` and `tls_settings: { reject_unauthorized, ca, cert, key }` of
/// `object` (the `redis` section or its `sentinel`): `None` unless `enable_tls` is true. `ca`,
/// `cert` and `key` are PEM text or paths of PEM files; `cert` and `key` go together.
fn tls_config(object: Js, section: &str) -> Result<Option<TlsConfig>> {
  let enabled = prop(object, "enable_tls", &format!("{section}.enable_tls"))?
    .optional(|v| v.boolean(&format!("{section}.enable_tls")))?
    .unwrap_or(false);
  if !enabled {
    return Ok(None);
  }
  let field = format!("{section}.tls_settings");
  let settings = prop(object, "tls_settings", &field)?;
  if settings.kind().is_nullish() {
    return Ok(Some(TlsConfig::default()));
  }
  let settings = settings.expect_object(&field)?;
  let pem = |name: &str| -> Result<Option<Vec<u8>>> {
    let path = format!("{field}.{name}");
    optional_string(settings, name, &path)?
      .filter(|text| !text.is_empty())
      .map(|text| pem_or_file(&path, &text))
      .transpose()
  };
  let reject_unauthorized = prop(
    settings,
    "reject_unauthorized",
    &format!("{field}.reject_unauthorized"),
  )?
  .optional(|v| v.boolean(&format!("{field}.reject_unauthorized")))?
  .unwrap_or(true);
  let client = match (pem("cert")?, pem("key")?) {
    (Some(cert), Some(key)) => Some((cert, key)),
    (None, None) => None,
    _ => {
      return Err(Error::invalid_range(
        &field,
        "needs both cert and key for a client certificate, or neither",
      ))
    }
  };
  Ok(Some(TlsConfig {
    reject_unauthorized,
    ca: pem("ca")?,
    client,
  }))
}

/// `geoIp`: `null`/absent (disabled) or `{ countryDatabasePath, cityDatabasePath }`.
pub fn geoip_config(value: Js) -> Result<Option<GeoIpConfig>> {
  if value.kind().is_nullish() {
    return Ok(None);
  }
  let object = value.expect_object("geoIp")?;
  Ok(Some(GeoIpConfig {
    country_database_path: optional_string(
      object,
      "countryDatabasePath",
      "geoIp.countryDatabasePath",
    )?,
    city_database_path: optional_string(object, "cityDatabasePath", "geoIp.cityDatabasePath")?,
  }))
}

/// A required callback option.
pub fn function(object: Js, name: &str) -> Result<Js> {
  let value = prop(object, name, name)?;
  match value.kind() {
    Kind::Function => Ok(value),
    other => Err(Error::invalid_type(
      name,
      &format!("a function (got {})", other.describe()),
    )),
  }
}

/// Reads the inputs shared by every entry point. Hot paths: static property names, no
/// allocation beyond the strings they return.
pub mod input {
  use super::*;
  use views_core::rules::sections::ViewEvent;

  /// A `video.id` value.
  pub fn id_value(value: Js) -> Result<u64> {
    validate::database_id("video.id", value.number("video.id")?)
  }

  /// A required `video.uuid` value.
  pub fn uuid_value(value: Js) -> Result<String> {
    let uuid = value.string("video.uuid", 128)?;
    check_uuid(&uuid)?;
    Ok(uuid)
  }

  fn check_uuid(uuid: &str) -> Result<()> {
    if uuid.is_empty() {
      return Err(Error::invalid_range("video.uuid", "must not be empty"));
    }
    Ok(())
  }

  /// A `video.remote` value (absent: `false`).
  pub fn remote_value(value: Js) -> Result<bool> {
    Ok(
      value
        .optional(|v| v.boolean("video.remote"))?
        .unwrap_or(false),
    )
  }

  /// `{ id, uuid, remote }` from values; the uuid is read on the stack and shared through
  /// `uuids` (same checks and errors as [`uuid_value`]).
  pub fn video_info_values(
    id: Js,
    uuid: Js,
    remote: Js,
    uuids: &crate::binding::uuid_cache::UuidCache,
  ) -> Result<views_core::rules::counters::VideoInfo> {
    Ok(views_core::rules::counters::VideoInfo {
      id: id_value(id)?,
      uuid: uuid.with_short_string::<128, _>("video.uuid", |text| {
        check_uuid(text)?;
        Ok(uuids.get(text))
      })?,
      remote: remote_value(remote)?,
    })
  }

  /// `duration` and `isLive` values of a video.
  pub fn duration_and_live(duration: Js, is_live: Js) -> Result<(Option<f64>, bool)> {
    let duration = duration.optional(|v| {
      let d = v.number("video.duration")?;
      if d.is_finite() && d >= 0.0 {
        Ok(d)
      } else {
        Err(Error::invalid_range(
          "video.duration",
          format!("must be a number of seconds >= 0 (got {d})"),
        ))
      }
    })?;
    let is_live = is_live
      .optional(|v| v.boolean("video.isLive"))?
      .unwrap_or(false);
    Ok((duration, is_live))
  }

  /// `input.video`, which must be an object.
  pub fn video_object(input: Js) -> Result<Js> {
    input.get_c(c"video", "video")?.expect_object("video")
  }

  /// A video as the counters need it, from its `id`, `uuid` (required) and `remote` values.
  pub fn video_info(
    id: Js,
    uuid: Js,
    remote: Js,
  ) -> Result<views_core::rules::counters::VideoInfo> {
    Ok(views_core::rules::counters::VideoInfo {
      id: id_value(id)?,
      uuid: uuid_value(uuid)?.into(),
      remote: remote_value(remote)?,
    })
  }

  /// A video object as the counters need it: `{ id, uuid, remote }` (a host's answer, a View's
  /// `video`).
  pub fn video_info_object(video: Js) -> Result<views_core::rules::counters::VideoInfo> {
    video_info(
      video.get_c(c"id", "video.id")?,
      video.get_c(c"uuid", "video.uuid")?,
      video.get_c(c"remote", "video.remote")?,
    )
  }

  /// A session id value (validated) as a packed key, without allocating for packable ids.
  pub fn session_key_value(value: Js) -> Result<views_core::rules::session::SessionKey> {
    value.with_short_string::<{ validate::MAX_SESSION_ID_LENGTH }, _>("sessionId", |text| {
      validate::session_id("sessionId", text)?;
      Ok(views_core::rules::session::SessionKey::from(text))
    })
  }

  /// The manager's `sessionId` value: absent or empty gives `None` (the IP identity, as
  /// PeerTube's `!sessionId`), else a session id within the length bound.
  pub fn view_session_id_value(value: Js) -> Result<Option<String>> {
    let text = value.optional(|v| v.string("sessionId", validate::MAX_SESSION_ID_LENGTH))?;
    Ok(text.filter(|text| !text.is_empty()))
  }

  /// A session id value (validated).
  pub fn session_id_value(value: Js) -> Result<String> {
    let text = value.string("sessionId", validate::MAX_SESSION_ID_LENGTH)?;
    validate::session_id("sessionId", &text)?;
    Ok(text)
  }

  /// A `viewEvent` value: absent or `'seek'`.
  pub fn view_event_value(value: Js) -> Result<Option<ViewEvent>> {
    let text = value.optional(|v| v.string("viewEvent", 64))?;
    validate::view_event("viewEvent", text.as_deref())
  }
}
