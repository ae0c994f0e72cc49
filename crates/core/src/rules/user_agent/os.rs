//! The operating system: ua-parser-js's `os.name` for the same user agent.

use super::text::{is_version, is_word, Text};

/// Systems named by a word in the user agent, copied as written (`Android 14`, `Tizen 6.0`).
const NAMED_MOBILE: &[&str] = &[
  "android",
  "bada",
  "blackberry",
  "kaios",
  "maemo",
  "meego",
  "openharmony",
  "qnx",
  "rim tablet os",
  "sailfish",
  "series40",
  "symbian",
  "tizen",
];

/// Linux distributions and other Unix systems, copied as written.
const NAMED_UNIX: &[&str] = &[
  "kubuntu",
  "xubuntu",
  "lubuntu",
  "ubuntu",
  "debian",
  "opensuse",
  "suse",
  "gentoo",
  "slackware",
  "fedora",
  "mandriva",
  "centos",
  "pclinuxos",
  "red hat",
  "redhat",
  "zenwalk",
  "linpus",
  "raspbian",
  "plan 9",
  "minix",
  "risc os",
  "contiki",
  "deepin",
  "manjaro",
  "elementary os",
  "sabayon",
  "linspire",
  "knoppix",
];

/// ua-parser-js's `os.name`, if it finds one.
pub fn os<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(name) = windows(t) {
    return Some(name);
  }
  if is_ios(t) {
    return Some("iOS");
  }
  if t.has("mac os x") || (t.has("macintosh") || t.has("mac_powerpc")) && !t.has("haiku") {
    return Some("macOS");
  }
  if let Some(name) = chromecast(t) {
    return Some(name);
  }
  if t.has("android-x86") || t.has("android x86") {
    if let Some(at) = t.find("android-x86").or_else(|| t.find("android x86")) {
      return Some(t.original(at, 11));
    }
  }
  if let Some(at) = t.find("ubuntu ") {
    if t.find_from(at, " like android").is_some() {
      return Some("Ubuntu Touch");
    }
  }
  if let Some(at) = t.find("harmonyos") {
    return Some(t.original(at, 9));
  }
  let mut first: Option<(usize, &str)> = None;
  for name in NAMED_MOBILE {
    if let Some(at) = t.find(name) {
      if first.is_none_or(|(best, _)| at < best) {
        first = Some((at, name));
      }
    }
  }
  if let Some((at, name)) = first {
    return Some(t.original(at, name.len()));
  }
  if t.has("(bb10;") {
    return Some("BlackBerry");
  }
  if t.has("symbos") || t.has("symbianos") || t.has("series60") || t.has("series 60") {
    return Some("Symbian");
  }
  if is_firefox_os(t) {
    return Some("Firefox OS");
  }
  if t.has("webos") || t.has("web0s;") || t.has("hpwos/") || t.has("wosbrowser/") {
    return Some("webOS");
  }
  if t.has("watch os") || t.has("watchos") {
    return Some("watchOS");
  }
  if let Some(at) = t.find("cros ") {
    if is_word(t.byte(at + 5)) {
      return Some("Chrome OS");
    }
  }
  for console in ["nintendo ", "playstation "] {
    if let Some(at) = t.find(console) {
      if is_word(t.byte(at + console.len())) {
        return Some(t.original(at, console.len() - 1));
      }
    }
  }
  if let Some(at) = t.find("xbox; xbox") {
    return Some(t.original(at, 4));
  }
  unix(t)
}

/// Windows in its spellings (`Windows NT 10.0`, `Windows 98`, `Windows Phone 8.1`).
fn windows<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.find("windows nt 6.") {
    let minor = t.byte(at + 13);
    if (minor == b'2' || minor == b'3') && t.rest(at + 14).starts_with("; arm") {
      return Some("Windows RT");
    }
  }
  for kind in ["windows phone", "windows mobile", "windows iot"] {
    if let Some(at) = t.find(kind) {
      return Some(t.original(at, kind.len()));
    }
  }
  if let Some(at) = t.find("windows nt") {
    if t.find_from(at, "xbox").is_none() {
      return Some("Windows");
    }
  }
  if let Some(at) = t.find("windows ") {
    let rest = t.rest(at + 8);
    let named = [
      "10",
      "11",
      "2000",
      "3.1",
      "7",
      "8",
      "95",
      "98",
      "me",
      "server 20",
      "vista",
      "xp",
    ];
    if named.iter().any(|n| rest.starts_with(n)) {
      return Some(t.original(at, 7));
    }
    if rest.starts_with("ce") {
      return Some(t.original(at, 10));
    }
  }
  for needle in ["winnt", "win9", "win 9", "win3"] {
    if let Some(at) = t.find(needle) {
      if at == 0 || !is_word(t.byte(at - 1)) {
        return Some("Windows");
      }
    }
  }
  None
}

/// iPhone, iPad, iPod, Apple TV and the iOS network stack.
fn is_ios(t: &Text) -> bool {
  if apple_word_then_os(t) || t.has("ios;fbsv") || t.has_after("cfnetwork/", "darwin") {
    return true;
  }
  if let Some(at) = t.find_word("tvos") {
    let v = if t.byte(at + 4) == b' ' {
      at + 5
    } else {
      at + 4
    };
    if is_version(t.byte(v)) {
      return true;
    }
  }
  // `iOS/17.0 ... iPad`, `iPhone ... iOS 17`, `iPad OS 17`, `Apple TV ... iOS 17`.
  let mut from = 0;
  while let Some(at) = t.find_from(from, "os") {
    from = at + 1;
    if !matches!(t.byte(at + 2), b'/' | b' ') || !is_version(t.byte(at + 3)) {
      continue;
    }
    let before = &t.rest(0)[..at];
    let after = t.rest(at + 3);
    let ios = before.ends_with('i');
    if ios
      && (after.contains("ipad")
        || after.contains("iphone")
        || after.contains("apple tv")
        || after.contains("appletv"))
    {
      return true;
    }
    for device in ["ipad", "iphone"] {
      if let Some(d) = before.find(device) {
        let between = &before[d + device.len()..];
        if between == " "
          || between.len() > 1 && (between.ends_with('i') || between.ends_with("ipad"))
        {
          return true;
        }
      }
    }
    if ios && (before.contains("apple tv") || before.contains("appletv")) {
      return true;
    }
  }
  false
}

