//! GeoIP lookups on DB-IP / MaxMind `.mmdb` files, as PeerTube's `geo-ip.ts` does them:
//! the country ISO code from the country database, the English name of the **last** (most
//! precise) subdivision from the city database. A lookup can never fail (decision D4/Q4): a
//! missing or corrupt database or a bad IP gives `None` and a warning.
//!
//! PeerTube downloads its databases after start (on the first lookup, then weekly with
//! `GeoIPUpdateScheduler`), so the files are watched: [`GeoIp::reload_if_changed`] reopens a
//! file whose size, modification time or inode changed, and keeps the previous database when
//! the new file cannot be opened (a download still being written), retrying at the next check.

use crate::log::{Logger, Meta};
use crate::rules::shape::report;
use crate::rules::stats::{GeoLocation, Location};
use maxminddb::Reader;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::os::unix::fs::MetadataExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// Paths of the two databases; either may be absent (PeerTube: empty `database_url`).
#[derive(Clone, Debug, Default)]
pub struct GeoIpConfig {
  /// Country database (`dbip-country-lite-latest.mmdb`).
  pub country_database_path: Option<String>,
  /// City database (`dbip-city-lite-latest.mmdb`).
  pub city_database_path: Option<String>,
}

/// `(country, subdivision)` of an interned location.
type PlaceKey = (Option<Arc<str>>, Option<Arc<str>>);

/// What identifies one version of a database file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
  len: u64,
  modified: Option<SystemTime>,
  inode: u64,
}

fn fingerprint(path: &str) -> Option<Fingerprint> {
  let meta = std::fs::metadata(path).ok()?;
  Some(Fingerprint {
    len: meta.len(),
    modified: meta.modified().ok(),
    inode: meta.ino(),
  })
}

/// One database: its path, the open reader and the file version it was read from.
struct Database {
  what: &'static str,
  path: Option<String>,
  reader: RwLock<Option<Arc<Reader<Vec<u8>>>>>,
  /// The version last opened (`None`: none yet, or the file went away).
  seen: Mutex<Option<Fingerprint>>,
  /// "Not found" was logged (once, until a database is open).
  missing_logged: AtomicBool,
}

impl Database {
  fn new(what: &'static str, path: &Option<String>) -> Self {
    Database {
      what,
      path: path.clone().filter(|p| !p.is_empty()),
      reader: RwLock::new(None),
      seen: Mutex::new(None),
      missing_logged: AtomicBool::new(false),
    }
  }

  fn reader(&self) -> Option<Arc<Reader<Vec<u8>>>> {
    self.reader.read().ok()?.clone()
  }

  /// Reopens the file if it changed since it was last looked at. Returns whether a new
  /// database was loaded.
  fn reload_if_changed(&self, logger: &Logger) -> bool {
    let Some(path) = self.path.as_deref() else {
      return false;
    };
    let Ok(mut seen) = self.seen.lock() else {
      return false;
    };
    let Some(now) = fingerprint(path) else {
      if self.reader().is_none() && !self.missing_logged.swap(true, Ordering::Relaxed) {
        // PeerTube has not downloaded it yet (it does on first use, then weekly).
        logger.warn(
          &format!(
            "GeoIP {what} database not found, {what} lookups give null until it appears.",
            what = self.what
          ),
          || Meta::field("path", path),
        );
      }
      // Gone (or never there): keep answering from the database already open, if any.
      *seen = None;
      return false;
    };
    if Some(now) == *seen {
      return false;
    }
    match Reader::open_readfile(path) {
      Ok(reader) => {
        *seen = Some(now);
        if let Ok(mut slot) = self.reader.write() {
          *slot = Some(Arc::new(reader));
        }
        logger.info(&format!("GeoIP {} database loaded.", self.what), || {
          Meta::field("path", path)
        });
        true
      }
      Err(err) => {
        // Leave `seen` as it was: a file still being written is retried at the next check.
        logger.warn(
          &format!(
            "Cannot open GeoIP {what} database, {what} lookups give null until it can be read.",
            what = self.what
          ),
          || Meta::field("path", path).and("error", err.to_string()),
        );
        false
      }
    }
  }
}

report! {
  /// Which GeoIP databases are open, after `reloadGeoIp()`.
  pub struct GeoIpState as "GeoIpState" {
    /// The country database is open.
    country: bool = "country",
    /// The city database is open.
    city: bool = "city",
    /// Databases (re)opened by this call.
    reloaded: u64 = "reloaded",
  }
}

