//! The event contract between catalog (which publishes) and activity (which consumes): the
//! Redis stream's name, the kinds of change, how an [`Event`] becomes the fields of one stream
//! entry and how those fields are read back, and the schema version of that format.
//!
//! A stream entry has the fields `schema_version`, `event_id` (a UUID), `kind` (`created`,
//! `updated` or `deleted`), `name`, `occurred_at` (RFC 3339, UTC), except for `deleted`
//! `description`, and when the change was made in a trace, `traceparent` (W3C Trace Context,
//! naming the publisher's span as the parent; added in version 1 as an optional field). Readers ignore fields they do not know, so adding an optional field keeps
//! the version; only a change old readers would misread raises it.

mod error;
mod event;
pub mod field;
mod kind;

pub use error::{DecodeError, EncodeError};
pub use event::Event;
pub use kind::{Kind, UnknownKind};

/// The stream catalog publishes to and activity reads, after the `REDIS_KEY_PREFIX`.
pub const STREAM: &str = "catalog.events";

/// The version of the entry format this crate writes, and the newest it reads. Entries
/// without a `schema_version` field were written before the field existed; they are version 1.
pub const SCHEMA_VERSION: u32 = 1;