/// A word ending in four to seven of `adehimnop` (`iPhone`, `iPad`, `MIDP`) followed by
/// `... OS 17_0 like Mac` or by `; Opera`.
fn apple_word_then_os(t: &Text) -> bool {
  const LETTERS: &[u8] = b"adehimnop";
  let bytes = t.rest(0).as_bytes();
  let mut run = 0;
  for (at, byte) in bytes.iter().enumerate() {
    if LETTERS.contains(byte) {
      run += 1;
      continue;
    }
    let ended = run >= 4 && !is_word(*byte);
    run = 0;
    if !ended {
      continue;
    }
    let rest = t.rest(at);
    if rest.starts_with("; opera") {
      return true;
    }
    let mut search = 0;
    while let Some(os) = rest[search..].find("os ").map(|o| o + search) {
      search = os + 1;
      let word = rest[os + 3..].bytes().take_while(|b| is_word(*b)).count();
      if word > 0 && rest[os + 3 + word..].starts_with(" like mac") {
        return true;
      }
    }
  }
  false
}

/// Google Chromecast, by what runs under `CrKey`.
fn chromecast<'a>(t: &Text<'a>) -> Option<&'a str> {
  let key = t.find("crkey")?;
  Some(if t.find("android ").is_some_and(|at| at < key) {
    "Chromecast Android"
  } else if t.find("fuchsia").is_some_and(|at| at < key) {
    "Chromecast Fuchsia"
  } else if t.find_from(key, "devicetype/smartspeaker").is_some() {
    "Chromecast SmartSpeaker"
  } else if t.find("linux").is_some_and(|at| at < key) {
    "Chromecast Linux"
  } else {
    "Chromecast"
  })
}

/// Firefox OS: a Gecko user agent whose first comment is only a form factor.
fn is_firefox_os(t: &Text) -> bool {
  let rest = t.rest(0);
  let Some(open) = rest.find(" (") else {
    return false;
  };
  if !rest.starts_with("mozilla/") || !rest.contains("gecko/") {
    return false;
  }
  let comment = &rest[open + 2..];
  ["mobile; rv:", "tablet; rv:", "tv; rv:"]
    .iter()
    .any(|form| comment.starts_with(form))
}

/// Linux and the other Unix systems, by name.
fn unix<'a>(t: &Text<'a>) -> Option<&'a str> {
  if let Some(at) = t.find("linux") {
    if let Some(mint) = t.find_from(at, "mint") {
      return Some(t.original(mint, 4));
    }
  }
  for name in [
    "mageia",
    "vectorlinux",
    "fuchsia",
    "arcaos",
    "arch linux",
    "archlinux",
  ] {
    if let Some(at) = t.find(name) {
      let len = if name.starts_with("arch") {
        4
      } else {
        name.len()
      };
      return Some(t.original(at, len));
    }
  }
  let mut first: Option<(usize, &str)> = None;
  for name in NAMED_UNIX {
    if let Some(at) = t.find(name) {
      if first.is_none_or(|(best, _)| at < best) {
        first = Some((at, name));
      }
    }
  }
  if let Some((at, name)) = first {
    return Some(t.original(at, name.len()));
  }
  for name in ["opensolaris", "solaris"] {
    if let Some(at) = t.find(name) {
      return Some(t.original(at, name.len()));
    }
  }
  for name in ["linux", "hurd", "morphos"] {
    if let Some(at) = t.find(name) {
      return Some(t.original(at, name.len()));
    }
  }
  if let Some(at) = t.find("gnu") {
    return Some(t.original(at, 3));
  }
  if let Some(name) = bsd(t) {
    return Some(name);
  }
  if let Some(at) = t.find("haiku") {
    return Some(t.original(at, 5));
  }
  if t.has("sunos") {
    return Some("Solaris");
  }
  for name in [
    "beos",
    "os/2",
    "amigaos",
    "openvms",
    "hp-ux",
    "serenityos",
    "unix",
  ] {
    if let Some(at) = t.find(name) {
      return Some(t.original(at, name.len()));
    }
  }
  None
}

/// `FreeBSD`, `OpenBSD`, `BSD`, `DragonFly`: up to five of `-frentopcghs`, then `bsd`, not
/// directly followed by a CPU (`bsdamd64`; with a separator the CPU does not matter, as in
/// ua-parser-js, whose look-ahead backtracks over the optional separator).
fn bsd<'a>(t: &Text<'a>) -> Option<&'a str> {
  const PREFIX: &[u8] = b"-frentopcghs";
  let mut from = 0;
  while let Some(at) = t.find_from(from, "bsd") {
    from = at + 1;
    let mut start = at;
    while start > 0 && at - start < 5 && PREFIX.contains(&t.byte(start - 1)) {
      start -= 1;
    }
    let rest = t.rest(at + 3);
    let cpu = rest.starts_with("amd") || {
      let n = rest.bytes().take_while(|b| b"ix346".contains(b)).count();
      (1..=2).contains(&n) && rest[n..].starts_with("86")
    };
    if !cpu {
      return Some(t.original(start, at + 3 - start));
    }
  }
  t.find("dragonfly").map(|at| t.original(at, 9))
}