/// The databases plus an interner, so that every viewer of one country shares one string.
pub struct GeoIp {
  country: Database,
  city: Database,
  interned: Mutex<HashSet<Arc<str>>>,
  locations: Mutex<HashMap<PlaceKey, Arc<GeoLocation>>>,
  logger: Logger,
}

#[derive(Deserialize)]
struct CountryRecord<'a> {
  #[serde(borrow, default)]
  country: Option<IsoCode<'a>>,
}

#[derive(Deserialize)]
struct IsoCode<'a> {
  #[serde(borrow, default)]
  iso_code: Option<&'a str>,
}

#[derive(Deserialize)]
struct CityRecord<'a> {
  #[serde(borrow, default)]
  subdivisions: Vec<Subdivision<'a>>,
}

#[derive(Deserialize)]
struct Subdivision<'a> {
  #[serde(borrow, default)]
  names: Names<'a>,
}

#[derive(Deserialize, Default)]
struct Names<'a> {
  #[serde(borrow, default)]
  en: Option<&'a str>,
}

impl GeoIp {
  /// Opens the databases that exist now; a database that cannot be opened is logged and
  /// treated as absent until [`Self::reload_if_changed`] finds a readable file.
  pub fn open(config: &GeoIpConfig, logger: Logger) -> Self {
    let geoip = GeoIp {
      country: Database::new("country", &config.country_database_path),
      city: Database::new("city", &config.city_database_path),
      interned: Mutex::new(HashSet::new()),
      locations: Mutex::new(HashMap::new()),
      logger,
    };
    geoip.reload_if_changed();
    geoip
  }

  /// Reopens every database file that appeared or changed since it was last opened (blocking
  /// file I/O: call it off the event loop).
  pub fn reload_if_changed(&self) -> GeoIpState {
    let reloaded = u64::from(self.country.reload_if_changed(&self.logger))
      + u64::from(self.city.reload_if_changed(&self.logger));
    GeoIpState {
      country: self.country.reader().is_some(),
      city: self.city.reader().is_some(),
      reloaded,
    }
  }

  /// Looks up `ip` (as PeerTube receives it, e.g. `::ffff:1.2.3.4` works too): `None` when
  /// nothing is known, else a location shared by every viewer of the same place.
  pub fn lookup(&self, ip: &str) -> Location {
    let found = self.lookup_parts(ip);
    if found.country.is_none() && found.subdivision_name.is_none() {
      return None;
    }
    let key = (found.country.clone(), found.subdivision_name.clone());
    let Ok(mut locations) = self.locations.lock() else {
      return Some(Arc::new(found));
    };
    if let Some(shared) = locations.get(&key) {
      return Some(shared.clone());
    }
    let shared = Arc::new(found);
    // Bounded like the strings: a few thousand places at most.
    if locations.len() < 100_000 {
      locations.insert(key, shared.clone());
    }
    Some(shared)
  }

  fn lookup_parts(&self, ip: &str) -> GeoLocation {
    let addr: IpAddr = match ip.trim().parse() {
      Ok(addr) => addr,
      Err(_) => {
        self.logger.warn("Cannot parse IP for GeoIP lookup.", || {
          Meta::field("ip", crate::rules::validate::truncate(ip, 64))
        });
        return GeoLocation::default();
      }
    };
    let country = self.country.reader().and_then(|reader| {
      self
        .decode::<CountryRecord>(&reader, addr)
        .and_then(|r| r.country?.iso_code.map(|c| self.intern(c)))
    });
    let subdivision_name = self.city.reader().and_then(|reader| {
      self
        .decode::<CityRecord>(&reader, addr)
        .and_then(|r| r.subdivisions.last()?.names.en.map(|n| self.intern(n)))
    });
    GeoLocation {
      country,
      subdivision_name,
    }
  }

  fn decode<'r, T: Deserialize<'r>>(&self, reader: &'r Reader<Vec<u8>>, addr: IpAddr) -> Option<T> {
    let result = reader.lookup(addr).and_then(|r| r.decode::<T>());
    match result {
      Ok(found) => found,
      Err(err) => {
        self.logger.warn("GeoIP lookup failed.", || {
          Meta::field("ip", addr.to_string()).and("error", err.to_string())
        });
        None
      }
    }
  }

