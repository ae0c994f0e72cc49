//! The declared shapes on the JS side: reports turned into objects, `requestFields()` (the
//! positional order `index.js` builds its calls from) and `defaultOptions()`. `header.d.ts` is
//! generated from the same declarations (typescript.rs).
// In `cargo test` builds napi does not register exports, so these look unused there.
#![cfg_attr(test, allow(dead_code))]

use super::callbacks::Raw;
use super::errors::to_napi;
use super::js::Builder;
use super::requests::REQUESTS;
use napi::bindgen_prelude::Env;
use napi::sys;
use napi_derive::napi;
use std::collections::HashMap;
use views_core::engine::options::{
  CountersOptions, HostCallOptions, IdentityOptions, StatsOptions, ViewsOptions,
};
use views_core::error::Result;
use views_core::rules::options::Options;
use views_core::rules::shape::{Report, ReportValue, Shape};

/// A report as a plain JS object (`{ written: 3 }`).
pub fn report<R: Report>(b: &Builder, report: R) -> Result<sys::napi_value> {
  let object = b.object()?;
  for (name, value) in report.fields() {
    let value = match value {
      ReportValue::Count(n) => b.number(n as f64)?,
      ReportValue::Flag(flag) => b.boolean(flag)?,
    };
    b.set(object, name, value)?;
  }
  Ok(object)
}

/// The field order of each request's positional entry, by entry name
/// (`'VideoViewerStats.addLocalViewer'` to `['video.id', 'video.uuid', ...]`): `index.js`
/// builds its calls from it, so the JS order is the native order.
#[napi(catch_unwind, ts_return_type = "Record<string, string[]>")]
pub fn request_fields(env: Env) -> napi::Result<Raw> {
  let b = Builder::new(env.raw());
  let build = || -> Result<sys::napi_value> {
    let object = b.object()?;
    for request in REQUESTS {
      let Some(paths) = request.positional else {
        continue;
      };
      let name = request.entry;
      let list = b.array(paths.len())?;
      for (i, path) in paths.iter().enumerate() {
        b.set_element(list, i as u32, b.string(path)?)?;
      }
      b.set(object, name, list)?;
    }
    Ok(object)
  };
  build().map(Raw).map_err(|e| to_napi(env.raw(), &e))
}

/// Every option's default, as the documentation writes it (`'1 hour'`, `8`, `true`), by name.
#[napi(catch_unwind)]
pub fn default_options() -> HashMap<String, String> {
  option_shapes()
    .into_iter()
    .flat_map(|(_, defaults)| defaults)
    .map(|(name, text)| (name.to_string(), text))
    .collect()
}

/// `(option name, default as the docs write it)`.
pub type Defaults = Vec<(&'static str, String)>;

/// Every option set with its defaults.
pub fn option_shapes() -> Vec<(Shape, Defaults)> {
  vec![
    (HostCallOptions::SHAPE, HostCallOptions::default_texts()),
    (StatsOptions::SHAPE, StatsOptions::default_texts()),
    (CountersOptions::SHAPE, CountersOptions::default_texts()),
    (ViewsOptions::SHAPE, ViewsOptions::default_texts()),
    (IdentityOptions::SHAPE, IdentityOptions::default_texts()),
  ]
}
