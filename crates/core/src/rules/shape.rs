//! Declarations of the shapes that cross to JavaScript, each written once: a report (numbers
//! the engines return), a record (JSON the host receives); option sets are declared the same
//! way (`rules::options`). A declaration macro gives the Rust struct, its reader or writer, and
//! a [`Shape`]: the names, TypeScript types and docs from which the node crate generates
//! `header.d.ts` (see `docs/ARCHITECTURE.md`, "Add a field").

/// One field of a shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Field {
  /// The JavaScript name (`currentTime`, or a path `video.id` for a request's field).
  pub name: &'static str,
  /// Its TypeScript type.
  pub ts: &'static str,
  /// Whether it may be absent.
  pub optional: bool,
  /// Its documentation (the `///` lines of the declaration).
  pub doc: &'static str,
}

/// A shape: a TypeScript interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
  /// The interface name.
  pub name: &'static str,
  /// Its documentation.
  pub doc: &'static str,
  /// Its fields, in declaration order.
  pub fields: &'static [Field],
}

/// The [`Shape`] constant of a declaration (used by [`report`], [`record`] and
/// `rules::options::options`).
macro_rules! shape_of {
  ($ts_name:expr, [$($doc:literal),*], [$(($js:expr, $ts:expr, $optional:expr, [$($fdoc:literal),*])),*]) => {
    $crate::rules::shape::Shape {
      name: $ts_name,
      doc: concat!($($doc, "\n"),*),
      fields: &[$($crate::rules::shape::Field {
        name: $js,
        ts: $ts,
        optional: $optional,
        doc: concat!($($fdoc, "\n"),*),
      }),*],
    }
  };
}
pub(crate) use shape_of;

/// A value of a report: a count or a flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportValue {
  /// A count (`number` in JS).
  Count(u64),
  /// A flag (`boolean` in JS).
  Flag(bool),
}

/// A field type of a report.
pub trait ReportField: Copy {
  /// Its TypeScript type.
  const TS: &'static str;
  /// The value.
  fn value(self) -> ReportValue;
}

impl ReportField for u64 {
  const TS: &'static str = "number";
  fn value(self) -> ReportValue {
    ReportValue::Count(self)
  }
}

impl ReportField for bool {
  const TS: &'static str = "boolean";
  fn value(self) -> ReportValue {
    ReportValue::Flag(self)
  }
}

/// A report the engines return (declared with [`report`]).
pub trait Report {
  /// Its TypeScript interface.
  const SHAPE: Shape;
  /// Every field as `(JS name, value)`, in declaration order.
  fn fields(&self) -> Vec<(&'static str, ReportValue)>;
}

/// Declares a report: a struct of counts (`u64`) and flags (`bool`), with its [`Shape`] and
/// [`Report::fields`], which the binding turns into a JS object.
///
/// ```text
/// report! {
///   /// What a sync wrote.
///   pub struct SyncReport as "SyncReport" {
///     /// Viewers written to Redis.
///     written: u64 = "written",
///   }
/// }
/// ```
macro_rules! report {
  (
    $(#[doc = $doc:literal])*
    pub struct $name:ident as $ts_name:literal {
      $( $(#[doc = $fdoc:literal])* $field:ident: $ty:ty = $js:literal ),* $(,)?
    }
  ) => {
    $(#[doc = $doc])*
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct $name {
      $( $(#[doc = $fdoc])* pub $field: $ty, )*
    }

    impl $crate::rules::shape::Report for $name {
      const SHAPE: $crate::rules::shape::Shape = $crate::rules::shape::shape_of!(
        $ts_name,
        [$($doc),*],
        [$(($js, <$ty as $crate::rules::shape::ReportField>::TS, false, [$($fdoc),*])),*]
      );

      fn fields(&self) -> Vec<(&'static str, $crate::rules::shape::ReportValue)> {
        vec![$(($js, $crate::rules::shape::ReportField::value(self.$field))),*]
      }
    }
  };
}
pub(crate) use report;

/// Declares a record the host receives as JSON: the struct, `write_json` (fields in declaration
/// order, through [`super::json::JsonObject`], an absent omittable field left out) and its
/// [`Shape`] (types from [`super::json::JsonValue::TS`]).
macro_rules! record {
  (
    $(#[doc = $doc:literal])*
    pub struct $name:ident as $ts_name:literal {
      $( $(#[doc = $fdoc:literal])* $field:ident: $ty:ty = $js:literal ),* $(,)?
    }
  ) => {
    $(#[doc = $doc])*
    #[derive(Clone, Debug, PartialEq)]
    pub struct $name {
      $( $(#[doc = $fdoc])* pub $field: $ty, )*
    }

    impl $name {
      /// The TypeScript interface of this record.
      pub const SHAPE: $crate::rules::shape::Shape = $crate::rules::shape::shape_of!(
        $ts_name,
        [$($doc),*],
        [$(($js, <$ty as $crate::rules::json::JsonValue>::TS, <$ty as $crate::rules::json::JsonValue>::OMITTABLE, [$($fdoc),*])),*]
      );

      /// Appends the record as the JSON object the host receives (absent fields left out).
      pub fn write_json(&self, out: &mut String) {
        let mut object = $crate::rules::json::JsonObject::new(out);
        $(
          if !$crate::rules::json::JsonValue::is_absent(&self.$field) {
            object.field($js, &self.$field);
          }
        )*
        object.end();
      }
    }
  };
}
pub(crate) use record;
