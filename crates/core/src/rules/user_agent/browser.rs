//! The browser (`client`): ua-parser-js's `browser.name` for the same user agent.
//!
//! The steps run in ua-parser-js's order of precedence (an in-app or derived browser before
//! the engine it embeds: Edge before Chrome, Chrome before Safari, Safari before WebKit); the
//! names are ua-parser-js's. Where ua-parser-js copies the name from the user agent, so does
//! the step (`Text::original`), case kept.

use super::browser_engines::{blink, gecko, other, safari};
use super::text::{is_version, is_word, versioned_token, Text};

/// `name/version` products with a fixed name, checked after the Presto Opera.
const EARLY_PRODUCTS: &[(&str, &str)] = &[
  ("opios", "Opera Mini"),
  ("opx", "Opera GX"),
  ("oprgx", "Opera GX"),
  ("opr", "Opera"),
];

/// Names of the Trident era, copied as written.
const NAMED_LEGACY: &[&str] = &[
  "lunascape",
  "maxthon",
  "netfront",
  "jasmine",
  "blazer",
  "sleipnir",
  "avant",
  "iemobile",
  "slimbrowser",
  "slimboat",
  "slimjet",
];

/// Products whose name is the browser, copied as written (`Vivaldi/6.5`).
const NAMED_PRODUCTS: &[&str] = &[
  "atlas",
  "flock",
  "rockmelt",
  "midori",
  "epiphany",
  "silk",
  "skyfire",
  "bolt",
  "iron",
  "vivaldi",
  "iridium",
  "phantomjs",
  "bowser",
  "qupzilla",
  "falkon",
  "rekonq",
  "puffin",
  "whale",
  "qqbrowserlite",
  "duckduckgo",
  "klar",
  "helio",
  "dragon",
  "otter",
  "dooble",
  "hibrowser",
  "lg browser",
  "ovibrowser",
  "qutebrowser",
  "palemoon",
];

/// Fixed names, after UC Browser, WeChat, Konqueror and IE 11.
const LATE_PRODUCTS: &[(&str, &str)] = &[
  ("yabrowser", "Yandex"),
  ("yasearchbrowser", "Yandex"),
  ("slbrowser", "Smart Lenovo Browser"),
  ("avast", "Avast Secure Browser"),
  ("avg", "AVG Secure Browser"),
  ("avira", "Avira Secure Browser"),
  ("norton", "Norton Private Browser"),
  ("focus", "Firefox Focus"),
];

/// Fixed names after Opera Neon, Opera Touch and Coc Coc.
const LATER_PRODUCTS: &[(&str, &str)] = &[
  ("dolfin", "Dolphin"),
  ("coast", "Opera Coast"),
  ("miuibrowser", "MIUI Browser"),
  ("fxios", "Mobile Firefox"),
  ("oculusbrowser", "Oculus Browser"),
  ("sailfishbrowser", "Sailfish Browser"),
  ("huaweibrowser", "Huawei Browser"),
  ("vivobrowser", "Vivo Browser"),
  ("picobrowser", "Pico Browser"),
  ("samsungbrowser", "Samsung Internet"),
];

/// In-app browsers named by their token, copied as written (`Instagram 300.0`, `Snapchat/12`).
const IN_APPS: &[&str] = &["instagram", "snapchat", "klarna", "kakaotalk", "kakaostory"];

/// ua-parser-js's `browser.name`, if it finds one.
pub fn browser<'a>(t: &Text<'a>) -> Option<&'a str> {
  chrome_on_ios(t)
    .or_else(|| edge(t))
    .or_else(|| presto_opera(t))
    .or_else(|| fixed(t, EARLY_PRODUCTS, true))
    .or_else(|| mixed(t))
    .or_else(|| late(t))
    .or_else(|| in_app(t))
    .or_else(|| blink(t))
    .or_else(|| safari(t))
    .or_else(|| gecko(t))
    .or_else(|| other(t))
}

fn chrome_on_ios<'a>(t: &Text<'a>) -> Option<&'a str> {
  (t.product_word("crios").is_some() || t.product_word("crmo").is_some()).then_some("Mobile Chrome")
}

fn edge<'a>(t: &Text<'a>) -> Option<&'a str> {
  if t.has_after("webview", "edge/") {
    return Some("Edge WebView");
  }
  ["edge", "edgios", "edga", "edg"]
    .iter()
    .any(|name| t.product(name).is_some())
    .then_some("Edge")
}

/// Opera before Blink: `Opera Mini/`, `Opera Mobi ... Version/`, `Opera/` or `Opera 12`.
fn presto_opera<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.find("opera mini/") {
    return Some(t.original(at, 10));
  }
  let mut from = 0;
  while let Some(at) = t.find_from(from, "opera ") {
    from = at + 1;
    let kind = t
      .rest(at + 6)
      .bytes()
      .take_while(|b| b"mobiletab".contains(b))
      .count();
    if (3..=6).contains(&kind)
      && !is_word(t.byte(at + 6 + kind))
      && t.find_from(at, "version/").is_some()
    {
      return Some(t.original(at, 6 + kind));
    }
  }
  let at = t.find("opera")?;
  let mut after = at + 5;
  while matches!(t.byte(after), b'/' | b' ') {
    after += 1;
  }
  let versioned =
    t.find_from(at + 5, "version/").is_some() || (after > at + 5 && is_version(t.byte(after)));
  versioned.then(|| t.original(at, 5))
}

