//! `mmdbgen`: writes the deterministic GeoIP fixtures used by the test suite.
//!
//! Usage (from the repository root):
//!
//! ```text
//! cargo run --release --manifest-path tools/mmdbgen/Cargo.toml -- __test__/fixtures
//! ```
//!
//! Outputs, in the given directory (default `__test__/fixtures`):
//!
//! * `geo-country-test.mmdb` - GeoIP2-Country-shaped records (`country.iso_code`, `country.names.en`)
//! * `geo-city-test.mmdb`    - GeoIP2-City-shaped records (`country`, `subdivisions[]`, `city`)
//! * `geo-corrupt.mmdb`      - 512 bytes of deterministic garbage (not a valid MaxMind DB)
//!
//! Every file is byte-for-byte reproducible (fixed `build_epoch`, fixed PRNG seed). After
//! writing, the files are read back with `maxminddb` and every expected answer is asserted;
//! the process exits non-zero if anything does not match.

use std::fmt;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use ipnet::IpNet;
use maxminddb::{geoip2, Reader};
use mmdb_writer::{IpVersion, Writer};
use serde::Serialize;

const DEFAULT_OUT_DIR: &str = "__test__/fixtures";
const COUNTRY_FILE: &str = "geo-country-test.mmdb";
const CITY_FILE: &str = "geo-city-test.mmdb";
const CORRUPT_FILE: &str = "geo-corrupt.mmdb";
const COUNTRY_DB_TYPE: &str = "DBIP-Country-Lite";
const CITY_DB_TYPE: &str = "DBIP-City-Lite";
/// Fixed build timestamp (2023-11-14T22:13:20Z) so the output is reproducible.
const BUILD_EPOCH_SECS: u64 = 1_700_000_000;
const CORRUPT_LEN: usize = 512;
const CORRUPT_SEED: u64 = 0x6d6d_6462_6765_6e21; // "mmdbgen!"
const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

// ---------------------------------------------------------------------------------------------
// Fixture table (single source of truth for both writing and verification)
// ---------------------------------------------------------------------------------------------

struct Place {
  iso_code: &'static str,
  name: &'static str,
}

struct Sub {
  iso_code: Option<&'static str>,
  name: &'static str,
}

struct CityEntry {
  country: Place,
  subdivisions: &'static [Sub],
  city: &'static str,
}

struct Fixture {
  network: &'static str,
  sample_ip: &'static str,
  /// Record in the COUNTRY db (`None` = network absent from the country db).
  country_db: Option<Place>,
  /// Record in the CITY db (`None` = network absent from the city db).
  city_db: Option<CityEntry>,
}

const FIXTURES: &[Fixture] = &[
  Fixture {
    network: "81.2.69.0/24",
    sample_ip: "81.2.69.160",
    country_db: Some(Place {
      iso_code: "GB",
      name: "United Kingdom",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "GB",
        name: "United Kingdom",
      },
      subdivisions: &[Sub {
        iso_code: Some("ENG"),
        name: "England",
      }],
      city: "London",
    }),
  },
  Fixture {
    network: "192.0.2.0/24",
    sample_ip: "192.0.2.1",
    country_db: Some(Place {
      iso_code: "US",
      name: "United States",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "US",
        name: "United States",
      },
      subdivisions: &[Sub {
        iso_code: Some("CA"),
        name: "California",
      }],
      city: "San Francisco",
    }),
  },
  Fixture {
    network: "198.51.100.0/24",
    sample_ip: "198.51.100.7",
    country_db: Some(Place {
      iso_code: "JP",
      name: "Japan",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "JP",
        name: "Japan",
      },
      subdivisions: &[],
      city: "Tokyo",
    }),
  },
  Fixture {
    network: "203.0.113.0/24",
    sample_ip: "203.0.113.9",
    country_db: Some(Place {
      iso_code: "ES",
      name: "Spain",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "ES",
        name: "Spain",
      },
      subdivisions: &[
        Sub {
          iso_code: Some("CT"),
          name: "Catalonia",
        },
        Sub {
          iso_code: Some("B"),
          name: "Barcelona",
        },
      ],
      city: "Barcelona",
    }),
  },
  Fixture {
    network: "2001:db8::/32",
    sample_ip: "2001:db8::1",
    country_db: Some(Place {
      iso_code: "FR",
      name: "France",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "FR",
        name: "France",
      },
      subdivisions: &[Sub {
        iso_code: Some("BRE"),
        name: "Brittany",
      }],
      city: "Rennes",
    }),
  },
  Fixture {
    network: "100.64.0.0/24",
    sample_ip: "100.64.0.5",
    country_db: None,
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "DE",
        name: "Germany",
      },
      subdivisions: &[Sub {
        iso_code: Some("BY"),
        name: "Bavaria",
      }],
      city: "Munich",
    }),
  },
  Fixture {
    network: "100.64.1.0/24",
    sample_ip: "100.64.1.5",
    country_db: Some(Place {
      iso_code: "BE",
      name: "Belgium",
    }),
    city_db: None,
  },
];

