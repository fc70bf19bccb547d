//! The names of a stream entry's fields.

pub const SCHEMA_VERSION: &str = "schema_version";
pub const EVENT_ID: &str = "event_id";
pub const KIND: &str = "kind";
pub const NAME: &str = "name";
pub const DESCRIPTION: &str = "description";
pub const OCCURRED_AT: &str = "occurred_at";
/// The W3C `traceparent` of the change: optional, and as untrusted as any header.
pub const TRACEPARENT: &str = "traceparent";