/// The first of `products` present as `name/version` (at a word start when `word`).
fn fixed<'a>(t: &Text<'a>, products: &[(&str, &'static str)], word: bool) -> Option<&'a str> {
  products
    .iter()
    .find(|(product, _)| {
      if word {
        t.product_word(product).is_some()
      } else {
        t.product(product).is_some()
      }
    })
    .map(|(_, name)| *name)
}

/// Baidu, Maxthon, the Trident family, the Blink/WebKit browsers named by their token.
fn mixed<'a>(t: &Text<'a>) -> Option<&'a str> {
  if is_baidu(t) {
    return Some("Baidu");
  }
  for product in ["mxbrowser", "mxios", "myie2"] {
    if t.find_word(product).is_some() {
      return Some("Maxthon");
    }
  }
  if let Some(at) = t.product("kindle") {
    return Some(t.original(at - 7, 6));
  }
  // Their version may be empty: the name is enough.
  for name in NAMED_LEGACY {
    if let Some(at) = t.find(name) {
      return Some(t.original(at, name.len()));
    }
  }
  if let Some(at) = t
    .find("msie ")
    .map(|at| at + 2)
    .or_else(|| t.find("(ie ").map(|at| at + 1))
  {
    if is_version(t.byte(at + 3)) {
      return Some(t.original(at, 2));
    }
  }
  for product in NAMED_PRODUCTS {
    let mut from = 0;
    while let Some(at) = t.find_from(from, product) {
      let mut v = at + product.len();
      if t.byte(v) == b'/' {
        v += 1;
        if t.byte(v) == b'v' {
          v += 1;
        }
        let excluded = *product == "whale" && t.find_from(v, "naver").is_some();
        if (is_version(t.byte(v)) || t.byte(v) == b'-') && !excluded {
          return Some(t.original(at, product.len()));
        }
      }
      from = at + 1;
    }
  }
  if let Some(at) = t.find("brave/").or_else(|| t.find("brave chrome/")) {
    return Some(t.original(at, 5));
  }
  for prefix in ["aloha", "heytap", "ovi", "115", "surf", "qwant"] {
    let mut from = 0;
    while let Some(at) = t.find_from(from, prefix) {
      let rest = t.rest(at + prefix.len());
      if rest.starts_with("browser/") && rest.as_bytes().get(8).is_some_and(u8::is_ascii_digit) {
        return Some(t.original(at, prefix.len()));
      }
      from = at + 1;
    }
  }
  for product in ["qwantios", "qwantmobile"] {
    if let Some(at) = t.product(product) {
      if t.byte(at).is_ascii_digit() {
        return Some(t.original(at - product.len() - 1, 5));
      }
    }
  }
  for name in ["ecosia", "weibo"] {
    if let Some(at) = t.find(name) {
      if versioned_app_suffix(t, at + name.len()) {
        return Some(t.original(at, name.len()));
      }
    }
  }
  None
}

/// `bidubrowser`, `baiduboxapp`, `baiduhd`...: `b`, `a`/`i`s, `d`, then a Baidu product word.
fn is_baidu(t: &Text) -> bool {
  let mut from = 0;
  while let Some(at) = t.find_from(from, "b") {
    from = at + 1;
    if at > 0 && is_word(t.byte(at - 1)) {
      continue;
    }
    let mut i = at + 1;
    while matches!(t.byte(i), b'a' | b'i') {
      i += 1;
    }
    if t.byte(i) != b'd' {
      continue;
    }
    let rest = t.rest(i + 1);
    if rest.starts_with("uhd") {
      return true;
    }
    let skip = rest
      .bytes()
      .take_while(|b| matches!(b, b'u' | b'b'))
      .count();
    let word = rest[skip..]
      .bytes()
      .take_while(|b| b"aekoprswx".contains(b))
      .count();
    if (5..=6).contains(&word) || word > 6 {
      return true;
    }
  }
  false
}

/// `Ecosia__1.2` / `Ecosia android@1.2` / `Weibo__12`.
fn versioned_app_suffix(t: &Text, after: usize) -> bool {
  let rest = t.rest(after);
  if let Some(version) = rest.strip_prefix("__") {
    return version.bytes().next().is_some_and(|b| b.is_ascii_digit());
  }
  let Some(word) = rest.strip_prefix(' ') else {
    return false;
  };
  let Some(at) = word.find('@') else {
    return false;
  };
  !word[..at].is_empty()
    && word[..at].bytes().all(is_word)
    && word[at + 1..]
      .bytes()
      .next()
      .is_some_and(|b| b.is_ascii_digit())
}

