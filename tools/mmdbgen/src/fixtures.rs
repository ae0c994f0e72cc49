//! The fixture tables: one source of truth for writing the databases and checking them.

// ---------------------------------------------------------------------------------------------
// Fixture table (single source of truth for both writing and verification)
// ---------------------------------------------------------------------------------------------

pub(crate) struct Place {
  pub(crate) iso_code: &'static str,
  pub(crate) name: &'static str,
}

pub(crate) struct Sub {
  pub(crate) iso_code: Option<&'static str>,
  pub(crate) name: &'static str,
}

pub(crate) struct CityEntry {
  pub(crate) country: Place,
  pub(crate) subdivisions: &'static [Sub],
  pub(crate) city: &'static str,
}

pub(crate) struct Fixture {
  pub(crate) network: &'static str,
  pub(crate) sample_ip: &'static str,
  /// Record in the COUNTRY db (`None` = network absent from the country db).
  pub(crate) country_db: Option<Place>,
  /// Record in the CITY db (`None` = network absent from the city db).
  pub(crate) city_db: Option<CityEntry>,
}

pub(crate) const FIXTURES: &[Fixture] = &[
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
pub(crate) const NOT_FOUND: &[&str] = &[
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
pub(crate) const PEERTUBE_TEST_FIXTURES: &[Fixture] = &[
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
