//! GeoIP lookups on DB-IP / MaxMind `.mmdb` files, as PeerTube's `geo-ip.ts` does them:
//! the country ISO code from the country database, the English name of the **last** (most
//! precise) subdivision from the city database. A lookup can never fail (decision D4/Q4): a
//! missing or corrupt database or a bad IP gives `None` and a warning.

use crate::core::stats::{GeoLocation, Location};
use crate::log::{Logger, Meta};
use maxminddb::Reader;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

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

/// Opened databases plus an interner, so that every viewer of one country shares one string.
pub struct GeoIp {
  country: Option<Reader<Vec<u8>>>,
  city: Option<Reader<Vec<u8>>>,
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
  /// Opens the databases. A database that cannot be opened is logged and treated as absent.
  pub fn open(config: &GeoIpConfig, logger: Logger) -> Self {
    let open = |path: &Option<String>, what: &str| {
      let path = path.as_deref().filter(|p| !p.is_empty())?;
      match Reader::open_readfile(path) {
        Ok(reader) => Some(reader),
        Err(err) => {
          logger.warn(
            &format!("Cannot open GeoIP {what} database, {what} lookups give null."),
            || Meta::field("path", path).and("error", err.to_string()),
          );
          None
        }
      }
    };
    GeoIp {
      country: open(&config.country_database_path, "country"),
      city: open(&config.city_database_path, "city"),
      interned: Mutex::new(HashSet::new()),
      locations: Mutex::new(HashMap::new()),
      logger: logger.clone(),
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
          Meta::field("ip", crate::core::validate::truncate(ip, 64))
        });
        return GeoLocation::default();
      }
    };
    let country = self.country.as_ref().and_then(|reader| {
      self
        .decode::<CountryRecord>(reader, addr)
        .and_then(|r| r.country?.iso_code.map(|c| self.intern(c)))
    });
    let subdivision_name = self.city.as_ref().and_then(|reader| {
      self
        .decode::<CityRecord>(reader, addr)
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
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/__test__/fixtures/");
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
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/__test__/fixtures/");
    let geo = GeoIp::open(
      &GeoIpConfig {
        country_database_path: Some(format!("{dir}does-not-exist.mmdb")),
        city_database_path: Some(format!("{dir}geo-corrupt.mmdb")),
      },
      Logger::none(),
    );
    assert_eq!(geo.lookup("81.2.69.160"), None);
  }
}