/// From Quark to Samsung Internet, Electron, Tesla and the Chinese browsers.
fn late<'a>(t: &Text<'a>) -> Option<&'a str> {
  if t.product("quark").is_some() || t.product("quarkpc").is_some() {
    return Some("Quark");
  }
  if t.product_word("ddg").is_some() {
    return Some("DuckDuckGo");
  }
  if is_uc_browser(t) {
    return Some("UCBrowser");
  }
  if t.product("micromessenger").is_some() || t.product("qbcore").is_some() && t.has("microm") {
    return Some("WeChat");
  }
  if t.product("konqueror").is_some() {
    return Some("Konqueror");
  }
  if is_ie11(t) {
    return Some("IE");
  }
  if let Some(name) = fixed(t, LATE_PRODUCTS, false) {
    return Some(name);
  }
  if t
    .find(" mms/")
    .is_some_and(|at| ends_with_version(t, at + 5))
  {
    return Some("Opera Neon");
  }
  if t
    .find(" opt/")
    .is_some_and(|at| ends_with_version(t, at + 5))
  {
    return Some("Opera Touch");
  }
  if t.has("coc_coc") {
    return Some("Coc Coc");
  }
  if let Some(name) = fixed(t, LATER_PRODUCTS, false) {
    return Some(name);
  }
  if t.has("qihoobrowser") {
    return Some("360");
  }
  if t.product_word("qq").is_some() {
    return Some("QQBrowser");
  }
  if t.product("metasr").is_some() || t.has("metasr ") {
    return Some("Sogou Explorer");
  }
  if t.has("sogoumo") {
    return Some("Sogou Mobile");
  }
  if t.has_after("electron/", " safari") {
    return Some("Electron");
  }
  if let Some(at) = t.find("tesla") {
    let rest = t.rest(at + 5);
    if rest.starts_with(" qtcarbrowser") || rest.starts_with("/20") {
      return Some(t.original(at, 5));
    }
  }
  if let Some(at) = t.find("qqbrowser") {
    return Some(t.original(at, 9));
  }
  for name in ["lbbrowser", "luakit"] {
    if let Some(at) = t.find(name) {
      return Some(t.original(at, name.len()));
    }
  }
  None
}

fn is_uc_browser(t: &Text) -> bool {
  for needle in ["ucbrowser", "uc browser", "ubrowser"] {
    let mut from = 0;
    while let Some(at) = t.find_from(from, needle) {
      from = at + 1;
      if at > 0 && is_word(t.byte(at - 1)) {
        continue;
      }
      let mut v = at + needle.len();
      if matches!(t.byte(v), b'/' | b' ') {
        v += 1;
      }
      if is_version(t.byte(v)) {
        return true;
      }
    }
  }
  t.has_after("juc", "ucweb") || t.has(" ucpc")
}

/// `Trident ... rv:11.0) like Gecko`.
fn is_ie11(t: &Text) -> bool {
  let Some(at) = t.find("trident") else {
    return false;
  };
  let Some(rv) = t.find_from(at, "rv:").or_else(|| t.find_from(at, "rv ")) else {
    return false;
  };
  t.find_from(rv, "like gecko").is_some()
}

/// Whether a version runs from `at` to the end of the user agent.
fn ends_with_version(t: &Text, at: usize) -> bool {
  at < t.len() && t.version_end(at) == t.len()
}

/// Apps that open pages in their own view (Facebook, Instagram, Line, TikTok...).
fn in_app<'a>(t: &Text<'a>) -> Option<&'a str> {
  if t.has(";fbav/") || (t.has("fban/fbios") || t.has("fb_iab/fb4a")) && !t.has("fbav") {
    return Some("Facebook");
  }
  for token in ["kakaotalk", "kakaostory"] {
    if let Some(at) = versioned_token(t, token) {
      return Some(t.original(at, token.len()));
    }
  }
  if let Some(at) = t.find("naver(") {
    return Some(t.original(at, 5));
  }
  if let Some(at) = t.find("daumapps") {
    return Some(t.original(at, 4));
  }
  if let Some(at) = t.find("safari line/") {
    return Some(t.original(at + 7, 4));
  }
  if let Some(at) = t.product("line") {
    if t.find_from(at, "/iab").is_some() {
      return Some(t.original(at - 5, 4));
    }
  }
  if let Some(at) = t.product("alipayclient") {
    return Some(t.original(at - 13, 6));
  }
  if let Some(at) = t.find("twitterand") {
    return Some(t.original(at, 7));
  }
  for product in ["bingweb", "bingsapphire"] {
    if let Some(at) = t.product(product) {
      return Some(t.original(at - product.len() - 1, 4));
    }
  }
  for token in IN_APPS.iter().take(3) {
    if let Some(at) = versioned_token(t, token) {
      return Some(t.original(at, token.len()));
    }
  }
  if let Some(at) = t.product_word("gsa") {
    let after = t.version_end(at);
    if t.byte(after) == b' ' && t.find_from(after, "safari/").is_some() {
      return Some("GSA");
    }
  }
  if t.has("musical_ly") || t.has("trill_") || t.has_after("trill", "app_version/") {
    return Some("TikTok");
  }
  if t.has("[linkedinapp]") {
    return Some("LinkedIn");
  }
  if t.has("zalo") {
    return Some("Zalo");
  }
  None
}
