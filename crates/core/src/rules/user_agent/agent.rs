//! A viewer's user-agent stats and how a heartbeat's fields make them: the player's body
//! fields win, one by one; what it leaves out comes from the `User-Agent` header.

use super::{parse_user_agent, Device};
use std::sync::Arc;

/// A viewer's `client`, `device` and `operatingSystem` (PeerTube >= 7.2); `None` is `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct UserAgentStats {
  /// Browser or app name (`browser.name`).
  pub client: Option<Arc<str>>,
  /// Device type, PeerTube's list.
  pub device: Option<Device>,
  /// Operating system name (`os.name`).
  pub operating_system: Option<Arc<str>>,
}

/// What one heartbeat says of its user agent (read only for a new viewer).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserAgentInput {
  /// The request's `User-Agent` header.
  pub user_agent: Option<String>,
  /// The body's `client`.
  pub client: Option<String>,
  /// The body's `device`: `Some(None)` when given but not one of PeerTube's devices (PeerTube's
  /// `toVideoViewUADeviceOrNull` makes it `null`).
  pub device: Option<Option<Device>>,
  /// The body's `operatingSystem`.
  pub operating_system: Option<String>,
}

impl UserAgentInput {
  /// Whether the body gave every field (the header is not parsed then).
  pub fn body_is_complete(&self) -> bool {
    self.client.is_some() && self.device.is_some() && self.operating_system.is_some()
  }

  /// Whether the body gave none (the stats are the header's alone, and can be cached by it).
  pub fn body_is_empty(&self) -> bool {
    self.client.is_none() && self.device.is_none() && self.operating_system.is_none()
  }
}

/// The stats of `user_agent` alone; `name` makes the shared text of a name.
pub fn stats_of_header(user_agent: &str, name: &mut dyn FnMut(&str) -> Arc<str>) -> UserAgentStats {
  let parsed = parse_user_agent(user_agent);
  UserAgentStats {
    client: parsed.client.map(&mut *name),
    device: parsed.device,
    operating_system: parsed.operating_system.map(&mut *name),
  }
}

/// The body's fields over `header` (the header's stats, when the body left a field out).
pub fn with_body(
  input: &UserAgentInput,
  header: Option<&UserAgentStats>,
  name: &mut dyn FnMut(&str) -> Arc<str>,
) -> UserAgentStats {
  UserAgentStats {
    client: match &input.client {
      Some(client) => Some(name(client)),
      None => header.and_then(|h| h.client.clone()),
    },
    device: match input.device {
      Some(device) => device,
      None => header.and_then(|h| h.device),
    },
    operating_system: match &input.operating_system {
      Some(os) => Some(name(os)),
      None => header.and_then(|h| h.operating_system.clone()),
    },
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  const FIREFOX_LINUX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";

  fn name(text: &str) -> Arc<str> {
    Arc::from(text)
  }

  #[test]
  fn the_header_alone() {
    let stats = stats_of_header(FIREFOX_LINUX, &mut name);
    assert_eq!(stats.client.as_deref(), Some("Firefox"));
    assert_eq!(stats.device, Some(Device::Desktop));
    assert_eq!(stats.operating_system.as_deref(), Some("Linux"));
  }

  #[test]
  fn body_fields_win_one_by_one() {
    let header = stats_of_header(FIREFOX_LINUX, &mut name);
    let input = UserAgentInput {
      client: Some("PeerTube iOS".into()),
      device: Some(None),
      ..UserAgentInput::default()
    };
    let stats = with_body(&input, Some(&header), &mut name);
    assert_eq!(stats.client.as_deref(), Some("PeerTube iOS"));
    assert_eq!(stats.device, None);
    assert_eq!(stats.operating_system.as_deref(), Some("Linux"));
    assert!(!input.body_is_complete() && !input.body_is_empty());
    assert_eq!(
      with_body(&UserAgentInput::default(), None, &mut name),
      UserAgentStats::default()
    );
  }
}
