//! What an option set is, and [`options`], the macro that declares one. The binding reads each option from JS
//! by its [`OptionKind`] and hands the value to [`Options::set`]; the defaults come from the
//! set's `Default`, written once in its declaration.

use super::duration::format_duration_ms;
use super::shape::Shape;
use crate::error::{Error, Result};

/// How an option is given from JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionKind {
  /// Milliseconds, or a PeerTube duration string (`'30 minutes'`); positive.
  Duration,
  /// An integer from 1 to `max`.
  Count {
    /// Largest accepted value.
    max: u64,
  },
  /// A boolean.
  Flag,
  /// A string of at most `max` UTF-8 bytes.
  Text {
    /// Longest accepted value, bytes.
    max: usize,
  },
}

impl OptionKind {
  /// The TypeScript type of an option of this kind.
  pub const fn ts(&self) -> &'static str {
    match self {
      OptionKind::Duration => "Duration",
      OptionKind::Count { .. } => "number",
      OptionKind::Flag => "boolean",
      OptionKind::Text { .. } => "string",
    }
  }
}

/// An option's value, read from JavaScript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionValue {
  /// A duration, ms.
  Ms(u64),
  /// A count.
  Count(u64),
  /// A boolean.
  Flag(bool),
  /// A string.
  Text(String),
}

impl OptionValue {
  /// The value as its documentation writes it: `'1 hour'`, `8`, `true`, `'[object Object]'`.
  pub fn doc_text(&self, kind: &OptionKind) -> String {
    match (self, kind) {
      (OptionValue::Ms(ms) | OptionValue::Count(ms), OptionKind::Duration) => {
        format!("'{}'", format_duration_ms(*ms))
      }
      (OptionValue::Ms(n) | OptionValue::Count(n), _) => n.to_string(),
      (OptionValue::Flag(b), _) => b.to_string(),
      (OptionValue::Text(t), _) => format!("'{t}'"),
    }
  }
}

/// An option set (declared with [`options`]).
pub trait Options: Default {
  /// Its TypeScript interface.
  const SHAPE: Shape;
  /// The kind of each field, in the order of `SHAPE.fields`.
  const KINDS: &'static [OptionKind];
  /// Sets one option from its JS name.
  fn set(&mut self, name: &str, value: OptionValue) -> Result<()>;
  /// Every option's current value, in declaration order.
  fn values(&self) -> Vec<(&'static str, OptionValue)>;

  /// The defaults as the documentation writes them, `(JS name, text)`.
  fn default_texts() -> Vec<(&'static str, String)> {
    Self::default()
      .values()
      .into_iter()
      .zip(Self::KINDS)
      .map(|((name, value), kind)| (name, value.doc_text(kind)))
      .collect()
  }
}

/// A field type an option value converts into.
pub trait FromOption: Sized {
  /// The field's value; `name` names the option in the error.
  fn from_option(name: &str, value: OptionValue) -> Result<Self>;
}

/// A field type that shows as an option value.
pub trait ToOption {
  /// The field's value as an option value.
  fn to_option(&self) -> OptionValue;
}

fn mismatch(name: &str) -> Error {
  Error::invalid_range(name, "has a value of the wrong kind")
}

impl FromOption for u64 {
  fn from_option(name: &str, value: OptionValue) -> Result<Self> {
    match value {
      OptionValue::Ms(n) | OptionValue::Count(n) => Ok(n),
      _ => Err(mismatch(name)),
    }
  }
}

impl FromOption for usize {
  fn from_option(name: &str, value: OptionValue) -> Result<Self> {
    usize::try_from(u64::from_option(name, value)?).map_err(|_| mismatch(name))
  }
}

impl FromOption for bool {
  fn from_option(name: &str, value: OptionValue) -> Result<Self> {
    match value {
      OptionValue::Flag(b) => Ok(b),
      _ => Err(mismatch(name)),
    }
  }
}

impl FromOption for String {
  fn from_option(name: &str, value: OptionValue) -> Result<Self> {
    match value {
      OptionValue::Text(t) => Ok(t),
      _ => Err(mismatch(name)),
    }
  }
}

impl ToOption for u64 {
  fn to_option(&self) -> OptionValue {
    OptionValue::Count(*self)
  }
}

impl ToOption for usize {
  fn to_option(&self) -> OptionValue {
    OptionValue::Count(*self as u64)
  }
}

impl ToOption for bool {
  fn to_option(&self) -> OptionValue {
    OptionValue::Flag(*self)
  }
}

impl ToOption for String {
  fn to_option(&self) -> OptionValue {
    OptionValue::Text(self.clone())
  }
}

/// Declares an option set: the struct with its defaults (the only place they are written), its
/// [`Shape`], and [`Options`], through which the binding reads each option by its
/// [`OptionKind`].
macro_rules! options {
  (
    $(#[doc = $doc:literal])*
    pub struct $name:ident as $ts_name:literal {
      $( $(#[doc = $fdoc:literal])* $field:ident: $ty:ty = $js:literal, $kind:expr, $default:expr; )*
    }
  ) => {
    $(#[doc = $doc])*
    #[derive(Clone, Debug, PartialEq)]
    pub struct $name {
      $( $(#[doc = $fdoc])* pub $field: $ty, )*
    }

    impl Default for $name {
      fn default() -> Self {
        $name { $( $field: $default, )* }
      }
    }

    impl $crate::rules::options::Options for $name {
      const SHAPE: $crate::rules::shape::Shape = $crate::rules::shape::shape_of!(
        $ts_name,
        [$($doc),*],
        [$(($js, $crate::rules::options::OptionKind::ts(&$kind), true, [$($fdoc),*])),*]
      );
      const KINDS: &'static [$crate::rules::options::OptionKind] = &[$($kind),*];

      fn set(&mut self, name: &str, value: $crate::rules::options::OptionValue) -> $crate::error::Result<()> {
        match name {
          $( $js => self.$field = $crate::rules::options::FromOption::from_option($js, value)?, )*
          _ => return Err($crate::error::Error::invalid_range(name, "is not an option")),
        }
        Ok(())
      }

      fn values(&self) -> Vec<(&'static str, $crate::rules::options::OptionValue)> {
        vec![$(($js, $crate::rules::options::ToOption::to_option(&self.$field))),*]
      }
    }
  };
}
pub(crate) use options;