/// Addresses that must not be found in either database.
const NOT_FOUND: &[&str] = &[
  "8.8.8.8",
  "10.0.0.1",
  "::1",
  "1.1.1.1",
  "127.0.0.1",
  "81.2.70.1",
  "100.64.2.1",
  "203.0.114.1",
  "2001:db9::1",
  "2606:4700::1111",
];

/// The addresses PeerTube's own views tests send (`X-Forwarded-For`) and the answers they expect
/// (`packages/tests/src/api/views/video-views-overall-stats.ts`: 8.8.8.8 and 8.8.8.4 in the US,
/// California; 80.67.169.12 in France, Brittany). `--peertube-tests DIR` writes them under the
/// file names PeerTube downloads (`dbip-*-lite-latest.mmdb`), to be served on loopback.
const PEERTUBE_TEST_FIXTURES: &[Fixture] = &[
  Fixture {
    network: "8.8.8.0/24",
    sample_ip: "8.8.8.8",
    country_db: Some(Place {
      iso_code: "US",
      name: "United States",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "US",
        name: "United States",
      },
      subdivisions: &[Sub {
        iso_code: Some("CA"),
        name: "California",
      }],
      city: "Mountain View",
    }),
  },
  Fixture {
    network: "80.67.169.0/24",
    sample_ip: "80.67.169.12",
    country_db: Some(Place {
      iso_code: "FR",
      name: "France",
    }),
    city_db: Some(CityEntry {
      country: Place {
        iso_code: "FR",
        name: "France",
      },
      subdivisions: &[Sub {
        iso_code: Some("BRE"),
        name: "Brittany",
      }],
      city: "Rennes",
    }),
  },
];

// ---------------------------------------------------------------------------------------------
// Serialized record shapes (subset of MaxMind GeoIP2 Country / City)
// ---------------------------------------------------------------------------------------------

#[derive(Serialize)]
struct NamesRec<'a> {
  en: &'a str,
}

#[derive(Serialize)]
struct CountryRec<'a> {
  iso_code: &'a str,
  names: NamesRec<'a>,
}

#[derive(Serialize)]
struct CountryDbRecord<'a> {
  country: CountryRec<'a>,
}

#[derive(Serialize)]
struct SubdivisionRec<'a> {
  #[serde(skip_serializing_if = "Option::is_none")]
  iso_code: Option<&'a str>,
  names: NamesRec<'a>,
}

#[derive(Serialize)]
struct CityRec<'a> {
  names: NamesRec<'a>,
}

#[derive(Serialize)]
struct CityDbRecord<'a> {
  country: CountryRec<'a>,
  #[serde(skip_serializing_if = "Vec::is_empty")]
  subdivisions: Vec<SubdivisionRec<'a>>,
  city: CityRec<'a>,
}

fn country_rec(place: &Place) -> CountryRec<'_> {
  CountryRec {
    iso_code: place.iso_code,
    names: NamesRec { en: place.name },
  }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Error returned from `main`. `Debug` prints the plain message so the
/// `Error: ...` line printed by the runtime is readable.
struct AppError(String);

impl fmt::Debug for AppError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.0)
  }
}

impl fmt::Display for AppError {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str(&self.0)
  }
}

impl std::error::Error for AppError {}

fn err(msg: impl Into<String>) -> AppError {
  AppError(msg.into())
}

