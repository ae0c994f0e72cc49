//! The device type: ua-parser-js's `device.type` for the same user agent.
//!
//! ua-parser-js knows thousands of phone and tablet models; on today's traffic the type comes
//! from a few of them (Apple's, Samsung's tablets, Amazon's) and from the generic Android rule
//! (`Mobile Safari` is a phone, plain `Safari` a tablet). Those are kept; so are the TV,
//! console, wearable, XR and embedded markers that PeerTube's device list can tell apart.

use super::text::{is_word, Text};
use super::Device;

/// ua-parser-js's `device.type`, if it finds one.
pub fn device(t: &Text) -> Option<Device> {
  if is_samsung_tablet(t) {
    return Some(Device::Tablet);
  }
  if is_samsung_phone(t) {
    return Some(Device::Mobile);
  }
  if is_apple_phone(t) {
    return Some(Device::Mobile);
  }
  if is_ipad(t) {
    return Some(Device::Tablet);
  }
  if t.has("macintosh;") {
    return None;
  }
  if is_known_tablet(t) {
    return Some(Device::Tablet);
  }
  if is_vendor_phone(t) {
    return Some(Device::Mobile);
  }
  if let Some(kind) = marked(t) {
    return Some(kind);
  }
  generic(t)
}

/// `SM-T`, `SM-P`, `SM-X`, `GT-P`, `GT-N` models and the Nexus 10.
fn is_samsung_tablet(t: &Text) -> bool {
  for prefix in ["sm-t", "sm-p", "sm-x"] {
    if let Some(at) = t.find_word(prefix) {
      let model = t.rest(at + 4).bytes().take_while(|b| is_word(*b)).count();
      if (2..).contains(&(model + 1)) && model >= 1 {
        return true;
      }
    }
  }
  for prefix in ["gt-p", "gt-n"] {
    if let Some(at) = t.find_word(prefix) {
      let digits = t
        .rest(at + 4)
        .bytes()
        .take_while(u8::is_ascii_digit)
        .count();
      if digits >= 2 {
        return true;
      }
    }
  }
  if let Some(at) = t.find_word("sch-i") {
    let rest = t.rest(at + 5).as_bytes();
    if rest.len() >= 3
      && matches!(rest[0], b'8' | b'9')
      && rest[1] == b'0'
      && rest[2].is_ascii_digit()
    {
      return true;
    }
  }
  t.has("nexus 10")
}

/// Other Samsung models (`SM-S918B`, `GT-I9300`), but not watches (`SM-R`) or `SM-L`.
fn is_samsung_phone(t: &Text) -> bool {
  for prefix in ["sm-", "gt-", "sch-", "sgh-", "sph-"] {
    let mut from = 0;
    while let Some(at) = t.find_from(from, prefix) {
      let starts = at == 0 || !is_word(t.byte(at - 1));
      let next = t.byte(at + prefix.len());
      if starts && is_word(next) && !(prefix == "sm-" && (next == b'l' || next == b'r')) {
        return true;
      }
      from = at + 1;
    }
  }
  if t.has("galaxy nexus") {
    return true;
  }
  for prefix in ["samsung-", "samsung "] {
    if let Some(at) = t.find(prefix) {
      let rest = t.rest(at + prefix.len());
      if !rest.starts_with("sm-l")
        && !rest.starts_with("sm-r")
        && !rest.starts_with("browser")
        && rest.bytes().next().is_some_and(|b| is_word(b) || b == b'-')
      {
        return true;
      }
    }
  }
  false
}

/// `(iPhone;`, `(iPod touch;`, `/iPhone13,2;`.
fn is_apple_phone(t: &Text) -> bool {
  for model in ["iphone", "ipod"] {
    let mut from = 0;
    while let Some(at) = t.find_from(from, model) {
      let before = if at == 0 { 0 } else { t.byte(at - 1) };
      if before == b'/' || before == b'(' {
        let mut end = at + model.len();
        while is_word(t.byte(end)) || t.byte(end) == b',' || t.byte(end) == b' ' {
          end += 1;
        }
        if matches!(t.byte(end), b'/' | b')' | b';') {
          return true;
        }
      }
      from = at + 1;
    }
  }
  false
}

