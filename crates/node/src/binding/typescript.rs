//! `header.d.ts` from the shape declarations: the hand-written `header.prelude.d.ts`, then one
//! interface per declared request, record, report and option set. The test below fails when
//! the committed file is not what the declarations give; `npm run types` rewrites it.

use super::requests::REQUESTS;
use super::shapes::{option_shapes, Defaults};
use views_core::engine::manager::{ManagerHealth, ViewOutcome};
use views_core::engine::viewer_counters::{CleanReport, CountersHealth};
use views_core::engine::viewer_stats::{ProcessReport, StatsHealth, SyncReport};
use views_core::engine::views::{DrainReport, ViewsHealth};
use views_core::geoip::GeoIpState;
use views_core::rules::shape::{Report, Shape};
use views_core::rules::types::ViewerRecord;

/// Every declared shape, in the order `header.d.ts` lists them.
fn shapes() -> Vec<(Shape, Option<Defaults>)> {
  let mut shapes: Vec<(Shape, Option<Defaults>)> = REQUESTS
    .iter()
    .map(|request| (request.shape, None))
    .collect();
  shapes.push((ViewerRecord::SHAPE, None));
  for shape in [
    ViewOutcome::SHAPE,
    SyncReport::SHAPE,
    ProcessReport::SHAPE,
    StatsHealth::SHAPE,
    GeoIpState::SHAPE,
    CleanReport::SHAPE,
    CountersHealth::SHAPE,
    DrainReport::SHAPE,
    ViewsHealth::SHAPE,
    ManagerHealth::SHAPE,
  ] {
    shapes.push((shape, None));
  }
  shapes.extend(
    option_shapes()
      .into_iter()
      .map(|(shape, defaults)| (shape, Some(defaults))),
  );
  shapes
}

/// `doc` as a JSDoc comment at `indent`.
fn jsdoc(out: &mut String, doc: &str, indent: &str) {
  let lines: Vec<&str> = doc
    .lines()
    .map(str::trim)
    .filter(|l| !l.is_empty())
    .collect();
  match lines.as_slice() {
    [] => {}
    [line] => out.push_str(&format!("{indent}/** {line} */\n")),
    lines => {
      out.push_str(&format!("{indent}/**\n"));
      for line in lines {
        out.push_str(&format!("{indent} * {line}\n"));
      }
      out.push_str(&format!("{indent} */\n"));
    }
  }
}

/// One shape as a TypeScript interface; a dotted path (`video.id`) makes a nested object type.
fn interface(shape: &Shape, defaults: Option<&Defaults>) -> String {
  let mut out = String::new();
  jsdoc(&mut out, shape.doc, "");
  out.push_str(&format!("export interface {} {{\n", shape.name));
  let mut i = 0;
  while i < shape.fields.len() {
    let field = &shape.fields[i];
    if let Some((object, _)) = field.name.split_once('.') {
      let group: Vec<_> = shape.fields[i..]
        .iter()
        .take_while(|f| f.name.split_once('.').is_some_and(|(o, _)| o == object))
        .collect();
      out.push_str(&format!("  {object}: {{\n"));
      for f in &group {
        let name = f.name.split_once('.').map_or(f.name, |(_, n)| n);
        jsdoc(&mut out, f.doc, "    ");
        out.push_str(&format!("    {name}{}: {}\n", optional(f.optional), f.ts));
      }
      out.push_str("  }\n");
      i += group.len();
      continue;
    }
    let default = defaults
      .and_then(|d| d.iter().find(|(n, _)| *n == field.name))
      .map(|(_, text)| format!("Default `{text}`."));
    let doc = match default {
      Some(default) => format!("{}\n{default}", field.doc),
      None => field.doc.to_string(),
    };
    jsdoc(&mut out, &doc, "  ");
    out.push_str(&format!(
      "  {}{}: {}\n",
      field.name,
      optional(field.optional),
      field.ts
    ));
    i += 1;
  }
  out.push_str("}\n");
  out
}

fn optional(optional: bool) -> &'static str {
  if optional {
    "?"
  } else {
    ""
  }
}

/// A request's positional arguments as a labeled tuple (`[videoId: number, ...]`): the
/// parameters of its engine-bound function.
fn arguments(shape: &Shape) -> String {
  let elements: Vec<String> = shape
    .fields
    .iter()
    .map(|f| {
      let mut label = String::new();
      for (i, part) in f.name.split('.').enumerate() {
        let mut chars = part.chars();
        match (i, chars.next()) {
          (0, Some(c)) => label.push(c),
          (_, Some(c)) => label.extend(c.to_uppercase()),
          (_, None) => {}
        }
        label.extend(chars);
      }
      let ts = if f.optional {
        format!("{} | undefined", f.ts)
      } else {
        f.ts.to_string()
      };
      format!("{label}: {ts}")
    })
    .collect();
  format!(
    "/** The arguments of `{name}`'s positional entry, in `requestFields()` order. */
export type {name}Args = [{}]
",
    elements.join(", "),
    name = shape.name
  )
}

/// `header.d.ts`: the hand-written prelude, then every declared shape.
pub fn header() -> String {
  let mut out = include_str!("header.prelude.d.ts").to_string();
  out.push_str("\n/* Generated from the shape declarations of the Rust sources (requests.rs, the engines' reports and\n   options, the host record): `npm run types` rewrites this part. */\n");
  for (shape, defaults) in shapes() {
    out.push('\n');
    out.push_str(&interface(&shape, defaults.as_ref()));
  }
  for request in REQUESTS.iter().filter(|r| r.positional.is_some()) {
    out.push('\n');
    out.push_str(&arguments(&request.shape));
  }
  out
}

#[cfg(test)]
mod tests {
  use super::*;

  /// The committed `header.d.ts` is what the declarations give (`UPDATE_TYPES=1` rewrites it).
  #[test]
  fn header_is_generated_from_the_declarations() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/binding/header.d.ts");
    let generated = header();
    if std::env::var("UPDATE_TYPES").is_ok_and(|v| v == "1") {
      std::fs::write(path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
      committed == generated,
      "src/binding/header.d.ts is not what the declarations give: run `npm run types`"
    );
  }

  #[test]
  fn nested_paths_become_nested_object_types() {
    let ts = interface(&super::super::requests::JoinArgs::SHAPE, None);
    assert!(ts.contains("  video: {\n"), "{ts}");
    assert!(ts.contains("    id: number\n"), "{ts}");
    assert!(ts.contains("    remote?: boolean | null\n"), "{ts}");
    assert!(ts.contains("  sessionId: string\n"), "{ts}");
  }
}