// ---------------------------------------------------------------------------------------------
// Building
// ---------------------------------------------------------------------------------------------

fn new_writer(database_type: &str, description: &str) -> Writer {
  Writer::builder(database_type)
    .ip_version(IpVersion::V6)
    .languages(["en"])
    .description(&[("en", description)])
    .build_epoch(UNIX_EPOCH + Duration::from_secs(BUILD_EPOCH_SECS))
    .build()
}

fn parse_net(s: &str) -> Result<IpNet, AppError> {
  s.parse::<IpNet>()
    .map_err(|e| err(format!("invalid network {s:?} in fixture table: {e}")))
}

fn build_country_db() -> Result<Vec<u8>, AppError> {
  country_db_of(FIXTURES)
}

fn country_db_of(fixtures: &[Fixture]) -> Result<Vec<u8>, AppError> {
  let mut writer = new_writer(
    COUNTRY_DB_TYPE,
    "PeerTube test fixture: GeoIP2-Country-shaped records (generated by tools/mmdbgen)",
  );
  for fx in fixtures {
    let Some(place) = &fx.country_db else {
      continue;
    };
    let record = CountryDbRecord {
      country: country_rec(place),
    };
    writer
      .insert(parse_net(fx.network)?, &record)
      .map_err(|e| err(format!("country db: cannot insert {}: {e}", fx.network)))?;
  }
  writer
    .to_bytes()
    .map_err(|e| err(format!("country db: cannot serialize: {e}")))
}

fn build_city_db() -> Result<Vec<u8>, AppError> {
  city_db_of(FIXTURES)
}

fn city_db_of(fixtures: &[Fixture]) -> Result<Vec<u8>, AppError> {
  let mut writer = new_writer(
    CITY_DB_TYPE,
    "PeerTube test fixture: GeoIP2-City-shaped records (generated by tools/mmdbgen)",
  );
  for fx in fixtures {
    let Some(entry) = &fx.city_db else {
      continue;
    };
    let record = CityDbRecord {
      country: country_rec(&entry.country),
      subdivisions: entry
        .subdivisions
        .iter()
        .map(|s| SubdivisionRec {
          iso_code: s.iso_code,
          names: NamesRec { en: s.name },
        })
        .collect(),
      city: CityRec {
        names: NamesRec { en: entry.city },
      },
    };
    writer
      .insert(parse_net(fx.network)?, &record)
      .map_err(|e| err(format!("city db: cannot insert {}: {e}", fx.network)))?;
  }
  writer
    .to_bytes()
    .map_err(|e| err(format!("city db: cannot serialize: {e}")))
}

/// 512 bytes from a fixed-seed xorshift64* generator: deterministic, and not a MaxMind DB.
fn build_corrupt() -> Vec<u8> {
  let mut state = CORRUPT_SEED;
  let mut out = Vec::with_capacity(CORRUPT_LEN);
  while out.len() < CORRUPT_LEN {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    let word = state.wrapping_mul(0x2545_f491_4f6c_dd1d);
    out.extend_from_slice(&word.to_le_bytes());
  }
  out.truncate(CORRUPT_LEN);
  out
}

/// Build twice and require identical bytes, as a cheap in-process determinism check.
fn build_deterministic(
  name: &str,
  build: fn() -> Result<Vec<u8>, AppError>,
) -> Result<Vec<u8>, AppError> {
  let first = build()?;
  let second = build()?;
  if first != second {
    return Err(err(format!(
      "{name}: two consecutive builds produced different bytes (non-deterministic writer?)"
    )));
  }
  Ok(first)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
  fs::write(path, bytes).map_err(|e| err(format!("cannot write {}: {e}", path.display())))?;
  println!("wrote {} ({} bytes)", path.display(), bytes.len());
  Ok(())
}

// ---------------------------------------------------------------------------------------------
// Verification
// ---------------------------------------------------------------------------------------------

/// What a lookup of `ip` is expected to return, derived from the fixture table.
struct Expected {
  fixture: Option<&'static Fixture>,
}

impl Expected {
  fn country_db(&self) -> Option<&'static Place> {
    self.fixture.and_then(|f| f.country_db.as_ref())
  }

  fn city_db(&self) -> Option<&'static CityEntry> {
    self.fixture.and_then(|f| f.city_db.as_ref())
  }
}

