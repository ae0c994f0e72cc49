//! The browsers ua-parser-js names after every product and in-app rule: the Blink family,
//! Safari and WebKit, Gecko and Mozilla, then text browsers and other engines.

use super::text::{is_version, is_word, named_with_version, Text};

/// Gecko browsers whose token ends the user agent (`SeaMonkey/2.53`).
const GECKO_LAST: &[&str] = &[
  "seamonkey",
  "k-meleon",
  "icecat",
  "iceape",
  "firebird",
  "phoenix",
  "basilisk",
  "waterfox",
];

/// Gecko browsers named anywhere, copied as written.
const GECKO_NAMED: &[&str] = &[
  "icedragon",
  "iceweasel",
  "camino",
  "chimera",
  "fennec",
  "maemo browser",
  "minimo",
  "conkeror",
];

/// Text browsers and other engines, copied as written.
const OTHERS: &[&str] = &[
  "amaya", "dillo", "doris", "icab", "ladybird", "lynx", "mosaic", "netsurf", "obigo", "polaris",
  "w3m",
];

/// Chromium and the Blink family: WebViews, the old Android browser, Chrome.
pub(super) fn blink<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.product("chromium") {
    return Some(t.original(at - 9, 8));
  }
  if t.has("headlesschrome") {
    return Some("Chrome Headless");
  }
  if let Some(at) = t.find("wv)") {
    if let Some(chrome) = t.find_from(at, "chrome/") {
      if t.find_from(chrome, "edgw/").is_some() {
        return Some("Edge WebView2");
      }
    }
  }
  if let Some(at) = t.find("; wv)") {
    if t.find_from(at, "chrome/").is_some() {
      return Some("Chrome WebView");
    }
  }
  if is_android_browser(t) {
    return Some("Android Browser");
  }
  if let Some(at) = t.product("chrome") {
    if t.rest(t.version_end(at)).starts_with(" mobile") {
      return Some("Mobile Chrome");
    }
  }
  let chrome = t.product("chrome").map(|at| (at - 7, 6));
  let named = named_browser_product(t);
  let omniweb = t.find("omniweb/").map(|at| (at, 7));
  let arora = t.product("arora").map(|at| (at - 6, 5));
  [chrome, omniweb, arora, named]
    .into_iter()
    .flatten()
    .min()
    .map(|(at, len)| t.original(at, len))
}

/// `NokiaBrowser/7.3`, `Tizen Browser/2.0`: five letters of `tizenoka`, then `browser/`.
fn named_browser_product(t: &Text) -> Option<(usize, usize)> {
  let mut from = 0;
  while let Some(at) = t.find_from(from, "browser/") {
    from = at + 1;
    let spaced = at > 0 && t.byte(at - 1) == b' ';
    let word_end = if spaced { at - 1 } else { at };
    if word_end >= 5
      && t.rest(word_end - 5)[..5]
        .bytes()
        .all(|b| b"tizenoka".contains(&b))
      && is_version(t.byte(at + 8))
    {
      return Some((word_end - 5, at + 7 - (word_end - 5)));
    }
  }
  None
}

/// The stock browser of old Android: `Android ... Version/4.0 ... Safari`.
fn is_android_browser(t: &Text) -> bool {
  let Some(at) = t.find("droid") else {
    return false;
  };
  let Some(version) = t.find_from(at, " version/") else {
    return false;
  };
  let start = version + 9;
  is_version(t.byte(start)) && t.find_from(t.version_end(start), "safari").is_some()
}

/// Safari and Mobile Safari, by their `Version/` or their `Mobile/... Safari` tokens.
pub(super) fn safari<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.product("version") {
    if mobile_then_safari(t, version_list_end(t, at)) {
      return Some("Mobile Safari");
    }
  }
  if let Some(at) = t.find("iphone ") {
    if mobile_then_safari(t, at) {
      return Some("Mobile Safari");
    }
  }
  if let Some(at) = t.product("version") {
    let end = version_list_end(t, at);
    if t.byte(end) == b' ' {
      if let Some(name) = t.find_from(end, "safari") {
        return Some(t.original(name, 6));
      }
    }
  }
  if let Some(webkit) = t.find("webkit") {
    if let Some(name) = old_safari(t, webkit) {
      return Some(name);
    }
  }
  for engine in ["webkit", "khtml"] {
    if let Some(at) = t.product(engine) {
      return Some(t.original(at - engine.len() - 1, engine.len()));
    }
  }
  None
}

/// End of a `Version/` value (`[\w.,]+`).
fn version_list_end(t: &Text, mut at: usize) -> usize {
  while is_version(t.byte(at)) || t.byte(at) == b',' {
    at += 1;
  }
  at
}

/// Safari before 3.0: `WebKit ... Safari/412` or `Mobile Safari/...` (name as written).
fn old_safari<'a>(t: &Text<'a>, webkit: usize) -> Option<&'a str> {
  let mut from = webkit + 7;
  while let Some(at) = t.find_from(from, "safari") {
    from = at + 1;
    let mobile_start = t.rest(0)[..at]
      .strip_suffix("mobile ")
      .map(|_| at - 7)
      .or_else(|| t.rest(0)[..at].strip_suffix("mobile").map(|_| at - 6));
    let end = at + 6;
    if t.byte(end) == b'/' && is_version(t.byte(end + 1)) {
      return Some(match mobile_start {
        Some(start) if start > webkit => t.original(start, end - start),
        _ => t.original(at, 6),
      });
    }
  }
  None
}

