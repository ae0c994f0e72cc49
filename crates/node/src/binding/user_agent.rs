//! User-agent input (PeerTube >= 7.2) and `parseUserAgent`.
// In `cargo test` builds napi does not register exports, so these look unused there.
#![cfg_attr(test, allow(dead_code))]

use super::errors::to_napi;
use super::js::Js;
use napi::bindgen_prelude::{Either, Env, Null, Unknown};
use napi::JsValue;
use napi_derive::napi;
use views_core::error::Result;
use views_core::rules::user_agent::{parse_user_agent as parse, Device, UserAgentInput};

/// Bytes of a `User-Agent` read: ua-parser-js reads its first 500 UTF-16 units, which are at
/// most 1,500 UTF-8 bytes; a longer header is cut, never refused (a heartbeat never fails on
/// its user agent).
const USER_AGENT_READ: usize = 1_500;

/// Longest body `client` or `operatingSystem`, bytes.
const MAX_BODY_NAME: usize = 256;

/// The heartbeat's `userAgent`, `client`, `device` and `operatingSystem` when the engine keeps
/// user-agent stats (`read`; nothing is read otherwise): each absent when `null`, `undefined` or
/// empty. A value that is not a string, or a body name longer than 256 bytes, is an
/// `INVALID_ARGUMENT`.
pub fn user_agent_input(
  read: bool,
  user_agent: Js,
  client: Js,
  device: Js,
  operating_system: Js,
) -> Result<Option<UserAgentInput>> {
  if !read {
    return Ok(None);
  }
  let non_empty = |text: String| (!text.is_empty()).then_some(text);
  let name = |value: Js, field: &str| -> Result<Option<String>> {
    Ok(
      value
        .optional(|v| v.string(field, MAX_BODY_NAME))?
        .and_then(non_empty),
    )
  };
  Ok(Some(UserAgentInput {
    user_agent: user_agent
      .optional(|v| v.string_prefix("userAgent", USER_AGENT_READ))?
      .and_then(non_empty),
    client: name(client, "client")?,
    // PeerTube's `toVideoViewUADeviceOrNull`: a name that is not a device is `null`.
    device: name(device, "device")?.map(|d| Device::from_name(&d)),
    operating_system: name(operating_system, "operatingSystem")?,
  }))
}

/// What `parseUserAgent` says of a user agent: ua-parser-js 2.x's answers in PeerTube's terms.
#[napi(object)]
pub struct ParsedUserAgent {
  /// `browser.name`, or `null`.
  #[napi(ts_type = "string | null")]
  pub client: Either<String, Null>,
  /// `device.type`, `'desktop'` for a browser without one, or `null`.
  #[napi(ts_type = "string | null")]
  pub device: Either<String, Null>,
  /// `os.name`, or `null`.
  #[napi(ts_type = "string | null")]
  pub operating_system: Either<String, Null>,
}

/// Parses a `User-Agent` header as the engine does for a new viewer (PeerTube >= 7.2). Throws
/// `INVALID_ARGUMENT` when `userAgent` is not a string.
#[napi(catch_unwind, ts_args_type = "userAgent: string")]
pub fn parse_user_agent(env: Env, user_agent: Unknown) -> napi::Result<ParsedUserAgent> {
  let text = Js::new(env.raw(), user_agent.raw())
    .string_prefix("userAgent", USER_AGENT_READ)
    .map_err(|e| to_napi(env.raw(), &e))?;
  let parsed = parse(&text);
  let text_or_null = |text: Option<&str>| match text {
    Some(text) => Either::A(text.to_string()),
    None => Either::B(Null),
  };
  Ok(ParsedUserAgent {
    client: text_or_null(parsed.client),
    device: text_or_null(parsed.device.map(Device::as_str)),
    operating_system: text_or_null(parsed.operating_system),
  })
}
