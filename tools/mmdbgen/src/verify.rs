//! Reads the written databases back with `maxminddb` and checks every expected answer.

use super::*;

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

pub(crate) fn open_reader(path: &Path) -> Result<Reader<Vec<u8>>, AppError> {
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
pub(crate) fn app_answer(
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

pub(crate) fn parse_ip(s: &str) -> Result<IpAddr, AppError> {
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

pub(crate) fn verify(out_dir: &Path, corrupt: &[u8]) -> Result<(), AppError> {
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
