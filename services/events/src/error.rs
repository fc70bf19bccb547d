//! Why an event cannot be written to, or read from, a stream entry.

/// Why the fields of a stream entry are not an event. Redelivering such an entry cannot fix
/// it, so a consumer logs it and moves on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("field {0} is missing")]
    Missing(&'static str),
    #[error("field {0} is not UTF-8 text")]
    NotText(&'static str),
    // PostgreSQL text cannot hold NUL, and no entry name or description contains one.
    #[error("field {0} contains NUL")]
    Nul(&'static str),
    #[error("schema_version {0:?} is not a whole number")]
    BadVersion(String),
    #[error("schema_version {0} is newer than {newest}, the newest this reader knows", newest = crate::SCHEMA_VERSION)]
    UnsupportedVersion(u32),
    #[error("event_id {0:?} is not a UUID")]
    BadId(String),
    #[error("kind {0:?} is not created, updated or deleted")]
    BadKind(String),
    #[error("occurred_at {0:?} is not an RFC 3339 time")]
    BadTime(String),
}

/// Why an event cannot be written as a stream entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// RFC 3339 has four-digit years only.
    #[error("occurred_at {0} is outside the years 0 to 9999")]
    TimeOutOfRange(time::OffsetDateTime),
}