/// `(iPad; CPU OS 17_0 like Mac OS X)` and iPad apps (`.../iPad13,1`).
fn is_ipad(t: &Text) -> bool {
  let Some(at) = t.find("ipad") else {
    return false;
  };
  let mut end = at + 4;
  while t.byte(end).is_ascii_digit() || t.byte(end) == b',' {
    end += 1;
  }
  let after = t.rest(end + 1);
  let delimited = matches!(t.byte(end), b';' | b']' | b' ');
  if delimited && (after.contains("mac os") || after.contains("ios") || after.contains("ipados")) {
    return true;
  }
  let before = &t.rest(0)[..at];
  (before.contains("ios/") || before.contains("apple"))
    && matches!(before.as_bytes().last(), Some(b'(' | b'/'))
}

/// Tablets named by their model: Kindle Fire, Pixel Tablet, Mi Pad, Lenovo Tab, Surface Duo.
fn is_known_tablet(t: &Text) -> bool {
  if t.has("kindle/") || t.has("pixel tablet") || t.has("pixel c)") || t.has("surface duo") {
    return true;
  }
  if let Some(at) = t.find("; kf") {
    let model = t
      .rest(at + 2)
      .bytes()
      .take_while(u8::is_ascii_alphabetic)
      .count();
    if model >= 4 && (t.has("silk/") || t.rest(at + 2 + model).starts_with(" bui")) {
      return true;
    }
  }
  for pad in ["mi pad", "mipad", "mi-pad", "redmi pad", "xiaomi pad"] {
    if t.has(pad) {
      return true;
    }
  }
  if t.has("playbook;") || t.has("xoom") || t.has("nexus 7") || t.has("nexus 9") {
    return true;
  }
  t.has("lenovo tab") || t.has("lenovo tb-") || t.has("ideatab")
}

/// Phone makers of the feature-phone era and their successors (`Nokia6230/2.0`,
/// `SonyEricssonK800i`, `BlackBerry9700`, `HTC_`, `LG-`), the way their names start a model.
fn is_vendor_phone(t: &Text) -> bool {
  let makers = [
    "blackberry",
    "sonyericsson",
    "nokia",
    "htc",
    "zte",
    "alcatel",
    "(bb10;",
  ];
  if makers.iter().any(|maker| t.find_word(maker).is_some()) {
    return true;
  }
  if t
    .find_word("sony")
    .is_some_and(|at| !t.rest(at + 4).starts_with("-bra"))
  {
    return true;
  }
  if t.has("sec-sgh") || t.has("palm-") {
    return true;
  }
  if let Some(at) = t.find_word("lg") {
    let rest = t.rest(at + 2);
    let sep = rest
      .bytes()
      .take_while(|b| matches!(b, b'-' | b'e' | b';' | b'/' | b' '))
      .count();
    let excluded = ["browser", "netcast", "android tv", "watch", "webos"];
    if sep > 0
      && rest[sep..].bytes().next().is_some_and(is_word)
      && !excluded.iter().any(|x| rest.contains(x))
    {
      return true;
    }
  }
  false
}