fn expected_for(ip: IpAddr) -> Result<Expected, AppError> {
  // An IPv4-mapped IPv6 address resolves like the plain IPv4 address (tree aliasing).
  let ip = match ip {
    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
    v4 => v4,
  };
  for fx in FIXTURES {
    if parse_net(fx.network)?.contains(&ip) {
      return Ok(Expected { fixture: Some(fx) });
    }
  }
  Ok(Expected { fixture: None })
}

fn fmt_opt(v: Option<&str>) -> String {
  v.map_or_else(|| "null".to_owned(), |s| format!("{s:?}"))
}

struct Checker {
  checks: usize,
  failures: Vec<String>,
}

impl Checker {
  fn eq<T: PartialEq + fmt::Debug>(&mut self, what: impl FnOnce() -> String, got: T, want: T) {
    self.checks += 1;
    if got != want {
      self
        .failures
        .push(format!("{}: got {got:?}, want {want:?}", what()));
    }
  }
}

fn open_reader(path: &Path) -> Result<Reader<Vec<u8>>, AppError> {
  Reader::open_readfile(path).map_err(|e| err(format!("cannot open {}: {e}", path.display())))
}

fn check_metadata(c: &mut Checker, reader: &Reader<Vec<u8>>, file: &str, db_type: &str) {
  let md = reader.metadata();
  c.eq(
    || format!("{file}: metadata.database_type"),
    md.database_type.as_str(),
    db_type,
  );
  c.eq(|| format!("{file}: metadata.ip_version"), md.ip_version, 6);
  c.eq(
    || format!("{file}: metadata.build_epoch"),
    md.build_epoch,
    BUILD_EPOCH_SECS,
  );
  c.eq(
    || format!("{file}: metadata.languages"),
    md.languages.clone(),
    vec!["en".to_owned()],
  );
}

