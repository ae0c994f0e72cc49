//! User-agent statistics (PeerTube >= 7.2): the viewer's `client` (browser), `device` and
//! `operatingSystem`, from the player's body when it sends them, else from the `User-Agent`
//! header, parsed as PeerTube parses it with ua-parser-js 2.x (`browser.name`, `device.type`,
//! `os.name`).
//!
//! The parser is this crate's own: a few ordered rules over an ASCII-lowercase copy of the
//! user agent, no regular expressions and no table of models. Its agreement with ua-parser-js
//! on real traffic, and its speed, are measured by `bench/user-agents.js` and held by
//! `__test__/user-agent.spec.js`. Parsing cannot fail: what is not recognised is `None`.

mod agent;
mod browser;
mod browser_engines;
mod device;
mod os;
mod text;

#[cfg(test)]
mod tests;

pub use agent::{stats_of_header, with_body, UserAgentInput, UserAgentStats};
use text::Text;

/// PeerTube's device list (`VideoStatsUserAgentDevice`), ua-parser-js's device types plus
/// `desktop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
  /// Game console.
  Console,
  /// Embedded system (car, smart speaker).
  Embedded,
  /// Phone.
  Mobile,
  /// Smart TV or TV box.
  SmartTv,
  /// Tablet.
  Tablet,
  /// Watch.
  Wearable,
  /// VR / AR headset.
  Xr,
  /// A browser without a device type: a computer.
  Desktop,
}

impl Device {
  /// Its TypeScript type (PeerTube's `VideoStatsUserAgentDevice`, or `null`).
  pub const TS: &'static str =
    "'console' | 'embedded' | 'mobile' | 'smarttv' | 'tablet' | 'wearable' | 'xr' | 'desktop' | null";

  /// Every device, in PeerTube's order.
  pub const ALL: [Device; 8] = [
    Device::Console,
    Device::Embedded,
    Device::Mobile,
    Device::SmartTv,
    Device::Tablet,
    Device::Wearable,
    Device::Xr,
    Device::Desktop,
  ];

  /// PeerTube's name (`'smarttv'`).
  pub fn as_str(self) -> &'static str {
    match self {
      Device::Console => "console",
      Device::Embedded => "embedded",
      Device::Mobile => "mobile",
      Device::SmartTv => "smarttv",
      Device::Tablet => "tablet",
      Device::Wearable => "wearable",
      Device::Xr => "xr",
      Device::Desktop => "desktop",
    }
  }

  /// PeerTube's `toVideoViewUADeviceOrNull`: a name of the list, else `None`.
  pub fn from_name(name: &str) -> Option<Device> {
    Device::ALL.into_iter().find(|d| d.as_str() == name)
  }
}

/// What ua-parser-js 2.x says of a user agent, in PeerTube's terms.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParsedUserAgent<'a> {
  /// `browser.name`.
  pub client: Option<&'a str>,
  /// `device.type`, or `desktop` when a browser was found without a device type.
  pub device: Option<Device>,
  /// `os.name`.
  pub operating_system: Option<&'a str>,
}

/// Parses a `User-Agent` header. Never fails; the names borrow from `user_agent` or are static.
pub fn parse_user_agent(user_agent: &str) -> ParsedUserAgent<'_> {
  let text = Text::new(user_agent);
  if text.len() == 0 {
    return ParsedUserAgent::default();
  }
  let client = browser::browser(&text);
  let device = device::device(&text).or(client.map(|_| Device::Desktop));
  ParsedUserAgent {
    client,
    device,
    operating_system: os::os(&text),
  }
}