  fn intern(&self, value: &str) -> Arc<str> {
    let Ok(mut set) = self.interned.lock() else {
      return Arc::from(value);
    };
    if let Some(existing) = set.get(value) {
      return existing.clone();
    }
    let shared: Arc<str> = Arc::from(value);
    // Bounded: DB-IP has ~250 countries and a few thousand subdivisions.
    if set.len() < 100_000 {
      set.insert(shared.clone());
    }
    shared
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn fixtures() -> GeoIp {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/fixtures/");
    GeoIp::open(
      &GeoIpConfig {
        country_database_path: Some(format!("{dir}geo-country-test.mmdb")),
        city_database_path: Some(format!("{dir}geo-city-test.mmdb")),
      },
      Logger::none(),
    )
  }

  fn pair(loc: Location) -> (Option<String>, Option<String>) {
    match loc {
      None => (None, None),
      Some(loc) => (
        loc.country.as_ref().map(|c| c.to_string()),
        loc.subdivision_name.as_ref().map(|s| s.to_string()),
      ),
    }
  }

  #[test]
  fn country_from_country_db_and_last_subdivision_from_city_db() {
    let geo = fixtures();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(pair(geo.lookup("81.2.69.160")), (s("GB"), s("England")));
    assert_eq!(
      pair(geo.lookup("::ffff:81.2.69.160")),
      (s("GB"), s("England"))
    );
    assert_eq!(pair(geo.lookup("203.0.113.9")), (s("ES"), s("Barcelona")));
    assert_eq!(pair(geo.lookup("198.51.100.7")), (s("JP"), None));
    assert_eq!(pair(geo.lookup("100.64.0.5")), (None, s("Bavaria")));
    assert_eq!(pair(geo.lookup("100.64.1.5")), (s("BE"), None));
    assert_eq!(pair(geo.lookup("2001:db8::1")), (s("FR"), s("Brittany")));
    assert_eq!(pair(geo.lookup("8.8.8.8")), (None, None));
    assert_eq!(pair(geo.lookup("not an ip")), (None, None));
  }

  #[test]
  fn interned_strings_are_shared() {
    let geo = fixtures();
    let a = geo.lookup("81.2.69.160").unwrap();
    let b = geo.lookup("81.2.69.161").unwrap();
    assert!(Arc::ptr_eq(&a, &b), "one shared location per place");
    let c = geo.lookup("203.0.113.9").unwrap();
    assert!(!Arc::ptr_eq(&a, &c));
  }

  #[test]
  fn missing_and_corrupt_databases_give_nulls() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/fixtures/");
    let geo = GeoIp::open(
      &GeoIpConfig {
        country_database_path: Some(format!("{dir}does-not-exist.mmdb")),
        city_database_path: Some(format!("{dir}geo-corrupt.mmdb")),
      },
      Logger::none(),
    );
    assert_eq!(geo.lookup("81.2.69.160"), None);
  }

  #[test]
  fn databases_that_appear_or_change_later_are_picked_up() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/../../__test__/fixtures/");
    let dir = std::env::temp_dir().join(format!("geoip-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let country = dir.join("country.mmdb");
    let city = dir.join("city.mmdb");
    let _ = std::fs::remove_file(&country);
    let _ = std::fs::remove_file(&city);
    let geo = GeoIp::open(
      &GeoIpConfig {
        country_database_path: Some(country.to_string_lossy().into()),
        city_database_path: Some(city.to_string_lossy().into()),
      },
      Logger::none(),
    );
    assert_eq!(geo.lookup("81.2.69.160"), None, "no file yet");
    assert_eq!(geo.reload_if_changed(), GeoIpState::default());

    // A download in progress (not a database yet) is not loaded, and is retried.
    std::fs::write(&country, b"partial").unwrap();
    assert_eq!(geo.reload_if_changed().reloaded, 0);
    std::fs::copy(format!("{fixtures}geo-country-test.mmdb"), &country).unwrap();
    std::fs::copy(format!("{fixtures}geo-city-test.mmdb"), &city).unwrap();
    let state = geo.reload_if_changed();
    assert_eq!((state.country, state.city, state.reloaded), (true, true, 2));
    let s = |v: &str| Some(v.to_string());
    assert_eq!(pair(geo.lookup("81.2.69.160")), (s("GB"), s("England")));
    assert_eq!(geo.reload_if_changed().reloaded, 0, "unchanged files stay");

    // A corrupt replacement keeps the database already open; removing the file keeps it too.
    std::fs::copy(format!("{fixtures}geo-corrupt.mmdb"), &city).unwrap();
    assert_eq!(geo.reload_if_changed().reloaded, 0);
    assert_eq!(pair(geo.lookup("81.2.69.160")), (s("GB"), s("England")));
    std::fs::remove_file(&country).unwrap();
    assert!(geo.reload_if_changed().country);
    assert_eq!(pair(geo.lookup("81.2.69.160")), (s("GB"), s("England")));
    std::fs::remove_dir_all(&dir).unwrap();
  }
}
