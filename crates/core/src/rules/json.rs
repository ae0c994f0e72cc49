//! The one JSON field writer: the viewer's Redis value (PeerTube's JSON, B26) and the record the
//! host receives are both written through [`JsonObject`], field by field, without `core::fmt`.

use super::keys::push_u64;
use super::sections::WatchSection;
use super::user_agent::Device;
use std::sync::Arc;

/// A value that writes itself as JSON, with its TypeScript type.
pub trait JsonValue {
  /// The TypeScript type of the value.
  const TS: &'static str;
  /// Whether a record may leave the field out (its TypeScript field is optional then).
  const OMITTABLE: bool = false;
  /// Appends the value as JSON.
  fn write_json(&self, out: &mut String);
  /// Whether the field is left out of the record (only an [`Self::OMITTABLE`] value is).
  fn is_absent(&self) -> bool {
    false
  }
}

/// A JSON object being written: `{`, then `"name":value` pairs, then `}`.
pub struct JsonObject<'a> {
  out: &'a mut String,
  empty: bool,
}

impl<'a> JsonObject<'a> {
  /// Opens an object at the end of `out`.
  pub fn new(out: &'a mut String) -> Self {
    out.push('{');
    JsonObject { out, empty: true }
  }

  /// Appends one field (`name` is a plain identifier: written as it is).
  pub fn field<V: JsonValue + ?Sized>(&mut self, name: &str, value: &V) -> &mut Self {
    if !self.empty {
      self.out.push(',');
    }
    self.empty = false;
    self.out.push('"');
    self.out.push_str(name);
    self.out.push_str("\":");
    value.write_json(self.out);
    self
  }

  /// Closes the object.
  pub fn end(self) {
    self.out.push('}');
  }
}

impl JsonValue for u64 {
  const TS: &'static str = "number";
  fn write_json(&self, out: &mut String) {
    push_u64(out, *self);
  }
}

impl JsonValue for str {
  const TS: &'static str = "string";
  fn write_json(&self, out: &mut String) {
    write_json_string(out, self);
  }
}

impl JsonValue for String {
  const TS: &'static str = "string";
  fn write_json(&self, out: &mut String) {
    write_json_string(out, self);
  }
}

impl JsonValue for Option<Arc<str>> {
  const TS: &'static str = "string | null";
  fn write_json(&self, out: &mut String) {
    match self {
      Some(text) => write_json_string(out, text),
      None => out.push_str("null"),
    }
  }
}

impl JsonValue for Option<String> {
  const TS: &'static str = "string | null";
  fn write_json(&self, out: &mut String) {
    match self {
      Some(text) => write_json_string(out, text),
      None => out.push_str("null"),
    }
  }
}

impl JsonValue for Option<&str> {
  const TS: &'static str = "string | null";
  fn write_json(&self, out: &mut String) {
    match self {
      Some(text) => write_json_string(out, text),
      None => out.push_str("null"),
    }
  }
}

/// A field a record carries only for some PeerTube releases: `None` leaves it out,
/// `Some(None)` is `null` (the user-agent fields, PeerTube >= 7.2).
impl JsonValue for Option<Option<Arc<str>>> {
  const TS: &'static str = "string | null";
  const OMITTABLE: bool = true;
  fn write_json(&self, out: &mut String) {
    self.clone().flatten().write_json(out);
  }
  fn is_absent(&self) -> bool {
    self.is_none()
  }
}

impl JsonValue for Option<Device> {
  const TS: &'static str = Device::TS;
  fn write_json(&self, out: &mut String) {
    match self {
      Some(device) => write_json_string(out, device.as_str()),
      None => out.push_str("null"),
    }
  }
}

/// [`Device`] as an omittable record field (see `Option<Option<Arc<str>>>`).
impl JsonValue for Option<Option<Device>> {
  const TS: &'static str = Device::TS;
  const OMITTABLE: bool = true;
  fn write_json(&self, out: &mut String) {
    self.flatten().write_json(out);
  }
  fn is_absent(&self) -> bool {
    self.is_none()
  }
}

impl JsonValue for [WatchSection] {
  const TS: &'static str = "WatchSection[]";
  fn write_json(&self, out: &mut String) {
    out.push('[');
    for (i, section) in self.iter().enumerate() {
      if i > 0 {
        out.push(',');
      }
      let mut object = JsonObject::new(out);
      object
        .field("start", &u64::from(section.start))
        .field("end", &u64::from(section.end));
      object.end();
    }
    out.push(']');
  }
}

impl JsonValue for Vec<WatchSection> {
  const TS: &'static str = "WatchSection[]";
  fn write_json(&self, out: &mut String) {
    self.as_slice().write_json(out);
  }
}

/// A JSON string, escaped as `JSON.stringify` does.
pub fn write_json_string(out: &mut String, text: &str) {
  // Common case (session ids, country codes): nothing to escape.
  if !text.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
    out.push('"');
    out.push_str(text);
    out.push('"');
    return;
  }
  match serde_json::to_string(text) {
    Ok(quoted) => out.push_str(&quoted),
    Err(_) => out.push_str("null"),
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn writes_objects_like_json_stringify() {
    let mut out = String::new();
    let mut object = JsonObject::new(&mut out);
    object
      .field("a", &1u64)
      .field("s", "q\"uote\n")
      .field("n", &None::<Arc<str>>)
      .field("w", &vec![WatchSection { start: 1, end: 2 }]);
    object.end();
    assert_eq!(
      out,
      r#"{"a":1,"s":"q\"uote\n","n":null,"w":[{"start":1,"end":2}]}"#
    );
  }
}