/// Consoles, TVs, wearables, XR headsets and embedded systems, by their markers.
fn marked(t: &Text) -> Option<Device> {
  if t.has("smart-tv") && t.has("samsung") || t.has("hbbtv") || t.has("crkey") || t.has("appletv") {
    return Some(Device::SmartTv);
  }
  if t.has("apple tv") || t.has("roku") || t.has("bravia") || t.has("aquos") || t.has("portaltv") {
    return Some(Device::SmartTv);
  }
  if t.has_after("droid", "; aft") || t.has("shield android tv") || t.has("mibox") {
    return Some(Device::SmartTv);
  }
  if t.has("playstation ") || t.has("nintendo ") || t.has("ouya") || t.has("steam deck") {
    return Some(Device::Console);
  }
  if let Some(at) = t.find("xbox") {
    if !t.rest(at).starts_with("xbox; xbox") {
      return Some(Device::Console);
    }
  }
  if t.has("watch os") || t.has("watchos") || t.has("gear live") || t.has("pixel watch") {
    return Some(Device::Wearable);
  }
  if t.has("sm-r") && t.find_word("sm-r").is_some() {
    return Some(Device::Wearable);
  }
  if t.has("quest") && t.has("vr") || t.has("mobile vr; rv") || t.has("; glass ") {
    return Some(Device::Xr);
  }
  if t.has("tesla") || t.has("windows iot") || t.has("aeobc") {
    return Some(Device::Embedded);
  }
  let tv = [
    "android tv",
    "androidtv",
    "smart tv",
    "smarttv",
    "smart-tv",
    "4k tv",
    "opera tv",
  ];
  if tv.iter().any(|marker| t.has(marker)) || t.has("tv; rv:") || t.has("large screen") {
    return Some(Device::SmartTv);
  }
  None
}

/// The generic rules: Android by its `Safari` token, then `Tablet` and `Mobile` markers.
fn generic(t: &Text) -> Option<Device> {
  if let Some(kind) = generic_android(t) {
    return Some(kind);
  }
  let rest = t.rest(0);
  for marker in ["tablet;", "tablet/", "tab;", "tab/"] {
    if let Some(at) = rest.find(marker) {
      if at == 0 || !is_word(t.byte(at - 1)) {
        return Some(Device::Tablet);
      }
    }
  }
  if let Some(at) = t.product("focus") {
    if t.find_from(at, "mobile").is_none() {
      return Some(Device::Tablet);
    }
  }
  if rest.contains("phone") || rest.contains("mobile;") || rest.contains("mobile/") {
    return Some(Device::Mobile);
  }
  if let Some(at) = rest.find("mobile ") {
    if t.find_from(at, "safari").is_some() {
      return Some(Device::Mobile);
    }
  }
  None
}

/// `Android 14; <model>) AppleWebKit ... Mobile Safari` (phone), `... 537.36 Safari` (tablet),
/// `... VR Safari` (headset): the model is a `; `-started run without `;` that a build, WebView
/// or engine marker ends.
fn generic_android(t: &Text) -> Option<Device> {
  let droid = t.find("droid ")?;
  let mut from = droid;
  while let Some(start) = t.find_from(from, "; ") {
    if let Some(end) = model_end(t, start + 2) {
      return safari_kind(t, end + 1);
    }
    from = start + 1;
  }
  None
}

/// Where the model starting at `start` ends, if a marker ends it before any `;`.
fn model_end(t: &Text, start: usize) -> Option<usize> {
  let segment_end = t.find_from(start, ";").unwrap_or(t.len());
  let rest = t.rest(start);
  let bounded = |marker: &str, allow_semicolon: bool| {
    rest
      .get(1..)
      .and_then(|r| r.find(marker))
      .map(|at| start + 1 + at)
      .filter(|at| *at < segment_end || allow_semicolon && *at == segment_end)
  };
  [
    bounded(" bui", false),
    bounded(") applew", false),
    bounded("; wv)", true),
    bounded("; hmsc", true),
  ]
  .into_iter()
  .flatten()
  .min()
}

/// The first `mobile safari`, `vr safari` or `<digit> safari` from `from`.
fn safari_kind(t: &Text, from: usize) -> Option<Device> {
  let mut search = from;
  while let Some(at) = t.find_from(search, " safari") {
    let before = &t.rest(0)[from..at];
    if before.ends_with("mobile") {
      return Some(Device::Mobile);
    }
    if before.ends_with("vr") {
      return Some(Device::Xr);
    }
    if before.as_bytes().last().is_some_and(u8::is_ascii_digit) {
      return Some(Device::Tablet);
    }
    search = at + 1;
  }
  None
}