fn check_ip(
  c: &mut Checker,
  country_reader: &Reader<Vec<u8>>,
  city_reader: &Reader<Vec<u8>>,
  ip: IpAddr,
) -> Result<(), AppError> {
  let want = expected_for(ip)?;
  let lookup_err = |db: &str, e: maxminddb::MaxMindDbError| err(format!("{db}: lookup {ip}: {e}"));
  let decode_err = |db: &str, e: maxminddb::MaxMindDbError| err(format!("{db}: decode {ip}: {e}"));

  // ---- country db ----
  let res = country_reader
    .lookup(ip)
    .map_err(|e| lookup_err(COUNTRY_FILE, e))?;
  let want_country = want.country_db();
  c.eq(
    || format!("{COUNTRY_FILE} {ip}: found"),
    res.has_data(),
    want_country.is_some(),
  );
  if want_country.is_some() {
    if let Some(fx) = want.fixture {
      c.eq(
        || format!("{COUNTRY_FILE} {ip}: network"),
        network_of(&res, ip)?,
        fx.network.to_owned(),
      );
    }
  }
  let got = res
    .decode::<geoip2::Country>()
    .map_err(|e| decode_err(COUNTRY_FILE, e))?;
  c.eq(
    || format!("{COUNTRY_FILE} {ip}: country.iso_code"),
    got.as_ref().and_then(|r| r.country.iso_code),
    want_country.map(|p| p.iso_code),
  );
  c.eq(
    || format!("{COUNTRY_FILE} {ip}: country.names.en"),
    got.as_ref().and_then(|r| r.country.names.english),
    want_country.map(|p| p.name),
  );
  // The country db carries no subdivisions/city: an app that reads the subdivision from the
  // country db gets nothing, which is what lets tests tell the two databases apart.
  let as_city = res
    .decode::<geoip2::City>()
    .map_err(|e| decode_err(COUNTRY_FILE, e))?;
  c.eq(
    || format!("{COUNTRY_FILE} {ip}: subdivisions (must be empty)"),
    as_city.as_ref().map_or(0, |r| r.subdivisions.len()),
    0,
  );
  c.eq(
    || format!("{COUNTRY_FILE} {ip}: city.names.en (must be absent)"),
    as_city.as_ref().and_then(|r| r.city.names.english),
    None,
  );

  // ---- city db ----
  let res = city_reader
    .lookup(ip)
    .map_err(|e| lookup_err(CITY_FILE, e))?;
  let want_city = want.city_db();
  c.eq(
    || format!("{CITY_FILE} {ip}: found"),
    res.has_data(),
    want_city.is_some(),
  );
  if want_city.is_some() {
    if let Some(fx) = want.fixture {
      c.eq(
        || format!("{CITY_FILE} {ip}: network"),
        network_of(&res, ip)?,
        fx.network.to_owned(),
      );
    }
  }
  let got = res
    .decode::<geoip2::City>()
    .map_err(|e| decode_err(CITY_FILE, e))?;
  c.eq(
    || format!("{CITY_FILE} {ip}: country.iso_code"),
    got.as_ref().and_then(|r| r.country.iso_code),
    want_city.map(|e| e.country.iso_code),
  );
  c.eq(
    || format!("{CITY_FILE} {ip}: country.names.en"),
    got.as_ref().and_then(|r| r.country.names.english),
    want_city.map(|e| e.country.name),
  );
  c.eq(
    || format!("{CITY_FILE} {ip}: subdivisions[*].names.en"),
    got.as_ref().map_or_else(Vec::new, |r| {
      r.subdivisions.iter().map(|s| s.names.english).collect()
    }),
    want_city.map_or_else(Vec::new, |e| {
      e.subdivisions.iter().map(|s| Some(s.name)).collect()
    }),
  );
  c.eq(
    || format!("{CITY_FILE} {ip}: subdivisions[*].iso_code"),
    got.as_ref().map_or_else(Vec::new, |r| {
      r.subdivisions.iter().map(|s| s.iso_code).collect()
    }),
    want_city.map_or_else(Vec::new, |e| {
      e.subdivisions.iter().map(|s| s.iso_code).collect()
    }),
  );
  c.eq(
    || format!("{CITY_FILE} {ip}: subdivisions[-1].names.en"),
    got
      .as_ref()
      .and_then(|r| r.subdivisions.last())
      .and_then(|s| s.names.english),
    want_city
      .and_then(|e| e.subdivisions.last())
      .map(|s| s.name),
  );
  c.eq(
    || format!("{CITY_FILE} {ip}: city.names.en"),
    got.as_ref().and_then(|r| r.city.names.english),
    want_city.map(|e| e.city),
  );
  Ok(())
}

/// Network reported by the reader, normalized to the fixture's notation. IPv4-mapped lookups
/// report an IPv6 network (`::ffff:a.b.c.0/120`), which is converted back to IPv4 form.
fn network_of<S: AsRef<[u8]>>(
  res: &maxminddb::LookupResult<'_, S>,
  ip: IpAddr,
) -> Result<String, AppError> {
  let shown = res
    .network()
    .map_err(|e| err(format!("network() for {ip}: {e}")))?
    .to_string();
  let net = shown.parse::<IpNet>().map_err(|e| {
    err(format!(
      "network() for {ip} returned unparsable {shown:?}: {e}"
    ))
  })?;
  if let IpNet::V6(v6) = net {
    if let Some(v4) = v6.network().to_ipv4_mapped() {
      if v6.prefix_len() >= 96 {
        return Ok(format!("{v4}/{}", v6.prefix_len() - 96));
      }
    }
  }
  Ok(net.to_string())
}

/// The application's view: `{ country, subdivisionName }` for one IP.
fn app_answer(
  country_reader: &Reader<Vec<u8>>,
  city_reader: &Reader<Vec<u8>>,
  ip: IpAddr,
) -> Result<(Option<String>, Option<String>), AppError> {
  let country = country_reader
    .lookup(ip)
    .and_then(|r| r.decode::<geoip2::Country>())
    .map_err(|e| err(format!("{COUNTRY_FILE}: {ip}: {e}")))?
    .and_then(|r| r.country.iso_code.map(str::to_owned));
  let subdivision = city_reader
    .lookup(ip)
    .and_then(|r| r.decode::<geoip2::City>())
    .map_err(|e| err(format!("{CITY_FILE}: {ip}: {e}")))?
    .and_then(|r| {
      r.subdivisions
        .last()
        .and_then(|s| s.names.english.map(str::to_owned))
    });
  Ok((country, subdivision))
}