/// `... mobile safari` / `mobile/15E148 safari` after `from`.
fn mobile_then_safari(t: &Text, from: usize) -> bool {
  let Some(space) = t.find_from(from, " ") else {
    return false;
  };
  let mut search = space;
  while let Some(at) = t.find_from(search, "mobile") {
    search = at + 1;
    let rest = t.rest(at + 6);
    if rest.starts_with(" safari") || rest.starts_with("safari") {
      return true;
    }
    if let Some(token) = rest.strip_prefix('/') {
      let word = token.bytes().take_while(|b| is_word(*b)).count();
      if word > 0 && token[word..].starts_with(" safari") {
        return true;
      }
    }
  }
  false
}

/// Firefox and the Gecko family.
pub(super) fn gecko<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.product("firefox") {
    let before = &t.rest(0)[..at];
    if before.contains("mobile;") || before.contains("tablet;") {
      return Some("Mobile Firefox");
    }
  }
  if t.product("navigator").is_some() || t.find("netscape").is_some_and(|at| netscape(t, at)) {
    return Some("Netscape");
  }
  for product in ["wolvic", "librewolf"] {
    if let Some(at) = t.product(product) {
      return Some(t.original(at - product.len() - 1, product.len()));
    }
  }
  if t.has_after("mobile vr; rv:", "firefox") {
    return Some("Firefox Reality");
  }
  if let Some(at) = t.find("flow/") {
    if t.has("ekiohf") {
      return Some(t.original(at, 4));
    }
  }
  if let Some(at) = t.find("swiftfox") {
    return Some(t.original(at, 8));
  }
  for name in GECKO_NAMED {
    if let Some(found) = named_with_version(t, name) {
      return Some(found);
    }
  }
  for product in GECKO_LAST {
    if let Some(at) = t.rfind(product) {
      let slash = at + product.len();
      if t.byte(slash) == b'/' && ends_with_version_or_dash(t, slash + 1) {
        return Some(t.original(at, product.len()));
      }
    }
  }
  if let Some(at) = t.product("firefox") {
    return Some(t.original(at - 8, 7));
  }
  mozilla(t)
}

/// `Netscape/7.1`, `Netscape6/6.2`.
fn netscape(t: &Text, at: usize) -> bool {
  let mut v = at + 8;
  if t.byte(v).is_ascii_digit() {
    v += 1;
  }
  t.byte(v) == b'/' && (is_version(t.byte(v + 1)) || t.byte(v + 1) == b'-')
}

/// `[-\w.]+` to the end of the user agent.
fn ends_with_version_or_dash(t: &Text, at: usize) -> bool {
  let mut end = at;
  while is_version(t.byte(end)) || t.byte(end) == b'-' {
    end += 1;
  }
  end > at && end == t.len()
}

/// `Mozilla/5.0 (... rv:...) Gecko/2010...`, or a `Mozilla/0-4.x` that is not `compatible`.
fn mozilla<'a>(t: &Text<'a>) -> Option<&'a str> {
  let at = t.find("mozilla/")?;
  let v = at + 8;
  if is_version(t.byte(v)) {
    let end = t.version_end(v);
    if t.find_from(end, " ").is_some_and(|sp| {
      t.find_from(sp, "rv:").is_some_and(|rv| {
        t.find_from(rv, "gecko/")
          .is_some_and(|g| t.byte(g + 6).is_ascii_digit())
      })
    }) {
      return Some(t.original(at, 7));
    }
    if matches!(t.byte(v), b'0'..=b'4') && !t.has("compatible") {
      return Some(t.original(at, 7));
    }
  }
  None
}

/// Text browsers, Polaris, Obigo, `Links (2.1`, Cobalt.
pub(super) fn other<'a>(t: &Text<'a>) -> Option<&'a str> {
  let mut first: Option<(usize, usize)> = None;
  for name in OTHERS {
    if let Some(found) = versioned_after_separator(t, name) {
      if first.is_none_or(|(best, _)| found < best) {
        first = Some((found, name.len()));
      }
    }
  }
  for name in [
    "gobrowser",
    "go browser",
    "go.browser",
    "icebrowser",
    "ice browser",
    "upbrowser",
    "up.browser",
    "up browser",
  ] {
    if let Some(found) = versioned_after_separator(t, name) {
      if first.is_none_or(|(best, _)| found < best) {
        first = Some((found, name.len()));
      }
    }
  }
  if let Some((at, len)) = first {
    return Some(t.original(at, len));
  }
  if let Some(at) = t.find_word("links (") {
    if is_version(t.byte(at + 7)) {
      return Some(t.original(at, 5));
    }
  }
  t.product("cobalt").map(|at| t.original(at - 7, 6))
}

/// Offset of `name` followed by an optional `-`, `/` or space, an optional `v`, and a version.
fn versioned_after_separator(t: &Text, name: &str) -> Option<usize> {
  let mut from = 0;
  while let Some(at) = t.find_from(from, name) {
    from = at + 1;
    let mut v = at + name.len();
    if matches!(t.byte(v), b'-' | b'/' | b' ') {
      v += 1;
    }
    if t.byte(v) == b'v' {
      v += 1;
    }
    if is_version(t.byte(v)) {
      return Some(at);
    }
  }
  None
}