fn parse_ip(s: &str) -> Result<IpAddr, AppError> {
  s.parse::<IpAddr>()
    .map_err(|e| err(format!("invalid IP {s:?}: {e}")))
}

/// Probe addresses: each fixture's sample IP, first/last address, the neighbours just
/// outside it, IPv4-mapped forms of IPv4 probes, and the explicit not-found list.
fn probe_ips() -> Result<Vec<IpAddr>, AppError> {
  let mut ips = Vec::new();
  for fx in FIXTURES {
    ips.push(parse_ip(fx.sample_ip)?);
    match parse_net(fx.network)? {
      IpNet::V4(n) => {
        let first = u32::from(n.network());
        let last = u32::from(n.broadcast());
        ips.push(IpAddr::V4(n.network()));
        ips.push(IpAddr::V4(n.broadcast()));
        ips.push(IpAddr::V4(Ipv4Addr::from(first.wrapping_sub(1))));
        ips.push(IpAddr::V4(Ipv4Addr::from(last.wrapping_add(1))));
      }
      IpNet::V6(n) => {
        let first = u128::from(n.network());
        let last = u128::from(n.broadcast());
        ips.push(IpAddr::V6(n.network()));
        ips.push(IpAddr::V6(n.broadcast()));
        ips.push(IpAddr::V6(Ipv6Addr::from(first.wrapping_sub(1))));
        ips.push(IpAddr::V6(Ipv6Addr::from(last.wrapping_add(1))));
      }
    }
  }
  for s in NOT_FOUND {
    ips.push(parse_ip(s)?);
  }
  let mapped: Vec<IpAddr> = ips
    .iter()
    .filter_map(|ip| match ip {
      IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
      IpAddr::V6(_) => None,
    })
    .collect();
  ips.extend(mapped);
  Ok(ips)
}

fn verify(out_dir: &Path, corrupt: &[u8]) -> Result<(), AppError> {
  let country_path = out_dir.join(COUNTRY_FILE);
  let city_path = out_dir.join(CITY_FILE);
  let corrupt_path = out_dir.join(CORRUPT_FILE);
  let country_reader = open_reader(&country_path)?;
  let city_reader = open_reader(&city_path)?;

  let mut c = Checker {
    checks: 0,
    failures: Vec::new(),
  };
  check_metadata(&mut c, &country_reader, COUNTRY_FILE, COUNTRY_DB_TYPE);
  check_metadata(&mut c, &city_reader, CITY_FILE, CITY_DB_TYPE);

  // Every explicit not-found address really is outside the fixture table.
  for s in NOT_FOUND {
    let ip = parse_ip(s)?;
    c.eq(
      || format!("NOT_FOUND entry {s} must not be inside any fixture network"),
      expected_for(ip)?.fixture.map(|f| f.network),
      None,
    );
  }

  for ip in probe_ips()? {
    check_ip(&mut c, &country_reader, &city_reader, ip)?;
  }

  // The corrupt fixture must be rejected by the reader, both from disk and from memory.
  c.eq(
    || format!("{CORRUPT_FILE}: contains no metadata marker"),
    corrupt
      .windows(METADATA_MARKER.len())
      .any(|w| w == METADATA_MARKER),
    false,
  );
  c.eq(
    || format!("{CORRUPT_FILE}: open_readfile must fail"),
    Reader::open_readfile(&corrupt_path).is_err(),
    true,
  );
  c.eq(
    || format!("{CORRUPT_FILE}: from_source must fail"),
    Reader::from_source(corrupt.to_vec()).is_err(),
    true,
  );

  // Summary in the application's terms.
  println!();
  println!("{:<14} {:<9} subdivisionName", "ip", "country");
  for s in FIXTURES
    .iter()
    .map(|f| f.sample_ip)
    .chain(["8.8.8.8", "10.0.0.1", "::1"])
  {
    let ip = parse_ip(s)?;
    let (country, subdivision) = app_answer(&country_reader, &city_reader, ip)?;
    println!(
      "{:<14} {:<9} {}",
      s,
      fmt_opt(country.as_deref()),
      fmt_opt(subdivision.as_deref())
    );
    let want = expected_for(ip)?;
    c.eq(
      || format!("app view {s}: country"),
      country.as_deref(),
      want.country_db().map(|p| p.iso_code),
    );
    c.eq(
      || format!("app view {s}: subdivisionName"),
      subdivision.as_deref(),
      want
        .city_db()
        .and_then(|e| e.subdivisions.last())
        .map(|s| s.name),
    );
  }
  println!();

  if c.failures.is_empty() {
    println!("verification OK: {} checks passed", c.checks);
    Ok(())
  } else {
    for f in &c.failures {
      eprintln!("FAIL: {f}");
    }
    Err(err(format!(
      "verification failed: {} of {} checks failed",
      c.failures.len(),
      c.checks
    )))
  }
}

// ---------------------------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------------------------

fn usage() -> String {
  format!(
    "usage: mmdbgen [OUTPUT_DIR]\n       mmdbgen --peertube-tests OUTPUT_DIR\n\n\
     Writes {COUNTRY_FILE}, {CITY_FILE} and {CORRUPT_FILE} into OUTPUT_DIR\n\
     (default: {DEFAULT_OUT_DIR}), then verifies them with maxminddb.\n\
     --peertube-tests writes {PEERTUBE_COUNTRY_FILE} and {PEERTUBE_CITY_FILE} with the\n\
     addresses PeerTube's own views tests expect (serve them on loopback as the GeoIP URLs)."
  )
}

const PEERTUBE_COUNTRY_FILE: &str = "dbip-country-lite-latest.mmdb";
const PEERTUBE_CITY_FILE: &str = "dbip-city-lite-latest.mmdb";

/// `--peertube-tests DIR`: PeerTube's test addresses, checked by reading each back.
fn write_peertube_tests(out_dir: &Path) -> Result<(), AppError> {
  let country_path = out_dir.join(PEERTUBE_COUNTRY_FILE);
  let city_path = out_dir.join(PEERTUBE_CITY_FILE);
  write_file(&country_path, &country_db_of(PEERTUBE_TEST_FIXTURES)?)?;
  write_file(&city_path, &city_db_of(PEERTUBE_TEST_FIXTURES)?)?;
  let (country_reader, city_reader) = (open_reader(&country_path)?, open_reader(&city_path)?);
  for (ip, country, subdivision) in [
    ("8.8.8.8", "US", "California"),
    ("8.8.8.4", "US", "California"),
    ("80.67.169.12", "FR", "Brittany"),
  ] {
    let got = app_answer(&country_reader, &city_reader, parse_ip(ip)?)?;
    if got != (Some(country.to_string()), Some(subdivision.to_string())) {
      return Err(err(format!(
        "{ip}: got {got:?}, want ({country}, {subdivision})"
      )));
    }
    println!("{ip:<14} {country:<9} {subdivision}");
  }
  Ok(())
}

fn main() -> Result<(), AppError> {
  let mut args = std::env::args_os().skip(1);
  let out_dir = match args.next() {
    None => PathBuf::from(DEFAULT_OUT_DIR),
    Some(a) if a == "-h" || a == "--help" => {
      println!("{}", usage());
      return Ok(());
    }
    Some(a) if a == "--peertube-tests" => {
      let dir = PathBuf::from(args.next().ok_or_else(|| err(usage()))?);
      fs::create_dir_all(&dir).map_err(|e| err(format!("cannot create {}: {e}", dir.display())))?;
      return write_peertube_tests(&dir);
    }
    Some(a) => PathBuf::from(a),
  };
  if args.next().is_some() {
    return Err(err(format!("too many arguments\n{}", usage())));
  }

  fs::create_dir_all(&out_dir)
    .map_err(|e| err(format!("cannot create {}: {e}", out_dir.display())))?;

  let country = build_deterministic(COUNTRY_FILE, build_country_db)?;
  let city = build_deterministic(CITY_FILE, build_city_db)?;
  let corrupt = build_corrupt();

  write_file(&out_dir.join(COUNTRY_FILE), &country)?;
  write_file(&out_dir.join(CITY_FILE), &city)?;
  write_file(&out_dir.join(CORRUPT_FILE), &corrupt)?;

  verify(&out_dir, &corrupt)
}
